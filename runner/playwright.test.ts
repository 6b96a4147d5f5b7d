import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { INTERNAL_VARIABLES } from '../core/config.ts';
import { SentinelError } from '../core/errors.ts';
import type { CheckResult } from '../core/result.ts';
import { errorLine } from './child-output.ts';
import { childEnv, grepFor, grepInvertFor, removeOrphanedStateDirs, runBrowserChecks } from './playwright.ts';
import { BASE_ENV, configFrom } from './test-support/env.ts';
import { writeSessionTarget } from '../core/sign-out.ts';
import { startBetterAuthFake, storedStateFor } from '../core/test-support/better-auth-fake.ts';
import { cleanupLines, type BrowserRunCleanup } from './cleanup.ts';

let dir: string;
const config = () => configFrom({ ...BASE_ENV, SENTINEL_REPORTS_DIR: join(dir, 'reports') });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sentinel-fake-playwright-'));
  // Writes a result for e2e-login only (like a run where the other spec never reported), a report
  // file holding the password (as a trace would), and the environment it was given.
  await writeFile(
    join(dir, 'fake-playwright.mjs'),
    `import { mkdirSync, writeFileSync } from 'node:fs';
     const dir = process.env.SENTINEL_REPORTS_DIR;
     mkdirSync(dir, { recursive: true });
     writeFileSync(dir + '/env.json', JSON.stringify(Object.keys(process.env)));
     writeFileSync(dir + '/trace-note.txt', 'filled password ' + process.env.SENTINEL_PASSWORD);
     writeFileSync(dir + '/e2e-results.json', JSON.stringify([
       { id: 'e2e-login', kind: 'browser', status: 'failed', reason: 'assertion', message: 'typed ' + process.env.SENTINEL_PASSWORD, startedAt: new Date().toISOString(), durationMs: 1200 },
     ]));`,
  );
  // A run whose teardown did not end user 1's session and whose recorder failed once; it left a
  // trace, and the reports folder holds a zip that is not one.
  await writeFile(
    join(dir, 'leaving-playwright.mjs'),
    `import { mkdirSync, writeFileSync } from 'node:fs';
     const dir = process.env.SENTINEL_REPORTS_DIR;
     const state = process.env._SENTINEL_STATE_DIR;
     const url = new URL(JSON.parse(process.env.FAKE_APP_STATE).appUrl);
     writeFileSync(state + '/user-1.json', JSON.stringify({ cookies: [{ name: 'better-auth.session_token', value: 'leftAAAAAAAAAAAAAAAA.sig', domain: url.hostname, path: '/' }], origins: [] }));
     writeFileSync(state + '/recorder-failures.jsonl', JSON.stringify({ test: 'e2e-login: sign in', why: 'the context\\'s cookies were not recorded: Target closed' }) + '\\n');
     mkdirSync(dir + '/test-results/t', { recursive: true });
     writeFileSync(dir + '/test-results/t/trace.zip', 'PK\\u0003\\u0004 unrecorded secrets');
     writeFileSync(dir + '/stale.zip', 'PK\\u0003\\u0004 corrupt');
     writeFileSync(dir + '/e2e-results.json', JSON.stringify([{ id: 'e2e-login', kind: 'browser', status: 'passed', startedAt: new Date().toISOString(), durationMs: 1000 }]));`,
  );
  // Hangs, with a grandchild in the same process group, until killed.
  await writeFile(
    join(dir, 'hanging-playwright.mjs'),
    `import { spawn } from 'node:child_process';
     import { writeFileSync } from 'node:fs';
     const grandchild = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
     writeFileSync(process.env.SENTINEL_REPORTS_DIR + '-grandchild.pid', String(grandchild.pid));
     setInterval(() => {}, 1000);`,
  );
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('command line', () => {
  test('the grep matches exactly the titled check ids', () => {
    const grep = new RegExp(grepFor(['e2e-login', 'e2e-sign-out']));
    expect(grep.test('checks specs/login.spec.ts e2e-login: sign in from /login @monitor')).toBe(true);
    expect(grep.test('checks specs/sign-out.spec.ts e2e-sign-out: the user menu signs out')).toBe(true);
    expect(grep.test('checks specs/admin-crud.spec.ts e2e-admin-crud: create, view @mutating')).toBe(false);
    expect(grep.test('disruptive e2e-session-redeploy: survives')).toBe(false);
  });

  test('tags the selection left out are inverted away', () => {
    expect(grepInvertFor(['e2e-login'])).toEqual(['--grep-invert', '@disruptive|@mutating']);
    expect(grepInvertFor(['e2e-admin-crud', 'e2e-session-redeploy'])).toEqual([]);
  });

  test('the child env is explicit: PATH/HOME, SENTINEL_*, permissions from the config, nothing else', () => {
    const env = childEnv(configFrom(BASE_ENV, { allowMutations: true }), { ...BASE_ENV, OTHER: 'x' }, '/abs/reports', {
      PATH: '/bin',
      HOME: '/root',
      AWS_SECRET_ACCESS_KEY: 'aws-secret',
      GITHUB_TOKEN: 'gh-secret',
    });
    expect(env).toEqual({
      PATH: '/bin',
      HOME: '/root',
      ...BASE_ENV,
      SENTINEL_ALLOW_MUTATIONS: 'true',
      SENTINEL_REPORTS_DIR: '/abs/reports',
      FORCE_COLOR: '0',
    });
  });
});

describe('runBrowserChecks', () => {
  test('returns one result per requested id, redacted; a missing one is failed/unexpected; reports are scrubbed', async () => {
    const seen: CheckResult[] = [];
    const results = await runBrowserChecks(config(), { ...BASE_ENV }, {
      checks: ['e2e-login', 'e2e-sign-out'],
      reportsDir: join(dir, 'reports'),
      onResult: (r) => void seen.push(r),
      command: { file: process.execPath, args: [join(dir, 'fake-playwright.mjs')] },
    });
    expect(results.map((r) => [r.id, r.status, r.reason])).toEqual([
      ['e2e-login', 'failed', 'assertion'],
      ['e2e-sign-out', 'failed', 'unexpected'],
    ]);
    expect(results[0]!.message).toBe('typed [REDACTED]');
    expect(results[1]!.message).toBe('no result from Playwright (exit code 0)');
    expect(seen.map((r) => r.id)).toEqual(['e2e-login', 'e2e-sign-out']);
    const trace = await readFile(join(dir, 'reports', 'trace-note.txt'), 'utf8');
    expect(trace).toBe('filled password [REDACTED]');
    const envKeys = JSON.parse(await readFile(join(dir, 'reports', 'env.json'), 'utf8')) as string[];
    expect(envKeys.filter((k) => !k.startsWith('SENTINEL_')).sort()).toEqual(
      ['FORCE_COLOR', 'HOME', 'PATH', ...Object.values(INTERNAL_VARIABLES), ...['TMPDIR', 'LANG', 'LC_ALL', 'TZ', 'CI', 'GITHUB_ACTIONS', 'PLAYWRIGHT_BROWSERS_PATH'].filter((k) => process.env[k] !== undefined)].sort(),
    );
  });

  test('reports each result and step line the moment Playwright sends it, not when the run ends', async () => {
    // The fake Playwright sends a step line and e2e-login's result, then waits until the runner has
    // printed that result (the test creates a file from onResult) before sending the next one.
    const got = join(dir, 'got-e2e-login');
    const script = join(dir, 'live-playwright.mjs');
    await writeFile(
      script,
      `import { existsSync, writeSync } from 'node:fs';
       const fd = Number(process.env.${INTERNAL_VARIABLES.eventsFd});
       const send = (event) => writeSync(fd, JSON.stringify(event) + '\\n');
       const result = (id) => ({ id, kind: 'browser', status: 'passed', startedAt: new Date().toISOString(), durationMs: 5 });
       send({ step: { who: 'e2e-login', line: 'waiting 6 s for a slot of the sign-in limit' } });
       send({ result: result('e2e-login') });
       const until = Date.now() + 10000;
       while (!existsSync(${JSON.stringify(got)}) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
       if (!existsSync(${JSON.stringify(got)})) process.exit(3);
       send({ result: result('e2e-sign-out') });`,
    );
    const events: string[] = [];
    const results = await runBrowserChecks(config(), { ...BASE_ENV }, {
      checks: ['e2e-login', 'e2e-sign-out'],
      reportsDir: join(dir, 'reports-live'),
      onStep: (who, line) => void events.push(`step ${who}: ${line}`),
      onResult: async (r) => {
        events.push(`result ${r.id} ${r.status}`);
        if (r.id === 'e2e-login') await writeFile(got, '');
      },
      command: { file: process.execPath, args: [script] },
    });
    expect(events).toEqual(['step e2e-login: waiting 6 s for a slot of the sign-in limit', 'result e2e-login passed', 'result e2e-sign-out passed']);
    expect(results.map((r) => [r.id, r.status])).toEqual([['e2e-login', 'passed'], ['e2e-sign-out', 'passed']]);
  });

  test('a run past its deadline is killed with its whole process group; the checks fail with timeout', async () => {
    const reportsDir = join(dir, 'reports-hang');
    const started = Date.now();
    const results = await runBrowserChecks(config(), { ...BASE_ENV }, {
      checks: ['e2e-login'],
      reportsDir,
      deadlineMs: 3_000,
      command: { file: process.execPath, args: [join(dir, 'hanging-playwright.mjs')] },
    });
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ id: 'e2e-login', status: 'failed', reason: 'timeout' });
    expect(results[0]!.message).toBe('no result from Playwright: the browser run exceeded its deadline of 3 s and was stopped');
    const grandchild = Number(await readFile(`${reportsDir}-grandchild.pid`, 'utf8'));
    await expect.poll(() => {
      try {
        process.kill(grandchild, 0);
        return 'alive';
      } catch {
        return 'gone';
      }
    }, { timeout: 5_000 }).toBe('gone');
  });

  test('an abort signal stops the run', async () => {
    const controller = new AbortController();
    const pending = runBrowserChecks(config(), { ...BASE_ENV }, {
      checks: ['e2e-sign-out'],
      reportsDir: join(dir, 'reports-abort'),
      signal: controller.signal,
      command: { file: process.execPath, args: [join(dir, 'hanging-playwright.mjs')] },
    });
    controller.abort();
    const results = await pending;
    expect(results[0]).toMatchObject({ status: 'failed', reason: 'unexpected', message: 'no result from Playwright: the run was interrupted' });
  });

  test('stored sessions left by the run are signed out and reported; unrecorded secrets drop the artifacts; an unscrubbable file is replaced', async () => {
    const app = await startBetterAuthFake();
    try {
      app.sessions.add('leftAAAAAAAAAAAAAAAA');
      const reportsDir = join(dir, 'reports-leaving');
      const cleanups: BrowserRunCleanup[] = [];
      const results = await runBrowserChecks(configFrom({ ...BASE_ENV, SENTINEL_APP_URL: app.url }), { ...BASE_ENV, SENTINEL_APP_URL: app.url }, {
        checks: ['e2e-login'],
        reportsDir,
        onCleanup: (cleanup) => void cleanups.push(cleanup),
        command: { file: process.execPath, args: ['-e', `process.env.FAKE_APP_STATE = JSON.stringify({ appUrl: ${JSON.stringify(app.url)} }); await import(${JSON.stringify(join(dir, 'leaving-playwright.mjs'))});`, '--input-type=module'] },
      });
      expect(results.map((r) => r.status)).toEqual(['passed']); // the check's result stays what it was
      expect(app.sessions.size).toBe(0);
      expect(cleanups).toEqual([
        {
          scrub: {
            filesRewritten: 0,
            filesReplaced: ['stale.zip'],
            artifactsDropped: "the session-token recorder failed, so traces, screenshots and the HTML report were removed (e2e-login: sign in: the context's cookies were not recorded: Target closed)",
          },
          sessions: [{ who: "user 1's stored session", ended: true }],
        },
      ]);
      expect((await readdir(reportsDir)).sort()).toEqual(['.sentinel-reports', 'e2e-results.json', 'stale.zip']);
      expect(cleanupLines(cleanups[0]!)).toEqual([
        'sentinel: replaced 1 report file(s) that could not be scrubbed of secrets: stale.zip',
        "sentinel: the session-token recorder failed, so traces, screenshots and the HTML report were removed (e2e-login: sign in: the context's cookies were not recorded: Target closed)",
        "sentinel: the Playwright run left user 1's stored session signed in (its teardown did not end it); signed out now",
      ]);
    } finally {
      await app.close();
    }
  });

  test('a reports folder sentinel did not create is refused before Playwright starts, and left as it was', async () => {
    const foreign = join(dir, 'foreign');
    await mkdir(foreign);
    await writeFile(join(foreign, 'notes.txt'), `keep ${BASE_ENV.SENTINEL_PASSWORD}`);
    const error = await runBrowserChecks(config(), { ...BASE_ENV }, {
      checks: ['e2e-login'],
      reportsDir: foreign,
      command: { file: process.execPath, args: [join(dir, 'fake-playwright.mjs')] },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SentinelError);
    expect(await readdir(foreign)).toEqual(['notes.txt']);
    expect(await readFile(join(foreign, 'notes.txt'), 'utf8')).toBe(`keep ${BASE_ENV.SENTINEL_PASSWORD}`);
  });

  test('no browser is an exit-2 SentinelError before anything is spawned', async () => {
    const noChromium = { ...BASE_ENV, SENTINEL_CHROMIUM: join(dir, 'no-such-chromium') };
    const error = await runBrowserChecks(configFrom(noChromium), noChromium, {
      checks: ['e2e-login'],
      reportsDir: join(dir, 'reports-nobrowser'),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SentinelError);
    expect((error as SentinelError).code).toBe('no_browser');
  });
});

describe('errorLine', () => {
  test('picks the last error line of Playwright stderr, never a stack frame', () => {
    const stderr = 'Running 1 test\nError: first\n    at x (/a.js:1:1)\nSentinelError: SENTINEL_CHROMIUM points at /x, which does not exist\n    at _Command.<anonymous> (/p/program.js:55:7)\n';
    expect(errorLine(stderr)).toBe('SentinelError: SENTINEL_CHROMIUM points at /x, which does not exist');
    expect(errorLine('just a line\n    at frame (/a.js:1:1)\n')).toBe('just a line');
    expect(errorLine('')).toBe('');
  });
});

describe('removeOrphanedStateDirs', () => {
  test('removes the state folders of runs that are gone, keeps those of live runs and anything else', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sentinel-orphans-'));
    try {
      const gone = spawnSync(process.execPath, ['-e', '']).pid!; // a process that has exited
      const names = [`sentinel-e2e-state-${gone}-abc123`, `sentinel-e2e-state-${process.pid}-def456`, 'sentinel-e2e-state-notapid', 'unrelated'];
      for (const name of names) await mkdir(join(dir, name));
      await writeFile(join(dir, names[0]!, 'user-1.json'), '{"cookies":[]}');
      expect((await removeOrphanedStateDirs(dir)).removed).toEqual([names[0]]);
      expect((await readdir(dir)).sort()).toEqual(names.slice(1).sort());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('signs the stored sessions of a killed run out first, against the app that run wrote down', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sentinel-orphans-'));
    const app = await startBetterAuthFake();
    try {
      app.sessions.add('killedBBBBBBBBBBBBBBB');
      const gone = spawnSync(process.execPath, ['-e', '']).pid!;
      const stateDir = join(dir, `sentinel-e2e-state-${gone}-xyz789`);
      await mkdir(stateDir);
      await writeSessionTarget(stateDir, { appUrl: app.url, timeoutMs: 5_000 });
      await writeFile(join(stateDir, 'user-2.json'), JSON.stringify(storedStateFor('killedBBBBBBBBBBBBBBB')));
      const { removed, sessions } = await removeOrphanedStateDirs(dir);
      expect(removed).toEqual([`sentinel-e2e-state-${gone}-xyz789`]);
      expect(sessions).toEqual([{ who: "user 2's stored session (of an earlier run that was killed)", ended: true }]);
      expect(app.sessions.size).toBe(0);
    } finally {
      await app.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
