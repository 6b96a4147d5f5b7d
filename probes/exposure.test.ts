import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../core/config.ts';
import type { ExposedPortObservation, ExposureHostObservation } from '../core/observations.ts';
import type { CheckResult } from '../core/result.ts';
import { createCertificateAuthority, issueLeafCertificate, type LeafCertificate } from '../fixtures/stack/certs.ts';
import { startPostgres } from '../fixtures/stack/postgres.ts';
import { SSL_REQUEST, hstsMaxAge } from './exposure.ts';
import { runProbe } from './run-probe.ts';
import { testConfig } from './test-support/probe-config.ts';
import { freePort, startHttp, type Running } from './test-support/servers.ts';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

interface Listener {
  port: number;
  /** every connection it accepted, with the bytes each sent */
  connections: Buffer[];
}

/** When each connection was accepted, across several listeners (performance.now()). */
type Accepts = number[];

/** A TCP listener on 127.0.0.1 that accepts and records; `answer` decides what it writes back to what it reads. */
async function listener(answer?: (received: Buffer, socket: Socket) => void, accepts: Accepts = []): Promise<Listener> {
  const state: Listener = { port: 0, connections: [] };
  const sockets = new Set<Socket>();
  const server: NetServer = createNetServer((socket) => {
    sockets.add(socket);
    accepts.push(performance.now());
    const index = state.connections.push(Buffer.alloc(0)) - 1;
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    socket.on('data', (chunk: Buffer) => {
      state.connections[index] = Buffer.concat([state.connections[index]!, chunk]);
      answer?.(state.connections[index]!, socket);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = (server.address() as AddressInfo).port;
  closers.push(
    () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  return state;
}

function http(handler: Parameters<typeof startHttp>[0]): Promise<Running> {
  return startHttp(handler).then((server) => {
    closers.push(() => server.close());
    return server;
  });
}

function config(exposure: NonNullable<ConfigInput['exposure']>, extra: Partial<ConfigInput> = {}) {
  return testConfig({ appUrl: 'https://app.example.test', issuer: 'https://auth.example.test', ...extra, exposure });
}

const hostsOf = (result: CheckResult) => result.observations?.hosts as ExposureHostObservation[];
const exposedOf = (result: CheckResult) => result.observations?.exposed as ExposedPortObservation[];

describe('exposure probe: closed ports', () => {
  it('passes when every listed port refuses, and says so per host', async () => {
    const ports = [await freePort(), await freePort(), await freePort()];
    const result = await runProbe('exposure', config({ hosts: ['127.0.0.1'], closedPorts: ports }));
    expect(result.status).toBe('passed');
    expect(result.target).toBe('127.0.0.1');
    expect(hostsOf(result)).toEqual([{ host: '127.0.0.1', addresses: ['127.0.0.1'], exposedPorts: [], complete: true }]);
    expect(result.assertions).toEqual([{ name: '127.0.0.1 closed ports', ok: true, observed: 'all 3 closed on 127.0.0.1', expected: `${ports.join(', ')} refuse or stay silent for 2000 ms` }]);
  });

  it('fails port_exposed with the host and port when one accepts; a server that is not PostgreSQL is named as such', async () => {
    const open = await listener();
    const closed = await freePort();
    const result = await runProbe('exposure', config({ hosts: ['127.0.0.1'], closedPorts: [closed, open.port] }));
    expect(result.status).toBe('failed');
    expect(result.reason).toBe('port_exposed');
    expect(result.message).toBe(`127.0.0.1:${open.port} accepts connections at 127.0.0.1; it does not answer as PostgreSQL`);
    expect(exposedOf(result)).toEqual([{ host: '127.0.0.1', address: '127.0.0.1', port: open.port, postgresql: 'no' }]);
    expect(hostsOf(result)[0]).toMatchObject({ exposedPorts: [open.port], complete: true, reason: 'port_exposed' });
  });

  it('sends exactly the 8-byte SSLRequest to an accepting port, nothing more, and reads a one-byte PostgreSQL answer', async () => {
    const fakePostgres = await listener((received, socket) => {
      if (received.length >= 8) socket.write('S');
    });
    const result = await runProbe('exposure', config({ hosts: ['127.0.0.1'], closedPorts: [fakePostgres.port] }));
    expect(result.reason).toBe('port_exposed');
    expect(fakePostgres.connections).toEqual([SSL_REQUEST]);
    expect([...SSL_REQUEST]).toEqual([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);
    expect(SSL_REQUEST.readInt32BE(4)).toBe(80877103);
    expect(exposedOf(result)[0]!.postgresql).toBe('S');
    expect(result.message).toContain('a PostgreSQL server answers it (SSLRequest answered "S")');
  });

  it('names a real PostgreSQL server on an exposed port by its answer to the SSLRequest', async () => {
    const postgres = await startPostgres({ password: 'e0905e' });
    closers.push(() => postgres.destroy());
    const port = Number(new URL(postgres.databaseUrl).port);
    const result = await runProbe('exposure', config({ hosts: ['127.0.0.1'], closedPorts: [port] }));
    expect(result.reason).toBe('port_exposed');
    expect(['S', 'N']).toContain(exposedOf(result)[0]!.postgresql);
    expect(result.message).toMatch(new RegExp(`^127\\.0\\.0\\.1:${port} accepts connections at 127\\.0\\.0\\.1; a PostgreSQL server answers it`));
  }, 60_000);

  it('checks every address a host name resolves to (localhost → 127.0.0.1)', async () => {
    const result = await runProbe('exposure', config({ hosts: ['localhost'], closedPorts: [await freePort()] }));
    expect(result.status).toBe('passed');
    expect(hostsOf(result)[0]!.addresses).toContain('127.0.0.1');
  });

  it('fails dns when a host does not resolve: a host it could not look at is never "closed"', async () => {
    const result = await runProbe('exposure', config({ hosts: ['no-such-host.invalid'], closedPorts: [5432] }));
    expect(result.status).toBe('failed');
    expect(result.reason).toBe('dns');
    expect(hostsOf(result)).toEqual([{ host: 'no-such-host.invalid', addresses: [], exposedPorts: [], complete: false, reason: 'dns' }]);
  });

  it('an exposed port outranks a host it could not look at', async () => {
    const open = await listener();
    const result = await runProbe('exposure', config({ hosts: ['no-such-host.invalid', '127.0.0.1'], closedPorts: [open.port] }));
    expect(result.reason).toBe('port_exposed');
    expect(result.message).toMatch(/\(and 1 more finding\)$/);
  });

  it('keeps at most 16 connections open at once, and still reports every accepting port', async () => {
    const accepts: Accepts = [];
    // Each silent listener holds its connection until the probe stops waiting for an answer to the
    // SSLRequest (half a second): a 17th connection can only start once one of the first 16 ended.
    const many = await Promise.all(Array.from({ length: 20 }, () => listener(undefined, accepts)));
    const result = await runProbe('exposure', config({ hosts: ['127.0.0.1'], closedPorts: many.map((l) => l.port) }));
    expect(exposedOf(result).map((e) => e.port).sort()).toEqual(many.map((l) => l.port).sort());
    expect(many.every((l) => l.connections.length === 1)).toBe(true);
    const first = Math.min(...accepts);
    const firstWave = accepts.filter((at) => at - first < 400).length;
    expect(firstWave).toBeGreaterThan(1);
    expect(firstWave).toBeLessThanOrEqual(16);
  });

  it('contacts only the listed ports: a listener on another port of the same host sees no connection', async () => {
    const bystander = await listener();
    const result = await runProbe('exposure', config({ hosts: ['127.0.0.1'], closedPorts: [await freePort()] }));
    expect(result.status).toBe('passed');
    expect(bystander.connections).toEqual([]);
  });
});

describe('exposure probe: https everywhere', () => {
  it('passes a plain-http URL that redirects to https on the same host, and never follows the redirect', async () => {
    const target = await listener();
    const redirecting = await http((_req, res) => {
      res.writeHead(302, { location: `https://127.0.0.1:${target.port}/` });
      res.end();
    });
    const result = await runProbe('exposure', config({ hosts: ['127.0.0.1'], closedPorts: [await freePort()], httpUrls: [`${redirecting.url}/`] }));
    expect(result.status).toBe('passed');
    expect(result.observations?.redirects).toEqual([{ url: `${redirecting.url}/`, status: 302, location: `https://127.0.0.1:${target.port}/` }]);
    expect(target.connections).toEqual([]);
  });

  it.each([
    ['200 without a redirect', 200, undefined, 'answered 200 without a redirect'],
    ['a redirect to http', 301, 'http://127.0.0.1/', 'redirects to http://127.0.0.1/, not to https'],
    ['a redirect to another host', 308, 'https://elsewhere.example.test/', 'redirects to another host (https://elsewhere.example.test/)'],
  ])('fails http_not_redirected on %s', async (_what, status, location, problem) => {
    const server = await http((_req, res) => {
      res.writeHead(status, location ? { location } : {});
      res.end('ok');
    });
    const result = await runProbe('exposure', config({ hosts: ['127.0.0.1'], closedPorts: [await freePort()], httpUrls: [`${server.url}/`] }));
    expect(result.status).toBe('failed');
    expect(result.reason).toBe('http_not_redirected');
    expect(result.message).toBe(`${server.url}/ ${problem}; expected a redirect to https://127.0.0.1/…`);
  });

  it('reports the URLs in the configured order, not the order they answered', async () => {
    const redirectTo = (delayMs: number) =>
      http((_req, res) => {
        setTimeout(() => {
          res.writeHead(302, { location: 'https://127.0.0.1/' });
          res.end();
        }, delayMs);
      });
    const [slow, fast] = [await redirectTo(300), await redirectTo(0)];
    const result = await runProbe('exposure', config({ hosts: ['127.0.0.1'], closedPorts: [await freePort()], httpUrls: [`${slow.url}/`, `${fast.url}/`] }));
    expect((result.observations?.redirects as Array<{ url: string }>).map((r) => r.url)).toEqual([`${slow.url}/`, `${fast.url}/`]);
  });

  it('a plain-http URL that refuses fails with the transport reason (it could not be judged)', async () => {
    const result = await runProbe('exposure', config({ hosts: ['127.0.0.1'], closedPorts: [await freePort()], httpUrls: [`http://127.0.0.1:${await freePort()}/`] }));
    expect(result.reason).toBe('connect_refused');
  });
});

describe('exposure probe: Strict-Transport-Security', () => {
  let leaf: LeafCertificate;
  beforeAll(async () => {
    const ca = await createCertificateAuthority('exposure test CA');
    leaf = await issueLeafCertificate(ca, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  });

  async function site(sts: string | undefined): Promise<string> {
    const server: HttpsServer = createHttpsServer({ key: leaf.keyPem, cert: leaf.chainPem }, (_req, res) => {
      res.writeHead(200, sts ? { 'strict-transport-security': sts } : {});
      res.end('site');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(
      () =>
        new Promise((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    );
    return `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  /** The app URL is the site; its plain-http URL is a redirect server, so only HSTS varies. */
  async function run(sts: string | undefined, exposure: Partial<NonNullable<ConfigInput['exposure']>> = {}) {
    const appUrl = await site(sts);
    const redirect = await http((_req, res) => {
      res.writeHead(302, { location: `${appUrl}/` });
      res.end();
    });
    return runProbe('exposure', config({ hosts: ['127.0.0.1'], closedPorts: [await freePort()], httpUrls: [`${redirect.url}/`], ...exposure }, { appUrl }));
  }

  it('passes with a max-age of at least the minimum', async () => {
    const result = await run('max-age=31536000; includeSubDomains');
    expect(result.status).toBe('passed');
    expect(result.warnings).toBeUndefined();
    expect((result.observations?.hsts as Array<{ maxAgeSeconds: number }>)[0]!.maxAgeSeconds).toBe(31536000);
  });

  it('warns hsts_missing (and passes) without the header, by default', async () => {
    const result = await run(undefined);
    expect(result.status).toBe('passed');
    expect(result.warnings).toEqual(['hsts_missing']);
    expect(result.message).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/ sends no Strict-Transport-Security$/);
  });

  it('warns on a max-age below the minimum', async () => {
    const result = await run('max-age=300');
    expect(result.warnings).toEqual(['hsts_missing']);
    expect(result.message).toMatch(/with max-age 300, below 31536000$/);
  });

  it('fails hsts_missing when configured to', async () => {
    const result = await run(undefined, { hstsRequired: true });
    expect(result.status).toBe('failed');
    expect(result.reason).toBe('hsts_missing');
  });

  it('judges only sites on the exposure hosts (a hosted IdP elsewhere is never contacted)', async () => {
    const result = await runProbe('exposure', config({ hosts: ['127.0.0.1'], closedPorts: [await freePort()] }));
    expect(result.observations?.hsts).toEqual([]);
    expect(result.observations?.redirects).toEqual([]);
  });

  it.each([
    ['max-age=31536000', 31536000],
    ['MAX-AGE = "600" ; includeSubDomains', 600],
    ['includeSubDomains; max-age=10; preload', 10],
    ['max-age=5, max-age=99', 5],
    ['includeSubDomains', undefined],
    ['max-age=abc', undefined],
  ])('reads the max-age of %j', (header, expected) => {
    expect(hstsMaxAge(header)).toBe(expected);
  });
});
