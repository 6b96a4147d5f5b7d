/**
 * The bar on the reference stack: every probe exposes probe_success 1 after the first cycle;
 * stopping the IdP turns the checks that need it to 0 within one cycle, starting it turns them back to 1.
 * Real probes (probes/run-probe.ts), a per-second schedule, no browser flows (those have their own tests).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROBE_CHECK_IDS } from '../../core/result.ts';
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

async function probeSuccess(): Promise<Record<string, number>> {
  const { body } = await get(`${monitor.url}/metrics`);
  const values: Record<string, number> = {};
  for (const line of body.split('\n')) {
    const match = /^probe_success\{check="([^"]+)"[^}]*\} (\d+)$/.exec(line);
    if (match) values[match[1]!] = Number(match[2]);
  }
  return values;
}

// Coolify shows the Zitadel stack exited while its process is stopped.
const IDP_DEPENDENT = ['oidc-discovery', 'login-v2-redirect', 'idp-token', 'idp-health', 'coolify-resources'];

// One cycle: up to the next 15 s tick plus the probes' own run time (a slow machine included).
const CYCLE_MS = 15_000 + 8_000;

describe('monitor on the reference stack', () => {
  it('reports every probe up, follows the IdP down and up within a cycle', async () => {
    const { info } = stack;
    const config = stackMonitorConfig(info, {
      reportsDir: '/tmp/sentinel-monitor-stack-test',
      // every 15 s: login-v2-redirect makes one sign-in call per run, and Better Auth answers 429 to
      // the third call within 10 s of its predecessor
      monitor: { listen: '127.0.0.1:0', probeSchedule: '*/15 * * * * *' },
    });
    monitor = await startMonitor(config, { log: () => undefined, embedded: true });
    await monitor.firstCycle;
    expect(await probeSuccess()).toEqual(Object.fromEntries(PROBE_CHECK_IDS.map((id) => [id, 1])));

    await stack.idp.stop();
    // one cycle: the next per-second tick plus the probes' own run time
    await until(async () => {
      const values = await probeSuccess();
      return IDP_DEPENDENT.every((id) => values[id] === 0);
    }, 'IdP checks at 0', CYCLE_MS);
    const down = await probeSuccess();
    expect(down).toEqual(Object.fromEntries(PROBE_CHECK_IDS.map((id) => [id, IDP_DEPENDENT.includes(id) ? 0 : 1])));
    const status = JSON.parse((await get(`${monitor.url}/status?format=json`)).body) as { checks: Array<{ id: string; state: string; reason?: string }> };
    expect(status.checks.find((c) => c.id === 'oidc-discovery')?.state).toBe('failing');

    await stack.idp.start();
    await until(async () => {
      const values = await probeSuccess();
      return IDP_DEPENDENT.every((id) => values[id] === 1);
    }, 'IdP checks back at 1', CYCLE_MS);
    expect(await probeSuccess()).toEqual(Object.fromEntries(PROBE_CHECK_IDS.map((id) => [id, 1])));
    const metrics = (await get(`${monitor.url}/metrics`)).body;
    for (const user of info.users) expect(metrics).not.toContain(user.password);
    expect(metrics).not.toContain(new URL(info.databaseUrl).password);
  });
});
