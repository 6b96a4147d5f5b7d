/**
 * How a spec speaks the result model (core/result.ts) through Playwright: the check id and the
 * failure reason travel as annotations, observations as a JSON attachment; e2e/reporter.ts reads them.
 */
import { test } from '@playwright/test';
import type { BrowserCheckId, Reason, Warning } from '../../core/result.ts';

export const CHECK_ANNOTATION = 'check';
export const REASON_ANNOTATION = 'reason';
export const SETUP_ANNOTATION = 'setup';
export const WARNING_ANNOTATION = 'warning';
export const OBSERVATIONS_ATTACHMENT = 'observations';
/** Milliseconds a sign-in waited out a 429 (one annotation per wait); the reporter sums them into observations. */
export const SIGN_IN_WAIT_ANNOTATION = 'sign-in-wait';

/** A failure that already knows its bounded reason. */
export class CheckFailure extends Error {
  constructor(readonly reason: Reason, message: string) {
    super(message);
    this.name = 'CheckFailure';
  }
}

/** Static test details: the check id annotation (known even when the test never runs) and its tags. */
export function checkDetails(id: BrowserCheckId, tags: Array<'@monitor' | '@mutating' | '@disruptive'>) {
  return { tag: tags, annotation: [{ type: CHECK_ANNOTATION, description: id }] };
}

/** Records the reason (first one wins in the reporter) and throws. */
export function failWith(reason: Reason, message: string): never {
  test.info().annotations.push({ type: REASON_ANNOTATION, description: reason });
  throw new CheckFailure(reason, message);
}

/** Runs `body`; an error that is not a CheckFailure gets `reason` (e.g. an assertion inside a named step). */
export async function withReason<T>(reason: Reason, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    if (!(error instanceof CheckFailure)) test.info().annotations.push({ type: REASON_ANNOTATION, description: reason });
    throw error;
  }
}

/** Records a warning for a check that may still pass: `<code>: <message>` (the reporter splits it). */
export function warnWith(warning: Warning, message: string): void {
  test.info().annotations.push({ type: WARNING_ANNOTATION, description: `${warning}: ${message}` });
}

export async function attachObservations(observations: Record<string, unknown>): Promise<void> {
  await test.info().attach(OBSERVATIONS_ATTACHMENT, { body: JSON.stringify(observations), contentType: 'application/json' });
}

export function recordSignInWait(waitedMs: number): void {
  test.info().annotations.push({ type: SIGN_IN_WAIT_ANNOTATION, description: String(Math.round(waitedMs)) });
}

/** Milliseconds left of the running check's deadline (Playwright's test timeout), counted from `startedAtMs`. */
export function checkTimeLeftMs(startedAtMs: number): number {
  const timeout = test.info().timeout;
  return timeout > 0 ? startedAtMs + timeout - Date.now() : Number.POSITIVE_INFINITY;
}
