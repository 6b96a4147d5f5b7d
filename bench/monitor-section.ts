/**
 * `monitor`: the monitor's footprint and its `/metrics` under load, over `runs` monitor lifetimes.
 * Each lifetime: start `sentinel monitor` on the stack (its browser group runs once at start; the
 * schedule is set so it does not fire again during the lifetime), sample the process tree every
 * ~100 ms through that browser flow (peak), let it settle, read the idle RSS, then load `/metrics` of
 * the monitor and of blackbox_exporter alike (wrk, 50 connections, 10 s), alternating which goes first.
 * When the packaged Chromium is installed, each lifetime is followed by one whose browser flow runs on
 * it (SENTINEL_BROWSER=packaged): its peak beside the default browser's (on a Debian machine the
 * headless shell) says which build to prefer.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { chooseBrowser } from '../core/browser.ts';
import { findPackagedChromium } from '../core/packaged-chromium.ts';
import { GOALS, type BenchContext, type SectionStatus } from './context.ts';
import { runLoad } from './load.ts';
import { browserWindows, sampleTree, startMonitorProcess, type Sampler } from './monitor-process.ts';
import { rssKb } from './proc.ts';
import { median, metricValue, type WrkResult } from './stats.ts';
import { log, pollUntil } from './tools.ts';

/** Never fires during a bench (January 1st, 00:00): only the run at start happens. */
export const BROWSER_ONLY_AT_START = '0 0 1 1 *';
const FLOW_DEADLINE_MS = 8 * 60_000;
const MB = 1024;

interface FlowPeak {
  rssMb: number;
  pssMb: number;
  uniqueMb: number;
  seconds: number;
}

/** Waits for the monitor's first browser flow to start and end; its peak from the samples. */
async function flowPeak(sampler: Sampler): Promise<FlowPeak> {
  const started = await pollUntil(() => sampler.samples.some((s) => s.browser), 60_000, 100);
  const ended = started && (await pollUntil(() => browserWindows(sampler.samples).some(([, end]) => end < sampler.samples.length - 1), FLOW_DEADLINE_MS, 200));
  if (!ended) throw new Error('the monitor browser flow did not start and finish in time');
  const [from, to] = browserWindows(sampler.samples)[0]!;
  const window = sampler.samples.slice(from, to + 1);
  return {
    rssMb: Math.max(...window.map((s) => s.treeRssKb)) / MB,
    pssMb: Math.max(...window.map((s) => s.treePssKb)) / MB,
    uniqueMb: Math.max(...window.map((s) => s.treeUniqueKb)) / MB,
    seconds: (window.at(-1)!.atMs - window[0]!.atMs) / 1000,
  };
}

const flowChecks = (metrics: string) =>
  ['e2e-login', 'e2e-admin-crud', 'e2e-sign-out'].map((check) => `${check}=${metricValue(metrics, 'sentinel_check_results_total', { check, status: 'passed' }) ? 'passed' : 'not passed'}`).join(' ');

/** One lifetime whose browser flow runs on the packaged Chromium: its peak only. */
async function packagedFlowPeak(ctx: BenchContext): Promise<{ peak: FlowPeak; checks: string }> {
  // SENTINEL_CHROMIUM of the bench's environment would win over the choice: empty counts as unset
  const monitor = await startMonitorProcess(ctx.sentinelEnv, {
    SENTINEL_SCHEDULE_BROWSER: BROWSER_ONLY_AT_START,
    SENTINEL_REPORTS_DIR: `${ctx.workDir}/reports-monitor-packaged`,
    SENTINEL_BROWSER: 'packaged',
    SENTINEL_CHROMIUM: '',
  });
  const sampler = sampleTree(monitor.pid, 100, true);
  try {
    const peak = await flowPeak(sampler);
    return { peak, checks: flowChecks(await monitor.metrics()) };
  } finally {
    await sampler.stop();
    await monitor.stop();
  }
}

export async function monitorSection(ctx: BenchContext): Promise<SectionStatus> {
  const lifetimes = ctx.options.quick ? 1 : Math.max(3, ctx.options.runs);
  const settleMs = ctx.options.quick ? 5_000 : 15_000;
  const loadSeconds = 10;
  const record = ctx.measure('monitor');
  const idle: number[] = [];
  const peakRss: number[] = [];
  const peakPss: number[] = [];
  const peakUnique: number[] = [];
  const flowSeconds: number[] = [];
  const sentinelLoad: WrkResult[] = [];
  const blackboxLoad: WrkResult[] = [];
  const blackboxIdle: number[] = [];
  const flowResults: string[] = [];
  const packaged = findPackagedChromium();
  const packagedPeaks: FlowPeak[] = [];
  const packagedResults: string[] = [];
  let defaultBrowser: string;
  try {
    defaultBrowser = chooseBrowser({ chromiumPath: process.env.SENTINEL_CHROMIUM || undefined }).description;
  } catch (error) {
    defaultBrowser = (error as Error).message;
  }
  for (let life = 0; life < lifetimes; life++) {
    const monitor = await startMonitorProcess(ctx.sentinelEnv, { SENTINEL_SCHEDULE_BROWSER: BROWSER_ONLY_AT_START, SENTINEL_REPORTS_DIR: `${ctx.workDir}/reports-monitor` });
    const sampler = sampleTree(monitor.pid, 100, true);
    try {
      const peak = await flowPeak(sampler);
      peakRss.push(peak.rssMb);
      peakPss.push(peak.pssMb);
      peakUnique.push(peak.uniqueMb);
      flowSeconds.push(peak.seconds);
      flowResults.push(flowChecks(await monitor.metrics()));
      await delay(settleMs); // warm-up after the flow: a measured settling period, not a wait for readiness
      const idleFrom = sampler.samples.length;
      await delay(5_000);
      const idleSamples = sampler.samples.slice(idleFrom).filter((s) => !s.browser);
      idle.push(median(idleSamples.map((s) => s.ownKb)) / MB);
      if (ctx.blackbox) blackboxIdle.push(rssKb(ctx.blackbox.pid) / MB);
      const targets = [
        { side: 'sentinel', url: `${monitor.url}/metrics`, out: sentinelLoad },
        ...(ctx.blackbox ? [{ side: 'blackbox', url: `${ctx.blackbox.url}/metrics`, out: blackboxLoad }] : []),
      ];
      if (life % 2 === 1) targets.reverse();
      for (const t of targets) t.out.push(await runLoad(ctx.wrkBin, t.url, { connections: 50, seconds: loadSeconds }));
      log(`monitor lifetime ${life + 1}: peak tree ${peakRss.at(-1)!.toFixed(0)} MB RSS, idle ${idle.at(-1)!.toFixed(1)} MB, ${flowResults.at(-1)}`);
    } finally {
      await sampler.stop();
      await monitor.stop();
    }
    if (packaged) {
      const flow = await packagedFlowPeak(ctx);
      packagedPeaks.push(flow.peak);
      packagedResults.push(flow.checks);
      log(`monitor lifetime ${life + 1}, packaged Chromium: peak tree ${flow.peak.rssMb.toFixed(0)} MB RSS (own memory ${flow.peak.uniqueMb.toFixed(0)} MB), ${flow.checks}`);
    }
  }
  const tool = ctx.wrkBin ? 'wrk -t2 -c50 -d10s --latency' : 'Node load generator (wrk missing), 50 connections, 10 s';
  record({ id: 'idle-rss', unit: 'MB', values: idle, goal: GOALS.idleRssMb, note: `VmRSS of the monitor process, median over 5 s, ${settleMs / 1000} s after its first browser flow` });
  record({ id: 'peak-tree', unit: 'MB', values: peakUnique, goal: GOALS.peakMb, note: `max over the flow of the memory monitor + browser child + Playwright + Chromium take by themselves: private pages plus each shared mapping once; browser: ${defaultBrowser}` });
  if (packaged) {
    record({
      id: 'peak-tree-packaged',
      unit: 'MB',
      values: packagedPeaks.map((p) => p.uniqueMb),
      goal: GOALS.peakMb,
      note: `same flow on the packaged Chromium (@sparticuz/chromium@${packaged.version}, SENTINEL_BROWSER=packaged), beside peak-tree; ${packagedResults.join('; ')}`,
    });
    record({ id: 'peak-tree-rss-packaged', unit: 'MB', values: packagedPeaks.map((p) => p.rssMb), note: 'same, VmRSS summed' });
    record({ id: 'browser-flow-packaged', unit: 's', values: packagedPeaks.map((p) => p.seconds), note: 'the browser flow on the packaged Chromium' });
  }
  record({ id: 'peak-tree-rss', unit: 'MB', values: peakRss, note: 'same, VmRSS summed: a shared page counts once per process that maps it (the Node binary 4×, Chromium\'s 7×)' });
  record({ id: 'peak-tree-pss', unit: 'MB', values: peakPss, note: 'same, proportional set size: shared pages split, also with processes outside the tree' });
  record({ id: 'browser-flow', unit: 's', values: flowSeconds, note: `e2e-login, e2e-admin-crud, e2e-sign-out in the browser child; ${flowResults.join('; ')}` });
  if (blackboxIdle.length) record({ id: 'blackbox-idle-rss', unit: 'MB', values: blackboxIdle, note: 'blackbox_exporter VmRSS, for reference' });
  const loadFigures = (side: string, results: WrkResult[]) => {
    if (results.length === 0) return;
    record({ id: `metrics-${side}-p50`, unit: 'ms', values: results.map((r) => r.p50Ms), note: tool });
    record({ id: `metrics-${side}-p99`, unit: 'ms', values: results.map((r) => r.p99Ms), note: tool });
    record({ id: `metrics-${side}-rps`, unit: 'req/s', values: results.map((r) => r.requestsPerSecond) });
    record({ id: `metrics-${side}-errors`, unit: 'count', values: results.map((r) => r.errors), goal: GOALS.zero, note: results.map((r) => r.errorKinds || 'none').join('; ') });
  };
  loadFigures('sentinel', sentinelLoad);
  loadFigures('blackbox', blackboxLoad);
  if (sentinelLoad.length && blackboxLoad.length) {
    record({ id: 'metrics-p99-ratio', unit: 'ratio', values: sentinelLoad.map((r, i) => r.p99Ms / blackboxLoad[i]!.p99Ms), goal: GOALS.p99Ratio, note: 'sentinel p99 / blackbox_exporter p99 in the same lifetime' });
    record({ id: 'metrics-rps-ratio', unit: 'ratio', values: sentinelLoad.map((r, i) => r.requestsPerSecond / blackboxLoad[i]!.requestsPerSecond), goal: GOALS.rpsRatio, note: 'sentinel req/s / blackbox_exporter req/s in the same lifetime' });
  }
  return { status: 'ok', details: { lifetimes, flowResults, defaultBrowser, ...(packaged ? { packagedResults } : {}) } };
}
