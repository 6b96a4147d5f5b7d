import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TlsHostObservation } from '../core/observations.ts';
import {
  createCertificateAuthority,
  DAY_MS,
  issueLeafCertificate,
  type CertificateAuthority,
} from '../fixtures/stack/certs.ts';
import { runProbe } from './run-probe.ts';
import { testConfig } from './test-support/probe-config.ts';
import { freePort, startTls, type Running } from './test-support/servers.ts';

let ca: CertificateAuthority;
let caPath: string;
let dir: string;
const servers: Running[] = [];

/** The stack's CA names itself `CN=<name>, O=<this>`; the probe joins DN parts with a comma. */
const CA_ORGANIZATION = 'O=gadgetbot-sentinel reference stack';

/** Whole seconds: X.509 validity has no milliseconds, and the cases compare exact timestamps. */
function wholeSeconds(ms: number): Date {
  return new Date(Math.floor(ms / 1000) * 1000);
}

interface ServeOptions {
  daysLeft: number;
  dnsNames?: string[];
  ipAddresses?: string[];
  commonNameOnly?: boolean;
}

/** A leaf expiring `daysLeft` from now, valid for at least the 90 days before that (so an expired one is well-formed). */
async function serve({ daysLeft, ...names }: ServeOptions, issuer: CertificateAuthority = ca) {
  const now = Date.now();
  const notAfter = wholeSeconds(now + daysLeft * DAY_MS);
  const notBefore = wholeSeconds(Math.min(now - DAY_MS, notAfter.getTime() - 90 * DAY_MS));
  const leaf = await issueLeafCertificate(issuer, { ...names, notBefore, notAfter });
  const server = await startTls(leaf.chainPem, leaf.keyPem);
  servers.push(server);
  return { server, leaf };
}

function config(hosts: string[], handshakeTimeoutMs?: number) {
  return testConfig({ appUrl: 'https://app.invalid', issuer: 'https://idp.invalid', tls: { hosts, caCertPath: caPath, ...(handshakeTimeoutMs ? { handshakeTimeoutMs } : {}) } });
}

/** A listener that accepts TCP and never answers the TLS ClientHello. */
async function silentListener(): Promise<{ target: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const close = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
  servers.push({ port: 0, url: '', close });
  return { target: `127.0.0.1:${(server.address() as AddressInfo).port}`, close };
}

function hostsOf(result: { observations?: Record<string, unknown> }): TlsHostObservation[] {
  return result.observations?.hosts as TlsHostObservation[];
}

beforeAll(async () => {
  ca = await createCertificateAuthority('Sentinel Test CA');
  dir = mkdtempSync(join(tmpdir(), 'sentinel-tls-'));
  caPath = join(dir, 'ca.pem');
  writeFileSync(caPath, ca.certPem);
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  rmSync(dir, { recursive: true, force: true });
});

describe('tls probe', () => {
  it('passes a valid 90-day certificate trusted through the configured CA, with exact expiry and details', async () => {
    const { server, leaf } = await serve({ daysLeft: 90 });
    const result = await runProbe('tls', config([server.url]));
    expect(result.message).toBeUndefined();
    expect(result.status).toBe('passed');
    expect(result.reason).toBeUndefined();
    expect(result.warnings).toBeUndefined();
    const [host] = hostsOf(result);
    expect(host).toMatchObject({
      target: server.url,
      status: 'ok',
      verified: true,
      hostnameMatch: true,
      earliestExpirySeconds: leaf.notAfter.getTime() / 1000,
      earliestExpiry: leaf.notAfter.toISOString(),
      tlsVersion: 'TLS 1.3',
      cipher: 'TLS_AES_256_GCM_SHA384',
      issuer: `CN=Sentinel Test CA,${CA_ORGANIZATION}`,
      subject: 'CN=localhost',
      sans: ['DNS:localhost', 'IP Address:127.0.0.1'],
    });
    expect(host?.servername).toBeUndefined(); // an IP gets no SNI
    expect(host?.daysLeft).toBeGreaterThanOrEqual(89.9);
    expect(result.target).toBe(server.url);
  });

  it('sends SNI for a host name', async () => {
    const { server } = await serve({ daysLeft: 90 });
    const result = await runProbe('tls', config([`localhost:${server.port}`]));
    expect(result.status).toBe('passed');
    await expect.poll(() => server.servernames).toEqual(['localhost']);
    expect(hostsOf(result)[0]?.servername).toBe('localhost');
  });

  it('warns but passes at 15 days (inside warn 21, outside fail 7)', async () => {
    const { server } = await serve({ daysLeft: 15 });
    const result = await runProbe('tls', config([server.url]));
    expect(result.status).toBe('passed');
    expect(result.reason).toBeUndefined();
    expect(result.warnings).toEqual(['tls_expiry_soon']);
    expect(hostsOf(result)[0]).toMatchObject({ status: 'warn', reason: 'tls_expiry_soon', verified: true });
  });

  it('judges days left by the injected clock', async () => {
    const { server } = await serve({ daysLeft: 90 });
    const eightyDaysOn = () => new Date(Date.now() + 80 * DAY_MS);
    const result = await runProbe('tls', config([server.url]), { now: eightyDaysOn });
    expect(result).toMatchObject({ status: 'passed', warnings: ['tls_expiry_soon'] });
    expect(hostsOf(result)[0]?.daysLeft).toBeGreaterThanOrEqual(9.9);
    expect(hostsOf(result)[0]?.daysLeft).toBeLessThan(10.1);
  });

  it('fails tls_expiry at 3 days', async () => {
    const { server } = await serve({ daysLeft: 3 });
    const result = await runProbe('tls', config([server.url]));
    expect(result.status).toBe('failed');
    expect(result.reason).toBe('tls_expiry');
    expect(result.message).toMatch(/expires in 2\.9 days/);
  });

  it('fails tls_expiry on an expired certificate and still reports its expiry', async () => {
    const { server, leaf } = await serve({ daysLeft: -2 });
    const result = await runProbe('tls', config([server.url]));
    expect(result.status).toBe('failed');
    expect(result.reason).toBe('tls_expiry');
    expect(hostsOf(result)[0]).toMatchObject({ verified: false, verifyError: 'CERT_HAS_EXPIRED', earliestExpirySeconds: leaf.notAfter.getTime() / 1000, status: 'fail' });
  });

  it('fails tls_hostname when the certificate does not cover the host', async () => {
    const { server } = await serve({ daysLeft: 90, dnsNames: ['wrong-host.example'], ipAddresses: [] });
    const result = await runProbe('tls', config([server.url]));
    expect(result.status).toBe('failed');
    expect(result.reason).toBe('tls_hostname');
    expect(hostsOf(result)[0]).toMatchObject({ verified: true, hostnameMatch: false });
  });

  it('fails tls_hostname, as browsers do, for a certificate that names the host only in its CN', async () => {
    const { server } = await serve({ daysLeft: 90, commonNameOnly: true });
    const result = await runProbe('tls', config([`localhost:${server.port}`]));
    expect(result.status).toBe('failed');
    expect(result.reason).toBe('tls_hostname');
    expect(result.message).toBe(`localhost:${server.port}: certificate names localhost only in its subject CN and has no subjectAltName; browsers ignore the CN`);
    expect(hostsOf(result)[0]).toMatchObject({ verified: true, hostnameMatch: false, subject: 'CN=localhost', sans: [] });
  });

  it('fails tls_verify for an untrusted issuer and keeps the expiry (blackbox loses it)', async () => {
    const rogue = await createCertificateAuthority('Rogue CA');
    const { server, leaf } = await serve({ daysLeft: 40 }, rogue);
    const result = await runProbe('tls', config([server.url]));
    expect(result.status).toBe('failed');
    expect(result.reason).toBe('tls_verify');
    expect(hostsOf(result)[0]).toMatchObject({
      verified: false,
      verifyError: 'SELF_SIGNED_CERT_IN_CHAIN', // the server sends the rogue root along
      hostnameMatch: true,
      earliestExpirySeconds: leaf.notAfter.getTime() / 1000,
      issuer: `CN=Rogue CA,${CA_ORGANIZATION}`,
    });
  });

  it('fails tls_verify without the custom CA (only the system roots)', async () => {
    const { server } = await serve({ daysLeft: 90 });
    const cfg = testConfig({ appUrl: 'https://app.invalid', issuer: 'https://idp.invalid', tls: { hosts: [server.url] } });
    const result = await runProbe('tls', cfg);
    expect(result.status).toBe('failed');
    expect(result.reason).toBe('tls_verify');
  });

  it('reports every host; the check takes the worst status and the first failing host', async () => {
    const good = await serve({ daysLeft: 90 });
    const soon = await serve({ daysLeft: 15 });
    const closed = await freePort();
    const result = await runProbe('tls', config([good.server.url, soon.server.url, `127.0.0.1:${closed}`]));
    expect(result.status).toBe('failed');
    expect(result.reason).toBe('connect_refused');
    expect(result.warnings).toEqual(['tls_expiry_soon']);
    expect(hostsOf(result).map((h) => h.status)).toEqual(['ok', 'warn', 'fail']);
    expect(result.message).toContain(`127.0.0.1:${closed}`);
  });

  it('checks many hosts a few at a time, reporting each in order, without piling listeners on the deadline', async () => {
    const many = await Promise.all(Array.from({ length: 24 }, () => serve({ daysLeft: 90 })));
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on('warning', onWarning);
    try {
      const result = await runProbe('tls', config(many.map((m) => m.server.url)));
      expect(result.status).toBe('passed');
      expect(hostsOf(result).map((h) => h.target)).toEqual(many.map((m) => m.server.url));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).not.toContain('MaxListenersExceededWarning');
  });

  it('a host that never completes its handshake fails timeout at the handshake deadline; the others still report', async () => {
    const hung = await silentListener();
    const { server, leaf } = await serve({ daysLeft: 90 });
    const soon = await serve({ daysLeft: 15 });
    const result = await runProbe('tls', config([hung.target, server.url, soon.server.url], 300), { timeoutMs: 5_000 });
    expect(result.status).toBe('failed');
    expect(result.reason).toBe('timeout');
    expect(result.message).toBe(`${hung.target}: TLS handshake timed out after 300 ms`);
    expect(result.warnings).toEqual(['tls_expiry_soon']);
    const [hungHost, healthy, expiring] = hostsOf(result);
    expect(hungHost).toEqual({ target: hung.target, status: 'fail', reason: 'timeout' });
    expect(healthy).toMatchObject({ status: 'ok', verified: true, earliestExpirySeconds: leaf.notAfter.getTime() / 1000 });
    expect(expiring).toMatchObject({ status: 'warn', reason: 'tls_expiry_soon' });
  });

  it('hosts whose turn comes after the probe deadline are reported as not checked, the others as they ended', async () => {
    // Eight hung hosts fill every handshake slot until the probe's deadline; the healthy ninth never gets a turn.
    const hung = await Promise.all(Array.from({ length: 8 }, () => silentListener()));
    const { server } = await serve({ daysLeft: 90 });
    const result = await runProbe('tls', config([...hung.map((h) => h.target), server.url]), { timeoutMs: 800 });
    expect(result.status).toBe('failed');
    expect(result.reason).toBe('timeout');
    expect(result.message).toMatch(new RegExp(`^${hung[0]!.target}: TLS handshake timed out after \\d+ ms$`));
    const hosts = hostsOf(result);
    expect(hosts.map((h) => [h.target, h.status, h.reason])).toEqual([...hung.map((h) => [h.target, 'fail', 'timeout']), [server.url, 'fail', 'timeout']]);
    const last = result.assertions?.at(-1);
    expect(last).toMatchObject({ ok: false, observed: `${server.url}: not checked: the probe's deadline came before its turn` });
  });

  it('defaults to the app, IdP and Coolify https hosts', async () => {
    const cfg = testConfig({ appUrl: 'http://127.0.0.1:1', issuer: 'http://127.0.0.1:2' });
    const result = await runProbe('tls', cfg);
    expect(result).toMatchObject({ status: 'skipped', reason: 'not_configured' });
  });
});
