/**
 * Setup project: signs each configured user in once (paced by the sign-in pacer), asserts the admin
 * dashboard, and only then stores the browser state in e2e/.auth/user-<n>.json for the checks.
 */
import { expect, test } from './test.ts';
import { expectDashboard, signIn } from './flows/sign-in.ts';
import { loadSentinelConfig, storageStatePath } from './support/suite-config.ts';
import { SETUP_ANNOTATION } from './support/check-annotations.ts';

const users = loadSentinelConfig().users;
// One worker per user; the sign-in pacer keeps the sign-ins inside the rate limit across workers.
test.describe.configure({ mode: 'parallel' });

users.forEach((_user, index) => {
  const userNumber = index + 1;
  test(`setup: sign in user ${userNumber}`, { annotation: [{ type: SETUP_ANNOTATION, description: `user-${userNumber}` }] }, async ({ app, sentinel }) => {
    const user = sentinel.users[index]!;
    await signIn(app, user);
    await expectDashboard(app);
    expect(app.currentUrl().pathname).toBe('/admin');
    await app.saveSignedInState(storageStatePath(userNumber));
  });
});
