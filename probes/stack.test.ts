import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type RunningStack } from '../fixtures/stack/index.ts';
import { PROBE_CHECK_IDS } from '../core/result.ts';
import { createStackClient } from '../fixtures/stack/test-helpers.ts';
import { runProbes } from './test-support/run-probes.ts';
import { testConfig } from './test-support/probe-config.ts';

/**
 * On the embedded reference stack every probe passes, twice in a row (the second run hits warm
 * connections). Their speed is measured by `npm run bench`, not here. Two runs make two sign-in
 * requests: inside Better Auth's 3 per 10 s. Then another client uses up the sign-in limit, and
 * login-v2-redirect meets the app's real 429.
 */
let stack: RunningStack;

beforeAll(async () => {
  stack = await startStack();
}, 180_000);
afterAll(async () => {
  await stack?.stop();
});

function stackConfig(timeouts?: { probeMs: number }) {
  const { info } = stack;
  return testConfig({
    appUrl: info.appUrl,
    issuer: info.issuer,
    loginBasePath: info.loginBasePath,
    clientId: info.clientId,
    databaseUrl: info.databaseUrl,
    migrationsPath: info.migrationsPath,
    tls: { hosts: info.tlsHosts, caCertPath: info.caCertPath },
    // The stack's firewall stand-in: its hosts, the ports it keeps closed, its plain-http entrypoints.
    exposure: { hosts: info.exposure.hosts, closedPorts: info.exposure.closedPorts, httpUrls: info.exposure.httpUrls },
    // The Coolify checks read with the stand-in's read-only token: watching needs no more.
    coolify: {
      url: info.coolifyUrl,
      token: info.coolifyReadOnlyToken,
      appUuid: info.coolifyAppUuid,
      zitadelUuid: info.coolifyZitadelUuid,
      appDbUuid: info.coolifyAppDbUuid,
      zitadelDbUuid: info.coolifyZitadelDbUuid,
    },
    idpToken: { clientId: info.machineUser.clientId, clientSecret: info.machineUser.clientSecret },
    ...(timeouts ? { timeouts } : {}),
  });
}

describe('probes against the reference stack', () => {
  it('pass all of them, concurrently, twice in a row', async () => {
    const { info } = stack;
    const config = stackConfig();
    const allPassed = PROBE_CHECK_IDS.map((id) => ({ id, status: 'passed', reason: undefined, message: undefined }));
    const summary = (rs: Awaited<ReturnType<typeof runProbes>>) => rs.map((r) => ({ id: r.id, status: r.status, reason: r.reason, message: r.message }));
    // The first run also pays the stack's own lazy start-up (first DB pool, first TLS sessions).
    const first = await runProbes(PROBE_CHECK_IDS, config);
    expect(summary(first)).toEqual(allPassed);
    const results = await runProbes(PROBE_CHECK_IDS, config);
    expect(summary(results)).toEqual(allPassed);
    const dbPassword = decodeURIComponent(new URL(info.databaseUrl).password);
    expect(dbPassword.length).toBeGreaterThan(3);
    expect(JSON.stringify([...first, ...results])).not.toContain(dbPassword);
    expect(JSON.stringify([...first, ...results])).not.toContain(info.machineUser.clientSecret);
  });

  it("login-v2-redirect meets the app's 429: fails rate_limited when the stated wait outlasts its deadline, else waits it out and passes", async () => {
    // Another client of the app (an operator, another machine) uses up the sign-in limit: sign-ins the
    // suite's own record cannot see, so only the app's 429 tells the probe.
    const client = createStackClient(stack.info);
    try {
      const { appUrl } = stack.info;
      let status = 0;
      for (let attempt = 0; attempt < 5 && status !== 429; attempt++) {
        const response = await client.request(`${appUrl}/api/auth/sign-in/social`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', origin: new URL(appUrl).origin },
          body: JSON.stringify({ provider: 'zitadel', callbackURL: '/admin' }),
        });
        status = response.status;
        await response.arrayBuffer();
      }
      expect(status).toBe(429);
    } finally {
      await client.close();
    }

    // With a 3 s deadline no wait fits (the window is 10 s): the refusal is reported at once.
    const [refused] = await runProbes(['login-v2-redirect'], stackConfig({ probeMs: 3_000 }));
    expect(refused).toMatchObject({ status: 'failed', reason: 'rate_limited', observations: { signInStatusCode: 429 } });
    expect(refused!.message).toMatch(/answered 429/);

    // A deadline longer than the window: the probe waits the time the app states and passes.
    const [waited] = await runProbes(['login-v2-redirect'], stackConfig({ probeMs: 15_000 }));
    expect(waited).toMatchObject({ status: 'passed', observations: { signInStatusCode: 200, loginUi: 'v2' } });
    expect(waited!.observations?.signInWaitMs).toBeGreaterThan(0);
  });
});
