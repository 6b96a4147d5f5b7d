/**
 * What a sign-in must look like, judged by one set of rules for the login-v2-redirect probe and the
 * browser flows alike: the authorize URL Better Auth builds, and where Zitadel's answer sends the
 * browser (Login V2, the classic login, another host). The probe records every rule as an
 * observed-versus-expected assertion; the browser fails on the first broken one with the same line.
 *
 * GadgetBot hard-wires its OAuth client (Better Auth's generic OAuth): authorize at
 * `<issuer>/oauth/v2/authorize` with response_type=code, its client_id, the scopes
 * `openid profile email offline_access`, redirect_uri `<app>/api/auth/callback/zitadel`, a state and
 * an S256 PKCE challenge. Zitadel answers with a redirect to `<login base>/login?authRequest=V2_<id>`
 * when Login V2 serves the instance, and to `/ui/login/login?authRequestID=<id>` (classic, v1) when not.
 */
import type { Config } from './config.ts';
import type { LoginUi } from './observations.ts';
import { failureLine, type Reason } from './result.ts';

export interface SignInRule {
  name: string;
  ok: boolean;
  /** safe to print: state and code_challenge are reported by presence and length only */
  observed: unknown;
  expected: unknown;
  reason: Reason;
}

export function authorizeEndpoint(config: Config): string {
  return `${config.issuer}/oauth/v2/authorize`;
}

export function expectedRedirectUri(config: Config): string {
  return `${config.appUrl}/api/auth/callback/zitadel`;
}

function withoutQuery(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

/** A navigation or request to the authorize endpoint (with its query). */
export function isAuthorizeUrl(url: string | URL, config: Config): boolean {
  const parsed = new URL(url);
  return withoutQuery(parsed) === withoutQuery(new URL(authorizeEndpoint(config)));
}

function scopeSet(scope: string): string {
  return [...new Set(scope.split(' ').filter(Boolean))].sort().join(' ');
}

/**
 * Every rule the authorize URL must meet, in the order the first failure is reported. Scopes are
 * compared as a set (OAuth scope order carries no meaning), but exactly: a missing scope breaks the
 * sign-in (no email, no refresh token) and an extra one means the app is not configured as expected.
 * A PKCE S256 challenge is the base64url SHA-256 of the verifier: always 43 characters.
 */
export function authorizeUrlRules(authorize: URL, config: Config): SignInRule[] {
  const q = authorize.searchParams;
  const clientId = q.get('client_id');
  const scope = q.get('scope') ?? '';
  const challenge = q.get('code_challenge') ?? '';
  const state = q.get('state') ?? '';
  return [
    { name: 'authorize endpoint', ok: withoutQuery(authorize) === authorizeEndpoint(config), observed: withoutQuery(authorize), expected: authorizeEndpoint(config), reason: 'authorize_mismatch' },
    { name: 'redirect_uri', ok: q.get('redirect_uri') === expectedRedirectUri(config), observed: q.get('redirect_uri'), expected: expectedRedirectUri(config), reason: 'redirect_uri_mismatch' },
    config.clientId
      ? { name: 'client_id', ok: clientId === config.clientId, observed: clientId, expected: config.clientId, reason: 'authorize_mismatch' }
      : { name: 'client_id', ok: !!clientId, observed: clientId, expected: 'non-empty', reason: 'authorize_mismatch' },
    { name: 'response_type', ok: q.get('response_type') === 'code', observed: q.get('response_type'), expected: 'code', reason: 'authorize_mismatch' },
    { name: 'scope', ok: scopeSet(scope) === scopeSet(config.scopes.join(' ')), observed: scope, expected: config.scopes.join(' '), reason: 'authorize_mismatch' },
    { name: 'code_challenge_method', ok: q.get('code_challenge_method') === 'S256', observed: q.get('code_challenge_method'), expected: 'S256', reason: 'authorize_mismatch' },
    { name: 'code_challenge', ok: /^[A-Za-z0-9_-]{43}$/.test(challenge), observed: `${challenge.length} chars`, expected: '43 base64url chars', reason: 'authorize_mismatch' },
    { name: 'state', ok: state.length > 0, observed: state.length > 0 ? 'present' : 'missing', expected: 'present', reason: 'authorize_mismatch' },
  ];
}

export interface SignInProblem {
  reason: Reason;
  message: string;
}

/** The first broken rule as a reason and the probe's one-line message, or undefined when all hold. */
export function firstBroken(rules: readonly SignInRule[]): SignInProblem | undefined {
  const broken = rules.find((rule) => !rule.ok);
  return broken ? { reason: broken.reason, message: failureLine(broken) } : undefined;
}

function issuerParts(config: Config): { origin: string; path: string } {
  const issuer = new URL(config.issuer);
  return { origin: issuer.origin, path: issuer.pathname.replace(/\/$/, '') };
}

/** `<issuer><loginBasePath>`: where Login V2's pages live (`/loginname`, `/password`, …). */
export function loginV2Base(config: Config): string {
  const { origin, path } = issuerParts(config);
  return `${origin}${path}${config.loginBasePath}`;
}

/** The Login V2 screen path of a URL (`/password`, `/mfa/set`…), or undefined when not a Login V2 page. */
export function loginV2ScreenPath(url: string | URL, config: Config): string | undefined {
  const parsed = new URL(url);
  const base = new URL(loginV2Base(config));
  if (parsed.origin !== base.origin || !parsed.pathname.startsWith(`${base.pathname}/`)) return undefined;
  return parsed.pathname.slice(base.pathname.length).replace(/\/+$/, '');
}

/** A page of the classic (v1) login, served by Zitadel itself under `/ui/login/`. */
export function isClassicLoginPage(url: string | URL, config: Config): boolean {
  const parsed = new URL(url);
  const { origin, path } = issuerParts(config);
  return parsed.origin === origin && parsed.pathname.startsWith(`${path}/ui/login/`);
}

export interface LoginRedirectJudgement {
  /** which login UI the location names (by its path, whatever its host) */
  loginUi: LoginUi;
  rule: SignInRule;
}

/**
 * Where Zitadel's answer to the authorize request sends the browser. Only
 * `<issuer><loginBasePath>/login?authRequest=V2_…` is right: the classic login is `login_v1`, a
 * location on another host a stale Login V2 base URI (`login_wrong_host`), anything else on the
 * IdP an IdP error. The authRequest id itself never reaches the output.
 */
export function judgeLoginRedirect(location: URL, config: Config): LoginRedirectJudgement {
  const { origin } = issuerParts(config);
  const entry = `${new URL(loginV2Base(config)).pathname}/login`;
  const expected = `${entry}?authRequest=V2_…`;
  const isV2Request = (location.searchParams.get('authRequest') ?? '').startsWith('V2_');
  const v1Path = isClassicLoginPage(new URL(location.pathname, origin), config);
  const v2Path = location.pathname === entry && isV2Request;
  const loginUi: LoginUi = v2Path ? 'v2' : v1Path ? 'v1' : 'unknown';
  if (location.origin !== origin) {
    return { loginUi, rule: { name: 'login location host', ok: false, observed: location.origin, expected: origin, reason: 'login_wrong_host' } };
  }
  if (v1Path) return { loginUi, rule: { name: 'login location', ok: false, observed: location.pathname, expected, reason: 'login_v1' } };
  const shape = `${location.pathname}?authRequest=${isV2Request ? 'V2_…' : '(not V2_)'}`;
  return { loginUi, rule: { name: 'login location', ok: v2Path, observed: shape, expected, reason: 'idp_error' } };
}
