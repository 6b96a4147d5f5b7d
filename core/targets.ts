/**
 * What each check points at, always derived from the configuration: the target a result names, the
 * `check_type` and `target` labels of its metrics (the monitor's and a one-shot run's push alike),
 * the default TLS host list, the watched Coolify resources and the exposure check's URLs.
 */
import type { Config } from './config.ts';
import type { DatabaseRole, ResourceRole } from './observations.ts';
import { safeTarget } from './redact.ts';
import type { CheckId, ProbeCheckId } from './result.ts';

/** The protocol a check speaks, the `check_type` label; every browser check is `browser`. */
export type CheckType = 'tls' | 'http' | 'oidc' | 'db' | 'coolify' | 'tcp' | 'browser';

const CHECK_TYPES: Record<ProbeCheckId, CheckType> = {
  tls: 'tls',
  'app-health': 'http',
  'oidc-discovery': 'oidc',
  'login-v2-redirect': 'oidc',
  db: 'db',
  'coolify-resources': 'coolify',
  backups: 'coolify',
  'idp-token': 'oidc',
  'idp-health': 'http',
  exposure: 'tcp',
};

export function checkTypeOf(id: CheckId): CheckType {
  return (CHECK_TYPES as Record<string, CheckType>)[id] ?? 'browser';
}

/** The configured URL a check talks to, for the checks that talk to one URL. */
function urlOf(id: CheckId, config: Config): string | undefined {
  switch (id) {
    case 'oidc-discovery':
    case 'idp-token':
    case 'idp-health':
      return config.issuer;
    case 'coolify-resources':
    case 'backups':
      return config.coolify.url;
    default:
      return config.appUrl;
  }
}

/** The hosts of the checks that look at several (tls, exposure) or at a database; undefined for the others. */
function listTarget(id: CheckId, config: Config): string | undefined {
  switch (id) {
    case 'tls':
      return tlsTargets(config).join(',');
    case 'exposure':
      return exposureHosts(config).join(',') || '(not configured)';
    case 'db':
      return config.databaseUrl ? dbTarget(config.databaseUrl) : '(not configured)';
    default:
      return undefined;
  }
}

/** What a result says it looked at: host list, database, or base URL (no credentials, no query). */
export function checkTarget(id: CheckId, config: Config): string {
  const url = urlOf(id, config);
  return listTarget(id, config) ?? (url ? safeTarget(url) : '(not configured)');
}

/** The `target` label: a host (or host list), bounded by the configuration, never taken from a result. */
export function targetLabel(id: CheckId, config: Config): string {
  const listed = listTarget(id, config);
  if (listed !== undefined) return listed;
  const url = urlOf(id, config);
  if (!url) return '(not configured)';
  try {
    return new URL(url).host;
  } catch {
    return '(invalid url)';
  }
}

/** host:port list the tls probe checks (its own default list when none is configured). */
export function tlsTargets(config: Config): string[] {
  return [...(config.tls.hosts ?? defaultTlsHosts(config))];
}

/** Hosts the exposure probe checks (bounded: only what the configuration lists). */
export function exposureHosts(config: Config): string[] {
  return [...(config.exposure.hosts ?? [])];
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
