/**
 * The TLS trust the suite's Node clients use: Node's roots plus the configured CA (SENTINEL_CA_CERT), one
 * SecureContext per CA text for the life of the process. Why one: building one costs ~100 ms of CPU, and it holds OpenSSL's parsed
 * copy of ~140 roots in native memory that V8's collector does not see, so building one per request (the
 * Coolify client did, once per probe run) grew the monitor by hundreds of MB before a collection freed them.
 */
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';

const contexts = new Map<string, SecureContext>();

/** Node's roots plus the configured CA PEM; undefined when no extra CA is configured (Node's default). */
export function trustContext(caCerts: string | undefined): SecureContext | undefined {
  if (!caCerts) return undefined;
  let context = contexts.get(caCerts);
  if (!context) {
    context = createSecureContext({ ca: [...rootCertificates, caCerts] });
    contexts.set(caCerts, context);
  }
  return context;
}
