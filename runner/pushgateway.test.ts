import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { configSchema, type Config } from '../core/config.ts';
import type { RunSummary } from '../core/result.ts';
import { buildRunMetrics, pushRunMetrics, pushUrl } from './pushgateway.ts';

const STARTED = '2026-01-01T10:00:00.000Z';
const T0 = Date.parse(STARTED) / 1000;

const summary: RunSummary = {
  mode: 'ci',
  target: 'https://gadgetbot.example.com',
  startedAt: STARTED,
  durationMs: 42_500,
  totals: { passed: 2, failed: 1, flaky: 1, skipped: 1 },
  checks: [
    { id: 'tls', kind: 'probe', status: 'passed', startedAt: STARTED, durationMs: 250 },
    { id: 'app-health', kind: 'probe', status: 'failed', reason: 'http_status', startedAt: STARTED, durationMs: 1_500 },
    { id: 'oidc-discovery', kind: 'probe', status: 'passed', startedAt: STARTED, durationMs: 300, warnings: [] },
    { id: 'e2e-login', kind: 'browser', status: 'flaky', startedAt: STARTED, durationMs: 20_000 },
    { id: 'e2e-session-redeploy', kind: 'browser', status: 'skipped', reason: 'not_permitted', startedAt: STARTED, durationMs: 0 },
  ],
};

// Generous by default (this machine is shared and busy); the deadline test sets its own short one.
function configWith(pushgatewayUrl: string | undefined, probeMs = 10_000): Config {
  return configSchema.parse({
    appUrl: 'https://gadgetbot.example.com',
    issuer: 'https://auth.example.com',
    users: [{ loginName: 'bot@example.com', password: 'pw-sekrit-123' }],
    timeouts: { probeMs },
    ...(pushgatewayUrl ? { pushgatewayUrl } : {}),
  });
}

interface Received {
  method: string;
  url: string;
  contentType: string | undefined;
  authorization: string | undefined;
  body: string;
}

let server: Server | undefined;
async function standIn(answer: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.writeHead(200).end()): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ method: req.method ?? '', url: req.url ?? '', contentType: req.headers['content-type'], authorization: req.headers.authorization, body: Buffer.concat(chunks).toString() });
      answer(req, res);
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

describe('run metrics', () => {
  it('are the check state set, probe_success/duration for checks that ran, timestamps and the run duration', async () => {
    const { body, contentType } = await buildRunMetrics(configWith(undefined), summary, { uuid: 'dep123', status: 'finished', finishedAt: '2026-01-01T09:59:00.000000Z' });
    expect(contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    const samples = body.split('\n').filter((line) => line && !line.startsWith('#'));
    expect(samples).toEqual([
      ...['passing 1', 'failing 0', 'degraded 0', 'skipped 0'].map((s) => `sentinel_check_status{check="tls",status="${s.split(' ')[0]}"} ${s.split(' ')[1]}`),
      ...['passing 0', 'failing 1', 'degraded 0', 'skipped 0'].map((s) => `sentinel_check_status{check="app-health",status="${s.split(' ')[0]}"} ${s.split(' ')[1]}`),
      ...['passing 1', 'failing 0', 'degraded 0', 'skipped 0'].map((s) => `sentinel_check_status{check="oidc-discovery",status="${s.split(' ')[0]}"} ${s.split(' ')[1]}`),
      ...['passing 0', 'failing 1', 'degraded 0', 'skipped 0'].map((s) => `sentinel_check_status{check="e2e-login",status="${s.split(' ')[0]}"} ${s.split(' ')[1]}`),
      ...['passing 0', 'failing 0', 'degraded 0', 'skipped 1'].map((s) => `sentinel_check_status{check="e2e-session-redeploy",status="${s.split(' ')[0]}"} ${s.split(' ')[1]}`),
      'probe_success{check="tls",check_type="tls",target="gadgetbot.example.com:443,auth.example.com:443"} 1',
      'probe_success{check="app-health",check_type="http",target="gadgetbot.example.com"} 0',
      'probe_success{check="oidc-discovery",check_type="oidc",target="auth.example.com"} 1',
      'probe_success{check="e2e-login",check_type="browser",target="gadgetbot.example.com"} 0',
      'probe_duration_seconds{check="tls",check_type="tls",target="gadgetbot.example.com:443,auth.example.com:443"} 0.25',
      'probe_duration_seconds{check="app-health",check_type="http",target="gadgetbot.example.com"} 1.5',
      'probe_duration_seconds{check="oidc-discovery",check_type="oidc",target="auth.example.com"} 0.3',
      'probe_duration_seconds{check="e2e-login",check_type="browser",target="gadgetbot.example.com"} 20',
      `sentinel_check_last_run_timestamp_seconds{check="tls"} ${T0}`,
      `sentinel_check_last_run_timestamp_seconds{check="app-health"} ${T0 + 1}`,
      `sentinel_check_last_run_timestamp_seconds{check="oidc-discovery"} ${T0}`,
      `sentinel_check_last_run_timestamp_seconds{check="e2e-login"} ${T0 + 20}`,
      `sentinel_check_last_success_timestamp_seconds{check="tls"} ${T0}`,
      `sentinel_check_last_success_timestamp_seconds{check="oidc-discovery"} ${T0}`,
      'sentinel_run_duration_seconds 42.5',
      'sentinel_run_deployment_info{deployment="dep123",deployment_status="finished"} 1',
      `sentinel_run_deployment_finished_timestamp_seconds ${T0 - 60}`,
    ]);
    expect(body).not.toContain('sekrit');
  });

  it('carry the exposure check\'s accepting ports per configured host, so SentinelPortExposed fires from a CI run outside the server too', async () => {
    const config = configSchema.parse({ appUrl: 'https://gadgetbot.example.com', issuer: 'https://auth.example.com', exposure: { hosts: ['gadgetbot.example.com', 'auth.example.com'] } });
    const exposure: RunSummary['checks'][number] = {
      id: 'exposure',
      kind: 'probe',
      status: 'failed',
      reason: 'port_exposed',
      startedAt: STARTED,
      durationMs: 40,
      observations: {
        hosts: [
          { host: 'gadgetbot.example.com', addresses: ['192.0.2.10'], exposedPorts: [5432], complete: true },
          { host: 'auth.example.com', addresses: [], exposedPorts: [], complete: false, reason: 'dns' },
          { host: 'not-configured.example.com', addresses: ['192.0.2.99'], exposedPorts: [22], complete: true },
        ],
      },
    };
    const { body } = await buildRunMetrics(config, { ...summary, checks: [exposure] });
    expect(body.split('\n').filter((line) => line.startsWith('sentinel_exposed_ports'))).toEqual(['sentinel_exposed_ports{host="gadgetbot.example.com"} 1']);
  });

  it.skipIf(!hasPromtool())('pass `promtool check metrics`', async () => {
    const { body } = await buildRunMetrics(configWith(undefined), summary);
    const output = execFileSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8', timeout: 10_000 });
    expect(output.trim()).toBe('');
  });

  it('go to <pushgatewayUrl>/metrics/job/gadgetbot_sentinel/mode/<mode>, credentials moved to a header', () => {
    expect(pushUrl('http://push.example.com:9091', 'postdeploy')).toEqual({ url: 'http://push.example.com:9091/metrics/job/gadgetbot_sentinel/mode/postdeploy' });
    expect(pushUrl('https://ops:p%40ss@push.example.com/base/', 'ci')).toEqual({
      url: 'https://push.example.com/base/metrics/job/gadgetbot_sentinel/mode/ci',
      authorization: `Basic ${Buffer.from('ops:p@ss').toString('base64')}`,
    });
  });
});

describe('pushRunMetrics against a stand-in Pushgateway', () => {
  it('PUTs the text format to the grouping key of the mode', async () => {
    const gateway = await standIn();
    const config = configWith(gateway.url);
    const result = await pushRunMetrics(config, summary, { mode: 'ci', warn: () => expect.fail('no warning expected') });
    expect(result).toEqual({ pushed: true, url: `${gateway.url}/metrics/job/gadgetbot_sentinel/mode/ci` });
    expect(gateway.received).toHaveLength(1);
    const [request] = gateway.received;
    expect(request!.method).toBe('PUT');
    expect(request!.url).toBe('/metrics/job/gadgetbot_sentinel/mode/ci');
    expect(request!.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(request!.authorization).toBeUndefined();
    expect(request!.body).toBe((await buildRunMetrics(config, summary)).body);
  });

  it('sends URL credentials as Basic auth and never prints them', async () => {
    const gateway = await standIn((_req, res) => res.writeHead(401).end('unauthorized'));
    const warnings: string[] = [];
    const withCredentials = gateway.url.replace('http://', 'http://ops:sekrit-push@');
    const result = await pushRunMetrics(configWith(withCredentials), summary, { mode: 'postdeploy', warn: (l) => warnings.push(l) });
    expect(gateway.received[0]!.authorization).toBe(`Basic ${Buffer.from('ops:sekrit-push').toString('base64')}`);
    expect(result).toEqual({ pushed: false, reason: 'failed', warning: `sentinel: warning: metrics not pushed to the Pushgateway at ${gateway.url}: HTTP 401 unauthorized (the run's result is unaffected)` });
    expect(warnings).toEqual([(result as { warning: string }).warning]);
  });

  it('is not attempted without SENTINEL_PUSHGATEWAY_URL', async () => {
    const result = await pushRunMetrics(configWith(undefined), summary, { mode: 'ci', fetchImpl: () => expect.fail('must not fetch') });
    expect(result).toEqual({ pushed: false, reason: 'not_configured' });
  });

  it('a rejected push is one warning line, never a throw', async () => {
    const gateway = await standIn((_req, res) => res.writeHead(400).end('pushed metrics are invalid or inconsistent with existing metrics: ...'));
    const warnings: string[] = [];
    const result = await pushRunMetrics(configWith(gateway.url), summary, { mode: 'ci', warn: (l) => warnings.push(l) });
    expect(result.pushed).toBe(false);
    expect(warnings).toEqual([
      `sentinel: warning: metrics not pushed to the Pushgateway at ${gateway.url}: HTTP 400 pushed metrics are invalid or inconsistent with existing metrics: ... (the run's result is unaffected)`,
    ]);
  });

  it('an unreachable Pushgateway is a warning', async () => {
    const port = await closedPort();
    const warnings: string[] = [];
    const result = await pushRunMetrics(configWith(`http://127.0.0.1:${port}`), summary, { mode: 'ci', warn: (l) => warnings.push(l) });
    expect(result).toEqual({ pushed: false, reason: 'failed', warning: `sentinel: warning: metrics not pushed to the Pushgateway at http://127.0.0.1:${port}: ECONNREFUSED (the run's result is unaffected)` });
  });

  it('a Pushgateway that never answers is cut at the deadline', async () => {
    const gateway = await standIn(() => undefined);
    const started = Date.now();
    const result = await pushRunMetrics(configWith(gateway.url, 500), summary, { mode: 'ci', warn: () => undefined });
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(result).toEqual({ pushed: false, reason: 'failed', warning: `sentinel: warning: metrics not pushed to the Pushgateway at ${gateway.url}: no answer within 500 ms (the run's result is unaffected)` });
  });
});

describe.skipIf(!hasPushgateway())('pushRunMetrics against a real Pushgateway (Debian prometheus-pushgateway)', () => {
  let child: ChildProcess | undefined;
  afterEach(() => {
    child?.kill('SIGTERM');
  });

  it('the pushed group is served back under the grouping key', async () => {
    const port = await closedPort();
    child = spawn('prometheus-pushgateway', [`--web.listen-address=127.0.0.1:${port}`], { stdio: 'ignore' });
    const base = `http://127.0.0.1:${port}`;
    await expect.poll(async () => fetch(`${base}/-/ready`).then((r) => r.status, () => 0), { timeout: 10_000 }).toBe(200);
    const result = await pushRunMetrics(configWith(base), summary, { mode: 'postdeploy', warn: (l) => expect.fail(l) });
    expect(result.pushed).toBe(true);
    const served = await (await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
    const line = served.split('\n').find((l) => l.startsWith('probe_success{check="tls"'));
    expect(line).toMatch(/job="gadgetbot_sentinel"/);
    expect(line).toMatch(/mode="postdeploy"/);
    expect(line).toMatch(/ 1$/);
  });
});

function hasPromtool(): boolean {
  return commandExists('promtool');
}
function hasPushgateway(): boolean {
  return commandExists('prometheus-pushgateway');
}
function commandExists(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function closedPort(): Promise<number> {
  const probe = createNetServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}
