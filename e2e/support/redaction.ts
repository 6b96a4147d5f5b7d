/**
 * The redactor for this run: configured secrets plus every secret recorded at run time, in all the
 * forms they take in artifacts. Recorded values are kept in process memory too, because the global
 * teardown deletes e2e/.auth before the reporters finish (the HTML report is written last).
 *
 * And the Playwright side's scrub of its reports folder (the global teardown; the reporter at exit,
 * after the HTML report): when any secret went unrecorded the browser artifacts are dropped rather
 * than kept unproven, the rest is scrubbed, both are said on stderr and left in the run's state
 * folder for the runner's summary (core/run-state.ts).
 */
import { appendFileSync } from 'node:fs';
import { collectSecrets, type Config } from '../../core/config.ts';
import { createRedactor, type Redactor } from '../../core/redact.ts';
import { stateFile } from '../../core/run-state.ts';
import { dropBrowserArtifacts, scrubReports, secretVariants, type ScrubReport } from '../../core/scrub.ts';
import { AUTH_DIR, RUNNER_STATE_DIR, reportsDirOf } from './suite-config.ts';
import { readRecordedSecrets, readRecorderFailures } from './secrets.ts';

const STASH = Symbol.for('gadgetbot-sentinel.e2e.recordedSecrets');
type Stash = { [STASH]?: Set<string> };

/** Why the record of secrets could not be read, if it could not: the redactor then misses them. */
let unreadableRecord: string | undefined;

export function rememberRecordedSecrets(): string[] {
  const holder = globalThis as Stash;
  holder[STASH] ??= new Set<string>();
  try {
    for (const value of readRecordedSecrets()) holder[STASH].add(value);
  } catch (error) {
    unreadableRecord = `the recorded secrets cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
  }
  return [...holder[STASH]];
}

export function runRedactor(config: Config): Redactor {
  return createRedactor(secretVariants([...collectSecrets(config), ...rememberRecordedSecrets()]));
}

/**
 * Scrubs this run's reports folder. `unrecorded`: why tests' secrets were not all recorded (their
 * annotations, known to the reporter); the record of failures in the state folder is read as well.
 */
export async function scrubRunReports(config: Config, unrecorded: readonly string[] = []): Promise<ScrubReport> {
  const reportsDir = reportsDirOf(config);
  const redactor = runRedactor(config);
  const problems = [...new Set([...unrecorded, ...readRecorderFailures(), ...(unreadableRecord ? [unreadableRecord] : [])])];
  const report: ScrubReport = { filesRewritten: 0, filesReplaced: [] };
  if (problems.length > 0) {
    const dropped = await dropBrowserArtifacts(reportsDir);
    report.artifactsDropped = redactor(`the session-token recorder failed, so traces, screenshots and the HTML report were removed (${problems.join('; ')})`);
    if (dropped.length) process.stderr.write(`sentinel: ${report.artifactsDropped}\n`);
  }
  const summary = await scrubReports(reportsDir, redactor);
  report.filesRewritten = summary.filesRewritten;
  report.filesReplaced = summary.filesReplaced;
  if (summary.filesReplaced.length) process.stderr.write(`sentinel: replaced ${summary.filesReplaced.length} report file(s) that could not be scrubbed of secrets: ${summary.filesReplaced.join(', ')}\n`);
  if (RUNNER_STATE_DIR) appendFileSync(stateFile(AUTH_DIR, 'scrubLog'), `${JSON.stringify(report)}\n`);
  return report;
}
