/**
 * `oidc-discovery` probe. The document is fetched with the probes' own HTTP client (probes/http.ts, not openid-client's
 * `discovery()`), because openid-client rejects an issuer mismatch with a generic error and we must
 * show both values byte for byte; every other field is then compared with what the app hard-wires.
 */
import type { Config } from '../core/config.ts';
import { Assertions } from './assertions.ts';
import { ProbeFailure } from './errors.ts';
import { readText, withProbeHttp, type ProbeHttp } from './http.ts';
import { isUsableKey, type Jwk } from './jwks.ts';
import { failedWith, fromAssertions } from './probe-result.ts';
import type { ProbeFn } from './types.ts';

/** Zitadel's paths under the issuer; the app uses the first three without discovery (docs/target-contract.md §3.1, §8.2). */
export function expectedEndpoints(issuer: string): Record<string, string> {
  return {
    authorization_endpoint: `${issuer}/oauth/v2/authorize`,
    token_endpoint: `${issuer}/oauth/v2/token`,
    userinfo_endpoint: `${issuer}/oidc/v1/userinfo`,
    jwks_uri: `${issuer}/oauth/v2/keys`,
    end_session_endpoint: `${issuer}/oidc/v1/end_session`,
  };
}

async function getJson(http: ProbeHttp, url: string, what: string): Promise<{ status: number; body: unknown }> {
  const response = await http.fetch(url, { headers: { accept: 'application/json' } });
  const text = await readText(response);
  if (response.status !== 200) throw Object.assign(new ProbeFailure('http_status', `${what}: GET ${url} answered ${response.status}, expected 200`), { status: response.status });
  try {
    return { status: response.status, body: JSON.parse(text) as unknown };
  } catch {
    throw Object.assign(new ProbeFailure('bad_response', `${what}: GET ${url} did not return JSON (${(response.headers.get('content-type') ?? 'no content-type').split(';')[0]})`), { status: response.status });
  }
}

function stringList(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : undefined;
}

async function discover(config: Config, http: ProbeHttp, observations: Record<string, unknown>, assertions: Assertions): Promise<void> {
  const issuer = config.issuer;
  const url = `${issuer}/.well-known/openid-configuration`;
  let doc: Record<string, unknown>;
  try {
    const { status, body } = await getJson(http, url, 'discovery');
    observations.httpStatusCode = status;
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw new ProbeFailure('bad_response', `discovery: ${url} is not a JSON object`);
    doc = body as Record<string, unknown>;
  } catch (error) {
    const status = (error as { status?: number }).status;
    if (typeof status === 'number') observations.httpStatusCode = status;
    throw error;
  }

  observations.issuer = doc.issuer;
  assertions.equal('issuer', doc.issuer, issuer, 'issuer_mismatch');
  for (const [field, expected] of Object.entries(expectedEndpoints(issuer))) assertions.equal(field, doc[field], expected, 'endpoint_mismatch');
  const methods = stringList(doc.code_challenge_methods_supported) ?? [];
  assertions.check('code_challenge_methods_supported', methods.includes('S256'), doc.code_challenge_methods_supported, 'contains "S256"', 'pkce_unsupported');
  const scopes = stringList(doc.scopes_supported) ?? [];
  const missingScopes = config.scopes.filter((s) => !scopes.includes(s));
  assertions.check('scopes_supported', missingScopes.length === 0, doc.scopes_supported, `contains ${config.scopes.join(' ')}`, 'scope_unsupported');

  // OIDC Discovery: id_token_signing_alg_values_supported is REQUIRED; RS256 is the mandatory default.
  const algs = stringList(doc.id_token_signing_alg_values_supported) ?? ['RS256'];
  observations.algs = algs;
  const jwksUri = typeof doc.jwks_uri === 'string' ? doc.jwks_uri : expectedEndpoints(issuer).jwks_uri!;
  const { body: jwks } = await getJson(http, jwksUri, 'jwks');
  const keys = jwks && typeof jwks === 'object' && Array.isArray((jwks as { keys?: unknown }).keys) ? ((jwks as { keys: unknown[] }).keys as Jwk[]) : undefined;
  if (!keys) throw new ProbeFailure('bad_response', `jwks: ${jwksUri} has no "keys" array`);
  const usable = keys.filter((k) => k && typeof k === 'object' && isUsableKey(k, algs));
  observations.jwksKeys = keys.length;
  observations.jwksUsableKeys = usable.length;
  assertions.check('jwks keys', keys.length > 0, keys.length, '>= 1', 'jwks_empty');
  if (keys.length > 0) assertions.check('jwks usable keys', usable.length > 0, usable.length, `>= 1 key for ${algs.join(', ')}`, 'jwks_unusable');
}

export const oidcDiscoveryProbe: ProbeFn = async (config, ctx) => {
  const observations: Record<string, unknown> = { httpStatusCode: 0 };
  const assertions = new Assertions();
  try {
    await withProbeHttp(ctx, (http) => discover(config, http, observations, assertions));
  } catch (error) {
    return failedWith('oidc-discovery', error, 'http', assertions, observations);
  }
  return fromAssertions('oidc-discovery', assertions, observations);
};
