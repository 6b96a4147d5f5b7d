import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProbe } from './run-probe.ts';
import { testConfig } from './test-support/probe-config.ts';
import { freePort, startHttp, type Running } from './test-support/servers.ts';

type Mode = 'ok' | 'no-title' | 'ok-500' | 'ok-429' | 'ok-false' | 'home-502';
let mode: Mode = 'ok';
let app: Running;

function handler(req: IncomingMessage, res: ServerResponse) {
  if (req.url === '/') {
    if (mode === 'home-502') return void res.writeHead(502).end('Bad Gateway');
    const title = mode === 'no-title' ? '<title>404 page not found</title>' : '<title>GadgetBot Rental Service</title>';
    return void res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(`<!doctype html><html><head>${title}</head><body></body></html>`);
  }
  if (req.url === '/api/auth/ok') {
    if (mode === 'ok-500') return void res.writeHead(500, { 'content-type': 'application/json' }).end('{"message":"Internal"}');
    if (mode === 'ok-429') return void res.writeHead(429, { 'content-type': 'application/json', 'x-retry-after': '7' }).end('{"message":"Too many requests. Please try again later."}');
    return void res.writeHead(200, { 'content-type': 'application/json' }).end(mode === 'ok-false' ? '{"ok":false}' : '{"ok":true}');
  }
  res.writeHead(404).end();
}

beforeAll(async () => {
  app = await startHttp(handler);
});
afterAll(async () => {
  await app.close();
});

async function probe(m: Mode) {
  mode = m;
  return runProbe('app-health', testConfig({ appUrl: app.url, issuer: 'http://127.0.0.1:1' }));
}

describe('app-health probe', () => {
  it('passes with both endpoints and reports statuses and phase timings', async () => {
    const result = await probe('ok');
    expect(result.message).toBeUndefined();
    expect(result.status).toBe('passed');
    expect(result.target).toBe(app.url);
    expect(result.observations).toMatchObject({ httpStatusCode: 200, okStatusCode: 200 });
    const timings = result.observations?.timings as Record<string, number>;
    expect(Object.keys(timings).sort()).toEqual(['connectMs', 'homeTotalMs', 'homeTtfbMs', 'okTotalMs', 'okTtfbMs']);
    expect(timings.homeTotalMs).toBeGreaterThanOrEqual(timings.homeTtfbMs!);
  });

  it('fails bad_response when / is not the GadgetBot page', async () => {
    const result = await probe('no-title');
    expect(result).toMatchObject({ status: 'failed', reason: 'bad_response' });
    expect(result.message).toBe('GET / title: observed "text/html" expected "HTML with <title>GadgetBot Rental Service</title>"');
  });

  it('fails http_status when / answers 502', async () => {
    const result = await probe('home-502');
    expect(result).toMatchObject({ status: 'failed', reason: 'http_status', observations: { httpStatusCode: 502 } });
    expect(result.message).toBe('GET / status: observed 502 expected 200');
  });

  it('fails http_status when /api/auth/ok answers 500', async () => {
    const result = await probe('ok-500');
    expect(result).toMatchObject({ status: 'failed', reason: 'http_status', observations: { httpStatusCode: 200, okStatusCode: 500 } });
  });

  it('fails rate_limited when Better Auth answers /api/auth/ok with 429', async () => {
    const result = await probe('ok-429');
    expect(result).toMatchObject({ status: 'failed', reason: 'rate_limited', observations: { okStatusCode: 429 } });
    expect(result.message).toBe('GET /api/auth/ok status: observed 429 expected 200');
  });

  it('fails bad_response when /api/auth/ok is not {"ok":true}', async () => {
    const result = await probe('ok-false');
    expect(result).toMatchObject({ status: 'failed', reason: 'bad_response' });
  });

  it('fails connect_refused when the app is down', async () => {
    const port = await freePort();
    const result = await runProbe('app-health', testConfig({ appUrl: `http://127.0.0.1:${port}`, issuer: 'http://127.0.0.1:1' }));
    expect(result).toMatchObject({ status: 'failed', reason: 'connect_refused', observations: { httpStatusCode: 0 } });
  });
});
