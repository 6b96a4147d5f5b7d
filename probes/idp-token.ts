/**
 * `idp-token` probe: a signed token from the IdP without a browser, verified the way every client
 * that verifies tokens does. A service user's client-credentials grant (openid-client) yields a JWT
 * access token; its signature must verify against a key published at discovery's `jwks_uri`, its
 * `iss` must equal the issuer byte for byte, its `aud` must name the expected audience, `iat`/`exp`
 * must agree with this machine's clock, and the IdP must accept it at userinfo.
 *
 * GadgetBot's Better Auth decodes the id_token without checking its signature, so a JWKS that no
 * longer matches the signing key lets users in while every verifying client fails: only this check sees it.
 *
 * The JWKS is fetched once per run and used as a local set (no cache across runs), so a key rotated
 * behind a stale cache shows on the next run. Certificates are verified here, unlike the other HTTP
 * probes: this probe sends the service user's secret and must send it only to the IdP it names.
 * The token itself is never written anywhere; only its header and claims are observed.
 */
import * as client from 'openid-client';
import { compactVerify, createLocalJWKSet, decodeProtectedHeader, errors as joseErrors, type JSONWebKeySet, type ProtectedHeaderParameters } from 'jose';
import type { Config } from '../core/config.ts';
import { Assertions } from './assertions.ts';
import { ProbeFailure } from './errors.ts';
import { readText, withProbeHttp, type ProbeHttp } from './http.ts';
import { oidcFetch, type OidcFetch } from './oidc-fetch.ts';
import { failedWith, fromAssertions } from './probe-result.ts';
import type { ProbeContext, ProbeFn } from './types.ts';

/** Asymmetric JWS algorithms only: an IdP's token is never verified with a shared secret or `none`. */
export const TOKEN_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];

interface TokenClaims {
  iss?: unknown;
  aud?: unknown;
  sub?: unknown;
  iat?: unknown;
  exp?: unknown;
  nbf?: unknown;
}

function isCompactJws(token: string): boolean {
  if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token)) return false;
  try {
    decodeProtectedHeader(token);
    return true;
  } catch {
    return false;
  }
}

/** The payload of a compact JWS, unverified (to report what a token that fails verification claims). */
function unverifiedClaims(token: string): TokenClaims {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as TokenClaims) : {};
  } catch {
    return {};
  }
}

function audienceList(aud: unknown): string[] | undefined {
  if (typeof aud === 'string') return [aud];
  if (Array.isArray(aud) && aud.every((a) => typeof a === 'string')) return aud;
  return undefined;
}

async function fetchJwks(http: ProbeHttp, fetcher: OidcFetch, signal: AbortSignal, jwksUri: string): Promise<JSONWebKeySet> {
  const response = await http.fetch(jwksUri, { headers: { accept: 'application/json' }, signal });
  const text = await readText(response);
  fetcher.last = { url: jwksUri, status: response.status };
  if (response.status !== 200) throw Object.assign(new ProbeFailure('http_status', `jwks: GET ${jwksUri} answered ${response.status}, expected 200`), { status: response.status });
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ProbeFailure('bad_response', `jwks: ${jwksUri} did not return JSON`);
  }
  const keys = body && typeof body === 'object' && Array.isArray((body as { keys?: unknown }).keys) ? (body as JSONWebKeySet).keys : undefined;
  if (!keys) throw new ProbeFailure('bad_response', `jwks: ${jwksUri} has no "keys" array`);
  return { keys: keys.filter((k) => k && typeof k === 'object') };
}

/** Whether a published key verifies the token; the failure in words when none does. */
async function verifySignature(token: string, jwks: JSONWebKeySet): Promise<{ ok: true; payload: Uint8Array } | { ok: false; why: string }> {
  const header = decodeProtectedHeader(token);
  const kids = jwks.keys.map((k) => k.kid ?? '(no kid)');
  const kid = header.kid ?? '(none)';
  try {
    const { payload } = await compactVerify(token, createLocalJWKSet(jwks), { algorithms: TOKEN_ALGORITHMS });
    return { ok: true, payload };
  } catch (error) {
    // Several published keys fit (a token without kid): jose hands them over to be tried one by one.
    if (error instanceof joseErrors.JWKSMultipleMatchingKeys) {
      for await (const key of error as unknown as AsyncIterable<CryptoKey>) {
        try {
          return { ok: true, payload: (await compactVerify(token, key, { algorithms: TOKEN_ALGORITHMS })).payload };
        } catch (inner) {
          if (!(inner instanceof joseErrors.JWSSignatureVerificationFailed)) throw inner;
        }
      }
      return { ok: false, why: `none of the published keys that fit alg ${String(header.alg)} (no kid in the token) verifies the signature` };
    }
    if (error instanceof joseErrors.JWKSNoMatchingKey) return { ok: false, why: `no published key fits kid ${kid} alg ${String(header.alg)} (published kids: ${kids.join(', ') || 'none'})` };
    if (error instanceof joseErrors.JWSSignatureVerificationFailed) return { ok: false, why: `the published key with kid ${kid} does not verify the signature` };
    if (error instanceof joseErrors.JOSEAlgNotAllowed) return { ok: false, why: `alg ${String(header.alg)} is not an asymmetric signing algorithm` };
    if (error instanceof joseErrors.JOSEError) return { ok: false, why: `${error.code}: ${error.message}` };
    throw error;
  }
}

/** Maps openid-client's errors on the grant to this check's words: the endpoint and what it answered. */
function grantFailure(error: unknown, fetcher: OidcFetch): unknown {
  if (error instanceof client.ResponseBodyError) {
    const what = `token endpoint answered ${error.status} ${error.error}${error.error_description ? `: ${error.error_description}` : ''}`;
    return new ProbeFailure(error.status >= 500 ? 'http_status' : 'token_grant_refused', what);
  }
  if (error instanceof client.WWWAuthenticateChallengeError) {
    const challenge = error.cause[0];
    const what = [challenge?.parameters.error, challenge?.parameters.error_description].filter(Boolean).join(': ');
    return new ProbeFailure('token_grant_refused', `token endpoint answered ${error.status} with a ${challenge?.scheme ?? ''} challenge${what ? ` (${what})` : ''}`);
  }
  return endpointFailure(error, fetcher);
}

/** A non-2xx answer openid-client refused without an OAuth error body: name the endpoint and its status. */
function endpointFailure(error: unknown, fetcher: OidcFetch): unknown {
  const last = fetcher.last;
  const code = (error as { code?: unknown }).code;
  if (last && (last.status < 200 || last.status >= 300) && code !== 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED') {
    return new ProbeFailure('http_status', `${last.url} answered ${last.status}`);
  }
  return error;
}

async function measure(config: Config, ctx: ProbeContext, http: ProbeHttp, observations: Record<string, unknown>, assertions: Assertions): Promise<void> {
  const { clientId, clientSecret } = config.idpToken;
  if (!clientId || !clientSecret) throw new ProbeFailure('not_configured', 'no service user (SENTINEL_IDP_TOKEN_CLIENT_ID and SENTINEL_IDP_TOKEN_CLIENT_SECRET)');
  const fetcher = oidcFetch(http, ctx.signal);
  const remainingSeconds = () => Math.max(1, Math.ceil((ctx.remainingMs?.() ?? config.timeouts.probeMs) / 1000));
  const insecure = new URL(config.issuer).protocol === 'http:';
  const track = () => {
    if (fetcher.last) observations.httpStatusCode = fetcher.last.status;
  };

  let oidc: client.Configuration;
  try {
    oidc = await client.discovery(new URL(config.issuer), clientId, undefined, client.ClientSecretBasic(clientSecret), {
      [client.customFetch]: fetcher.fetch,
      timeout: remainingSeconds(),
      ...(insecure ? { execute: [client.allowInsecureRequests] } : {}),
    });
  } catch (error) {
    track();
    throw endpointFailure(error, fetcher);
  }
  const metadata = oidc.serverMetadata();
  observations.issuer = metadata.issuer;

  let accessToken: string;
  try {
    oidc.timeout = remainingSeconds();
    const tokens = await client.clientCredentialsGrant(oidc, { scope: config.idpToken.scope });
    accessToken = tokens.access_token;
  } catch (error) {
    track();
    throw grantFailure(error, fetcher);
  }
  track();
  const receivedAt = ctx.now().getTime() / 1000;
  if (!assertions.check('access token format', isCompactJws(accessToken), 'opaque', 'a signed JWT (JWS compact serialization)', 'token_not_jwt')) return;

  const header: ProtectedHeaderParameters = decodeProtectedHeader(accessToken);
  Object.assign(observations, { alg: header.alg, kid: header.kid, typ: header.typ });
  if (typeof metadata.jwks_uri !== 'string') throw new ProbeFailure('bad_response', 'discovery names no jwks_uri');
  const jwks = await fetchJwks(http, fetcher, ctx.signal, metadata.jwks_uri);
  track();
  observations.jwksKeys = jwks.keys.length;
  const signature = await verifySignature(accessToken, jwks);
  assertions.check('token signature', signature.ok, signature.ok ? 'verified by a published key' : signature.why, `verified by a key at ${metadata.jwks_uri}`, 'jwks_mismatch');
  // Claims are judged even when the signature fails: what the token says helps find the wrong instance.
  const claims: TokenClaims = signature.ok ? (JSON.parse(new TextDecoder().decode(signature.payload)) as TokenClaims) : unverifiedClaims(accessToken);

  observations.tokenIssuer = claims.iss;
  assertions.equal('token iss', claims.iss, config.issuer, 'token_issuer_mismatch');
  const expectedAudience = config.idpToken.audience ?? clientId;
  const audiences = audienceList(claims.aud);
  observations.audience = claims.aud;
  assertions.check('token aud', audiences?.includes(expectedAudience) ?? false, claims.aud, `contains ${JSON.stringify(expectedAudience)}`, 'token_audience_mismatch');
  assertions.check('token sub', typeof claims.sub === 'string' && claims.sub !== '', claims.sub, 'a non-empty subject', 'bad_response');

  const skew = config.idpToken.clockSkewSeconds;
  if (assertions.check('token iat', typeof claims.iat === 'number', claims.iat, 'a number (seconds)', 'bad_response')) {
    const iatOffset = Math.round((claims.iat as number) - receivedAt);
    observations.clockSkewSeconds = iatOffset;
    assertions.check('token iat - local clock (s)', Math.abs(iatOffset) <= skew, iatOffset, `within ±${skew}`, 'clock_skew');
  }
  if (assertions.check('token exp', typeof claims.exp === 'number', claims.exp, 'a number (seconds)', 'bad_response')) {
    const expiresIn = Math.round((claims.exp as number) - receivedAt);
    observations.expiresInSeconds = expiresIn;
    assertions.check('token exp - local clock (s)', expiresIn > 0, expiresIn, '> 0 (not expired on arrival)', 'clock_skew');
  }
  if (claims.nbf !== undefined) {
    const notBefore = typeof claims.nbf === 'number' ? Math.round(claims.nbf - receivedAt) : Number.NaN;
    assertions.check('token nbf - local clock (s)', notBefore <= skew, claims.nbf, `<= ${skew} s from now`, 'clock_skew');
  }

  observations.acceptedBy = config.idpToken.acceptedBy;
  if (config.idpToken.acceptedBy === 'userinfo' && typeof claims.sub === 'string') {
    try {
      oidc.timeout = remainingSeconds();
      await client.fetchUserInfo(oidc, accessToken, claims.sub);
      track();
      assertions.check('userinfo', true, 'accepted', 'accepted', 'token_rejected');
    } catch (error) {
      track();
      const refused = error instanceof client.WWWAuthenticateChallengeError || error instanceof client.ResponseBodyError;
      const mismatch = (error as { code?: unknown }).code === 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED';
      if (!refused && !mismatch) throw endpointFailure(error, fetcher);
      const status = fetcher.last?.status;
      assertions.check('userinfo', false, mismatch ? 'answered for another subject' : `refused (${status ?? 'no status'})`, `accepts the token for sub ${JSON.stringify(claims.sub)}`, 'token_rejected');
    }
  }
}

export const idpTokenProbe: ProbeFn = async (config, ctx) => {
  const observations: Record<string, unknown> = { httpStatusCode: 0 };
  const assertions = new Assertions();
  try {
    await withProbeHttp(ctx, (http) => measure(config, ctx, http, observations, assertions), { verifyTls: true });
  } catch (error) {
    return failedWith('idp-token', error, 'http', assertions, observations);
  }
  return fromAssertions('idp-token', assertions, observations);
};
