/**
 * `idp-health` probe: the health endpoints of both Zitadel containers, through the public domain.
 * Zitadel core: `/debug/healthz` (liveness) and `/debug/ready` (readiness: 412 when its database check
 * fails). Login V2 (its own container under the login base path): `<base>/healthy` (liveness) and
 * `<base>/ready` (503 when it cannot reach Zitadel's API). Discovery and the login pages can still
 * answer while either is not ready, so neither oidc-discovery nor login-v2-redirect sees this.
 * A 200 must carry the endpoint's own answer: a catch-all page of another app also answers 200.
 * The four requests run side by side; the verdicts keep this order, core first: a login container is
 * not ready while Zitadel is not, and then Zitadel is the one to fix.
 */
import { Assertions } from './assertions.ts';
import { readText, withProbeHttp, type ProbeHttp } from './http.ts';
import { failedWith, fromAssertions } from './probe-result.ts';
import type { ProbeFn } from './types.ts';
import type { Reason } from '../core/result.ts';

interface Endpoint {
  name: 'zitadelHealthz' | 'zitadelReady' | 'loginHealthy' | 'loginReady';
  path: string;
  reason: Extract<Reason, 'idp_not_ready' | 'login_not_ready'>;
  /** what the 200 body is; a catch-all page (another app behind the domain) answers 200 too */
  body: string;
  bodyFits: (text: string) => boolean;
}

const isOk = (text: string): boolean => {
  const trimmed = text.trim();
  try {
    const parsed: unknown = JSON.parse(trimmed);
    if (typeof parsed === 'string') return parsed.toLowerCase() === 'ok';
  } catch {
    // plain text
  }
  return trimmed.toLowerCase() === 'ok';
};

const isJsonObject = (text: string): boolean => {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
  } catch {
    return false;
  }
};

/** Zitadel: healthz writes ok, ready the JSON string "ok"; Login V2: healthy answers {}, ready a plain OK. */
export function healthEndpoints(loginBasePath: string): Endpoint[] {
  return [
    { name: 'zitadelHealthz', path: '/debug/healthz', reason: 'idp_not_ready', body: 'ok', bodyFits: isOk },
    { name: 'zitadelReady', path: '/debug/ready', reason: 'idp_not_ready', body: 'ok', bodyFits: isOk },
    { name: 'loginHealthy', path: `${loginBasePath}/healthy`, reason: 'login_not_ready', body: 'a JSON object', bodyFits: isJsonObject },
    { name: 'loginReady', path: `${loginBasePath}/ready`, reason: 'login_not_ready', body: 'OK', bodyFits: isOk },
  ];
}

async function get(http: ProbeHttp, url: string): Promise<{ status: number; text: string; contentType: string }> {
  const response = await http.fetch(url, { headers: { accept: 'application/json, text/plain' } });
  // Health answers are a few bytes: a longer body is not one, and is not read further.
  const text = await readText(response, 4096);
  return { status: response.status, text, contentType: (response.headers.get('content-type') ?? '(no content-type)').split(';')[0]! };
}

export const idpHealthProbe: ProbeFn = async (config, ctx) => {
  const observations: Record<string, unknown> = { httpStatusCode: 0 };
  const assertions = new Assertions();
  try {
    await withProbeHttp(ctx, async (http) => {
      const endpoints = healthEndpoints(config.loginBasePath);
      const answers = await Promise.all(endpoints.map((e) => get(http, `${config.issuer}${e.path}`)));
      endpoints.forEach((endpoint, i) => {
        const answer = answers[i]!;
        observations[endpoint.name] = answer.status;
        if (assertions.equal(`GET ${endpoint.path} status`, answer.status, 200, endpoint.reason)) {
          assertions.check(`GET ${endpoint.path} body`, endpoint.bodyFits(answer.text), `${answer.contentType}, ${answer.text.length} bytes`, endpoint.body, 'bad_response');
        }
      });
      observations.httpStatusCode = answers.find((a) => a.status !== 200)?.status ?? 200;
    });
  } catch (error) {
    return failedWith('idp-health', error, 'http', assertions, observations);
  }
  return fromAssertions('idp-health', assertions, observations);
};
