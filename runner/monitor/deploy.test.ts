/**
 * Issue 9's bar on the reference stack: a deploy made through the Coolify stand-in triggers the
 * monitor's post-deploy run, whose outcome shows on /metrics and /status within one poll interval
 * (plus the run itself). Probes only, so the run is short; the disruptive check never runs here.
 */
import { readFileSync } from 'node:fs';
import { Agent, fetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type RunningStack } from '../../fixtures/stack/index.ts';
import { startMonitor, type MonitorHandle } from './index.ts';
import { get, until } from './test-support/fakes.ts';
import { stackMonitorConfig } from './test-support/stack-config.ts';

let stack: RunningStack;
let monitor: MonitorHandle;

beforeAll(async () => {
  stack = await startStack();
}, 180_000);
afterAll(async () => {
  await monitor?.stop();
  await stack?.stop();
});

// The poll interval (every 2 s) plus the five probes' run time on a slow machine.
const POLL_AND_RUN_MS = 2_000 + 20_000;

describe('deploy-triggered runs in the monitor', () => {
  it('a Coolify deployment through the stand-in shows its post-deploy outcome on /metrics and /status', async () => {
    const { info } = stack;
    const config = stackMonitorConfig(info, {
      coolify: { url: info.coolifyUrl, token: info.coolifyToken, appUuid: info.coolifyAppUuid },
      reportsDir: '/tmp/sentinel-monitor-deploy-test',
      // probes once at start, then hourly: the only run in the window is the deploy-triggered one
      monitor: { listen: '127.0.0.1:0', probeSchedule: '0 * * * *', browserSchedule: '0 0 * * *', deployPollSchedule: '*/2 * * * * *' },
    });
    monitor = await startMonitor(config, { log: () => undefined, embedded: true });
    await monitor.firstCycle;

    const dispatcher = new Agent({ connect: { ca: readFileSync(info.caCertPath, 'utf8') } });
    const response = await fetch(`${info.coolifyUrl}/api/v1/deploy?uuid=${info.coolifyAppUuid}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${info.coolifyToken}` },
      dispatcher,
      signal: AbortSignal.timeout(10_000),
    });
    expect(response.status).toBe(200);
    const { deployments } = (await response.json()) as { deployments: Array<{ deployment_uuid: string }> };
    const deploymentUuid = deployments[0]!.deployment_uuid;
    await dispatcher.close();

    // The deployment itself (new instance, health check, switch) may take a while; then one poll and the run.
    await until(async () => (await get(`${monitor.url}/metrics`)).body.includes(`sentinel_deployment_info{deployment_uuid="${deploymentUuid}",outcome="passed"} 1`), 'the deployment on /metrics', 60_000 + POLL_AND_RUN_MS);
    const metrics = (await get(`${monitor.url}/metrics`)).body;
    expect(metrics).toMatch(/^sentinel_deployment_runs_total\{outcome="passed"\} 1$/m);
    expect(metrics).not.toContain(info.coolifyToken);

    const status = JSON.parse((await get(`${monitor.url}/status?format=json`)).body) as { lastDeployment?: { uuid: string; status: string; outcome: string } };
    expect(status.lastDeployment).toMatchObject({ uuid: deploymentUuid, status: 'finished', outcome: 'passed' });
    const html = (await get(`${monitor.url}/status`)).body;
    expect(html).toContain(deploymentUuid);
  }, 240_000);
});
