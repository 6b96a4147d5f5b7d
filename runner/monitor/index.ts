/**
 * `sentinel monitor` (README.md, "The monitor"): scheduled probe and browser groups, cached results
 * served as Prometheus metrics and a status page, a blackbox-style /probe, and — when
 * monitor.deployPollSchedule is set — post-deploy runs after each Coolify deployment.
 * `startMonitor` returns a handle (tests); `runMonitor` is what the CLI calls: it runs until
 * SIGTERM/SIGINT, shuts down within 10 s and resolves 0.
 */
import { join } from 'node:path';
import { Registry, type RegistryContentType } from 'prom-client';
import { collectSecrets, type Config } from '../../core/config.ts';
import { SentinelError } from '../../core/errors.ts';
import { createRedactor } from '../../core/redact.ts';
import { claimReportsDir, claimReportsSubdir } from '../../core/reports-dir.ts';
import { countsAsFailed, type BrowserCheckId, type CheckResult, type ProbeCheckId } from '../../core/result.ts';
import { cleanupLines, type BrowserRunCleanup } from '../cleanup.ts';
import { createMetrics, recordDeployment, recordResult, recordRunInProgress, recordSkippedRun, type CheckSpec, type Metrics } from '../metrics.ts';
import { isProbeId, selectChecks } from '../select.ts';
import { checkSpecs } from './check-specs.ts';
import { createHistory, type CheckHistory } from './history.ts';
import { DEADLINE_GRACE_MS, browserDeadlineMs, runBrowserWithDeadline, runProbeWithDeadline, type RunBrowserFn, type RunProbeFn } from './runs.ts';
import { createLane, createScheduler, cronGaps, type GroupDefinition, type Scheduler } from './scheduler.ts';
import { startServer, type MonitorServer } from './server.ts';
import { readSentinelAlerts } from './prometheus-alerts.ts';
import { buildStatus, type DeploymentStatus } from './status-page.ts';

export type { RunBrowserFn, RunProbeFn } from './runs.ts';

/** What the monitor needs of runner/deploy-watch.ts (injectable for tests). */
export interface DeploymentEventLike {
  uuid: string;
  status: 'finished' | 'failed';
  finishedAt?: string | undefined;
}
export type CreateDeployWatcherFn = (options: {
  config: Config;
  onDeployment: (event: DeploymentEventLike, signal: AbortSignal) => void | Promise<void>;
  log?: (line: string) => void;
}) => { start(): Promise<void>; stop(): Promise<void> };

export interface MonitorOptions {
  /** host:port; overrides config.monitor.listen (`--listen`) */
  listen?: string;
  /** SENTINEL_* variables handed to the browser child process; default those of process.env */
  env?: Record<string, string | undefined>;
  /** the target is the embedded local stack (mutating checks allowed by default there) */
  embedded?: boolean;
  runProbe?: RunProbeFn;
  runBrowser?: RunBrowserFn;
  createDeployWatcher?: CreateDeployWatcherFn;
  /** default: a new Registry */
  registry?: Registry<RegistryContentType>;
  /** one line per notable event (redacted); default stderr */
  log?: (line: string) => void;
  /** results kept per check for /status; default 20 */
  historyLimit?: number;
  /** added to browserCheckMs × (checks + 1) for the browser deadline; default 30 s (tests shorten it) */
  browserDeadlineMarginMs?: number;
}

export interface MonitorHandle {
  url: string;
  server: MonitorServer;
  registry: Registry<RegistryContentType>;
  metrics: Metrics;
  history: CheckHistory;
  scheduler: Scheduler;
  specs: readonly CheckSpec[];
  /** resolves when every group has finished its first run */
  firstCycle: Promise<void>;
  /** stops tasks, aborts running work (the browser child is killed), closes the server; idempotent */
  stop(): Promise<void>;
}

/** Total shutdown budget is 10 s: work gets 8 s, the server the rest. */
const SHUTDOWN_WORK_GRACE_MS = 8_000;
const DEPLOY_START_RETRY_MS = 30_000;
/** The one probe that signs in (one POST /api/auth/sign-in/social per run). */
const SIGN_IN_PROBE = 'login-v2-redirect' satisfies ProbeCheckId;
/** The probe that reads Coolify's deployment record: what a failed deployment runs. */
const DEPLOY_PROBE = 'coolify-resources' satisfies ProbeCheckId;

async function defaultRunProbe(): Promise<RunProbeFn> {
  const { runProbe } = await import('../../probes/run-probe.ts');
  return runProbe;
}

async function defaultRunBrowser(): Promise<RunBrowserFn> {
  const { runBrowserInChild } = await import('./browser-process.ts');
  return runBrowserInChild;
}

async function defaultDeployWatcher(): Promise<CreateDeployWatcherFn> {
  const { createDeployWatcher } = await import('../deploy-watch.ts');
  return createDeployWatcher as CreateDeployWatcherFn;
}

export async function startMonitor(config: Config, options: MonitorOptions = {}): Promise<MonitorHandle> {
  const redact = createRedactor(collectSecrets(config));
  const log = (line: string) => (options.log ?? ((l: string) => process.stderr.write(`${l}\n`)))(redact(line));
  const runProbe = options.runProbe ?? (await defaultRunProbe());
  const runBrowser = options.runBrowser ?? (await defaultRunBrowser());
  const env = options.env ?? Object.fromEntries(Object.entries(process.env).filter(([key]) => key.startsWith('SENTINEL_')));
  const startedAtMs = Date.now();

  const selection = selectChecks({ mode: 'monitor', config, embedded: options.embedded ?? false });
  const probes = selection.run.filter((id): id is ProbeCheckId => isProbeId(id));
  const browser = selection.run.filter((id): id is BrowserCheckId => !isProbeId(id));
  // Browser runs write (and scrub) <reportsDir>/monitor: refused at start when sentinel may not write
  // there (core/reports-dir.ts). A monitor of probes alone writes no reports.
  const reportsDir = browser.length > 0 ? claimReportsSubdir(claimReportsDir(config.reportsDir), 'monitor') : join(config.reportsDir, 'monitor');
  // not_selected checks are not this monitor's business; not_configured / not_permitted ones show as skipped.
  const notRun = selection.skipped.filter((r) => r.reason !== 'not_selected');
  const schedules = { probes: config.monitor.probeSchedule, browser: config.monitor.browserSchedule, ...(config.monitor.deployPollSchedule ? { deploys: config.monitor.deployPollSchedule } : {}) };
  // The longest two results of a healthy check are apart: the schedule's interval plus one run's deadline
  // (a run that takes long makes the scheduler skip a tick); the sign-in probe also waits out a browser run.
  const probeRunS = Math.ceil((config.timeouts.probeMs + DEADLINE_GRACE_MS) / 1000);
  const browserRunS = browser.length > 0 ? Math.ceil((browserDeadlineMs(config, browser, options.browserDeadlineMarginMs) + DEADLINE_GRACE_MS) / 1000) : 0;
  const intervals = {
    probes: cronGaps(schedules.probes).longest + probeRunS,
    browser: cronGaps(schedules.browser).longest + browserRunS,
    signIn: cronGaps(schedules.probes).longest + probeRunS + browserRunS,
  };
  const specs = checkSpecs(config, { probes, browser, notRun: notRun.map((r) => r.id) }, intervals);

  const registry = options.registry ?? new Registry();
  const metrics = createMetrics(registry, { checks: specs, startTimeSeconds: Math.floor(startedAtMs / 1000) });
  const history = createHistory({ limit: options.historyLimit ?? 20 });

  const record = (raw: CheckResult) => {
    const result = redact.deep(raw);
    const finishedAtMs = Date.now();
    history.record(result, finishedAtMs);
    recordResult(metrics, result, finishedAtMs);
    if (countsAsFailed(result.status)) log(`monitor: ${result.id} ${result.status} (${result.reason ?? 'unexpected'}): ${result.message ?? ''}`);
  };
  for (const result of notRun) record(result);

  const lane = createLane();
  const plainProbes = probes.filter((id) => id !== SIGN_IN_PROBE);
  const hasSignInProbe = probes.includes(SIGN_IN_PROBE);
  const recordLive = (signal: AbortSignal) => (result: CheckResult | undefined) => {
    if (result && !signal.aborted) record(result);
    return result;
  };

  /**
   * login-v2-redirect signs in: it never runs during a browser flow (it holds the lane), and the probe
   * itself takes a slot of the sign-in limit from the shared record (core/sign-in-record.ts).
   * Undefined when stopped first.
   */
  const runSignInProbe = async (signal: AbortSignal, waitSignal = signal): Promise<CheckResult | undefined> => {
    let release: (() => void) | undefined;
    try {
      release = await lane.acquire(waitSignal);
    } catch {
      return undefined;
    }
    try {
      return await runProbeWithDeadline(SIGN_IN_PROBE, config, runProbe, signal);
    } finally {
      release();
    }
  };

  /** The probes; the sign-in probe inline (post-deploy runs need its result) or apart, in its own group. */
  const runProbeGroup = async (signal: AbortSignal, signIn: 'inline' | 'apart'): Promise<CheckResult[]> => {
    const running = plainProbes.map((id) => runProbeWithDeadline(id, config, runProbe, signal).then(recordLive(signal)));
    if (hasSignInProbe && signIn === 'inline') running.push(runSignInProbe(signal).then(recordLive(signal)));
    if (hasSignInProbe && signIn === 'apart') {
      const run = scheduler.runTracked('sign-in', async (s) => void recordLive(s)(await runSignInProbe(s)));
      firstSignIn ??= run;
    }
    const results = await Promise.all(running);
    return signal.aborted ? [] : results.filter((r): r is CheckResult => r !== undefined);
  };

  /** The sign-in probe's first run: part of the monitor's first cycle. */
  let firstSignIn: Promise<void> | undefined;

  /** Browser runs holding or waiting for the lane: a scheduled run skips while one is. */
  let browserRuns = 0;
  const runBrowserGroup = async (signal: AbortSignal): Promise<CheckResult[]> => {
    browserRuns += 1;
    try {
      const release = await lane.acquire(signal).catch(() => undefined);
      if (!release) return [];
      try {
        const onCleanup = (cleanup: BrowserRunCleanup) => cleanupLines(cleanup).forEach((line) => log(`monitor: ${line.replace(/^sentinel: /, '')}`));
        const results = await runBrowserWithDeadline(browser, config, env, runBrowser, signal, { reportsDir, onCleanup, ...(options.browserDeadlineMarginMs !== undefined ? { marginMs: options.browserDeadlineMarginMs } : {}) });
        if (!results || signal.aborted) return [];
        results.forEach(record);
        return results;
      } finally {
        release();
      }
    } finally {
      browserRuns -= 1;
    }
  };

  const groups: GroupDefinition[] = [{ name: 'probes', schedule: schedules.probes, run: async (signal) => void (await runProbeGroup(signal, 'apart')) }];
  if (browser.length > 0) {
    groups.push({
      name: 'browser',
      schedule: schedules.browser,
      run: async (signal) => {
        if (browserRuns > 0) {
          recordSkippedRun(metrics, 'browser', 'browser_busy');
          return;
        }
        await runBrowserGroup(signal);
      },
    });
  }
  const scheduler = createScheduler(groups, {
    onSkip: (group, reason) => recordSkippedRun(metrics, group, reason),
    onRunning: (group, running) => recordRunInProgress(metrics, group, running),
    log,
  });

  const listen = options.listen ?? config.monitor.listen;
  let lastDeployment: DeploymentStatus | undefined;
  const server = await startServer(listen, {
    ...(config.monitor.token ? { token: config.monitor.token } : {}),
    registry,
    version: () => metrics.version,
    alive: () => scheduler.alive(),
    status: async () => {
      const alerts = config.monitor.prometheusUrl ? await readSentinelAlerts(config.monitor.prometheusUrl) : undefined;
      return buildStatus({ specs, history, startedAtMs, schedules, redact, lastDeployment, alerts });
    },
    probeIds: probes,
    specs,
    runProbeNow: async (id) => {
      if (id !== SIGN_IN_PROBE) return redact.deep((await runProbeWithDeadline(id, config, runProbe, new AbortController().signal))!);
      // A browser flow signs in and holds the lane for up to its deadline: asking again later is the honest answer.
      if (lane.held()) return { busy: true, retryAfterSeconds: Math.max(1, Math.ceil(config.timeouts.browserCheckMs / 1000)) };
      const startedAt = new Date();
      const waitMs = config.timeouts.probeMs;
      const result = await runSignInProbe(scheduler.signal, AbortSignal.any([scheduler.signal, AbortSignal.timeout(waitMs)]));
      return redact.deep(
        result ?? { id, kind: 'probe', status: 'failed', reason: 'timeout', message: `${id}: no sign-in slot within ${waitMs} ms (a browser flow is running or the sign-in limit is used up)`, startedAt: startedAt.toISOString(), durationMs: Date.now() - startedAt.getTime() },
      );
    },
  }).catch((error: unknown) => {
    throw new SentinelError('environment', `sentinel monitor: cannot listen on ${listen}: ${(error as { code?: string }).code ?? (error instanceof Error ? error.message : String(error))}`, { cause: error });
  });

  // Post-deploy runs: after a finished deployment, the scheduled (never disruptive) checks once more.
  const deploy = config.monitor.deployPollSchedule ? await startDeployWatch() : undefined;
  async function startDeployWatch() {
    const create = options.createDeployWatcher ?? (await defaultDeployWatcher());
    let retry: NodeJS.Timeout | undefined;
    let stopped = false;
    const watcher = create({
      config,
      log,
      onDeployment: (event) => {
        const atMs = event.finishedAt ? Date.parse(event.finishedAt) : Date.now();
        const settle = (outcome: DeploymentStatus['outcome']) => {
          lastDeployment = { uuid: event.uuid, status: event.status, outcome, at: new Date(atMs).toISOString() };
          if (outcome !== 'running') recordDeployment(metrics, outcome, atMs, event.uuid);
        };
        if (event.status === 'failed') {
          settle('deploy_failed');
          if (!probes.includes(DEPLOY_PROBE)) {
            log(`monitor: deployment ${event.uuid} failed; no post-deploy run`);
            return;
          }
          // Red at once (deploy_failed), not at the next scheduled probe run or the next finished deployment.
          log(`monitor: deployment ${event.uuid} failed; running ${DEPLOY_PROBE}`);
          return scheduler.runTracked('deploy', async (signal) => void recordLive(signal)(await runProbeWithDeadline(DEPLOY_PROBE, config, runProbe, signal)));
        }
        if (scheduler.running('deploy')) {
          settle('skipped');
          recordSkippedRun(metrics, 'deploy', 'overlap');
          return;
        }
        settle('running');
        return scheduler.runTracked('deploy', async (signal) => {
          log(`monitor: deployment ${event.uuid} finished; running ${[...probes, ...browser].join(', ')}`);
          const results = [...(await runProbeGroup(signal, 'inline'))];
          if (browser.length > 0) results.push(...(await runBrowserGroup(signal)));
          if (signal.aborted) return;
          const ok = results.every((r) => !countsAsFailed(r.status));
          settle(ok ? 'passed' : 'failed');
        });
      },
    });
    const start = async (): Promise<void> => {
      try {
        await watcher.start();
      } catch (error) {
        if (stopped) return;
        log(`monitor: watching deployments failed to start: ${error instanceof Error ? error.message : String(error)}; retrying in ${DEPLOY_START_RETRY_MS / 1000} s`);
        // A computed back-off before asking the API again (not a wait for readiness).
        retry = setTimeout(() => void start(), Math.max(config.coolify.pollIntervalMs, DEPLOY_START_RETRY_MS));
      }
    };
    void start();
    return {
      async stop() {
        stopped = true;
        clearTimeout(retry);
        await watcher.stop().catch(() => undefined);
      },
    };
  }

  scheduler.start();
  log(`monitor: listening on ${server.url}; probes ${probes.join(', ') || '(none)'} on "${schedules.probes}", browser ${browser.join(', ') || '(none)'} on "${schedules.browser}"`);

  let stopping: Promise<void> | undefined;
  return {
    url: server.url,
    server,
    registry,
    metrics,
    history,
    scheduler,
    specs,
    firstCycle: scheduler.firstCycle().then(() => firstSignIn),
    stop: () =>
      (stopping ??= (async () => {
        await Promise.all([scheduler.stop(SHUTDOWN_WORK_GRACE_MS), deploy?.stop()]);
        await server.close();
      })()),
  };
}

/**
 * The CLI entry: starts the monitor, runs until SIGTERM or SIGINT, then stops tasks, aborts running
 * work (killing a browser child), closes the server and resolves 0 — all within 10 s.
 */
export async function runMonitor(config: Config, options: MonitorOptions = {}): Promise<number> {
  // Listen before starting anything, so a signal during start-up is not the default (killing) one.
  let onSignal: (name: NodeJS.Signals) => void = () => undefined;
  const received = new Promise<NodeJS.Signals>((resolve) => {
    onSignal = (name) => resolve(name);
  });
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  try {
    const monitor = await startMonitor(config, options);
    const signal = await received;
    const log = options.log ?? ((l: string) => process.stderr.write(`${l}\n`));
    log(`monitor: ${signal} received; shutting down`);
    await monitor.stop();
    log('monitor: stopped');
    return 0;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}
