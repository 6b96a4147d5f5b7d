/**
 * The URL sequence of a sign-in (docs/target-contract.md §9.2): app → `<issuer>/oauth/v2/authorize`
 * → `<issuer><loginBasePath>/…` → app callback → `/admin`. Only origins and paths are kept in
 * observations: queries carry state and codes.
 */
import type { Config } from '../../core/config.ts';
import { authorizeUrlRules, firstBroken, isAuthorizeUrl, judgeLoginRedirect } from '../../core/sign-in-rules.ts';
import { failWith } from './check-annotations.ts';

export function withoutQuery(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return '(invalid url)';
  }
}

export function assertLoginSequence(urls: readonly string[], config: Config): void {
  const app = new URL(config.appUrl).origin;
  const start = urls.findIndex((url) => url.startsWith(`${app}/login`));
  if (start < 0) failWith('assertion', 'the sign-in did not start on the app /login page');
  const authorize = urls.findIndex((url, i) => i > start && isAuthorizeUrl(url, config));
  if (authorize < 0) failWith('authorize_mismatch', `no navigation to ${config.issuer}/oauth/v2/authorize after /login`);
  const problem = firstBroken(authorizeUrlRules(new URL(urls[authorize]!), config));
  if (problem) failWith(problem.reason, problem.message);
  const next = urls.slice(authorize + 1).find((url) => !isAuthorizeUrl(url, config));
  if (next === undefined) failWith('assertion', 'the authorize request led nowhere');
  // The hop right after authorize is Zitadel's redirect, judged as the login-v2-redirect probe judges its Location.
  const loginRedirect = firstBroken([judgeLoginRedirect(new URL(next), config).rule]);
  if (loginRedirect) failWith(loginRedirect.reason, `authorize redirected the browser: ${loginRedirect.message}`);
  const login = urls.indexOf(next);
  const callbackPrefix = `${config.appUrl}/api/auth/callback/zitadel?`;
  const callback = urls.findIndex((url, i) => i > login && url.startsWith(callbackPrefix));
  if (callback < 0) failWith('assertion', `Login V2 never returned to ${withoutQuery(callbackPrefix)}`);
  const admin = urls.findIndex((url, i) => i > callback && new URL(url).origin === app && new URL(url).pathname === '/admin');
  if (admin < 0) failWith('assertion', `the callback did not land on ${app}/admin`);
}
