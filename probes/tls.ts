/**
 * `tls` probe: one handshake per host with SNI, the whole served chain read, and — unlike
 * blackbox_exporter — expiry kept even when verification fails, with chain verification and
 * hostname match reported separately. One handshake suffices: with rejectUnauthorized:false Node
 * still verifies the chain against the CAs we pass and reports the result in `authorizationError`.
 * The host name is judged as browsers judge it (probes/trust.ts), not by Node's laxer rule.
 *
 * Every handshake has its own deadline (tls.handshakeTimeoutMs), so one hung host fails `timeout`
 * alone while the others still report expiry and verification; a host whose turn comes too close to
 * the probe's deadline is reported as not checked instead of losing every host's result.
 */
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { connect, type DetailedPeerCertificate, type TLSSocket } from 'node:tls';
import { handshakeTimeoutMs } from '../core/config.ts';
import type { TlsHostObservation } from '../core/observations.ts';
import type { Reason, Warning } from '../core/result.ts';
import { mapLimited } from './concurrency.ts';
import { classify } from './errors.ts';
import { probeResult } from './probe-result.ts';
import { defaultTlsHosts } from '../core/targets.ts';
import { trustContext } from '../core/trust-context.ts';
import { browserHostnameMismatch, subjectAltNames } from './trust.ts';
import type { ProbeContext, ProbeFn } from './types.ts';

const DAY_MS = 86_400_000;
/** Kept free before the probe's deadline, so the probe reports its hosts itself before the runner cuts it off. */
const REPORT_RESERVE_MS = 100;
/** A handshake is not started with less time than this left: it could not finish. */
const MIN_HANDSHAKE_MS = 50;

interface HostPort {
  host: string;
  port: number;
}

export function parseHostPort(target: string): HostPort {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(target);
  if (bracketed) return { host: bracketed[1]!, port: Number(bracketed[2] ?? 443) };
  const [host, port] = target.split(':');
  return { host: host!, port: Number(port ?? 443) };
}

interface Handshake {
  chain: X509Certificate[];
  authorized: boolean;
  authorizationError?: string;
  protocol: string | null;
  cipher: string;
}

/** Everything we need from the socket, read before it is closed. */
function readSocket(socket: TLSSocket): Handshake {
  const cipher = socket.getCipher();
  return {
    chain: servedChain(socket.getPeerCertificate(true)),
    authorized: socket.authorized,
    ...(socket.authorizationError ? { authorizationError: String(socket.authorizationError) } : {}),
    protocol: socket.getProtocol(),
    cipher: cipher.standardName ?? cipher.name,
  };
}

/** Connect, read the chain, close. Rejects after `deadlineMs`, on the probe's abort or on any socket error. */
function handshake(target: HostPort, servername: string | undefined, ctx: ProbeContext, deadlineMs: number): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    if (ctx.signal.aborted) return reject(ctx.signal.reason);
    const socket = connect({
      host: target.host,
      port: target.port,
      ...(servername ? { servername } : {}),
      rejectUnauthorized: false,
      // Hostname is judged separately below; keep `authorized` about the chain alone.
      checkServerIdentity: () => undefined,
      ...(ctx.caCerts ? { secureContext: trustContext(ctx.caCerts) } : {}),
    });
    // A late second error (after we settled) must not become an uncaught 'error' event.
    socket.on('error', () => undefined);
    const onAbort = () => socket.destroy(ctx.signal.reason instanceof Error ? ctx.signal.reason : new Error('aborted'));
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => socket.destroy(new DOMException(`TLS handshake timed out after ${deadlineMs} ms`, 'TimeoutError')), deadlineMs);
    const done = () => {
      clearTimeout(timer);
      ctx.signal.removeEventListener('abort', onAbort);
    };
    socket.once('secureConnect', () => {
      done();
      try {
        resolve(readSocket(socket));
      } catch (error) {
        reject(error);
      } finally {
        socket.end();
        socket.destroy();
      }
    });
    socket.once('error', (error) => {
      done();
      socket.destroy();
      reject(error);
    });
  });
}

/** Leaf first, following issuerCertificate until the chain ends or points at itself. */
function servedChain(peer: DetailedPeerCertificate): X509Certificate[] {
  const chain: X509Certificate[] = [];
  const seen = new Set<string>();
  let node: DetailedPeerCertificate | undefined = peer;
  while (node && node.raw && !seen.has(node.fingerprint256)) {
    seen.add(node.fingerprint256);
    chain.push(new X509Certificate(node.raw));
    node = node.issuerCertificate;
  }
  return chain;
}

function dn(text: string): string {
  return text.split('\n').filter(Boolean).join(',');
}

const TLS_VERSION_NAMES: Record<string, string> = { TLSv1: 'TLS 1.0', 'TLSv1.1': 'TLS 1.1', 'TLSv1.2': 'TLS 1.2', 'TLSv1.3': 'TLS 1.3' };

interface HostVerdict {
  observation: TlsHostObservation;
  reason?: Reason;
  message?: string;
}

interface HostLimits {
  warnDays: number;
  failDays: number;
  handshakeMs: number;
}

async function judgeHost(target: string, limits: HostLimits, ctx: ProbeContext): Promise<HostVerdict> {
  const { warnDays, failDays } = limits;
  const hostPort = parseHostPort(target);
  const servername = isIP(hostPort.host) ? undefined : hostPort.host;
  const named = servername ? { servername } : {};
  const timeLeft = (ctx.remainingMs?.() ?? Number.POSITIVE_INFINITY) - REPORT_RESERVE_MS;
  if (timeLeft < MIN_HANDSHAKE_MS) {
    return { observation: { target, ...named, status: 'fail', reason: 'timeout' }, reason: 'timeout', message: `${target}: not checked: the probe's deadline came before its turn` };
  }
  let result: Handshake;
  try {
    result = await handshake(hostPort, servername, ctx, Math.min(limits.handshakeMs, timeLeft));
  } catch (error) {
    const { reason, message } = classify(error, 'tls');
    return { observation: { target, ...named, status: 'fail', reason }, reason, message: `${target}: ${message}` };
  }
  const { chain } = result;
  const leaf = chain[0];
  if (!leaf) {
    return { observation: { target, status: 'fail', reason: 'tls_handshake' }, reason: 'tls_handshake', message: `${target}: no certificate served` };
  }
  const earliest = chain.reduce((min, cert) => Math.min(min, new Date(cert.validTo).getTime()), Number.POSITIVE_INFINITY);
  const daysLeft = Math.floor(((earliest - ctx.now().getTime()) / DAY_MS) * 10) / 10;
  const verifyError = result.authorizationError;
  const hostnameProblem = browserHostnameMismatch(leaf, servername ?? hostPort.host);
  const hostnameMatch = hostnameProblem === undefined;
  const observation: TlsHostObservation = {
    target,
    ...named,
    earliestExpiry: new Date(earliest).toISOString(),
    earliestExpirySeconds: Math.floor(earliest / 1000),
    daysLeft,
    verified: result.authorized,
    ...(verifyError ? { verifyError } : {}),
    hostnameMatch,
    tlsVersion: TLS_VERSION_NAMES[result.protocol ?? ''] ?? 'unknown',
    cipher: result.cipher,
    issuer: dn(leaf.issuer),
    subject: dn(leaf.subject),
    sans: subjectAltNames(leaf),
    status: 'ok',
  };
  const expiry = new Date(earliest).toISOString();
  const fail = (reason: Reason, message: string): HostVerdict => ({ observation: { ...observation, status: 'fail', reason }, reason, message: `${target}: ${message}` });
  if (daysLeft <= 0) return fail('tls_expiry', `certificate expired at ${expiry}`);
  if (!result.authorized) return fail('tls_verify', `chain does not verify (${verifyError ?? 'unknown'}); expires ${expiry}`);
  if (hostnameProblem) return fail('tls_hostname', hostnameProblem);
  if (daysLeft < failDays) return fail('tls_expiry', `certificate expires in ${daysLeft} days (${expiry}), fail threshold ${failDays} days`);
  if (daysLeft < warnDays) return { observation: { ...observation, status: 'warn', reason: 'tls_expiry_soon' } };
  return { observation };
}

/** Handshakes in flight at once: many hosts must not open as many sockets (and abort listeners) at once. */
const MAX_PARALLEL_HANDSHAKES = 8;

export const tlsProbe: ProbeFn = async (config, ctx) => {
  const hosts = config.tls.hosts ?? defaultTlsHosts(config);
  if (hosts.length === 0) {
    return probeResult('tls', { status: 'skipped', reason: 'not_configured', message: 'no https host to check (set SENTINEL_TLS_HOSTS or use https URLs)' });
  }
  const limits = { warnDays: config.tls.warnDays, failDays: config.tls.failDays, handshakeMs: handshakeTimeoutMs(config) };
  const verdicts = await mapLimited(hosts, MAX_PARALLEL_HANDSHAKES, (host) => judgeHost(host, limits, ctx));
  const observations = { hosts: verdicts.map((v) => v.observation) };
  const assertions = verdicts.map((v) => ({
    name: `${v.observation.target} certificate`,
    ok: v.observation.status !== 'fail',
    observed: v.observation.daysLeft === undefined ? (v.message ?? v.observation.reason) : `${v.observation.daysLeft} days left, verified ${v.observation.verified}, hostname ${v.observation.hostnameMatch}`,
    expected: `>= ${config.tls.failDays} days left, verified true, hostname true`,
  }));
  const failed = verdicts.find((v) => v.reason);
  const warnings: Warning[] = verdicts.some((v) => v.observation.status === 'warn') ? ['tls_expiry_soon'] : [];
  const base = { id: 'tls' as const, kind: 'probe' as const, startedAt: '', durationMs: 0, assertions, observations, ...(warnings.length ? { warnings } : {}) };
  if (failed) return { ...base, status: 'failed', reason: failed.reason!, message: failed.message! };
  const soon = verdicts.filter((v) => v.observation.status === 'warn').map((v) => `${v.observation.target} expires in ${v.observation.daysLeft} days`);
  return { ...base, status: 'passed', ...(soon.length ? { message: soon.join('; ') } : {}) };
};
