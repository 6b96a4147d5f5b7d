/**
 * openid-client's custom fetch on the probes' own HTTP client: every request ends at the probe's
 * deadline (openid-client's per-request timeout and the probe's signal, whichever comes first) and
 * the status of the last response is kept, so a probe can say which endpoint answered what.
 */
import { readText, type ProbeHttp } from './http.ts';

export interface OidcFetch {
  fetch(url: string, options: { body?: unknown; headers?: Record<string, string>; method?: string; signal?: AbortSignal }): Promise<Response>;
  /** The last response: its URL without a query, and its status. */
  last?: { url: string; status: number };
}

// A Response with one of these statuses must not carry a body (the constructor throws).
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

function withoutQuery(url: string): string {
  const u = new URL(url);
  return `${u.origin}${u.pathname}`;
}

export function oidcFetch(http: ProbeHttp, probeSignal: AbortSignal): OidcFetch {
  const state: OidcFetch = {
    async fetch(url, options) {
      const signal = options.signal ? AbortSignal.any([options.signal, probeSignal]) : probeSignal;
      const body = options.body === undefined || options.body === null ? undefined : String(options.body);
      const response = await http.fetch(url, { method: options.method ?? 'GET', headers: options.headers ?? {}, ...(body === undefined ? {} : { body }), signal });
      const text = await readText(response);
      state.last = { url: withoutQuery(url), status: response.status };
      const headers = new Headers();
      for (const [name, value] of Object.entries(response.body.headers)) {
        if (value === undefined) continue;
        for (const one of Array.isArray(value) ? value : [value]) headers.append(name, one);
      }
      return new Response(NULL_BODY_STATUSES.has(response.status) ? null : text, { status: response.status, headers });
    },
  };
  return state;
}
