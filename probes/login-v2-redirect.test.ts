import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { signInRecordPath } from '../core/sign-in-record.ts';
import { runProbe } from './run-probe.ts';
import { testConfig } from './test-support/probe-config.ts';
import { startHttp, type Running } from './test-support/servers.ts';

/**
 * A small fake app + IdP pair answering like docs/target-contract.md §3.2–§3.3: Better Auth's sign-in/social and
 * Zitadel's authorize redirect. `mode` selects one failure mode per test.
 */
type Mode = 'v2' | 'v1' | 'wrong-host' | 'rate-limited' | 'rate-limited-once' | 'no-provider' | 'idp-400' | 'redirect-invalid' | 'login-500' | 'bad-redirect-uri' | 'login-hop';
let mode: Mode = 'v2';
let app: Running;
let idp: Running;
const STATE = 'Zq3vX9sTATEvalue0123456789abcdef';
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';
let signInRequests: Array<{ origin: string | undefined; body: string }> = [];

function appHandler(req: IncomingMessage, res: ServerResponse) {
  let body = '';
  req.on('data', (d) => (body += String(d)));
  req.on('end', () => {
    if (req.method !== 'POST' || req.url !== '/api/auth/sign-in/social') return void res.writeHead(404).end();
    signInRequests.push({ origin: req.headers.origin, body });
    // Better Auth's limiter: 429 with the seconds left in its window (3 sign-ins per 10 s per IP)
    if (mode === 'rate-limited') return void res.writeHead(429, { 'x-retry-after': '30' }).end();
    if (mode === 'rate-limited-once' && signInRequests.length === 1) return void res.writeHead(429, { 'x-retry-after': '1' }).end();
    if (mode === 'no-provider') return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"Provider not found","code":"PROVIDER_NOT_FOUND"}');
    const redirectUri = mode === 'bad-redirect-uri' ? `${app.url}/` : `${app.url}/api/auth/callback/zitadel`;
    const url = `${idp.url}/oauth/v2/authorize?response_type=code&client_id=339871234567890123&state=${STATE}&scope=openid+profile+email+offline_access&redirect_uri=${encodeURIComponent(redirectUri)}&code_challenge_method=S256&code_challenge=${CHALLENGE}`;
    res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': `better-auth.state=${STATE}.sig; Path=/; HttpOnly; SameSite=Lax` }).end(JSON.stringify({ url, redirect: true }));
  });
}

function idpHandler(req: IncomingMessage, res: ServerResponse) {
  const url = new URL(req.url ?? '/', idp.url);
  if (url.pathname === '/oauth/v2/authorize') {
    const redirect = (location: string) => void res.writeHead(302, { location }).end();
    switch (mode) {
      case 'v1':
        return redirect('/ui/login/login?authRequestID=312345678901234567');
      case 'wrong-host':
        return redirect('https://gadgetbot-auth.example.invalid/ui/v2/login/login?authRequest=V2_312345678901234567');
      case 'idp-400':
        return void res.writeHead(400, { 'content-type': 'text/html' }).end('<html>Errors.App.NotFound</html>');
      case 'redirect-invalid':
        return redirect(`${app.url}/api/auth/callback/zitadel?error=invalid_request&error_description=The+requested+redirect_uri+is+missing+in+the+client+configuration`);
      case 'login-hop':
        return redirect('/ui/v2/login/login?authRequest=V2_312345678901234567&hop=1');
      default:
        return redirect('/ui/v2/login/login?authRequest=V2_312345678901234567');
    }
  }
  if (url.pathname === '/ui/v2/login/login') {
    if (mode === 'login-500') return void res.writeHead(500).end('Instance not found');
    if (mode === 'login-hop' && url.searchParams.get('hop') === '1') return void res.writeHead(307, { location: '/ui/v2/login/loginname?authRequest=V2_312345678901234567' }).end();
    return void res.writeHead(200, { 'content-type': 'text/html' }).end('<html><input data-testid="username-text-input"></html>');
  }
  if (url.pathname === '/ui/v2/login/loginname') return void res.writeHead(200, { 'content-type': 'text/html' }).end('<html></html>');
  res.writeHead(404).end('{"code":5,"message":"Not Found"}');
}

const config = () => testConfig({ appUrl: app.url, issuer: idp.url, clientId: '339871234567890123' });

beforeAll(async () => {
  app = await startHttp(appHandler);
  idp = await startHttp(idpHandler);
});
afterAll(async () => {
  await app.close();
  await idp.close();
});
beforeEach(() => {
  signInRequests = [];
  // Each test is one sign-in against a fake app with no limiter of its own: forget the earlier ones, or
  // the suite's pacing (core/sign-in-record.ts) spaces these tests out and, on a busy machine, past the probe's deadline.
  rmSync(signInRecordPath(app.url), { force: true });
});

async function probe(m: Mode) {
  mode = m;
  const result = await runProbe('login-v2-redirect', config());
  // Never leak the state or the PKCE challenge into results.
  const serialized = JSON.stringify(result);
  expect(serialized).not.toContain(STATE);
  expect(serialized).not.toContain(CHALLENGE);
  expect(serialized).not.toContain('312345678901234567');
  return result;
}

describe('login-v2-redirect probe', () => {
  it('passes the Login V2 redirect and a 200 login page, with one sign-in request carrying Origin', async () => {
    const result = await probe('v2');
    expect(result.message).toBeUndefined();
    expect(result.status).toBe('passed');
    expect(result.observations).toMatchObject({ loginUi: 'v2', httpStatusCode: 200, authorizeHost: new URL(idp.url).host, loginPath: '/ui/v2/login/login', signInStatusCode: 200, authorizeStatusCode: 302, loginPageStatusCode: 200 });
    expect(signInRequests).toEqual([{ origin: app.url, body: '{"provider":"zitadel","callbackURL":"/admin"}' }]);
  });

  it('follows redirects inside the IdP to the login page', async () => {
    const result = await probe('login-hop');
    expect(result.status).toBe('passed');
  });

  it('fails login_v1 on the classic login location', async () => {
    const result = await probe('v1');
    expect(result).toMatchObject({ status: 'failed', reason: 'login_v1', observations: { loginUi: 'v1', loginPath: '/ui/login/login' } });
  });

  it('fails login_wrong_host when Login V2 lives on another host', async () => {
    const result = await probe('wrong-host');
    expect(result).toMatchObject({ status: 'failed', reason: 'login_wrong_host' });
    expect(result.message).toBe(`login location host: observed "https://gadgetbot-auth.example.invalid" expected "${idp.url}"`);
  });

  it('waits out a 429 for the time the app states, asks again and passes, reporting the wait', async () => {
    const result = await probe('rate-limited-once');
    expect(result.message).toBeUndefined();
    expect(result).toMatchObject({ status: 'passed', observations: { loginUi: 'v2', signInStatusCode: 200, signInWaitMs: 1_000 } });
    expect(signInRequests).toHaveLength(2);
  });

  it('is not failed rate_limited by our own sign-ins of a moment ago: the slot is waited for before the deadline starts', async () => {
    // Three sign-ins of this machine 9 s ago (a run just before, the monitor's flow): the next is free in ~2.5 s.
    const recent = Date.now() - 9_000;
    mkdirSync(dirname(signInRecordPath(app.url)), { recursive: true });
    writeFileSync(signInRecordPath(app.url), JSON.stringify([recent - 200, recent - 100, recent]));
    mode = 'v2';
    const result = await runProbe('login-v2-redirect', config(), { timeoutMs: 1_000 });
    expect(result.message).toBeUndefined();
    expect(result.status).toBe('passed');
    expect(result.observations?.signInWaitMs).toBeGreaterThan(0);
    expect(signInRequests).toHaveLength(1);
  });

  it('fails rate_limited only when the stated wait outlasts the deadline, without waiting', async () => {
    const result = await probe('rate-limited');
    expect(result).toMatchObject({ status: 'failed', reason: 'rate_limited', observations: { httpStatusCode: 429, signInStatusCode: 429 } });
    expect(result.message).toMatch(/^sign-in: POST \/api\/auth\/sign-in\/social answered 429 and asks to wait 30 s, beyond the probe's deadline \(\d+ s left\)$/);
    expect(result.observations).not.toHaveProperty('signInWaitMs');
    expect(signInRequests).toHaveLength(1);
  });

  it('fails sign_in_error when the provider is not registered', async () => {
    const result = await probe('no-provider');
    expect(result).toMatchObject({ status: 'failed', reason: 'sign_in_error' });
  });

  it('fails idp_error when the IdP answers the authorize request with an error page', async () => {
    const result = await probe('idp-400');
    expect(result).toMatchObject({ status: 'failed', reason: 'idp_error', observations: { httpStatusCode: 400 } });
  });

  it('fails redirect_uri_mismatch when the IdP rejects the redirect uri', async () => {
    const result = await probe('redirect-invalid');
    expect(result).toMatchObject({ status: 'failed', reason: 'redirect_uri_mismatch' });
  });

  it('fails redirect_uri_mismatch when the app builds a wrong redirect_uri', async () => {
    const result = await probe('bad-redirect-uri');
    expect(result).toMatchObject({ status: 'failed', reason: 'redirect_uri_mismatch' });
    expect(result.message).toBe(`redirect_uri: observed "${app.url}/" expected "${app.url}/api/auth/callback/zitadel"`);
  });

  it('fails login_page_error when the login page does not answer 200', async () => {
    const result = await probe('login-500');
    expect(result).toMatchObject({ status: 'failed', reason: 'login_page_error', observations: { loginUi: 'v2', httpStatusCode: 500 } });
  });
});
