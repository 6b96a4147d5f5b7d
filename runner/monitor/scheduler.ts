/**
 * The scheduler: one node-cron task per check group, each group once
 * at start, no overlap (node-cron's `noOverlap` plus our own guard, which also covers the start run that
 * node-cron does not see), and one browser lane shared by everything that starts Chromium. A group run
 * that throws is logged and forgotten; the scheduler keeps going.
 */
import { setMaxListeners } from 'node:events';
import { createTask, type ScheduledTask } from 'node-cron';
import type { GroupName, SkipReason } from '../metrics.ts';

export interface GroupDefinition {
  name: GroupName;
  schedule: string;
  /** Runs the group; the signal aborts at shutdown. May throw: the scheduler catches it. */
  run(signal: AbortSignal): Promise<void>;
}

export interface SchedulerHooks {
  onSkip?(group: GroupName, reason: SkipReason): void;
  onRunning?(group: GroupName, running: boolean): void;
  log?(line: string): void;
}

export interface Scheduler {
  /** Runs every group once now and starts the cron tasks. */
  start(): void;
  /** Runs a group now unless it is already running (then counts an overlap skip). */
  trigger(name: GroupName): Promise<void>;
  /** Runs ad-hoc work (a post-deploy run) under the same overlap guard, tracking and shutdown. */
  runTracked(name: GroupName, work: (signal: AbortSignal) => Promise<void>): Promise<void>;
  /** Stops the tasks, aborts running work and waits for it at most `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** Resolves when the start run of every group has finished. */
  firstCycle(): Promise<void>;
  alive(): boolean;
  running(name: GroupName): boolean;
  readonly signal: AbortSignal;
}

/** Gaps between the coming runs of a cron expression, in seconds: the usual one and the longest. */
export interface CronGaps {
  /** the median gap: what "every N" means for this schedule */
  typical: number;
  /** the longest gap within the next eight days (a weekday-only schedule: the weekend) */
  longest: number;
}

/** Eight days cover every weekday pattern; the run cap keeps a schedule in seconds cheap (it is uniform anyway). */
const GAP_HORIZON_MS = 8 * 86_400_000;
const GAP_MAX_RUNS = 2_000;

export function cronGaps(expression: string): CronGaps {
  const probe = createTask(expression, () => undefined, { name: `gaps:${expression}` });
  try {
    const horizon = Date.now() + GAP_HORIZON_MS;
    const runs: number[] = [];
    // getNextRuns walks from now; ask for more until the horizon or the cap is reached.
    for (let want = 64; ; want = Math.min(want * 4, GAP_MAX_RUNS)) {
      runs.splice(0, runs.length, ...probe.getNextRuns(want).map((d) => d.getTime()));
      if (runs.length < want || runs.at(-1)! >= horizon || want === GAP_MAX_RUNS) break;
    }
    const gaps = runs.slice(1).map((t, i) => Math.round((t - runs[i]!) / 1000)).sort((a, b) => a - b);
    if (gaps.length === 0) return { typical: 0, longest: 0 };
    return { typical: gaps[Math.floor(gaps.length / 2)]!, longest: gaps.at(-1)! };
  } finally {
    void probe.destroy();
  }
}

/** The next time a cron expression fires after `now`, as an ISO time (UTC). */
export function nextRun(expression: string, now: Date = new Date()): string {
  const probe = createTask(expression, () => undefined, { name: `next:${expression}` });
  try {
    const next = probe.getNextRuns(1)[0];
    return next ? new Date(Math.max(next.getTime(), now.getTime())).toISOString().replace(/\.\d+Z$/, 'Z') : 'never';
  } finally {
    void probe.destroy();
  }
}

/**
 * Every running check listens on the shutdown signal until it ends: ten probes, the sign-in probe, a browser
 * flow and a post-deploy run can all be running. Node warns of a leak past 10 listeners; a real leak (listeners
 * never removed) would still pass this bound within a few cycles.
 */
const SHUTDOWN_LISTENERS_MAX = 64;

export function createScheduler(groups: readonly GroupDefinition[], hooks: SchedulerHooks = {}): Scheduler {
  const controller = new AbortController();
  setMaxListeners(SHUTDOWN_LISTENERS_MAX, controller.signal);
  const log = hooks.log ?? (() => undefined);
  const inFlight = new Map<GroupName, Promise<void>>();
  const tasks: ScheduledTask[] = [];
  let started = false;
  let firstRuns: Promise<void> | undefined;
  let stopped = false;
  const byName = new Map(groups.map((g) => [g.name, g]));

  const runTracked = (name: GroupName, work: (signal: AbortSignal) => Promise<void>): Promise<void> => {
    if (stopped) {
      hooks.onSkip?.(name, 'shutting_down');
      return Promise.resolve();
    }
    const current = inFlight.get(name);
    if (current) {
      hooks.onSkip?.(name, 'overlap');
      return current;
    }
    hooks.onRunning?.(name, true);
    const run = (async () => {
      try {
        await work(controller.signal);
      } catch (error) {
        log(`group ${name} failed: ${error instanceof Error ? error.message : String(error)}`);
      } finally {
        inFlight.delete(name);
        hooks.onRunning?.(name, false);
      }
    })();
    inFlight.set(name, run);
    return run;
  };

  const trigger = (name: GroupName): Promise<void> => {
    const group = byName.get(name);
    return group ? runTracked(name, (signal) => group.run(signal)) : Promise.resolve();
  };

  return {
    signal: controller.signal,
    start() {
      if (started) return;
      started = true;
      for (const group of groups) {
        const task = createTask(group.schedule, () => trigger(group.name), {
          name: `sentinel:${group.name}`,
          noOverlap: true,
          logger: { info: () => undefined, debug: () => undefined, warn: (m) => log(`cron ${group.name}: ${m}`), error: (m) => log(`cron ${group.name}: ${m instanceof Error ? m.message : m}`) },
        });
        // node-cron's own overlap guard fires before our task function runs: count it too.
        task.on('execution:overlap', () => hooks.onSkip?.(group.name, 'overlap'));
        task.on('execution:missed', () => log(`cron ${group.name}: missed a tick (event loop busy)`));
        tasks.push(task);
      }
      firstRuns = Promise.all(groups.map((group) => trigger(group.name))).then(() => undefined);
      for (const task of tasks) void task.start();
    },
    trigger,
    runTracked,
    async stop(graceMs = 5_000) {
      if (stopped) return;
      stopped = true;
      await Promise.all(tasks.map((t) => t.destroy()));
      controller.abort(new DOMException('monitor shutting down', 'AbortError'));
      const pending = [...inFlight.values()];
      if (pending.length === 0) return;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.allSettled(pending), new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
      clearTimeout(timer);
    },
    firstCycle: () => firstRuns ?? Promise.resolve(),
    alive: () => started && !stopped,
    running: (name) => inFlight.has(name),
  };
}

/** One holder at a time, in order of arrival: a browser flow, or the sign-in probe (which must not run during one). */
export interface Lane {
  acquire(signal: AbortSignal): Promise<() => void>;
  /** Someone holds the lane now. */
  held(): boolean;
}

export function createLane(): Lane {
  let held = false;
  const waiters: Array<() => void> = [];
  const release = () => {
    const next = waiters.shift();
    if (next) next();
    else held = false;
  };
  const once = () => {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      release();
    };
  };
  return {
    held: () => held,
    acquire(signal) {
      if (!held) {
        held = true;
        return Promise.resolve(once());
      }
      return new Promise((resolve, reject) => {
        const waiter = () => {
          signal.removeEventListener('abort', onAbort);
          resolve(once());
        };
        const onAbort = () => {
          const index = waiters.indexOf(waiter);
          if (index >= 0) waiters.splice(index, 1);
          reject(signal.reason);
        };
        if (signal.aborted) return reject(signal.reason);
        signal.addEventListener('abort', onAbort, { once: true });
        waiters.push(waiter);
      });
    },
  };
}
