/**
 * Nothing left behind in production: every session the suite signs in is ended when the check ends,
 * pass or fail. Counted where it matters, in the app's database (the stand-in keeps Better Auth's
 * sessions in the real app's `sessions` table, users in `users`; fixtures/stack/app/auth.ts): after a
 * full `sentinel run` against the stack as a configured target, and after a monitor that ran three
 * browser cycles, no session row of the test users created meanwhile may be left.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startStack, type RunningStack } from '../fixtures/stack/index.ts';
import { envFromStackInfo } from './embedded-stack.ts';
import { startMonitor, type MonitorHandle } from './monitor/index.ts';
import { stackMonitorConfig } from './monitor/test-support/stack-config.ts';
import { runCli } from './test-support/cli.ts';

let stack: RunningStack;
let monitor: MonitorHandle | undefined;
const dirs: string[] = [];

beforeAll(async () => {
  stack = await startStack();
}, 180_000);

afterAll(async () => {
  await monitor?.stop();
  await stack?.stop();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function query<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: stack.info.databaseUrl, connectionTimeoutMillis: 5_000, query_timeout: 5_000 });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/** The database's clock, so rows are compared with the time they were written by. */
async function dbNow(): Promise<Date> {
  return (await query<{ now: Date }>('select now() as now'))[0]!.now;
}

/** Session rows of the test users created since `since`: what a run would leave behind. */
async function sessionsLeftSince(since: Date): Promise<Array<{ email: string; created_at: Date }>> {
  const emails = stack.info.users.map((user) => user.loginName);
  return query('select u.email, s.created_at from sessions s join users u on u.id = s.user_id where u.email = any($1) and s.created_at >= $2 order by s.created_at', [emails, since]);
}

async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

describe('no session row of the test users outlives the suite', () => {
  test('a full sentinel run (setup, login, CRUD, sign-out, redeploy) ends every session it created', async () => {
    const reportsDir = await tempDir('sentinel-sessions-run-');
    const since = await dbNow();
    const run = await runCli(['run'], { ...envFromStackInfo(stack.info), SENTINEL_ALLOW_MUTATIONS: 'true', SENTINEL_ALLOW_DISRUPTIVE: 'true', SENTINEL_REPORTS_DIR: reportsDir }, 300_000);
    const summary = JSON.parse(await readFile(join(reportsDir, 'summary.json'), 'utf8')) as { checks: Array<{ id: string; status: string }>; sessions?: unknown; scrub?: { filesReplaced: string[]; artifactsDropped?: string } };
    // Every browser check really signed in (a run that never signed in would leave nothing trivially).
    expect(summary.checks.filter((c) => c.id.startsWith('e2e-')).map((c) => [c.id, c.status])).toEqual([
      ['e2e-login', 'passed'],
      ['e2e-admin-crud', 'passed'],
      ['e2e-sign-out', 'passed'],
      ['e2e-session-redeploy', 'passed'],
    ]);
    expect(run.code).toBe(0);
    expect(await sessionsLeftSince(since)).toEqual([]);
    // The Playwright teardown ended them all: the runner had nothing left to sign out.
    expect(summary.sessions).toEqual({ endedByRunner: [], notEnded: [] });
    // And the secret recorder never failed on the way (a healthy run keeps its artifacts).
    expect(summary.scrub).toMatchObject({ filesReplaced: [] });
    expect(summary.scrub?.artifactsDropped).toBeUndefined();
  }, 360_000);

  test('a monitor that ran three browser cycles ends every session it created', async () => {
    const reportsDir = await tempDir('sentinel-sessions-monitor-');
    const config = stackMonitorConfig(stack.info, {
      reportsDir,
      checks: ['e2e-login', 'e2e-sign-out'],
      monitor: { listen: '127.0.0.1:0', probeSchedule: '0 0 1 1 *', browserSchedule: '*/20 * * * * *' },
    });
    const log: string[] = [];
    const since = await dbNow();
    monitor = await startMonitor(config, { env: envFromStackInfo(stack.info), log: (line) => log.push(line) });
    const handle = monitor;
    await expect.poll(() => handle.history.recent('e2e-sign-out').length, { timeout: 300_000, interval: 1_000 }).toBeGreaterThanOrEqual(3);
    await monitor.stop();
    monitor = undefined;
    for (const id of ['e2e-login', 'e2e-sign-out'] as const) expect(handle.history.recent(id).map((entry) => entry.result.status)).toEqual(expect.arrayContaining(['passed']));
    expect(handle.history.recent('e2e-sign-out').every((entry) => entry.result.status === 'passed'), log.join('\n')).toBe(true);
    expect(await sessionsLeftSince(since)).toEqual([]);
    // Nothing was left for the runner to sign out (state folders of other, killed runs on this machine aside).
    expect(log.filter((line) => /sign out|signed in/.test(line) && !line.includes('of an earlier run'))).toEqual([]);
  }, 360_000);
});
