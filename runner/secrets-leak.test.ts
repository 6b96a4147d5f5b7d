/**
 * Issue 7 item 4: the suite runs against the reference stack with its (random, per start) secrets,
 * in a run that FAILS after sign-in — `app-signout-keeps-session` fails e2e-sign-out with the user's
 * cookies in its trace, `app-secret-rotated` fails e2e-session-redeploy after the password form was
 * filled in — so traces and screenshots are kept. Then a monitor runs one cycle (probes and a browser
 * flow) on the same stack. None of the passwords, session tokens, the Coolify tokens or the database
 * password may appear in any report file (zip entries and embedded zips included), in stdout/stderr
 * of the run, in the monitor's log, or in /metrics, /status (JSON and HTML) and /healthz.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadConfig } from '../core/config.ts';
import { writeZip } from '../core/scrub.ts';
import { startStack, type RunningStack } from '../fixtures/stack/index.ts';
import { envFromStackInfo } from './embedded-stack.ts';
import { startMonitor, type MonitorHandle } from './monitor/index.ts';
import { runCli } from './test-support/cli.ts';
import { blobsUnder, findSecrets, findUnmaskedSessionCookies, type Blob, type Secret } from './test-support/secret-search.ts';

let stack: RunningStack;
let monitor: MonitorHandle | undefined;
let reportsDir: string;
let monitorReportsDir: string;
let tokenWatch: { stop(): Promise<string[]> } | undefined;

beforeAll(async () => {
  stack = await startStack({ faults: ['app-signout-keeps-session', 'app-secret-rotated'] });
  reportsDir = await mkdtemp(join(tmpdir(), 'sentinel-secrets-run-'));
  monitorReportsDir = await mkdtemp(join(tmpdir(), 'sentinel-secrets-monitor-'));
}, 180_000);

afterAll(async () => {
  await monitor?.stop();
  await tokenWatch?.stop();
  await stack?.stop();
  await rm(reportsDir, { recursive: true, force: true });
  await rm(monitorReportsDir, { recursive: true, force: true });
});

/**
 * Collects every session token the app's database ever holds while the suite runs: sign-out deletes
 * rows, so reading once afterwards would miss tokens that were live (and recorded) during the run.
 */
function watchSessionTokens(databaseUrl: string): { stop(): Promise<string[]> } {
  const tokens = new Set<string>();
  let stopped = false;
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5_000, query_timeout: 5_000 });
  const loop = (async () => {
    await client.connect();
    while (!stopped) {
      try {
        const { rows } = await client.query<{ token: string }>('select token from sessions');
        for (const row of rows) tokens.add(row.token);
      } catch {
        // the database restarts with the stack's redeploy faults only; keep polling
      }
      // A polling interval (not a wait for readiness): sample the table about four times a second.
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  })().catch(() => undefined);
  return {
    async stop() {
      stopped = true;
      await loop;
      await client.end().catch(() => undefined);
      return [...tokens];
    },
  };
}

async function get(url: string): Promise<string> {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  expect(response.status).toBe(200);
  return response.text();
}

function zipOf(entries: Record<string, Buffer>): Buffer {
  return writeZip(Object.entries(entries).map(([name, data]) => ({ name, data })));
}

describe('the secret search itself', () => {
  test('finds a secret in a nested trace zip, in the HTML report\'s embedded zip, form-encoded and base64, and an unmasked cookie', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sentinel-secret-search-'));
    try {
      const password = 'pw with space&Secret!9';
      const token = 'tokenSECRETabcdefghijklmnopqrstu';
      const inner = zipOf({ 'resources/abc.dat': Buffer.from(new URLSearchParams({ loginName: 'x', password }).toString()) });
      await mkdir(join(dir, 'test-results/t1'), { recursive: true });
      await writeFile(join(dir, 'test-results/t1/trace.zip'), zipOf({ 'attachments/inner.zip': inner, 'trace.network': Buffer.from('{"name":"better-auth.session_token","value":"other.sig"}') }));
      const embedded = zipOf({ 'report.json': Buffer.from(JSON.stringify({ auth: Buffer.from(token).toString('base64') })) }).toString('base64');
      await writeFile(join(dir, 'index.html'), `<script>window.playwrightReportBase64 = "data:application/zip;base64,${embedded}";</script>`);
      await writeFile(join(dir, 'clean.txt'), 'cookie: better-auth.session_token=[REDACTED]; other=1');
      const blobs = await blobsUnder(dir);
      const secrets = [
        { label: 'password', value: password },
        { label: 'token', value: token },
      ];
      expect(findSecrets(blobs, secrets)).toEqual([
        { where: 'index.html!embedded-zip-0!report.json', label: 'token' },
        { where: 'test-results/t1/trace.zip!attachments/inner.zip!resources/abc.dat', label: 'password' },
      ]);
      expect(findUnmaskedSessionCookies(blobs).map((f) => f.where)).toEqual(['test-results/t1/trace.zip!trace.network']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('secrets never leave the process', () => {
  test('a failing full run and a monitor cycle leak no password, session token, Coolify token or DB password', async () => {
    const { info } = stack;
    const env: Record<string, string> = {
      ...envFromStackInfo(info),
      SENTINEL_ALLOW_MUTATIONS: 'true',
      SENTINEL_ALLOW_DISRUPTIVE: 'true',
      SENTINEL_REPORTS_DIR: reportsDir,
    };
    tokenWatch = watchSessionTokens(info.databaseUrl);

    // 1. The full suite as the CLI runs it, failing after sign-in.
    const run = await runCli(['run'], env, 300_000);
    expect(run.code).toBe(1);
    const runBlobs = await blobsUnder(reportsDir);
    const summary = JSON.parse(runBlobs.find((b) => b.where === 'summary.json')!.data.toString('utf8')) as { checks: Array<{ id: string; status: string; reason?: string }> };
    const failedIds = summary.checks.filter((c) => c.status === 'failed').map((c) => c.id);
    expect(failedIds).toEqual(expect.arrayContaining(['e2e-sign-out', 'e2e-session-redeploy']));
    // The failing run kept what a leak would hide in: traces and screenshots.
    expect(runBlobs.filter((b) => b.where.endsWith('trace.zip')).length).toBeGreaterThanOrEqual(2);
    expect(runBlobs.some((b) => b.where.endsWith('.png'))).toBe(true);
    expect(runBlobs.some((b) => /!.*\.(trace|network)$/.test(b.where))).toBe(true);

    // 2. The monitor, one cycle on the same stack: probes plus one browser flow that fails after sign-in.
    const loaded = loadConfig(env, {
      reportsDir: monitorReportsDir,
      checks: ['tls', 'app-health', 'oidc-discovery', 'login-v2-redirect', 'db', 'idp-token', 'idp-health', 'e2e-login', 'e2e-sign-out'],
      monitor: { listen: '127.0.0.1:0', probeSchedule: '0 0 1 1 *', browserSchedule: '0 0 1 1 *' },
    });
    if (!loaded.ok) throw new Error(`monitor config invalid: ${JSON.stringify(loaded.issues)}`);
    const monitorLog: string[] = [];
    monitor = await startMonitor(loaded.config, { log: (line) => monitorLog.push(line), env, embedded: false });
    await monitor.firstCycle;
    const endpoints = {
      metrics: await get(`${monitor.url}/metrics`),
      statusJson: await get(`${monitor.url}/status?format=json`),
      statusHtml: await get(`${monitor.url}/status`),
      healthz: await get(`${monitor.url}/healthz`),
    };
    const statusDoc = JSON.parse(endpoints.statusJson) as { checks: Array<{ id: string; state: string }> };
    // The monitor really ran the browser flow (and it failed with the stack's fault): its traces exist.
    expect(statusDoc.checks.find((c) => c.id === 'e2e-sign-out')?.state).toBe('failing');
    await monitor.stop();
    monitor = undefined;

    const tokens = await tokenWatch.stop();
    tokenWatch = undefined;
    // Every sign-in made a session row; the run signs in several times (setup ×2, login, redeploy, monitor).
    expect(tokens.length).toBeGreaterThanOrEqual(4);

    const dbPassword = decodeURIComponent(new URL(info.databaseUrl).password);
    const secrets: Secret[] = [
      ...info.users.map((u, i) => ({ label: `password of user ${i + 1}`, value: u.password })),
      ...tokens.map((token, i) => ({ label: `session token ${i + 1}`, value: token })),
      { label: 'Coolify token', value: info.coolifyToken },
      { label: 'Coolify read-only token', value: info.coolifyReadOnlyToken },
      { label: 'service user client secret', value: info.machineUser.clientSecret },
      { label: 'database password', value: dbPassword },
      { label: 'database URL', value: info.databaseUrl },
    ];
    for (const secret of secrets) expect(secret.value.length, secret.label).toBeGreaterThanOrEqual(8);

    const monitorBlobs = (await blobsUnder(monitorReportsDir)).map((b) => ({ ...b, where: `monitor-reports/${b.where}` }));
    expect(monitorBlobs.some((b) => b.where.endsWith('trace.zip'))).toBe(true);
    const streams: Blob[] = [
      { where: 'run stdout', data: Buffer.from(run.stdout) },
      { where: 'run stderr', data: Buffer.from(run.stderr) },
      { where: 'monitor log', data: Buffer.from(monitorLog.join('\n')) },
      ...Object.entries(endpoints).map(([name, body]) => ({ where: `GET ${name}`, data: Buffer.from(body) })),
    ];
    const everything = [...runBlobs, ...monitorBlobs, ...streams];
    expect(findSecrets(everything, secrets)).toEqual([]);
    expect(findUnmaskedSessionCookies(everything)).toEqual([]);
  }, 480_000);
});
