/** probes/http.ts against real listeners: redirects, bounded bodies, deadlines, resets, connect timings. */
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createCertificateAuthority, issueLeafCertificate } from '../fixtures/stack/certs.ts';
import { classify } from './errors.ts';
import { readText, withProbeHttp } from './http.ts';
import type { ProbeContext } from './types.ts';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve).closeAllConnections())));
});

async function listen(server: Server, scheme = 'http'): Promise<string> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const context = (deadlineMs = 5_000): ProbeContext => ({ signal: AbortSignal.timeout(deadlineMs), now: () => new Date() });

describe('probe HTTP', () => {
  it('returns a redirect with its Location instead of following it, and sends the request body', async () => {
    let received = '';
    const url = await listen(
      createHttpServer((req, res) => {
        req.setEncoding('utf8');
        req.on('data', (chunk: string) => (received += chunk));
        req.on('end', () => res.writeHead(302, { location: '/elsewhere', 'set-cookie': ['a=1', 'b=2'] }).end('moved'));
      }),
    );
    const result = await withProbeHttp(context(), async (http) => {
      const response = await http.fetch(`${url}/start`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"x":1}' });
      return { status: response.status, location: response.headers.get('Location'), cookies: response.headers.get('set-cookie'), missing: response.headers.get('x-none'), body: await readText(response) };
    });
    expect(result).toEqual({ status: 302, location: '/elsewhere', cookies: 'a=1, b=2', missing: null, body: 'moved' });
    expect(received).toBe('{"x":1}');
  });

  it('reads at most the limit of a body that never ends', async () => {
    const url = await listen(
      createHttpServer((_req, res) => {
        res.writeHead(200);
        const timer = setInterval(() => res.write('x'.repeat(1024)), 5);
        res.on('close', () => clearInterval(timer));
      }),
    );
    const text = await withProbeHttp(context(), async (http) => readText(await http.fetch(url), 4 * 1024));
    expect(text).toBe('x'.repeat(4 * 1024));
  });

  it('ends a response that stalls at the deadline with the deadline as the error', async () => {
    const url = await listen(createHttpServer((_req, res) => res.writeHead(200).write('partial')));
    const error = await withProbeHttp(context(300), async (http) => readText(await http.fetch(url))).catch((e: unknown) => e);
    expect((error as Error).name).toBe('TimeoutError');
    expect(classify(error).reason).toBe('timeout');
  });

  it('reports a connection reset as connection_reset and a closed port as connect_refused', async () => {
    const url = await listen(createHttpServer((req) => req.socket.destroy()));
    const reset = await withProbeHttp(context(), (http) => http.fetch(url)).catch((e: unknown) => e);
    expect(classify(reset).reason).toBe('connection_reset');
    const closed = await listen(createHttpServer());
    await new Promise((resolve) => servers.pop()!.close(resolve));
    const refused = await withProbeHttp(context(), (http) => http.fetch(closed)).catch((e: unknown) => e);
    expect(classify(refused).reason).toBe('connect_refused');
  });

  it('times each new TLS connection once and reuses it, without verifying the certificate', async () => {
    const ca = await createCertificateAuthority('Probe HTTP CA');
    const leaf = await issueLeafCertificate(ca, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
    const url = await listen(createHttpsServer({ key: leaf.keyPem, cert: leaf.certPem }, (_req, res) => res.end('ok')), 'https');
    const { timings, bodies } = await withProbeHttp(context(), async (http) => {
      const bodies = [await readText(await http.fetch(url)), await readText(await http.fetch(url))];
      return { timings: [...http.connectTimings], bodies };
    });
    expect(bodies).toEqual(['ok', 'ok']);
    expect(timings).toHaveLength(1);
    expect(timings[0]).toBeGreaterThanOrEqual(0);
  });
});
