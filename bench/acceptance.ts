/**
 * `acceptance`: wall time of `sentinel run` (every check, stack already up) against the floor
 * (bench/floor.ts: the same probes and browser flows on bare playwright-core), in alternating runs.
 * Between runs we wait out Better Auth's sign-in window (3 per 10 s per IP, restarting at each
 * allowed request) so no run inherits the previous run's sign-ins; that wait is not timed.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { REPO_ROOT } from '../runner/embedded-stack.ts';
import { childEnv, GOALS, type BenchContext, type SectionStatus } from './context.ts';
import { exited, log } from './tools.ts';

/** 10 s window + the suite pacer's 1.5 s margin. */
const SIGN_IN_WINDOW_MS = 11_500;
const RUN_DEADLINE_MS = 600_000;

interface TimedRun {
  ms: number;
  code: number | null;
  lastLine: string;
  /** per-phase times: the floor's `FLOOR <json>` line, or the suite's summary.json */
  floor?: unknown;
}

async function timedChild(args: string[], env: Record<string, string>): Promise<TimedRun> {
  const started = performance.now();
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-4000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const deadline = setTimeout(() => child.pid !== undefined && process.kill(child.pid, 'SIGTERM'), RUN_DEADLINE_MS);
  await exited(child);
  clearTimeout(deadline);
  const ms = performance.now() - started;
  const lines = tail.trim().split('\n').filter(Boolean);
  const floorLine = lines.find((l) => l.startsWith('FLOOR '));
  let floor: unknown;
  try {
    floor = floorLine ? JSON.parse(floorLine.slice(6)) : undefined;
  } catch {
    floor = undefined;
  }
  return { ms, code: child.exitCode, lastLine: lines.slice(-3).join(' | ').slice(0, 600), ...(floor ? { floor } : {}) };
}

/** Per-check durations of a suite run, from its summary.json (to set beside the floor's phases). */
function suitePhases(reportsDir: string): Record<string, { status: string; ms: number }> | undefined {
  try {
    const summary = JSON.parse(readFileSync(join(reportsDir, 'summary.json'), 'utf8')) as { durationMs: number; checks: Array<{ id: string; status: string; durationMs: number }> };
    return Object.fromEntries([['run', { status: 'total', ms: summary.durationMs }], ...summary.checks.map((c) => [c.id, { status: c.status, ms: c.durationMs }])]);
  } catch {
    return undefined;
  }
}

export async function acceptance(ctx: BenchContext): Promise<SectionStatus> {
  const record = ctx.measure('acceptance');
  const env = childEnv(ctx.sentinelEnv);
  // the floor's page.request runs in its own Node, which reads extra CAs only at start (as playwright.config.ts arranges for the suite)
  const floorEnv = env.SENTINEL_CA_CERT ? { ...env, NODE_EXTRA_CA_CERTS: env.SENTINEL_CA_CERT } : env;
  const suite: TimedRun[] = [];
  const floor: TimedRun[] = [];
  let lastEnd = 0;
  const gap = async () => {
    const wait = lastEnd + SIGN_IN_WINDOW_MS - Date.now();
    if (wait > 0) await delay(wait);
  };
  for (let i = 0; i < ctx.options.runs; i++) {
    // alternate which side goes first in each pair, so neither always follows the other
    const order = i % 2 === 0 ? (['suite', 'floor'] as const) : (['floor', 'suite'] as const);
    for (const side of order) {
      await gap();
      const run = side === 'suite' ? await timedChild(['bin/sentinel.mjs', 'run'], env) : await timedChild(['--import', 'tsx', 'bench/floor.ts'], floorEnv);
      lastEnd = Date.now();
      if (side === 'suite') run.floor = suitePhases(ctx.sentinelEnv.SENTINEL_REPORTS_DIR!);
      (side === 'suite' ? suite : floor).push(run);
      log(`acceptance ${side} #${i + 1}: ${(run.ms / 1000).toFixed(1)} s, exit ${run.code}${run.code === 0 ? '' : `: ${run.lastLine}`}`);
    }
  }
  const failedSuite = suite.filter((r) => r.code !== 0).length;
  const failedFloor = floor.filter((r) => r.code !== 0).length;
  const failures = failedSuite || failedFloor ? `; failed runs: suite ${failedSuite}, floor ${failedFloor} (timed anyway)` : '';
  record({ id: 'suite', unit: 's', values: suite.map((r) => r.ms / 1000), note: `node bin/sentinel.mjs run, every check, stack up${failures}` });
  record({
    id: 'floor',
    unit: 's',
    values: floor.map((r) => r.ms / 1000),
    note: 'node bench/floor.ts: the five probes (probes/run-probe.ts, concurrently) + the four browser flows on playwright-core, one Chromium, same pacing; whole wall time on both sides',
  });
  const ratios = suite.map((s, i) => s.ms / floor[i]!.ms);
  record({ id: 'suite-over-floor', unit: 'ratio', values: ratios, goal: GOALS.suiteOverFloor, note: 'per alternating pair; verdict on the median pair ratio' });
  return {
    status: 'ok',
    details: {
      suiteExitCodes: suite.map((r) => r.code),
      suiteLastLines: suite.filter((r) => r.code !== 0).map((r) => r.lastLine),
      suitePhases: suite.map((r) => r.floor),
      floorExitCodes: floor.map((r) => r.code),
      floorPhases: floor.map((r) => r.floor ?? r.lastLine),
    },
  };
}
