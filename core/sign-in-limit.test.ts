import { describe, expect, it } from 'vitest';
import { signInWaitMs } from './sign-in-limit.ts';

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
