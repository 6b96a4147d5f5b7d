/**
 * Sign-in through Zitadel Login V2: `/login` → "Sign in with Zitadel" → login name → password →
 * optional "Set up 2-Factor" Skip → optional account chooser → back at the app. The flow reads where
 * the browser is, acts on the screen it finds, and names the reason as soon as it sees one: a second
 * factor asked for (`mfa_required`), a screen it cannot pass (`login_unexpected_screen`), a page
 * Chromium could not load (the transport reasons of the probes). A sign-in the app refuses with 429
 * (Better Auth: 3 per 10 s per IP, e.g. a run just before) is tried again after the wait the app
 * states, while the check's deadline allows. It uses page objects only.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { expect } from '@playwright/test';
import { networkFailureIn } from '../../core/network-errors.ts';
import type { Reason } from '../../core/result.ts';
import { authorizeUrlRules, firstBroken, isAuthorizeUrl, isClassicLoginPage, loginV2ScreenPath } from '../../core/sign-in-rules.ts';
import type { App } from '../pages/app.ts';
import type { LoginV2Screen } from '../pages/login-v2.ts';
import { CHROMIUM_ERROR_PAGE_PROTOCOL, type ApiCall } from '../support/traffic.ts';
import { checkTimeLeftMs, failWith, recordSignInWait, withReason } from '../support/check-annotations.ts';
import { withoutQuery } from '../support/login-sequence.ts';
import { SignInSlotTimeout, claimSignInSlot } from '../../core/sign-in-record.ts';
import { progress } from '../support/progress.ts';

export interface Credentials {
  loginName: string;
  password: string;
}

type FlowState =
  | { kind: 'app-login' }
  | { kind: 'app-auth-route' }
  | { kind: 'app-error'; code: string }
  | { kind: 'app'; pathname: string }
  | { kind: 'login-v1' }
  | { kind: 'login-v2'; screen: LoginV2Screen }
  | { kind: 'network-error'; url: string | undefined; failure: string | undefined }
  | { kind: 'issuer-other'; pathname: string; status: number | undefined }
  | { kind: 'elsewhere'; origin: string };

const MAX_SCREENS = 12;

function keyOf(state: FlowState): string {
  return state.kind === 'login-v2' ? `login-v2:${state.screen.step}` : state.kind;
}

async function readState(app: App, attempt: Attempt): Promise<FlowState> {
  const url = app.currentUrl();
  const { config } = app;
  if (url.protocol === CHROMIUM_ERROR_PAGE_PROTOCOL) {
    const failed = [...hopsOf(app, attempt)].reverse().find((hop) => hop.failure !== undefined);
    return { kind: 'network-error', url: failed?.url, failure: failed?.failure };
  }
  if (url.origin === new URL(config.appUrl).origin) {
    const code = url.searchParams.get('error');
    if (code) return { kind: 'app-error', code };
    if (url.pathname === '/login') return { kind: 'app-login' };
    if (url.pathname.startsWith('/api/auth/')) return { kind: 'app-auth-route' };
    return { kind: 'app', pathname: url.pathname };
  }
  const href = url.href;
  if (isClassicLoginPage(url, config)) return { kind: 'login-v1' };
  if (loginV2ScreenPath(url, config) !== undefined) {
    try {
      return { kind: 'login-v2', screen: await app.loginV2.currentScreen() };
    } catch {
      return { kind: 'login-v2', screen: { step: 'pending' } };
    }
  }
  if (url.origin === new URL(config.issuer).origin) {
    const hop = [...app.traffic.navigations].reverse().find((h) => h.url === href);
    return { kind: 'issuer-other', pathname: url.pathname, status: hop?.status };
  }
  return { kind: 'elsewhere', origin: url.origin };
}

/** States the browser passes through on its own (redirect hops, a screen still rendering). */
function isTransient(state: FlowState, leftApp: boolean): boolean {
  switch (state.kind) {
    case 'app-login':
      return !leftApp;
    case 'app-auth-route':
      return true;
    case 'issuer-other':
      // a redirect hop until an error page (4xx/5xx) shows there
      return state.status === undefined || state.status < 400;
    case 'login-v2':
      return state.screen.step === 'pending';
    default:
      return false;
  }
}

/** Where this sign-in attempt starts in the page's traffic log (a test may sign in more than once). */
interface Attempt {
  navigationsFrom: number;
  apiCallsFrom: number;
}

function hopsOf(app: App, attempt: Attempt) {
  return app.traffic.navigations.slice(attempt.navigationsFrom);
}

function lastSignInCall(app: App, attempt: Attempt) {
  return [...app.traffic.apiCalls.slice(attempt.apiCallsFrom)].reverse().find((call) => new URL(call.url).pathname.startsWith('/api/auth/sign-in'));
}

function failOnAuthorizeProblem(app: App, attempt: Attempt): void {
  const hop = hopsOf(app, attempt).find((h) => isAuthorizeUrl(h.url, app.config));
  if (!hop) return;
  const problem = firstBroken(authorizeUrlRules(new URL(hop.url), app.config));
  if (problem) failWith(problem.reason, problem.message);
}

const RATE_LIMITED = 'POST /api/auth/sign-in/social answered 429 (Better Auth: 3 sign-ins per 10 s per IP)';

/** Explains why the browser did not reach a screen the flow can act on. */
async function diagnoseStuck(app: App, attempt: Attempt, state: FlowState | undefined, timeoutMs: number): Promise<never> {
  failOnAuthorizeProblem(app, attempt);
  const signInCall = lastSignInCall(app, attempt);
  if (signInCall?.status === 429) failWith('rate_limited', RATE_LIMITED);
  if (state?.kind === 'app-login') {
    const pendingAuthorize = hopsOf(app, attempt).find((h) => isAuthorizeUrl(h.url, app.config) && h.status === undefined);
    if (pendingAuthorize) failWith('timeout', `the IdP did not answer the authorize request within ${timeoutMs} ms`);
    if (await app.login.signingInButton.isVisible()) {
      failWith('sign_in_error', `sign-in button stuck on "Signing in..." for ${timeoutMs} ms (POST /api/auth/sign-in/social answered ${signInCall?.status ?? 'nothing'})`);
    }
    failWith('sign_in_error', `still on /login ${timeoutMs} ms after "Sign in with Zitadel"`);
  }
  const issuerOrigin = new URL(app.config.issuer).origin;
  const lastIssuerHop = [...hopsOf(app, attempt)].reverse().find((h) => h.url.startsWith(issuerOrigin));
  if (state?.kind === 'issuer-other' && lastIssuerHop?.status !== undefined && lastIssuerHop.status >= 400) {
    failWith('idp_error', `the IdP answered ${lastIssuerHop.status} at ${new URL(lastIssuerHop.url).pathname}`);
  }
  failWith('timeout', `sign-in made no progress for ${timeoutMs} ms at ${state ? keyOf(state) : 'start'} (${app.currentUrl().origin}${app.currentUrl().pathname})`);
}

/** The browser has shown an IdP page during this sign-in (a later /login means the app lost us). */
function hasLeftApp(app: App, attempt: Attempt): boolean {
  const issuerOrigin = new URL(app.config.issuer).origin;
  return hopsOf(app, attempt).some((hop) => hop.committed && hop.url.startsWith(`${issuerOrigin}/`));
}

async function waitForNextScreen(app: App, attempt: Attempt, previousKey: string | undefined): Promise<FlowState> {
  const timeoutMs = app.config.timeouts.actionMs;
  let state: FlowState | undefined;
  try {
    await expect
      .poll(
        async () => {
          state = await readState(app, attempt);
          const leftApp = hasLeftApp(app, attempt);
          // The app answers the sign-in call with an error and its button hangs (docs/target-contract.md §1.4): no need to wait.
          if (state.kind === 'app-login' && !leftApp && (lastSignInCall(app, attempt)?.status ?? 0) >= 400) return true;
          return !isTransient(state, leftApp) && (keyOf(state) !== previousKey || (state.kind === 'app-login' && leftApp));
        },
        { timeout: timeoutMs, intervals: [100] },
      )
      .toBe(true);
  } catch {
    return diagnoseStuck(app, attempt, state, timeoutMs);
  }
  return state!;
}

/** A slot of Better Auth's sign-in limit (core/sign-in-record.ts), within what is left of the check's deadline. */
async function claimSlot(app: App): Promise<void> {
  const timeoutMs = Math.max(0, Math.min(checkTimeLeftMs(app.startedAtMs) - app.config.timeouts.actionMs, app.config.timeouts.browserCheckMs));
  try {
    const waitedMs = await claimSignInSlot(app.config.appUrl, { timeoutMs, onWait: (ms) => progress(`waiting ${Math.ceil(ms / 1000)} s for a slot of the sign-in limit`) });
    if (waitedMs > 0) recordSignInWait(waitedMs);
  } catch (error) {
    if (error instanceof SignInSlotTimeout) failWith('rate_limited', `our own earlier sign-ins use up Better Auth's limit beyond this check's deadline: ${error.message}`);
    throw error;
  }
}

/** How one attempt ended: back on the app, or refused with 429 before leaving it. */
type SignInAttempt = { kind: 'signed-in' } | { kind: 'rate-limited'; call: ApiCall };

async function attemptSignIn(app: App, user: Credentials): Promise<SignInAttempt> {
  await app.login.goto();
  await withReason('sign_in_error', () => expect(app.login.signInButton).toBeEnabled());
  await claimSlot(app);
  const attempt: Attempt = { navigationsFrom: app.traffic.navigations.length, apiCallsFrom: app.traffic.apiCalls.length };
  await app.login.startSignIn();

  let previousKey: string | undefined = 'app-login';
  for (let screen = 0; screen < MAX_SCREENS; screen++) {
    const state = await waitForNextScreen(app, attempt, previousKey);
    previousKey = keyOf(state);
    switch (state.kind) {
      case 'app':
        failOnAuthorizeProblem(app, attempt);
        return { kind: 'signed-in' };
      case 'app-error':
        failOnAuthorizeProblem(app, attempt);
        failWith('sign_in_error', `sign-in ended on the app with ?error=${state.code}`);
      case 'app-login':
        if (!hasLeftApp(app, attempt)) {
          const call = lastSignInCall(app, attempt);
          if (call?.status === 429) return { kind: 'rate-limited', call };
          failWith('sign_in_error', `POST /api/auth/sign-in/social answered ${call?.status ?? 'nothing'}; the sign-in button stays on "Signing in..."`);
        }
        failWith('sign_in_error', 'back on /login after the IdP: the app did not keep a session');
      case 'network-error': {
        failOnAuthorizeProblem(app, attempt);
        const where = state.url ? withoutQuery(state.url) : 'a page of the sign-in';
        failWith(networkFailureIn(state.failure ?? '')?.reason ?? 'unexpected', `${where} did not load: ${state.failure ?? 'Chromium shows its error page'}`);
      }
      case 'login-v1':
        failWith('login_v1', `the IdP sent the browser to the classic login (${app.currentUrl().pathname}) instead of Login V2`);
      case 'issuer-other':
        failOnAuthorizeProblem(app, attempt);
        failWith('idp_error', `the IdP answered ${state.status} at ${state.pathname}`);
      case 'elsewhere':
        failOnAuthorizeProblem(app, attempt);
        failWith('login_wrong_host', `sign-in went to ${state.origin}, neither the app nor the issuer`);
      case 'login-v2': {
        failOnAuthorizeProblem(app, attempt);
        const current = state.screen;
        switch (current.step) {
          case 'loginname':
            await app.loginV2.submitLoginName(user.loginName);
            break;
          case 'password':
            await app.loginV2.submitPassword(user.password);
            break;
          case 'mfa-setup':
            await app.loginV2.skipMfaSetup();
            break;
          case 'accounts':
            await app.loginV2.chooseAccount(user.loginName);
            break;
          case 'mfa-required':
            failWith(
              'mfa_required',
              current.forcedSetup
                ? `Login V2 showed "${current.heading}" without Skip at ${current.path}: MFA is forced and the test user has no second factor`
                : `Login V2 showed "${current.heading}" at ${current.path}: the test user has a second factor and cannot sign in without it`,
            );
          case 'unexpected':
            failWith('login_unexpected_screen', `Login V2 showed "${current.heading}" at ${current.path}`);
          case 'error':
            failWith('idp_error', `Login V2 shows an error: ${current.message}`);
          case 'pending':
            break;
        }
        break;
      }
      default:
        break;
    }
  }
  failWith('timeout', `sign-in did not finish within ${MAX_SCREENS} screens`);
}

/**
 * Signs `user` in from `/login` and returns once the browser is back on the app (not yet asserting
 * the dashboard: callers decide what "signed in" must look like). A 429 on the sign-in call is
 * waited out for the time the app states, then `/login` is loaded again and the sign-in starts over;
 * only a wait that would not leave one action's time before the check's deadline fails it
 * (`rate_limited`). Each wait is recorded for the check's observations (`signInWaitMs`).
 */
export async function signIn(app: App, user: Credentials): Promise<void> {
  for (;;) {
    const outcome = await attemptSignIn(app, user);
    if (outcome.kind === 'signed-in') return;
    const waitMs = outcome.call.retryAfterMs ?? 0;
    const leftMs = checkTimeLeftMs(app.startedAtMs);
    if (waitMs + app.config.timeouts.actionMs > leftMs) {
      failWith('rate_limited', `${RATE_LIMITED} and asks to wait ${Math.ceil(waitMs / 1000)} s, beyond the check's deadline (${Math.max(0, Math.floor(leftMs / 1000))} s left)`);
    }
    progress(`the app answered 429: waiting ${Math.ceil(waitMs / 1000)} s as it asks`);
    await delay(waitMs);
    recordSignInWait(waitMs);
  }
}

/** The signed-in admin shell: both h1s of the dashboard (docs/target-contract.md §1.5–§1.6). */
export async function expectDashboard(app: App, reason: Reason = 'assertion'): Promise<void> {
  try {
    await expect(app.dashboard.heading).toBeVisible();
    await expect(app.layout.title).toBeVisible();
  } catch {
    const url = app.currentUrl();
    failWith(reason, `the admin dashboard ("Admin Dashboard" under "GadgetBot Admin") did not show; the browser is at ${url.pathname}${url.search}`);
  }
}
