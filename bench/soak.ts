/**
 * `soak`: the monitor with probes every second and a browser flow every minute for N minutes after
 * its first flow (the warm-up). Figures: growth of the monitor's idle RSS (first minute vs last
 * minute), overlapping browser runs (seen in the process tree, and the monitor's own skip counters),
 * and Chromium processes left after a SIGTERM sent while a browser flow runs (every Chromium PID seen
 * below the monitor, with its start time, must be gone).
 */
import { setTimeout as delay } from 'node:timers/promises';
import { GOALS, type BenchContext, type SectionStatus } from './context.ts';
import { browserWindows, sampleTree, startMonitorProcess, type TreeSample } from './monitor-process.ts';
import { stillRunning } from '../runner/monitor/test-support/proc.ts';
import { growthPercent, median, metricValue } from './stats.ts';
import { log, pollUntil } from './tools.ts';

const MB = 1024;
const SETTLE_MS = 15_000;

/** Median own RSS of the idle samples (no browser run) in [fromMs, toMs). */
function idleLevel(samples: readonly TreeSample[], fromMs: number, toMs: number): number {
  return median(samples.filter((s) => !s.browser && s.atMs >= fromMs && s.atMs < toMs).map((s) => s.ownKb)) / MB;
}

export async function soak(ctx: BenchContext): Promise<SectionStatus> {
  const minutes = ctx.options.soakMinutes;
  const monitor = await startMonitorProcess(ctx.sentinelEnv, {
    SENTINEL_SCHEDULE_PROBES: '* * * * * *',
    // login-v2-redirect signs in on every tick it gets: the monitor's sign-in ledger keeps it and the
    // browser flows inside Better Auth's 3 per 10 s (runner/monitor/sign-ins.ts), which this soak exercises.
    SENTINEL_SCHEDULE_BROWSER: '* * * * *',
    SENTINEL_REPORTS_DIR: `${ctx.workDir}/reports-soak`,
  });
  const sampler = sampleTree(monitor.pid, 100, true);
  const record = ctx.measure('soak');
  let stopMs = Number.NaN;
  let metrics = '';
  let warmUpEndMs = 0;
  let stoppedDuringFlow = false;
  try {
    // warm-up: the first browser flow (at start) and a settling period after it
    const firstDone = await pollUntil(() => browserWindows(sampler.samples).some(([, end]) => end < sampler.samples.length - 1), 8 * 60_000, 200);
    if (!firstDone) throw new Error('the first browser flow did not finish in time');
    warmUpEndMs = sampler.samples.at(-1)!.atMs + SETTLE_MS;
    const soakEnd = Date.now() + SETTLE_MS + minutes * 60_000;
    log(`soak: warm-up done; soaking ${minutes} min`);
    while (Date.now() < soakEnd) await delay(Math.min(5_000, Math.max(0, soakEnd - Date.now())));
    metrics = await monitor.metrics();
    // stop while a browser flow runs: the hardest case for leftovers (bounded wait for the next one)
    stoppedDuringFlow = await pollUntil(() => sampler.samples.at(-1)?.browser === true, 75_000, 100);
    // …and once its Chromium runs, so the stop has a browser to take down
    if (stoppedDuringFlow) await pollUntil(() => sampler.samples.at(-1)?.browser === true && [...sampler.chromium.values()].some((p) => stillRunning(p)), 20_000, 100);
  } finally {
    stopMs = await monitor.stop();
    await sampler.stop();
  }
  // every Chromium seen below the monitor must be gone once the monitor has exited (brief grace for reaping)
  const seen = [...sampler.chromium.values()];
  await pollUntil(() => seen.every((p) => !stillRunning(p)), 3_000, 100);
  const left = seen.filter((p) => stillRunning(p));

  const samples = sampler.samples;
  const lastMs = samples.at(-1)?.atMs ?? 0;
  const early = idleLevel(samples, warmUpEndMs, warmUpEndMs + 60_000);
  const late = idleLevel(samples, Math.max(warmUpEndMs, lastMs - 60_000), lastMs + 1);
  // per-minute idle levels after warm-up, each against the first minute
  const perMinute: number[] = [];
  for (let m = 1; m < minutes; m++) perMinute.push(growthPercent(early, idleLevel(samples, warmUpEndMs + m * 60_000, warmUpEndMs + (m + 1) * 60_000)));
  const overlapSamples = samples.filter((s) => s.browserRunners > 1).length;
  const windows = browserWindows(samples);
  const flowPeaks = windows.map(([a, b]) => Math.max(...samples.slice(a, b + 1).map((s) => s.treeUniqueKb)) / MB);
  const counter = (check: string, status: string) => metricValue(metrics, 'sentinel_check_results_total', { check, status }) ?? 0;
  const skippedOverlap = (group: string) => metricValue(metrics, 'sentinel_runs_skipped_total', { group, reason: 'overlap' }) ?? 0;
  const browserBusy = metricValue(metrics, 'sentinel_runs_skipped_total', { group: 'browser', reason: 'browser_busy' }) ?? 0;
  const results = ['tls', 'app-health', 'oidc-discovery', 'login-v2-redirect', 'db', 'e2e-login', 'e2e-admin-crud', 'e2e-sign-out'].map((c) => `${c} ${counter(c, 'passed')}/${counter(c, 'passed') + counter(c, 'failed') + counter(c, 'flaky')}`);

  record({
    id: 'rss-growth',
    unit: '%',
    values: perMinute.length ? perMinute : [growthPercent(early, late)],
    judgeValue: growthPercent(early, late),
    goal: GOALS.soakGrowth,
    note: `monitor VmRSS, idle median of the first minute after warm-up (${early.toFixed(1)} MB) vs the last minute (${late.toFixed(1)} MB); values: each later minute vs the first; verdict: last vs first`,
  });
  record({ id: 'idle-rss-first-minute', unit: 'MB', values: [early] });
  record({ id: 'idle-rss-last-minute', unit: 'MB', values: [late] });
  record({
    id: 'overlapping-browser-runs',
    unit: 'count',
    values: [overlapSamples],
    goal: GOALS.zero,
    note: `samples with more than one browser runner below the monitor; monitor counters: runs_skipped{overlap} probes ${skippedOverlap('probes')}, browser ${skippedOverlap('browser')}; browser_busy ${browserBusy} (skips are the guard working, not overlaps)`,
  });
  record({ id: 'chromium-left', unit: 'count', values: [left.length], goal: GOALS.zero, note: `${seen.length} Chromium processes seen below the monitor; SIGTERM sent ${stoppedDuringFlow ? 'during' : 'outside'} a browser flow` });
  record({ id: 'stop', unit: 'ms', values: [stopMs], goal: { op: 'le', limit: 10_000, text: 'SIGTERM to exit within 10 s' } });
  record({ id: 'flow-peak-tree', unit: 'MB', values: flowPeaks, goal: GOALS.peakMb, note: `per browser flow during the soak (private pages plus each shared mapping once); results passed/run: ${results.join(', ')}` });
  log(`soak: ${results.join(', ')}`);
  return { status: 'ok', details: { minutes, browserFlows: windows.length, results, skippedOverlapProbes: skippedOverlap('probes'), skippedOverlapBrowser: skippedOverlap('browser'), browserBusy } };
}
