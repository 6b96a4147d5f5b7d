/** What each probe points at: target labels and the default TLS host list. */
import type { Config } from '../core/config.ts';
import { safeTarget } from '../core/redact.ts';
import type { ProbeCheckId } from '../core/result.ts';

/** Host or base URL a probe is about (no credentials, no query). */
export function probeTarget(id: ProbeCheckId, config: Config): string {
  switch (id) {
    case 'tls':
      return (config.tls.hosts ?? defaultTlsHosts(config)).join(',');
    case 'oidc-discovery':
    case 'idp-token':
    case 'idp-health':
      return safeTarget(config.issuer);
    case 'db':
      return config.databaseUrl ? dbTarget(config.databaseUrl) : '(not configured)';
    default:
      return safeTarget(config.appUrl);
  }
}

/** host:port of the app, the IdP and (when configured) Coolify — https hosts only. */
export function defaultTlsHosts(config: Config): string[] {
  const hosts = new Set<string>();
  for (const url of [config.appUrl, config.issuer, config.coolify.url]) {
    if (!url) continue;
    const u = new URL(url);
    if (u.protocol !== 'https:') continue;
    hosts.add(`${u.hostname.includes(':') ? `[${u.hostname.replace(/^\[|\]$/g, '')}]` : u.hostname}:${u.port || '443'}`);
  }
  return [...hosts];
}

export function dbTarget(databaseUrl: string): string {
  try {
    const u = new URL(databaseUrl);
    return `${u.hostname}:${u.port || '5432'}${u.pathname}`;
  } catch {
    return '(invalid database url)';
  }
}

