/**
 * Every Prometheus metric of the suite (style practice 7, monitoring-anchors §4.6), defined in this one
 * module on a registry that is passed in (never prom-client's global one). `recordResult` is the only
 * mapping from a CheckResult to metrics. Labels are bounded: check ids, check types, targets taken from
 * the configuration, Reason codes and fixed status words — never free text, URLs with queries or secrets.
 *
 * Process metrics: prom-client's `collectDefaultMetrics()` output fails `promtool check metrics`
 * (gauges named `*_total`), so the suite exposes three lint-clean process gauges of its own instead
 * (resident memory, heap used, start time) in the same registry.
 */
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { Counter, Gauge, Histogram, type Registry, type RegistryContentType } from 'prom-client';
import type { DbObservation, LoginUi, RedeployObservation, TlsHostObservation } from '../core/observations.ts';
import type { CheckId, CheckResult, CheckStatus } from '../core/result.ts';

export type CheckType = 'tls' | 'http' | 'oidc' | 'db' | 'browser';
/** sign-in: the login-v2-redirect probe, run apart from the probe group (it waits for browser flows and the sign-in limit). */
export type GroupName = 'probes' | 'sign-in' | 'browser' | 'deploy';
export type StateSetStatus = 'passing' | 'failing' | 'degraded' | 'skipped';
export type SkipReason = 'overlap' | 'browser_busy' | 'shutting_down';
export type DeploymentOutcome = 'passed' | 'failed' | 'deploy_failed' | 'skipped';

export const STATE_SET: readonly StateSetStatus[] = ['passing', 'failing', 'degraded', 'skipped'];
export const RESULT_STATUSES: readonly CheckStatus[] = ['passed', 'failed', 'flaky', 'skipped'];
export const GROUPS: readonly GroupName[] = ['probes', 'sign-in', 'browser', 'deploy'];
export const SKIP_REASONS: readonly SkipReason[] = ['overlap', 'browser_busy', 'shutting_down'];
export const DEPLOYMENT_OUTCOMES: readonly DeploymentOutcome[] = ['passed', 'failed', 'deploy_failed', 'skipped'];
const LOGIN_UIS: readonly LoginUi[] = ['v1', 'v2', 'unknown'];

/** What the metrics know about a configured check; all label values come from here, i.e. from config. */
export interface CheckSpec {
  id: CheckId;
  checkType: CheckType;
  /** host[:port] (comma list for the tls check), never a URL with a query */
  target: string;
  /** seconds between scheduled runs; unset for checks the monitor never schedules */
  intervalSeconds?: number;
  /** host:port list the tls check may report; other hosts in a result are ignored (bounded labels) */
  tlsTargets?: readonly string[];
  /** false for checks the monitor never runs (not permitted): no probe_* series for them */
  scheduled?: boolean;
}

export interface BuildInfo {
  version: string;
  revision: string;
  node_version: string;
  playwright_version: string;
}

const CACHED = 'of the last scheduled run (cached)';
const ID_LABELS = ['check', 'check_type', 'target'] as const;
type IdLabel = (typeof ID_LABELS)[number];

/** Metrics a single result produces: the only ones `/probe` exposes (blackbox style). */
export interface ResultMetrics {
  probeSuccess: Gauge<IdLabel>;
  probeDuration: Gauge<IdLabel>;
  httpStatusCode: Gauge<IdLabel>;
  sslEarliestExpiry: Gauge<IdLabel>;
  pgUp: Gauge<IdLabel>;
  pgPostmasterStart: Gauge<IdLabel>;
  tlsVerifySuccess: Gauge<'target'>;
  migrationsExpected: Gauge<'target'>;
  migrationsApplied: Gauge<'target'>;
  migrationsPending: Gauge<'target'>;
  migrationsHashMismatch: Gauge<'target'>;
  loginUiInfo: Gauge<'target' | 'login_ui'>;
}

/** Suite-level bookkeeping of the monitor (history of runs, scheduler state, deployments, build). */
export interface SuiteMetrics {
  checkStatus: Gauge<'check' | 'status'>;
  resultsTotal: Counter<'check' | 'status'>;
  failuresTotal: Counter<'check' | 'reason'>;
  flakyTotal: Counter<'check'>;
  lastRun: Gauge<'check'>;
  lastSuccess: Gauge<'check'>;
  expectedInterval: Gauge<'check'>;
  checkDuration: Histogram<'check'>;
  sessionSurvivedRedeploy: Gauge;
  redeployDowntime: Gauge;
  runsSkipped: Counter<'group' | 'reason'>;
  runInProgress: Gauge<'group'>;
  deploymentRuns: Counter<'outcome'>;
  deploymentLast: Gauge;
  deploymentInfo: Gauge<'deployment_uuid' | 'outcome'>;
  buildInfo: Gauge<keyof BuildInfo>;
  startTime: Gauge;
}

export interface Metrics {
  result: ResultMetrics;
  suite?: SuiteMetrics;
  /** configured checks by id (labels come from here) */
  checks: Map<CheckId, CheckSpec>;
}

type AnyRegistry = Registry<RegistryContentType>;

function gauge<L extends string>(registry: AnyRegistry, name: string, help: string, labelNames: readonly L[]): Gauge<L> {
  return new Gauge<L>({ name, help, labelNames, registers: [registry] });
}

/** Only the per-result metrics, on a (fresh) registry: what `/probe?check=` answers with. */
export function createResultMetrics(registry: AnyRegistry): ResultMetrics {
  return {
    probeSuccess: gauge(registry, 'probe_success', `Whether the check succeeded (1) or not (0), ${CACHED}`, ID_LABELS),
    probeDuration: gauge(registry, 'probe_duration_seconds', `Duration of the check in seconds, ${CACHED}`, ID_LABELS),
    httpStatusCode: gauge(registry, 'probe_http_status_code', `HTTP status code of the last response (0 if none), ${CACHED}`, ID_LABELS),
    sslEarliestExpiry: gauge(registry, 'probe_ssl_earliest_cert_expiry', `Unix time of the earliest NotAfter among the served certificates, per TLS target, ${CACHED}`, ID_LABELS),
    pgUp: gauge(registry, 'pg_up', `Whether connecting to PostgreSQL and SELECT 1 succeeded (1) or not (0), ${CACHED}`, ID_LABELS),
    pgPostmasterStart: gauge(registry, 'pg_postmaster_start_time_seconds', `pg_postmaster_start_time() as Unix time, ${CACHED}`, ID_LABELS),
    tlsVerifySuccess: gauge(registry, 'sentinel_tls_verify_success', `Whether the served chain and host name verified (1) or not (0), per TLS target, ${CACHED}`, ['target']),
    migrationsExpected: gauge(registry, 'sentinel_db_migrations_expected', `Migrations in the app's journal, ${CACHED}`, ['target']),
    migrationsApplied: gauge(registry, 'sentinel_db_migrations_applied', `Migrations recorded as applied in the database, ${CACHED}`, ['target']),
    migrationsPending: gauge(registry, 'sentinel_db_migrations_pending', `Journal migrations not applied to the database, ${CACHED}`, ['target']),
    migrationsHashMismatch: gauge(registry, 'sentinel_db_migrations_hash_mismatch', `Applied migrations whose journal file hash differs (edited after apply), ${CACHED}`, ['target']),
    loginUiInfo: gauge(registry, 'sentinel_idp_login_ui_info', `Hosted login UI the IdP redirected to (1 for the observed one), ${CACHED}`, ['target', 'login_ui']),
  };
}

function createSuiteMetrics(registry: AnyRegistry): SuiteMetrics {
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) => new Counter<L>({ name, help, labelNames, registers: [registry] });
  return {
    checkStatus: gauge(registry, 'sentinel_check_status', `State set: 1 for the status of the check (passing, failing, degraded, skipped), ${CACHED}`, ['check', 'status']),
    resultsTotal: counter('sentinel_check_results_total', 'Completed check runs by final status (passed, failed, flaky, skipped)', ['check', 'status']),
    failuresTotal: counter('sentinel_check_failures_total', 'Failed check runs by bounded reason code', ['check', 'reason']),
    flakyTotal: counter('sentinel_check_flaky_results_total', 'Check runs that passed only after a retry', ['check']),
    lastRun: gauge(registry, 'sentinel_check_last_run_timestamp_seconds', 'Unix time the last scheduled run of the check finished (0 = never)', ['check']),
    lastSuccess: gauge(registry, 'sentinel_check_last_success_timestamp_seconds', 'Unix time of the last successful run of the check (0 = never)', ['check']),
    expectedInterval: gauge(registry, 'sentinel_check_expected_interval_seconds', 'Seconds between scheduled runs of the check', ['check']),
    checkDuration: new Histogram<'check'>({
      name: 'sentinel_check_duration_seconds',
      help: 'Duration of check runs in seconds',
      labelNames: ['check'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 240],
      registers: [registry],
    }),
    sessionSurvivedRedeploy: new Gauge({ name: 'sentinel_session_survived_redeploy', help: `Whether the session survived the last redeploy (1) or not (0), of the last run that reported it (cached)`, registers: [registry] }),
    redeployDowntime: new Gauge({ name: 'sentinel_redeploy_downtime_seconds', help: `App downtime during the last redeploy in seconds, of the last run that reported it (cached)`, registers: [registry] }),
    runsSkipped: counter('sentinel_runs_skipped_total', 'Scheduled group runs skipped (overlap: still running, browser_busy: another browser flow holds the lane, shutting_down)', ['group', 'reason']),
    runInProgress: gauge(registry, 'sentinel_run_in_progress', 'Whether a run of the group is in progress (1) or not (0)', ['group']),
    deploymentRuns: counter('sentinel_deployment_runs_total', 'Post-deploy check runs triggered by a finished or failed Coolify deployment, by outcome', ['outcome']),
    deploymentLast: new Gauge({ name: 'sentinel_deployment_last_timestamp_seconds', help: 'Unix time the last Coolify deployment was seen finishing (0 = none yet)', registers: [registry] }),
    deploymentInfo: new Gauge({ name: 'sentinel_deployment_info', help: 'The last Coolify deployment seen and the outcome of its post-deploy run (one series: the latest only)', labelNames: ['deployment_uuid', 'outcome'], registers: [registry] }),
    buildInfo: gauge(registry, 'sentinel_build_info', 'Build of the running sentinel (always 1)', ['version', 'revision', 'node_version', 'playwright_version']),
    startTime: new Gauge({ name: 'sentinel_start_time_seconds', help: 'Unix time the monitor started', registers: [registry] }),
  };
}

function createProcessMetrics(registry: AnyRegistry): void {
  new Gauge({
    name: 'process_resident_memory_bytes',
    help: 'Resident memory size of the monitor process in bytes',
    registers: [registry],
    collect() {
      this.set(process.memoryUsage.rss());
    },
  });
  new Gauge({
    name: 'nodejs_heap_size_used_bytes',
    help: 'V8 heap in use by the monitor process in bytes',
    registers: [registry],
    collect() {
      this.set(process.memoryUsage().heapUsed);
    },
  });
  const started = Math.round((Date.now() - performance.now()) / 1000);
  new Gauge({ name: 'process_start_time_seconds', help: 'Start time of the monitor process as Unix time', registers: [registry] }).set(started);
}

export interface CreateMetricsOptions {
  checks?: readonly CheckSpec[];
  build?: BuildInfo;
  /** Unix seconds; default now */
  startTimeSeconds?: number;
}

/** The full suite registry of the monitor: result metrics, suite metrics, build info, process gauges. */
export function createMetrics(registry: AnyRegistry, options: CreateMetricsOptions = {}): Metrics {
  const metrics: Metrics = { result: createResultMetrics(registry), suite: createSuiteMetrics(registry), checks: new Map() };
  createProcessMetrics(registry);
  const suite = metrics.suite!;
  suite.buildInfo.set(options.build ?? buildInfo(), 1);
  suite.startTime.set(options.startTimeSeconds ?? Math.floor(Date.now() / 1000));
  for (const group of GROUPS) {
    suite.runInProgress.set({ group }, 0);
    for (const reason of SKIP_REASONS) suite.runsSkipped.inc({ group, reason }, 0);
  }
  for (const outcome of DEPLOYMENT_OUTCOMES) suite.deploymentRuns.inc({ outcome }, 0);
  for (const spec of options.checks ?? []) initCheck(metrics, spec);
  return metrics;
}

/** Metrics for `/probe`: a fresh registry holding only what one result produces. */
export function createProbeMetrics(registry: AnyRegistry, checks: readonly CheckSpec[]): Metrics {
  return { result: createResultMetrics(registry), checks: new Map(checks.map((c) => [c.id, c])) };
}

function idLabels(spec: CheckSpec, target = spec.target): Record<IdLabel, string> {
  return { check: spec.id, check_type: spec.checkType, target };
}

/**
 * Pre-initialises the series of a configured check ("avoid missing metrics"). Measurements that have no
 * honest neutral value (certificate expiry, TLS verify, migrations, postmaster start) appear with the
 * first result instead: a 0 there would read as "expired" or "unverified" and fire alerts.
 */
export function initCheck(metrics: Metrics, spec: CheckSpec): void {
  metrics.checks.set(spec.id, spec);
  const suite = metrics.suite;
  if (suite) {
    for (const status of STATE_SET) suite.checkStatus.set({ check: spec.id, status }, 0);
    for (const status of RESULT_STATUSES) suite.resultsTotal.inc({ check: spec.id, status }, 0);
    suite.flakyTotal.inc({ check: spec.id }, 0);
    suite.lastRun.set({ check: spec.id }, 0);
    suite.lastSuccess.set({ check: spec.id }, 0);
    if (spec.intervalSeconds !== undefined) suite.expectedInterval.set({ check: spec.id }, spec.intervalSeconds);
    suite.checkDuration.zero({ check: spec.id });
  }
  if (spec.scheduled === false) return;
  const labels = idLabels(spec);
  metrics.result.probeSuccess.set(labels, 0);
  metrics.result.probeDuration.set(labels, 0);
  if (spec.checkType === 'http' || spec.checkType === 'oidc') metrics.result.httpStatusCode.set(labels, 0);
  if (spec.checkType === 'db') metrics.result.pgUp.set(labels, 0);
  if (spec.id === 'login-v2-redirect') for (const ui of LOGIN_UIS) metrics.result.loginUiInfo.set({ target: spec.target, login_ui: ui }, 0);
}

/** The state-set status a result stands for: a pass with warnings or after a retry is degraded. */
export function stateOf(result: Pick<CheckResult, 'status' | 'warnings'>): StateSetStatus {
  switch (result.status) {
    case 'failed':
      return 'failing';
    case 'flaky':
      return 'degraded';
    case 'skipped':
      return 'skipped';
    default:
      return result.warnings && result.warnings.length > 0 ? 'degraded' : 'passing';
  }
}

const finite = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

/** The one mapping from a CheckResult to metrics. Unknown checks are ignored (labels stay bounded). */
export function recordResult(metrics: Metrics, result: CheckResult, finishedAtMs: number = Date.now()): void {
  const spec = metrics.checks.get(result.id);
  if (!spec) return;
  const check = spec.id;
  const seconds = Math.max(0, result.durationMs) / 1000;
  const suite = metrics.suite;
  if (suite) {
    const state = stateOf(result);
    for (const status of STATE_SET) suite.checkStatus.set({ check, status }, status === state ? 1 : 0);
    suite.resultsTotal.inc({ check, status: result.status });
    if (result.status === 'failed') suite.failuresTotal.inc({ check, reason: result.reason ?? 'unexpected' });
    if (result.status === 'flaky') suite.flakyTotal.inc({ check });
    suite.lastRun.set({ check }, Math.floor(finishedAtMs / 1000));
    if (result.status === 'passed' || result.status === 'flaky') suite.lastSuccess.set({ check }, Math.floor(finishedAtMs / 1000));
    if (result.status !== 'skipped') suite.checkDuration.observe({ check }, seconds);
    recordRedeploy(suite, result);
  }
  const labels = idLabels(spec);
  if (result.status === 'skipped') {
    // Not run: no success or failure to report (an always-skipped check must not page anyone).
    metrics.result.probeSuccess.remove(labels);
    metrics.result.probeDuration.remove(labels);
    return;
  }
  metrics.result.probeSuccess.set(labels, result.status === 'passed' || result.status === 'flaky' ? 1 : 0);
  metrics.result.probeDuration.set(labels, seconds);
  const obs = result.observations ?? {};
  if (finite(obs.httpStatusCode)) metrics.result.httpStatusCode.set(labels, obs.httpStatusCode);
  if (spec.id === 'tls') recordTls(metrics.result, spec, obs.hosts);
  if (spec.checkType === 'db') recordDb(metrics.result, spec, obs as Partial<DbObservation>);
  if (spec.id === 'login-v2-redirect' && typeof obs.loginUi === 'string') {
    const observed = (LOGIN_UIS as readonly string[]).includes(obs.loginUi) ? obs.loginUi : 'unknown';
    for (const ui of LOGIN_UIS) metrics.result.loginUiInfo.set({ target: spec.target, login_ui: ui }, ui === observed ? 1 : 0);
  }
}

function recordTls(result: ResultMetrics, spec: CheckSpec, hosts: unknown): void {
  if (!Array.isArray(hosts)) return;
  const allowed = new Set(spec.tlsTargets ?? []);
  for (const host of hosts as Array<Partial<TlsHostObservation>>) {
    if (typeof host?.target !== 'string' || !allowed.has(host.target)) continue;
    if (finite(host.earliestExpirySeconds)) result.sslEarliestExpiry.set(idLabels(spec, host.target), host.earliestExpirySeconds);
    if (typeof host.verified === 'boolean') {
      const verified = host.verified && host.hostnameMatch !== false;
      result.tlsVerifySuccess.set({ target: host.target }, verified ? 1 : 0);
    }
  }
}

function recordDb(result: ResultMetrics, spec: CheckSpec, db: Partial<DbObservation>): void {
  const labels = idLabels(spec);
  // pg_up is 1 only when connect and SELECT 1 worked in this run; any failure without an observation is 0.
  result.pgUp.set(labels, db.pgUp === 1 ? 1 : 0);
  if (finite(db.postmasterStartTimeSeconds)) result.pgPostmasterStart.set(labels, db.postmasterStartTimeSeconds);
  const target = { target: spec.target };
  if (finite(db.migrationsExpected)) result.migrationsExpected.set(target, db.migrationsExpected);
  if (finite(db.migrationsApplied)) result.migrationsApplied.set(target, db.migrationsApplied);
  if (finite(db.migrationsPending)) result.migrationsPending.set(target, db.migrationsPending);
  if (finite(db.migrationsEdited)) result.migrationsHashMismatch.set(target, db.migrationsEdited);
}

function recordRedeploy(suite: SuiteMetrics, result: CheckResult): void {
  const obs = result.observations as Partial<RedeployObservation> | undefined;
  if (!obs || typeof obs.sessionKept !== 'boolean') return;
  suite.sessionSurvivedRedeploy.set(obs.sessionKept ? 1 : 0);
  if (finite(obs.downtimeSeconds)) suite.redeployDowntime.set(obs.downtimeSeconds);
}

export function recordSkippedRun(metrics: Metrics, group: GroupName, reason: SkipReason): void {
  metrics.suite?.runsSkipped.inc({ group, reason });
}

export function recordRunInProgress(metrics: Metrics, group: GroupName, running: boolean): void {
  metrics.suite?.runInProgress.set({ group }, running ? 1 : 0);
}

export function recordDeployment(metrics: Metrics, outcome: DeploymentOutcome, atMs: number = Date.now(), deploymentUuid?: string): void {
  metrics.suite?.deploymentRuns.inc({ outcome });
  metrics.suite?.deploymentLast.set(Math.floor(atMs / 1000));
  if (deploymentUuid && /^[A-Za-z0-9-]{1,64}$/.test(deploymentUuid)) {
    // only the latest deployment keeps a series, so the label stays bounded
    metrics.suite?.deploymentInfo.reset();
    metrics.suite?.deploymentInfo.set({ deployment_uuid: deploymentUuid, outcome }, 1);
  }
}

const require = createRequire(import.meta.url);

function packageVersion(name: string): string {
  try {
    return (require(`${name}/package.json`) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function gitRevision(): string {
  try {
    const root = new URL('../', import.meta.url);
    const head = readFileSync(new URL('.git/HEAD', root), 'utf8').trim();
    const ref = /^ref: (.+)$/.exec(head)?.[1];
    const sha = ref ? readFileSync(new URL(`.git/${ref}`, root), 'utf8').trim() : head;
    return /^[0-9a-f]{7,40}$/.test(sha) ? sha.slice(0, 12) : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Version labels of this build, read from package files and .git (never from the environment). */
export function buildInfo(): BuildInfo {
  let version = 'unknown';
  try {
    version = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    // keep unknown
  }
  return { version, revision: gitRevision(), node_version: process.version, playwright_version: packageVersion('@playwright/test') };
}
