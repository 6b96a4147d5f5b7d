/**
 * Ends signed-in sessions the suite stored (Playwright storage state): Better Auth's
 * `POST /api/auth/sign-out` with the stored session cookie and the app's `Origin` (without it Better
 * Auth's origin check answers 403), which deletes the session row; then `get-session` with the old
 * cookie (cookie cache bypassed) must answer null, so a sign-out that answers 200 but keeps the row
 * is caught. Used by the Playwright teardown (e2e/auth.teardown.ts), the fixture that ends sessions a
 * test left open, and the runner for runs that were stopped before their teardown.
 *
 * Certificates are not verified, as in the browser checks (playwright.config.ts) and the HTTP probes:
 * the `tls` probe owns certificate verdicts.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { STORED_SESSION_FILE, stateFile } from './run-state.ts';

export interface SessionTarget {
  appUrl: string;
  /** deadline of each request */
  timeoutMs: number;
}

export interface StoredCookie {
  name: string;
  value: string;
  domain: string;
  path?: string;
}

export interface StoredState {
  cookies: StoredCookie[];
}

export interface SessionEnding {
  /** whose session it is, e.g. `user 1's stored session` (never a secret) */
  who: string;
  ended: boolean;
  /** why it could not be ended */
  why?: string;
}

const SESSION_COOKIE = /^(?:__Secure-)?better-auth\.session_token$/;
const MAX_BODY_BYTES = 64 * 1024;

function cookieFor(state: StoredState, appUrl: string): StoredCookie | undefined {
  const host = new URL(appUrl).hostname;
  return state.cookies.find((cookie) => {
    const domain = cookie.domain.replace(/^\./, '');
    return SESSION_COOKIE.test(cookie.name) && (host === domain || host.endsWith(`.${domain}`));
  });
}

/** The Better Auth session cookie value in a storage state for this app, if any. */
export function sessionTokenOf(state: StoredState, appUrl: string): string | undefined {
  return cookieFor(state, appUrl)?.value;
}

function send(url: URL, init: { method: string; headers: Record<string, string>; body?: string }, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers = { ...init.headers, ...(init.body !== undefined ? { 'content-length': String(Buffer.byteLength(init.body)) } : {}) };
    // One connection per request (agent: false): nothing pooled outlives a sign-out, which may run just before a process ends.
    const options = { method: init.method, headers, signal: AbortSignal.timeout(timeoutMs), rejectUnauthorized: false, agent: false };
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, options, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= MAX_BODY_BYTES) chunks.push(chunk);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

function failure(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return 'no answer in time';
  return e.code ?? (e.message || String(error)).split('\n')[0]!.slice(0, 120);
}

/** Signs one stored session out and checks the server no longer knows it. */
export async function endSession(state: StoredState, who: string, target: SessionTarget): Promise<SessionEnding> {
  const cookie = cookieFor(state, target.appUrl);
  if (!cookie) return { who, ended: true }; // nothing signed in
  const base = new URL(target.appUrl);
  const cookieHeader = `${cookie.name}=${cookie.value}`;
  try {
    const signOut = await send(new URL('/api/auth/sign-out', base), { method: 'POST', headers: { cookie: cookieHeader, origin: base.origin, 'content-type': 'application/json', accept: 'application/json' }, body: '{}' }, target.timeoutMs);
    if (signOut.status !== 200) return { who, ended: false, why: `sign-out answered ${signOut.status}` };
    const check = await send(new URL('/api/auth/get-session?disableCookieCache=true', base), { method: 'GET', headers: { cookie: cookieHeader, accept: 'application/json' } }, target.timeoutMs);
    if (check.status !== 200) return { who, ended: false, why: `get-session after sign-out answered ${check.status}` };
    if (check.body.trim() !== 'null') return { who, ended: false, why: 'the session is still valid after sign-out' };
    return { who, ended: true };
  } catch (error) {
    return { who, ended: false, why: `sign-out failed: ${failure(error)}` };
  }
}

/** `user-1.json` → `user 1's stored session`; `open-session-e2e-login-x1y2.json` → `the session e2e-login signed in`. */
export function whoseSession(file: string): string {
  const name = path.basename(file, '.json');
  const user = /^user-(\d+)$/.exec(name);
  if (user) return `user ${user[1]}'s stored session`;
  const open = /^open-session-(.+)-[a-z0-9]+$/.exec(name);
  return open ? `the session ${open[1]} signed in` : name;
}

/**
 * Ends every stored session in a state folder; a file goes once its session is ended, so what is
 * left is what could not be ended. Without a target (a folder of unknown origin) nothing is tried.
 */
export async function endStoredSessions(stateDir: string, target?: SessionTarget): Promise<SessionEnding[]> {
  const names = (await readdir(stateDir).catch(() => [] as string[])).filter((name) => STORED_SESSION_FILE.test(name)).sort();
  const effective = target ?? (await readSessionTarget(stateDir));
  const outcomes: SessionEnding[] = [];
  for (const name of names) {
    const file = path.join(stateDir, name);
    const who = whoseSession(name);
    let state: StoredState;
    try {
      state = JSON.parse(await readFile(file, 'utf8')) as StoredState;
    } catch (error) {
      outcomes.push({ who, ended: false, why: `its stored state cannot be read (${failure(error)})` });
      continue;
    }
    if (!effective) {
      outcomes.push({ who, ended: false, why: 'the app it belongs to is unknown' });
      continue;
    }
    const outcome = await endSession(state, who, effective);
    if (outcome.ended) await rm(file, { force: true });
    outcomes.push(outcome);
  }
  return outcomes;
}

export async function writeSessionTarget(stateDir: string, target: SessionTarget): Promise<void> {
  await writeFile(stateFile(stateDir, 'sessionTarget'), JSON.stringify(target));
}

export async function readSessionTarget(stateDir: string): Promise<SessionTarget | undefined> {
  try {
    const parsed = JSON.parse(await readFile(stateFile(stateDir, 'sessionTarget'), 'utf8')) as Partial<SessionTarget>;
    return typeof parsed.appUrl === 'string' && typeof parsed.timeoutMs === 'number' ? { appUrl: parsed.appUrl, timeoutMs: parsed.timeoutMs } : undefined;
  } catch {
    return undefined;
  }
}
