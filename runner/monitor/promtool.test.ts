/**
 * promtool checks of the shipped alert rules and of the monitor's real /metrics output. Runs when
 * promtool is installed (Debian `prometheus`); otherwise the suite is reported as skipped, with why.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import type { CheckResult, Reason } from '../../core/result.ts';
import { RUNBOOK } from '../../core/runbook.ts';
import { parseExposition, parseSeries, shapeOf } from './test-support/exposition.ts';
import { startMonitor, type MonitorHandle } from './index.ts';
import { fakeBrowser, fakeProbes, get, passed, testConfig } from './test-support/fakes.ts';

const MONITORING = fileURLToPath(new URL('../../monitoring/', import.meta.url));
const which = spawnSync('sh', ['-c', 'command -v promtool'], { encoding: 'utf8' });
const PROMTOOL = which.status === 0 ? which.stdout.trim() : undefined;

function promtool(args: string[], input?: string) {
  const run = spawnSync(PROMTOOL!, args, { cwd: MONITORING, input, encoding: 'utf8', timeout: 30_000 });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

/** Coolify with all four resources, so the monitor runs coolify-resources and backups. */
const COOLIFY = { url: 'https://coolify.example.test', token: '1|coolify-token', appUuid: 'a', zitadelUuid: 'z', appDbUuid: 'd', zitadelDbUuid: 'zd' };

const running: MonitorHandle[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((m) => m.stop()));
});

describe.skipIf(!PROMTOOL)(`promtool${PROMTOOL ? '' : ' — SKIPPED: promtool is not installed (apt-get install prometheus)'}`, () => {
  it('accepts the alert rules', () => {
    const run = promtool(['check', 'rules', 'sentinel.rules.yml']);
    expect(run.output).toContain('SUCCESS: 16 rules found');
    expect(run.status).toBe(0);
  });

  it('passes the alert rule unit tests', () => {
    const run = promtool(['test', 'rules', 'sentinel.rules.test.yml']);
    expect(run.output).toContain('SUCCESS');
    expect(run.status).toBe(0);
  });

  it('the rule unit tests feed series shaped exactly as the monitor exports them (checked against a real scrape)', async () => {
    // A monitor whose checks fail the way the unit tests say: every series name and label set of the tests must be in its /metrics.
    const results: Record<string, CheckResult> = {
      tls: { ...passed('tls'), status: 'failed', reason: 'tls_verify', observations: { hosts: [{ target: 'app.example.test:443', earliestExpirySeconds: 1796079090, verified: false, hostnameMatch: true, status: 'fail' }, { target: 'auth.example.test:443', earliestExpirySeconds: 1796079090, verified: true, hostnameMatch: true, status: 'ok' }] } },
      db: { ...passed('db'), status: 'failed', reason: 'migration_pending', observations: { pgUp: 1, migrationsExpected: 2, migrationsApplied: 1, migrationsPending: 1, migrationsEdited: 1 } },
      'login-v2-redirect': { ...passed('login-v2-redirect'), status: 'failed', reason: 'login_v1', observations: { httpStatusCode: 302, loginUi: 'v1' } },
      'app-health': passed('app-health', { observations: { httpStatusCode: 200 } }),
      'oidc-discovery': { ...passed('oidc-discovery'), status: 'failed', reason: 'http_status', observations: { httpStatusCode: 502 } },
      'coolify-resources': {
        ...passed('coolify-resources'),
        status: 'failed',
        reason: 'resource_down',
        observations: {
          resources: [
            { role: 'app', uuid: 'a', kind: 'application', status: 'running:healthy', state: 'healthy' },
            { role: 'app-db', uuid: 'd', kind: 'database', status: 'exited:unhealthy', state: 'down' },
          ],
          deployment: { uuid: 'dep1', status: 'failed', commit: 'abc' },
        },
      },
      backups: {
        ...passed('backups'),
        status: 'failed',
        reason: 'backup_failed',
        observations: { databases: [{ role: 'app-db', uuid: 'd', lastStatus: 'failed', lastSuccessSeconds: 1_764_000_000, lastSizeBytes: 48213 }, { role: 'zitadel-db', uuid: 'z', lastStatus: 'success', lastSuccessSeconds: 1_764_000_000, lastSizeBytes: 1000 }] },
      },
      'idp-token': { ...passed('idp-token'), status: 'failed', reason: 'jwks_mismatch', observations: { httpStatusCode: 200 } },
      'idp-health': { ...passed('idp-health'), status: 'failed', reason: 'login_not_ready', observations: { httpStatusCode: 503 } },
      exposure: {
        ...passed('exposure'),
        status: 'failed',
        reason: 'port_exposed',
        observations: {
          hosts: [
            { host: 'app.example.test', addresses: ['192.0.2.10'], exposedPorts: [5432], complete: true, reason: 'port_exposed' },
            { host: 'auth.example.test', addresses: ['192.0.2.10'], exposedPorts: [], complete: true },
          ],
        },
      },
    };
    const monitor = await startMonitor(testConfig({ coolify: COOLIFY, idpToken: { clientId: 'sentinel-token-probe', clientSecret: 'service-user-Secret-0f4e' }, exposure: { hosts: ['app.example.test', 'auth.example.test'] } }), {
      log: () => undefined,
      runProbe: fakeProbes((id) => results[id]!).run,
      runBrowser: fakeBrowser((o) => o.checks.map((id) => ({ ...passed(id), status: 'failed' as const, reason: 'idp_error' as const }))).run,
    });
    running.push(monitor);
    await monitor.firstCycle;
    const scraped = parseExposition((await get(`${monitor.url}/metrics`)).body);
    const tests = parseYaml(readFileSync(join(MONITORING, 'sentinel.rules.test.yml'), 'utf8')) as { tests: Array<{ input_series: Array<{ series: string }> }> };
    const inputs = tests.tests.flatMap((t) => t.input_series.map((s) => parseSeries(s.series)));
    // Scrape labels (job, instance) and the Pushgateway's grouping label (mode) are added outside the exporter.
    const OUTSIDE = new Set(['job', 'instance', 'mode']);
    const shapes = new Set(scraped.map((s) => shapeOf(s.name, s.labels)));
    for (const input of inputs) {
      const labels = Object.fromEntries(Object.entries(input.labels).filter(([k]) => !OUTSIDE.has(k)));
      if (input.name === 'sentinel_session_survived_redeploy') continue; // exported by one-shot runs only (runner/pushgateway.ts), checked there
      expect(shapes, `${input.name}{${Object.keys(labels).join(',')}} is a series the monitor exports`).toContain(shapeOf(input.name, labels));
      if (input.name === 'sentinel_check_reason') expect(labels.runbook, labels.reason).toBe(RUNBOOK[labels.reason as Reason]);
    }
  });

  it('lints the real /metrics text output clean', async () => {
    const results: Record<string, CheckResult> = {
      tls: passed('tls', { warnings: ['tls_expiry_soon'], observations: { hosts: [{ target: 'app.example.test:443', earliestExpirySeconds: 1796079090, verified: true, hostnameMatch: true, status: 'warn' }] } }),
      db: passed('db', { observations: { pgUp: 1, postmasterStartTimeSeconds: 1764000000, migrationsExpected: 3, migrationsApplied: 3, migrationsPending: 0, migrationsEdited: 0 } }),
      'login-v2-redirect': { ...passed('login-v2-redirect'), status: 'failed', reason: 'login_v1', observations: { httpStatusCode: 302, loginUi: 'v1' } },
      'app-health': passed('app-health', { observations: { httpStatusCode: 200 } }),
      'oidc-discovery': { ...passed('oidc-discovery'), status: 'failed', reason: 'timeout' },
      'coolify-resources': passed('coolify-resources', {
        warnings: ['resource_health_unknown'],
        observations: { resources: [{ role: 'app', uuid: 'a', kind: 'application', status: 'running:unknown', state: 'health_unknown' }], deployment: { uuid: 'dep1', status: 'finished' } },
      }),
      backups: passed('backups', { observations: { databases: [{ role: 'app-db', uuid: 'd', lastStatus: 'success', lastSuccessSeconds: 1_764_000_000, lastSizeBytes: 48213 }] } }),
      'idp-health': passed('idp-health', { observations: { httpStatusCode: 200 } }),
      exposure: passed('exposure', { warnings: ['hsts_missing'], observations: { hosts: [{ host: 'app.example.test', addresses: ['192.0.2.10'], exposedPorts: [], complete: true }] } }),
    };
    const probes = fakeProbes((id) => results[id]!);
    const browser = fakeBrowser((o) => o.checks.map((id) => ({ ...passed(id), status: 'flaky' as const })));
    const monitor = await startMonitor(testConfig({ coolify: COOLIFY, exposure: { hosts: ['app.example.test'] } }), { log: () => undefined, runProbe: probes.run, runBrowser: browser.run });
    running.push(monitor);
    await monitor.firstCycle;
    const metrics = await get(`${monitor.url}/metrics`);
    expect(metrics.body).toContain('sentinel_check_status{check="tls",status="degraded"} 1');
    expect(metrics.body).toContain('sentinel_coolify_resource_state{resource="app",state="health_unknown"} 1');
    expect(metrics.body).toContain('sentinel_backup_last_size_bytes{database="app-db"} 48213');
    expect(metrics.body).toContain('sentinel_exposed_ports{host="app.example.test"} 0');
    const run = promtool(['check', 'metrics'], metrics.body);
    expect(run.output).toBe('');
    expect(run.status).toBe(0);
  });
});
