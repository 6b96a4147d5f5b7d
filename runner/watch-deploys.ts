/**
 * `sentinel watch-deploys`: the deploy watcher of runner/deploy-watch.ts with, on every finished
 * deployment, a `postdeploy` run of the allowed checks (runner/run.ts) and, when configured, a push of
 * its metrics (runner/pushgateway.ts). Apart from the watcher because the monitor watches too and must
 * not load the run's modules.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { collectSecrets, type Config } from '../core/config.ts';
import { CoolifyError, deploymentFailure, type CoolifyFetch } from '../core/coolify.ts';
import { SentinelError } from '../core/errors.ts';
import { createRedactor } from '../core/redact.ts';
import { exitCodeOf, type CheckId, type RunSummary } from '../core/result.ts';
import { createDeployWatcher, postDeployChecks, postDeployConfig, type DeploymentEvent } from './deploy-watch.ts';
import { selectChecks, unconfiguredChecks } from './select.ts';

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
