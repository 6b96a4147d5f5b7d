/**
 * Deploy-triggered acceptance (docs/coolify-monitor.md, "Acceptance after every deployment"; Coolify's deployments: docs/target-contract.md §10.4): watch `GET /api/v1/deployments/applications/{uuid}` and,
 * each time a deployment that started after the watch began ends `finished` or `failed`, report it
 * exactly once. `runDeployWatch` is `sentinel watch-deploys`: on a finished deployment it runs the
 * post-deploy checks that are allowed — never the disruptive one, which would redeploy again.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import cron, { type ScheduledTask } from 'node-cron';
import { DISRUPTIVE_CHECKS, collectSecrets, type Config } from '../core/config.ts';
import { CoolifyError, coolifyClientFromConfig, deploymentFailure, isTerminalDeploymentStatus, type CoolifyClient, type CoolifyDeployment, type CoolifyFetch } from '../core/coolify.ts';
import { SentinelError } from '../core/errors.ts';
import { createRedactor } from '../core/redact.ts';
import { CHECK_IDS, exitCodeOf, type CheckId, type RunSummary } from '../core/result.ts';
import { selectChecks, unconfiguredChecks } from './select.ts';

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

/**
 * What `sentinel watch-deploys` calls after a finished deployment. It receives a configuration that
 * is already restricted (allowDisruptive false; `checks` = `postDeployChecks`), runs them as the
 * `postdeploy` mode does (writing reports), and resolves with the run's summary.
 */
export type DeployTriggeredRun = (request: { config: Config; checks: CheckId[]; deployment: DeploymentEvent; signal: AbortSignal }) => Promise<RunSummary>;

export interface RunDeployWatchOptions {
  /** Default: `executeRun` of runner/run.ts in `postdeploy` mode with the checks above. */
  run?: DeployTriggeredRun;
  /** Stops the watch; default SIGINT/SIGTERM. */
  signal?: AbortSignal;
  fetchImpl?: CoolifyFetch;
  /** Default config.monitor.deployPollSchedule, else every 30 seconds. */
  schedule?: string;
  write?: (line: string) => void;
  /** Pushes the run's metrics (and the deployment) when config.pushgatewayUrl is set; replaceable for tests. */
  push?: (config: Config, summary: RunSummary, deployment: DeploymentEvent) => Promise<unknown>;
  /** The environment the default run reads its configuration from; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** The target is the embedded stack (started by the CLI): its permissions apply. */
  embedded?: boolean;
}

export const DEFAULT_DEPLOY_POLL_SCHEDULE = '*/30 * * * * *';

/**
 * `sentinel watch-deploys`: runs until its signal (or SIGINT/SIGTERM), then resolves 0. Configuration
 * errors Coolify reports on the first poll (401, 403, 404, 405) throw, so the CLI exits 2 at once;
 * an unreachable Coolify (or a timeout) at start is logged and retried every max(pollIntervalMs, 5 s).
 * The run function is `options.run`; without one, runner/run.ts's `executeRun` runs in `postdeploy` mode.
 */
export async function runDeployWatch(config: Config, options: RunDeployWatchOptions = {}): Promise<number> {
  const redact = createRedactor(collectSecrets(config));
  const write = (line: string) => (options.write ?? ((l: string) => process.stdout.write(`${l}\n`)))(redact(line));
  const run = options.run ?? defaultRun(write, options.env ?? process.env);
  const push = options.push ?? defaultPush(write);
  const checks = postDeployChecks(config);
  const restricted = postDeployConfig(config);
  // The same gate as `sentinel run --mode postdeploy`, once, before watching: a run that cannot look is no gate.
  const unvouched = unconfiguredChecks('postdeploy', restricted, selectChecks({ mode: 'postdeploy', config: restricted, embedded: options.embedded ?? false, requested: checks }));
  if (unvouched.length) throw new SentinelError('not_configured', ['sentinel: deploy-triggered runs cannot vouch for checks that are not configured:', ...unvouched].join('\n'));
  const { signal, release } = options.signal ? { signal: options.signal, release: () => undefined } : interruptSignal();

  const createWatcher = () =>
    createDeployWatcher({
      config,
      schedule: options.schedule ?? config.monitor.deployPollSchedule ?? DEFAULT_DEPLOY_POLL_SCHEDULE,
      log: write,
      ...(options.fetchImpl ? { fetchImpl: options.fetchImpl } : {}),
      async onDeployment(deployment, stopSignal) {
        // A failed deployment is reported at once by the check that reads Coolify's deployment record
        // (deploy_failed), not only when a later deployment finishes.
        const deployFailed = deployment.status === 'failed';
        if (deployFailed) write(`watch-deploys: ${deploymentFailure(deployment.uuid, deployment.status, config.coolify.appUuid).message}`);
        const runChecks = deployFailed ? checks.filter((id) => id === DEPLOY_CHECK) : checks;
        if (runChecks.length === 0) return;
        write(`watch-deploys: deployment ${deployment.uuid} ${deployment.status}; running ${runChecks.join(', ')}`);
        const summary = await run({ config: restricted, checks: [...runChecks], deployment, signal: AbortSignal.any([stopSignal, signal]) });
        const { passed, failed, flaky, skipped } = summary.totals;
        const verdict = exitCodeOf(summary.checks) === 0 ? 'passed' : 'FAILED';
        write(`watch-deploys: deployment ${deployment.uuid}: ${verdict} (${passed} passed, ${failed} failed, ${flaky} flaky, ${skipped} skipped)`);
        if (config.pushgatewayUrl) await push(config, summary, deployment);
      },
    });

  try {
    write(`watch-deploys: watching Coolify deployments of application ${config.coolify.appUuid}`);
    while (!signal.aborted) {
      const watcher = createWatcher();
      try {
        await watcher.start();
      } catch (error) {
        await watcher.stop();
        if (!(error instanceof CoolifyError) || !error.transient) throw error;
        write(`watch-deploys: ${error.message}; retrying`);
        // A computed back-off before asking an unreachable API again, not a wait for readiness.
        await sleep(Math.max(config.coolify.pollIntervalMs, START_RETRY_MS), undefined, { signal }).catch(() => undefined);
        continue;
      }
      try {
        if (!signal.aborted) await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      } finally {
        await watcher.stop();
      }
    }
    return 0;
  } finally {
    release();
  }
}

const START_RETRY_MS = 5_000;
/** The check that reads the app's deployments in Coolify: the run a failed deployment gets. */
const DEPLOY_CHECK: CheckId = 'coolify-resources';

function interruptSignal(): { signal: AbortSignal; release: () => void } {
  const controller = new AbortController();
  const stop = () => controller.abort(new Error('interrupted'));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return {
    signal: controller.signal,
    release: () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    },
  };
}

function defaultRun(write: (line: string) => void, env: NodeJS.ProcessEnv): DeployTriggeredRun {
  return async ({ checks, signal }) => {
    const { executeRun } = await import('./run.ts');
    // `requested` (not a `checks` override) selects: loadConfig merges arrays index by index.
    return executeRun({ mode: 'postdeploy', env, overrides: { allowDisruptive: false }, requested: checks, write, signal, embedded: false });
  };
}

function defaultPush(write: (line: string) => void): NonNullable<RunDeployWatchOptions['push']> {
  return async (config, summary, deployment) => {
    const { pushRunMetrics } = await import('./pushgateway.ts');
    const result = await pushRunMetrics(config, summary, { mode: 'postdeploy', deployment, warn: write });
    if (result.pushed) write(`watch-deploys: metrics pushed to ${result.url}`);
  };
}
