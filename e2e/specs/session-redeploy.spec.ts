import type { RedeployObservation } from '../../core/observations.ts';
import type { RedeployOutcome } from '../../core/redeploy-driver.ts';
import { createRedeployDriver, judgeRedeploy, judgeRedeployError, settleWindowMs } from '../../core/redeploy.ts';
import { authorizeEndpoint } from '../../core/sign-in-rules.ts';
import { attachObservations, checkDetails, failWith, test, warnWith } from '../test.ts';
import { expectDashboard, signIn } from '../flows/sign-in.ts';
import { progress } from '../support/progress.ts';
import { AvailabilityWatch, type AvailabilitySummary } from '../support/availability.ts';

test.use({ signedInAs: 'fresh' });

test('e2e-session-redeploy: a signed-in session survives an app redeploy while the IdP stays up', checkDetails('e2e-session-redeploy', ['@disruptive']), async ({ app, api, credentials, sentinel }) => {
  if (sentinel.allowDisruptive !== true) {
    test.info().annotations.push({ type: 'reason', description: 'not_permitted' });
    test.skip(true, 'the redeploy check restarts the app: set SENTINEL_ALLOW_DISRUPTIVE=true to allow it');
  }
  test.setTimeout(sentinel.timeouts.browserCheckMs + sentinel.coolify.deployTimeoutMs + settleWindowMs(sentinel));

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
    evidence: 'none',
    sessionKept: false,
    newAuthorizeRoundTrip: false,
  };
  try {
    await signIn(app, credentials);
    await expectDashboard(app);
    const before = await api.getSession();
    if (!before) failWith('assertion', 'no session right after signing in');

    const watch = new AvailabilityWatch({ appUrl: sentinel.appUrl, issuer: sentinel.issuer });
    let outcome: RedeployOutcome | undefined;
    let driverError: unknown;
    let upAgain = false;
    let availability: AvailabilitySummary;
    try {
      progress(driver.name === 'coolify' ? 'redeploying through Coolify…' : 'redeploying with the redeploy command…');
      outcome = await driver.redeploy(AbortSignal.timeout(sentinel.coolify.deployTimeoutMs));
      if (outcome.ok) progress('redeployed; waiting for the app to answer again');
      // The platform may call the deploy done before the new instance answers: wait for it.
      if (outcome.ok) upAgain = await watch.appUp(Date.now() + settleWindowMs(sentinel));
    } catch (error) {
      driverError = error;
    } finally {
      availability = await watch.stop();
    }
    observation.downtimeSeconds = availability.downtimeSeconds;
    observation.idpAvailability = availability.idpAvailability;
    observation.idpFailures = availability.idpFailures;
    pollFailures = { appFailureKinds: availability.appFailureKinds, idpFailureKinds: availability.idpFailureKinds };
    if (!outcome) {
      const { reason, message } = judgeRedeployError(driverError);
      failWith(reason, message);
    }
    recordOutcome(observation, outcome);
    const verdict = judgeRedeploy(driver.name, outcome);
    if (verdict.status === 'failed') failWith(verdict.reason, verdict.message);
    if (verdict.warning) warnWith(verdict.warning.code, verdict.warning.message);
    if (!upAgain) failWith('downtime_budget', `the app did not answer 200 again after the redeploy (${availability.downtimeSeconds} s down so far)`);

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

function recordOutcome(observation: RedeployObservation, outcome: RedeployOutcome): void {
  const { evidence } = outcome;
  observation.evidence = evidence.kind;
  observation.instanceChanged = evidence.kind !== 'none';
  if (outcome.deploymentId) observation.deploymentId = outcome.deploymentId;
  observation.deploymentStatus = outcome.status;
  if (evidence.deploymentCreatedAt) observation.deploymentCreatedAt = evidence.deploymentCreatedAt;
  if (evidence.signalSource) observation.instanceSignalSource = evidence.signalSource;
  if (evidence.signalBefore) observation.instanceSignalBefore = evidence.signalBefore;
  if (evidence.signalAfter) observation.instanceSignalAfter = evidence.signalAfter;
}
