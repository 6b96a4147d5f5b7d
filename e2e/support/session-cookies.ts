/**
 * The session cookies as the browser stored them, and whether they are safe: over https a session
 * cookie must be `Secure` (never sent over plain http) and `HttpOnly` (never readable by the page's
 * scripts). Better Auth's session cookies are `<prefix>.session_token` and `<prefix>.session_data`,
 * `__Secure-` prefixed when the app runs on https (e2e/support/suite-config.ts names the token cookie).
 * Values are never read into a result: only names and attributes.
 */
import type { BrowserContext, Cookie } from '@playwright/test';
import type { Reason } from '../../core/result.ts';

const SESSION_COOKIE = /^(?:__Secure-)?better-auth\.session_(?:token|data)$/;

/** What a report may show of a cookie: its name and attributes. */
export interface SessionCookieAttributes {
  name: string;
  secure: boolean;
  httpOnly: boolean;
  sameSite: Cookie['sameSite'];
  path: string;
  /** as the browser keeps it: the host for a host-only cookie, `.<domain>` when the app set a Domain */
  domain: string;
  /** ISO time the cookie expires, or `session` for a cookie that ends with the browser */
  expires: string;
}

export function sessionCookieAttributes(cookies: readonly Cookie[]): SessionCookieAttributes[] {
  return cookies
    .filter((cookie) => SESSION_COOKIE.test(cookie.name))
    .map((cookie) => ({
      name: cookie.name,
      secure: cookie.secure,
      httpOnly: cookie.httpOnly,
      sameSite: cookie.sameSite,
      path: cookie.path,
      domain: cookie.domain,
      expires: cookie.expires < 0 ? 'session' : new Date(cookie.expires * 1000).toISOString(),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** The app's session cookies in `context`, attributes only. */
export async function readSessionCookies(context: BrowserContext, appUrl: string): Promise<SessionCookieAttributes[]> {
  return sessionCookieAttributes(await context.cookies(appUrl));
}

/**
 * What is wrong with the session cookies of an app at `appUrl` after a sign-in, with its reason;
 * undefined when nothing is. Over plain http there is nothing to judge (no cookie can be Secure there).
 */
export function judgeSessionCookies(cookies: readonly SessionCookieAttributes[], appUrl: string): { reason: Reason; message: string } | undefined {
  if (!appUrl.startsWith('https:')) return undefined;
  if (!cookies.some((cookie) => cookie.name.endsWith('.session_token'))) {
    return { reason: 'assertion', message: 'signed in, but the browser holds no session token cookie (__Secure-better-auth.session_token)' };
  }
  const problems = cookies.flatMap((cookie) => {
    const missing = [...(cookie.secure ? [] : ['Secure']), ...(cookie.httpOnly ? [] : ['HttpOnly'])];
    return missing.length ? [`${cookie.name} lacks ${missing.join(' and ')}`] : [];
  });
  return problems.length ? { reason: 'cookie_insecure', message: `session cookie over https: ${problems.join('; ')}` } : undefined;
}
