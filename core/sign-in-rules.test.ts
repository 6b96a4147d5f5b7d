import { describe, expect, it } from 'vitest';
import { configSchema } from './config.ts';
import { authorizeUrlRules, firstBroken, isAuthorizeUrl, isClassicLoginPage, judgeLoginRedirect, loginV2ScreenPath } from './sign-in-rules.ts';

const config = configSchema.parse({ appUrl: 'https://gadgetbot.example', issuer: 'https://auth.example', clientId: '339871234567890123' });
const STATE = 'Zq3vX9sTATEvalue0123456789abcdef';
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

/** The authorize URL Better Auth builds (parameter order and `+` for spaces as it sends them). */
function authorize(overrides: Record<string, string | null> = {}, base = 'https://auth.example/oauth/v2/authorize'): URL {
  const params: Record<string, string | null> = {
    response_type: 'code',
    client_id: '339871234567890123',
    state: STATE,
    scope: 'openid profile email offline_access',
    redirect_uri: 'https://gadgetbot.example/api/auth/callback/zitadel',
    code_challenge_method: 'S256',
    code_challenge: CHALLENGE,
    ...overrides,
  };
  const url = new URL(base);
  for (const [key, value] of Object.entries(params)) if (value !== null) url.searchParams.set(key, value);
  return url;
}

describe('authorize URL rules (probe and browser alike)', () => {
  it("accept the app's authorize URL and keep state and challenge out of what they report", () => {
    const rules = authorizeUrlRules(authorize(), config);
    expect(rules.every((rule) => rule.ok)).toBe(true);
    expect(firstBroken(rules)).toBeUndefined();
    expect(JSON.stringify(rules)).not.toContain(STATE);
    expect(JSON.stringify(rules)).not.toContain(CHALLENGE);
  });

  it('compare scopes as a set: another order passes, a missing or an extra scope does not', () => {
    expect(firstBroken(authorizeUrlRules(authorize({ scope: 'email openid offline_access profile' }), config))).toBeUndefined();
    expect(firstBroken(authorizeUrlRules(authorize({ scope: 'openid profile email' }), config))).toEqual({
      reason: 'authorize_mismatch',
      message: 'scope: observed "openid profile email" expected "openid profile email offline_access"',
    });
    expect(firstBroken(authorizeUrlRules(authorize({ scope: 'openid profile email offline_access urn:zitadel:iam:org:projects:roles' }), config))?.reason).toBe('authorize_mismatch');
  });

  it('name the redirect_uri first, with the probe line', () => {
    expect(firstBroken(authorizeUrlRules(authorize({ redirect_uri: 'https://gadgetbot.example/api/auth/oauth2/callback/zitadel', client_id: 'other' }), config))).toEqual({
      reason: 'redirect_uri_mismatch',
      message: 'redirect_uri: observed "https://gadgetbot.example/api/auth/oauth2/callback/zitadel" expected "https://gadgetbot.example/api/auth/callback/zitadel"',
    });
  });

  it('require the configured client, S256 with a 43-character challenge, response_type code and a state', () => {
    const broken = (overrides: Record<string, string | null>) => firstBroken(authorizeUrlRules(authorize(overrides), config))?.message;
    expect(broken({ client_id: '1' })).toBe('client_id: observed "1" expected "339871234567890123"');
    expect(broken({ code_challenge_method: 'plain' })).toBe('code_challenge_method: observed "plain" expected "S256"');
    expect(broken({ code_challenge: 'short' })).toBe('code_challenge: observed "5 chars" expected "43 base64url chars"');
    expect(broken({ response_type: 'token' })).toBe('response_type: observed "token" expected "code"');
    expect(broken({ state: null })).toBe('state: observed "missing" expected "present"');
  });

  it('accept any client id when none is configured, but not none', () => {
    const anyClient = configSchema.parse({ appUrl: 'https://gadgetbot.example', issuer: 'https://auth.example' });
    expect(firstBroken(authorizeUrlRules(authorize({ client_id: '42' }), anyClient))).toBeUndefined();
    expect(firstBroken(authorizeUrlRules(authorize({ client_id: null }), anyClient))?.message).toBe('client_id: observed null expected "non-empty"');
  });

  it('recognise the authorize endpoint by origin and path, and flag another one', () => {
    expect(isAuthorizeUrl(authorize(), config)).toBe(true);
    expect(isAuthorizeUrl('https://auth.example:443/oauth/v2/authorize?x=1', config)).toBe(true);
    expect(isAuthorizeUrl('https://gadgetbot-auth.example/oauth/v2/authorize?x=1', config)).toBe(false);
    expect(firstBroken(authorizeUrlRules(authorize({}, 'https://gadgetbot-auth.example/oauth/v2/authorize'), config))?.message).toBe(
      'authorize endpoint: observed "https://gadgetbot-auth.example/oauth/v2/authorize" expected "https://auth.example/oauth/v2/authorize"',
    );
  });
});

describe('login redirect: Login V2, classic, another host', () => {
  const judge = (location: string) => judgeLoginRedirect(new URL(location, config.issuer), config);

  it('only <login base>/login?authRequest=V2_… is Login V2', () => {
    expect(judge('/ui/v2/login/login?authRequest=V2_312345678901234567')).toEqual({
      loginUi: 'v2',
      rule: { name: 'login location', ok: true, observed: '/ui/v2/login/login?authRequest=V2_…', expected: '/ui/v2/login/login?authRequest=V2_…', reason: 'idp_error' },
    });
  });

  it('the classic login is login_v1', () => {
    expect(judge('/ui/login/login?authRequestID=312345678901234567')).toMatchObject({ loginUi: 'v1', rule: { ok: false, reason: 'login_v1', observed: '/ui/login/login' } });
  });

  it('another host is login_wrong_host, whatever its path', () => {
    expect(judge('https://gadgetbot-auth.example/ui/v2/login/login?authRequest=V2_1')).toMatchObject({
      loginUi: 'v2',
      rule: { name: 'login location host', ok: false, observed: 'https://gadgetbot-auth.example', expected: 'https://auth.example', reason: 'login_wrong_host' },
    });
  });

  it('another page of the IdP, or a request that is not V2_, is an IdP error', () => {
    expect(judge('/ui/v2/login/login?authRequest=312')).toMatchObject({ loginUi: 'unknown', rule: { ok: false, reason: 'idp_error', observed: '/ui/v2/login/login?authRequest=(not V2_)' } });
    expect(judge('/ui/console')).toMatchObject({ loginUi: 'unknown', rule: { ok: false, reason: 'idp_error' } });
  });

  it('Login V2 screens are the paths under the base on the issuer host; the classic login is /ui/login/', () => {
    expect(loginV2ScreenPath('https://auth.example/ui/v2/login/password?loginName=a', config)).toBe('/password');
    expect(loginV2ScreenPath('https://auth.example/ui/v2/login/mfa/set?force=true', config)).toBe('/mfa/set');
    expect(loginV2ScreenPath('https://auth.example/ui/v2/loginname', config)).toBeUndefined();
    expect(loginV2ScreenPath('https://other.example/ui/v2/login/password', config)).toBeUndefined();
    expect(isClassicLoginPage('https://auth.example/ui/login/loginname?authRequestID=1', config)).toBe(true);
    expect(isClassicLoginPage('https://auth.example/ui/v2/login/loginname', config)).toBe(false);
  });
});
