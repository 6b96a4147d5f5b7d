/**
 * Sign-in pacing, the one mechanism: every sign-in the suite makes against an app — a browser flow in
 * any worker, the login-v2-redirect probe, in a run, the monitor or a run started right after another
 * one on this machine — first claims a slot in one record per app origin. The record is a small file
 * in the temp folder behind a lock file, so separate processes and separate runs see each other's
 * sign-ins; the wait is computed from it by core/sign-in-limit.ts, never guessed. What no record can
 * see (another machine behind the same address) the server says itself: a sign-in answered 429 waits
 * the time it states (e2e/flows/sign-in.ts, probes/login-v2-redirect.ts).
 */
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { SIGN_IN_LIMIT, signInWaitMs } from './sign-in-limit.ts';

/** A lock older than this was left by a process that died holding it. */
const LOCK_STALE_MS = 5_000;
const LOCK_RETRY_MS = 25;
/** Older sign-ins cannot matter to the limiter's window. */
const KEEP_MS = 60_000;

export class SignInSlotTimeout extends Error {
  constructor(readonly waitedMs: number, readonly neededMs: number) {
    super(`no sign-in slot within the deadline (Better Auth allows ${SIGN_IN_LIMIT.max} sign-ins per ${SIGN_IN_LIMIT.windowMs / 1000} s; the next one is free in ${Math.ceil(neededMs / 1000)} s)`);
    this.name = 'SignInSlotTimeout';
  }
}

/** The record of sign-ins against the app at `appUrl` (one per origin), shared by every process on this machine. */
export function signInRecordPath(appUrl: string, dir: string = tmpdir()): string {
  const origin = new URL(appUrl).origin;
  return path.join(dir, 'sentinel-sign-ins', `${createHash('sha256').update(origin).digest('hex').slice(0, 16)}.json`);
}

function readTimes(file: string): number[] {
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    return Array.isArray(parsed) ? parsed.filter((t): t is number => typeof t === 'number') : [];
  } catch {
    return []; // no record yet, or one being replaced: the rename below makes that momentary
  }
}

async function withLock<T>(file: string, deadline: number, signal: AbortSignal | undefined, body: () => T): Promise<T> {
  const lock = `${file}.lock`;
  mkdirSync(path.dirname(file), { recursive: true });
  for (;;) {
    signal?.throwIfAborted();
    try {
      closeSync(openSync(lock, 'wx'));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      try {
        if (Date.now() - statSync(lock).mtimeMs > LOCK_STALE_MS) rmSync(lock, { force: true });
      } catch {
        // released meanwhile
      }
      if (Date.now() > deadline) throw new Error(`the sign-in record's lock (${lock}) was not released in time`);
      await delay(LOCK_RETRY_MS, undefined, signal ? { signal } : undefined);
    }
  }
  try {
    return body();
  } finally {
    rmSync(lock, { force: true });
  }
}

export interface ClaimOptions {
  /** how long the caller may wait for a slot, ms */
  timeoutMs: number;
  signal?: AbortSignal;
  /** the folder holding the records (tests); default the temp folder */
  dir?: string;
  /** told how long the next slot is away, before waiting for it */
  onWait?: (waitMs: number) => void;
}

/**
 * Waits until one more sign-in against `appUrl` is allowed, records it, and resolves with the time
 * waited for the limiter's window (ms; 0 when a slot was free). Rejects with SignInSlotTimeout when the slot would come after the deadline, without
 * waiting for nothing.
 */
export async function claimSignInSlot(appUrl: string, options: ClaimOptions): Promise<number> {
  const file = signInRecordPath(appUrl, options.dir);
  const started = Date.now();
  const deadline = started + options.timeoutMs;
  let waitedMs = 0; // time spent waiting for the limiter's window, not for the lock or the disk
  for (;;) {
    const wait = await withLock(file, deadline, options.signal, () => {
      const now = Date.now();
      const times = readTimes(file).filter((t) => now - t < KEEP_MS);
      const waitMs = signInWaitMs(times, now);
      if (waitMs === 0) {
        const next = `${file}.${process.pid}.tmp`;
        writeFileSync(next, JSON.stringify([...times, now]));
        renameSync(next, file);
      }
      return waitMs;
    });
    if (wait === 0) return waitedMs;
    if (Date.now() + wait > deadline) throw new SignInSlotTimeout(Date.now() - started, wait);
    options.onWait?.(wait);
    const before = Date.now();
    await delay(wait, undefined, options.signal ? { signal: options.signal } : undefined);
    waitedMs += Date.now() - before;
  }
}
