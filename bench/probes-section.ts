/**
 * `probes`: the `tls` and `app-health` probes of one local HTTPS target (the stack's app front)
 * through the monitor's `/probe?check=` against blackbox_exporter's `/probe` for the same target,
 * with the same HTTP client, alternating. app-health makes two GETs (`/` and `/api/auth/ok`), so the
 * blackbox side is the two http-module probes of those URLs, one after the other: the same work.
 */
import { Agent, request } from 'undici';
import { GOALS, type BenchContext, type SectionStatus } from './context.ts';
import { startMonitorProcess } from './monitor-process.ts';
import { log } from './tools.ts';

interface Call {
  ms: number;
  ok: boolean;
}

async function timedGet(agent: Agent, url: string, success: RegExp): Promise<Call> {
  const started = performance.now();
  try {
    const response = await request(url, { dispatcher: agent, signal: AbortSignal.timeout(15_000) });
    const body = await response.body.text();
    return { ms: performance.now() - started, ok: response.statusCode === 200 && success.test(body) };
  } catch {
    return { ms: performance.now() - started, ok: false };
  }
}

export async function probesSection(ctx: BenchContext): Promise<SectionStatus> {
  if (!ctx.blackbox) return { status: 'skipped', message: 'prometheus-blackbox-exporter is not available' };
  const app = new URL(ctx.stack.info.appUrl);
  const monitor = await startMonitorProcess(ctx.sentinelEnv, {
    SENTINEL_CHECKS: 'tls,app-health',
    SENTINEL_TLS_HOSTS: app.host,
    SENTINEL_REPORTS_DIR: `${ctx.workDir}/reports-probes`,
  });
  const agent = new Agent({ keepAliveTimeout: 30_000 });
  const bb = ctx.blackbox.url;
  const sentinelOk = /^probe_success\{[^}]*\} 1$/m;
  const blackboxOk = /^probe_success 1$/m;
  const sides = {
    'tls-sentinel': () => timedGet(agent, `${monitor.url}/probe?check=tls`, sentinelOk),
    'tls-blackbox': () => timedGet(agent, `${bb}/probe?module=tls_connect&target=${encodeURIComponent(app.host)}`, blackboxOk),
    'app-health-sentinel': () => timedGet(agent, `${monitor.url}/probe?check=app-health`, sentinelOk),
    'app-health-blackbox': async (): Promise<Call> => {
      const home = await timedGet(agent, `${bb}/probe?module=http_home&target=${encodeURIComponent(`${app.origin}/`)}`, blackboxOk);
      const ok = await timedGet(agent, `${bb}/probe?module=http_auth_ok&target=${encodeURIComponent(`${app.origin}/api/auth/ok`)}`, blackboxOk);
      return { ms: home.ms + ok.ms, ok: home.ok && ok.ok };
    },
  };
  type Side = keyof typeof sides;
  const calls: Record<Side, Call[]> = { 'tls-sentinel': [], 'tls-blackbox': [], 'app-health-sentinel': [], 'app-health-blackbox': [] };
  try {
    // warm-up: first connections, the monitor's trust context, blackbox's first TLS config load
    for (let i = 0; i < 3; i++) for (const side of Object.keys(sides) as Side[]) await sides[side]();
    const record = ctx.measure('probes');
    const n = ctx.options.quick ? 10 : Math.max(30, ctx.options.runs * 10);
    for (let i = 0; i < n; i++) {
      for (const probe of ['tls', 'app-health'] as const) {
        const order: Side[] = i % 2 === 0 ? [`${probe}-sentinel`, `${probe}-blackbox`] : [`${probe}-blackbox`, `${probe}-sentinel`];
        for (const side of order) calls[side].push(await sides[side]());
      }
    }
    for (const probe of ['tls', 'app-health'] as const) {
      const s = calls[`${probe}-sentinel`];
      const b = calls[`${probe}-blackbox`];
      const failures = (list: Call[]) => list.filter((c) => !c.ok).length;
      record({ id: `${probe}-sentinel`, unit: 'ms', values: s.map((c) => c.ms), note: `GET monitor /probe?check=${probe}; ${failures(s)} not probe_success 1` });
      record({
        id: `${probe}-blackbox`,
        unit: 'ms',
        values: b.map((c) => c.ms),
        note: `${probe === 'tls' ? 'GET blackbox /probe module tcp+tls' : 'GET blackbox /probe module http for / then for /api/auth/ok (sum)'}; ${failures(b)} not probe_success 1`,
      });
      record({ id: `${probe}-ratio`, unit: 'ratio', values: s.map((c, i) => c.ms / b[i]!.ms), goal: probe === 'tls' ? GOALS.tlsProbeRatio : GOALS.appHealthProbeRatio, note: 'per alternating pair; verdict on the median pair ratio' });
    }
    log(`probes: ${n} alternating pairs per probe done`);
  } finally {
    await agent.close();
    await monitor.stop();
  }
  return { status: 'ok', details: { target: app.host } };
}
