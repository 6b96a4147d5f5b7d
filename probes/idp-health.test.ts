import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startIdp, type RunningIdp } from '../fixtures/stack/idp/test-support.ts';
import { runProbe } from './run-probe.ts';
import { testConfig } from './test-support/probe-config.ts';
import { startHttp, type Running } from './test-support/servers.ts';

/** idp-health against the stand-in Zitadel (both containers' endpoints, and its readiness faults) and a bare server. */
const user = { loginName: 'demo', name: 'Demo User', sub: '300000000000000001', email: 'demo@gadgetbot.localhost', password: `Pw-${randomBytes(9).toString('base64url')}` };
const CASES = ['healthy', 'idp-not-ready', 'idp-login-not-ready'] as const;
const idps = new Map<string, RunningIdp>();
let bare: Running;
const bareStatuses: Record<string, number> = {};
let bareCatchAll = false;
// What each endpoint of the real containers answers (Zitadel api.go healthHandler, Login V2 healthy/ready routes).
const HEALTH_BODIES: Record<string, string> = { '/debug/healthz': 'ok', '/debug/ready': '"ok"', '/auth/login/healthy': '{}', '/auth/login/ready': 'OK' };

beforeAll(async () => {
  for (const name of CASES) {
    idps.set(name, await startIdp({ users: [user], clientId: '344936354465016579', redirectUri: 'https://localhost:1/api/auth/callback/zitadel', postLogoutUri: 'https://localhost:1', faults: name === 'healthy' ? [] : [name] }));
  }
  bare = await startHttp((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (bareCatchAll) return void res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>GadgetBot</title>');
    res.writeHead(bareStatuses[path] ?? 200, { 'content-type': 'text/plain' }).end(HEALTH_BODIES[path] ?? 'not found');
  });
}, 120_000);
afterAll(async () => {
  await Promise.all([...idps.values()].map((idp) => idp.stop()));
  await bare?.close();
});

const configFor = (issuer: string, loginBasePath?: string) => testConfig({ appUrl: 'http://127.0.0.1:1', issuer, ...(loginBasePath ? { loginBasePath } : {}) });

describe('idp-health', () => {
  it('passes when Zitadel (/debug/healthz, /debug/ready) and the Login V2 container (/healthy, /ready) answer 200', async () => {
    const idp = idps.get('healthy')!;
    const result = await runProbe('idp-health', configFor(idp.issuer));
    expect(result).toMatchObject({ status: 'passed', target: idp.issuer, observations: { httpStatusCode: 200, zitadelHealthz: 200, zitadelReady: 200, loginHealthy: 200, loginReady: 200 } });
    expect(result.assertions?.map((a) => a.name)).toEqual([
      'GET /debug/healthz status', 'GET /debug/healthz body', 'GET /debug/ready status', 'GET /debug/ready body',
      'GET /ui/v2/login/healthy status', 'GET /ui/v2/login/healthy body', 'GET /ui/v2/login/ready status', 'GET /ui/v2/login/ready body',
    ]);
  });

  it('idp_not_ready (idp-not-ready): /debug/ready answers 412 while discovery still answers; the login container follows', async () => {
    const idp = idps.get('idp-not-ready')!;
    const result = await runProbe('idp-health', configFor(idp.issuer));
    expect(result).toMatchObject({ status: 'failed', reason: 'idp_not_ready', message: 'GET /debug/ready status: observed 412 expected 200', observations: { httpStatusCode: 412, zitadelReady: 412, loginReady: 503 } });
    expect((await runProbe('oidc-discovery', configFor(idp.issuer))).status).toBe('passed');
  });

  it('login_not_ready (idp-login-not-ready): the login container\'s /ready answers 503 while its pages render and Zitadel is ready', async () => {
    const idp = idps.get('idp-login-not-ready')!;
    const result = await runProbe('idp-health', configFor(idp.issuer));
    expect(result).toMatchObject({ status: 'failed', reason: 'login_not_ready', message: 'GET /ui/v2/login/ready status: observed 503 expected 200', observations: { zitadelReady: 200, loginHealthy: 200, loginReady: 503 } });
  });

  it('uses the configured login base path, and a login build without /ready is not ready', async () => {
    expect(await runProbe('idp-health', configFor(bare.url, '/auth/login'))).toMatchObject({ status: 'passed' });
    bareStatuses['/auth/login/ready'] = 404;
    try {
      const result = await runProbe('idp-health', configFor(bare.url, '/auth/login'));
      expect(result).toMatchObject({ status: 'failed', reason: 'login_not_ready', message: 'GET /auth/login/ready status: observed 404 expected 200' });
    } finally {
      delete bareStatuses['/auth/login/ready'];
    }
  });

  it('bad_response: a catch-all page answering 200 everywhere (another app behind the domain) is no health answer', async () => {
    bareCatchAll = true;
    try {
      const result = await runProbe('idp-health', configFor(bare.url, '/auth/login'));
      expect(result).toMatchObject({ status: 'failed', reason: 'bad_response', message: 'GET /debug/healthz body: observed "text/html, 39 bytes" expected "ok"' });
    } finally {
      bareCatchAll = false;
    }
  });

  it('a refused connection and a deadline are transport failures, not readiness verdicts', async () => {
    expect(await runProbe('idp-health', configFor('http://127.0.0.1:1'))).toMatchObject({ status: 'failed', reason: 'connect_refused' });
    const silent = await startHttp(() => undefined);
    try {
      expect(await runProbe('idp-health', configFor(silent.url), { timeoutMs: 500 })).toMatchObject({ status: 'failed', reason: 'timeout' });
    } finally {
      await silent.close();
    }
  });
});
