import cron from 'node-cron';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { configSchema, type Config } from '../core/config.ts';
import { SentinelError } from '../core/errors.ts';
import { coolifyDriver } from '../core/coolify-redeploy.ts';
import { CoolifyError } from '../core/coolify.ts';
import { startFakeCoolify, type FakeCoolify } from '../core/test-support/coolify-fake.ts';
import { CHECK_IDS, type CheckId, type RunSummary } from '../core/result.ts';
import { startStack, type RunningStack } from '../fixtures/stack/index.ts';
import { createDeployWatcher, postDeployChecks, postDeployConfig, type DeploymentEvent, type DeployWatcher } from './deploy-watch.ts';
import { runDeployWatch, type DeployTriggeredRun } from './watch-deploys.ts';

const TOKEN = '3|watch-sekrit-token-9d8c7b6a';
const APP = 'app0uuid0000000000000000';
const EVERY_SECOND = '* * * * * *';

function configFor(url: string, extra: Record<string, unknown> = {}): Config {
  return configSchema.parse({
    appUrl: 'https://gadgetbot.example.com',
    issuer: 'https://auth.example.com',
    coolify: { url, token: TOKEN, appUuid: APP, pollIntervalMs: 50 },
    timeouts: { probeMs: 5_000 },
    // no test user or database here: the watch's mechanics are under test, not the gate (its own test below)
    allowSkipped: true,
    ...extra,
  });
}

function summaryOf(checks: readonly CheckId[]): RunSummary {
  const startedAt = new Date().toISOString();
  return {
    mode: 'postdeploy',
    target: 'https://gadgetbot.example.com',
    startedAt,
    durationMs: 10,
    checks: checks.map((id) => ({ id, kind: 'probe', status: 'passed', startedAt, durationMs: 1 })),
    totals: { passed: checks.length, failed: 0, flaky: 0, skipped: 0 },
  };
}

describe('deploy watcher (fake Coolify)', () => {
  let fake: FakeCoolify;
  let watcher: DeployWatcher | undefined;
  let events: DeploymentEvent[];
  let logs: string[];

  const watch = (config = configFor(fake.url), onDeployment = (event: DeploymentEvent) => void events.push(event)) => {
    watcher = createDeployWatcher({ config, onDeployment, log: (l) => logs.push(l) });
    return watcher;
  };

  beforeEach(async () => {
    fake = await startFakeCoolify({ tokens: { [TOKEN]: ['read', 'deploy'] }, appUuid: APP });
    events = [];
    logs = [];
  });
  afterEach(async () => {
    await watcher?.stop();
    watcher = undefined;
    await fake.close();
  });

  it('ignores deployments that ended before it started and reports a new finished one exactly once', async () => {
    fake.addDeployment('finished');
    fake.addDeployment('failed');
    const w = watch();
    await w.poll();
    expect(events).toEqual([]);
    const fresh = fake.addDeployment('queued');
    await w.poll();
    fake.setStatus(fresh.deployment_uuid, 'in_progress');
    await w.poll();
    expect(events).toEqual([]);
    fake.setStatus(fresh.deployment_uuid, 'finished');
    await w.poll();
    await w.poll();
    expect(events).toEqual([{ uuid: fresh.deployment_uuid, status: 'finished', finishedAt: new Date(Date.parse(fake.deployments[0]!.updated_at)).toISOString() }]);
    expect(fake.requests.every((r) => r.method === 'GET' && r.url === `/api/v1/deployments/applications/${APP}?skip=0&take=10`)).toBe(true);
  });

  it('reports a failed deployment, stays silent on a cancelled one, in the order they ran', async () => {
    const w = watch();
    await w.poll();
    const failed = fake.addDeployment('failed');
    fake.addDeployment('cancelled-by-user');
    const finished = fake.addDeployment('finished');
    await w.poll();
    expect(events.map((e) => [e.uuid, e.status])).toEqual([
      [failed.deployment_uuid, 'failed'],
      [finished.deployment_uuid, 'finished'],
    ]);
    expect(logs).toEqual([`watch-deploys: deployment ${fake.deployments[1]!.deployment_uuid} ended cancelled-by-user; no run`]);
  });

  it('a deployment still running when the watch starts is reported when it ends', async () => {
    const running = fake.addDeployment('in_progress');
    const w = watch();
    await w.poll();
    fake.setStatus(running.deployment_uuid, 'finished');
    await w.poll();
    expect(events.map((e) => e.uuid)).toEqual([running.deployment_uuid]);
  });

  it('a handler that throws is logged and not called again for that deployment', async () => {
    let calls = 0;
    const w = watch(configFor(fake.url), () => {
      calls += 1;
      throw new Error('run exploded');
    });
    await w.poll();
    const d = fake.addDeployment('finished');
    await w.poll();
    await w.poll();
    expect(calls).toBe(1);
    expect(logs).toEqual([`watch-deploys: handling deployment ${d.deployment_uuid} failed: run exploded`]);
  });

  it('overlapping poll() calls share one request', async () => {
    const w = watch();
    await Promise.all([w.poll(), w.poll(), w.poll()]);
    expect(fake.requests).toHaveLength(1);
  });

  it('takes both list shapes ({count, deployments} and a bare array)', async () => {
    fake.bareArrayList = true;
    const w = watch();
    await w.poll();
    const d = fake.addDeployment('finished');
    await w.poll();
    expect(events.map((e) => e.uuid)).toEqual([d.deployment_uuid]);
  });

  it('poll() throws the Coolify error (wrong uuid) so the caller can tell', async () => {
    const w = watch(configFor(fake.url, { coolify: { url: fake.url, token: TOKEN, appUuid: 'nope' } }));
    const error = await w.poll().then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(CoolifyError);
    expect((error as CoolifyError).code).toBe('coolify_not_found');
    expect((error as CoolifyError).message).toBe('Coolify has no application with uuid "nope" (404 "Application not found."): check SENTINEL_COOLIFY_APP_UUID');
  });

  it('start() polls on the cron schedule and stop() ends it', async () => {
    const w = watch(configFor(fake.url, { monitor: { deployPollSchedule: EVERY_SECOND } }));
    await w.start();
    expect(fake.requests).toHaveLength(1);
    const d = fake.addDeployment('finished');
    await expect.poll(() => events.map((e) => e.uuid), { timeout: 5_000 }).toEqual([d.deployment_uuid]);
    await w.stop();
    const after = fake.requests.length;
    fake.addDeployment('finished');
    expect([...cron.getTasks().values()].filter((task) => task.name === 'coolify-deployments')).toEqual([]);
    await w.poll();
    expect(fake.requests.length).toBe(after);
    expect(events).toHaveLength(1);
  });

  it('refuses to start without Coolify settings', () => {
    const config = configSchema.parse({ appUrl: 'https://a.example.com', issuer: 'https://b.example.com' });
    expect(() => createDeployWatcher({ config, onDeployment: () => undefined })).toThrow(
      'watching deployments needs SENTINEL_COOLIFY_URL, SENTINEL_COOLIFY_TOKEN and SENTINEL_COOLIFY_APP_UUID',
    );
  });
});

describe('deploy-triggered runs never redeploy', () => {
  it('postDeployChecks drops the disruptive check from the default and from an explicit list', () => {
    const all = configSchema.parse({ appUrl: 'https://a.example.com', issuer: 'https://b.example.com', allowDisruptive: true });
    expect(postDeployChecks(all)).toEqual(CHECK_IDS.filter((id) => id !== 'e2e-session-redeploy'));
    const explicit = configSchema.parse({ appUrl: 'https://a.example.com', issuer: 'https://b.example.com', allowDisruptive: true, checks: ['e2e-session-redeploy', 'app-health'] });
    expect(postDeployChecks(explicit)).toEqual(['app-health']);
    expect(postDeployConfig(explicit)).toMatchObject({ allowDisruptive: false, checks: ['app-health'] });
  });

  let fake: FakeCoolify;
  beforeEach(async () => {
    fake = await startFakeCoolify({ tokens: { [TOKEN]: ['read', 'deploy'] }, appUuid: APP });
  });
  afterEach(async () => {
    await fake.close();
  });

  it('runDeployWatch runs the allowed checks after a finished deployment, coolify-resources at once after a failed one, pushes both, and stops on its signal', async () => {
    // No database or users here: those checks are visible skips (allowSkipped), not a refusal to watch.
    const config = configFor(fake.url, { allowDisruptive: true, allowSkipped: true, checks: [...CHECK_IDS], pushgatewayUrl: 'http://push.example.com:9091' });
    const runs: Array<Parameters<DeployTriggeredRun>[0]> = [];
    const pushes: Array<[RunSummary, DeploymentEvent]> = [];
    const lines: string[] = [];
    const stop = new AbortController();
    const done = runDeployWatch(config, {
      signal: stop.signal,
      schedule: EVERY_SECOND,
      write: (l) => lines.push(l),
      run: async (request) => {
        runs.push(request);
        return summaryOf(request.checks);
      },
      push: async (_c, summary, deployment) => {
        pushes.push([summary, deployment]);
      },
    });
    await expect.poll(() => fake.requests.length, { timeout: 5_000 }).toBeGreaterThan(0);
    const failed = fake.addDeployment('failed');
    await expect.poll(() => runs.length, { timeout: 5_000 }).toBe(1);
    const finished = fake.addDeployment('finished');
    await expect.poll(() => runs.length, { timeout: 5_000 }).toBe(2);
    stop.abort();
    expect(await done).toBe(0);

    // The failed deployment: at once, the check that reads Coolify's deployment record (it reports deploy_failed).
    expect(runs[0]!.checks).toEqual(['coolify-resources']);
    expect(runs[0]!.deployment).toMatchObject({ uuid: failed.deployment_uuid, status: 'failed' });
    expect(lines).toContain(`watch-deploys: Coolify deployment "${failed.deployment_uuid}" of application "${APP}" ended with status "failed": see its logs in Coolify`);
    expect(lines).toContain(`watch-deploys: deployment ${failed.deployment_uuid} failed; running coolify-resources`);
    const allowed = CHECK_IDS.filter((id) => id !== 'e2e-session-redeploy');
    expect(runs[1]!.checks).toEqual(allowed);
    expect(runs[1]!.checks).not.toContain('e2e-session-redeploy');
    expect(runs.every((r) => r.config.allowDisruptive === false)).toBe(true);
    expect(runs[1]!.config.checks).toEqual(allowed);
    expect(runs[1]!.deployment).toMatchObject({ uuid: finished.deployment_uuid, status: 'finished' });
    expect(pushes.map(([, d]) => d.uuid)).toEqual([failed.deployment_uuid, finished.deployment_uuid]);
    expect(lines).toContain(`watch-deploys: deployment ${finished.deployment_uuid}: passed (${allowed.length} passed, 0 failed, 0 flaky, 0 skipped)`);
    expect(lines.join('\n')).not.toContain('sekrit');
  });

  it('a failed deployment with coolify-resources left out runs nothing (the line says it failed)', async () => {
    const config = configFor(fake.url, { allowSkipped: true, checks: ['app-health'] });
    const runs: Array<Parameters<DeployTriggeredRun>[0]> = [];
    const lines: string[] = [];
    const stop = new AbortController();
    const done = runDeployWatch(config, { signal: stop.signal, schedule: EVERY_SECOND, write: (l) => lines.push(l), run: async (r) => (runs.push(r), summaryOf(r.checks)) });
    await expect.poll(() => fake.requests.length, { timeout: 5_000 }).toBeGreaterThan(0);
    const failed = fake.addDeployment('failed');
    await expect.poll(() => lines.some((l) => l.includes(failed.deployment_uuid)), { timeout: 5_000 }).toBe(true);
    const finished = fake.addDeployment('finished');
    await expect.poll(() => runs.length, { timeout: 5_000 }).toBe(1);
    stop.abort();
    expect(await done).toBe(0);
    expect(runs.map((r) => [r.deployment.uuid, r.checks])).toEqual([[finished.deployment_uuid, ['app-health']]]);
  });

  it('runDeployWatch refuses to start when a post-deploy run could not look at every check (the gate of `sentinel run`)', async () => {
    const config = configFor(fake.url, { allowSkipped: false });
    const error = await runDeployWatch(config, { signal: new AbortController().signal, write: () => undefined, run: () => expect.fail('no run') }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as SentinelError).code).toBe('not_configured');
    expect((error as SentinelError).message.split('\n')).toContain('- db: no database URL (SENTINEL_DATABASE_URL) — or leave it out on purpose with --skip db (SENTINEL_SKIP), or pass --allow-skipped');
  });

  it('runDeployWatch with a rejected token fails at once with coolify_unauthorized (the CLI exits 2)', async () => {
    const config = configSchema.parse({
      appUrl: 'https://gadgetbot.example.com',
      issuer: 'https://auth.example.com',
      coolify: { url: fake.url, token: '4|wrong-sekrit', appUuid: APP },
      allowSkipped: true,
    });
    const error = await runDeployWatch(config, { signal: new AbortController().signal, write: () => undefined, run: () => expect.fail('no run') }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as CoolifyError).code).toBe('coolify_unauthorized');
    expect((error as CoolifyError).message).toBe('Coolify rejected the token (401): check SENTINEL_COOLIFY_TOKEN');
  });
});

describe('against the reference stack’s Coolify stand-in', () => {
  let stack: RunningStack;
  let config: Config;
  beforeAll(async () => {
    stack = await startStack();
    const { info } = stack;
    config = configSchema.parse({
      appUrl: info.appUrl,
      issuer: info.issuer,
      tls: { caCertPath: info.caCertPath },
      coolify: { url: info.coolifyUrl, token: info.coolifyToken, appUuid: info.coolifyAppUuid, pollIntervalMs: 200, deployTimeoutMs: 60_000 },
      timeouts: { probeMs: 5_000 },
    });
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
  });

  it('a redeploy through the coolify driver finishes, and the watcher reports that deployment once', async () => {
    const events: DeploymentEvent[] = [];
    const watcher = createDeployWatcher({ config, onDeployment: (e) => void events.push(e), log: () => undefined });
    try {
      await watcher.poll();
      const outcome = await coolifyDriver(config).redeploy(AbortSignal.timeout(60_000));
      expect(outcome.ok).toBe(true);
      expect(outcome.status).toBe('finished');
      expect(outcome.deploymentId).toMatch(/^[a-z0-9]{24}$/);
      expect(outcome.applicationStatus).toMatch(/^running:/);
      expect(outcome.evidence).toMatchObject({ kind: 'coolify-deployment', deploymentId: outcome.deploymentId });
      await watcher.poll();
      await watcher.poll();
      expect(events.map((e) => [e.uuid, e.status])).toEqual([[outcome.deploymentId, 'finished']]);
      expect(Number.isFinite(Date.parse(events[0]!.finishedAt ?? ''))).toBe(true);
    } finally {
      await watcher.stop();
    }
  });

  it('the read-only token cannot deploy; a wrong app uuid is named', async () => {
    const readOnly = { ...config, coolify: { ...config.coolify, token: stack.info.coolifyReadOnlyToken } };
    const forbidden = await coolifyDriver(readOnly).redeploy(AbortSignal.timeout(10_000)).then(() => undefined, (e: unknown) => e);
    expect((forbidden as CoolifyError).code).toBe('coolify_forbidden');
    expect((forbidden as CoolifyError).message).toBe(
      `Coolify token lacks the "deploy" ability (403 "Missing required permissions: deploy") for POST /api/v1/deploy?uuid=${stack.info.coolifyAppUuid}: SENTINEL_COOLIFY_TOKEN needs read + deploy (or root)`,
    );
    const wrong = { ...config, coolify: { ...config.coolify, appUuid: 'zzzzzzzzzzzzzzzzzzzzzzzz' } };
    const missing = await coolifyDriver(wrong).redeploy(AbortSignal.timeout(10_000)).then(() => undefined, (e: unknown) => e);
    expect((missing as CoolifyError).code).toBe('coolify_not_found');
    expect((missing as CoolifyError).message).toBe('Coolify has no application with uuid "zzzzzzzzzzzzzzzzzzzzzzzz" (404 "No resources found."): check SENTINEL_COOLIFY_APP_UUID');
  });
});
