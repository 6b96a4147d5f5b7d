/**
 * A monitor process for the SIGTERM test: runMonitor with a fake probe and a "browser" that is a real
 * child process group (`sleep`), killed by PID group when the run's signal aborts — as runBrowserChecks does.
 * Prints `BROWSER_PID <pid>` once the fake browser child runs; log lines go to stdout.
 */
import { spawn } from 'node:child_process';
import { runMonitor } from '../index.ts';
import type { RunBrowserFn } from '../runs.ts';
import { passed, testConfig } from './fakes.ts';

const runBrowser: RunBrowserFn = (_config, _env, options) =>
  new Promise((resolve) => {
    const child = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
    process.stdout.write(`BROWSER_PID ${child.pid}\n`);
    const kill = () => {
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        // already gone
      }
    };
    options.signal?.addEventListener('abort', kill, { once: true });
    child.once('close', () => resolve([]));
  });

const code = await runMonitor(testConfig({ checks: ['app-health', 'e2e-login'] }), {
  runProbe: async (id) => passed(id),
  runBrowser,
  log: (line) => process.stdout.write(`${line}\n`),
});
process.stdout.write(`EXIT ${code}\n`);
process.exitCode = code;
