import type { TestCase, TestResult } from '@playwright/test/reporter';
import { describe, expect, it } from 'vitest';
import { signInWaitOf, unreasonedFailure } from './reporter.ts';
import { SIGN_IN_WAIT_ANNOTATION } from './support/check-annotations.ts';

function failed(message: string, status: TestResult['status'] = 'failed'): TestResult {
  return { status, errors: [{ message }], error: { message } } as unknown as TestResult;
}

describe('a browser failure without a reason of its own', () => {
  it('gets the transport reason of the probes for a Chromium network error', () => {
    expect(unreasonedFailure(failed('Error: page.goto: net::ERR_CONNECTION_REFUSED at https://gadgetbot.example/login'))).toBe('connect_refused');
    expect(unreasonedFailure(failed('Error: page.goto: net::ERR_NAME_NOT_RESOLVED at https://gadgetbot.example/login'))).toBe('dns');
    expect(unreasonedFailure(failed('Error: page.goto: net::ERR_CERT_AUTHORITY_INVALID at https://gadgetbot.example/login'))).toBe('tls_verify');
    expect(unreasonedFailure(failed('Error: page.goto: net::ERR_CERT_DATE_INVALID at https://gadgetbot.example/login'))).toBe('tls_expiry');
    expect(unreasonedFailure(failed('Error: page.goto: net::ERR_CERT_COMMON_NAME_INVALID at https://gadgetbot.example/login'))).toBe('tls_hostname');
    expect(unreasonedFailure(failed('Error: page.goto: net::ERR_SSL_PROTOCOL_ERROR at https://gadgetbot.example/login'))).toBe('tls_handshake');
  });

  it("and for Playwright's API client, which speaks Node's codes", () => {
    expect(unreasonedFailure(failed('Error: apiRequestContext.post: connect ECONNREFUSED 127.0.0.1:443'))).toBe('connect_refused');
  });

  it('is timeout for a timeout and assertion otherwise', () => {
    expect(unreasonedFailure(failed('Test timeout of 90000ms exceeded.', 'timedOut'))).toBe('timeout');
    expect(unreasonedFailure(failed('TimeoutError: locator.click: Timeout 15000ms exceeded.'))).toBe('timeout');
    expect(unreasonedFailure(failed("expect(locator).toBeVisible() failed\nLocator: getByRole('heading', { name: 'Admin Dashboard' })"))).toBe('assertion');
  });
});

describe('sign-in waits', () => {
  it('are summed once, though Playwright hands the test and its result the same annotation list', () => {
    const annotations = [
      { type: 'check', description: 'e2e-login' },
      { type: SIGN_IN_WAIT_ANNOTATION, description: '9000' },
      { type: SIGN_IN_WAIT_ANNOTATION, description: '4000' },
    ];
    const test = { annotations } as unknown as TestCase;
    expect(signInWaitOf(test, { annotations } as unknown as TestResult)).toBe(13_000);
    expect(signInWaitOf({ annotations: [] } as unknown as TestCase, { annotations: [] } as unknown as TestResult)).toBe(0);
  });
});
