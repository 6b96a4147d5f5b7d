/**
 * `coolify-resources` probe: what Coolify itself says about the deployment. Every configured resource
 * (the app, the Zitadel stack, both databases) runs healthy, and the app's last deployment that ended
 * did not fail. A read-only token is enough (`GET /applications/{uuid}`, `/services/{uuid}`,
 * `/databases/{uuid}`, `/deployments/applications/{uuid}`).
 *
 * Coolify refreshes statuses on a timer (about every minute), so a status may lag a change by that
 * much; the alert rules count failed runs in a row for that reason.
 */
import {
  CoolifyError,
  compareCoolifyVersions,
  coolifyClientFromConfig,
  isTerminalDeploymentStatus,
  parseCoolifyVersion,
  type CoolifyClient,
  type CoolifyDeployment,
} from '../core/coolify.ts';
import type { DeploymentObservation, ResourceObservation } from '../core/observations.ts';
import { failureLine, type Reason, type Warning } from '../core/result.ts';
import { Assertions } from './assertions.ts';
import { normalizeStatus, reasonOfState, resourceState } from './coolify-status.ts';
import { probeResult } from './probe-result.ts';
import { watchedResources, type WatchedResource } from '../core/targets.ts';
import type { ProbeFn } from './types.ts';

/** Deployments read one at a time to find the newest that ended (≤ v4.1 sends each one's full logs). */
const DEPLOYMENTS_LOOKED_AT = 5;
/** Before this build a container without a health check counted as unhealthy. */
const HEALTH_UNKNOWN_SINCE = parseCoolifyVersion('4.0.0-beta.445')!;

/** Failure reasons in the order one is reported: the worst first. */
const PRIORITY: readonly Reason[] = ['resource_down', 'resource_missing', 'resource_unhealthy', 'deploy_failed'];

interface ResourceRead {
  resource: WatchedResource;
  observation: ResourceObservation;
}

export const coolifyResourcesProbe: ProbeFn = async (config, ctx) => {
  const resources = watchedResources(config);
  if (resources.length === 0) {
    return probeResult('coolify-resources', { status: 'skipped', reason: 'not_configured', message: 'Coolify is not configured (SENTINEL_COOLIFY_URL, SENTINEL_COOLIFY_TOKEN, SENTINEL_COOLIFY_APP_UUID)' });
  }
  const client = coolifyClientFromConfig(config);
  try {
    const [reads, deployment] = await Promise.all([
      Promise.all(resources.map((resource) => readResource(client, resource, ctx.signal))),
      newestEndedDeployment(client, config.coolify.appUuid!, ctx.signal),
    ]);
    const assertions = new Assertions();
    const warnings: Warning[] = [];
    const notes: string[] = [];
    /** Lines that say more than `name: observed … expected …` (what to fix). */
    const messages = new Map<string, string>();
    for (const { resource, observation } of reads) {
      const label = `${resource.role}${observation.name ? ` "${observation.name}"` : ''}`;
      if (observation.error !== undefined) {
        assertions.check(`${label} exists`, false, 'not found', `a ${resource.kind} with uuid ${resource.uuid}`, 'resource_missing');
        messages.set(`${label} exists`, `${resource.role}: ${observation.error}`);
        continue;
      }
      const parts = observation.unhealthyParts?.length ? ` (${observation.unhealthyParts.join(', ')})` : '';
      const reason = reasonOfState(observation.state!);
      assertions.check(`${label} status`, reason === undefined, `${observation.status}${parts}`, 'running:healthy', reason ?? 'resource_unhealthy');
      if (observation.state === 'health_unknown') {
        warnings.push('resource_health_unknown');
        notes.push(`${label} is running:unknown: Coolify has no health check for it, so it cannot tell a broken ${resource.kind} from a healthy one (enable one under the resource's Health Checks)`);
      }
    }
    if (deployment) {
      const commit = deployment.commit ? `, commit ${deployment.commit}` : '';
      assertions.check('app last deployment', deployment.status !== 'failed', `${deployment.status} (deployment ${deployment.uuid}${commit})`, 'not failed', 'deploy_failed');
    }
    const observations = { resources: reads.map((r) => r.observation), ...(deployment ? { deployment } : {}) };
    const failing = assertions.list.filter((a) => !a.ok);
    if (failing.length === 0) {
      return probeResult('coolify-resources', { status: 'passed', assertions, observations, warnings: [...new Set(warnings)], ...(notes.length ? { message: notes.join('; ') } : {}) });
    }
    const worst = [...failing].sort((a, b) => PRIORITY.indexOf(a.reason) - PRIORITY.indexOf(b.reason))[0]!;
    const hint = worst.reason === 'resource_unhealthy' && /running:unhealthy/.test(String(worst.observed)) ? await oldHealthHint(client, ctx.signal) : '';
    return probeResult('coolify-resources', { status: 'failed', reason: worst.reason, message: `${messages.get(worst.name) ?? failureLine(worst)}${hint}`, assertions, observations });
  } finally {
    await client.close();
  }
};

/** One resource's status; a uuid Coolify does not know is recorded (resource_missing), any other error thrown. */
async function readResource(client: CoolifyClient, resource: WatchedResource, signal: AbortSignal): Promise<ResourceRead> {
  const base = { role: resource.role, uuid: resource.uuid };
  const missing = (error: CoolifyError, what: string, more = ''): ResourceRead => ({
    resource,
    observation: {
      ...base,
      kind: resource.kind === 'stack' ? 'service' : resource.kind,
      error: `Coolify has no ${what} with uuid "${resource.uuid}" for this token (${error.httpStatus ?? 404}): check ${resource.variable}${more}`,
    },
  });
  const judged = (kind: ResourceObservation['kind'], name: string | undefined, status: string, unhealthyParts?: string[]): ResourceRead => ({
    resource,
    observation: { ...base, kind, ...(name ? { name } : {}), status, state: resourceState(status), ...(unhealthyParts?.length ? { unhealthyParts } : {}) },
  });
  try {
    if (resource.kind === 'application') {
      const app = await client.getApplication(resource.uuid, signal);
      return judged('application', app.name, app.status);
    }
    if (resource.kind === 'database') {
      const db = await client.getDatabase(resource.uuid, signal);
      return judged('database', db.name, db.status);
    }
  } catch (error) {
    if (isNotFound(error)) {
      return resource.kind === 'database'
        ? missing(error, 'standalone database', ' (a database inside a Docker Compose service is not served by the API: use a standalone database resource)')
        : missing(error, 'application');
    }
    throw error;
  }
  // A Docker Compose stack is a service (Docker Compose Empty, or created through the API before
  // v4.1), or an application with the compose build pack.
  try {
    const service = await client.getService(resource.uuid, signal);
    const parts = service.parts
      .filter((part) => !part.excludedFromStatus && reasonOfState(resourceState(part.status)) !== undefined)
      .map((part) => `${part.name}: ${normalizeStatus(part.status)}`);
    return judged('service', service.name, service.status, parts);
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  try {
    const app = await client.getApplication(resource.uuid, signal);
    return judged('application', app.name, app.status);
  } catch (error) {
    if (isNotFound(error)) return missing(error, 'service or application');
    throw error;
  }
}

function isNotFound(error: unknown): error is CoolifyError {
  return error instanceof CoolifyError && error.code === 'coolify_not_found';
}

/**
 * The app's newest deployment that ended (finished, failed or cancelled); queued and running ones are
 * passed over, so a deploy in progress neither hides a failure nor stands for one.
 */
async function newestEndedDeployment(client: CoolifyClient, appUuid: string, signal: AbortSignal): Promise<DeploymentObservation | undefined> {
  for (let skip = 0; skip < DEPLOYMENTS_LOOKED_AT; skip++) {
    const page = await client.listAppDeployments(appUuid, { skip, take: 1 }, signal);
    const deployment: CoolifyDeployment | undefined = page.deployments[0];
    if (!deployment) return undefined;
    if (!isTerminalDeploymentStatus(deployment.status)) continue;
    const finishedAt = deployment.finished_at ?? deployment.updated_at;
    return {
      uuid: deployment.deployment_uuid,
      status: deployment.status,
      ...(deployment.commit ? { commit: deployment.commit } : {}),
      ...(finishedAt ? { finishedAt } : {}),
    };
  }
  return undefined;
}

/** Before v4.0.0-beta.445 Coolify reported a container without a health check as unhealthy: say so. */
async function oldHealthHint(client: CoolifyClient, signal: AbortSignal): Promise<string> {
  try {
    const text = await client.getVersion(signal);
    const version = parseCoolifyVersion(text);
    if (version && compareCoolifyVersions(version, HEALTH_UNKNOWN_SINCE) < 0) {
      return ` (Coolify ${text} reports a container without a health check as running:unhealthy; since v4.0.0-beta.445 that reads running:unknown)`;
    }
  } catch {
    // only a hint: the verdict stands without it
  }
  return '';
}
