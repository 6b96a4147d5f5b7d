/**
 * Sign-in through Zitadel Login V2 (contract §5, facts A1): `/login` → "Sign in with Zitadel" →
 * login name → password → optional "Set up 2-Factor" Skip → optional account chooser → back at the
 * app. The flow reads where the browser is, acts on the screen it finds, and names the reason when
 * it gets stuck. It uses page objects only.
 */
import { expect } from '@playwright/test';
import type { Reason } from '../../core/result.ts';
import type { App } from '../pages/app.ts';
import type { LoginV2Step } from '../pages/login-v2.ts';
import { inspectAuthorizeUrl, isAuthorizeUrl, isClassicLoginUrl, isLoginV2Url } from '../support/authorize.ts';
import { failWith, withReason } from '../support/check.ts';
import { reserveSignInSlot } from '../support/pacer.ts';

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
  | { kind: 'login-v2'; step: LoginV2Step }
  | { kind: 'issuer-other'; pathname: string; status: number | undefined }
  | { kind: 'elsewhere'; origin: string };

const MAX_SCREENS = 12;

function keyOf(state: FlowState): string {
  return state.kind === 'login-v2' ? `login-v2:${state.step}` : state.kind;
}

async function readState(app: App): Promise<FlowState> {
  const url = app.currentUrl();
  const { config } = app;
  if (url.origin === new URL(config.appUrl).origin) {
    const code = url.searchParams.get('error');
    if (code) return { kind: 'app-error', code };
    if (url.pathname === '/login') return { kind: 'app-login' };
    if (url.pathname.startsWith('/api/auth/')) return { kind: 'app-auth-route' };
    return { kind: 'app', pathname: url.pathname };
  }
  const href = url.href;
  if (isClassicLoginUrl(href, config)) return { kind: 'login-v1' };
  if (isLoginV2Url(href, config)) {
    try {
      return { kind: 'login-v2', step: await app.loginV2.currentStep() };
    } catch {
      return { kind: 'login-v2', step: 'pending' };
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
      return state.step === 'pending';
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
  const problem = inspectAuthorizeUrl(hop.url, app.config);
  if (problem) failWith(problem.reason, problem.message);
}

/** Explains why the browser did not reach a screen the flow can act on. */
async function diagnoseStuck(app: App, attempt: Attempt, state: FlowState | undefined, timeoutMs: number): Promise<never> {
  failOnAuthorizeProblem(app, attempt);
  const signInCall = lastSignInCall(app, attempt);
  if (signInCall?.status === 429) failWith('rate_limited', 'POST /api/auth/sign-in/social answered 429 (3 sign-ins per 10 s per IP)');
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
          state = await readState(app);
          const leftApp = hasLeftApp(app, attempt);
          // The app answers the sign-in call with an error and its button hangs (contract §2.2): no need to wait.
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

/**
 * Signs `user` in from `/login` and returns once the browser is back on the app (not yet asserting
 * the dashboard: callers decide what "signed in" must look like).
 */
export async function signIn(app: App, user: Credentials): Promise<void> {
  await app.login.goto();
  await withReason('sign_in_error', () => expect(app.login.signInButton).toBeEnabled());
  await reserveSignInSlot(app.config.timeouts.browserCheckMs);
  const attempt: Attempt = { navigationsFrom: app.traffic.navigations.length, apiCallsFrom: app.traffic.apiCalls.length };
  await app.login.startSignIn();

  let previousKey: string | undefined = 'app-login';
  for (let screen = 0; screen < MAX_SCREENS; screen++) {
    const state = await waitForNextScreen(app, attempt, previousKey);
    previousKey = keyOf(state);
    switch (state.kind) {
      case 'app':
        failOnAuthorizeProblem(app, attempt);
        return;
      case 'app-error':
        failOnAuthorizeProblem(app, attempt);
        failWith('sign_in_error', `sign-in ended on the app with ?error=${state.code}`);
      case 'app-login':
        if (!hasLeftApp(app, attempt)) {
          const call = lastSignInCall(app, attempt);
          if (call?.status === 429) failWith('rate_limited', 'POST /api/auth/sign-in/social answered 429 (3 sign-ins per 10 s per IP)');
          failWith('sign_in_error', `POST /api/auth/sign-in/social answered ${call?.status ?? 'nothing'}; the sign-in button stays on "Signing in..."`);
        }
        failWith('sign_in_error', 'back on /login after the IdP: the app did not keep a session');
      case 'login-v1':
        failWith('login_v1', `the IdP sent the browser to the classic login (${app.currentUrl().pathname}) instead of Login V2`);
      case 'issuer-other':
        failOnAuthorizeProblem(app, attempt);
        failWith('idp_error', `the IdP answered ${state.status} at ${state.pathname}`);
      case 'elsewhere':
        failOnAuthorizeProblem(app, attempt);
        failWith('login_wrong_host', `sign-in went to ${state.origin}, neither the app nor the issuer`);
      case 'login-v2':
        failOnAuthorizeProblem(app, attempt);
        switch (state.step) {
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
          case 'error':
            failWith('idp_error', `Login V2 shows an error: ${await app.loginV2.errorText()}`);
          case 'pending':
            break;
        }
        break;
      default:
        break;
    }
  }
  failWith('timeout', `sign-in did not finish within ${MAX_SCREENS} screens`);
}

/** The signed-in admin shell: both h1s of the dashboard (contract §2.4-§2.5). */
export async function expectDashboard(app: App, reason: Reason = 'assertion'): Promise<void> {
  try {
    await expect(app.dashboard.heading).toBeVisible();
    await expect(app.layout.title).toBeVisible();
  } catch {
    const url = app.currentUrl();
    failWith(reason, `the admin dashboard ("Admin Dashboard" under "GadgetBot Admin") did not show; the browser is at ${url.pathname}${url.search}`);
  }
}
