import { checkDetails, attachObservations, test } from '../fixtures.ts';
import { expectDashboard, signIn } from '../flows/sign-in.ts';
import { assertLoginSequence, withoutQuery } from '../support/login-sequence.ts';

test.use({ signedInAs: 'fresh' });

test('e2e-login: sign in from /login through Zitadel Login V2 to the admin dashboard', checkDetails('e2e-login', ['@monitor']), async ({ app, api, credentials, sentinel }) => {
  try {
    await signIn(app, credentials);
    await expectDashboard(app);
    assertLoginSequence(app.traffic.navigationUrls(), sentinel);
  } finally {
    await attachObservations({ navigations: app.traffic.navigationUrls().map(withoutQuery) });
    // Every monitored sign-in leaves a session row otherwise (contract §12.10).
    await api.signOut().catch(() => undefined);
  }
});
