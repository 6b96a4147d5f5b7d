/**
 * Better Auth allows 3 `/api/auth/sign-in*` requests per 10 s per IP in production (docs/target-contract.md §5.1
 * step 2), and its window restarts at each allowed request (a 4th request must come 10 s after the
 * 3rd). Everything that signs in — the browser checks' pacer, the login-v2-redirect probe in the
 * monitor — computes its wait from the times of earlier sign-ins with this one function.
 */
export const SIGN_IN_LIMIT = { max: 3, windowMs: 10_000 } as const;
/** Our clock reads before the request; the server's after the request arrives. */
export const SIGN_IN_SAFETY_MARGIN_MS = 1_500;

/** Milliseconds until one more sign-in is allowed, replaying the limiter over past sign-in times. */
export function signInWaitMs(times: readonly number[], now: number, limit: { max: number; windowMs: number } = SIGN_IN_LIMIT, marginMs = SIGN_IN_SAFETY_MARGIN_MS): number {
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

/**
 * How long a 429 from the sign-in endpoint asks to wait: Better Auth's `X-Retry-After` (seconds
 * until its window ends), or a standard `Retry-After` (seconds or an HTTP date), else the whole
 * known window. A refused request does not move Better Auth's window, so after this wait the next
 * sign-in is allowed.
 */
export function retryAfterMs(header: (name: string) => string | null | undefined, now: number = Date.now()): number {
  for (const name of ['x-retry-after', 'retry-after']) {
    const value = header(name)?.trim();
    if (!value) continue;
    if (/^\d+$/.test(value)) return Number(value) * 1000;
    const date = Date.parse(value);
    if (!Number.isNaN(date)) return Math.max(0, date - now);
  }
  return SIGN_IN_LIMIT.windowMs;
}
