/**
 * Production safety of the mutating check, checked in the database: with
 * `app-crud-500`, and with a run SIGKILLed in the middle of the CRUD spec after its bot was created,
 * no bot with the run's prefix remains after the cleanup and the next run's sweep; and a killed run leaves
 * no Playwright process and, by the next run at the latest, no signed-in state and no stored session
 * (signed out in the app, checked in its `sessions` table) behind.
 *
 * How a killed run leaves a bot: the bot janitor (e2e/test.ts) deletes after the test, and a
 * SIGKILL of Playwright (OOM killer, cancelled CI job) never reaches it. The next run's CRUD spec
 * sweeps prefixed bots older than `sweepAfterMinutes` (so a concurrent run's bot in flight is left
 * alone); the test ages the leftover in the DB by that much instead of waiting 30 minutes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import { afterEach, describe, expect, test } from 'vitest';
import { INTERNAL_VARIABLES, loadConfig } from '../core/config.ts';
import { startStack, type RunningStack } from '../fixtures/stack/index.ts';
import { REPO_ROOT, envFromStackInfo } from './embedded-stack.ts';

let stack: RunningStack | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function withDb<T>(databaseUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5_000, query_timeout: 5_000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function botsWithPrefix(databaseUrl: string, prefix: string): Promise<string[]> {
  return withDb(databaseUrl, async (client) => (await client.query<{ name: string }>('select name from gadgetbots where name like $1 order by name', [`${prefix}-%`])).rows.map((r) => r.name));
}

/** Session tokens of the stored sign-ins in a run's state folder (user-<n>.json, Playwright storage state). */
async function storedSessionTokens(stateDir: string): Promise<string[]> {
  const tokens: string[] = [];
  for (const name of (await readdir(stateDir)).filter((f) => /^user-\d+\.json$/.test(f))) {
    const state = JSON.parse(await readFile(join(stateDir, name), 'utf8')) as { cookies: Array<{ name: string; value: string }> };
    const cookie = state.cookies.find((c) => /better-auth\.session_token$/.test(c.name));
    if (cookie) tokens.push(decodeURIComponent(cookie.value).split('.')[0]!);
  }
  return tokens;
}

/** How many of these sessions the app's database still holds. */
async function liveSessions(databaseUrl: string, tokens: readonly string[]): Promise<number> {
  return withDb(databaseUrl, async (client) => Number((await client.query<{ n: string }>('select count(*) as n from sessions where token = any($1)', [tokens])).rows[0]!.n));
}

/** Polls `condition` every 100 ms until it holds; throws at the deadline. */
async function waitFor<T>(what: string, condition: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await condition();
    if (value !== undefined) return value;
    await delay(100);
  }
  throw new Error(`${what}: not within ${timeoutMs} ms`);
}

interface SuiteRun {
  child: ChildProcess;
  exit: Promise<number | null>;
  reportsDir: string;
}

/** `sentinel run --check <check>` against the started stack (a configured target, not the embedded one). */
async function runCrud(info: RunningStack['info'], prefix: string, check = 'e2e-admin-crud'): Promise<SuiteRun> {
  const reportsDir = await mkdtemp(join(tmpdir(), 'sentinel-safety-'));
  dirs.push(reportsDir);
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('SENTINEL_') && key !== 'CI') env[key] = value;
  Object.assign(env, envFromStackInfo(info), { SENTINEL_BOT_PREFIX: prefix, SENTINEL_REPORTS_DIR: reportsDir, SENTINEL_ALLOW_MUTATIONS: 'true' });
  const child = spawn(process.execPath, [join(REPO_ROOT, 'bin/sentinel.mjs'), 'run', '--mode', 'postdeploy', '--check', check], { cwd: REPO_ROOT, env, stdio: 'ignore' });
  const exit = new Promise<number | null>((resolve) => {
    child.once('error', () => resolve(null));
    child.once('close', (code) => resolve(code));
  });
  return { child, exit, reportsDir };
}

interface CrudSummary {
  checks: Array<{ id: string; status: string; reason?: string; observations?: { sweptLeftovers?: unknown } }>;
}

async function crudResult(reportsDir: string) {
  const summary = JSON.parse(await readFile(join(reportsDir, 'summary.json'), 'utf8')) as CrudSummary;
  return summary.checks.find((c) => c.id === 'e2e-admin-crud')!;
}

/** The Playwright child of a sentinel run: its own process group (runner/playwright.ts spawns it detached). */
async function playwrightChildOf(pid: number): Promise<number | undefined> {
  const tasks = await readdir(`/proc/${pid}/task`).catch(() => [] as string[]);
  for (const task of tasks) {
    const children = (await readFile(`/proc/${pid}/task/${task}/children`, 'utf8').catch(() => '')).trim().split(/\s+/).filter(Boolean).map(Number);
    for (const child of children) {
      const cmdline = (await readFile(`/proc/${child}/cmdline`, 'utf8').catch(() => '')).split('\0');
      if (cmdline.some((arg) => arg.endsWith('cli.js')) && cmdline.includes('test')) return child;
    }
  }
  return undefined;
}

/** The state folder runner/playwright.ts made for this Playwright process (signed-in storage state). */
async function stateDirOf(playwright: number): Promise<string> {
  const environ = (await readFile(`/proc/${playwright}/environ`, 'utf8')).split('\0');
  const prefix = `${INTERNAL_VARIABLES.stateDir}=`;
  return environ.find((entry) => entry.startsWith(prefix))!.slice(prefix.length);
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Inserts a bot with `name` as a run `ageMinutes` ago would have left it. */
async function insertLeftover(databaseUrl: string, name: string, ageMinutes: number): Promise<void> {
  await withDb(databaseUrl, (client) =>
    client.query(
      `insert into gadgetbots (name, type, description, battery_life, max_load_capacity, created_at, updated_at)
       values ($1, 'security', 'left behind by a killed run', 24, 50, now() - make_interval(mins => $2::int), now() - make_interval(mins => $2::int))`,
      [name, ageMinutes],
    ),
  );
}

const sweepAfterMinutes = (() => {
  const loaded = loadConfig({ SENTINEL_APP_URL: 'https://localhost', SENTINEL_ISSUER: 'https://127.0.0.1' });
  if (!loaded.ok) throw new Error('default config does not load');
  return loaded.config.sweepAfterMinutes;
})();

describe('no bot with the run prefix survives (checked in the database)', () => {
  test('app-crud-500: the CRUD check fails with http_status, creates nothing, and sweeps an old leftover', async () => {
    stack = await startStack({ faults: ['app-crud-500'] });
    const prefix = `safety-${randomBytes(3).toString('hex')}`;
    await insertLeftover(stack.info.databaseUrl, `${prefix}-oldrun-abc123`, sweepAfterMinutes + 1);
    expect(await botsWithPrefix(stack.info.databaseUrl, prefix)).toEqual([`${prefix}-oldrun-abc123`]);

    const run = await runCrud(stack.info, prefix);
    expect(await run.exit).toBe(1);
    const crud = await crudResult(run.reportsDir);
    expect({ status: crud.status, reason: crud.reason, swept: crud.observations?.sweptLeftovers }).toEqual({ status: 'failed', reason: 'http_status', swept: 1 });
    expect(await botsWithPrefix(stack.info.databaseUrl, prefix)).toEqual([]);
  }, 150_000);

  test('a SIGKILL of `sentinel run` alone: Playwright takes its group down and removes the signed-in state', async () => {
    stack = await startStack();
    const run = await runCrud(stack.info, `orphan-${randomBytes(3).toString('hex')}`, 'e2e-login');
    const playwright = await waitFor('the Playwright child of the run', () => playwrightChildOf(run.child.pid!), 60_000);
    const stateDir = await stateDirOf(playwright);
    // once a user is signed in, the folder holds session cookies: the case that must not stay behind
    await waitFor('a signed-in storage state', async () => ((await readdir(stateDir).catch(() => [] as string[])).some((f) => /^user-\d\.json$/.test(f)) ? true : undefined), 90_000);
    const stored = await storedSessionTokens(stateDir);
    expect(await liveSessions(stack.info.databaseUrl, stored)).toBe(stored.length);
    process.kill(run.child.pid!, 'SIGKILL');
    await run.exit;
    await waitFor('the Playwright process group is gone', async () => (groupAlive(playwright) ? undefined : true), 20_000);
    expect(existsSync(stateDir)).toBe(false);
    // e2e/support/orphan-guard.ts signed the stored sessions out before it removed them
    expect(stored.length).toBeGreaterThan(0);
    expect(await liveSessions(stack.info.databaseUrl, stored)).toBe(0);
  }, 180_000);

  test('a run SIGKILLed mid-CRUD leaves its bot; the next run (after sweepAfterMinutes) sweeps it', async () => {
    stack = await startStack();
    const { databaseUrl } = stack.info;
    const prefix = `safety-${randomBytes(3).toString('hex')}`;

    const killed = await runCrud(stack.info, prefix);
    const bot = await waitFor('the CRUD spec creates its bot', async () => (await botsWithPrefix(databaseUrl, prefix))[0], 120_000);
    const playwright = await playwrightChildOf(killed.child.pid!);
    expect(playwright, 'the Playwright child of the run').toBeTypeOf('number');
    const killedStateDir = await stateDirOf(playwright!);
    // The whole run at once, as an OOM kill or a cancelled CI job does it: no cleanup code runs.
    process.kill(-playwright!, 'SIGKILL');
    process.kill(killed.child.pid!, 'SIGKILL');
    await killed.exit;
    await waitFor('the Playwright process group is gone', async () => (groupAlive(playwright!) ? undefined : true), 10_000);
    expect(await botsWithPrefix(databaseUrl, prefix)).toEqual([bot]);

    // Time passes: the leftover is now older than the sweep threshold.
    await withDb(databaseUrl, (client) => client.query(`update gadgetbots set created_at = now() - make_interval(mins => $2::int) where name like $1`, [`${prefix}-%`, sweepAfterMinutes + 1]));

    expect(existsSync(killedStateDir), 'nothing ran to remove the killed run\'s signed-in state').toBe(true);
    const stored = await storedSessionTokens(killedStateDir);
    expect(stored.length).toBeGreaterThan(0);
    expect(await liveSessions(databaseUrl, stored), 'nothing ran to sign the killed run\'s sessions out').toBe(stored.length);
    const next = await runCrud(stack.info, prefix);
    const nextExit = await next.exit;
    const crud = await crudResult(next.reportsDir);
    expect(nextExit, JSON.stringify(crud)).toBe(0);
    expect(existsSync(killedStateDir), 'the next run removes it').toBe(false);
    expect(await liveSessions(databaseUrl, stored), 'the next run signs them out first').toBe(0);
    const nextSummary = JSON.parse(await readFile(join(next.reportsDir, 'summary.json'), 'utf8')) as { sessions?: { endedByRunner: string[] } };
    expect(nextSummary.sessions?.endedByRunner).toEqual(expect.arrayContaining(["user 1's stored session (of an earlier run that was killed)"]));
    expect({ status: crud.status, swept: crud.observations?.sweptLeftovers }).toEqual({ status: 'passed', swept: 1 });
    expect(await botsWithPrefix(databaseUrl, prefix)).toEqual([]);
  }, 240_000);
});
