/**
 * The one error classifier: every error a probe can meet — pg, Node's http client and fetch,
 * node:tls, openid-client/oauth4webapi, DOMException aborts — maps to one bounded Reason plus a
 * one-line message. Socket and TLS codes are judged by core/network-errors.ts, the rule the browser
 * checks use for Chromium's net errors too. Messages never carry raw URLs with credentials; the runner redacts them again.
 */
import { SentinelError } from '../core/errors.ts';
import { transportReasonForCode } from '../core/network-errors.ts';
import type { Reason } from '../core/result.ts';

export interface Classified {
  reason: Reason;
  message: string;
}

/** A failure a probe raises on purpose: the reason is already known. */
export class ProbeFailure extends Error {
  readonly reason: Reason;
  constructor(reason: Reason, message: string) {
    super(message);
    this.name = 'ProbeFailure';
    this.reason = reason;
  }
}

interface ErrorLike {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  cause?: unknown;
  errors?: unknown;
}

const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_ABORTED',
  'OAUTH_TIMEOUT',
  'OAUTH_ABORT',
  'ABORT_ERR',
  '57014', // query_canceled: statement_timeout
]);

const BAD_RESPONSE_CODES = new Set([
  'OAUTH_RESPONSE_IS_NOT_JSON',
  'OAUTH_RESPONSE_IS_NOT_CONFORM',
  'OAUTH_INVALID_RESPONSE',
  'OAUTH_INVALID_SERVER_METADATA',
  'OAUTH_PARSE_ERROR',
  'OAUTH_RESPONSE_BODY_ERROR',
  'OAUTH_MISSING_SERVER_METADATA',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_INFO',
]);

/** The error and its causes (fetch wraps the real error in `cause`; AggregateError holds several). */
function chain(error: unknown): ErrorLike[] {
  const out: ErrorLike[] = [];
  const queue: unknown[] = [error];
  while (queue.length > 0 && out.length < 10) {
    const next = queue.shift();
    if (!next || typeof next !== 'object') continue;
    const e = next as ErrorLike;
    out.push(e);
    if (e.cause) queue.push(e.cause);
    if (Array.isArray(e.errors)) queue.push(...e.errors);
  }
  return out;
}

function oneLine(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 300 ? `${line.slice(0, 297)}...` : line;
}

function messageOf(e: ErrorLike | undefined): string {
  return e && typeof e.message === 'string' && e.message ? e.message : 'unknown error';
}

function reasonForCode(code: string, scope: ClassifyScope): Reason | undefined {
  if (TIMEOUT_CODES.has(code)) return 'timeout';
  if (code === 'UND_ERR_SOCKET' || code === 'UND_ERR_CLOSED') return 'connection_reset';
  const transport = transportReasonForCode(code);
  if (transport === 'connect_refused' && scope === 'db') return 'db_unreachable';
  if (transport) return transport;
  if (code === 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED') return 'issuer_mismatch';
  if (BAD_RESPONSE_CODES.has(code)) return 'bad_response';
  // PostgreSQL SQLSTATE (five characters)
  if (/^[0-9]{2}[0-9A-Z]{3}$/.test(code)) {
    if (code.startsWith('28') || code === '3D000') return 'db_auth';
    if (code === '42P01' || code === '3F000' || code === '42703') return 'db_schema';
    if (code === '57P01' || code === '57P02' || code === '57P03' || code.startsWith('08')) return 'db_unreachable';
    return 'db_query';
  }
  return undefined;
}

/** pg reports its client-side timeouts and lost connections only in the message. */
function reasonForMessage(message: string, scope: ClassifyScope): Reason | undefined {
  if (/query read timeout|connection timeout|timeout exceeded when trying to connect|timed? ?out/i.test(message)) return 'timeout';
  if (/connection terminated unexpectedly|socket hang up|other side closed|socket closed/i.test(message)) {
    return scope === 'db' ? 'db_unreachable' : 'connection_reset';
  }
  if (/password authentication failed|no pg_hba\.conf entry|SASL/i.test(message)) return 'db_auth';
  if (/unexpected "iss"|issuer.*(mismatch|does not match)/i.test(message)) return 'issuer_mismatch';
  return undefined;
}

export type ClassifyScope = 'http' | 'db' | 'tls';

/**
 * Map any thrown value to a bounded reason and a one-line message. `scope` only changes how a
 * refused/closed connection is named (the db probe calls it `db_unreachable`, like pg_up = 0).
 */
export function classify(error: unknown, scope: ClassifyScope = 'http'): Classified {
  if (error instanceof ProbeFailure) return { reason: error.reason, message: oneLine(error.message) };
  if (error instanceof SentinelError && error.code.startsWith('coolify_')) return { reason: coolifyReason(error, scope), message: oneLine(error.message) };
  const links = chain(error);
  const top = links[0];
  for (const e of links) {
    const name = typeof e.name === 'string' ? e.name : '';
    if (name === 'TimeoutError' || name === 'AbortError') return { reason: 'timeout', message: oneLine(timeoutMessage(e)) };
  }
  for (const e of links) {
    // Node reports a handshake the peer cut short as ECONNRESET; TCP worked, TLS did not.
    if (/before secure TLS connection was established/i.test(messageOf(e))) {
      return { reason: 'tls_handshake', message: oneLine(describe(top, e, typeof e.code === 'string' ? e.code : undefined)) };
    }
  }
  for (const e of links) {
    const code = typeof e.code === 'string' ? e.code : '';
    if (!code) continue;
    const reason = reasonForCode(code, scope);
    if (reason) return { reason, message: oneLine(describe(top, e, code)) };
  }
  for (const e of links) {
    const reason = reasonForMessage(messageOf(e), scope);
    if (reason) return { reason, message: oneLine(describe(top, e)) };
  }
  if (error instanceof SyntaxError) return { reason: 'bad_response', message: oneLine(`response is not valid JSON: ${error.message}`) };
  return { reason: 'unexpected', message: oneLine(links.length > 0 ? describe(top, links[links.length - 1]) : String(error)) };
}

function timeoutMessage(e: ErrorLike): string {
  const text = messageOf(e);
  return /deadline|timed? ?out/i.test(text) ? text : `deadline exceeded (${text})`;
}

/** "fetch failed: connect ECONNREFUSED 127.0.0.1:1 (ECONNREFUSED)" — the wrapper and the real cause. */
function describe(top: ErrorLike | undefined, cause: ErrorLike | undefined, code?: string): string {
  const outer = messageOf(top);
  const inner = messageOf(cause);
  const text = top === cause || outer === inner ? inner : `${outer}: ${inner}`;
  return code && !text.includes(code) ? `${text} (${code})` : text;
}

/**
 * core/coolify.ts's closed codes. Its messages already say what to fix (and never carry the token);
 * only the reason is decided here.
 */
function coolifyReason(error: SentinelError, scope: ClassifyScope): Reason {
  switch (error.code) {
    case 'coolify_unauthorized':
    case 'coolify_forbidden':
      return 'coolify_auth';
    case 'coolify_not_found':
      return 'resource_missing';
    case 'coolify_endpoint_missing':
      return 'not_supported';
    case 'coolify_timeout':
      return 'timeout';
    case 'coolify_deploy_failed':
      return 'deploy_failed';
    case 'coolify_unreachable': {
      // The cause keeps the socket or TLS code (ECONNREFUSED, ENOTFOUND, a certificate error).
      const transport = error.cause ? classify(error.cause, scope).reason : 'unexpected';
      return transport === 'unexpected' || transport === 'timeout' ? 'connect_refused' : transport;
    }
    default: {
      const status = (error as { httpStatus?: unknown }).httpStatus;
      return typeof status === 'number' && (status >= 500 || status === 429) ? 'http_status' : 'bad_response';
    }
  }
}
