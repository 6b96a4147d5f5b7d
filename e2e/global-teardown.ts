/**
 * After every run, however it was started: scrub the reports folder (traces, screenshots' sidecars,
 * error contexts) and delete the stored browser state and recorded secrets in e2e/.auth.
 * e2e/reporter.ts scrubs once more at exit, after the HTML report exists.
 */
import { rm } from 'node:fs/promises';
import { scrubReports } from '../core/scrub.ts';
import { AUTH_DIR, RUNNER_STATE_DIR, loadSentinelConfig, reportsDirOf } from './support/config.ts';
import { runRedactor } from './support/redaction.ts';

export default async function globalTeardown(): Promise<void> {
  const config = loadSentinelConfig();
  await scrubReports(reportsDirOf(config), runRedactor(config));
  // A runner-owned state folder is deleted by the runner once Playwright has exited: it still reads
  // the sign-in record from it to pace the next run.
  if (!RUNNER_STATE_DIR) await rm(AUTH_DIR, { recursive: true, force: true });
}
