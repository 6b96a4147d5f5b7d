import { describe, expect, it } from 'vitest';
import { networkFailureIn, transportReasonForCode } from './network-errors.ts';

describe('transport failures map to the same reasons for Node and Chromium', () => {
  it.each([
    ['ECONNREFUSED', 'net::ERR_CONNECTION_REFUSED', 'connect_refused'],
    ['ENOTFOUND', 'net::ERR_NAME_NOT_RESOLVED', 'dns'],
    ['ECONNRESET', 'net::ERR_CONNECTION_RESET', 'connection_reset'],
    ['EPIPE', 'net::ERR_CONNECTION_CLOSED', 'connection_reset'],
    ['ETIMEDOUT', 'net::ERR_TIMED_OUT', 'timeout'],
    ['SELF_SIGNED_CERT_IN_CHAIN', 'net::ERR_CERT_AUTHORITY_INVALID', 'tls_verify'],
    ['CERT_HAS_EXPIRED', 'net::ERR_CERT_DATE_INVALID', 'tls_expiry'],
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'net::ERR_CERT_COMMON_NAME_INVALID', 'tls_hostname'],
    ['EPROTO', 'net::ERR_SSL_PROTOCOL_ERROR', 'tls_handshake'],
  ])('%s and %s are %s', (node, chromium, reason) => {
    expect(transportReasonForCode(node)).toBe(reason);
    expect(transportReasonForCode(chromium)).toBe(reason);
  });

  it('other certificate errors are verification failures, other SSL errors handshake failures', () => {
    expect(transportReasonForCode('net::ERR_CERT_REVOKED')).toBe('tls_verify');
    expect(transportReasonForCode('ERR_SSL_VERSION_OR_CIPHER_MISMATCH')).toBe('tls_handshake');
    expect(transportReasonForCode('ERR_SSL_WRONG_VERSION_NUMBER')).toBe('tls_handshake');
  });

  it('names no reason for what is not a transport failure', () => {
    expect(transportReasonForCode('net::ERR_ABORTED')).toBeUndefined();
    expect(transportReasonForCode('OAUTH_RESPONSE_IS_NOT_JSON')).toBeUndefined();
  });
});

describe('networkFailureIn reads the code out of an error text', () => {
  it('from a Playwright navigation error', () => {
    expect(networkFailureIn('Error: page.goto: net::ERR_CONNECTION_REFUSED at https://localhost:1/login\nCall log:\n  - navigating to "https://localhost:1/login"')).toEqual({ reason: 'connect_refused', code: 'net::ERR_CONNECTION_REFUSED' });
    expect(networkFailureIn('page.goto: net::ERR_CERT_DATE_INVALID at https://gadgetbot.example/login')).toEqual({ reason: 'tls_expiry', code: 'net::ERR_CERT_DATE_INVALID' });
  });

  it("from a request's failure text and from Playwright's API client (Node codes)", () => {
    expect(networkFailureIn('net::ERR_NAME_NOT_RESOLVED')?.reason).toBe('dns');
    expect(networkFailureIn('apiRequestContext.get: connect ECONNREFUSED 127.0.0.1:443')).toEqual({ reason: 'connect_refused', code: 'ECONNREFUSED' });
  });

  it('not from an assertion or a timeout', () => {
    expect(networkFailureIn('expect(locator).toBeVisible() failed\nLocator: getByRole(\'heading\', { name: \'Admin Dashboard\' })')).toBeUndefined();
    expect(networkFailureIn('Test timeout of 90000ms exceeded. V2_312345678901234567')).toBeUndefined();
  });
});
