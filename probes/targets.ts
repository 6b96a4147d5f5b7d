/** What each probe points at: target labels, the default TLS host list, the watched Coolify resources, the exposure URLs. */
import type { Config } from '../core/config.ts';
import type { DatabaseRole, ResourceRole } from '../core/observations.ts';
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
    case 'coolify-resources':
    case 'backups':
      return config.coolify.url ? safeTarget(config.coolify.url) : '(not configured)';
    case 'exposure':
      return config.exposure.hosts?.length ? config.exposure.hosts.join(',') : '(not configured)';
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

/** A Coolify resource the configuration names, by role; its variable says where the uuid comes from. */
export interface WatchedResource {
  role: ResourceRole;
  uuid: string;
  /** application; a Docker Compose stack (a service, or an application with the compose build pack); a standalone database */
  kind: 'application' | 'stack' | 'database';
  variable: string;
}

/**
 * The resources `coolify-resources` watches: the app (SENTINEL_COOLIFY_APP_UUID), then those whose uuid is
 * set. Empty when Coolify is not configured. Their roles are the `resource` label of the metrics.
 */
export function watchedResources(config: Config): WatchedResource[] {
  const { url, token, appUuid, zitadelUuid, appDbUuid, zitadelDbUuid } = config.coolify;
  if (!url || !token || !appUuid) return [];
  const all: Array<WatchedResource | undefined> = [
    { role: 'app', uuid: appUuid, kind: 'application', variable: 'SENTINEL_COOLIFY_APP_UUID' },
    zitadelUuid ? { role: 'zitadel', uuid: zitadelUuid, kind: 'stack', variable: 'SENTINEL_COOLIFY_ZITADEL_UUID' } : undefined,
    appDbUuid ? { role: 'app-db', uuid: appDbUuid, kind: 'database', variable: 'SENTINEL_COOLIFY_APP_DB_UUID' } : undefined,
    zitadelDbUuid ? { role: 'zitadel-db', uuid: zitadelDbUuid, kind: 'database', variable: 'SENTINEL_COOLIFY_ZITADEL_DB_UUID' } : undefined,
  ];
  return all.filter((r): r is WatchedResource => r !== undefined);
}

/** The databases `backups` watches (those of watchedResources); their roles are the `database` label. */
export function watchedDatabases(config: Config): Array<WatchedResource & { role: DatabaseRole }> {
  return watchedResources(config).filter((r): r is WatchedResource & { role: DatabaseRole } => r.kind === 'database');
}

/** A URL's host name as the exposure hosts spell it: lower case, an IPv6 address without brackets. */
function bareHostname(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
}

/**
 * The https URLs of the app, the IdP and Coolify whose host is an exposure host: the sites "https
 * everywhere" is judged on. A host that is not listed (a hosted IdP, say) is never judged.
 */
function exposureSites(config: Config): URL[] {
  const hosts = new Set((config.exposure.hosts ?? []).map((host) => host.toLowerCase()));
  const sites = new Map<string, URL>();
  for (const raw of [config.appUrl, config.issuer, config.coolify.url]) {
    if (!raw) continue;
    const url = new URL(raw);
    if (url.protocol === 'https:' && hosts.has(bareHostname(url))) sites.set(url.origin, url);
  }
  return [...sites.values()];
}

/** `https://<site>/` of every exposure site: where Strict-Transport-Security is read. */
export function hstsUrls(config: Config): string[] {
  return exposureSites(config).map((url) => `${url.origin}/`);
}

/** Plain-http URLs that must redirect to https: the configured list, else `http://<host>/` (port 80) of every exposure site. */
export function exposureHttpUrls(config: Config): string[] {
  if (config.exposure.httpUrls) return [...config.exposure.httpUrls];
  return [...new Set(exposureSites(config).map((url) => `http://${url.hostname}/`))];
}
