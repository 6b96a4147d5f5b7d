/**
 * Teardown project of `setup` (playwright.config.ts): runs once every spec that used the stored
 * sign-ins has finished, pass or fail, and signs each stored session out (core/sign-out.ts), then
 * deletes its stored state; sessions a test left open (e2e/test.ts `sessionCloser`) are retried too.
 * A session that cannot be ended fails this teardown, which leaves the specs' results as they were;
 * its state stays for the runner, which tries once more and reports it (runner/playwright.ts).
 */
import { test } from '@playwright/test';
import { endStoredSessions } from '../core/sign-out.ts';
import { AUTH_DIR, loadSentinelConfig } from './support/suite-config.ts';

test('teardown: sign out the stored sessions', async () => {
  const config = loadSentinelConfig();
  const outcomes = await endStoredSessions(AUTH_DIR, { appUrl: config.appUrl, timeoutMs: config.timeouts.actionMs });
  const left = outcomes.filter((outcome) => !outcome.ended);
  if (left.length > 0) throw new Error(`sessions not ended: ${left.map((outcome) => `${outcome.who}: ${outcome.why}`).join('; ')}`);
});
