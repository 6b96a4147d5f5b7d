/**
 * Issue 7 item 5: the real monitor on the reference stack while things break. The IdP is down for
 * three probe cycles and comes back; the database restarts; a probe hangs; SIGTERM arrives in the
 * middle of a browser flow. The monitor keeps running, its metrics show the truth within one cycle,
 * and no Chromium process outlives it. Probe schedules fire every second; cycles are counted from the
 * monitor's own result counters, never waited for with sleeps.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Config, ConfigInput } from '../../core/config.ts';
import { PROBE_CHECK_IDS, type ProbeCheckId } from '../../core/result.ts';
import { startStack, type RunningStack } from '../../fixtures/stack/index.ts';
import { runProbe } from '../../probes/run-probe.ts';
import { envFromStackInfo } from '../embedded-stack.ts';
import { REPO } from '../test-support/cli.ts';
import { startMonitor, type MonitorHandle, type RunProbeFn } from './index.ts';
import { get } from './test-support/fakes.ts';
import { descendantsOf, isChromium, stillRunning, type ProcInfo } from './test-support/proc.ts';
import { stackMonitorConfig } from './test-support/stack-config.ts';

/**
 * Every 15 s: login-v2-redirect makes one POST /api/auth/sign-in/social per run, and Better Auth
 * answers 429 to the third call that follows its predecessor within 10 s (a sliding window: any
 * steady schedule faster than every 10 s ends up measuring the rate limiter, not the IdP).
 */
const PROBE_SCHEDULE = '*/15 * * * * *';
/** Generous: other suites share this 2-core machine, and a healthy probe must not time out. */
const PROBE_DEADLINE_MS = 8_000;
/** One probe cycle: the next tick (≤ 15 s) plus the probes' own time (≤ the deadline), plus slack. */
const ONE_CYCLE_MS = 15_000 + PROBE_DEADLINE_MS + 5_000;

let stack: RunningStack;
let reportsDir: string;
const monitors: MonitorHandle[] = [];

beforeAll(async () => {
  stack = await startStack();
  reportsDir = await mkdtemp(join(tmpdir(), 'sentinel-monitor-faults-'));
}, 180_000);
afterAll(async () => {
  await Promise.all(monitors.map((m) => m.stop()));
  await stack?.stop();
  await rm(reportsDir, { recursive: true, force: true });
});

function stackConfig(overrides: Partial<ConfigInput> = {}): Config {
  return stackMonitorConfig(stack.info, {
    reportsDir,
    timeouts: { probeMs: PROBE_DEADLINE_MS },
    monitor: { listen: '127.0.0.1:0', probeSchedule: PROBE_SCHEDULE, browserSchedule: '0 0 1 1 *' },
    ...overrides,
  });
}

/** `name{check="id",…} value` lines of /metrics, keyed `name/id` (and `name/id/label=value` for extra labels asked for). */
async function scrape(monitor: MonitorHandle): Promise<Map<string, number>> {
  const { status, body } = await get(`${monitor.url}/metrics`);
  expect(status).toBe(200);
  const values = new Map<string, number>();
  for (const line of body.split('\n')) {
    const match = /^([a-z_]+)\{([^}]*)\} (\S+)$/.exec(line);
    if (!match) continue;
    const labels = Object.fromEntries([...match[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
    const key = [match[1], labels.check ?? labels.group, labels.status ?? labels.reason].filter(Boolean).join('/');
    values.set(key, Number(match[3]));
  }
  return values;
}

/**
 * Polls a condition until it holds or the deadline passes. Every 250 ms: the monitor under test runs
 * in this process, and a tighter loop of /metrics scrapes would starve its probes.
 */
async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** `passing` or `failing:<reason>` per probe, from /status: the failure message of an assertion then says why. */
async function statesOf(monitor: MonitorHandle): Promise<Record<string, string>> {
  const doc = JSON.parse((await get(`${monitor.url}/status?format=json`)).body) as { checks: Array<{ id: string; state: string; reason?: string }> };
  return Object.fromEntries(doc.checks.filter((c) => (PROBE_CHECK_IDS as readonly string[]).includes(c.id)).map((c) => [c.id, c.state === 'failing' ? `failing:${c.reason}` : c.state]));
}

const probeSuccessOf = (values: Map<string, number>) => Object.fromEntries(PROBE_CHECK_IDS.map((id) => [id, values.get(`probe_success/${id}`)]));
const ALL_UP = Object.fromEntries(PROBE_CHECK_IDS.map((id) => [id, 1]));
const ALL_PASSING = Object.fromEntries(PROBE_CHECK_IDS.map((id) => [id, 'passing']));
/** Completed runs of a probe so far (every status). */
const runsOf = (values: Map<string, number>, id: ProbeCheckId) =>
  ['passed', 'failed', 'flaky', 'skipped'].reduce((sum, status) => sum + (values.get(`sentinel_check_results_total/${id}/${status}`) ?? 0), 0);

describe('monitor under faults of the reference stack', () => {
  test('IdP down for three cycles: its checks are 0 within one cycle and stay 0; back up: 1 within one cycle', async () => {
    const monitor = await startMonitor(stackConfig(), { log: () => undefined, embedded: true });
    monitors.push(monitor);
    await monitor.firstCycle;
    await until(async () => JSON.stringify(probeSuccessOf(await scrape(monitor))) === JSON.stringify(ALL_UP), 'every probe at 1', ONE_CYCLE_MS);

    await stack.idp.stop();
    try {
      await until(async () => {
        const up = probeSuccessOf(await scrape(monitor));
        return up['oidc-discovery'] === 0 && up['login-v2-redirect'] === 0 && up['coolify-resources'] === 0;
      }, 'IdP checks at 0', ONE_CYCLE_MS);
      // Coolify shows the Zitadel stack exited while its process is stopped.
      const DOWN = { ...ALL_UP, 'oidc-discovery': 0, 'login-v2-redirect': 0, 'idp-token': 0, 'idp-health': 0, 'coolify-resources': 0 };

      // Three more complete cycles while the IdP stays down; every scrape in between tells the same truth.
      const start = await scrape(monitor);
      const startRuns = runsOf(start, 'oidc-discovery');
      const snapshots: Array<Record<string, number | undefined>> = [];
      await until(async () => {
        const values = await scrape(monitor);
        snapshots.push(probeSuccessOf(values));
        return runsOf(values, 'oidc-discovery') >= startRuns + 3 && runsOf(values, 'login-v2-redirect') >= runsOf(start, 'login-v2-redirect') + 3;
      }, 'three cycles with the IdP down', 3 * ONE_CYCLE_MS);
      expect(snapshots.filter((s) => JSON.stringify(s) !== JSON.stringify(DOWN))).toEqual([]);
      const down = await scrape(monitor);
      expect(await statesOf(monitor)).toEqual({
        ...ALL_PASSING,
        'oidc-discovery': 'failing:http_status',
        'login-v2-redirect': 'failing:idp_error',
        'idp-token': 'failing:http_status',
        'idp-health': 'failing:idp_not_ready',
        'coolify-resources': 'failing:resource_down',
      });
      // Every run in the window failed, each with the precise reason (the proxy front answers 502).
      const failuresSince = (key: string) => (down.get(key) ?? 0) - (start.get(key) ?? 0);
      expect(failuresSince('sentinel_check_failures_total/oidc-discovery/http_status')).toBe(runsOf(down, 'oidc-discovery') - runsOf(start, 'oidc-discovery'));
      expect(failuresSince('sentinel_check_failures_total/login-v2-redirect/idp_error')).toBe(runsOf(down, 'login-v2-redirect') - runsOf(start, 'login-v2-redirect'));
      expect(down.get('probe_http_status_code/oidc-discovery')).toBe(502);
      expect(down.get('sentinel_check_status/oidc-discovery/failing')).toBe(1);
      expect((await get(`${monitor.url}/healthz`)).status).toBe(200);
    } finally {
      await stack.idp.start();
    }
    await until(async () => JSON.stringify(probeSuccessOf(await scrape(monitor))) === JSON.stringify(ALL_UP), 'every probe back at 1', ONE_CYCLE_MS);
    expect((await scrape(monitor)).get('sentinel_check_status/oidc-discovery/passing')).toBe(1);
  }, 300_000);

  test('database restarted: pg_up 0 within one cycle, the monitor keeps running, then pg_up 1 with a new start time', async () => {
    const monitor = monitors[0]!;
    const before = await scrape(monitor);
    expect(before.get('pg_up/db')).toBe(1);
    const startTimeBefore = before.get('pg_postmaster_start_time_seconds/db')!;
    expect(startTimeBefore).toBeGreaterThan(1_700_000_000);

    await stack.db.stop();
    try {
      await until(async () => (await scrape(monitor)).get('pg_up/db') === 0, 'pg_up 0', ONE_CYCLE_MS);
      const down = await scrape(monitor);
      expect(down.get('probe_success/db')).toBe(0);
      expect(down.get('sentinel_check_failures_total/db/db_unreachable')).toBeGreaterThanOrEqual(1);
      // Still scheduling: further cycles complete while the database is away.
      const runsWhileDown = runsOf(down, 'db');
      await until(async () => runsOf(await scrape(monitor), 'db') >= runsWhileDown + 2, 'two more db cycles while down', 2 * ONE_CYCLE_MS);
      expect((await get(`${monitor.url}/healthz`)).status).toBe(200);
      expect((await scrape(monitor)).get('pg_up/db')).toBe(0);
    } finally {
      await stack.db.start();
    }
    await until(async () => (await scrape(monitor)).get('pg_up/db') === 1, 'pg_up 1', ONE_CYCLE_MS);
    const after = await scrape(monitor);
    expect(after.get('probe_success/db')).toBe(1);
    // A restart is visible as a new postmaster start time (whole seconds; the restart took at least one tick).
    expect(after.get('pg_postmaster_start_time_seconds/db')).toBeGreaterThan(startTimeBefore);
    expect(after.get('pg_postmaster_start_time_seconds/db')).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));
  }, 180_000);

  test('a probe that never resolves: failed/timeout at its deadline, the next cycle still runs', async () => {
    await monitors.shift()?.stop();
    let appHealthCalls = 0;
    // The first app-health run hangs forever and ignores every signal; later runs are the real probe.
    const hangingOnce: RunProbeFn = (id, config, options) => {
      if (id === 'app-health' && ++appHealthCalls === 1) return new Promise<never>(() => undefined);
      return runProbe(id, config, options);
    };
    const config = stackConfig();
    const monitor = await startMonitor(config, { log: () => undefined, embedded: true, runProbe: hangingOnce });
    monitors.push(monitor);
    await monitor.firstCycle;
    const first = await scrape(monitor);
    expect(await statesOf(monitor)).toEqual({ ...ALL_PASSING, 'app-health': 'failing:timeout' });
    expect(probeSuccessOf(first)).toEqual({ ...ALL_UP, 'app-health': 0 });
    expect(first.get('sentinel_check_failures_total/app-health/timeout')).toBe(1);
    const status = JSON.parse((await get(`${monitor.url}/status?format=json`)).body) as { checks: Array<{ id: string; state: string; reason?: string; message?: string }> };
    const hung = status.checks.find((c) => c.id === 'app-health') as { state: string; reason?: string; message?: string; durationMs?: number };
    expect(hung).toMatchObject({ state: 'failing', reason: 'timeout', message: `app-health: no result within the deadline of ${PROBE_DEADLINE_MS} ms` });
    // Stopped at its deadline: probeMs plus the monitor's 2 s grace for a runner that ignores its own deadline.
    expect(hung.durationMs).toBeGreaterThanOrEqual(PROBE_DEADLINE_MS + 2_000);

    await until(async () => (await scrape(monitor)).get('probe_success/app-health') === 1, 'app-health back at 1 on the next cycle', ONE_CYCLE_MS);
    expect(probeSuccessOf(await scrape(monitor))).toEqual(ALL_UP);
    expect(appHealthCalls).toBeGreaterThanOrEqual(2);
    expect((await scrape(monitor)).get('sentinel_check_failures_total/app-health/timeout')).toBe(1);
    await monitor.stop();
    monitors.pop();
  }, 120_000);

  test('SIGTERM in the middle of a browser flow: exit 0 within 10 s, no Chromium left behind', async () => {
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/root',
      ...envFromStackInfo(stack.info),
      SENTINEL_CHECKS: 'app-health,e2e-login',
      SENTINEL_REPORTS_DIR: join(reportsDir, 'cli-monitor'),
      SENTINEL_SCHEDULE_PROBES: PROBE_SCHEDULE,
    };
    const child = spawn(process.execPath, ['bin/sentinel.mjs', 'monitor', '--listen', '127.0.0.1:0'], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })));
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    let seen: ProcInfo[] = [];
    try {
        // The monitor names its address in one log line on stderr.
        const url = await new Promise<string>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`no "listening on" line within 30 s: ${output}`)), 30_000);
          createInterface({ input: child.stderr }).on('line', (line) => {
            output += `${line}\n`;
            const match = /^monitor: listening on (http:\/\/127\.0\.0\.1:\d+);/.exec(line);
            if (match) {
              clearTimeout(timer);
              resolve(match[1]!);
            }
          });
        });
        // Mid-flow: Chromium runs somewhere below the monitor (monitor → browser child → Playwright → Chromium).
        await until(() => {
          seen = descendantsOf(child.pid!);
          return seen.some(isChromium);
        }, 'a Chromium process below the monitor', 60_000);
        const metrics = (await get(`${url}/metrics`)).body;
        expect(metrics).toContain('sentinel_run_in_progress{group="browser"} 1');

        const sentAt = Date.now();
        seen = descendantsOf(child.pid!);
        child.kill('SIGTERM');
        const { code, signal, at } = await exited;
        expect({ code, signal }).toEqual({ code: 0, signal: null });
        expect(at - sentAt).toBeLessThan(10_000);
        expect(output).toContain('monitor: SIGTERM received; shutting down');
        expect(output).toContain('monitor: stopped');
        expect(output).not.toMatch(/\n\s+at .+:\d+:\d+/);
        const chromium = seen.filter(isChromium);
        expect(chromium.length).toBeGreaterThanOrEqual(1);
        // Whatever ran below the monitor is gone (killed processes may need a moment to be reaped).
        await until(() => seen.every((p) => !stillRunning(p)), 'every process below the monitor gone', 2_000).catch(() => undefined);
        expect(seen.filter(stillRunning).map((p) => `${p.pid} ${p.command.slice(0, 80)}`)).toEqual([]);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      for (const p of seen.filter(stillRunning)) {
        try {
          process.kill(p.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  }, 120_000);
});
