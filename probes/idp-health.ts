/**
 * `idp-health` probe: the health endpoints of both Zitadel containers, through the public domain.
 * Zitadel core: `/debug/healthz` (liveness) and `/debug/ready` (readiness: 412 when its database check
 * fails). Login V2 (its own container under the login base path): `<base>/healthy` (liveness) and
 * `<base>/ready` (503 when it cannot reach Zitadel's API). Discovery and the login pages can still
 * answer while either is not ready, so neither oidc-discovery nor login-v2-redirect sees this.
 * The four requests run side by side; the verdicts keep this order, core first: a login container is
 * not ready while Zitadel is not, and then Zitadel is the one to fix.
 */
import { Assertions } from './assertions.ts';
import { readText, withProbeHttp, type ProbeHttp } from './http.ts';
import { failedWith, fromAssertions } from './outcome.ts';
import type { ProbeFn } from './types.ts';
import type { Reason } from '../core/result.ts';

interface Endpoint {
  name: 'zitadelHealthz' | 'zitadelReady' | 'loginHealthy' | 'loginReady';
  path: string;
  reason: Extract<Reason, 'idp_not_ready' | 'login_not_ready'>;
}

export function healthEndpoints(loginBasePath: string): Endpoint[] {
  return [
    { name: 'zitadelHealthz', path: '/debug/healthz', reason: 'idp_not_ready' },
    { name: 'zitadelReady', path: '/debug/ready', reason: 'idp_not_ready' },
    { name: 'loginHealthy', path: `${loginBasePath}/healthy`, reason: 'login_not_ready' },
    { name: 'loginReady', path: `${loginBasePath}/ready`, reason: 'login_not_ready' },
  ];
}

async function status(http: ProbeHttp, url: string): Promise<number> {
  const response = await http.fetch(url, { headers: { accept: 'application/json, text/plain' } });
  await readText(response, 4096); // drained, so the keep-alive socket is free again; the body is not judged
  return response.status;
}

export const idpHealthProbe: ProbeFn = async (config, ctx) => {
  const observations: Record<string, unknown> = { httpStatusCode: 0 };
  const assertions = new Assertions();
  try {
    await withProbeHttp(ctx, async (http) => {
      const endpoints = healthEndpoints(config.loginBasePath);
      const statuses = await Promise.all(endpoints.map((e) => status(http, `${config.issuer}${e.path}`)));
      endpoints.forEach((endpoint, i) => {
        observations[endpoint.name] = statuses[i];
        assertions.equal(`GET ${endpoint.path} status`, statuses[i], 200, endpoint.reason);
      });
      observations.httpStatusCode = statuses.find((s) => s !== 200) ?? 200;
    });
  } catch (error) {
    return failedWith('idp-health', error, 'http', assertions, observations);
  }
  return fromAssertions('idp-health', assertions, observations);
};
