/**
 * `sentinel monitor` as its own process on the stack (`node bin/sentinel.mjs monitor --listen
 * 127.0.0.1:0`, the port read from its log line), and a sampler of its process tree every ~100 ms:
 * monitor RSS, tree RSS and PSS, whether a browser run is in progress, every Chromium PID seen.
 */
import { REPO_ROOT } from '../runner/embedded-stack.ts';
import { childEnv } from './context.ts';
import { descendantsOf, isChromium, type ProcInfo } from '../runner/monitor/test-support/proc.ts';
import { footprintKb, pssKb, rssKb } from './proc.ts';
import { getText, spawnWatched, stopChild, type Spawned } from './tools.ts';

export interface MonitorProcess {
  url: string;
  pid: number;
  spawned: Spawned;
  metrics(): Promise<string>;
  /** SIGTERM by PID; resolves with the time the exit took (ms) */
  stop(): Promise<number>;
}

export async function startMonitorProcess(sentinelEnv: Record<string, string>, extra: Record<string, string>): Promise<MonitorProcess> {
  const spawned = spawnWatched(process.execPath, ['bin/sentinel.mjs', 'monitor', '--listen', '127.0.0.1:0'], { cwd: REPO_ROOT, env: childEnv({ ...sentinelEnv, ...extra }) });
  let url: string;
  try {
    url = (await spawned.waitForLine(/listening on (http:\/\/\S+?);/, 60_000))[1]!;
  } catch (error) {
    await stopChild(spawned.child, 5_000);
    throw error;
  }
  return {
    url,
    pid: spawned.child.pid!,
    spawned,
    metrics: async () => (await getText(`${url}/metrics`, 5_000)).body,
    stop: () => stopChild(spawned.child, 15_000),
  };
}

export interface TreeSample {
  atMs: number;
  /** the monitor process alone */
  ownKb: number;
  /** sum over the monitor and every descendant */
  treeRssKb: number;
  treePssKb: number;
  /** what the tree takes by itself: private pages plus each shared mapping once (proc.ts footprintKb) */
  treeUniqueKb: number;
  /** a browser run is in progress (the monitor has descendants other than tsx's esbuild service) */
  browser: boolean;
  /** browser-child.ts processes at this instant (more than one = overlapping browser runs) */
  browserRunners: number;
}

export interface Sampler {
  samples: TreeSample[];
  /** every Chromium process seen below the monitor (pid + start time, to check after stop) */
  chromium: Map<string, ProcInfo>;
  stop(): Promise<void>;
}

const isBuild = (p: ProcInfo) => /bin\/build\.mjs|esbuild/.test(p.command);

/** Samples the tree every `intervalMs` until stopped (one timer, never overlapping itself). */
export function sampleTree(rootPid: number, intervalMs = 100, withPss = true): Sampler {
  const samples: TreeSample[] = [];
  const chromium = new Map<string, ProcInfo>();
  let stopped = false;
  const started = Date.now();
  const tick = () => {
    const descendants = descendantsOf(rootPid);
    const pids = [rootPid, ...descendants.map((p) => p.pid)];
    const ownKb = rssKb(rootPid);
    if (ownKb === 0) return; // the monitor is gone
    let treeRssKb = 0;
    let treePssKb = 0;
    for (const pid of pids) {
      treeRssKb += rssKb(pid);
      if (withPss) treePssKb += pssKb(pid);
    }
    let runners = 0;
    for (const p of descendants) {
      if (isChromium(p)) chromium.set(`${p.pid}:${p.startTime}`, p);
      if (p.ppid === rootPid && /(^|\/)node$/.test(p.command.split(' ')[0]!) && !isBuild(p)) runners++;
    }
    // a stale bundle is rebuilt by a child at start (bin/build.mjs, esbuild): that is not a browser run
    const browser = descendants.some((p) => !isBuild(p));
    const treeUniqueKb = withPss && browser ? footprintKb(pids) : 0;
    samples.push({ atMs: Date.now() - started, ownKb, treeRssKb, treePssKb, treeUniqueKb, browser, browserRunners: runners });
  };
  const loop = (async () => {
    while (!stopped) {
      const t = Date.now();
      try {
        tick();
      } catch {
        // a process vanished mid-read: the next tick sees the new state
      }
      await new Promise((r) => setTimeout(r, Math.max(0, intervalMs - (Date.now() - t))));
    }
  })();
  return {
    samples,
    chromium,
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}

/** Browser runs as [start, end] sample indices: maximal stretches of samples with a browser in progress. */
export function browserWindows(samples: readonly TreeSample[]): Array<[number, number]> {
  const windows: Array<[number, number]> = [];
  let start: number | undefined;
  samples.forEach((s, i) => {
    if (s.browser && start === undefined) start = i;
    if (!s.browser && start !== undefined) {
      windows.push([start, i - 1]);
      start = undefined;
    }
  });
  if (start !== undefined) windows.push([start, samples.length - 1]);
  return windows;
}
