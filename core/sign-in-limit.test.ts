import { describe, expect, it } from 'vitest';
import { SIGN_IN_LIMIT, retryAfterMs, signInWaitMs } from './sign-in-limit.ts';

const limit = { max: 3, windowMs: 10_000 };

describe('signInWaitMs (Better Auth: 3 per 10 s, window restarts at each allowed request)', () => {
  it('allows the first three sign-ins at once', () => {
    expect(signInWaitMs([], 0, limit, 0)).toBe(0);
    expect(signInWaitMs([0, 100], 200, limit, 0)).toBe(0);
  });
  it('makes the fourth wait until 10 s after the third (plus margin)', () => {
    expect(signInWaitMs([0, 1_000, 2_000], 3_000, limit, 500)).toBe(9_500);
  });
  it('counts a quiet window as a reset', () => {
    expect(signInWaitMs([0, 1_000, 2_000, 13_000], 13_500, limit, 500)).toBe(0);
  });
  it('does not assume a reset the server may not have seen (gap inside the margin)', () => {
    expect(signInWaitMs([0, 10_200, 10_300], 10_400, limit, 500)).toBe(10_400);
  });
});

describe('retryAfterMs (the wait a 429 states)', () => {
  const headers = (values: Record<string, string>) => (name: string) => values[name];
  it("takes Better Auth's X-Retry-After seconds", () => {
    expect(retryAfterMs(headers({ 'x-retry-after': '7' }))).toBe(7_000);
  });
  it('takes a standard Retry-After in seconds or as an HTTP date', () => {
    expect(retryAfterMs(headers({ 'retry-after': '3' }))).toBe(3_000);
    expect(retryAfterMs(headers({ 'retry-after': 'Wed, 21 Oct 2026 07:28:05 GMT' }), Date.parse('Wed, 21 Oct 2026 07:28:00 GMT'))).toBe(5_000);
  });
  it('falls back to the known window when the answer states nothing usable', () => {
    expect(retryAfterMs(headers({}))).toBe(SIGN_IN_LIMIT.windowMs);
    expect(retryAfterMs(headers({ 'x-retry-after': 'soon' }))).toBe(SIGN_IN_LIMIT.windowMs);
  });
});
