/** `summary.json`: the run summary (core/result.ts), with `scrub` and `sessions` when browser checks ran (runner/cleanup.ts). */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunSummary } from '../../core/result.ts';
import type { Reporter } from './types.ts';

export function summaryDocument(summary: RunSummary) {
  return {
    mode: summary.mode,
    target: summary.target,
    startedAt: summary.startedAt,
    durationMs: summary.durationMs,
    checks: summary.checks.map((c) => ({
      id: c.id,
      kind: c.kind,
      status: c.status,
      durationMs: c.durationMs,
      ...(c.reason ? { reason: c.reason } : {}),
      ...(c.message ? { message: c.message } : {}),
      ...(c.warnings?.length ? { warnings: c.warnings } : {}),
      ...(c.assertions?.length ? { assertions: c.assertions } : {}),
      ...(c.observations ? { observations: c.observations } : {}),
      ...(c.artifacts?.length ? { artifacts: c.artifacts } : {}),
    })),
    totals: summary.totals,
    ...(summary.scrub ? { scrub: summary.scrub } : {}),
    ...(summary.sessions ? { sessions: summary.sessions } : {}),
  };
}

export function summaryJsonReporter(reportsDir: string): Reporter {
  return {
    onCheck() {},
    async onEnd(summary) {
      await writeFile(join(reportsDir, 'summary.json'), `${JSON.stringify(summaryDocument(summary), null, 2)}\n`);
    },
  };
}
