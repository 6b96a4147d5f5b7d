/**
 * One group run of the monitor: probes in-process, browser flows through the injected child-process
 * runner. Every check has a deadline of its own here as well, so a runner that ignores its deadline
 * (or throws) still yields a failed result on time and never stalls the scheduler.
 */
import type { Config } from '../../core/config.ts';
import type { BrowserCheckId, CheckResult, ProbeCheckId } from '../../core/result.ts';
import type { BrowserRunCleanup } from '../cleanup.ts';
import { probeBoundMs } from '../../probes/probe-deadline.ts';

export type RunProbeFn = (id: ProbeCheckId, config: Config, options: { timeoutMs?: number }) => Promise<CheckResult>;

export interface RunBrowserOptions {
  checks: readonly BrowserCheckId[];
  reportsDir: string;
  signal?: AbortSignal;
  deadlineMs?: number;
  /** Called with how scrubbing went and the sessions left signed in (runner/cleanup.ts). */
  onCleanup?: (cleanup: BrowserRunCleanup) => void;
}
export type RunBrowserFn = (config: Config, env: Record<string, string | undefined>, options: RunBrowserOptions) => Promise<CheckResult[]>;

/** Slack after a runner's own deadline before the monitor gives up on it. */
export const DEADLINE_GRACE_MS = 2_000;
/** How long a shutdown waits for the browser runner to reap its killed child. */
export const SHUTDOWN_REAP_MS = 6_000;

type Settled<T> = { kind: 'value'; value: T } | { kind: 'error'; error: unknown } | { kind: 'deadline' } | { kind: 'aborted' };

/** Races work against a deadline and an abort signal; never rejects. */
export async function settle<T>(work: () => Promise<T>, deadlineMs: number, signal: AbortSignal): Promise<Settled<T>> {
  if (signal.aborted) return { kind: 'aborted' };
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const stop = new Promise<Settled<T>>((resolve) => {
    timer = setTimeout(() => resolve({ kind: 'deadline' }), deadlineMs);
    onAbort = () => resolve({ kind: 'aborted' });
    signal.addEventListener('abort', onAbort, { once: true });
  });
  const attempt = (async (): Promise<Settled<T>> => {
    try {
      return { kind: 'value', value: await work() };
    } catch (error) {
      return { kind: 'error', error };
    }
  })();
  try {
    return await Promise.race([attempt, stop]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

function failed(id: ProbeCheckId | BrowserCheckId, kind: 'probe' | 'browser', reason: 'timeout' | 'unexpected', message: string, startedAt: Date): CheckResult {
  return { id, kind, status: 'failed', reason, message, startedAt: startedAt.toISOString(), durationMs: Date.now() - startedAt.getTime() };
}

const errorText = (error: unknown) => (error instanceof Error ? `${error.name}: ${error.message}` : String(error)).split('\n')[0]!.slice(0, 300);

/** Runs one probe with its deadline; undefined when the monitor is shutting down (nothing to record). */
export async function runProbeWithDeadline(id: ProbeCheckId, config: Config, runProbe: RunProbeFn, signal: AbortSignal): Promise<CheckResult | undefined> {
  const timeoutMs = config.timeouts.probeMs;
  const startedAt = new Date();
  const outcome = await settle(() => runProbe(id, config, { timeoutMs }), probeBoundMs(id, timeoutMs) + DEADLINE_GRACE_MS, signal);
  switch (outcome.kind) {
    case 'value':
      return outcome.value;
    case 'error':
      return failed(id, 'probe', 'unexpected', `${id}: the probe threw: ${errorText(outcome.error)}`, startedAt);
    case 'deadline':
      return failed(id, 'probe', 'timeout', `${id}: no result within the deadline of ${timeoutMs} ms`, startedAt);
    default:
      return undefined;
  }
}

export const BROWSER_DEADLINE_MARGIN_MS = 30_000;

/** browserCheckMs per check, one more for the sign-in setup, plus a margin to start and stop Chromium. */
export function browserDeadlineMs(config: Config, checks: readonly BrowserCheckId[], marginMs = BROWSER_DEADLINE_MARGIN_MS): number {
  return config.timeouts.browserCheckMs * (checks.length + 1) + marginMs;
}

/**
 * Runs the browser checks in one child process with one deadline. The runner kills its child (process
 * group) when the signal aborts; the signal aborts at the deadline or at shutdown.
 */
export async function runBrowserWithDeadline(
  checks: readonly BrowserCheckId[],
  config: Config,
  env: Record<string, string | undefined>,
  runBrowser: RunBrowserFn,
  shutdown: AbortSignal,
  options: { reportsDir: string; marginMs?: number; onCleanup?: (cleanup: BrowserRunCleanup) => void },
): Promise<CheckResult[] | undefined> {
  if (checks.length === 0) return [];
  const deadlineMs = browserDeadlineMs(config, checks, options.marginMs);
  const startedAt = new Date();
  const deadline = AbortSignal.timeout(deadlineMs);
  const signal = AbortSignal.any([shutdown, deadline]);
  // The runner is given the deadline and the signal; the extra grace covers one that ignores both.
  const attempt = runBrowser(config, env, { checks, reportsDir: options.reportsDir, signal, deadlineMs, ...(options.onCleanup ? { onCleanup: options.onCleanup } : {}) });
  const outcome = await settle(() => attempt, deadlineMs + DEADLINE_GRACE_MS, shutdown);
  if (outcome.kind === 'aborted' || shutdown.aborted) {
    // The runner kills its child on the signal; wait (briefly) until it has, so no Chromium outlives us.
    await settle(() => attempt, SHUTDOWN_REAP_MS, new AbortController().signal);
    return undefined;
  }
  if (outcome.kind === 'deadline' || (outcome.kind === 'error' && deadline.aborted)) return checks.map((id) => failed(id, 'browser', 'timeout', `${id}: no result within the browser deadline of ${Math.round(deadlineMs / 1000)} s`, startedAt));
  if (outcome.kind === 'error') return checks.map((id) => failed(id, 'browser', 'unexpected', `${id}: the browser run failed: ${errorText(outcome.error)}`, startedAt));
  const byId = new Map(outcome.value.map((r) => [r.id, r]));
  return checks.map(
    (id) =>
      byId.get(id) ??
      (deadline.aborted
        ? failed(id, 'browser', 'timeout', `${id}: no result within the browser deadline of ${Math.round(deadlineMs / 1000)} s`, startedAt)
        : failed(id, 'browser', 'unexpected', `${id}: the browser run reported no result`, startedAt)),
  );
}
