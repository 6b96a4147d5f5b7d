/**
 * Secret values seen at run time (session cookies, IdP cookies) are appended to the run's state
 * folder (core/run-state.ts: tokens.jsonl), one JSON string per line, from any worker; the teardown,
 * the reporter and the runner redact them by exact value. A recording that fails is never ignored:
 * it is noted (an annotation on the test and a line in recorder-failures.jsonl), and the run then
 * drops its browser artifacts instead of keeping files it cannot prove clean (e2e/support/redaction.ts).
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import type { BrowserContext, TestInfo } from '@playwright/test';
import { readJsonLines, stateFile } from '../../core/run-state.ts';
import { AUTH_DIR } from './suite-config.ts';

export const TOKENS_FILE = stateFile(AUTH_DIR, 'recordedSecrets');
export const RECORDER_FAILURES_FILE = stateFile(AUTH_DIR, 'recorderFailures');
/** Annotation on a test whose secrets were not all recorded; its description says why. */
export const UNRECORDED_ANNOTATION = 'secrets-unrecorded';

export function recordSecrets(values: Iterable<string | undefined>): void {
  const lines: string[] = [];
  for (const value of values) {
    if (!value || value.length < 8) continue;
    lines.push(JSON.stringify(value));
    let decoded = value;
    try {
      decoded = decodeURIComponent(value);
    } catch {
      // not URL-encoded
    }
    if (decoded !== value) lines.push(JSON.stringify(decoded));
    // A signed Better Auth cookie is "<token>.<signature>"; the bare token is what get-session and the DB show.
    const token = decoded.split('.')[0];
    if (token && token.length >= 16 && token !== decoded) lines.push(JSON.stringify(token));
  }
  if (lines.length === 0) return;
  mkdirSync(AUTH_DIR, { recursive: true });
  appendFileSync(TOKENS_FILE, `${lines.join('\n')}\n`);
}

/** Every cookie value the context holds, for every host (app session, cookie cache, IdP session). */
export async function recordContextCookies(context: BrowserContext): Promise<void> {
  const cookies = await context.cookies();
  recordSecrets(cookies.map((cookie) => cookie.value));
}

/** Name and value of each Set-Cookie line of one response. */
export function setCookies(lines: readonly string[]): Array<{ name: string; value: string }> {
  return lines.map((line) => {
    const [name = '', ...value] = (line.split(';')[0] ?? '').split('=');
    return { name: name.trim(), value: value.join('=') };
  });
}

/** The values of the Set-Cookie lines of one response. */
export function setCookieValues(lines: readonly string[]): Array<string | undefined> {
  return setCookies(lines).map((cookie) => cookie.value);
}

/**
 * Notes that a test's secrets were not all recorded: an annotation (reaches the reporter even when
 * the state folder cannot be written) and a line for the runner. Never throws.
 */
export function noteRecorderFailure(testInfo: TestInfo, reasons: readonly string[]): void {
  const why = [...new Set(reasons)].join('; ');
  testInfo.annotations.push({ type: UNRECORDED_ANNOTATION, description: why });
  try {
    mkdirSync(AUTH_DIR, { recursive: true });
    appendFileSync(RECORDER_FAILURES_FILE, `${JSON.stringify({ test: testInfo.title, why })}\n`);
  } catch {
    // the annotation above still reaches e2e/reporter.ts, which drops the artifacts
  }
}

/** Every recorded value; none when nothing was recorded, an error when the record cannot be read. */
export function readRecordedSecrets(file: string = TOKENS_FILE): string[] {
  return readJsonLines<string>(file);
}

/** Why recording failed in this run (runner/playwright.ts reads the same file after a killed run). */
export function readRecorderFailures(file: string = RECORDER_FAILURES_FILE): string[] {
  try {
    return readJsonLines<{ test: string; why: string }>(file).map((line) => `${line.test}: ${line.why}`);
  } catch (error) {
    return [`the record of recorder failures cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`];
  }
}
