/** `summary.md` — a Markdown table for a CI job page; appended to $GITHUB_STEP_SUMMARY when set. */
import { appendFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { verdictOf, type RunSummary } from '../../core/result.ts';
import { STATUS_MARK, explanation, formatDuration } from './format.ts';
import type { Reporter } from './types.ts';

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/[\r\n]+/g, ' ').replace(/`/g, "'");

export function markdownDocument(summary: RunSummary): string {
  const { passed, failed, flaky, skipped } = summary.totals;
  const verdict = { failed: '✘ failed', passed: '✔ passed', nothing_ran: '- nothing ran: no check was verified' }[verdictOf(summary.totals)];
  return [
    `## gadgetbot-sentinel ${cell(summary.mode)}: ${verdict}`,
    '',
    `Target \`${cell(summary.target)}\` · started ${summary.startedAt} · ${formatDuration(summary.durationMs)} · ${passed} passed, ${failed} failed, ${flaky} flaky, ${skipped} skipped`,
    '',
    '| status | check | duration | reason |',
    '|---|---|---:|---|',
    ...summary.checks.map(
      (c) => `| ${STATUS_MARK[c.status]} ${c.status} | \`${c.id}\` | ${c.status === 'skipped' ? '' : formatDuration(c.durationMs)} | ${cell(explanation(c))} |`,
    ),
    '',
  ].join('\n');
}

export function markdownReporter(reportsDir: string, stepSummaryPath?: string): Reporter {
  return {
    onCheck() {},
    async onEnd(summary) {
      const doc = markdownDocument(summary);
      await writeFile(join(reportsDir, 'summary.md'), doc);
      if (stepSummaryPath) await appendFile(stepSummaryPath, `${doc}\n`);
    },
  };
}
