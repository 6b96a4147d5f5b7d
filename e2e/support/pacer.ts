/**
 * Sign-in pacing shared by every worker process: Better Auth allows 3 `/api/auth/sign-in*` requests
 * per 10 s per IP in production (contract §5 step 2), and its window restarts at each allowed request
 * (a 4th request must come 10 s after the 3rd). The record of sign-in times lives in
 * e2e/.auth/sign-ins.json behind a lock file; the wait is computed from it, never guessed.
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { AUTH_DIR } from './config.ts';

export const SIGN_IN_LIMIT = { max: 3, windowMs: 10_000 } as const;
/** Our clock reads before the click; the server's after the request arrives. */
const SAFETY_MARGIN_MS = 1_500;
const LOCK_STALE_MS = 10_000;
const LOCK_RETRY_MS = 25;

const RECORD_FILE = path.join(AUTH_DIR, 'sign-ins.json');
const LOCK_FILE = path.join(AUTH_DIR, 'sign-ins.lock');

/** Milliseconds until one more sign-in is allowed, replaying the limiter over past sign-in times. */
export function signInWaitMs(times: readonly number[], now: number, limit: { max: number; windowMs: number } = SIGN_IN_LIMIT, marginMs = SAFETY_MARGIN_MS): number {
  let count = 0;
  let last = Number.NEGATIVE_INFINITY;
  for (const t of [...times].sort((a, b) => a - b)) {
    // Count a reset only when it surely happened on the server too.
    if (t - last >= limit.windowMs + marginMs) count = 1;
    else count += 1;
    last = t;
  }
  if (count < limit.max) return 0;
  return Math.max(0, last + limit.windowMs + marginMs - now);
}

async function withLock<T>(deadline: number, body: () => T): Promise<T> {
  mkdirSync(AUTH_DIR, { recursive: true });
  for (;;) {
    try {
      closeSync(openSync(LOCK_FILE, 'wx'));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      try {
        if (Date.now() - statSync(LOCK_FILE).mtimeMs > LOCK_STALE_MS) rmSync(LOCK_FILE, { force: true });
      } catch {
        // released meanwhile
      }
      if (Date.now() > deadline) throw new Error('sign-in pacer: lock not released in time');
      await delay(LOCK_RETRY_MS);
    }
  }
  try {
    return body();
  } finally {
    rmSync(LOCK_FILE, { force: true });
  }
}

function readTimes(): number[] {
  try {
    const parsed: unknown = JSON.parse(readFileSync(RECORD_FILE, 'utf8'));
    return Array.isArray(parsed) ? parsed.filter((t): t is number => typeof t === 'number') : [];
  } catch {
    return [];
  }
}

/** Waits until a sign-in slot is free, then claims it. Resolves with the time waited. */
export async function reserveSignInSlot(timeoutMs: number): Promise<number> {
  const started = Date.now();
  const deadline = started + timeoutMs;
  for (;;) {
    const wait = await withLock(deadline, () => {
      const now = Date.now();
      const times = readTimes().filter((t) => now - t < 60_000);
      const waitMs = signInWaitMs(times, now);
      if (waitMs === 0) writeFileSync(RECORD_FILE, JSON.stringify([...times, now]));
      return waitMs;
    });
    if (wait === 0) return Date.now() - started;
    if (Date.now() + wait > deadline) throw new Error(`sign-in pacer: no sign-in slot within ${timeoutMs} ms`);
    await delay(wait);
  }
}
