/**
 * Which bounded reason a transport failure gets, whoever met it: the probes see Node's error codes
 * (ECONNREFUSED, CERT_HAS_EXPIRED, ERR_TLS_CERT_ALTNAME_INVALID…), the browser checks see
 * Chromium's net errors (net::ERR_CONNECTION_REFUSED, net::ERR_CERT_DATE_INVALID…). Both map here,
 * so a refused connection is `connect_refused` and an expired certificate `tls_expiry` in a probe
 * and in a browser check alike.
 */
import type { Reason } from './result.ts';

/** Node/OpenSSL verification failures: the chain does not lead to a trusted CA (or is unusable). */
const NODE_TLS_VERIFY_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REVOKED',
  'CERT_NOT_YET_VALID',
  'CERT_REJECTED',
  'INVALID_CA',
  'PATH_LENGTH_EXCEEDED',
]);

const NODE_CODES: Record<string, Reason> = {
  ECONNREFUSED: 'connect_refused',
  EHOSTUNREACH: 'connect_refused',
  ENETUNREACH: 'connect_refused',
  ENOTFOUND: 'dns',
  EAI_AGAIN: 'dns',
  EAI_NONAME: 'dns',
  EAI_FAIL: 'dns',
  ECONNRESET: 'connection_reset',
  EPIPE: 'connection_reset',
  ERR_SOCKET_CLOSED: 'connection_reset',
  ETIMEDOUT: 'timeout',
  CERT_HAS_EXPIRED: 'tls_expiry',
  ERR_TLS_CERT_ALTNAME_INVALID: 'tls_hostname',
  HOSTNAME_MISMATCH: 'tls_hostname',
  EPROTO: 'tls_handshake',
};

/** Chromium's net error names (net/base/net_error_list.h), without the `net::` prefix. */
const CHROMIUM_CODES: Record<string, Reason> = {
  ERR_CONNECTION_REFUSED: 'connect_refused',
  ERR_ADDRESS_UNREACHABLE: 'connect_refused',
  ERR_NETWORK_UNREACHABLE: 'connect_refused',
  ERR_NAME_NOT_RESOLVED: 'dns',
  ERR_NAME_RESOLUTION_FAILED: 'dns',
  ERR_CONNECTION_RESET: 'connection_reset',
  ERR_CONNECTION_CLOSED: 'connection_reset',
  ERR_CONNECTION_ABORTED: 'connection_reset',
  ERR_EMPTY_RESPONSE: 'connection_reset',
  ERR_TIMED_OUT: 'timeout',
  ERR_CONNECTION_TIMED_OUT: 'timeout',
  ERR_CERT_DATE_INVALID: 'tls_expiry',
  ERR_CERT_COMMON_NAME_INVALID: 'tls_hostname',
  ERR_CERT_AUTHORITY_INVALID: 'tls_verify',
  ERR_BAD_SSL_CLIENT_AUTH_CERT: 'tls_handshake',
};

/**
 * The reason for one error code, Node's or Chromium's (with or without `net::`); undefined when
 * the code is not a transport failure this suite names.
 */
export function transportReasonForCode(rawCode: string): Reason | undefined {
  const code = rawCode.replace(/^net::/, '');
  const known = CHROMIUM_CODES[code] ?? NODE_CODES[code];
  if (known) return known;
  if (NODE_TLS_VERIFY_CODES.has(code)) return 'tls_verify';
  // Chromium: every other certificate error is a verification failure (revoked, invalid, weak key…).
  if (code.startsWith('ERR_CERT_')) return 'tls_verify';
  // Node's ERR_SSL_*/ERR_TLS_* and Chromium's ERR_SSL_*: the handshake itself failed.
  if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')) return 'tls_handshake';
  return undefined;
}

export interface NetworkFailure {
  reason: Reason;
  /** the code as it appeared, e.g. `net::ERR_CONNECTION_REFUSED` or `ECONNREFUSED` */
  code: string;
}

/**
 * The first transport failure named in an error text: a Playwright message (`page.goto:
 * net::ERR_CONNECTION_REFUSED at …`, `apiRequestContext.get: connect ECONNREFUSED …`) or a
 * request's failure text. Undefined when the text names none.
 */
export function networkFailureIn(text: string): NetworkFailure | undefined {
  for (const match of text.matchAll(/(?:net::)?\b[A-Z][A-Z0-9_]{3,}\b/g)) {
    const reason = transportReasonForCode(match[0]);
    if (reason) return { reason, code: match[0] };
  }
  return undefined;
}
