/**
 * `login-v2-redirect` probe, HTTP only: start the app's sign-in exactly as the browser does, check the
 * authorize URL Better Auth built, ask the IdP for it without following the redirect, and require
 * Zitadel's Login V2 location, then that the login page answers 200.
 *
 * Cost: this makes ONE `POST /api/auth/sign-in/social`, which Better Auth rate-limits to 3 per 10 s
 * per IP in production and which writes one `verifications` row (expires in 10 min). Its slot in the
 * suite's sign-in record (core/sign-in-record.ts) is claimed by the runner before the deadline starts; a 429 all the same (another machine, an
 * operator) is waited out for the time the app states when that fits the probe's deadline, then asked
 * again; the waits are reported as `signInWaitMs`. The
 * state and code_challenge values never reach the output: only their presence and length are asserted.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Config } from '../core/config.ts';
import type { LoginUi } from '../core/observations.ts';
import { retryAfterMs } from '../core/sign-in-limit.ts';
import { SignInSlotTimeout, claimSignInSlot } from '../core/sign-in-record.ts';
import { authorizeUrlRules, expectedRedirectUri, judgeLoginRedirect } from '../core/sign-in-rules.ts';
import { Assertions } from './assertions.ts';
import { ProbeFailure } from './errors.ts';
import { readText, withProbeHttp, type ProbeHttp } from './http.ts';
import { failedWith, fromAssertions } from './probe-result.ts';
import type { ProbeContext, ProbeFn } from './types.ts';

const MAX_LOGIN_PAGE_REDIRECTS = 5;
/** What the rest of the probe (authorize, login page) needs after a rate-limit wait: three quick requests. */
const AFTER_WAIT_BUDGET_MS = 2_000;

async function postSignIn(config: Config, http: ProbeHttp) {
  const origin = new URL(config.appUrl).origin;
  const response = await http.fetch(`${config.appUrl}/api/auth/sign-in/social`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin, accept: 'application/json' },
    body: JSON.stringify({ provider: 'zitadel', callbackURL: '/admin' }),
  });
  return { response, text: await readText(response, 16 * 1024) };
}

/** Start sign-in, waiting out a 429 for the time the app states while the deadline allows; returns the authorize URL. */
async function startSignIn(config: Config, ctx: ProbeContext, http: ProbeHttp, observations: Record<string, unknown>): Promise<URL> {
  let waitedMs = ctx.signInWaitedMs ?? 0;
  // The suite's own sign-ins on this machine (a run's browser flows, the monitor's) first, from the shared
  // record: the runner claimed the slot before the deadline started (probes/run-probe.ts), else claim it here.
  if (ctx.signInWaitedMs === undefined) {
    try {
      waitedMs += await claimSignInSlot(config.appUrl, { timeoutMs: Math.max(0, (ctx.remainingMs?.() ?? 0) - AFTER_WAIT_BUDGET_MS), signal: ctx.signal });
    } catch (error) {
      if (error instanceof SignInSlotTimeout) throw new ProbeFailure('rate_limited', `sign-in: ${error.message}, beyond the probe's deadline`);
      throw error;
    }
  }
  let { response, text } = await postSignIn(config, http);
  while (response.status === 429) {
    const waitMs = retryAfterMs((name) => response.headers.get(name));
    const remainingMs = ctx.remainingMs?.() ?? 0;
    if (waitMs + AFTER_WAIT_BUDGET_MS > remainingMs) {
      observations.httpStatusCode = response.status;
      observations.signInStatusCode = response.status;
      if (waitedMs > 0) observations.signInWaitMs = waitedMs;
      throw new ProbeFailure('rate_limited', `sign-in: POST /api/auth/sign-in/social answered 429 and asks to wait ${Math.ceil(waitMs / 1000)} s, beyond the probe's deadline (${Math.floor(remainingMs / 1000)} s left${waitedMs > 0 ? ` after waiting ${Math.round(waitedMs / 1000)} s` : ''})`);
    }
    await delay(waitMs, undefined, { signal: ctx.signal });
    waitedMs += waitMs;
    ({ response, text } = await postSignIn(config, http));
  }
  observations.httpStatusCode = response.status;
  observations.signInStatusCode = response.status;
  if (waitedMs > 0) observations.signInWaitMs = waitedMs;
  if (response.status === 404 && /provider not found/i.test(text)) throw new ProbeFailure('sign_in_error', 'sign-in: 404 "Provider not found" — the zitadel provider is not registered (ZITADEL_ISSUER_URL / ZITADEL_CLIENT_ID)');
  if (response.status !== 200) throw new ProbeFailure('http_status', `sign-in: POST /api/auth/sign-in/social answered ${response.status}, expected 200`);
  let url: unknown;
  try {
    url = (JSON.parse(text) as { url?: unknown }).url;
  } catch {
    throw new ProbeFailure('bad_response', 'sign-in: response is not JSON');
  }
  if (typeof url !== 'string') throw new ProbeFailure('bad_response', 'sign-in: response has no "url"');
  try {
    return new URL(url);
  } catch {
    throw new ProbeFailure('bad_response', 'sign-in: "url" is not an absolute URL');
  }
}

function checkAuthorizeUrl(config: Config, authorize: URL, assertions: Assertions): void {
  for (const rule of authorizeUrlRules(authorize, config)) assertions.check(rule.name, rule.ok, rule.observed, rule.expected, rule.reason);
}

/** Query-free location, safe to print (authRequest ids and state stay out of reports). */
function pathOnly(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

async function askIdp(config: Config, http: ProbeHttp, authorize: URL, observations: Record<string, unknown>, assertions: Assertions): Promise<URL | undefined> {
  const response = await http.fetch(authorize, { headers: { accept: 'text/html' } });
  await readText(response, 64 * 1024).catch(() => '');
  observations.httpStatusCode = response.status;
  observations.authorizeStatusCode = response.status;
  observations.authorizeHost = authorize.host;
  const locationHeader = response.headers.get('location');
  if (![302, 303].includes(response.status) || !locationHeader) {
    observations.loginUi = 'unknown' satisfies LoginUi;
    assertions.check('authorize response', false, `${response.status}${locationHeader ? ' with Location' : ' without Location'}`, '302/303 to the Login V2 UI', 'idp_error');
    return undefined;
  }
  const location = new URL(locationHeader, config.issuer);
  observations.loginPath = location.pathname;
  if (pathOnly(location) === expectedRedirectUri(config) && location.searchParams.has('error')) {
    observations.loginUi = 'unknown' satisfies LoginUi;
    const error = location.searchParams.get('error') ?? '';
    const description = location.searchParams.get('error_description') ?? '';
    const reason = /redirect/i.test(`${error} ${description}`) ? 'redirect_uri_mismatch' : 'idp_error';
    assertions.check('authorize response', false, `redirect to the app with error=${error}`, 'redirect to the Login V2 UI', reason);
    return undefined;
  }
  const { loginUi, rule } = judgeLoginRedirect(location, config);
  observations.loginUi = loginUi;
  if (!assertions.check(rule.name, rule.ok, rule.observed, rule.expected, rule.reason)) return undefined;
  return location;
}

/** GET the login page, following redirects only inside the IdP's origin. */
async function openLoginPage(config: Config, http: ProbeHttp, start: URL, observations: Record<string, unknown>, assertions: Assertions): Promise<void> {
  const issuerOrigin = new URL(config.issuer).origin;
  let url = start;
  for (let hop = 0; hop <= MAX_LOGIN_PAGE_REDIRECTS; hop++) {
    const response = await http.fetch(url, { headers: { accept: 'text/html' } });
    await readText(response).catch(() => '');
    observations.httpStatusCode = response.status;
    observations.loginPageStatusCode = response.status;
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) {
      const next = new URL(location, url);
      if (next.origin !== issuerOrigin) {
        assertions.check('login page', false, `redirect to ${next.origin}`, `200 inside ${issuerOrigin}`, 'login_page_error');
        return;
      }
      url = next;
      continue;
    }
    assertions.equal('login page status', response.status, 200, 'login_page_error');
    return;
  }
  assertions.check('login page', false, `more than ${MAX_LOGIN_PAGE_REDIRECTS} redirects`, '200', 'login_page_error');
}

export const loginV2RedirectProbe: ProbeFn = async (config, ctx) => {
  const observations: Record<string, unknown> = { httpStatusCode: 0, loginUi: 'unknown' satisfies LoginUi };
  const assertions = new Assertions();
  try {
    await withProbeHttp(ctx, async (http) => {
      const authorize = await startSignIn(config, ctx, http, observations);
      checkAuthorizeUrl(config, authorize, assertions);
      // A wrong authorize host would send our request elsewhere; stop before asking it.
      if (assertions.firstFailure?.name === 'authorize endpoint') return;
      const login = await askIdp(config, http, authorize, observations, assertions);
      if (login) await openLoginPage(config, http, login, observations, assertions);
    });
  } catch (error) {
    return failedWith('login-v2-redirect', error, 'http', assertions, observations);
  }
  return fromAssertions('login-v2-redirect', assertions, observations);
};
