/**
 * HTTP for the probes, on Node's own http/https: a per-probe pair of keep-alive agents, redirects
 * never followed (every probe reads its Location itself), and how long each new connection took
 * (TCP + TLS), so app-health can report a connect phase without guessing. Node's client rather than
 * undici's: the probes run every minute in the long-lived monitor, and undici (its WebAssembly
 * parser) costs that process ~25 MB for the same requests.
 *
 * Certificates are not verified by default: the `tls` probe owns chain, hostname and expiry verdicts
 * for every host. An expired certificate is then one red check with a precise reason (`tls_expiry`),
 * not four checks failing with a transport error, and the HTTP probes keep measuring behaviour.
 * `verifyTls` is for content a verdict is computed from (the migrations journal): it must come from
 * the server it names — system roots plus the configured CA, and the host name as browsers judge it.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { X509Certificate } from 'node:crypto';
import type { Socket } from 'node:net';
import type { PeerCertificate } from 'node:tls';
import { trustContext } from '../core/trust-context.ts';
import { browserHostnameMismatch } from './trust.ts';
import type { ProbeContext } from './types.ts';

export interface ProbeRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** default: the probe's own deadline */
  signal?: AbortSignal;
}

export interface ProbeResponse {
  status: number;
  headers: { get(name: string): string | null };
  /** the body, read with readText; ends with the probe's deadline */
  body: IncomingMessage;
  signal: AbortSignal;
}

export interface ProbeHttp {
  /** One request on the probe's agents, bound to its deadline; redirects are returned, not followed. */
  fetch(url: string | URL, init?: ProbeRequest): Promise<ProbeResponse>;
  /** Milliseconds each new connection took, in order of opening. */
  connectTimings: number[];
  close(): Promise<void>;
}

export interface ProbeHttpOptions {
  /** Verify certificates (chain, expiry, host name as browsers judge it); default false. */
  verifyTls?: boolean;
}

/** tls.connect's identity check with the browsers' rule; the error code is Node's own for a name mismatch. */
function checkBrowserIdentity(host: string, cert: PeerCertificate): Error | undefined {
  const mismatch = browserHostnameMismatch(new X509Certificate(cert.raw), host);
  return mismatch ? Object.assign(new Error(mismatch), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' }) : undefined;
}

function httpsAgent(ctx: ProbeContext, verify: boolean): HttpsAgent {
  if (!verify) return new HttpsAgent({ keepAlive: true, rejectUnauthorized: false });
  const secureContext = trustContext(ctx.caCerts);
  return new HttpsAgent({ keepAlive: true, rejectUnauthorized: true, checkServerIdentity: checkBrowserIdentity, ...(secureContext ? { secureContext } : {}) });
}

export function createProbeHttp(ctx: ProbeContext, options: ProbeHttpOptions = {}): ProbeHttp {
  const connectTimings: number[] = [];
  const agents = { http: new HttpAgent({ keepAlive: true }), https: httpsAgent(ctx, options.verifyTls ?? false) };
  const open = new Set<IncomingMessage>();

  const fetch = (url: string | URL, init: ProbeRequest = {}): Promise<ProbeResponse> => {
    const target = new URL(url);
    const signal = init.signal ?? ctx.signal;
    const secure = target.protocol === 'https:';
    if (!secure && target.protocol !== 'http:') return Promise.reject(Object.assign(new TypeError(`unsupported URL scheme ${target.protocol}`), { code: 'ERR_INVALID_URL_SCHEME' }));
    const headers: OutgoingHttpHeaders = { ...init.headers };
    if (init.body !== undefined) headers['content-length'] = Buffer.byteLength(init.body);
    return new Promise<ProbeResponse>((resolve, reject) => {
      // An abort rejects with the signal's reason (a TimeoutError at the deadline), as fetch does.
      const fail = (error: unknown) => reject(signal.aborted ? signal.reason : error);
      if (signal.aborted) return fail(signal.reason);
      const started = performance.now();
      const request = (secure ? httpsRequest : httpRequest)(target, { method: init.method ?? 'GET', headers, agent: secure ? agents.https : agents.http, signal });
      request.once('socket', (socket: Socket) => {
        if (request.reusedSocket) return;
        socket.once(secure ? 'secureConnect' : 'connect', () => connectTimings.push(Math.round(performance.now() - started)));
      });
      request.once('error', fail);
      request.once('response', (response) => {
        open.add(response);
        response.once('close', () => open.delete(response));
        resolve({
          status: response.statusCode ?? 0,
          headers: {
            get: (name) => {
              const value = response.headers[name.toLowerCase()];
              return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
            },
          },
          body: response,
          signal,
        });
      });
      request.end(init.body);
    });
  };

  return {
    connectTimings,
    fetch,
    close: async () => {
      for (const response of open) response.destroy();
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}

/** Run `fn` with a ProbeHttp and always release its sockets. */
export async function withProbeHttp<T>(ctx: ProbeContext, fn: (http: ProbeHttp) => Promise<T>, options: ProbeHttpOptions = {}): Promise<T> {
  const http = createProbeHttp(ctx, options);
  try {
    return await fn(http);
  } finally {
    await http.close();
  }
}

/**
 * Read at most `limit` characters of a body (a broken server must not make us buffer forever): the
 * stream is read chunk by chunk and dropped once the limit is reached, instead of buffering a body
 * that never ends until the deadline (and the probe's memory) runs out.
 */
export async function readText(response: ProbeResponse, limit = 512 * 1024): Promise<string> {
  const decoder = new TextDecoder();
  let text = '';
  try {
    for await (const chunk of response.body) {
      text += decoder.decode(chunk as Buffer, { stream: true });
      if (text.length >= limit) break; // leaving the loop destroys the stream
    }
    text += decoder.decode();
  } catch (error) {
    throw response.signal.aborted ? response.signal.reason : error;
  }
  return text.length > limit ? text.slice(0, limit) : text;
}
