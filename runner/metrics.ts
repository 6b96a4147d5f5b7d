/**
 * Every Prometheus metric of the suite, defined in this one
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
import { TERMINAL_DEPLOYMENT_STATUSES } from '../core/coolify.ts';
import {
  RESOURCE_STATES,
  type BackupObservation,
  type DatabaseRole,
  type DbObservation,
  type DeploymentObservation,
  type ExposureHostObservation,
  type LoginUi,
  type RedeployObservation,
  type ResourceObservation,
  type ResourceRole,
  type TlsHostObservation,
} from '../core/observations.ts';
import { countsAsFailed, countsAsPassed, type CheckId, type CheckResult, type CheckStatus } from '../core/result.ts';
import type { Config } from '../core/config.ts';
import { runbookLine } from '../core/runbook.ts';
import { checkTypeOf, exposureHosts, targetLabel, tlsTargets, watchedDatabases, watchedResources, type CheckType } from '../core/targets.ts';

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
const BACKUP_STATUSES: ReadonlyArray<NonNullable<BackupObservation['lastStatus']>> = ['success', 'failed'];

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
  /** hosts the exposure check may report; other hosts in a result are ignored (bounded labels) */
  exposureHosts?: readonly string[];
  /** false for checks the monitor never runs (not permitted): no probe_* series for them */
  scheduled?: boolean;
  /** coolify-resources: the roles of the configured resources (the `resource` label) */
  resources?: readonly ResourceRole[];
  /** backups: the roles of the configured databases (the `database` label) */
  databases?: readonly DatabaseRole[];
}

/** The labels and bounded label sets of a check, from the configuration (the monitor adds its schedule). */
export function checkSpec(id: CheckId, config: Config): CheckSpec {
  return {
    id,
    checkType: checkTypeOf(id),
    target: targetLabel(id, config),
    ...(id === 'tls' ? { tlsTargets: tlsTargets(config) } : {}),
    ...(id === 'coolify-resources' ? { resources: watchedResources(config).map((r) => r.role) } : {}),
    ...(id === 'backups' ? { databases: watchedDatabases(config).map((r) => r.role) } : {}),
    ...(id === 'exposure' ? { exposureHosts: exposureHosts(config) } : {}),
  };
}

export interface BuildInfo {
  version: string;
  revision: string;
  node_version: string;
  playwright_version: string;
}

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
  coolifyResourceState: Gauge<'resource' | 'state'>;
  coolifyDeploymentStatus: Gauge<'status'>;
  backupLastSuccess: Gauge<'database'>;
  backupLastSize: Gauge<'database'>;
  backupLastStatus: Gauge<'database' | 'status'>;
  exposedPorts: Gauge<'host'>;
}

type ReasonLabel = 'check' | 'check_type' | 'target' | 'reason' | 'runbook';

/** Suite-level bookkeeping of the monitor (history of runs, scheduler state, deployments, build). */
export interface SuiteMetrics {
  checkStatus: Gauge<'check' | 'status'>;
  checkReason: Gauge<ReasonLabel>;
  consecutiveFailures: Gauge<'check'>;
  resultsTotal: Counter<'check' | 'status'>;
  failuresTotal: Counter<'check' | 'reason'>;
  flakyTotal: Counter<'check'>;
  lastRun: Gauge<'check'>;
  lastSuccess: Gauge<'check'>;
  expectedInterval: Gauge<'check'>;
  checkDuration: Histogram<'check'>;
  sessionSurvivedRedeploy: Gauge<'check'>;
  redeployDowntime: Gauge<'check'>;
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
  /** the reason series each failing check holds (one per check), so a pass can remove it */
  reasons: Map<CheckId, Record<ReasonLabel, string>>;
  /** counts every change of a value (each record… call): /metrics renders again only when it moved */
  version: number;
}

type AnyRegistry = Registry<RegistryContentType>;

function gauge<L extends string>(registry: AnyRegistry, name: string, help: string, labelNames: readonly L[]): Gauge<L> {
  return new Gauge<L>({ name, help, labelNames, registers: [registry] });
}

/**
 * The per-result metrics. `of` says what the values belong to: the monitor's /metrics serves the last
 * scheduled run of each check; /probe the run it just made.
 */
export function createResultMetrics(registry: AnyRegistry, of: 'last scheduled run' | 'this probe run'): ResultMetrics {
  const suffix = of === 'last scheduled run' ? ', of the last scheduled run of the check' : '';
  return {
    probeSuccess: gauge(registry, 'probe_success', `Whether the check succeeded (1) or not (0; a pass only after a retry is 0)${suffix}`, ID_LABELS),
    probeDuration: gauge(registry, 'probe_duration_seconds', `Duration of the check in seconds${suffix}`, ID_LABELS),
    httpStatusCode: gauge(registry, 'probe_http_status_code', `HTTP status code of the last response (0 if none)${suffix}`, ID_LABELS),
    sslEarliestExpiry: gauge(registry, 'probe_ssl_earliest_cert_expiry', `Unix time of the earliest NotAfter among the served certificates, per TLS target (absent when the handshake failed)${suffix}`, ID_LABELS),
    pgUp: gauge(registry, 'pg_up', `Whether connecting to PostgreSQL and SELECT 1 succeeded (1) or not (0)${suffix}`, ID_LABELS),
    pgPostmasterStart: gauge(registry, 'pg_postmaster_start_time_seconds', `pg_postmaster_start_time() as Unix time${suffix}`, ID_LABELS),
    tlsVerifySuccess: gauge(registry, 'sentinel_tls_verify_success', `Whether the served chain and host name verified (1) or not (0), per TLS target (absent when the handshake failed)${suffix}`, ['target']),
    migrationsExpected: gauge(registry, 'sentinel_db_migrations_expected', `Migrations in the app's journal${suffix}`, ['target']),
    migrationsApplied: gauge(registry, 'sentinel_db_migrations_applied', `Migrations recorded as applied in the database${suffix}`, ['target']),
    migrationsPending: gauge(registry, 'sentinel_db_migrations_pending', `Journal migrations not applied to the database${suffix}`, ['target']),
    migrationsHashMismatch: gauge(registry, 'sentinel_db_migrations_hash_mismatch', `Applied migrations whose journal file hash differs (edited after apply)${suffix}`, ['target']),
    loginUiInfo: gauge(registry, 'sentinel_idp_login_ui_info', `Hosted login UI the IdP redirected to (1 for the observed one)${suffix}`, ['target', 'login_ui']),
    coolifyResourceState: gauge(
      registry,
      'sentinel_coolify_resource_state',
      `State set: 1 for the state of each configured Coolify resource as Coolify reports it (healthy, health_unknown, starting, unhealthy, down)${suffix}; absent when it could not be read`,
      ['resource', 'state'],
    ),
    coolifyDeploymentStatus: gauge(
      registry,
      'sentinel_coolify_deployment_status',
      `State set: 1 for the status of the app's newest Coolify deployment that ended (finished, failed, cancelled-by-user)${suffix}`,
      ['status'],
    ),
    backupLastSuccess: gauge(registry, 'sentinel_backup_last_success_timestamp_seconds', `Unix time the newest successful Coolify backup of the database finished${suffix}; absent when none is recorded`, ['database']),
    backupLastSize: gauge(registry, 'sentinel_backup_last_size_bytes', `Size of the newest successful Coolify backup of the database in bytes${suffix}`, ['database']),
    backupLastStatus: gauge(registry, 'sentinel_backup_last_status', `State set: 1 for the status of the newest finished Coolify backup of the database (success, failed)${suffix}`, ['database', 'status']),
    exposedPorts: gauge(registry, 'sentinel_exposed_ports', `Ports of the closed list that accepted a connection, per exposure host (absent when not every port could be checked and none accepted)${suffix}`, ['host']),
  };
}

function createSuiteMetrics(registry: AnyRegistry): SuiteMetrics {
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) => new Counter<L>({ name, help, labelNames, registers: [registry] });
  const last = ', of the last scheduled run of the check';
  return {
    checkStatus: gauge(registry, 'sentinel_check_status', `State set: 1 for the status of the check (passing, failing, degraded, skipped)${last}; absent before its first run`, ['check', 'status']),
    checkReason: gauge(
      registry,
      'sentinel_check_reason',
      `1 for the bounded reason of a failing check and what to do first (runbook)${last}; absent while it passes`,
      ['check', 'check_type', 'target', 'reason', 'runbook'],
    ),
    consecutiveFailures: gauge(registry, 'sentinel_check_consecutive_failures', 'Scheduled runs of the check that failed in a row, up to the last one (0 after a pass); the alert rules count runs, not minutes', ['check']),
    resultsTotal: counter('sentinel_check_results_total', 'Completed check runs by final status (passed, failed, flaky, skipped)', ['check', 'status']),
    failuresTotal: counter('sentinel_check_failures_total', 'Check runs that count as failed (failed, or flaky: passed only after a retry) by bounded reason code', ['check', 'reason']),
    flakyTotal: counter('sentinel_check_flaky_results_total', 'Check runs that passed only after a retry (counted as failures too)', ['check']),
    lastRun: gauge(registry, 'sentinel_check_last_run_timestamp_seconds', 'Unix time the last scheduled run of the check finished (0 = never)', ['check']),
    lastSuccess: gauge(registry, 'sentinel_check_last_success_timestamp_seconds', 'Unix time of the last passed run of the check (0 = never)', ['check']),
    expectedInterval: gauge(registry, 'sentinel_check_expected_interval_seconds', 'The longest time between two results of the check when nothing is wrong: its schedule\'s interval plus one run\'s deadline', ['check']),
    checkDuration: new Histogram<'check'>({
      name: 'sentinel_check_duration_seconds',
      help: 'Duration of check runs in seconds',
      labelNames: ['check'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 240],
      registers: [registry],
    }),
    sessionSurvivedRedeploy: gauge(registry, 'sentinel_session_survived_redeploy', 'Whether the session survived the last redeploy (1) or not (0), of the last run that measured it; absent until one did', ['check']),
    redeployDowntime: gauge(registry, 'sentinel_redeploy_downtime_seconds', 'App downtime during the last redeploy in seconds, of the last run that measured it; absent until one did', ['check']),
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
  const metrics: Metrics = { result: createResultMetrics(registry, 'last scheduled run'), suite: createSuiteMetrics(registry), checks: new Map(), reasons: new Map(), version: 0 };
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
  return { result: createResultMetrics(registry, 'this probe run'), checks: new Map(checks.map((c) => [c.id, c])), reasons: new Map(), version: 0 };
}

function idLabels(spec: CheckSpec, target = spec.target): Record<IdLabel, string> {
  return { check: spec.id, check_type: spec.checkType, target };
}

/**
 * Registers a configured check. Only counts and bookkeeping start before the first run (counters at 0,
 * "never" timestamps, the expected interval): every series that reports a measurement — success, duration,
 * status, reason, expiry, migrations, the redeploy — appears with the first result that measured it, so
 * no alert can fire on a value nobody measured.
 */
export function initCheck(metrics: Metrics, spec: CheckSpec): void {
  metrics.checks.set(spec.id, spec);
  const suite = metrics.suite;
  if (!suite) return;
  for (const status of RESULT_STATUSES) suite.resultsTotal.inc({ check: spec.id, status }, 0);
  suite.flakyTotal.inc({ check: spec.id }, 0);
  suite.lastRun.set({ check: spec.id }, 0);
  suite.lastSuccess.set({ check: spec.id }, 0);
  if (spec.intervalSeconds !== undefined) suite.expectedInterval.set({ check: spec.id }, spec.intervalSeconds);
  suite.checkDuration.zero({ check: spec.id });
}

/** The state-set status a result stands for: failed and flaky are failing; a pass with warnings is degraded. */
export function stateOf(result: Pick<CheckResult, 'status' | 'warnings'>): StateSetStatus {
  if (countsAsFailed(result.status)) return 'failing';
  if (result.status === 'skipped') return 'skipped';
  return result.warnings && result.warnings.length > 0 ? 'degraded' : 'passing';
}

const finite = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

/** Sets a gauge when the value was measured, removes its series when it was not (no stale value stays). */
function setOrRemove<L extends string>(metric: Gauge<L>, labels: Record<L, string>, value: unknown): void {
  if (finite(value)) metric.set(labels, value);
  else metric.remove(labels);
}

/** The one mapping from a CheckResult to metrics. Unknown checks are ignored (labels stay bounded). */
export function recordResult(metrics: Metrics, result: CheckResult, finishedAtMs: number = Date.now()): void {
  const spec = metrics.checks.get(result.id);
  if (!spec) return;
  metrics.version += 1;
  const seconds = Math.max(0, result.durationMs) / 1000;
  if (metrics.suite) recordSuite(metrics, metrics.suite, spec, result, seconds, finishedAtMs);
  const labels = idLabels(spec);
  // Coolify's view: series for what this run read, none for what it did not (a skipped or failed read).
  const measured = result.status === 'skipped' ? {} : (result.observations ?? {});
  if (spec.resources) recordResources(metrics.result, spec.resources, measured.resources, measured.deployment);
  if (spec.databases) recordBackups(metrics.result, spec.databases, measured.databases);
  if (result.status === 'skipped') {
    // Not run: no success or failure to report (an always-skipped check must not page anyone).
    metrics.result.probeSuccess.remove(labels);
    metrics.result.probeDuration.remove(labels);
    return;
  }
  metrics.result.probeSuccess.set(labels, countsAsPassed(result.status) ? 1 : 0);
  metrics.result.probeDuration.set(labels, seconds);
  const obs = result.observations ?? {};
  if (spec.checkType === 'http' || spec.checkType === 'oidc') setOrRemove(metrics.result.httpStatusCode, labels, obs.httpStatusCode);
  if (spec.id === 'tls') recordTls(metrics.result, spec, obs.hosts);
  if (spec.checkType === 'db') recordDb(metrics.result, spec, obs as Partial<DbObservation>);
  if (spec.id === 'exposure') recordExposure(metrics.result, spec, obs.hosts);
  if (spec.id === 'login-v2-redirect') {
    const observed = typeof obs.loginUi === 'string' ? ((LOGIN_UIS as readonly string[]).includes(obs.loginUi) ? obs.loginUi : 'unknown') : undefined;
    for (const ui of LOGIN_UIS) {
      if (observed === undefined) metrics.result.loginUiInfo.remove({ target: spec.target, login_ui: ui });
      else metrics.result.loginUiInfo.set({ target: spec.target, login_ui: ui }, ui === observed ? 1 : 0);
    }
  }
}

function recordSuite(metrics: Metrics, suite: SuiteMetrics, spec: CheckSpec, result: CheckResult, seconds: number, finishedAtMs: number): void {
  const check = spec.id;
  const state = stateOf(result);
  for (const status of STATE_SET) suite.checkStatus.set({ check, status }, status === state ? 1 : 0);
  suite.resultsTotal.inc({ check, status: result.status });
  suite.lastRun.set({ check }, Math.floor(finishedAtMs / 1000));
  if (result.status === 'flaky') suite.flakyTotal.inc({ check });
  const previous = metrics.reasons.get(check);
  if (countsAsFailed(result.status)) {
    const reason = result.reason ?? 'unexpected';
    suite.failuresTotal.inc({ check, reason });
    suite.consecutiveFailures.inc({ check });
    const labels = { check, check_type: spec.checkType, target: spec.target, reason, runbook: runbookLine(reason) };
    if (previous && previous.reason !== reason) suite.checkReason.remove(previous);
    suite.checkReason.set(labels, 1);
    metrics.reasons.set(check, labels);
  } else if (countsAsPassed(result.status)) {
    suite.consecutiveFailures.set({ check }, 0);
    suite.lastSuccess.set({ check }, Math.floor(finishedAtMs / 1000));
    if (previous) suite.checkReason.remove(previous);
    metrics.reasons.delete(check);
  }
  if (result.status !== 'skipped') suite.checkDuration.observe({ check }, seconds);
  recordRedeploy(suite, check, result);
}

function recordTls(result: ResultMetrics, spec: CheckSpec, hosts: unknown): void {
  const observed = new Map((Array.isArray(hosts) ? (hosts as Array<Partial<TlsHostObservation>>) : []).filter((h) => typeof h?.target === 'string').map((h) => [h.target!, h]));
  for (const target of spec.tlsTargets ?? []) {
    const host = observed.get(target);
    // A handshake that failed (or a host not reached) measured nothing: its series go, none keeps an old value.
    setOrRemove(result.sslEarliestExpiry, idLabels(spec, target), host?.earliestExpirySeconds);
    setOrRemove(result.tlsVerifySuccess, { target }, typeof host?.verified === 'boolean' ? (host.verified && host.hostnameMatch !== false ? 1 : 0) : undefined);
  }
}

/**
 * Accepting ports per configured exposure host, from an exposure result's observations; undefined for a
 * host nothing was measured on. An accepting port is a measurement even when other ports went
 * unchecked; "none open" only counts when every port was answered. Hosts outside `hosts` are ignored.
 */
export function exposedPortCounts(hosts: readonly string[], observed: unknown): Map<string, number | undefined> {
  const byHost = new Map((Array.isArray(observed) ? (observed as Array<Partial<ExposureHostObservation>>) : []).filter((h) => typeof h?.host === 'string').map((h) => [h.host!, h]));
  return new Map(
    hosts.map((host) => {
      const seen = byHost.get(host);
      const exposed = Array.isArray(seen?.exposedPorts) ? seen.exposedPorts.length : undefined;
      return [host, exposed !== undefined && (exposed > 0 || seen?.complete === true) ? exposed : undefined];
    }),
  );
}

function recordExposure(result: ResultMetrics, spec: CheckSpec, hosts: unknown): void {
  for (const [host, count] of exposedPortCounts(spec.exposureHosts ?? [], hosts)) setOrRemove(result.exposedPorts, { host }, count);
}

function recordDb(result: ResultMetrics, spec: CheckSpec, db: Partial<DbObservation>): void {
  const labels = idLabels(spec);
  // pg_up is 1 only when connect and SELECT 1 worked in this run; any failure without an observation is 0.
  result.pgUp.set(labels, db.pgUp === 1 ? 1 : 0);
  setOrRemove(result.pgPostmasterStart, labels, db.postmasterStartTimeSeconds);
  const target = { target: spec.target };
  setOrRemove(result.migrationsExpected, target, db.migrationsExpected);
  setOrRemove(result.migrationsApplied, target, db.migrationsApplied);
  setOrRemove(result.migrationsPending, target, db.migrationsPending);
  setOrRemove(result.migrationsHashMismatch, target, db.migrationsEdited);
}

function recordResources(result: ResultMetrics, roles: readonly ResourceRole[], resources: unknown, deployment: unknown): void {
  const observed = new Map((Array.isArray(resources) ? (resources as Array<Partial<ResourceObservation>>) : []).filter((r) => typeof r?.role === 'string').map((r) => [r.role!, r]));
  for (const resource of roles) {
    const state = observed.get(resource)?.state;
    const known = state !== undefined && RESOURCE_STATES.includes(state);
    for (const s of RESOURCE_STATES) {
      if (known) result.coolifyResourceState.set({ resource, state: s }, s === state ? 1 : 0);
      else result.coolifyResourceState.remove({ resource, state: s });
    }
  }
  const status = (deployment as Partial<DeploymentObservation> | undefined)?.status;
  const knownStatus = typeof status === 'string' && (TERMINAL_DEPLOYMENT_STATUSES as readonly string[]).includes(status);
  for (const s of TERMINAL_DEPLOYMENT_STATUSES) {
    if (knownStatus) result.coolifyDeploymentStatus.set({ status: s }, s === status ? 1 : 0);
    else result.coolifyDeploymentStatus.remove({ status: s });
  }
}

function recordBackups(result: ResultMetrics, roles: readonly DatabaseRole[], databases: unknown): void {
  const observed = new Map((Array.isArray(databases) ? (databases as Array<Partial<BackupObservation>>) : []).filter((d) => typeof d?.role === 'string').map((d) => [d.role!, d]));
  for (const database of roles) {
    const backup = observed.get(database);
    setOrRemove(result.backupLastSuccess, { database }, backup?.lastSuccessSeconds);
    setOrRemove(result.backupLastSize, { database }, backup?.lastSizeBytes);
    const status = backup?.lastStatus;
    for (const s of BACKUP_STATUSES) {
      if (status && BACKUP_STATUSES.includes(status)) result.backupLastStatus.set({ database, status: s }, s === status ? 1 : 0);
      else result.backupLastStatus.remove({ database, status: s });
    }
  }
}

/** What a result measured of a redeploy: whether the session survived (1/0) and the downtime; nothing unless it measured one. */
export function redeployMeasurement(result: Pick<CheckResult, 'observations'>): { sessionSurvived?: 0 | 1; downtimeSeconds?: number } {
  const obs = result.observations as Partial<RedeployObservation> | undefined;
  if (!obs || typeof obs.sessionKept !== 'boolean') return {};
  return { sessionSurvived: obs.sessionKept ? 1 : 0, ...(finite(obs.downtimeSeconds) ? { downtimeSeconds: obs.downtimeSeconds } : {}) };
}

function recordRedeploy(suite: SuiteMetrics, check: CheckId, result: CheckResult): void {
  const { sessionSurvived, downtimeSeconds } = redeployMeasurement(result);
  if (sessionSurvived !== undefined) suite.sessionSurvivedRedeploy.set({ check }, sessionSurvived);
  if (downtimeSeconds !== undefined) suite.redeployDowntime.set({ check }, downtimeSeconds);
}

export function recordSkippedRun(metrics: Metrics, group: GroupName, reason: SkipReason): void {
  metrics.version += 1;
  metrics.suite?.runsSkipped.inc({ group, reason });
}

export function recordRunInProgress(metrics: Metrics, group: GroupName, running: boolean): void {
  metrics.version += 1;
  metrics.suite?.runInProgress.set({ group }, running ? 1 : 0);
}

export function recordDeployment(metrics: Metrics, outcome: DeploymentOutcome, atMs: number = Date.now(), deploymentUuid?: string): void {
  metrics.version += 1;
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
