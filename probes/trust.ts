/**
 * The host-name rule browsers apply, for the probes' certificate verdicts. The trust context itself (roots
 * plus the configured CA) is core/trust-context.ts, shared with the Coolify client.
 */
import type { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';

/** The subjectAltName entries of a certificate, as Node prints them (`DNS:a.example`, `IP Address:10.0.0.1`). */
export function subjectAltNames(cert: X509Certificate): string[] {
  return cert.subjectAltName ? cert.subjectAltName.split(/,\s*/).filter(Boolean) : [];
}

/**
 * Why `cert` does not cover `host` for a browser, or undefined when it does. Browsers read only the
 * subjectAltName (Chrome since version 58 ignores the subject CN, also when there is no SAN at all)
 * and accept a wildcard only as the whole left-most label (`*.example.com`, never `f*.example.com`).
 * Node's own checks (tls.checkServerIdentity, X509Certificate.checkHost's defaults) accept both.
 */
export function browserHostnameMismatch(cert: X509Certificate, host: string): string | undefined {
  const ip = isIP(host) !== 0;
  const matched = ip ? cert.checkIP(host) : cert.checkHost(host, { subject: 'never', partialWildcards: false });
  if (matched !== undefined) return undefined;
  const sans = subjectAltNames(cert);
  if (sans.length === 0) {
    const inCommonName = !ip && cert.checkHost(host, { subject: 'always' }) !== undefined;
    return inCommonName
      ? `certificate names ${host} only in its subject CN and has no subjectAltName; browsers ignore the CN`
      : `certificate has no subjectAltName and does not cover ${host}`;
  }
  const partialWildcard = ip ? undefined : cert.checkHost(host, { subject: 'never', partialWildcards: true });
  if (partialWildcard) return `certificate covers ${host} only through the partial wildcard ${partialWildcard}, which browsers reject`;
  return `certificate does not cover ${host} (SANs: ${sans.join(', ')})`;
}
