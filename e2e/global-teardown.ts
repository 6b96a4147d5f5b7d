/**
 * After every run, however it was started: scrub the reports folder (traces, screenshots' sidecars,
 * error contexts; e2e/support/redaction.ts) and delete the stored browser state and recorded secrets
 * in e2e/.auth. The stored sessions were signed out by the setup's teardown project
 * (e2e/auth.teardown.ts). e2e/reporter.ts scrubs once more at exit, after the HTML report exists.
 */
import { rm } from 'node:fs/promises';
import { AUTH_DIR, RUNNER_STATE_DIR, loadSentinelConfig } from './support/suite-config.ts';
import { scrubRunReports } from './support/redaction.ts';

export default async function globalTeardown(): Promise<void> {
  await scrubRunReports(loadSentinelConfig());
  // A runner-owned state folder is deleted by the runner once Playwright has exited: it still reads
  // the sign-in record, the stored sessions left and the scrub outcomes from it.
  if (!RUNNER_STATE_DIR) await rm(AUTH_DIR, { recursive: true, force: true });
}
