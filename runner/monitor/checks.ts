/**
 * How the monitor's checks are labelled in metrics and on /status: check type and target, always
 * derived from the configuration (which checks run is runner/select.ts's decision).
 */
import type { Config } from '../../core/config.ts';
import type { BrowserCheckId, CheckId, ProbeCheckId } from '../../core/result.ts';
import { defaultTlsHosts, watchedDatabases, watchedResources } from '../../probes/targets.ts';
import type { CheckSpec, CheckType } from '../metrics.ts';

export interface MonitorChecks {
  probes: readonly ProbeCheckId[];
  browser: readonly BrowserCheckId[];
  /** configured but not run by the monitor (not configured / not permitted): shown as skipped */
  notRun: readonly CheckId[];
}

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

function hostOf(url: string | undefined): string {
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

function dbTarget(databaseUrl: string | undefined): string {
  if (!databaseUrl) return '(not configured)';
  try {
    const u = new URL(databaseUrl);
    return `${u.hostname}:${u.port || '5432'}${u.pathname}`;
  } catch {
    return '(invalid database url)';
  }
}

/** Target label of a check: a host (or host list), always derived from config, never from a result. */
export function targetOf(id: CheckId, config: Config): string {
  switch (id) {
    case 'tls':
      return tlsTargets(config).join(',');
    case 'oidc-discovery':
    case 'idp-token':
    case 'idp-health':
      return hostOf(config.issuer);
    case 'db':
      return dbTarget(config.databaseUrl);
    case 'coolify-resources':
    case 'backups':
      return hostOf(config.coolify.url);
    case 'exposure':
      return exposureHosts(config).join(',') || '(not configured)';
    default:
      return hostOf(config.appUrl);
  }
}

/**
 * `intervals`: the longest two results of a group may be apart when nothing is wrong (seconds);
 * `signIn` for the sign-in probe, which also waits while a browser flow holds the sign-in lane.
 */
export function checkSpecs(config: Config, selection: MonitorChecks, intervals: { probes: number; browser: number; signIn?: number }): CheckSpec[] {
  const spec = (id: CheckId, intervalSeconds: number | undefined, scheduled: boolean): CheckSpec => ({
    id,
    checkType: checkTypeOf(id),
    target: targetOf(id, config),
    scheduled,
    ...(intervalSeconds === undefined ? {} : { intervalSeconds }),
    ...(id === 'tls' ? { tlsTargets: tlsTargets(config) } : {}),
    ...(id === 'coolify-resources' ? { resources: watchedResources(config).map((r) => r.role) } : {}),
    ...(id === 'backups' ? { databases: watchedDatabases(config).map((r) => r.role) } : {}),
    ...(id === 'exposure' ? { exposureHosts: exposureHosts(config) } : {}),
  });
  return [
    ...selection.probes.map((id) => spec(id, id === 'login-v2-redirect' ? (intervals.signIn ?? intervals.probes) : intervals.probes, true)),
    ...selection.browser.map((id) => spec(id, intervals.browser, true)),
    ...selection.notRun.map((id) => spec(id, undefined, false)),
  ];
}
