/** Console reporter: a live line per finished check, then an aligned table and the totals. */
import { verdictOf, type CheckResult, type RunSummary } from '../../core/result.ts';
import { STATUS_MARK, explanation, formatDuration } from './format.ts';
import type { Reporter, WriteLine } from './types.ts';

export function liveLine(result: CheckResult): string {
  const why = explanation(result);
  const duration = result.status === 'skipped' ? 'skipped' : formatDuration(result.durationMs);
  return `${STATUS_MARK[result.status]} ${result.id}  ${duration}${why ? `  ${why}` : ''}`;
}

export function summaryTable(summary: RunSummary): string[] {
  const rows = summary.checks.map((c) => [c.status, c.id, c.status === 'skipped' ? '' : formatDuration(c.durationMs), explanation(c)]);
  const header = ['status', 'check', 'duration', 'reason'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd();
  const { passed, failed, flaky, skipped } = summary.totals;
  const verdict = { failed: 'FAILED', passed: 'PASSED', nothing_ran: 'NOTHING RAN' }[verdictOf(summary.totals)];
  return [
    '',
    line(header),
    ...rows.map(line),
    '',
    `${verdict}: ${passed} passed, ${failed} failed, ${flaky} flaky, ${skipped} skipped (skipped checks are not passes) in ${formatDuration(summary.durationMs)}; target ${summary.target}`,
  ];
}

export function consoleReporter(write: WriteLine): Reporter {
  return {
    onCheck(result) {
      write(liveLine(result));
    },
    onEnd(summary) {
      for (const line of summaryTable(summary)) write(line);
    },
  };
}
