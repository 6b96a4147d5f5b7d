/**
 * HTTP for the probes: undici's own fetch with a per-probe Agent that never follows redirects unless
 * asked, and records how long each new connection took (TCP + TLS), so app-health can report a
 * connect phase without guessing.
 *
 * Certificates are not verified here: the `tls` probe owns chain, hostname and expiry verdicts for
 * every host. An expired certificate is then one red check with a precise reason (`tls_expiry`),
 * not four checks failing with a transport error, and the HTTP probes keep measuring behaviour.
 */
import { Agent, buildConnector, fetch, type RequestInit, type Response } from 'undici';
import type { ProbeContext } from './types.ts';

export interface ProbeHttp {
  /** fetch bound to the probe's Agent and deadline; `redirect` defaults to 'manual'. */
  fetch(url: string | URL, init?: RequestInit): Promise<Response>;
  /** Milliseconds each new connection took, in order of opening. */
  connectTimings: number[];
  close(): Promise<void>;
}

export function createProbeHttp(ctx: ProbeContext): ProbeHttp {
  const connectTimings: number[] = [];
  const connector = buildConnector({ rejectUnauthorized: false });
  const agent = new Agent({
    connect(options, callback) {
      const started = performance.now();
      connector(options, (...args) => {
        connectTimings.push(Math.round(performance.now() - started));
        callback(...args);
      });
    },
  });
  return {
    connectTimings,
    fetch: (url, init = {}) => fetch(url, { redirect: 'manual', ...init, signal: init.signal ?? ctx.signal, dispatcher: agent }),
    close: async () => {
      await agent.destroy().catch(() => undefined);
    },
  };
}

/** Run `fn` with a ProbeHttp and always release its sockets. */
export async function withProbeHttp<T>(ctx: ProbeContext, fn: (http: ProbeHttp) => Promise<T>): Promise<T> {
  const http = createProbeHttp(ctx);
  try {
    return await fn(http);
  } finally {
    await http.close();
  }
}

/**
 * Read at most `limit` characters of a body (a broken server must not make us buffer forever): the
 * stream is read chunk by chunk and cancelled once the limit is reached, instead of `text()` buffering
 * a body that never ends until the deadline (and the probe's memory) runs out.
 */
export async function readText(response: Response, limit = 512 * 1024): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let finished = false;
  try {
    while (text.length < limit) {
      const { done, value } = await reader.read();
      if (done) {
        finished = true;
        text += decoder.decode();
        break;
      }
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    if (!finished) await reader.cancel().catch(() => undefined);
  }
  return text.length > limit ? text.slice(0, limit) : text;
}
