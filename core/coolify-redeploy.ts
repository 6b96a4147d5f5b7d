/**
 * The `coolify` redeploy driver: asks Coolify's API v4 (core/coolify.ts) for a deployment of the app and
 * confirms in Coolify's own record that a fresh one finished — the evidence e2e-session-redeploy
 * needs of a new instance (docs/target-contract.md, Coolify's deployments).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from './config.ts';
import {
  CoolifyError,
  coolifyClientFromConfig,
  deploymentFailure,
  isTerminalDeploymentStatus,
  type CoolifyClient,
  type CoolifyDeployment,
  type CoolifyFetch,
  type QueuedDeployment,
} from './coolify.ts';
import { SentinelError } from './errors.ts';
import type { RedeployDriver, RedeployOutcome } from './redeploy-driver.ts';

export interface CoolifyDriverDeps {
  fetchImpl?: CoolifyFetch;
}

/**
 * How far Coolify's clock may run behind ours before a deployment it created for us looks older
 * than the check: small against a deploy, which takes minutes.
 */
export const CLOCK_SKEW_MARGIN_MS = 60_000;
/** Newest deployments read to find ours in Coolify's record (≤ v4.1 sends each one's full logs: keep it small). */
const RECORD_PAGE = 5;

/**
 * The `coolify` redeploy driver: deploy, poll the deployment until it ends, within
 * config.coolify.deployTimeoutMs, then confirm in Coolify's own record (the application's deployment
 * list) that it is a deployment created after the redeploy started which finished: only that is
 * evidence of a new instance. Transient read errors are retried until that deadline; auth,
 * permission and not-found errors end the wait at once. The deploy POST itself is never retried.
 */
export function coolifyDriver(config: Config, deps: CoolifyDriverDeps = {}): RedeployDriver {
  const { appUuid, deployTimeoutMs, pollIntervalMs } = config.coolify;
  if (!appUuid) throw new SentinelError('config_invalid', 'the coolify redeploy driver needs SENTINEL_COOLIFY_APP_UUID');
  return {
    name: 'coolify',
    async redeploy(signal) {
      const startedAtMs = Date.now();
      const client = coolifyClientFromConfig(config, deps.fetchImpl);
      const deadline = AbortSignal.timeout(deployTimeoutMs);
      const within = AbortSignal.any([signal, deadline]);
      let deploymentId: string | undefined;
      let lastStatus = 'not queued yet';
      let lastError = '';
      /** Reads until Coolify answers: transient errors are retried until the deadline. */
      const untilAnswered = async <T>(read: () => Promise<T>): Promise<T> => {
        for (;;) {
          try {
            const value = await read();
            lastError = '';
            return value;
          } catch (error) {
            if (!(error instanceof CoolifyError) || !error.transient) throw error;
            lastError = `; last poll: ${error.message}`;
          }
          await sleep(pollIntervalMs, undefined, { signal: within });
        }
      };
      try {
        const queued = await client.deploy(appUuid, within);
        deploymentId = queued.deployment_uuid;
        lastStatus = 'queued';
        for (;;) {
          let deployment: CoolifyDeployment;
          try {
            deployment = await untilAnswered(() => client.getDeployment(queued.deployment_uuid, within));
          } catch (error) {
            if (error instanceof CoolifyError && error.code === 'coolify_not_found') return notCreated(queued, appUuid);
            throw error;
          }
          lastStatus = deployment.status;
          if (isTerminalDeploymentStatus(deployment.status)) {
            const record = await untilAnswered(() => client.listAppDeployments(appUuid, { skip: 0, take: RECORD_PAGE }, within));
            return await outcomeOf(client, appUuid, deployment, record.deployments, startedAtMs, within);
          }
          await sleep(pollIntervalMs, undefined, { signal: within });
        }
      } catch (error) {
        // Our deadline, or the caller's own timeout signal: either way the deployment outlived its wait.
        const callerTimedOut = signal.aborted && (signal.reason as { name?: string } | undefined)?.name === 'TimeoutError';
        if (deadline.aborted || callerTimedOut) {
          const which = deploymentId ? `deployment "${deploymentId}" of application "${appUuid}"` : `the deploy request for application "${appUuid}"`;
          const limit = deadline.aborted ? `within ${deployTimeoutMs} ms` : "before the caller's deadline";
          throw new CoolifyError('coolify_timeout', `Coolify ${which} did not finish ${limit} (last status: ${lastStatus}${lastError})`);
        }
        if (signal.aborted) throw signal.reason;
        throw error;
      } finally {
        await client.close();
      }
    },
  };
}

/**
 * Coolify handed back a deployment uuid it has no record of. Since v4.0.0-beta.408 a deploy of a
 * commit that already has a queued or running deployment answers 200 "Deployment already queued for
 * this commit." with a freshly made uuid it never stores: nothing new was queued.
 */
function notCreated(queued: QueuedDeployment, appUuid: string): RedeployOutcome {
  const said = queued.message ? ` ("${queued.message}")` : '';
  return {
    ok: true,
    deploymentId: queued.deployment_uuid,
    status: 'not queued',
    ...(queued.message ? { message: queued.message } : {}),
    evidence: {
      kind: 'none',
      checked: true,
      deploymentId: queued.deployment_uuid,
      detail: `Coolify answered the deploy of application "${appUuid}" with deployment "${queued.deployment_uuid}"${said} but has no such deployment (404): it queued nothing new`,
    },
  };
}

async function outcomeOf(
  client: CoolifyClient,
  appUuid: string,
  deployment: CoolifyDeployment,
  record: readonly CoolifyDeployment[],
  startedAtMs: number,
  signal: AbortSignal,
): Promise<RedeployOutcome> {
  let applicationStatus: string | undefined;
  try {
    // Coolify refreshes the application status on a timer, so it may lag; it is context, not a verdict.
    applicationStatus = (await client.getApplication(appUuid, signal)).status;
  } catch (error) {
    if (signal.aborted) throw error;
  }
  const id = deployment.deployment_uuid;
  const base = { deploymentId: id, status: deployment.status, ...(applicationStatus ? { applicationStatus } : {}) };
  const listed = record.find((d) => d.deployment_uuid === id);
  const createdAt = listed?.created_at ?? deployment.created_at;
  const createdMs = createdAt ? Date.parse(createdAt) : Number.NaN;
  const notEvidence = (detail: string) => ({ kind: 'none' as const, checked: true, deploymentId: id, ...(createdAt ? { deploymentCreatedAt: createdAt } : {}), detail });
  if (Number.isFinite(createdMs) && createdMs < startedAtMs - CLOCK_SKEW_MARGIN_MS) {
    // An answer with a deployment that existed before we asked: whatever it did, it is not our redeploy.
    return {
      ...base,
      ok: true,
      evidence: notEvidence(`Coolify answered the deploy with deployment "${id}", created ${createdAt}, before this redeploy started (${new Date(startedAtMs).toISOString()}): an existing deployment, not a new one`),
    };
  }
  if (deployment.status !== 'finished') {
    return { ...base, ok: false, message: deploymentFailure(id, deployment.status, appUuid).message, evidence: notEvidence(`deployment "${id}" ended ${deployment.status}`) };
  }
  if (!listed) return { ...base, ok: true, evidence: notEvidence(`Coolify's deployment list of application "${appUuid}" does not show deployment "${id}"`) };
  if (listed.status !== 'finished') return { ...base, ok: true, evidence: notEvidence(`Coolify's deployment list shows deployment "${id}" as "${listed.status}", not finished`) };
  if (!Number.isFinite(createdMs)) return { ...base, ok: true, evidence: notEvidence(`Coolify's record of deployment "${id}" has no readable created_at`) };
  return {
    ...base,
    ok: true,
    evidence: { kind: 'coolify-deployment', checked: true, deploymentId: id, deploymentCreatedAt: createdAt!, detail: `Coolify lists deployment "${id}", created ${createdAt}, as finished` },
  };
}
