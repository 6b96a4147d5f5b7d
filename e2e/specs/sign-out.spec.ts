import { attachObservations, checkDetails, expect, failWith, test, withReason } from '../test.ts';
import { expectDashboard, signIn } from '../flows/sign-in.ts';
import { signOutThroughMenu } from '../flows/sign-out.ts';
import { sessionCookieName } from '../support/suite-config.ts';

// User 2's stored session is consumed here; without a second user the spec signs in itself.
test.use({ signedInAs: 'user-2' });

test('e2e-sign-out: the user menu signs out and the server rejects the old session', checkDetails('e2e-sign-out', ['@monitor']), async ({ app, api, credentials, sentinel }) => {
  const cookieName = sessionCookieName(sentinel);
  try {
    if (sentinel.users.length < 2) await signIn(app, credentials);
    await app.dashboard.goto();
    await expectDashboard(app);
    const oldCookie = await app.appCookie(cookieName);
    if (!oldCookie) failWith('assertion', `no ${cookieName} cookie while signed in`);

    await signOutThroughMenu(app);
    await withReason('assertion', () => expect.poll(async () => (await app.appCookie(cookieName)) === undefined, { timeout: sentinel.timeouts.actionMs }).toBe(true));
    const replayed = await api.getSessionWithCookie(`${oldCookie.name}=${oldCookie.value}`);
    if (replayed !== null) failWith('session_not_revoked', 'the old session token still yields a session from get-session?disableCookieCache=true after sign-out');

    await app.dashboard.goto();
    await withReason('assertion', () =>
      expect.poll(() => `${app.currentUrl().pathname}${app.currentUrl().search}`, { timeout: sentinel.timeouts.actionMs }).toBe('/login?redirect=%2Fadmin'),
    );

    // Signing back in works (the IdP session may let it skip the password, docs/target-contract.md §8.6).
    await signIn(app, credentials);
    await expectDashboard(app);
  } finally {
    await attachObservations({ signedBackIn: app.currentUrl().pathname === '/admin' });
    await api.signOut().catch(() => undefined);
  }
});
