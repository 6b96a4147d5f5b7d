/**
 * `exposure` probe: the deployment plan's security checklist (firewall configured, SSL on every
 * domain) checked from outside, where an attacker stands.
 *
 * - Closed ports: every port of `exposure.closedPorts` on every address of every exposure host must
 *   refuse, or stay silent for `connectTimeoutMs`. A port that accepts fails `port_exposed`; it is then
 *   sent the PostgreSQL SSLRequest (8 bytes: length 8, code 80877103 — never a startup message, so
 *   never a login) and a PostgreSQL server answers one byte, `S` or `N`, which says whether the
 *   database itself answers the world.
 * - HTTPS everywhere: every plain-http URL answers with a redirect to https on the same host
 *   (`http_not_redirected`).
 * - HSTS: the https sites answer with Strict-Transport-Security and a max-age of at least the minimum
 *   (`hsts_missing`: a warning unless `exposure.hstsRequired`).
 *
 * Only the configured hosts, ports and URLs are contacted; redirects are read, never followed. Each
 * address is checked once even when several hosts share it, at most MAX_PARALLEL_KNOCKS at a time,
 * and every connection's deadline ends before the probe's, so the probe reports every port itself.
 */
import { lookup } from 'node:dns/promises';
import { Socket, isIP } from 'node:net';
import { exposureConnectTimeoutMs, type Config } from '../core/config.ts';
import type { ExposedPortObservation, ExposureHostObservation } from '../core/observations.ts';
import type { Assertion, Reason, Warning } from '../core/result.ts';
import { mapLimited } from './concurrency.ts';
import { classify } from './errors.ts';
import { withProbeHttp, type ProbeHttp } from './http.ts';
import { probeResult } from './probe-result.ts';
import { exposureHttpUrls, hstsUrls } from '../core/targets.ts';
import type { ProbeContext, ProbeFn } from './types.ts';

/** PostgreSQL's SSLRequest: Int32 length 8, Int32 code 80877103 (1234 << 16 | 5679). */
export const SSL_REQUEST = Buffer.from([0x00, 0x00, 0x00, 0x08, 0x04, 0xd2, 0x16, 0x2f]);
/** Connections in flight at once. */
const MAX_PARALLEL_KNOCKS = 16;
/** How long an accepting port may take to answer the SSLRequest (PostgreSQL answers at once). */
const ANSWER_MS = 500;
/** Kept free before the probe's deadline, so the probe reports its ports itself before the runner cuts it off. */
const REPORT_RESERVE_MS = 150;
/** A connection is not tried with less time than this left: a silent port could not be told from a late one. */
const MIN_KNOCK_MS = 50;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/**
 * A refusal, or the network saying the address cannot be reached (a firewall's ICMP reject, no route
 * from here): the port does not accept connections from where the probe stands.
 */
const REFUSED_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN']);

type Knock =
  | { state: 'refused' | 'silent' }
  | { state: 'open'; postgresql: ExposedPortObservation['postgresql'] }
  | { state: 'not_checked'; reason: Reason; message: string };

function msLeft(ctx: ProbeContext): number {
  return (ctx.remainingMs?.() ?? Number.POSITIVE_INFINITY) - REPORT_RESERVE_MS;
}

/** One TCP connection attempt; an accepted one is asked the SSLRequest and closed. Never rejects. */
function knock(address: string, port: number, connectTimeoutMs: number, ctx: ProbeContext): Promise<Knock> {
  const budget = Math.min(connectTimeoutMs, msLeft(ctx));
  if (budget < MIN_KNOCK_MS || ctx.signal.aborted) {
    return Promise.resolve({ state: 'not_checked', reason: 'timeout', message: `${address} port ${port}: not checked: the probe's deadline came before its turn` });
  }
  return new Promise((resolve) => {
    const socket = new Socket();
    let accepted = false;
    let settled = false;
    let timer: NodeJS.Timeout;
    const finish = (result: Knock): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      ctx.signal.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(result);
    };
    const onAbort = (): void => {
      const { reason, message } = classify(ctx.signal.reason);
      finish(accepted ? { state: 'open', postgresql: 'no' } : { state: 'not_checked', reason, message: `${address} port ${port}: ${message}` });
    };
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    // Silent for the whole connect timeout: closed (a firewall that drops). Silent only until the probe's deadline cut the wait short: not known.
    const cutShort = budget < connectTimeoutMs;
    timer = setTimeout(
      () => finish(cutShort ? { state: 'not_checked', reason: 'timeout', message: `${address} port ${port}: silent for ${Math.round(budget)} ms when the probe's deadline came, short of the ${connectTimeoutMs} ms that make it closed` } : { state: 'silent' }),
      budget,
    );
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (accepted) return finish({ state: 'open', postgresql: 'no' });
      if (REFUSED_CODES.has(error.code ?? '')) return finish({ state: 'refused' });
      const { reason, message } = classify(error);
      finish({ state: 'not_checked', reason, message: `${address} port ${port}: ${message}` });
    });
    socket.connect({ host: address, port }, () => {
      accepted = true;
      clearTimeout(timer);
      timer = setTimeout(() => finish({ state: 'open', postgresql: 'no' }), Math.max(1, Math.min(ANSWER_MS, msLeft(ctx))));
      socket.once('data', (chunk: Buffer) => {
        const byte = chunk.length === 1 ? String.fromCharCode(chunk[0]!) : '';
        finish({ state: 'open', postgresql: byte === 'S' || byte === 'N' ? byte : 'no' });
      });
      socket.once('end', () => finish({ state: 'open', postgresql: 'no' }));
      socket.write(SSL_REQUEST);
    });
  });
}

type Resolved = { host: string; addresses: string[] } | { host: string; reason: Reason; message: string };

async function resolveHost(host: string, timeoutMs: number): Promise<Resolved> {
  if (isIP(host)) return { host, addresses: [host] };
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DOMException(`name lookup timed out after ${timeoutMs} ms`, 'TimeoutError')), Math.max(1, timeoutMs));
  });
  const lookingUp = lookup(host, { all: true, verbatim: true });
  lookingUp.catch(() => undefined); // a lookup that loses the race must not become an unhandled rejection
  try {
    const found = await Promise.race([lookingUp, deadline]);
    return { host, addresses: [...new Set(found.map((a) => a.address))] };
  } catch (error) {
    const { reason, message } = classify(error);
    return { host, reason, message: `${host}: ${message}` };
  } finally {
    clearTimeout(timer);
  }
}

/** What would answer on a port of the production server, to name it in a finding. */
const PORT_SERVICES: Readonly<Record<number, string>> = {
  3000: 'the app or Zitadel Login V2 container, bypassing Traefik',
  5432: 'PostgreSQL (gadgetbot-db, zitadel-db)',
  8080: 'Zitadel or Traefik API/dashboard (coolify-proxy), bypassing Traefik',
  8000: 'Coolify dashboard over plain http',
  6001: 'Coolify realtime (soketi)',
  6002: 'Coolify web terminal',
};

function serviceOf(port: number): string {
  const service = PORT_SERVICES[port];
  return service ? ` (${service})` : '';
}

function answerText(postgresql: ExposedPortObservation['postgresql']): string {
  if (postgresql === 'S') return 'a PostgreSQL server answers it (SSLRequest answered "S")';
  if (postgresql === 'N') return 'a PostgreSQL server answers it (SSLRequest answered "N": no TLS)';
  return 'it does not answer as PostgreSQL';
}

/** A finding that fails the check (or warns), with the precedence of its kind: exposure first. */
interface Finding {
  rank: number;
  reason: Reason;
  message: string;
}
const RANK = { exposed: 0, unchecked: 1, notRedirected: 2, hsts: 3 } as const;

interface PortsPart {
  hosts: ExposureHostObservation[];
  exposed: ExposedPortObservation[];
  assertions: Assertion[];
  findings: Finding[];
}

async function checkPorts(config: Config, hosts: readonly string[], ctx: ProbeContext): Promise<PortsPart> {
  const { closedPorts } = config.exposure;
  const connectTimeoutMs = exposureConnectTimeoutMs(config);
  const resolved = await Promise.all(hosts.map((host) => resolveHost(host, Math.min(connectTimeoutMs, msLeft(ctx)))));
  const addresses = [...new Set(resolved.flatMap((r) => ('addresses' in r ? r.addresses : [])))];
  const attempts = addresses.flatMap((address) => closedPorts.map((port) => ({ address, port })));
  const knocks = await mapLimited(attempts, MAX_PARALLEL_KNOCKS, ({ address, port }) => knock(address, port, connectTimeoutMs, ctx));
  const answerOf = new Map(attempts.map((attempt, i) => [`${attempt.address} ${attempt.port}`, knocks[i]!]));

  const part: PortsPart = { hosts: [], exposed: [], assertions: [], findings: [] };
  const expected = `${closedPorts.join(', ')} refuse or stay silent for ${connectTimeoutMs} ms`;
  for (const entry of resolved) {
    if (!('addresses' in entry)) {
      part.hosts.push({ host: entry.host, addresses: [], exposedPorts: [], complete: false, reason: entry.reason });
      part.assertions.push({ name: `${entry.host} closed ports`, ok: false, observed: entry.message, expected });
      part.findings.push({ rank: RANK.unchecked, reason: entry.reason, message: entry.message });
      continue;
    }
    const exposedHere: ExposedPortObservation[] = [];
    const unchecked: Array<Extract<Knock, { state: 'not_checked' }>> = [];
    for (const port of closedPorts) {
      for (const address of entry.addresses) {
        const answer = answerOf.get(`${address} ${port}`)!;
        if (answer.state === 'open') exposedHere.push({ host: entry.host, address, port, postgresql: answer.postgresql });
        else if (answer.state === 'not_checked') unchecked.push(answer);
      }
    }
    const exposedPorts = [...new Set(exposedHere.map((e) => e.port))].sort((a, b) => a - b);
    part.exposed.push(...exposedHere);
    part.hosts.push({
      host: entry.host,
      addresses: entry.addresses,
      exposedPorts,
      complete: unchecked.length === 0,
      ...(exposedHere.length ? { reason: 'port_exposed' } : unchecked.length ? { reason: unchecked[0]!.reason } : {}),
    });
    const observed = exposedHere.length
      ? exposedHere.map((e) => `${e.port} accepts at ${e.address}${e.postgresql === 'no' ? '' : ` (PostgreSQL, "${e.postgresql}")`}`).join('; ')
      : unchecked.length
        ? unchecked[0]!.message
        : `all ${closedPorts.length} closed on ${entry.addresses.join(', ')}`;
    part.assertions.push({ name: `${entry.host} closed ports`, ok: exposedHere.length === 0 && unchecked.length === 0, observed, expected });
    for (const e of exposedHere) {
      part.findings.push({ rank: RANK.exposed, reason: 'port_exposed', message: `${entry.host}:${e.port}${serviceOf(e.port)} accepts connections at ${e.address}; ${answerText(e.postgresql)}` });
    }
    if (unchecked.length) part.findings.push({ rank: RANK.unchecked, reason: unchecked[0]!.reason, message: unchecked[0]!.message });
  }
  return part;
}

function hostnameOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
}

function withoutQuery(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

/** The Strict-Transport-Security max-age in seconds; a browser heeds only the first header. */
export function hstsMaxAge(header: string | null): number | undefined {
  if (!header) return undefined;
  const first = header.split(',')[0]!;
  const match = /(?:^|;)\s*max-age\s*=\s*"?(\d+)"?\s*(?:;|$)/i.exec(first);
  return match ? Number(match[1]) : undefined;
}

interface WebPart {
  redirects: Array<{ url: string; status?: number; location?: string }>;
  hsts: Array<{ url: string; header?: string; maxAgeSeconds?: number }>;
  assertions: Assertion[];
  findings: Finding[];
  warnings: string[];
}

/** A request bounded by the probe's deadline minus the reserve, so one silent site does not take every result with it. */
function requestSignal(ctx: ProbeContext): AbortSignal {
  const left = Math.max(1, Math.floor(msLeft(ctx)));
  return AbortSignal.any([ctx.signal, AbortSignal.timeout(left)]);
}

async function checkRedirect(http: ProbeHttp, raw: string, ctx: ProbeContext, part: WebPart): Promise<void> {
  const url = new URL(raw);
  const expected = `a redirect to https://${url.host.replace(/:\d+$/, '')}/…`;
  const name = `${withoutQuery(url)} redirects to https`;
  let status: number;
  let location: string | null;
  try {
    const response = await http.fetch(url, { signal: requestSignal(ctx) });
    status = response.status;
    location = response.headers.get('location');
    response.body.destroy();
  } catch (error) {
    const { reason, message } = classify(error);
    part.redirects.push({ url: withoutQuery(url) });
    part.assertions.push({ name, ok: false, observed: message, expected });
    part.findings.push({ rank: RANK.unchecked, reason, message: `${withoutQuery(url)}: ${message}` });
    return;
  }
  let target: URL | undefined;
  try {
    target = location ? new URL(location, url) : undefined;
  } catch {
    target = undefined;
  }
  part.redirects.push({ url: withoutQuery(url), status, ...(target ? { location: withoutQuery(target) } : {}) });
  let problem: string | undefined;
  if (!REDIRECT_STATUSES.has(status)) problem = `answered ${status} without a redirect`;
  else if (!target) problem = `answered ${status} without a usable Location`;
  else if (target.protocol !== 'https:') problem = `redirects to ${withoutQuery(target)}, not to https`;
  else if (hostnameOf(target) !== hostnameOf(url)) problem = `redirects to another host (${withoutQuery(target)})`;
  part.assertions.push({ name, ok: problem === undefined, observed: target ? `${status} → ${withoutQuery(target)}` : status, expected });
  if (problem) part.findings.push({ rank: RANK.notRedirected, reason: 'http_not_redirected', message: `${withoutQuery(url)} ${problem}; expected ${expected}` });
}

async function checkHsts(http: ProbeHttp, raw: string, minAge: number, ctx: ProbeContext, part: WebPart): Promise<void> {
  const url = new URL(raw);
  const name = `${withoutQuery(url)} Strict-Transport-Security`;
  const expected = `max-age >= ${minAge}`;
  let header: string | null;
  try {
    const response = await http.fetch(url, { signal: requestSignal(ctx) });
    header = response.headers.get('strict-transport-security');
    response.body.destroy();
  } catch (error) {
    const { reason, message } = classify(error);
    part.hsts.push({ url: withoutQuery(url) });
    part.assertions.push({ name, ok: false, observed: message, expected });
    part.findings.push({ rank: RANK.unchecked, reason, message: `${withoutQuery(url)}: ${message}` });
    return;
  }
  const maxAge = hstsMaxAge(header);
  part.hsts.push({ url: withoutQuery(url), ...(header ? { header } : {}), ...(maxAge !== undefined ? { maxAgeSeconds: maxAge } : {}) });
  const ok = maxAge !== undefined && maxAge >= minAge;
  part.assertions.push({ name, ok, observed: header ?? '(none)', expected });
  if (!ok) {
    const what = header ? (maxAge === undefined ? `sends Strict-Transport-Security without a max-age ("${header}")` : `sends Strict-Transport-Security with max-age ${maxAge}, below ${minAge}`) : 'sends no Strict-Transport-Security';
    part.warnings.push(`${withoutQuery(url)} ${what}`);
  }
}

function emptyWebPart(): WebPart {
  return { redirects: [], hsts: [], assertions: [], findings: [], warnings: [] };
}

/** Every URL at once, each into its own part; the parts are joined in the configured order, not the order they answered. */
async function checkWeb(config: Config, ctx: ProbeContext): Promise<WebPart> {
  const redirectUrls = exposureHttpUrls(config);
  const siteUrls = hstsUrls(config);
  if (redirectUrls.length === 0 && siteUrls.length === 0) return emptyWebPart();
  const each = (check: (http: ProbeHttp, url: string, part: WebPart) => Promise<void>, http: ProbeHttp) => async (url: string) => {
    const part = emptyWebPart();
    await check(http, url, part);
    return part;
  };
  const parts = await withProbeHttp(ctx, (http) =>
    Promise.all([
      ...redirectUrls.map(each((client, url, part) => checkRedirect(client, url, ctx, part), http)),
      ...siteUrls.map(each((client, url, part) => checkHsts(client, url, config.exposure.hstsMinAgeSeconds, ctx, part), http)),
    ]),
  );
  const joined = emptyWebPart();
  for (const part of parts) {
    joined.redirects.push(...part.redirects);
    joined.hsts.push(...part.hsts);
    joined.assertions.push(...part.assertions);
    joined.findings.push(...part.findings);
    joined.warnings.push(...part.warnings);
  }
  return joined;
}

export const exposureProbe: ProbeFn = async (config, ctx) => {
  const hosts = config.exposure.hosts ?? [];
  if (hosts.length === 0) {
    return probeResult('exposure', { status: 'skipped', reason: 'not_configured', message: 'no exposure host (set SENTINEL_EXPOSURE_HOSTS to the public hosts whose ports may be checked)' });
  }
  const [ports, web] = await Promise.all([checkPorts(config, hosts, ctx), checkWeb(config, ctx)]);
  const hstsFails = config.exposure.hstsRequired;
  const findings = [...ports.findings, ...web.findings, ...(hstsFails ? web.warnings.map((message) => ({ rank: RANK.hsts, reason: 'hsts_missing' as const, message })) : [])];
  const warnings: Warning[] = !hstsFails && web.warnings.length ? ['hsts_missing'] : [];
  const observations = {
    closedPorts: config.exposure.closedPorts,
    hosts: ports.hosts,
    exposed: ports.exposed,
    redirects: web.redirects,
    hsts: web.hsts,
  };
  const assertions = [...ports.assertions, ...web.assertions];
  const base = { id: 'exposure' as const, kind: 'probe' as const, startedAt: '', durationMs: 0, assertions, observations, ...(warnings.length ? { warnings } : {}) };
  const first = findings.sort((a, b) => a.rank - b.rank)[0];
  if (first) {
    const more = findings.length - 1;
    return { ...base, status: 'failed', reason: first.reason, message: more > 0 ? `${first.message} (and ${more} more finding${more === 1 ? '' : 's'})` : first.message };
  }
  return { ...base, status: 'passed', ...(web.warnings.length ? { message: web.warnings.join('; ') } : {}) };
};
