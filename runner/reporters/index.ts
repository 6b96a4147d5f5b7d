/** The closed set of reporters a run writes to, and a fan-out that redacts before any of them sees a result. */
import type { Redactor } from '../../core/redact.ts';
import { claimReportsDir } from '../../core/reports-dir.ts';
import type { CheckResult, RunSummary } from '../../core/result.ts';
import { consoleReporter } from './console.ts';
import { junitReporter } from './junit.ts';
import { markdownReporter } from './markdown.ts';
import { summaryJsonReporter } from './summary-json.ts';
import type { Reporter, WriteLine } from './types.ts';

export type { Reporter, WriteLine } from './types.ts';

export interface StandardReportersOptions {
  reportsDir: string;
  write: WriteLine;
  /** $GITHUB_STEP_SUMMARY */
  stepSummaryPath?: string;
}

/** Refuses (exit 2) a reports folder sentinel did not create and that is not empty (core/reports-dir.ts). */
export async function createStandardReporters(options: StandardReportersOptions): Promise<Reporter[]> {
  claimReportsDir(options.reportsDir);
  return [
    consoleReporter(options.write),
    summaryJsonReporter(options.reportsDir),
    junitReporter(options.reportsDir),
    markdownReporter(options.reportsDir, options.stepSummaryPath),
  ];
}

/** One reporter that redacts every result and summary, then hands them to all the others in order. */
export function redactingFanOut(reporters: readonly Reporter[], redact: Redactor): Reporter {
  return {
    async onCheck(result: CheckResult) {
      const clean = redact.deep(result);
      for (const reporter of reporters) await reporter.onCheck(clean);
    },
    async onEnd(summary: RunSummary) {
      const clean = redact.deep(summary);
      for (const reporter of reporters) await reporter.onEnd(clean);
    },
  };
}
