import { describe, expect, it } from 'vitest';
import type { Reason } from '../core/result.ts';
import { classify, ProbeFailure, type ClassifyScope } from './errors.ts';

const coded = (code: string, message = `error ${code}`) => Object.assign(new Error(message), { code });
/** undici's fetch wraps the socket error: TypeError('fetch failed', { cause }). */
const fetchFailed = (cause: Error) => new TypeError('fetch failed', { cause });

const cases: Array<[string, unknown, Reason, ClassifyScope?]> = [
  ['pg wrong password', coded('28P01', 'password authentication failed for user "postgres"'), 'db_auth', 'db'],
  ['pg missing relation', coded('42P01', 'relation "verifications" does not exist'), 'db_schema', 'db'],
  ['pg statement timeout', coded('57014', 'canceling statement due to statement timeout'), 'timeout', 'db'],
  ['pg query read timeout', new Error('Query read timeout'), 'timeout', 'db'],
  ['pg connection timeout', new Error('Connection terminated due to connection timeout'), 'timeout', 'db'],
  ['pg other sql error', coded('22P02', 'invalid input syntax'), 'db_query', 'db'],
  ['pg refused', coded('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'), 'db_unreachable', 'db'],
  ['pg terminated', new Error('Connection terminated unexpectedly'), 'db_unreachable', 'db'],
  ['http refused', fetchFailed(coded('ECONNREFUSED')), 'connect_refused'],
  ['connect timeout', fetchFailed(coded('UND_ERR_CONNECT_TIMEOUT')), 'timeout'],
  ['headers timeout', fetchFailed(coded('UND_ERR_HEADERS_TIMEOUT')), 'timeout'],
  ['body timeout', fetchFailed(coded('UND_ERR_BODY_TIMEOUT')), 'timeout'],
  ['dns', fetchFailed(coded('ENOTFOUND', 'getaddrinfo ENOTFOUND x.invalid')), 'dns'],
  ['dns again', fetchFailed(coded('EAI_AGAIN')), 'dns'],
  ['reset', fetchFailed(coded('ECONNRESET')), 'connection_reset'],
  ['socket closed', fetchFailed(coded('UND_ERR_SOCKET', 'other side closed')), 'connection_reset'],
  ['expired', fetchFailed(coded('CERT_HAS_EXPIRED')), 'tls_expiry'],
  ['self signed', fetchFailed(coded('DEPTH_ZERO_SELF_SIGNED_CERT')), 'tls_verify'],
  ['leaf not verified', fetchFailed(coded('UNABLE_TO_VERIFY_LEAF_SIGNATURE')), 'tls_verify'],
  ['self signed in chain', fetchFailed(coded('SELF_SIGNED_CERT_IN_CHAIN')), 'tls_verify'],
  ['altname', fetchFailed(coded('ERR_TLS_CERT_ALTNAME_INVALID')), 'tls_hostname'],
  ['handshake', coded('ERR_SSL_WRONG_VERSION_NUMBER'), 'tls_handshake'],
  ['openid-client timeout', coded('OAUTH_TIMEOUT'), 'timeout'],
  ['not json', coded('OAUTH_RESPONSE_IS_NOT_JSON'), 'bad_response'],
  ['not conform', coded('OAUTH_RESPONSE_IS_NOT_CONFORM'), 'bad_response'],
  ['issuer mismatch', coded('OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED', 'unexpected "issuer" response parameter value'), 'issuer_mismatch'],
  ['DOMException timeout', new DOMException('The operation was aborted due to timeout', 'TimeoutError'), 'timeout'],
  ['DOMException abort', new DOMException('This operation was aborted', 'AbortError'), 'timeout'],
  ['fetch aborted by our deadline', fetchFailed(new DOMException('deadline of 10 ms exceeded', 'TimeoutError')), 'timeout'],
  ['syntax error', new SyntaxError('Unexpected token <'), 'bad_response'],
  ['a ProbeFailure keeps its reason', new ProbeFailure('login_v1', 'classic login'), 'login_v1'],
  ['anything else', new Error('boom'), 'unexpected'],
  ['not even an error', 'a string', 'unexpected'],
];

describe('classify', () => {
  it.each(cases)('%s', (_name, error, reason, scope) => {
    expect(classify(error, scope).reason).toBe(reason);
  });

  it('writes one line naming the wrapper and the cause', () => {
    const { message } = classify(fetchFailed(coded('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1')));
    expect(message).toBe('fetch failed: connect ECONNREFUSED 127.0.0.1:1');
    expect(classify(new Error('a\nb\n  c')).message).toBe('a b c');
  });
});
