/**
 * Gatus-style assertions: each records name, observed and expected, and the first failing one
 * becomes the check's reason and its one-line message (`issuer: observed "a" expected "b"`).
 */
import type { Assertion, Reason } from '../core/result.ts';

export interface ReasonedAssertion extends Assertion {
  reason: Reason;
}

export class Assertions {
  readonly list: ReasonedAssertion[] = [];

  /** Record an assertion; returns `ok` so callers can branch on it. */
  check(name: string, ok: boolean, observed: unknown, expected: unknown, reason: Reason): boolean {
    this.list.push({ name, ok, observed, expected, reason });
    return ok;
  }

  equal(name: string, observed: unknown, expected: unknown, reason: Reason): boolean {
    return this.check(name, observed === expected, observed, expected, reason);
  }

  get firstFailure(): ReasonedAssertion | undefined {
    return this.list.find((a) => !a.ok);
  }

  /** The public shape (without the internal reason). */
  toResult(): Assertion[] {
    return this.list.map(({ name, ok, observed, expected }) => ({ name, ok, observed, expected }));
  }
}
