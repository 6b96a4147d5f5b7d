/** Which JWKS keys could verify an ID token signed with one of the algorithms discovery offers. */
import { createPublicKey } from 'node:crypto';

export interface Jwk {
  kty?: unknown;
  crv?: unknown;
  alg?: unknown;
  use?: unknown;
  key_ops?: unknown;
  kid?: unknown;
}

function familyFits(key: Jwk, alg: string): boolean {
  if (/^(RS|PS)(256|384|512)$/.test(alg)) return key.kty === 'RSA';
  if (alg === 'ES256') return key.kty === 'EC' && key.crv === 'P-256';
  if (alg === 'ES384') return key.kty === 'EC' && key.crv === 'P-384';
  if (alg === 'ES512') return key.kty === 'EC' && key.crv === 'P-521';
  if (alg === 'EdDSA' || alg === 'Ed25519') return key.kty === 'OKP' && (key.crv === 'Ed25519' || key.crv === 'Ed448');
  return false;
}

/** A key is usable when it is a signing key, importable, and fits one of `algs`. */
export function isUsableKey(key: Jwk, algs: readonly string[]): boolean {
  if (key.use !== undefined && key.use !== 'sig') return false;
  if (Array.isArray(key.key_ops) && !key.key_ops.includes('verify')) return false;
  const candidates = typeof key.alg === 'string' ? algs.filter((a) => a === key.alg) : algs;
  if (!candidates.some((alg) => familyFits(key, alg))) return false;
  try {
    createPublicKey({ key: key as never, format: 'jwk' });
    return true;
  } catch {
    return false;
  }
}
