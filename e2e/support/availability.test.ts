import { describe, expect, it } from 'vitest';
import { summarize, type Sample } from './availability.ts';

const sample = (atMs: number, app: string, idp = 'ok'): Sample => ({ atMs, app, idp, appOk: app === 'ok', idpOk: idp === 'ok' });

describe('summarize', () => {
  it('takes the longest continuous app failure, from first failed poll to the next good one', () => {
    const s = summarize([sample(0, 'ok'), sample(100, 'status_502'), sample(200, 'ok'), sample(300, 'timeout'), sample(1_400, 'error_econnrefused', 'status_502'), sample(1_900, 'ok')]);
    expect(s).toEqual({ samples: 6, downtimeSeconds: 1.6, idpAvailability: 5 / 6, idpFailures: 1, idpDisrupted: true, appFailureKinds: { status_502: 1, timeout: 1, error_econnrefused: 1 }, idpFailureKinds: { status_502: 1 } });
  });
  it('calls the IdP disrupted on an error answer or two timeouts in a row, not on one slow poll', () => {
    expect(summarize([sample(0, 'ok', 'timeout'), sample(100, 'ok', 'ok')]).idpDisrupted).toBe(false);
    expect(summarize([sample(0, 'ok', 'timeout'), sample(100, 'ok', 'timeout')]).idpDisrupted).toBe(true);
    expect(summarize([sample(0, 'ok', 'error_econnreset')]).idpDisrupted).toBe(true);
  });
  it('counts a failure that never ended up to the last poll', () => {
    expect(summarize([sample(0, 'ok'), sample(500, 'timeout'), sample(2_500, 'timeout')]).downtimeSeconds).toBe(2);
  });
});
