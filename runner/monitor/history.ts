/**
 * Short in-memory history per check: the last N results, and failures kept longer
 * (the last M of them) so a recovered check still shows why it failed. Nothing is persisted: a restart
 * starts empty, which the staleness metrics make visible.
 */
import { countsAsFailed, countsAsPassed, type CheckId, type CheckResult } from '../../core/result.ts';

export interface HistoryEntry {
  result: CheckResult;
  /** epoch ms the run finished (recorded by the monitor, not the check) */
  finishedAtMs: number;
}

export interface CheckHistory {
  record(result: CheckResult, finishedAtMs?: number): void;
  /** newest last */
  recent(id: CheckId): readonly HistoryEntry[];
  /** newest last; failures survive longer than `recent` keeps them */
  failures(id: CheckId): readonly HistoryEntry[];
  last(id: CheckId): HistoryEntry | undefined;
  lastSuccess(id: CheckId): HistoryEntry | undefined;
}

export interface HistoryOptions {
  /** results kept per check; default 20 */
  limit?: number;
  /** failed results kept per check; default 50 */
  failureLimit?: number;
}

export function createHistory(options: HistoryOptions = {}): CheckHistory {
  const limit = Math.max(1, options.limit ?? 20);
  const failureLimit = Math.max(1, options.failureLimit ?? 50);
  const recent = new Map<CheckId, HistoryEntry[]>();
  const failures = new Map<CheckId, HistoryEntry[]>();
  const successes = new Map<CheckId, HistoryEntry>();

  const push = (map: Map<CheckId, HistoryEntry[]>, id: CheckId, entry: HistoryEntry, max: number) => {
    const list = map.get(id) ?? [];
    list.push(entry);
    if (list.length > max) list.splice(0, list.length - max);
    map.set(id, list);
  };

  return {
    record(result, finishedAtMs = Date.now()) {
      const entry: HistoryEntry = { result, finishedAtMs };
      push(recent, result.id, entry, limit);
      if (countsAsFailed(result.status)) push(failures, result.id, entry, failureLimit);
      if (countsAsPassed(result.status)) successes.set(result.id, entry);
    },
    recent: (id) => recent.get(id) ?? [],
    failures: (id) => failures.get(id) ?? [],
    last: (id) => recent.get(id)?.at(-1),
    lastSuccess: (id) => successes.get(id),
  };
}
