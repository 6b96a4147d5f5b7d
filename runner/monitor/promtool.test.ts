/**
 * promtool checks of the shipped alert rules and of the monitor's real /metrics output. Runs when
 * promtool is installed (Debian `prometheus`); otherwise the suite is reported as skipped, with why.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { CheckResult } from '../../core/result.ts';
import { startMonitor, type MonitorHandle } from './index.ts';
import { fakeBrowser, fakeProbes, get, passed, testConfig } from './test-support/fakes.ts';

const ALERTS = fileURLToPath(new URL('../alerts/', import.meta.url));
const which = spawnSync('sh', ['-c', 'command -v promtool'], { encoding: 'utf8' });
const PROMTOOL = which.status === 0 ? which.stdout.trim() : undefined;

function promtool(args: string[], input?: string) {
  const run = spawnSync(PROMTOOL!, args, { cwd: ALERTS, input, encoding: 'utf8', timeout: 30_000 });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

const running: MonitorHandle[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((m) => m.stop()));
});

describe.skipIf(!PROMTOOL)(`promtool${PROMTOOL ? '' : ' — SKIPPED: promtool is not installed (apt-get install prometheus)'}`, () => {
  it('accepts the alert rules', () => {
    const run = promtool(['check', 'rules', 'sentinel.rules.yml']);
    expect(run.output).toContain('SUCCESS: 11 rules found');
    expect(run.status).toBe(0);
  });

  it('passes the alert rule unit tests', () => {
    const run = promtool(['test', 'rules', 'sentinel.rules.test.yml']);
    expect(run.output).toContain('SUCCESS');
    expect(run.status).toBe(0);
  });

  it('lints the real /metrics text output clean', async () => {
    const results: Record<string, CheckResult> = {
      tls: passed('tls', { warnings: ['tls_expiry_soon'], observations: { hosts: [{ target: 'app.example.test:443', earliestExpirySeconds: 1796079090, verified: true, hostnameMatch: true, status: 'warn' }] } }),
      db: passed('db', { observations: { pgUp: 1, postmasterStartTimeSeconds: 1764000000, migrationsExpected: 3, migrationsApplied: 3, migrationsPending: 0, migrationsEdited: 0 } }),
      'login-v2-redirect': { ...passed('login-v2-redirect'), status: 'failed', reason: 'login_v1', observations: { httpStatusCode: 302, loginUi: 'v1' } },
      'app-health': passed('app-health', { observations: { httpStatusCode: 200 } }),
      'oidc-discovery': { ...passed('oidc-discovery'), status: 'failed', reason: 'timeout' },
    };
    const probes = fakeProbes((id) => results[id]!);
    const browser = fakeBrowser((o) => o.checks.map((id) => ({ ...passed(id), status: 'flaky' as const })));
    const monitor = await startMonitor(testConfig(), { log: () => undefined, runProbe: probes.run, runBrowser: browser.run });
    running.push(monitor);
    await monitor.firstCycle;
    const metrics = await get(`${monitor.url}/metrics`);
    expect(metrics.body).toContain('sentinel_check_status{check="tls",status="degraded"} 1');
    const run = promtool(['check', 'metrics'], metrics.body);
    expect(run.output).toBe('');
    expect(run.status).toBe(0);
  });
});
