import type { RedeployObservation } from '../../core/observations.ts';
import { createRedeployDriver, type RedeployOutcome } from '../../core/redeploy.ts';
import { authorizeEndpoint } from '../../core/sign-in-rules.ts';
import { attachObservations, checkDetails, failWith, test } from '../fixtures.ts';
import { expectDashboard, signIn } from '../flows/sign-in.ts';
import { AvailabilityWatch, type AvailabilitySummary } from '../support/availability.ts';

test.use({ signedInAs: 'fresh' });

test('e2e-session-redeploy: a signed-in session survives an app redeploy while the IdP stays up', checkDetails('e2e-session-redeploy', ['@disruptive']), async ({ app, api, credentials, sentinel }) => {
  if (sentinel.allowDisruptive !== true) {
    test.info().annotations.push({ type: 'reason', description: 'not_permitted' });
    test.skip(true, 'the redeploy check restarts the app: set SENTINEL_ALLOW_DISRUPTIVE=true to allow it');
  }
  test.setTimeout(sentinel.timeouts.browserCheckMs + sentinel.coolify.deployTimeoutMs);

  let pollFailures: Pick<AvailabilitySummary, 'appFailureKinds' | 'idpFailureKinds'> | undefined;
  let driver: Awaited<ReturnType<typeof createRedeployDriver>>;
  try {
    driver = await createRedeployDriver(sentinel);
  } catch (error) {
    failWith('not_configured', (error as Error).message);
  }

  const observation: RedeployObservation = {
    driver: driver.name,
    downtimeSeconds: 0,
    idpAvailability: 1,
    idpFailures: 0,
    instanceChanged: false,
    sessionKept: false,
    newAuthorizeRoundTrip: false,
  };
  try {
    await signIn(app, credentials);
    await expectDashboard(app);
    const before = await api.getSession();
    if (!before) failWith('assertion', 'no session right after signing in');
    const assetsBefore = await api.assetUrls();

    const watch = new AvailabilityWatch({ appUrl: sentinel.appUrl, issuer: sentinel.issuer });
    let outcome: RedeployOutcome;
    let upAgain: boolean;
    let availability: AvailabilitySummary;
    try {
      outcome = await driver.redeploy(AbortSignal.timeout(sentinel.coolify.deployTimeoutMs));
      // The platform may call the deploy done before the new instance answers: wait for it.
      upAgain = await watch.appUp(Date.now() + Math.max(sentinel.timeouts.actionMs, (sentinel.redeploy.downtimeBudgetSeconds + 5) * 1000));
    } finally {
      availability = await watch.stop();
    }
    observation.downtimeSeconds = availability.downtimeSeconds;
    observation.idpAvailability = availability.idpAvailability;
    observation.idpFailures = availability.idpFailures;
    pollFailures = { appFailureKinds: availability.appFailureKinds, idpFailureKinds: availability.idpFailureKinds };
    if (outcome.deploymentId) observation.deploymentId = outcome.deploymentId;
    observation.deploymentStatus = outcome.status;
    if (!outcome.ok) failWith('redeploy_failed', `the ${driver.name} redeploy ended ${outcome.status}${outcome.message ? `: ${outcome.message}` : ''}`);
    if (!upAgain) failWith('downtime_budget', `the app did not answer 200 again after the redeploy (${availability.downtimeSeconds} s down so far)`);

    observation.instanceChanged = (await api.assetUrls()).join(' ') !== assetsBefore.join(' ');

    // Same browser context, same cookies: the app must know us without a new trip to the IdP.
    app.traffic.reset();
    await app.dashboard.goto();
    await expectDashboard(app, 'session_lost');
    observation.newAuthorizeRoundTrip = app.traffic.requests.some((url) => url.startsWith(authorizeEndpoint(sentinel)));
    if (observation.newAuthorizeRoundTrip) failWith('session_lost', 'reloading /admin after the redeploy went through the IdP authorize endpoint again');
    const after = await api.getSession();
    observation.sessionKept = after?.session.id === before.session.id;
    if (!observation.sessionKept) failWith('session_lost', after ? 'get-session returns a different session after the redeploy' : 'get-session returns null after the redeploy');

    if (availability.idpDisrupted) {
      failWith('idp_disrupted', `the IdP failed ${availability.idpFailures} of ${availability.samples} polls during the redeploy (availability ${(availability.idpAvailability * 100).toFixed(1)} %)`);
    }
    if (availability.downtimeSeconds > sentinel.redeploy.downtimeBudgetSeconds) {
      failWith('downtime_budget', `the app was down ${availability.downtimeSeconds} s, budget ${sentinel.redeploy.downtimeBudgetSeconds} s`);
    }
  } finally {
    await attachObservations({ ...observation, ...pollFailures });
    await api.signOut().catch(() => undefined);
  }
});
