import { describe, expect, it } from 'vitest';
import { createRedactor, REDACTED } from './redact.ts';

describe('createRedactor', () => {
  it('masks known secrets but never a JSON literal, which would corrupt every JSON report (SENTINEL_REDEPLOY_COMMAND=true)', () => {
    const redact = createRedactor(['true', 'false', 'null', 'hunter22']);
    const report = JSON.stringify({ sessionKept: true, instanceChanged: false, deploymentId: null, note: 'password hunter22' });
    const masked = redact(report);
    expect(JSON.parse(masked)).toEqual({ sessionKept: true, instanceChanged: false, deploymentId: null, note: `password ${REDACTED}` });
  });
});
