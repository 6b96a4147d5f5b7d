/**
 * Deploy-triggered acceptance (docs/coolify-monitor.md, "Acceptance after every deployment"; Coolify's deployments: docs/target-contract.md §10.4): watch `GET /api/v1/deployments/applications/{uuid}` and,
 * each time a deployment that started after the watch began ends `finished` or `failed`, report it
 * exactly once. Used by the monitor and by `sentinel watch-deploys` (runner/watch-deploys.ts); the
 * post-deploy checks below are those allowed after a deployment — never the disruptive one, which would
 * redeploy again.
 */
import cron, { type ScheduledTask } from 'node-cron';
import { DISRUPTIVE_CHECKS, type Config } from '../core/config.ts';
import { coolifyClientFromConfig, isTerminalDeploymentStatus, type CoolifyClient, type CoolifyDeployment, type CoolifyFetch } from '../core/coolify.ts';
import { SentinelError } from '../core/errors.ts';
import { CHECK_IDS, type CheckId } from '../core/result.ts';

/** A deployment that ended after the watch began. */
export interface DeploymentEvent {
  /** Coolify's deployment_uuid */
  uuid: string;
  status: 'finished' | 'failed';
  /** ISO time it ended (`finished_at`, else `updated_at`); undefined when Coolify gave neither */
  finishedAt: string | undefined;
}

export interface DeployWatcherOptions {
  config: Config;
  /** Awaited before the next poll, so deploy-triggered runs never overlap. `signal` aborts on stop(). */
  onDeployment: (event: DeploymentEvent, signal: AbortSignal) => void | Promise<void>;
  fetchImpl?: CoolifyFetch;
  /** cron of start(); default config.monitor.deployPollSchedule */
  schedule?: string;
  /** one line per notable event (poll errors, cancelled deployments); default stderr */
  log?: (line: string) => void;
}

export interface DeployWatcher {
  /** One poll now. The first successful poll only takes the baseline. Throws CoolifyError on API errors. */
  poll(): Promise<void>;
  /** The baseline poll now (its error is thrown: a wrong token should stop a fresh start), then polls on the schedule. */
  start(): Promise<void>;
  /** Stops the schedule, aborts a running poll or onDeployment, releases sockets. */
  stop(): Promise<void>;
}

/** How many recent deployments each poll reads; more than this many ending between two polls are missed. */
export const DEPLOYMENTS_PER_POLL = 10;
const SEEN_LIMIT = 1_000;

export function createDeployWatcher(options: DeployWatcherOptions): DeployWatcher {
  const { config, onDeployment } = options;
  const appUuid = config.coolify.appUuid;
  if (!appUuid || !config.coolify.url || !config.coolify.token) {
    throw new SentinelError('config_invalid', 'watching deployments needs SENTINEL_COOLIFY_URL, SENTINEL_COOLIFY_TOKEN and SENTINEL_COOLIFY_APP_UUID');
  }
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const client: CoolifyClient = coolifyClientFromConfig(config, options.fetchImpl);
  const stopping = new AbortController();
  /** Deployments already terminal at the baseline, or already reported: never reported (again). */
  const seen = new Set<string>();
  let baselineTaken = false;
  let inFlight: Promise<void> | undefined;
  let task: ScheduledTask | undefined;

  const pollOnce = async (): Promise<void> => {
    const { deployments } = await client.listAppDeployments(appUuid, { skip: 0, take: DEPLOYMENTS_PER_POLL }, stopping.signal);
    if (!baselineTaken) {
      // Ended before we looked: history, not news. Ones still running at start are reported when they end.
      for (const d of deployments) if (isTerminalDeploymentStatus(d.status)) seen.add(d.deployment_uuid);
      baselineTaken = true;
      return;
    }
    // Oldest first, so events arrive in the order the deployments ran.
    for (const deployment of [...deployments].reverse()) {
      if (seen.has(deployment.deployment_uuid) || !isTerminalDeploymentStatus(deployment.status)) continue;
      seen.add(deployment.deployment_uuid);
      const status = deployment.status === 'finished' ? 'finished' : deployment.status === 'failed' ? 'failed' : undefined;
      if (!status) {
        log(`watch-deploys: deployment ${deployment.deployment_uuid} ended ${deployment.status}; no run`);
        continue;
      }
      if (stopping.signal.aborted) return;
      try {
        await onDeployment(eventOf(deployment, status), stopping.signal);
      } catch (error) {
        // Exactly once: a failing handler is reported, never retried on the next poll.
        log(`watch-deploys: handling deployment ${deployment.deployment_uuid} failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    while (seen.size > SEEN_LIMIT) seen.delete(seen.values().next().value as string);
  };

  const poll = (): Promise<void> => {
    if (stopping.signal.aborted) return Promise.resolve();
    // A poll asked for while one runs joins it instead of starting a second one.
    inFlight ??= pollOnce().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };

  return {
    poll,
    async start() {
      if (task) return;
      const schedule = options.schedule ?? config.monitor.deployPollSchedule;
      if (!schedule) throw new SentinelError('config_invalid', 'no deployment poll schedule (SENTINEL_SCHEDULE_DEPLOYS)');
      await poll();
      task = cron.schedule(
        schedule,
        async () => {
          try {
            await poll();
          } catch (error) {
            if (!stopping.signal.aborted) log(`watch-deploys: ${error instanceof Error ? error.message : String(error)}`);
          }
        },
        { name: 'coolify-deployments', noOverlap: true },
      );
    },
    async stop() {
      stopping.abort(new Error('deployment watch stopped'));
      await task?.destroy();
      task = undefined;
      await inFlight?.catch(() => undefined);
      await client.close();
    },
  };
}

function eventOf(deployment: CoolifyDeployment, status: 'finished' | 'failed'): DeploymentEvent {
  const raw = deployment.finished_at ?? deployment.updated_at;
  const parsed = raw ? Date.parse(raw) : Number.NaN;
  return { uuid: deployment.deployment_uuid, status, finishedAt: Number.isFinite(parsed) ? new Date(parsed).toISOString() : undefined };
}

/** The checks a deploy-triggered run may run: the configured ones (all by default) minus the disruptive ones. */
export function postDeployChecks(config: Config): CheckId[] {
  return (config.checks ?? [...CHECK_IDS]).filter((id) => !DISRUPTIVE_CHECKS.includes(id));
}

/** The configuration a deploy-triggered run gets: disruption off, disruptive checks removed. */
export function postDeployConfig(config: Config): Config {
  return { ...config, allowDisruptive: false, checks: postDeployChecks(config) };
}
