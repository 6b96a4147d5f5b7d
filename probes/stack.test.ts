import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type RunningStack } from '../fixtures/stack/index.ts';
import { PROBE_CHECK_IDS } from '../core/result.ts';
import { runProbes } from './run.ts';
import { testConfig } from './test-support/config.ts';

/**
 * On the embedded reference stack all five probes pass, twice in a row (the second run hits warm
 * connections). Their speed is measured by `npm run bench`, not here. Two runs make two sign-in
 * requests: inside Better Auth's 3 per 10 s.
 */
let stack: RunningStack;

beforeAll(async () => {
  stack = await startStack();
}, 180_000);
afterAll(async () => {
  await stack?.stop();
});

describe('probes against the reference stack', () => {
  it('pass all five, concurrently, twice in a row', async () => {
    const { info } = stack;
    const config = testConfig({
      appUrl: info.appUrl,
      issuer: info.issuer,
      loginBasePath: info.loginBasePath,
      clientId: info.clientId,
      databaseUrl: info.databaseUrl,
      migrationsPath: info.migrationsPath,
      tls: { hosts: info.tlsHosts, caCertPath: info.caCertPath },
    });
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
  });
});
