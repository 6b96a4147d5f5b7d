/**
 * The monitor's HTTP server (node:http). A scrape never runs checks: /metrics and /status read the
 * cached results; only /probe runs one probe now (blackbox style, fresh registry per request).
 * With a token configured every endpoint but /healthz needs `Authorization: Bearer <token>`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry, type RegistryContentType } from 'prom-client';
import type { CheckResult, ProbeCheckId } from '../../core/result.ts';
import { createProbeMetrics, recordResult, type CheckSpec } from '../metrics.ts';
import { renderStatusHtml, type StatusDocument } from './status-page.ts';

export interface ServerDeps {
  token?: string;
  registry: Registry<RegistryContentType>;
  /** moves whenever a recorded value changes (Metrics.version): a scrape between two changes is served the bytes already rendered */
  version?(): number;
  alive(): boolean;
  status(): Promise<StatusDocument>;
  /** probe ids `/probe` accepts (the monitor's configured probes) */
  probeIds: readonly ProbeCheckId[];
  specs: readonly CheckSpec[];
  /**
   * Runs one probe now with its deadline; never rejects. `busy` when the probe cannot run now without
   * disturbing the monitor (the sign-in probe while a browser flow holds the sign-in lane): /probe then
   * answers 503 with Retry-After, which a blackbox-style scraper counts as a failed scrape, not a failed probe.
   */
  runProbeNow(id: ProbeCheckId): Promise<CheckResult | { busy: true; retryAfterSeconds: number }>;
  /** concurrent /probe requests allowed; default 2 */
  maxConcurrentProbes?: number;
}

export interface MonitorServer {
  server: Server;
  host: string;
  port: number;
  url: string;
  close(): Promise<void>;
}

/** Parses `host:port` / `[v6]:port`. */
export function parseListen(listen: string): { host: string; port: number } {
  const match = /^(?:\[([0-9a-fA-F:]+)\]|([^:]+)):(\d{1,5})$/.exec(listen.trim());
  const port = Number(match?.[3]);
  if (!match || !Number.isInteger(port) || port > 65535) throw new Error(`listen address must be host:port, got "${listen}"`);
  return { host: match[1] ?? match[2]!, port };
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/** Constant-time bearer check (hashing first makes the lengths equal). */
export function authorized(header: string | undefined, token: string | undefined): boolean {
  if (!token) return true;
  const presented = /^Bearer\s+(.+)$/i.exec(header ?? '')?.[1]?.trim() ?? '';
  return timingSafeEqual(digest(presented), digest(token));
}

function send(res: ServerResponse, status: number, contentType: string, body: string | Buffer, extra: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff', ...extra });
  res.end(body);
}

const wantsOpenMetrics = (req: IncomingMessage) => /application\/openmetrics-text/i.test(req.headers.accept ?? '');

/** How old the process gauges (memory) in a served rendering may be. */
const PROCESS_GAUGES_MAX_AGE_MS = 5_000;

interface Rendered {
  body: Buffer;
  contentType: string;
  /** Metrics.version it was rendered at */
  version: number;
  /** performance.now() when it was rendered */
  at: number;
}

export async function startServer(listen: string, deps: ServerDeps): Promise<MonitorServer> {
  const { host, port } = parseListen(listen);
  let probesRunning = 0;
  const maxProbes = deps.maxConcurrentProbes ?? 2;
  // Values change only when a result is recorded; between two changes a scrape is served the bytes
  // rendered already (the process gauges, which move on their own, at most PROCESS_GAUGES_MAX_AGE_MS old).
  // The registry's content type is switched per OpenMetrics request, so renderings are serialised;
  // scrapes that arrive while one of their format is being rendered share it.
  let scrapeChain: Promise<unknown> = Promise.resolve();
  const rendering = new Map<boolean, Promise<Rendered>>();
  const rendered = new Map<boolean, Rendered>();
  const exposition = (openMetrics: boolean): Promise<Rendered> => {
    const last = rendered.get(openMetrics);
    if (last && deps.version && last.version === deps.version() && performance.now() - last.at < PROCESS_GAUGES_MAX_AGE_MS) return Promise.resolve(last);
    const current = rendering.get(openMetrics);
    if (current) return current;
    const next = scrapeChain.then(async () => {
      rendering.delete(openMetrics); // from here on a new scrape waits for fresh values
      const version = deps.version?.() ?? Number.NaN;
      const at = performance.now();
      deps.registry.setContentType(openMetrics ? Registry.OPENMETRICS_CONTENT_TYPE : Registry.PROMETHEUS_CONTENT_TYPE);
      try {
        const done: Rendered = { body: Buffer.from(await deps.registry.metrics()), contentType: deps.registry.contentType as string, version, at };
        rendered.set(openMetrics, done);
        return done;
      } finally {
        deps.registry.setContentType(Registry.PROMETHEUS_CONTENT_TYPE);
      }
    });
    rendering.set(openMetrics, next);
    scrapeChain = next.catch(() => undefined);
    return next;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://monitor.invalid');
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n', { Allow: 'GET, HEAD' });
    if (url.pathname === '/healthz') {
      return deps.alive() ? send(res, 200, 'text/plain; charset=utf-8', 'ok\n') : send(res, 503, 'text/plain; charset=utf-8', 'scheduler stopped\n');
    }
    if (!authorized(req.headers.authorization, deps.token)) {
      return send(res, 401, 'text/plain; charset=utf-8', 'unauthorized\n', { 'WWW-Authenticate': 'Bearer realm="sentinel"' });
    }
    switch (url.pathname) {
      case '/metrics': {
        const { body, contentType } = await exposition(wantsOpenMetrics(req));
        return send(res, 200, contentType, body);
      }
      case '/status': {
        const doc = await deps.status();
        const json = url.searchParams.get('format') === 'json' || /application\/json/i.test(req.headers.accept ?? '');
        return json ? send(res, 200, 'application/json; charset=utf-8', `${JSON.stringify(doc, null, 2)}\n`) : send(res, 200, 'text/html; charset=utf-8', renderStatusHtml(doc));
      }
      case '/probe': {
        const id = url.searchParams.get('check') ?? '';
        if (!(deps.probeIds as readonly string[]).includes(id)) {
          return send(res, 400, 'text/plain; charset=utf-8', `unknown probe check "${id.slice(0, 40).replace(/[^\w-]/g, '?')}"; known: ${deps.probeIds.join(', ')}\n`);
        }
        if (probesRunning >= maxProbes) return send(res, 429, 'text/plain; charset=utf-8', 'too many probes running\n', { 'Retry-After': '5' });
        probesRunning += 1;
        try {
          const result = await deps.runProbeNow(id as ProbeCheckId);
          if ('busy' in result) return send(res, 503, 'text/plain; charset=utf-8', `${id} cannot run now: a browser flow holds the sign-in lane\n`, { 'Retry-After': String(result.retryAfterSeconds) });
          const registry = new Registry();
          const metrics = createProbeMetrics(registry, deps.specs.filter((s) => s.id === id));
          recordResult(metrics, result);
          return send(res, 200, registry.contentType, await registry.metrics());
        } finally {
          probesRunning -= 1;
        }
      }
      default:
        return send(res, 404, 'text/plain; charset=utf-8', 'not found: try /metrics, /status, /healthz or /probe?check=<id>\n');
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'internal error\n');
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    server,
    host: address.address,
    port: address.port,
    url: `http://${urlHost}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
