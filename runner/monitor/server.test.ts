import { afterEach, describe, expect, it } from 'vitest';
import { authorized, parseListen } from './server.ts';
import { startMonitor, type MonitorHandle, type MonitorOptions } from './index.ts';
import { DB_PASSWORD, USER_PASSWORD, fakeBrowser, fakeProbes, get, metricValue, passed, slow, testConfig, until } from './test-support/fakes.ts';

const running: MonitorHandle[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((m) => m.stop()));
});

async function start(config: ReturnType<typeof testConfig>, options: MonitorOptions = {}): Promise<MonitorHandle> {
  const monitor = await startMonitor(config, { log: () => undefined, runProbe: fakeProbes().run, runBrowser: fakeBrowser().run, ...options });
  running.push(monitor);
  await monitor.firstCycle;
  return monitor;
}

const TOKEN = 'monitor-Token-9d81c2';

describe('monitor HTTP server', () => {
  it('binds the configured address on port 0 and answers /healthz', async () => {
    const monitor = await start(testConfig());
    expect(monitor.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(monitor.server.port).toBeGreaterThan(0);
    const health = await get(`${monitor.url}/healthz`);
    expect([health.status, health.body]).toEqual([200, 'ok\n']);
    expect((await get(`${monitor.url}/nope`)).status).toBe(404);
    await monitor.stop();
    expect(monitor.scheduler.alive()).toBe(false);
  });

  it('--listen overrides config.monitor.listen', async () => {
    const monitor = await start(testConfig({ monitor: { listen: '127.0.0.1:1' } }), { listen: '127.0.0.1:0' });
    expect(monitor.server.port).not.toBe(1);
  });

  it('requires the bearer token on every endpoint except /healthz', async () => {
    const monitor = await start(testConfig({ monitor: { token: TOKEN } }));
    for (const path of ['/metrics', '/status', '/status?format=json', '/probe?check=db']) {
      expect((await get(`${monitor.url}${path}`)).status).toBe(401);
      expect((await get(`${monitor.url}${path}`, { Authorization: 'Bearer wrong-token' })).status).toBe(401);
      expect((await get(`${monitor.url}${path}`, { Authorization: `Basic ${TOKEN}` })).status).toBe(401);
      expect((await get(`${monitor.url}${path}`, { Authorization: `Bearer ${TOKEN}` })).status).toBe(200);
    }
    expect((await get(`${monitor.url}/healthz`)).status).toBe(200);
    const metrics = await get(`${monitor.url}/metrics`, { Authorization: `Bearer ${TOKEN}` });
    expect(metrics.body).not.toContain(TOKEN);
  });

  it('shares one rendering among scrapes that arrive while another is rendered, each body complete', async () => {
    const monitor = await start(testConfig());
    const render = monitor.registry.metrics.bind(monitor.registry);
    let renders = 0;
    monitor.registry.metrics = async () => {
      renders += 1;
      await slow(300); // a slow rendering, so the scrapes below arrive during it
      return render();
    };
    const bodies = await Promise.all(Array.from({ length: 30 }, () => get(`${monitor.url}/metrics`)));
    expect(bodies.every((b) => b.status === 200 && b.body.includes('probe_success{check="db"'))).toBe(true);
    expect(renders).toBeGreaterThanOrEqual(2);
    expect(renders).toBeLessThanOrEqual(3);
    const openMetrics = await get(`${monitor.url}/metrics`, { Accept: 'application/openmetrics-text; version=1.0.0' });
    expect(openMetrics.body.trimEnd().endsWith('# EOF')).toBe(true);
  });

  it('serves the rendered bytes until a value changes: a recorded result makes the next scrape render again', async () => {
    const monitor = await start(testConfig());
    const render = monitor.registry.metrics.bind(monitor.registry);
    let renders = 0;
    monitor.registry.metrics = async () => {
      renders += 1;
      return render();
    };
    const first = await get(`${monitor.url}/metrics`);
    for (let i = 0; i < 20; i++) expect((await get(`${monitor.url}/metrics`)).body).toBe(first.body);
    expect(renders).toBe(1);
    await monitor.scheduler.trigger('probes');
    const after = await get(`${monitor.url}/metrics`);
    expect(renders).toBe(2);
    expect(after.body).not.toBe(first.body);
    expect(after.body).toContain('sentinel_check_results_total{check="db",status="passed"} 2');
  });

  it('compares tokens exactly', () => {
    expect(authorized('Bearer abc', 'abc')).toBe(true);
    expect(authorized('bearer abc', 'abc')).toBe(true);
    expect(authorized('Bearer abcd', 'abc')).toBe(false);
    expect(authorized('Bearer ab', 'abc')).toBe(false);
    expect(authorized(undefined, 'abc')).toBe(false);
    expect(authorized(undefined, undefined)).toBe(true);
    expect(parseListen('[::1]:9464')).toEqual({ host: '::1', port: 9464 });
    expect(() => parseListen('localhost')).toThrow('host:port');
  });

  it('serves the text format by default and OpenMetrics when asked', async () => {
    const monitor = await start(testConfig({ checks: ['app-health'] }));
    const text = await get(`${monitor.url}/metrics`);
    expect(text.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(text.body).toContain('probe_success{check="app-health",check_type="http",target="app.example.test"} 1\n');
    const om = await get(`${monitor.url}/metrics`, { Accept: 'application/openmetrics-text; version=1.0.0,text/plain;q=0.5' });
    expect(om.contentType).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
    expect(om.body.trimEnd().endsWith('# EOF')).toBe(true);
    expect(om.body).toContain('# TYPE sentinel_check_results counter');
    // the next plain scrape is text again
    expect((await get(`${monitor.url}/metrics`)).contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
  });

  it('a scrape never runs a check', async () => {
    const probes = fakeProbes();
    const monitor = await start(testConfig({ checks: ['db'] }), { runProbe: probes.run });
    expect(probes.rec.count('db')).toBe(1);
    for (let i = 0; i < 3; i++) {
      await get(`${monitor.url}/metrics`);
      await get(`${monitor.url}/status?format=json`);
    }
    expect(probes.rec.count('db')).toBe(1);
  });

  it('/probe runs one probe now and answers with its metrics only', async () => {
    const probes = fakeProbes((id, call) => (call === 1 ? passed(id, { observations: { pgUp: 1 } }) : { ...passed(id), status: 'failed', reason: 'db_unreachable', observations: { pgUp: 0 } }));
    const monitor = await start(testConfig({ checks: ['db', 'app-health', 'e2e-login'] }), { runProbe: probes.run });
    const res = await get(`${monitor.url}/probe?check=db`);
    expect(res.status).toBe(200);
    expect(res.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    const samples = res.body.split('\n').filter((l) => l && !l.startsWith('#'));
    expect(samples).toEqual([
      'probe_success{check="db",check_type="db",target="db.example.test:5432/gadgetbot"} 0',
      'probe_duration_seconds{check="db",check_type="db",target="db.example.test:5432/gadgetbot"} 0.005',
      'pg_up{check="db",check_type="db",target="db.example.test:5432/gadgetbot"} 0',
    ]);
    expect(probes.rec.count('db')).toBe(2);
    // the cached (scheduled) result is untouched
    expect(await metricValue(monitor.url, 'pg_up{check="db",check_type="db",target="db.example.test:5432/gadgetbot"}')).toBe(1);
    for (const bad of ['e2e-login', 'nope', '', 'tls']) {
      const r = await get(`${monitor.url}/probe?check=${encodeURIComponent(bad)}`);
      expect(r.status, bad).toBe(400);
    }
  });

  it('/probe?check=login-v2-redirect answers 503 with Retry-After while a browser flow holds the sign-in lane, and runs once it is free', async () => {
    let release: () => void = () => undefined;
    const flowHeld = new Promise<void>((resolve) => (release = resolve));
    let flowStarted = false;
    const browser = fakeBrowser(async (o) => {
      flowStarted = true;
      await flowHeld;
      return o.checks.map((id) => passed(id));
    });
    const probes = fakeProbes();
    const monitor = await startMonitor(testConfig({ checks: ['app-health', 'login-v2-redirect', 'e2e-login'] }), { log: () => undefined, runProbe: probes.run, runBrowser: browser.run });
    running.push(monitor);
    await until(() => flowStarted, 'the browser flow holds the lane');
    const busy = await fetch(`${monitor.url}/probe?check=login-v2-redirect`, { signal: AbortSignal.timeout(10_000) });
    expect(busy.status).toBe(503);
    expect(busy.headers.get('retry-after')).toBe('90');
    expect(await busy.text()).toBe('login-v2-redirect cannot run now: a browser flow holds the sign-in lane\n');
    const callsWhileBusy = probes.rec.count('login-v2-redirect');
    // Other probes do not sign in and run as usual.
    expect((await get(`${monitor.url}/probe?check=app-health`)).status).toBe(200);
    release();
    await monitor.firstCycle;
    const free = await get(`${monitor.url}/probe?check=login-v2-redirect`);
    expect(free.status).toBe(200);
    expect(free.body).toContain('probe_success{check="login-v2-redirect"');
    expect(probes.rec.count('login-v2-redirect')).toBe(callsWhileBusy + 1);
  });

  it('/status shows every check as JSON and HTML, redacted everywhere (also in /metrics)', async () => {
    const leak = `connect to postgresql://gadgetbot_admin:${DB_PASSWORD}@db.example.test failed; password ${USER_PASSWORD}; <script>alert(1)</script>`;
    const probes = fakeProbes((id) => (id === 'db' ? { ...passed(id), status: 'failed', reason: 'db_auth', message: leak } : passed(id)));
    const monitor = await start(testConfig({ checks: ['db', 'tls', 'e2e-login', 'e2e-session-redeploy'] }), { runProbe: probes.run });
    const json = await get(`${monitor.url}/status?format=json`);
    expect(json.contentType).toBe('application/json; charset=utf-8');
    const viaAccept = await get(`${monitor.url}/status`, { Accept: 'application/json' });
    expect(viaAccept.contentType).toBe('application/json; charset=utf-8');
    const doc = JSON.parse(json.body) as { checks: Array<{ id: string; state: string; reason?: string; message?: string; lastRun?: string; lastSuccess?: string; history: unknown[] }> };
    expect(doc.checks.map((c) => c.id)).toEqual(['tls', 'db', 'e2e-login', 'e2e-session-redeploy']);
    const db = doc.checks.find((c) => c.id === 'db')!;
    expect([db.state, db.reason, db.history.length, db.lastSuccess]).toEqual(['failing', 'db_auth', 1, undefined]);
    expect(db.message).toContain('[REDACTED]');
    expect(doc.checks.find((c) => c.id === 'tls')!.state).toBe('passing');
    expect(doc.checks.find((c) => c.id === 'e2e-session-redeploy')!.state).toBe('skipped');
    const html = await get(`${monitor.url}/status`);
    expect(html.contentType).toBe('text/html; charset=utf-8');
    expect(html.body).toContain('<strong>db</strong>');
    expect(html.body).toContain('&lt;script&gt;');
    expect(html.body).not.toContain('<script>');
    expect(html.body).not.toMatch(/(src|href)=["']?https?:/);
    const metrics = await get(`${monitor.url}/metrics`);
    for (const body of [json.body, viaAccept.body, html.body, metrics.body]) {
      expect(body).not.toContain(DB_PASSWORD);
      expect(body).not.toContain(USER_PASSWORD);
    }
    expect(monitor.history.last('db')!.result.message).not.toContain(DB_PASSWORD);
  });
});
