import { checkDetails, attachObservations, failWith, test } from '../test.ts';
import { expectDashboard, signIn } from '../flows/sign-in.ts';
import { assertLoginSequence, withoutQuery } from '../support/login-sequence.ts';
import { judgeSessionCookies, readSessionCookies, type SessionCookieAttributes } from '../support/session-cookies.ts';

test.use({ signedInAs: 'fresh' });

test('e2e-login: sign in from /login through Zitadel Login V2 to the admin dashboard', checkDetails('e2e-login', ['@monitor']), async ({ app, api, context, credentials, sentinel }) => {
  let sessionCookies: SessionCookieAttributes[] | undefined;
  try {
    await signIn(app, credentials);
    await expectDashboard(app);
    assertLoginSequence(app.traffic.navigationUrls(), sentinel);
    // The cookie as the browser stored it, after the real sign-in: what the app's Set-Cookie achieved.
    sessionCookies = await readSessionCookies(context, sentinel.appUrl);
    const problem = judgeSessionCookies(sessionCookies, sentinel.appUrl);
    if (problem) failWith(problem.reason, problem.message);
  } finally {
    await attachObservations({ navigations: app.traffic.navigationUrls().map(withoutQuery), ...(sessionCookies ? { sessionCookies } : {}) });
    // Every monitored sign-in leaves a session row otherwise (docs/target-contract.md §4.6).
    await api.signOut().catch(() => undefined);
  }
});
