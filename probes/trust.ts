/**
 * One TLS trust context per CA bundle, shared by every probe connection. Building a context with
 * Node's ~140 root certificates costs ~100 ms of CPU, so doing it per connection would dominate
 * a probe run; the bundle never changes during a process's life.
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
