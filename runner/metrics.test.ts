import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { CheckResult } from '../core/result.ts';
import { RUNBOOK } from '../core/runbook.ts';
import { createMetrics, createProbeMetrics, recordDeployment, recordResult, recordSkippedRun, stateOf, type CheckSpec } from './metrics.ts';

const BUILD = { version: '0.1.0', revision: 'abc123def456', node_version: 'v20.20.0', playwright_version: '1.65.1' };
const SPECS: CheckSpec[] = [
  { id: 'tls', checkType: 'tls', target: 'app.example.com:443,auth.example.com:443', tlsTargets: ['app.example.com:443', 'auth.example.com:443'], intervalSeconds: 60 },
  { id: 'db', checkType: 'db', target: 'db.internal:5432/gadgetbot', intervalSeconds: 60 },
  { id: 'login-v2-redirect', checkType: 'oidc', target: 'app.example.com', intervalSeconds: 60 },
  { id: 'e2e-login', checkType: 'browser', target: 'app.example.com', intervalSeconds: 900 },
  { id: 'e2e-session-redeploy', checkType: 'browser', target: 'app.example.com', scheduled: false },
  { id: 'coolify-resources', checkType: 'coolify', target: 'coolify.example.com', intervalSeconds: 60, resources: ['app', 'zitadel', 'app-db', 'zitadel-db'] },
  { id: 'backups', checkType: 'coolify', target: 'coolify.example.com', intervalSeconds: 60, databases: ['app-db', 'zitadel-db'] },
  { id: 'exposure', checkType: 'tcp', target: 'app.example.com,auth.example.com', exposureHosts: ['app.example.com', 'auth.example.com'], intervalSeconds: 60 },
];

function setup() {
  const registry = new Registry();
  const metrics = createMetrics(registry, { checks: SPECS, build: BUILD, startTimeSeconds: 1_700_000_000 });
  const lines = async () => (await registry.metrics()).split('\n').filter((l) => l && !l.startsWith('#'));
  return { registry, metrics, lines };
}

const base = { startedAt: '2026-11-25T10:00:00.000Z' };
const FINISHED_MS = 1_764_064_800_500; // 2025-11-25T10:00:00.500Z

describe('metrics exposition', () => {
  it('before any result only counts and bookkeeping exist: no series that reports a measurement', async () => {
    const { lines } = setup();
    const out = await lines();
    for (const status of ['passed', 'failed', 'flaky', 'skipped']) expect(out).toContain(`sentinel_check_results_total{check="db",status="${status}"} 0`);
    // A check that never ran has no success, state, reason, login UI or redeploy value that a rule could read.
    for (const name of ['probe_success', 'probe_duration_seconds', 'pg_up', 'sentinel_check_status', 'sentinel_check_reason', 'sentinel_check_consecutive_failures', 'sentinel_idp_login_ui_info', 'sentinel_session_survived_redeploy', 'sentinel_redeploy_downtime_seconds']) {
      expect(out.filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `)), name).toEqual([]);
    }
    expect(out).toContain('sentinel_check_last_run_timestamp_seconds{check="e2e-login"} 0');
    expect(out).toContain('sentinel_check_expected_interval_seconds{check="e2e-login"} 900');
    expect(out).toContain('sentinel_check_flaky_results_total{check="e2e-login"} 0');
    expect(out).toContain('sentinel_check_duration_seconds_count{check="tls"} 0');
    expect(out).toContain('sentinel_runs_skipped_total{group="browser",reason="overlap"} 0');
    expect(out).toContain('sentinel_run_in_progress{group="probes"} 0');
    expect(out).toContain('sentinel_deployment_runs_total{outcome="passed"} 0');
    expect(out).toContain('sentinel_build_info{version="0.1.0",revision="abc123def456",node_version="v20.20.0",playwright_version="1.65.1"} 1');
    expect(out).toContain('sentinel_start_time_seconds 1700000000');
    expect(out.some((l) => l.startsWith('probe_ssl_earliest_cert_expiry') || l.startsWith('sentinel_tls_verify_success'))).toBe(false);
  });

  it('a TLS handshake that fails clears that host\'s expiry and verify series (no stale 1)', async () => {
    const { metrics, lines } = setup();
    const hosts = (second: Record<string, unknown>) => ({ hosts: [{ target: 'app.example.com:443', earliestExpirySeconds: 1796079090, verified: true, hostnameMatch: true, status: 'ok' }, { target: 'auth.example.com:443', ...second }] });
    recordResult(metrics, { ...base, id: 'tls', kind: 'probe', status: 'passed', durationMs: 20, observations: hosts({ earliestExpirySeconds: 1790000000, verified: true, hostnameMatch: true, status: 'ok' }) }, FINISHED_MS);
    expect(await lines()).toContain('sentinel_tls_verify_success{target="auth.example.com:443"} 1');
    recordResult(metrics, { ...base, id: 'tls', kind: 'probe', status: 'failed', reason: 'timeout', durationMs: 5000, observations: hosts({ status: 'fail', reason: 'timeout' }) }, FINISHED_MS + 60_000);
    const out = await lines();
    expect(out.filter((l) => /^(probe_ssl_earliest_cert_expiry|sentinel_tls_verify_success)\{.*target="auth\.example\.com:443"/.test(l))).toEqual([]);
    expect(out).toContain('sentinel_tls_verify_success{target="app.example.com:443"} 1');
    // A probe that measured no host at all (its deadline) leaves no TLS series either.
    recordResult(metrics, { ...base, id: 'tls', kind: 'probe', status: 'failed', reason: 'timeout', durationMs: 10_000 }, FINISHED_MS + 120_000);
    expect((await lines()).filter((l) => l.startsWith('probe_ssl') || l.startsWith('sentinel_tls'))).toEqual([]);
  });

  it('counts failed runs in a row and names the reason of a failing check until it passes', async () => {
    const { metrics, lines } = setup();
    const db = (status: CheckResult['status'], reason?: CheckResult['reason']): CheckResult => ({ ...base, id: 'db', kind: 'probe', status, durationMs: 10, ...(reason ? { reason } : {}), observations: { pgUp: status === 'passed' ? 1 : 0 } });
    recordResult(metrics, db('failed', 'db_unreachable'), FINISHED_MS);
    recordResult(metrics, db('failed', 'db_unreachable'), FINISHED_MS);
    recordResult(metrics, db('failed', 'migration_pending'), FINISHED_MS);
    let out = await lines();
    expect(out).toContain('sentinel_check_consecutive_failures{check="db"} 3');
    expect(out.filter((l) => l.startsWith('sentinel_check_reason{'))).toEqual([
      `sentinel_check_reason{check="db",check_type="db",target="db.internal:5432/gadgetbot",reason="migration_pending",runbook="${RUNBOOK.migration_pending}"} 1`,
    ]);
    recordResult(metrics, db('passed'), FINISHED_MS);
    out = await lines();
    expect(out).toContain('sentinel_check_consecutive_failures{check="db"} 0');
    expect(out.filter((l) => l.startsWith('sentinel_check_reason{'))).toEqual([]);
  });

  it('maps a passed tls result to exact lines, per configured TLS target only', async () => {
    const { metrics, lines } = setup();
    const result: CheckResult = {
      ...base,
      id: 'tls',
      kind: 'probe',
      status: 'passed',
      durationMs: 250,
      observations: {
        hosts: [
          { target: 'app.example.com:443', earliestExpirySeconds: 1796079090, verified: true, hostnameMatch: true, status: 'ok' },
          { target: 'auth.example.com:443', earliestExpirySeconds: 1790000000, verified: false, status: 'fail' },
          { target: 'evil.example.com:443?x=1', earliestExpirySeconds: 1, verified: true, status: 'ok' },
        ],
      },
    };
    recordResult(metrics, result, FINISHED_MS);
    const out = await lines();
    expect(out).toContain('probe_success{check="tls",check_type="tls",target="app.example.com:443,auth.example.com:443"} 1');
    expect(out).toContain('probe_duration_seconds{check="tls",check_type="tls",target="app.example.com:443,auth.example.com:443"} 0.25');
    expect(out).toContain('probe_ssl_earliest_cert_expiry{check="tls",check_type="tls",target="app.example.com:443"} 1796079090');
    expect(out).toContain('probe_ssl_earliest_cert_expiry{check="tls",check_type="tls",target="auth.example.com:443"} 1790000000');
    expect(out).toContain('sentinel_tls_verify_success{target="app.example.com:443"} 1');
    expect(out).toContain('sentinel_tls_verify_success{target="auth.example.com:443"} 0');
    expect(out).toContain('sentinel_check_status{check="tls",status="passing"} 1');
    expect(out).toContain('sentinel_check_status{check="tls",status="failing"} 0');
    expect(out).toContain('sentinel_check_results_total{check="tls",status="passed"} 1');
    expect(out).toContain('sentinel_check_last_run_timestamp_seconds{check="tls"} 1764064800');
    expect(out).toContain('sentinel_check_last_success_timestamp_seconds{check="tls"} 1764064800');
    expect(out).toContain('sentinel_check_duration_seconds_bucket{le="0.25",check="tls"} 1');
    expect(out).toContain('sentinel_check_duration_seconds_bucket{le="0.1",check="tls"} 0');
    expect(out.join('\n')).not.toContain('evil.example.com');
  });

  it('counts exposed ports per configured host; a host not fully checked without an open port has no series', async () => {
    const { metrics, lines } = setup();
    const exposure = (hosts: Array<Record<string, unknown>>, status: CheckResult['status'] = 'failed'): CheckResult => ({ ...base, id: 'exposure', kind: 'probe', status, ...(status === 'failed' ? { reason: 'port_exposed' as const } : {}), durationMs: 30, observations: { hosts } });
    const series = async () => (await lines()).filter((l) => l.startsWith('sentinel_exposed_ports'));
    expect(await series()).toEqual([]);
    recordResult(metrics, exposure([
      { host: 'app.example.com', addresses: ['192.0.2.10'], exposedPorts: [5432, 8000], complete: true },
      { host: 'auth.example.com', addresses: ['192.0.2.10'], exposedPorts: [], complete: true },
      { host: 'other.example.com', addresses: ['192.0.2.99'], exposedPorts: [22], complete: true },
    ]), FINISHED_MS);
    expect(await series()).toEqual(['sentinel_exposed_ports{host="app.example.com"} 2', 'sentinel_exposed_ports{host="auth.example.com"} 0']);
    // auth did not resolve (nothing measured), app had a port cut off by the deadline but one open: that one still counts.
    recordResult(metrics, exposure([
      { host: 'app.example.com', addresses: ['192.0.2.10'], exposedPorts: [5432], complete: false },
      { host: 'auth.example.com', addresses: [], exposedPorts: [], complete: false, reason: 'dns' },
    ]), FINISHED_MS + 60_000);
    expect(await series()).toEqual(['sentinel_exposed_ports{host="app.example.com"} 1']);
  });

  it('maps a failed db result to exact lines and keeps the message out of the metrics', async () => {
    const { metrics, lines, registry } = setup();
    recordResult(metrics, { ...base, id: 'db', kind: 'probe', status: 'passed', durationMs: 40, observations: { pgUp: 1, postmasterStartTimeSeconds: 1764000000, migrationsExpected: 3, migrationsApplied: 2, migrationsPending: 1, migrationsEdited: 0 } }, FINISHED_MS);
    recordResult(metrics, { ...base, id: 'db', kind: 'probe', status: 'failed', durationMs: 3000, reason: 'db_unreachable', message: 'connect ECONNREFUSED postgresql://admin:hunter2secret@db.internal:5432/gadgetbot', observations: { pgUp: 0 } }, FINISHED_MS + 60_000);
    const out = await lines();
    expect(out).toContain('probe_success{check="db",check_type="db",target="db.internal:5432/gadgetbot"} 0');
    expect(out).toContain('pg_up{check="db",check_type="db",target="db.internal:5432/gadgetbot"} 0');
    // The failed run measured no migrations and no start time: the earlier values are gone, not kept.
    expect(out.filter((l) => l.startsWith('sentinel_db_migrations') || l.startsWith('pg_postmaster'))).toEqual([]);
    expect(out).toContain('sentinel_check_status{check="db",status="failing"} 1');
    expect(out.find((l) => l.startsWith('sentinel_check_reason{check="db",check_type="db",target="db.internal:5432/gadgetbot",reason="db_unreachable",runbook="'))).toBeDefined();
    expect(out).toContain('sentinel_check_status{check="db",status="passing"} 0');
    expect(out).toContain('sentinel_check_failures_total{check="db",reason="db_unreachable"} 1');
    expect(out).toContain('sentinel_check_results_total{check="db",status="passed"} 1');
    expect(out).toContain('sentinel_check_results_total{check="db",status="failed"} 1');
    expect(out).toContain('sentinel_check_last_run_timestamp_seconds{check="db"} 1764064860');
    expect(out).toContain('sentinel_check_last_success_timestamp_seconds{check="db"} 1764064800');
    const text = await registry.metrics();
    expect(text).not.toContain('hunter2secret');
    expect(text).not.toContain('ECONNREFUSED');
  });

  it('maps login UI, flaky, skipped and redeploy observations', async () => {
    const { metrics, lines } = setup();
    recordResult(metrics, { ...base, id: 'login-v2-redirect', kind: 'probe', status: 'failed', reason: 'login_v1', durationMs: 80, observations: { httpStatusCode: 302, loginUi: 'v1' } }, FINISHED_MS);
    recordResult(metrics, { ...base, id: 'e2e-login', kind: 'browser', status: 'flaky', durationMs: 12_000 }, FINISHED_MS);
    recordResult(metrics, { ...base, id: 'e2e-session-redeploy', kind: 'browser', status: 'skipped', reason: 'not_permitted', durationMs: 0 }, FINISHED_MS);
    recordResult(metrics, { ...base, id: 'e2e-session-redeploy', kind: 'browser', status: 'failed', reason: 'session_lost', durationMs: 40_000, observations: { driver: 'coolify', downtimeSeconds: 3.5, sessionKept: false, idpAvailability: 1, idpFailures: 0, instanceChanged: true, newAuthorizeRoundTrip: true } }, FINISHED_MS);
    const out = await lines();
    expect(out).toContain('probe_http_status_code{check="login-v2-redirect",check_type="oidc",target="app.example.com"} 302');
    expect(out).toContain('sentinel_idp_login_ui_info{target="app.example.com",login_ui="v1"} 1');
    expect(out).toContain('sentinel_idp_login_ui_info{target="app.example.com",login_ui="v2"} 0');
    // flaky (a pass only after a retry) is a failure wherever it is counted
    expect(out).toContain('probe_success{check="e2e-login",check_type="browser",target="app.example.com"} 0');
    expect(out).toContain('sentinel_check_status{check="e2e-login",status="failing"} 1');
    expect(out).toContain('sentinel_check_flaky_results_total{check="e2e-login"} 1');
    expect(out).toContain('sentinel_check_failures_total{check="e2e-login",reason="unexpected"} 1');
    expect(out).toContain('sentinel_check_consecutive_failures{check="e2e-login"} 1');
    expect(out).toContain('sentinel_check_last_success_timestamp_seconds{check="e2e-login"} 0');
    expect(out).toContain('sentinel_session_survived_redeploy{check="e2e-session-redeploy"} 0');
    expect(out).toContain('sentinel_redeploy_downtime_seconds{check="e2e-session-redeploy"} 3.5');
    expect(out).toContain('sentinel_check_results_total{check="e2e-session-redeploy",status="skipped"} 1');
  });

  it('removes probe_success when a scheduled check is skipped, and counts skips and deployments', async () => {
    const { metrics, lines } = setup();
    recordResult(metrics, { ...base, id: 'db', kind: 'probe', status: 'skipped', reason: 'not_configured', durationMs: 0 }, FINISHED_MS);
    recordSkippedRun(metrics, 'browser', 'overlap');
    recordDeployment(metrics, 'failed', FINISHED_MS);
    const out = await lines();
    expect(out.some((l) => l.startsWith('probe_success{check="db"'))).toBe(false);
    expect(out).toContain('sentinel_check_status{check="db",status="skipped"} 1');
    expect(out).toContain('sentinel_runs_skipped_total{group="browser",reason="overlap"} 1');
    expect(out).toContain('sentinel_deployment_runs_total{outcome="failed"} 1');
    expect(out).toContain('sentinel_deployment_last_timestamp_seconds 1764064800');
  });

  it('ignores results of checks that are not configured (bounded labels)', async () => {
    const { metrics, registry } = setup();
    recordResult(metrics, { ...base, id: 'app-health', kind: 'probe', status: 'failed', reason: 'http_status', durationMs: 5 });
    expect(await registry.metrics()).not.toContain('app-health');
  });

  it('a probe registry holds only result metrics', async () => {
    const registry = new Registry();
    const metrics = createProbeMetrics(registry, SPECS.filter((s) => s.id === 'db'));
    recordResult(metrics, { ...base, id: 'db', kind: 'probe', status: 'passed', durationMs: 12, observations: { pgUp: 1 } });
    const out = (await registry.metrics()).split('\n').filter((l) => l && !l.startsWith('#'));
    expect(out).toEqual([
      'probe_success{check="db",check_type="db",target="db.internal:5432/gadgetbot"} 1',
      'probe_duration_seconds{check="db",check_type="db",target="db.internal:5432/gadgetbot"} 0.012',
      'pg_up{check="db",check_type="db",target="db.internal:5432/gadgetbot"} 1',
    ]);
  });

  it('Coolify resources: a state set per configured resource, the last deployment\'s status; nothing for what was not read', async () => {
    const { metrics, lines } = setup();
    const coolify = async () => (await lines()).filter((l) => l.startsWith('sentinel_coolify_'));
    expect(await coolify()).toEqual([]);
    const resources = [
      { role: 'app', uuid: 'a', kind: 'application', status: 'running:healthy', state: 'healthy' },
      { role: 'zitadel', uuid: 'z', kind: 'service', status: 'degraded:unhealthy', state: 'unhealthy' },
      { role: 'app-db', uuid: 'd', kind: 'database', error: 'not found' },
      // a role the configuration does not name is ignored (bounded labels)
      { role: 'other', uuid: 'o', kind: 'database', status: 'exited', state: 'down' },
    ];
    recordResult(metrics, { ...base, id: 'coolify-resources', kind: 'probe', status: 'failed', reason: 'resource_unhealthy', durationMs: 30, observations: { resources, deployment: { uuid: 'dep1', status: 'failed', commit: 'abc' } } }, FINISHED_MS);
    const out = await coolify();
    expect(out).toContain('sentinel_coolify_resource_state{resource="app",state="healthy"} 1');
    expect(out).toContain('sentinel_coolify_resource_state{resource="app",state="down"} 0');
    expect(out).toContain('sentinel_coolify_resource_state{resource="zitadel",state="unhealthy"} 1');
    expect(out.filter((l) => /resource="(app-db|zitadel-db|other)"/.test(l))).toEqual([]);
    expect(out).toContain('sentinel_coolify_deployment_status{status="failed"} 1');
    expect(out).toContain('sentinel_coolify_deployment_status{status="finished"} 0');
    expect(out).toHaveLength(2 * 5 + 3);
    // A run that could not read Coolify (its token refused) leaves no old value behind.
    recordResult(metrics, { ...base, id: 'coolify-resources', kind: 'probe', status: 'failed', reason: 'coolify_auth', durationMs: 30 }, FINISHED_MS + 60_000);
    expect(await coolify()).toEqual([]);
  });

  it('backups: last success time, size and status per configured database, absent when not measured', async () => {
    const { metrics, lines } = setup();
    const backups = async () => (await lines()).filter((l) => l.startsWith('sentinel_backup_'));
    expect(await backups()).toEqual([]);
    const databases = [
      { role: 'app-db', uuid: 'd', lastStatus: 'failed', lastSuccessSeconds: 1_764_000_000, lastSizeBytes: 48213 },
      { role: 'zitadel-db', uuid: 'z' },
    ];
    recordResult(metrics, { ...base, id: 'backups', kind: 'probe', status: 'failed', reason: 'backup_failed', durationMs: 30, observations: { databases } }, FINISHED_MS);
    expect(await backups()).toEqual([
      'sentinel_backup_last_success_timestamp_seconds{database="app-db"} 1764000000',
      'sentinel_backup_last_size_bytes{database="app-db"} 48213',
      'sentinel_backup_last_status{database="app-db",status="success"} 0',
      'sentinel_backup_last_status{database="app-db",status="failed"} 1',
    ]);
    recordResult(metrics, { ...base, id: 'backups', kind: 'probe', status: 'skipped', reason: 'not_configured', durationMs: 0, observations: { databases } }, FINISHED_MS + 60_000);
    expect(await backups()).toEqual([]);
  });

  it('maps result statuses to the state set', () => {
    expect(stateOf({ status: 'passed' })).toBe('passing');
    expect(stateOf({ status: 'passed', warnings: ['tls_expiry_soon'] })).toBe('degraded');
    expect(stateOf({ status: 'flaky' })).toBe('failing');
    expect(stateOf({ status: 'failed' })).toBe('failing');
    expect(stateOf({ status: 'skipped' })).toBe('skipped');
  });

  it('/metrics HELP says a value is from the last scheduled run; /probe HELP (a run made now) does not', async () => {
    const { registry } = setup();
    const help = (await registry.metrics()).split('\n').filter((l) => l.startsWith('# HELP probe_') || l.startsWith('# HELP pg_'));
    expect(help.length).toBe(6);
    for (const line of help) expect(line).toContain('of the last scheduled run of the check');
    const probeRegistry = new Registry();
    createProbeMetrics(probeRegistry, SPECS);
    const probeHelp = (await probeRegistry.metrics()).split('\n').filter((l) => l.startsWith('# HELP'));
    expect(probeHelp.length).toBe(18);
    for (const line of probeHelp) expect(line).not.toMatch(/cached|scheduled/);
  });
});
