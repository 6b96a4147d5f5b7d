import { setMaxListeners } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import type { CheckResult } from '../../core/result.ts';
import { startMonitor, type MonitorHandle, type MonitorOptions } from './index.ts';
import { createScheduler } from './scheduler.ts';
import { fakeBrowser, fakeProbes, metricValue, passed, slow, testConfig, until } from './test-support/fakes.ts';

const running: MonitorHandle[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((m) => m.stop()));
});

async function start(config: ReturnType<typeof testConfig>, options: MonitorOptions): Promise<MonitorHandle> {
  const monitor = await startMonitor(config, { log: () => undefined, ...options });
  running.push(monitor);
  return monitor;
}

describe('monitor scheduler', () => {
  it('runs each group once at start: every probe, the permitted browser checks in one child run', async () => {
    const probes = fakeProbes();
    const browser = fakeBrowser();
    const monitor = await start(testConfig(), { runProbe: probes.run, runBrowser: browser.run });
    await monitor.firstCycle;
    for (const id of ['tls', 'app-health', 'oidc-discovery', 'login-v2-redirect', 'db']) expect(probes.rec.count(id)).toBe(1);
    // admin-crud needs allowMutations, session-redeploy is disruptive: never from the monitor.
    expect(browser.rec.calls.map((c) => c.id)).toEqual(['e2e-login,e2e-sign-out']);
    expect(await metricValue(monitor.url, 'probe_success{check="db",check_type="db",target="db.example.test:5432/gadgetbot"}')).toBe(1);
    expect(await metricValue(monitor.url, 'probe_success{check="e2e-login",check_type="browser",target="app.example.test"}')).toBe(1);
    expect(await metricValue(monitor.url, 'sentinel_check_status{check="e2e-session-redeploy",status="skipped"}')).toBe(1);
    expect(await metricValue(monitor.url, 'sentinel_check_status{check="e2e-admin-crud",status="skipped"}')).toBe(1);
    expect(monitor.history.last('e2e-admin-crud')?.result.reason).toBe('not_permitted');
    expect(await metricValue(monitor.url, 'sentinel_check_expected_interval_seconds{check="db"}')).toBeGreaterThanOrEqual(365 * 86400);
  });

  it('signs in apart: the login-v2-redirect probe never runs during a browser flow', async () => {
    // performance.now(): sub-millisecond, so a probe ending as a flow starts is not mistaken for an overlap
    const flows: Array<{ from: number; to: number }> = [];
    const signInProbes: Array<{ from: number; to: number }> = [];
    const browser = fakeBrowser(async (o) => {
      const from = performance.now();
      await slow(1_500, o.signal);
      flows.push({ from, to: performance.now() });
      return o.checks.map((id) => passed(id));
    });
    const probes = fakeProbes(async (id) => {
      const from = performance.now();
      await slow(50);
      if (id === 'login-v2-redirect') signInProbes.push({ from, to: performance.now() });
      return passed(id);
    });
    const monitor = await start(testConfig({ monitor: { probeSchedule: '* * * * * *', browserSchedule: '*/3 * * * * *' } }), { runProbe: probes.run, runBrowser: browser.run });
    await monitor.firstCycle;
    await until(() => flows.length >= 2 && signInProbes.length >= 3, 'two browser flows and three sign-in probes', 40_000);
    for (const flow of flows) expect(signInProbes.filter((p) => p.to > flow.from && p.from < flow.to)).toEqual([]);
  });

  it('runs the mutating check only when allowMutations is true, never the disruptive one', async () => {
    const browser = fakeBrowser();
    const monitor = await start(testConfig({ allowMutations: true, allowDisruptive: true }), { runProbe: fakeProbes().run, runBrowser: browser.run });
    await monitor.firstCycle;
    expect(browser.rec.calls.map((c) => c.id)).toEqual(['e2e-login,e2e-admin-crud,e2e-sign-out']);
    expect(monitor.history.last('e2e-session-redeploy')?.result.status).toBe('skipped');
  });

  it('never overlaps a slow probe group: ticks during a run are skipped and counted', async () => {
    const probes = fakeProbes(async (id) => {
      await slow(2_500);
      return passed(id);
    });
    const monitor = await start(testConfig({ checks: ['db'], monitor: { probeSchedule: '* * * * * *' } }), { runProbe: probes.run, runBrowser: fakeBrowser().run });
    await until(async () => ((await metricValue(monitor.url, 'sentinel_runs_skipped_total{group="probes",reason="overlap"}')) ?? 0) >= 1, 'an overlap skip');
    await monitor.firstCycle;
    expect(probes.rec.maxRunning).toBe(1);
    expect(probes.rec.count('db')).toBe(1);
  });

  it('caps browser flows at one, across scheduled and post-deploy runs', async () => {
    const browser = fakeBrowser(async (o) => {
      await slow(1_500, o.signal);
      return o.checks.map((id) => passed(id));
    });
    let deploy: ((e: { uuid: string; status: 'finished' | 'failed' }) => unknown) | undefined;
    const monitor = await start(testConfig({ coolify: { url: 'https://coolify.example.test', token: 'coolify-Token-123', appUuid: 'app-1' }, monitor: { browserSchedule: '* * * * * *', deployPollSchedule: '*/30 * * * * *' } }), {
      runProbe: fakeProbes().run,
      runBrowser: browser.run,
      createDeployWatcher: ({ onDeployment }) => {
        deploy = (e) => onDeployment(e, new AbortController().signal);
        return { start: async () => undefined, stop: async () => undefined };
      },
    });
    await until(() => browser.rec.running === 1, 'the first browser run');
    const deployRun = deploy!({ uuid: 'dep-1', status: 'finished' });
    await until(async () => ((await metricValue(monitor.url, 'sentinel_runs_skipped_total{group="browser",reason="overlap"}')) ?? 0) >= 1, 'a browser overlap skip');
    await deployRun;
    expect(browser.rec.calls.length).toBeGreaterThanOrEqual(2);
    expect(browser.rec.maxRunning).toBe(1);
    expect(await metricValue(monitor.url, 'sentinel_deployment_runs_total{outcome="passed"}')).toBe(1);
    await deploy!({ uuid: 'dep-2', status: 'failed' });
    expect(await metricValue(monitor.url, 'sentinel_deployment_runs_total{outcome="deploy_failed"}')).toBe(1);
  });

  it('a failed deployment runs coolify-resources at once: deploy_failed shows without waiting for a schedule or a later deployment', async () => {
    const failing: CheckResult = { ...passed('coolify-resources'), status: 'failed', reason: 'deploy_failed', message: 'app last deployment: observed "failed (deployment dep-9, commit abc)" expected "not failed"' };
    let deploymentFailed = false;
    const probes = fakeProbes((id) => (id === 'coolify-resources' && deploymentFailed ? failing : passed(id)));
    let deploy: ((e: { uuid: string; status: 'finished' | 'failed' }) => unknown) | undefined;
    const monitor = await start(testConfig({ coolify: { url: 'https://coolify.example.test', token: 'coolify-Token-123', appUuid: 'app-1' }, monitor: { deployPollSchedule: '*/30 * * * * *' } }), {
      runProbe: probes.run,
      runBrowser: fakeBrowser().run,
      createDeployWatcher: ({ onDeployment }) => {
        deploy = (e) => onDeployment(e, new AbortController().signal);
        return { start: async () => undefined, stop: async () => undefined };
      },
    });
    await monitor.firstCycle;
    const before = { probes: probes.rec.calls.length, coolify: probes.rec.count('coolify-resources') };
    deploymentFailed = true;
    await deploy!({ uuid: 'dep-9', status: 'failed' });
    // Only that probe ran (the others wait for their schedule), and its result is on /metrics at once.
    expect(probes.rec.count('coolify-resources')).toBe(before.coolify + 1);
    expect(probes.rec.calls.length).toBe(before.probes + 1);
    expect(monitor.history.last('coolify-resources')!.result).toMatchObject({ status: 'failed', reason: 'deploy_failed' });
    expect(await metricValue(monitor.url, 'sentinel_check_reason{check="coolify-resources",check_type="coolify",target="coolify.example.test",reason="deploy_failed",runbook="The last Coolify deployment failed (the previous version keeps running): read its deployment log in Coolify (build errors, environment variables), fix and redeploy."}')).toBe(1);
    expect(await metricValue(monitor.url, 'sentinel_deployment_runs_total{outcome="deploy_failed"}')).toBe(1);
  });

  it('stops a hanging probe at its deadline and records failed/timeout', async () => {
    const probes = fakeProbes((id) => (id === 'db' ? new Promise<CheckResult>(() => undefined) : passed(id)));
    const started = Date.now();
    const monitor = await start(testConfig({ checks: ['db', 'app-health'], timeouts: { probeMs: 300 } }), { runProbe: probes.run, runBrowser: fakeBrowser().run });
    await monitor.firstCycle;
    const elapsed = Date.now() - started;
    const db = monitor.history.last('db')!.result;
    expect(db.status).toBe('failed');
    expect(db.reason).toBe('timeout');
    expect(elapsed).toBeLessThan(300 + 2_000 + 1_500);
    expect(monitor.history.last('app-health')!.result.status).toBe('passed');
    expect(await metricValue(monitor.url, 'sentinel_check_failures_total{check="db",reason="timeout"}')).toBe(1);
  });

  it('stops a hanging browser run at its deadline: the signal aborts and every check is failed/timeout', async () => {
    const browser = fakeBrowser((o) => new Promise<CheckResult[]>((_resolve, reject) => o.signal?.addEventListener('abort', () => reject(new Error('killed')), { once: true })));
    const hangsForever = fakeBrowser(() => new Promise<CheckResult[]>(() => undefined));
    const config = testConfig({ checks: ['e2e-login', 'e2e-sign-out'], timeouts: { browserCheckMs: 200 } });
    const a = await start(config, { runProbe: fakeProbes().run, runBrowser: browser.run, browserDeadlineMarginMs: 100 });
    const b = await start(config, { runProbe: fakeProbes().run, runBrowser: hangsForever.run, browserDeadlineMarginMs: 100 });
    await Promise.all([a.firstCycle, b.firstCycle]);
    expect(browser.signals[0]!.aborted).toBe(true);
    for (const monitor of [a, b]) {
      for (const id of ['e2e-login', 'e2e-sign-out'] as const) {
        const result = monitor.history.last(id)!.result;
        expect([result.status, result.reason]).toEqual(['failed', 'timeout']);
      }
    }
  });

  it('keeps scheduling after a check throws', async () => {
    const probes = fakeProbes((id, call) => {
      if (id === 'tls') throw new Error(`boom ${call}`);
      return passed(id);
    });
    const monitor = await start(testConfig({ checks: ['tls', 'app-health'], monitor: { probeSchedule: '* * * * * *' } }), { runProbe: probes.run, runBrowser: fakeBrowser().run });
    await until(() => probes.rec.count('tls') >= 3 && monitor.history.recent('tls').length >= 3, 'three tls runs');
    const tls = monitor.history.last('tls')!.result;
    expect([tls.status, tls.reason]).toEqual(['failed', 'unexpected']);
    expect(tls.message).toMatch(/^tls: the probe threw: Error: boom \d+$/);
    expect(probes.rec.count('app-health')).toBeGreaterThanOrEqual(3);
    expect(monitor.scheduler.alive()).toBe(true);
  });

  it('stop() aborts a running browser run and completes well within 10 s', async () => {
    const browser = fakeBrowser(async (o) => {
      await slow(60_000, o.signal);
      return [];
    });
    const monitor = await start(testConfig({ checks: ['e2e-login'] }), { runProbe: fakeProbes().run, runBrowser: browser.run });
    await until(() => browser.rec.running === 1, 'the browser run');
    const started = Date.now();
    await monitor.stop();
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(browser.signals[0]!.aborted).toBe(true);
    expect(monitor.scheduler.alive()).toBe(false);
    // Aborted work is not recorded as a failure of the target.
    expect(monitor.history.last('e2e-login')).toBeUndefined();
  });
});

describe('the shutdown signal', () => {
  it('carries one listener per running check without Node warning of a leak (ten probes, the sign-in probe, a flow, a deploy run)', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
    process.on('warning', onWarning);
    const scheduler = createScheduler([]);
    try {
      const release = new AbortController();
      setMaxListeners(32, release.signal); // the test's own signal: only the scheduler's is under test
      const checks = Array.from({ length: 16 }, () => new Promise<void>((resolve) => {
        scheduler.signal.addEventListener('abort', () => resolve(), { once: true });
        release.signal.addEventListener('abort', () => resolve(), { once: true });
      }));
      // Node emits the warning on the next tick after the listener that crosses the limit.
      await new Promise((resolve) => setImmediate(resolve));
      release.abort();
      await Promise.all(checks);
      expect(warnings.filter((w) => w.startsWith('MaxListenersExceededWarning'))).toEqual([]);
    } finally {
      process.off('warning', onWarning);
      await scheduler.stop();
    }
  });
});
