/**
 * `scale`: one `tls` probe cycle (probes/run-probe.ts runProbe, as the monitor calls it) over 1, 10 and 50
 * local TLS targets, round-robin so load drifts hit every size alike. Also `stack-ready` and
 * `probe-cycle`, the two start-up bars of issues 2 and 4.
 */
import { join } from 'node:path';
import { configSchema, loadConfig } from '../core/config.ts';
import { PROBE_CHECK_IDS } from '../core/result.ts';
import { runProbe } from '../probes/run-probe.ts';
import { REPO_ROOT } from '../runner/embedded-stack.ts';
import { childEnv, GOALS, type BenchContext, type SectionStatus } from './context.ts';
import { log, spawnWatched, stopChild } from './tools.ts';

const SIZES = [1, 10, 50] as const;

export async function scale(ctx: BenchContext): Promise<SectionStatus> {
  const caPath = join(ctx.workDir, 'scale-ca.pem');
  const servers = spawnWatched(process.execPath, ['--import', 'tsx', 'bench/tls-servers.ts', String(Math.max(...SIZES)), caPath], { cwd: REPO_ROOT, env: childEnv({}) });
  try {
    const ports = JSON.parse((await servers.waitForLine(/^PORTS (\[.*\])$/, 60_000))[1]!) as number[];
    const configs = SIZES.map((n) =>
      configSchema.parse({ appUrl: 'https://localhost', issuer: 'https://127.0.0.1', tls: { hosts: ports.slice(0, n).map((p) => `localhost:${p}`), caCertPath: caPath } }),
    );
    const runs = ctx.options.quick ? 3 : Math.max(10, ctx.options.runs * 3);
    for (const config of configs) await runProbe('tls', config); // warm-up: trust context, first connections
    const record = ctx.measure('scale');
    const times: number[][] = SIZES.map(() => []);
    const failures = SIZES.map(() => 0);
    for (let r = 0; r < runs; r++) {
      for (let i = 0; i < SIZES.length; i++) {
        const started = performance.now();
        const result = await runProbe('tls', configs[i]!);
        times[i]!.push(performance.now() - started);
        if (result.status !== 'passed') failures[i]!++;
      }
    }
    SIZES.forEach((n, i) => {
      record({
        id: `tls-${n}-targets`,
        unit: 'ms',
        values: times[i]!,
        ...(n === 50 ? { goal: GOALS.scale50 } : {}),
        note: `one tls probe cycle, ${n} local TLS servers; the probe handshakes all hosts at once (no per-host cap in probes/tls.ts); ${failures[i]} not passed`,
      });
    });
    return { status: 'ok' };
  } finally {
    await stopChild(servers.child, 5_000);
  }
}

/** Time from launching `sentinel stack` to its READY line; the stack is stopped by PID after each run. */
export async function stackReady(ctx: Pick<BenchContext, 'options' | 'measure'>): Promise<SectionStatus> {
  const runs = ctx.options.quick ? 2 : Math.max(3, ctx.options.runs);
  const record = ctx.measure('stack-ready');
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const stack = spawnWatched(process.execPath, ['bin/sentinel.mjs', 'stack'], { cwd: REPO_ROOT, env: childEnv({}) });
    try {
      await stack.waitForLine(/^READY \{/, 120_000);
      times.push(performance.now() - started);
    } finally {
      await stopChild(stack.child, 20_000);
    }
    log(`stack-ready #${i + 1}: ${((times.at(-1) ?? Number.NaN) / 1000).toFixed(1)} s`);
  }
  record({ id: 'ready', unit: 'ms', values: times, goal: GOALS.stackReady, note: 'node bin/sentinel.mjs stack: launch to the READY line' });
  return { status: 'ok' };
}

/** All five probes once, concurrently (runner/run.ts's probe phase), against the stack that is up. */
export async function probeCycle(ctx: BenchContext): Promise<SectionStatus> {
  const loaded = loadConfig(ctx.sentinelEnv);
  if (!loaded.ok) return { status: 'failed', message: 'the stack environment is not a valid config' };
  const config = loaded.config;
  await Promise.all(PROBE_CHECK_IDS.map((id) => runProbe(id, config))); // warm-up
  const runs = ctx.options.quick ? 5 : Math.max(15, ctx.options.runs * 5);
  const record = ctx.measure('probe-cycle');
  const times: number[] = [];
  let failed = 0;
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const results = await Promise.all(PROBE_CHECK_IDS.map((id) => runProbe(id, config)));
    times.push(performance.now() - started);
    failed += results.filter((r) => r.status !== 'passed').length;
  }
  record({ id: 'five-probes', unit: 'ms', values: times, goal: GOALS.probeCycle, note: `tls, app-health, oidc-discovery, login-v2-redirect, db at once, in-process, after one warm-up cycle; ${failed} probe results not passed` });
  return { status: 'ok' };
}
