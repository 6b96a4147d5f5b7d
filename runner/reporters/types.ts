/** The reporter lifecycle: one interface, built from a closed list in index.ts. */
import type { CheckResult, RunSummary } from '../../core/result.ts';

export interface Reporter {
  /** A check finished (or was skipped). The result is already redacted. */
  onCheck(result: CheckResult): void | Promise<void>;
  /** The run is over. The summary is already redacted. */
  onEnd(summary: RunSummary): void | Promise<void>;
}

/** Where a reporter writes lines a person reads (stdout in the CLI, a buffer in tests). */
export type WriteLine = (line: string) => void;
