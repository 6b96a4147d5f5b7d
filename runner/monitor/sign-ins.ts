/**
 * The monitor's record of its own sign-ins. Two things in the monitor sign in: the login-v2-redirect
 * probe (one POST /api/auth/sign-in/social per run) and a browser flow (one per user plus the flows'
 * own). Better Auth allows 3 per 10 s per IP (core/sign-in-limit.ts), so each waits for a free slot
 * computed from this record, and a browser flow starts from it (its pacer counts them) and reports
 * its own back when it ends.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { signInWaitMs } from '../../core/sign-in-limit.ts';

/** Older sign-ins cannot matter to a 10 s window. */
const KEEP_MS = 60_000;

export interface SignInLedger {
  times(): number[];
  /** Records the sign-ins a browser run made: those in `after` (its final record) beyond `before` (the record it started from). */
  addRun(before: readonly number[], after: readonly number[]): void;
  /** Waits (rejecting when the signal aborts) until one more sign-in is allowed, then records it. */
  claim(signal: AbortSignal): Promise<void>;
}

export function createSignInLedger(now: () => number = Date.now): SignInLedger {
  let times: number[] = [];
  const prune = () => {
    const cutoff = now() - KEEP_MS;
    times = times.filter((t) => t >= cutoff);
  };
  return {
    times() {
      prune();
      return [...times];
    },
    addRun(before, after) {
      const known = [...before];
      for (const t of after) {
        const index = known.indexOf(t);
        if (index >= 0) known.splice(index, 1);
        else times.push(t);
      }
      prune();
    },
    async claim(signal) {
      for (;;) {
        prune();
        const waitMs = signInWaitMs(times, now());
        if (waitMs === 0) {
          times.push(now());
          return;
        }
        await delay(waitMs, undefined, { signal });
      }
    },
  };
}
