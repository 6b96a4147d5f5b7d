/**
 * How long a probe may take, apart from the registry so the monitor can bound its waits without loading
 * every probe: the deadline, and for a probe that signs in the wait for its slot before it.
 */
import type { ProbeCheckId } from '../core/result.ts';
import { SIGN_IN_LIMIT, SIGN_IN_SAFETY_MARGIN_MS } from '../core/sign-in-limit.ts';

/** The probes that sign in against the app, and so first take a slot of Better Auth's sign-in limit. */
export const SIGN_IN_PROBES: ReadonlySet<ProbeCheckId> = new Set(['login-v2-redirect']);
/**
 * The longest a sign-in probe waits for its slot before its deadline starts: one window of the limit and
 * the margin. The wait paces our own sign-ins (a run's browser checks, the monitor, a run just before on
 * this machine); it is not the target being slow, so it does not eat the probe's deadline — a healthy
 * app must never fail `rate_limited` because we signed in a moment ago.
 */
export const SIGN_IN_SLOT_WAIT_MAX_MS = SIGN_IN_LIMIT.windowMs + SIGN_IN_SAFETY_MARGIN_MS + 1_000;

/** How long a caller may wait for runProbe's answer at most: the deadline, and for a sign-in probe its slot. */
export function probeBoundMs(id: ProbeCheckId, timeoutMs: number): number {
  return timeoutMs + (SIGN_IN_PROBES.has(id) ? SIGN_IN_SLOT_WAIT_MAX_MS : 0);
}
