import { createServer } from 'node:net';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCli } from './test-support/cli.ts';

/** A port on 127.0.0.1 that nothing listens on: bound on port 0, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const oneLine = (text: string) => text.trimEnd().split('\n');

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sentinel-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('sentinel usage', () => {
  test.concurrent('help prints the usage and exits 0', async ({ expect }) => {
    const run = await runCli(['help'], {});
    expect(run.code).toBe(0);
    expect(run.stdout.startsWith('usage: sentinel <command> [options]')).toBe(true);
  });

  test.concurrent.for([
    [['frobnicate'], 'sentinel: unknown command "frobnicate" (see `sentinel help`)'],
    [['run', '--frob'], 'sentinel: unknown option --frob (see `sentinel help`)'],
    [['run', '--mode', 'nightly'], 'sentinel: unknown mode "nightly" (postdeploy or ci) (see `sentinel help`)'],
    [['probe', '--check', 'tls,e2e-logn'], 'sentinel: unknown check id "e2e-logn" (known: tls, app-health, oidc-discovery, login-v2-redirect, db, e2e-login, e2e-admin-crud, e2e-sign-out, e2e-session-redeploy) (see `sentinel help`)'],
    [['check-config', 'extra'], 'sentinel: unexpected argument extra (see `sentinel help`)'],
  ] as const)('%s → one line, exit 2', async ([args, line], { expect }) => {
    const run = await runCli([...args], {});
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(oneLine(run.stderr)).toEqual([line]);
  });
});

describe('sentinel run / probe', () => {
  test('an invalid configuration stops `run` before anything starts: exit 2, every problem listed', async () => {
    const run = await runCli(['run'], {
      SENTINEL_APP_URL: 'https://gadgetbot.example.test',
      SENTINEL_ISSUER: 'ht!tp://auth',
      SENTINEL_USER: 'sentinel@example.test',
      SENTINEL_PROBE_TIMEOUT_MS: 'soon',
    });
    expect(run.code).toBe(2);
    expect(oneLine(run.stderr)).toEqual([
      'sentinel: the configuration has 3 problems:',
      '- issuer (SENTINEL_ISSUER): issuer must be an absolute http(s) URL',
      '- users.0.password (SENTINEL_PASSWORD): password is required',
      '- timeouts.probeMs (SENTINEL_PROBE_TIMEOUT_MS): timeouts.probeMs must be a number',
    ]);
  });

  test('a target whose ports are closed: `sentinel probe` exits 1 within the deadlines, with reports', async () => {
    const [appPort, idpPort] = [await closedPort(), await closedPort()];
    const reportsDir = join(dir, 'reports-closed');
    const run = await runCli(
      ['probe'],
      {
        SENTINEL_APP_URL: `https://127.0.0.1:${appPort}`,
        SENTINEL_ISSUER: `https://127.0.0.1:${idpPort}`,
        SENTINEL_USER: 'sentinel@example.test',
        SENTINEL_PASSWORD: 'pw-Zq8-SECRET-7731',
        SENTINEL_PROBE_TIMEOUT_MS: '5000',
        SENTINEL_REPORTS_DIR: reportsDir,
      },
      45_000,
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('✘ oidc-discovery');
    expect(run.stdout).toMatch(/✘ tls .*connect_refused/);
    expect(run.stdout).toContain('- db  skipped  not_configured: no database URL (SENTINEL_DATABASE_URL)');
    expect(run.stdout).toContain('- e2e-login  skipped  not_selected: `sentinel probe` runs probes only');
    const summary = JSON.parse(await readFile(join(reportsDir, 'summary.json'), 'utf8')) as { mode: string; checks: Array<{ id: string; status: string }>; totals: Record<string, number> };
    expect(summary.mode).toBe('probe');
    expect(summary.checks.filter((c) => c.status === 'failed').map((c) => c.id)).toEqual(['tls', 'app-health', 'oidc-discovery', 'login-v2-redirect']);
    expect(summary.totals).toEqual({ passed: 0, failed: 4, flaky: 0, skipped: 5 });
    expect(run.stdout + (await readFile(join(reportsDir, 'junit.xml'), 'utf8'))).not.toContain('pw-Zq8-SECRET-7731');
  });
});
