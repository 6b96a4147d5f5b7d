/**
 * `sentinel` runs Playwright in a process group of its own and removes the run's state folder (signed-in
 * storage state, session tokens) when the run ends. When `sentinel` itself is killed (SIGKILL, the OOM
 * killer) none of that happens: Playwright's runner watches its parent instead and, once it is gone,
 * removes the state folder and takes its whole group (workers, Chromium) down.
 */
import { rmSync } from 'node:fs';
import { internalVariables } from '../../core/config.ts';

const WATCH_INTERVAL_MS = 500;

/** Only in Playwright's runner process of a sentinel run: not in its workers, not in a plain `playwright test`. */
export function guardAgainstOrphaning(env: NodeJS.ProcessEnv = process.env): void {
  const { parentPid: parent, stateDir } = internalVariables(env);
  if (parent === undefined || process.ppid !== parent) return;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
    process.kill(-process.pid, 'SIGKILL'); // the group sentinel made: this runner leads it
  }, WATCH_INTERVAL_MS);
  timer.unref();
}
