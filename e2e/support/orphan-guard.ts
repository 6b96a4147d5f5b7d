/**
 * `sentinel` runs Playwright in a process group of its own and removes the run's state folder (signed-in
 * storage state, session tokens) when the run ends. When `sentinel` itself is killed (SIGKILL, the OOM
 * killer) none of that happens: Playwright's runner watches its parent instead and, once it is gone,
 * signs the stored sessions out (core/sign-out.ts; the app is the one the runner wrote into the state
 * folder), removes the state folder and takes its whole group (workers, Chromium) down.
 */
import { rmSync } from 'node:fs';
import { internalVariables } from '../../core/config.ts';
import { endStoredSessions } from '../../core/sign-out.ts';

const WATCH_INTERVAL_MS = 500;
/** The sign-outs get this long in all; the group goes down then, whatever they did. */
const SIGN_OUT_BUDGET_MS = 10_000;

/** Only in Playwright's runner process of a sentinel run: not in its workers, not in a plain `playwright test`. */
export function guardAgainstOrphaning(env: NodeJS.ProcessEnv = process.env): void {
  const { parentPid: parent, stateDir } = internalVariables(env);
  if (parent === undefined || process.ppid !== parent) return;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    const takeDown = () => {
      if (stateDir) rmSync(stateDir, { recursive: true, force: true });
      process.kill(-process.pid, 'SIGKILL'); // the group sentinel made: this runner leads it
    };
    if (!stateDir) return takeDown();
    setTimeout(takeDown, SIGN_OUT_BUDGET_MS);
    void endStoredSessions(stateDir).finally(takeDown);
  }, WATCH_INTERVAL_MS);
  timer.unref();
}
