/**
 * A browser run's private state folder (INTERNAL_VARIABLES.stateDir in core/config.ts): written by
 * the Playwright side (e2e/), read by the runner once Playwright has exited and before it deletes
 * the folder. These are the names both sides agree on.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const RUN_STATE_FILES = {
  /** every secret value seen at run time, one JSON string per line (e2e/support/secrets.ts) */
  recordedSecrets: 'tokens.jsonl',
  /** one JSON line per failure of the secret recorder: the run's artifacts cannot be vouched for */
  recorderFailures: 'recorder-failures.jsonl',
  /** one JSON line per scrub the Playwright side made (its ScrubSummary, or the artifacts it dropped) */
  scrubLog: 'scrub-log.jsonl',
  /** the app the stored sessions belong to, for whoever has to sign them out (core/sign-out.ts) */
  sessionTarget: 'session-target.json',
} as const;

/** Storage state of a session still to be ended: the setup's `user-<n>.json`, or `open-session-<label>-<id>.json`. */
export const STORED_SESSION_FILE = /^(?:user-\d+|open-session-[a-z0-9-]+)\.json$/;

/** Lines of a JSON-lines file; none when it does not exist, an error for anything else. */
export function readJsonLines<T>(file: string): T[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as T);
}

export function stateFile(stateDir: string, name: keyof typeof RUN_STATE_FILES): string {
  return path.join(stateDir, RUN_STATE_FILES[name]);
}
