/**
 * The default browser runner of the monitor: one child process per run (browser-child.ts), so neither
 * Playwright's modules nor Chromium stay in the monitor's memory between runs. The signal (deadline or
 * shutdown) sends SIGTERM, which makes the child kill its Playwright group; SIGKILL follows after 5 s.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { CheckResult } from '../../core/result.ts';
import type { BrowserRunCleanup } from '../cleanup.ts';
import { REPO_ROOT } from '../embedded-stack.ts';
import type { RunBrowserFn } from './runs.ts';

const KILL_AFTER_MS = 5_000;

/**
 * The child's command line: within the bundle (dist/sentinel.mjs) its sibling dist/browser-child.mjs,
 * which bin/build.mjs builds with it; from the sources, browser-child.ts through tsx.
 */
/**
 * A young generation of 1 MB semi-spaces instead of V8's default of up to 16 MB: the child holds the
 * Playwright runner through a whole flow, at the monitor's peak. `npm run bench -- --only monitor`: peak
 * tree median 658 → 614 MB (3 lifetimes each); the same flag on the monitor itself did not move its idle RSS.
 */
const CHILD_NODE_FLAGS = ['--max-semi-space-size=1'];

function childCommand(): string[] {
  return import.meta.url.endsWith('.ts')
    ? ['--import', 'tsx', fileURLToPath(new URL('./browser-child.ts', import.meta.url))]
    : [fileURLToPath(new URL('./browser-child.mjs', import.meta.url))];
}

export const runBrowserInChild: RunBrowserFn = (config, env, options) =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...CHILD_NODE_FLAGS, ...childCommand()], {
      cwd: REPO_ROOT,
      // Only what Node and Playwright need; the target's settings travel in the request on stdin.
      env: Object.fromEntries(Object.entries({ PATH: process.env.PATH, HOME: process.env.HOME, TMPDIR: process.env.TMPDIR, LANG: process.env.LANG, PLAYWRIGHT_BROWSERS_PATH: process.env.PLAYWRIGHT_BROWSERS_PATH }).filter(([, v]) => v !== undefined)) as Record<string, string>,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let outcome: { results?: CheckResult[]; error?: string } = {};
    let stderrTail = '';
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.startsWith('RESULTS ')) outcome = { results: JSON.parse(line.slice(8)) as CheckResult[] };
      else if (line.startsWith('ERROR ')) outcome = { error: JSON.parse(line.slice(6)) as string };
      else if (line.startsWith('CLEANUP ')) options.onCleanup?.(JSON.parse(line.slice(8)) as BrowserRunCleanup);
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      stderrTail = (stderrTail + chunk.toString()).slice(-1_000);
    });
    let killTimer: NodeJS.Timeout | undefined;
    const stop = () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
    };
    options.signal?.addEventListener('abort', stop, { once: true });
    if (options.signal?.aborted) stop();
    child.once('error', (error) => reject(error));
    child.once('close', (code) => {
      clearTimeout(killTimer);
      options.signal?.removeEventListener('abort', stop);
      if (outcome.results) return resolve(outcome.results);
      const last = stderrTail.trim().split('\n').pop() ?? '';
      reject(new Error(outcome.error ?? `browser runner exited with code ${code}${last ? `: ${last.slice(0, 200)}` : ''}`));
    });
    child.stdin!.end(`${JSON.stringify({ config, env, checks: options.checks, reportsDir: options.reportsDir, deadlineMs: options.deadlineMs })}\n`);
  });
