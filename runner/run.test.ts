import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { SentinelError } from '../core/errors.ts';
import { CHECK_IDS, PROBE_CHECK_IDS, exitCodeOf, type CheckResult, type ProbeCheckId } from '../core/result.ts';
import type { EmbeddedStack } from './embedded-stack.ts';
import { executeRun } from './run.ts';
import { BASE_ENV } from './test-support/env.ts';

const passed = (id: CheckResult['id'], kind: CheckResult['kind'], durationMs = 10): CheckResult => ({ id, kind, status: 'passed', startedAt: new Date().toISOString(), durationMs });

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sentinel-run-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function fakeStack(calls: string[]): (options: unknown) => Promise<EmbeddedStack> {
  return async () => {
    calls.push('start');
    return {
      info: {} as EmbeddedStack['info'],
      env: {
        ...BASE_ENV,
        SENTINEL_APP_URL: 'https://localhost:40001',
        SENTINEL_ISSUER: 'https://127.0.0.1:40002',
        SENTINEL_DATABASE_URL: 'postgresql://admin:db-SECRET-pw@127.0.0.1:40003/gadgetbot',
        SENTINEL_COOLIFY_URL: 'https://127.0.0.1:40004',
        SENTINEL_COOLIFY_TOKEN: '1|coolify-SECRET',
        SENTINEL_COOLIFY_APP_UUID: 'uuid',
        SENTINEL_COOLIFY_APP_DB_UUID: 'db-uuid',
        SENTINEL_EXPOSURE_HOSTS: 'localhost,127.0.0.1',
        SENTINEL_ALLOW_MUTATIONS: 'true',
        SENTINEL_ALLOW_DISRUPTIVE: 'true',
      },
      stop: async () => void calls.push('stop'),
    };
  };
}

describe('executeRun', () => {
  test('embedded: starts the stack, runs probes first then every browser check, writes reports, stops the stack', async () => {
    const calls: string[] = [];
    const lines: string[] = [];
    const summary = await executeRun({
      mode: 'postdeploy',
      env: { SENTINEL_REPORTS_DIR: join(dir, 'reports') },
      embedded: true,
      write: (l) => lines.push(l),
      startStack: fakeStack(calls),
      probe: async (id: ProbeCheckId) => {
        calls.push(`probe ${id}`);
        return id === 'db'
          ? { id, kind: 'probe', status: 'failed', reason: 'migration_pending', message: 'postgresql://admin:db-SECRET-pw@x pending', startedAt: '', durationMs: 5 }
          : passed(id, 'probe');
      },
      browser: async (_config, env, options) => {
        calls.push(`browser ${options.checks.join(',')}`);
        expect(env.SENTINEL_APP_URL).toBe('https://localhost:40001');
        return options.checks.map((id) => passed(id, 'browser', 2000));
      },
    });
    expect(calls[0]).toBe('start');
    const probeCalls = PROBE_CHECK_IDS.length;
    expect(calls.slice(1, 1 + probeCalls).sort()).toEqual(PROBE_CHECK_IDS.map((id) => `probe ${id}`).sort());
    expect(calls.slice(1 + probeCalls)).toEqual(['browser e2e-login,e2e-admin-crud,e2e-sign-out,e2e-session-redeploy', 'stop']);
    expect(summary.checks.map((c) => c.status)).toEqual(CHECK_IDS.map((id) => (id === 'db' ? 'failed' : 'passed')));
    expect(summary.totals).toEqual({ passed: CHECK_IDS.length - 1, failed: 1, flaky: 0, skipped: 0 });
    expect(summary.target).toBe('https://localhost:40001');
    expect(exitCodeOf(summary.checks)).toBe(1);
    const written = await Promise.all(['summary.json', 'junit.xml', 'summary.md'].map((f) => readFile(join(dir, 'reports', f), 'utf8')));
    for (const text of [...written, lines.join('\n')]) expect(text).not.toContain('db-SECRET-pw');
    expect(lines).toContain('✘ db  5 ms  migration_pending: postgresql://admin:[REDACTED]@x pending');
  });

  test('a ci run with a check not configured stops before any check runs (exit 2 via SentinelError)', async () => {
    let ran = false;
    const error = await executeRun({
      mode: 'ci',
      env: { ...BASE_ENV, SENTINEL_EXPOSURE_HOSTS: 'gadgetbot.example.test', SENTINEL_REPORTS_DIR: join(dir, 'reports') },
      embedded: false,
      write: () => {},
      probe: async (id: ProbeCheckId) => {
        ran = true;
        return passed(id, 'probe');
      },
    }).catch((e: unknown) => e);
    expect(ran).toBe(false);
    expect(error).toBeInstanceOf(SentinelError);
    expect((error as SentinelError).code).toBe('not_configured');
    expect((error as SentinelError).message.split('\n')).toEqual([
      'sentinel: a ci run cannot vouch for 3 checks that are not configured:',
      '- db: no database URL (SENTINEL_DATABASE_URL) — or leave it out on purpose with --skip db (SENTINEL_SKIP), or pass --allow-skipped',
      '- coolify-resources: Coolify is not configured (SENTINEL_COOLIFY_URL, SENTINEL_COOLIFY_TOKEN, SENTINEL_COOLIFY_APP_UUID) — or leave it out on purpose with --skip coolify-resources (SENTINEL_SKIP), or pass --allow-skipped',
      '- backups: Coolify is not configured (SENTINEL_COOLIFY_URL, SENTINEL_COOLIFY_TOKEN, SENTINEL_COOLIFY_APP_UUID) and no database uuid (SENTINEL_COOLIFY_APP_DB_UUID, SENTINEL_COOLIFY_ZITADEL_DB_UUID) — or leave it out on purpose with --skip backups (SENTINEL_SKIP), or pass --allow-skipped',
    ]);
  });

  test('configured target with --allow-skipped: skipped checks are reported, never counted as passed', async () => {
    const summary = await executeRun({
      mode: 'ci',
      env: { ...BASE_ENV, SENTINEL_REPORTS_DIR: join(dir, 'reports') },
      overrides: { allowSkipped: true },
      embedded: false,
      write: () => {},
      probe: async (id: ProbeCheckId) => passed(id, 'probe'),
      browser: async (_c, _e, options) => options.checks.map((id) => passed(id, 'browser')),
    });
    expect(summary.mode).toBe('ci');
    expect(summary.totals).toEqual({ passed: 8, failed: 0, flaky: 0, skipped: 6 });
    expect(summary.checks.filter((c) => c.status === 'skipped').map((c) => [c.id, c.reason])).toEqual([
      ['db', 'not_configured'],
      ['coolify-resources', 'not_configured'],
      ['backups', 'not_configured'],
      ['exposure', 'not_configured'],
      ['e2e-admin-crud', 'not_permitted'],
      ['e2e-session-redeploy', 'not_permitted'],
    ]);
    expect(exitCodeOf(summary.checks)).toBe(0);
    const json = JSON.parse(await readFile(join(dir, 'reports', 'summary.json'), 'utf8')) as { checks: Array<{ status: string }> };
    expect(json.checks.filter((c) => c.status === 'passed')).toHaveLength(8);
  });

  test('what the browser run left to say (scrub, sessions) reaches the console and summary.json; the verdict stays', async () => {
    const lines: string[] = [];
    const summary = await executeRun({
      mode: 'ci',
      env: { ...BASE_ENV, SENTINEL_REPORTS_DIR: join(dir, 'reports') },
      overrides: { allowSkipped: true },
      embedded: false,
      write: (l) => lines.push(l),
      probe: async (id: ProbeCheckId) => passed(id, 'probe'),
      browser: async (_c, _e, options) => {
        options.onCleanup?.({
          scrub: { filesRewritten: 2, filesReplaced: ['old/trace.zip'] },
          sessions: [{ who: "user 1's stored session", ended: false, why: 'sign-out answered 403' }],
        });
        return options.checks.map((id) => passed(id, 'browser'));
      },
    });
    expect(exitCodeOf(summary.checks)).toBe(0);
    expect(lines).toEqual(
      expect.arrayContaining([
        'sentinel: replaced 1 report file(s) that could not be scrubbed of secrets: old/trace.zip',
        "sentinel: could not sign out user 1's stored session: sign-out answered 403; its row stays in the app's database until it expires",
      ]),
    );
    const json = JSON.parse(await readFile(join(dir, 'reports', 'summary.json'), 'utf8')) as Record<string, unknown>;
    expect(json.scrub).toEqual({ filesRewritten: 2, filesReplaced: ['old/trace.zip'] });
    expect(json.sessions).toEqual({ endedByRunner: [], notEnded: ["user 1's stored session: sign-out answered 403"] });
    expect(Object.keys(json)).toEqual(['mode', 'target', 'startedAt', 'durationMs', 'checks', 'totals', 'scrub', 'sessions']);
  });

  test('a reports folder holding files sentinel did not write stops the run before any check (exit 2 via SentinelError)', async () => {
    await mkdir(join(dir, 'foreign'));
    await writeFile(join(dir, 'foreign', 'keep.txt'), 'keep');
    let ran = false;
    const error = await executeRun({
      mode: 'postdeploy',
      env: { ...BASE_ENV, SENTINEL_REPORTS_DIR: join(dir, 'foreign') },
      embedded: false,
      write: () => {},
      probe: async (id: ProbeCheckId) => {
        ran = true;
        return passed(id, 'probe');
      },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SentinelError);
    expect(ran).toBe(false);
    expect(await readdir(join(dir, 'foreign'))).toEqual(['keep.txt']);
  });

  test('the stack is stopped when the run fails (e.g. no browser)', async () => {
    const calls: string[] = [];
    const error = await executeRun({
      mode: 'postdeploy',
      env: { SENTINEL_REPORTS_DIR: join(dir, 'reports') },
      embedded: true,
      write: () => {},
      startStack: fakeStack(calls),
      probe: async (id: ProbeCheckId) => passed(id, 'probe'),
      browser: async () => {
        throw new SentinelError('no_browser', 'no Chromium found');
      },
    }).catch((e: unknown) => e);
    expect((error as SentinelError).code).toBe('no_browser');
    expect(calls).toEqual(['start', 'stop']);
  });

  test('the first line names the browser and why; without one the run stops before the stack starts', async () => {
    const calls: string[] = [];
    const lines: string[] = [];
    const browser = { source: 'system', executablePath: '/usr/lib/chromium/chromium-headless-shell', args: [], env: {}, description: "Debian's headless shell (/usr/lib/chromium/chromium-headless-shell): no Playwright browser" } as const;
    await executeRun({
      mode: 'postdeploy',
      env: { SENTINEL_REPORTS_DIR: join(dir, 'reports') },
      embedded: true,
      write: (l) => lines.push(l),
      startStack: fakeStack(calls),
      resolveBrowser: async () => ({ ...browser, args: [...browser.args] }),
      probe: async (id: ProbeCheckId) => passed(id, 'probe'),
      browser: async (_c, _e, options) => options.checks.map((id) => passed(id, 'browser')),
    });
    expect(lines.slice(0, 2)).toEqual([
      "sentinel: browser: Debian's headless shell (/usr/lib/chromium/chromium-headless-shell): no Playwright browser",
      'sentinel: --embedded: starting the local reference stack',
    ]);

    const none: string[] = [];
    const error = await executeRun({
      mode: 'postdeploy',
      env: { SENTINEL_REPORTS_DIR: join(dir, 'reports') },
      embedded: true,
      write: () => {},
      startStack: fakeStack(none),
      resolveBrowser: async () => {
        throw new SentinelError('no_browser', 'no Chromium found');
      },
    }).catch((e: unknown) => e);
    expect((error as SentinelError).code).toBe('no_browser');
    expect(none).toEqual([]);
  });

  test('a probe-only run resolves no browser', async () => {
    let resolved = false;
    await executeRun({
      mode: 'probe',
      env: { SENTINEL_REPORTS_DIR: join(dir, 'reports') },
      embedded: true,
      write: () => {},
      startStack: fakeStack([]),
      resolveBrowser: async () => {
        resolved = true;
        throw new SentinelError('no_browser', 'no Chromium found');
      },
      probe: async (id: ProbeCheckId) => passed(id, 'probe'),
    });
    expect(resolved).toBe(false);
  });

  test('an interrupted run does not start the browser checks and fails them', async () => {
    const controller = new AbortController();
    let browserCalled = false;
    const summary = await executeRun({
      mode: 'postdeploy',
      env: { ...BASE_ENV, SENTINEL_SKIP: 'db,coolify-resources,backups,exposure', SENTINEL_REPORTS_DIR: join(dir, 'reports') },
      embedded: false,
      write: () => {},
      signal: controller.signal,
      probe: async (id: ProbeCheckId) => {
        controller.abort();
        return passed(id, 'probe');
      },
      browser: async () => {
        browserCalled = true;
        return [];
      },
    });
    expect(browserCalled).toBe(false);
    expect(summary.checks.find((c) => c.id === 'e2e-login')).toMatchObject({ status: 'failed', reason: 'unexpected' });
  });
});
