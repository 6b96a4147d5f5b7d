import { describe, expect, it } from 'vitest';
import { SIGN_IN_LIMIT, SIGN_IN_SAFETY_MARGIN_MS } from '../../core/sign-in-limit.ts';
import { createSignInLedger } from './sign-ins.ts';

describe('the monitor sign-in ledger', () => {
  it('claims free slots at once and records them', async () => {
    let clock = 100_000;
    const ledger = createSignInLedger(() => clock);
    await ledger.claim(new AbortController().signal);
    clock += 10;
    await ledger.claim(new AbortController().signal);
    expect(ledger.times()).toEqual([100_000, 100_010]);
  });

  it('waits out the window after three sign-ins, and a shutdown ends the wait', async () => {
    const ledger = createSignInLedger();
    const now = Date.now();
    ledger.addRun([], [now - 1, now, now]);
    const controller = new AbortController();
    const claim = ledger.claim(controller.signal);
    controller.abort(new Error('stopping'));
    await expect(claim).rejects.toMatchObject({ name: 'AbortError' });
    expect(ledger.times()).toEqual([now - 1, now, now]); // the aborted claim added nothing
  });

  it('takes from a browser run only the sign-ins it made itself', () => {
    let clock = 1_000_000;
    const ledger = createSignInLedger(() => clock);
    ledger.addRun([], [clock - 2_000]);
    const before = ledger.times();
    ledger.addRun(before, [...before, clock - 500, clock - 500]);
    expect(ledger.times()).toEqual([clock - 2_000, clock - 500, clock - 500]);
  });

  it('forgets sign-ins older than a minute', () => {
    let clock = 1_000_000;
    const ledger = createSignInLedger(() => clock);
    ledger.addRun([], [clock - 61_000, clock - 5_000]);
    expect(ledger.times()).toEqual([clock - 5_000]);
    clock += SIGN_IN_LIMIT.windowMs + SIGN_IN_SAFETY_MARGIN_MS;
    expect(ledger.times()).toEqual([1_000_000 - 5_000]);
  });
});
