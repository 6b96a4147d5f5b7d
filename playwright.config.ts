/**
 * Playwright configuration of the browser checks (README.md, "What it checks"): everything comes from the
 * suite's one config (core/config.ts via SENTINEL_* variables); nothing target-specific lives here.
 * Projects: `setup` signs the test users in once, `checks` runs the three independent checks on
 * that state, `end-sessions` (the setup's teardown) ends those sessions after them, `disruptive` (the
 * redeploy) runs after the checks so it never overlaps another spec.
 */
import path from 'node:path';
import { defineConfig } from '@playwright/test';
import { browserTrust, launchOptionsFor, resolveBrowser } from './core/browser.ts';
import { claimReportsDir } from './core/reports-dir.ts';
import { AUTH_DIR, loadSentinelConfig, reportsDirOf } from './e2e/support/suite-config.ts';
import { guardAgainstOrphaning } from './e2e/support/orphan-guard.ts';

guardAgainstOrphaning();
const sentinel = loadSentinelConfig();
// The packaged Chromium is unpacked here when it is the one chosen and not unpacked yet (core/browser.ts).
const browser = await resolveBrowser(sentinel);
// sentinel's own folder, never one it did not create (core/reports-dir.ts); a runner has claimed it already
const reportsDir = claimReportsDir(reportsDirOf(sentinel));
// Chromium verifies certificates, trusting its roots plus exactly the configured CA (core/browser.ts).
// The home lives in the run's state folder, deleted with it.
const caCertPath = sentinel.tls.caCertPath ? path.resolve(sentinel.tls.caCertPath) : undefined;
const trust = browserTrust(caCertPath, path.join(AUTH_DIR, 'browser-home'));
// page.request runs in the worker's Node, which reads extra CAs only at start: the workers are
// started after this file is loaded, so they inherit it.
if (caCertPath) process.env.NODE_EXTRA_CA_CERTS = caCertPath;

export default defineConfig({
  testDir: './e2e',
  outputDir: path.join(reportsDir, 'test-results'),
  forbidOnly: true,
  fullyParallel: false,
  workers: 2,
  retries: sentinel.e2eRetries,
  timeout: sentinel.timeouts.browserCheckMs,
  expect: { timeout: sentinel.timeouts.actionMs },
  globalTeardown: './e2e/global-teardown.ts',
  reporter: [
    ['list'],
    ['html', { open: 'never', outputFolder: path.join(reportsDir, 'playwright-report') }],
    ['./e2e/reporter.ts'],
  ],
  use: {
    baseURL: sentinel.appUrl,
    // A certificate the browser refuses fails the flow, as it fails a user's sign-in: never ignored.
    ignoreHTTPSErrors: false,
    actionTimeout: sentinel.timeouts.actionMs,
    navigationTimeout: sentinel.timeouts.actionMs,
    testIdAttribute: 'data-testid',
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    video: 'off',
    launchOptions: launchOptionsFor(browser, trust),
  },
  projects: [
    // `end-sessions` ends the stored sessions once every spec that uses them is done, pass or fail.
    { name: 'setup', testMatch: /auth\.setup\.ts$/, teardown: 'end-sessions' },
    { name: 'end-sessions', testMatch: /auth\.teardown\.ts$/ },
    { name: 'checks', testMatch: /specs\/(login|admin-crud|sign-out)\.spec\.ts$/, dependencies: ['setup'] },
    { name: 'disruptive', testMatch: /specs\/session-redeploy\.spec\.ts$/, dependencies: ['checks'] },
  ],
});
