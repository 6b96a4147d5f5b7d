/**
 * Sign-in pacing shared by every worker process, against Better Auth's sign-in limit
 * (core/sign-in-limit.ts). The record of sign-in times lives in e2e/.auth/sign-ins.json behind a
 * lock file; the wait is computed from it, never guessed.
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { signInWaitMs } from '../../core/sign-in-limit.ts';
import { AUTH_DIR } from './config.ts';

const LOCK_STALE_MS = 10_000;
const LOCK_RETRY_MS = 25;

const RECORD_FILE = path.join(AUTH_DIR, 'sign-ins.json');
const LOCK_FILE = path.join(AUTH_DIR, 'sign-ins.lock');

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
