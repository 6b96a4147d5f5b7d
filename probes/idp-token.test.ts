import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type Configuration } from 'oidc-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startIdp, type RunningIdp, type TestMachineUser } from '../fixtures/stack/idp/test-support.ts';
import type { ConfigInput } from '../core/config.ts';
import { runProbe } from './run-probe.ts';
import { testConfig } from './test-support/probe-config.ts';

/**
 * idp-token against the stand-in Zitadel (a child process, faults included) and against a second,
 * independent OIDC provider: oidc-provider on its own routes with an ES256 key, `typ: at+jwt` and a
 * string audience, so the probe is not shaped to one provider.
 */
const machine: TestMachineUser = { userName: 'sentinel-token-probe', secret: `Sec-${randomBytes(24).toString('base64url')}`, userId: '300000000000000099' };
const user = { loginName: 'demo', name: 'Demo User', sub: '300000000000000001', email: 'demo@gadgetbot.localhost', password: `Pw-${randomBytes(9).toString('base64url')}` };

const FAULTS = ['idp-jwks-stale', 'idp-token-issuer-mismatch', 'idp-jwks-empty', 'idp-issuer-mismatch'] as const;
const idps = new Map<string, RunningIdp>();

function standInConfig(idp: RunningIdp, idpToken: Partial<NonNullable<ConfigInput['idpToken']>> = {}) {
  return testConfig({ appUrl: 'http://127.0.0.1:1', issuer: idp.issuer, idpToken: { clientId: machine.userName, clientSecret: machine.secret, ...idpToken } });
}

const standIn = (name: string): RunningIdp => idps.get(name) ?? (() => { throw new Error(`no IdP ${name}`); })();

beforeAll(async () => {
  // One process per case, started one after another (a start is CPU-bound on a shared machine).
  for (const fault of ['healthy', ...FAULTS]) {
    idps.set(fault, await startIdp({ users: [user], clientId: '344936354465016579', redirectUri: 'https://localhost:1/api/auth/callback/zitadel', postLogoutUri: 'https://localhost:1', faults: fault === 'healthy' ? [] : [fault], machineUser: machine }));
  }
}, 120_000);
afterAll(async () => {
  await Promise.all([...idps.values()].map((idp) => idp.stop()));
});

describe('idp-token against the stand-in Zitadel', () => {
  it('passes: a JWT from the service user, verified by a published RS256 key, iss/aud/clock right, accepted at userinfo', async () => {
    const idp = standIn('healthy');
    const result = await runProbe('idp-token', standInConfig(idp));
    expect(result).toMatchObject({ status: 'passed', target: idp.issuer });
    expect(result.observations).toMatchObject({ httpStatusCode: 200, alg: 'RS256', typ: 'JWT', tokenIssuer: idp.issuer, audience: [machine.userName], jwksKeys: 1, acceptedBy: 'userinfo' });
    expect(Math.abs(result.observations?.clockSkewSeconds as number)).toBeLessThanOrEqual(60);
    expect(result.observations?.expiresInSeconds).toBeGreaterThan(11 * 3600);
    expect(result.assertions?.map((a) => a.name)).toEqual([
      'access token format', 'token signature', 'token iss', 'token aud', 'token sub', 'token iat', 'token iat - local clock (s)', 'token exp', 'token exp - local clock (s)', 'token nbf - local clock (s)', 'userinfo',
    ]);
    expect(JSON.stringify(result)).not.toContain(machine.secret);
  });

  it('token_grant_refused: a wrong client secret (never shown)', async () => {
    const result = await runProbe('idp-token', standInConfig(standIn('healthy'), { clientSecret: 'wrong-secret-value-1234' }));
    expect(result).toMatchObject({ status: 'failed', reason: 'token_grant_refused', observations: { httpStatusCode: 401 } });
    expect(result.message).toMatch(/^token endpoint answered 401/);
    expect(JSON.stringify(result)).not.toContain('wrong-secret-value-1234');
  });

  it('token_audience_mismatch: the token does not name the expected audience', async () => {
    const result = await runProbe('idp-token', standInConfig(standIn('healthy'), { audience: '123456789012345678' }));
    expect(result).toMatchObject({ status: 'failed', reason: 'token_audience_mismatch', message: `token aud: observed ["${machine.userName}"] expected "contains \\"123456789012345678\\""` });
  });

  it('clock_skew: this machine\'s clock 5 minutes ahead of the IdP\'s (threshold 60 s); 30 s is within it', async () => {
    const idp = standIn('healthy');
    const ahead = await runProbe('idp-token', standInConfig(idp), { now: () => new Date(Date.now() + 300_000) });
    expect(ahead).toMatchObject({ status: 'failed', reason: 'clock_skew' });
    expect(ahead.message).toMatch(/^token iat - local clock \(s\): observed -(29\d|30\d) expected "within ±60"$/);
    const slightly = await runProbe('idp-token', standInConfig(idp), { now: () => new Date(Date.now() + 30_000) });
    expect(slightly.status).toBe('passed');
    const behind = await runProbe('idp-token', standInConfig(idp, { clockSkewSeconds: 3600 }), { now: () => new Date(Date.now() + 13 * 3600_000) });
    expect(behind).toMatchObject({ status: 'failed', reason: 'clock_skew', message: expect.stringMatching(/^token iat - local clock/) });
  });

  it('jwks_mismatch (idp-jwks-stale): no published key has the signing key\'s kid; Zitadel itself still accepts the token', async () => {
    const result = await runProbe('idp-token', standInConfig(standIn('idp-jwks-stale')));
    expect(result).toMatchObject({ status: 'failed', reason: 'jwks_mismatch' });
    expect(result.message).toMatch(/^token signature: observed "no published key fits kid [0-9a-f-]{36} alg RS256 \(published kids: [0-9a-f-]{36}\)" expected "verified by a key at http:\/\/127\.0\.0\.1:\d+\/oauth\/v2\/keys"$/);
    expect(result.assertions?.find((a) => a.name === 'userinfo')).toMatchObject({ ok: true });
  });

  it('jwks_mismatch (idp-jwks-empty): nothing published verifies the token', async () => {
    const result = await runProbe('idp-token', standInConfig(standIn('idp-jwks-empty')));
    expect(result).toMatchObject({ status: 'failed', reason: 'jwks_mismatch', observations: { jwksKeys: 0 } });
  });

  it('token_issuer_mismatch (idp-token-issuer-mismatch): the token names another issuer than discovery', async () => {
    const idp = standIn('idp-token-issuer-mismatch');
    const result = await runProbe('idp-token', standInConfig(idp));
    expect(result).toMatchObject({ status: 'failed', reason: 'token_issuer_mismatch', message: `token iss: observed "https://gadgetbot-auth.localhost:${idp.port}" expected "${idp.issuer}"` });
  });

  it('issuer_mismatch (idp-issuer-mismatch): discovery names another issuer, so no client that discovers it gets this far', async () => {
    const result = await runProbe('idp-token', standInConfig(standIn('idp-issuer-mismatch')));
    expect(result).toMatchObject({ status: 'failed', reason: 'issuer_mismatch' });
  });

  it('connect_refused when nothing listens, within the deadline', async () => {
    const result = await runProbe('idp-token', testConfig({ appUrl: 'http://127.0.0.1:1', issuer: 'http://127.0.0.1:1', idpToken: { clientId: machine.userName, clientSecret: machine.secret } }));
    expect(result).toMatchObject({ status: 'failed', reason: 'connect_refused' });
  });
});

/** A second provider, independent of the stand-in: oidc-provider's own routes, an ES256 key, RFC 9068 tokens. */
describe('idp-token against an independent provider (oidc-provider, ES256)', () => {
  const RESOURCE = 'https://api.example.test';
  const secret = randomBytes(24).toString('base64url');
  const signingKey = { ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }), kid: 'es-1', alg: 'ES256', use: 'sig' };
  const otherKey = { ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }), kid: 'es-1', alg: 'ES256', use: 'sig' };
  let server: Server;
  let issuer: string;
  const { d: _private, ...signingPublicKey } = signingKey;
  const behaviour = { jwksSameKidOtherKey: false, jwksTwoWithTheKid: false, tokenHangs: false };

  beforeAll(async () => {
    server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const client = (clientId: string) => ({ client_id: clientId, client_secret: secret, grant_types: ['client_credentials'], response_types: [], redirect_uris: [] });
    const configuration: Configuration = {
      clients: [client('es256-service'), client('opaque-service')],
      jwks: { keys: [signingKey as never] },
      scopes: ['openid'],
      ttl: { ClientCredentials: 600 },
      clientDefaults: { id_token_signed_response_alg: 'ES256' },
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => RESOURCE,
          useGrantedResource: () => false,
          getResourceServerInfo: (_ctx, _resource, c) => ({ scope: 'openid', audience: RESOURCE, accessTokenFormat: c.clientId === 'opaque-service' ? 'opaque' : 'jwt', jwt: { sign: { alg: 'ES256' } } }),
        },
      },
    };
    const provider = new Provider(issuer, configuration);
    provider.use(async (ctx, next) => {
      if (behaviour.tokenHangs && ctx.path === '/token') {
        await new Promise(() => undefined); // never answers: the probe's deadline must end it
        return;
      }
      await next();
      if (behaviour.jwksSameKidOtherKey && ctx.path === '/jwks') ctx.body = { keys: [otherKey] };
      if (behaviour.jwksTwoWithTheKid && ctx.path === '/jwks') ctx.body = { keys: [otherKey, signingPublicKey] };
    });
    server.on('request', provider.callback());
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const configFor = (clientId: string, idpToken: Partial<NonNullable<ConfigInput['idpToken']>> = {}) =>
    testConfig({ appUrl: 'http://127.0.0.1:1', issuer, idpToken: { clientId, clientSecret: secret, audience: RESOURCE, acceptedBy: 'none', ...idpToken } });

  it('passes: ES256, at+jwt, a string audience, oidc-provider\'s routes (acceptance not checked: its endpoints take no such token)', async () => {
    const result = await runProbe('idp-token', configFor('es256-service'));
    expect(result).toMatchObject({ status: 'passed', observations: { alg: 'ES256', typ: 'at+jwt', kid: 'es-1', tokenIssuer: issuer, audience: RESOURCE, acceptedBy: 'none' } });
    expect(result.assertions?.map((a) => a.name)).not.toContain('userinfo');
  });

  it('token_rejected: asked to, its userinfo refuses the token (oidc-provider takes no token with an audience there)', async () => {
    const result = await runProbe('idp-token', configFor('es256-service', { acceptedBy: 'userinfo' }));
    expect(result).toMatchObject({ status: 'failed', reason: 'token_rejected', message: expect.stringMatching(/^userinfo: observed "refused \(401\)"/) });
  });

  it('jwks_mismatch: a published key with the same kid that does not verify the signature', async () => {
    behaviour.jwksSameKidOtherKey = true;
    try {
      const result = await runProbe('idp-token', configFor('es256-service'));
      expect(result).toMatchObject({ status: 'failed', reason: 'jwks_mismatch', message: 'token signature: observed "the published key with kid es-1 does not verify the signature" expected "verified by a key at ' + issuer + '/jwks"' });
    } finally {
      behaviour.jwksSameKidOtherKey = false;
    }
  });

  it('passes when two published keys fit the token and only the second verifies it (each is tried)', async () => {
    behaviour.jwksTwoWithTheKid = true;
    try {
      const result = await runProbe('idp-token', configFor('es256-service'));
      expect(result).toMatchObject({ status: 'passed', observations: { jwksKeys: 2 } });
    } finally {
      behaviour.jwksTwoWithTheKid = false;
    }
  });

  it('token_not_jwt: an opaque access token cannot be verified by anyone but the IdP', async () => {
    const result = await runProbe('idp-token', configFor('opaque-service'));
    expect(result).toMatchObject({ status: 'failed', reason: 'token_not_jwt' });
  });

  it('timeout: a token endpoint that never answers ends at the probe deadline', async () => {
    behaviour.tokenHangs = true;
    try {
      const result = await runProbe('idp-token', configFor('es256-service'), { timeoutMs: 1_500 });
      expect(result).toMatchObject({ status: 'failed', reason: 'timeout' });
    } finally {
      behaviour.tokenHangs = false;
    }
  });
});
