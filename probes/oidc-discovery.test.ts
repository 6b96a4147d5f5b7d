import { generateKeyPairSync } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProbe } from './run-probe.ts';
import { testConfig } from './test-support/probe-config.ts';
import { freePort, startHttp, type Running } from './test-support/servers.ts';

let server: Running;
const rsaJwk = { ...generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' }), kid: 'k1', use: 'sig', alg: 'RS256' };
const ecJwk = { ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }), kid: 'k2', use: 'sig' };

type Variant = 'ok' | 'issuer-mismatch' | 'no-s256' | 'empty-jwks' | 'unusable-jwks' | 'not-json' | 'slow' | 'status-404' | 'endpoint' | 'scopes';

function discoveryDoc(issuer: string, variant: Variant): Record<string, unknown> {
  return {
    issuer: variant === 'issuer-mismatch' ? `${issuer}/` : issuer,
    authorization_endpoint: `${issuer}/oauth/v2/authorize`,
    token_endpoint: `${issuer}/oauth/v2/token`,
    introspection_endpoint: `${issuer}/oauth/v2/introspect`,
    userinfo_endpoint: variant === 'endpoint' ? `${issuer}/userinfo` : `${issuer}/oidc/v1/userinfo`,
    revocation_endpoint: `${issuer}/oauth/v2/revoke`,
    end_session_endpoint: `${issuer}/oidc/v1/end_session`,
    jwks_uri: `${issuer}/oauth/v2/keys`,
    scopes_supported: variant === 'scopes' ? ['openid', 'profile', 'email'] : ['openid', 'profile', 'email', 'phone', 'address', 'offline_access'],
    response_types_supported: ['code', 'id_token', 'id_token token'],
    id_token_signing_alg_values_supported: ['RS256'],
    code_challenge_methods_supported: variant === 'no-s256' ? ['plain'] : ['S256'],
  };
}

function handler(req: IncomingMessage, res: ServerResponse) {
  const url = new URL(req.url ?? '/', server.url);
  const [, variant, ...rest] = url.pathname.split('/') as [string, Variant, ...string[]];
  const path = `/${rest.join('/')}`;
  const issuer = `${server.url}/${variant}`;
  if (variant === 'slow') return; // never answers: the deadline must end it
  if (path === '/.well-known/openid-configuration') {
    if (variant === 'status-404') return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"code":5,"message":"Not Found"}');
    if (variant === 'not-json') return void res.writeHead(200, { 'content-type': 'text/html' }).end('<html>Gateway Timeout</html>');
    return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(discoveryDoc(issuer, variant)));
  }
  if (path === '/oauth/v2/keys') {
    const keys = variant === 'empty-jwks' ? [] : variant === 'unusable-jwks' ? [ecJwk] : [rsaJwk];
    return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys }));
  }
  res.writeHead(404).end();
}

const configFor = (variant: Variant) => testConfig({ appUrl: 'http://127.0.0.1:1', issuer: `${server.url}/${variant}` });

beforeAll(async () => {
  server = await startHttp(handler);
});
afterAll(async () => {
  await server.close();
});

describe('oidc-discovery probe', () => {
  it('passes a Zitadel-shaped discovery document with a usable RS256 key', async () => {
    const result = await runProbe('oidc-discovery', configFor('ok'));
    expect(result.message).toBeUndefined();
    expect(result.status).toBe('passed');
    expect(result.observations).toEqual({ httpStatusCode: 200, issuer: `${server.url}/ok`, algs: ['RS256'], jwksKeys: 1, jwksUsableKeys: 1 });
    expect(result.assertions?.every((a) => a.ok)).toBe(true);
    expect(result.assertions?.map((a) => a.name)).toEqual([
      'issuer', 'authorization_endpoint', 'token_endpoint', 'userinfo_endpoint', 'jwks_uri', 'end_session_endpoint',
      'code_challenge_methods_supported', 'scopes_supported', 'jwks keys', 'jwks usable keys',
    ]);
  });

  it('fails issuer_mismatch on a trailing slash, showing both values', async () => {
    const result = await runProbe('oidc-discovery', configFor('issuer-mismatch'));
    expect(result.status).toBe('failed');
    expect(result.reason).toBe('issuer_mismatch');
    expect(result.message).toBe(`issuer: observed "${server.url}/issuer-mismatch/" expected "${server.url}/issuer-mismatch"`);
  });

  it('fails endpoint_mismatch when an endpoint is not the Zitadel path', async () => {
    const result = await runProbe('oidc-discovery', configFor('endpoint'));
    expect(result).toMatchObject({ status: 'failed', reason: 'endpoint_mismatch' });
    expect(result.message).toMatch(/^userinfo_endpoint: observed/);
  });

  it('fails pkce_unsupported without S256', async () => {
    const result = await runProbe('oidc-discovery', configFor('no-s256'));
    expect(result).toMatchObject({ status: 'failed', reason: 'pkce_unsupported' });
  });

  it('fails scope_unsupported when offline_access is not offered', async () => {
    const result = await runProbe('oidc-discovery', configFor('scopes'));
    expect(result).toMatchObject({ status: 'failed', reason: 'scope_unsupported' });
  });

  it('fails jwks_empty on an empty key set', async () => {
    const result = await runProbe('oidc-discovery', configFor('empty-jwks'));
    expect(result).toMatchObject({ status: 'failed', reason: 'jwks_empty' });
    expect(result.observations?.jwksKeys).toBe(0);
  });

  it('fails jwks_unusable when no key fits the advertised algorithms', async () => {
    const result = await runProbe('oidc-discovery', configFor('unusable-jwks'));
    expect(result).toMatchObject({ status: 'failed', reason: 'jwks_unusable' });
    expect(result.observations).toMatchObject({ jwksKeys: 1, jwksUsableKeys: 0 });
  });

  it('fails bad_response when discovery is not JSON', async () => {
    const result = await runProbe('oidc-discovery', configFor('not-json'));
    expect(result).toMatchObject({ status: 'failed', reason: 'bad_response' });
    expect(result.observations?.httpStatusCode).toBe(200);
  });

  it('fails http_status on 404', async () => {
    const result = await runProbe('oidc-discovery', configFor('status-404'));
    expect(result).toMatchObject({ status: 'failed', reason: 'http_status' });
    expect(result.observations?.httpStatusCode).toBe(404);
  });

  it('fails timeout within the deadline when the server never answers', async () => {
    const started = Date.now();
    const result = await runProbe('oidc-discovery', configFor('slow'), { timeoutMs: 500 });
    const elapsed = Date.now() - started;
    expect(result).toMatchObject({ status: 'failed', reason: 'timeout' });
    expect(elapsed).toBeGreaterThanOrEqual(490);
    expect(elapsed).toBeLessThan(500 + 1_500);
  });

  it('fails connect_refused when nothing listens', async () => {
    const port = await freePort();
    const result = await runProbe('oidc-discovery', testConfig({ appUrl: `http://127.0.0.1:${port}`, issuer: `http://127.0.0.1:${port}` }));
    expect(result).toMatchObject({ status: 'failed', reason: 'connect_refused' });
  });
});
