/**
 * The monitor's browser runner process. The monitor never loads Playwright itself (that alone costs
 * ~50 MB of resident memory for as long as the monitor lives): each browser run is this short-lived
 * process, which runs runner/playwright.ts's runBrowserChecks (itself spawning Playwright and
 * Chromium in their own process group) with `--workers 1`, and prints one `RESULTS <json>` line. SIGTERM aborts the run,
 * which kills the Playwright group, and then exits.
 * stdin: one JSON line { config, env, checks, reportsDir, deadlineMs }; stdout: `CLEANUP <json>`
 * (runner/cleanup.ts) before the result line.
 */
import { createInterface } from 'node:readline';
import type { Config } from '../../core/config.ts';
import type { BrowserCheckId } from '../../core/result.ts';
import { runBrowserChecks } from '../playwright.ts';

interface Request {
  config: Config;
  env: Record<string, string | undefined>;
  checks: BrowserCheckId[];
  reportsDir: string;
  deadlineMs?: number;
}

const controller = new AbortController();
process.once('SIGTERM', () => controller.abort(new Error('browser run stopped')));
process.once('SIGINT', () => controller.abort(new Error('browser run stopped')));
// A monitor killed outright sends no SIGTERM: a new parent means it is gone, and the run stops with it.
const monitorPid = process.ppid;
setInterval(() => {
  if (process.ppid !== monitorPid) controller.abort(new Error('the monitor is gone'));
}, 500).unref();

const line = await new Promise<string>((resolve) => {
  const rl = createInterface({ input: process.stdin });
  rl.once('line', (first) => {
    rl.close();
    resolve(first);
  });
});
const request = JSON.parse(line) as Request;
try {
  const results = await runBrowserChecks(request.config, request.env, {
    checks: request.checks,
    // One worker: the monitor runs one browser flow at a time.
    workers: 1,
    // Playwright's config resolves the browser; resolving it here too would load Playwright (~75 MB) into this process.
    checkBrowser: false,
    reportsDir: request.reportsDir,
    signal: controller.signal,
    onCleanup: (cleanup) => process.stdout.write(`CLEANUP ${JSON.stringify(cleanup)}\n`),
    ...(request.deadlineMs ? { deadlineMs: request.deadlineMs } : {}),
  });
  process.stdout.write(`RESULTS ${JSON.stringify(results)}\n`);
} catch (error) {
  process.stdout.write(`ERROR ${JSON.stringify(error instanceof Error ? error.message : String(error))}\n`);
  process.exitCode = 1;
}
