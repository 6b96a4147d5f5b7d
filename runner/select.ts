/**
 * Which checks a run executes, and why the others do not (README.md, "Modes"). A check that does
 * not run becomes a `skipped` CheckResult with a bounded reason — never a pass.
 */
import { DISRUPTIVE_CHECKS, MUTATING_CHECKS, type Config } from '../core/config.ts';
import { CHECK_IDS, PROBE_CHECK_IDS, checkKind, skipped, type CheckId, type CheckResult, type Reason } from '../core/result.ts';
import { defaultTlsHosts, watchedDatabases, watchedResources } from '../core/targets.ts';

export type RunMode = 'postdeploy' | 'ci' | 'monitor' | 'probe';

export interface SelectionInput {
  mode: RunMode;
  config: Config;
  /** True when the target is the embedded local stack (mutations and disruption are on by default there). */
  embedded: boolean;
  /** `--check` ids; falls back to config.checks; all when neither is set. */
  requested?: readonly CheckId[];
}

export interface Decision {
  id: CheckId;
  run: boolean;
  /** Set when run is false. */
  reason?: Extract<Reason, 'not_configured' | 'not_permitted' | 'not_selected'>;
  message?: string;
}

export interface Selection {
  /** Ids to run, in the canonical order of CHECK_IDS. */
  run: CheckId[];
  /** One skipped result per check that does not run. */
  skipped: CheckResult[];
  decisions: Decision[];
}

export function mutationsAllowed(config: Config, embedded: boolean): boolean {
  return config.allowMutations ?? embedded;
}

export function disruptionAllowed(config: Config, embedded: boolean): boolean {
  return config.allowDisruptive ?? embedded;
}

/** A redeploy driver is configured: the Coolify API (all three settings) or a redeploy command. */
export function hasRedeployDriver(config: Config): boolean {
  const coolifyReady = Boolean(config.coolify.url && config.coolify.token && config.coolify.appUuid);
  if (config.redeploy.driver === 'command') return Boolean(config.redeploy.command);
  if (config.redeploy.driver === 'coolify') return coolifyReady;
  return coolifyReady || Boolean(config.redeploy.command);
}

function decide(id: CheckId, input: SelectionInput): Decision {
  const { mode, config, embedded } = input;
  const requested = input.requested?.length ? input.requested : config.checks;
  if (requested && !requested.includes(id)) {
    return { id, run: false, reason: 'not_selected', message: `not requested (selected: ${requested.join(', ')})` };
  }
  if (config.skip.includes(id)) {
    return { id, run: false, reason: 'not_selected', message: 'left out on purpose (--skip / SENTINEL_SKIP)' };
  }
  if (mode === 'probe' && checkKind(id) === 'browser') {
    return { id, run: false, reason: 'not_selected', message: '`sentinel probe` runs probes only' };
  }
  if (id === 'db' && !config.databaseUrl) {
    return { id, run: false, reason: 'not_configured', message: 'no database URL (SENTINEL_DATABASE_URL)' };
  }
  if (id === 'coolify-resources' && watchedResources(config).length === 0) {
    return { id, run: false, reason: 'not_configured', message: 'Coolify is not configured (SENTINEL_COOLIFY_URL, SENTINEL_COOLIFY_TOKEN, SENTINEL_COOLIFY_APP_UUID)' };
  }
  if (id === 'backups' && watchedDatabases(config).length === 0) {
    const what = watchedResources(config).length === 0 ? 'Coolify is not configured (SENTINEL_COOLIFY_URL, SENTINEL_COOLIFY_TOKEN, SENTINEL_COOLIFY_APP_UUID) and no' : 'no';
    return { id, run: false, reason: 'not_configured', message: `${what} database uuid (SENTINEL_COOLIFY_APP_DB_UUID, SENTINEL_COOLIFY_ZITADEL_DB_UUID)` };
  }
  if (id === 'idp-token' && !(config.idpToken.clientId && config.idpToken.clientSecret)) {
    return { id, run: false, reason: 'not_configured', message: 'no service user (SENTINEL_IDP_TOKEN_CLIENT_ID and SENTINEL_IDP_TOKEN_CLIENT_SECRET)' };
  }
  if (id === 'tls' && !config.tls.hosts?.length && defaultTlsHosts(config).length === 0) {
    return { id, run: false, reason: 'not_configured', message: 'no https host to check (set SENTINEL_TLS_HOSTS or use https URLs)' };
  }
  if (id === 'exposure' && !config.exposure.hosts?.length) {
    return { id, run: false, reason: 'not_configured', message: 'no exposure host (SENTINEL_EXPOSURE_HOSTS: the public hosts whose ports may be checked)' };
  }
  if (checkKind(id) === 'browser' && config.users.length === 0) {
    return { id, run: false, reason: 'not_configured', message: 'no test user (SENTINEL_USER and SENTINEL_PASSWORD)' };
  }
  if (MUTATING_CHECKS.includes(id) && !mutationsAllowed(config, embedded)) {
    return { id, run: false, reason: 'not_permitted', message: 'mutating check: pass --allow-mutations or set SENTINEL_ALLOW_MUTATIONS=true' };
  }
  if (DISRUPTIVE_CHECKS.includes(id)) {
    if (mode === 'monitor') return { id, run: false, reason: 'not_permitted', message: 'disruptive checks never run in monitor mode' };
    if (!disruptionAllowed(config, embedded)) {
      return { id, run: false, reason: 'not_permitted', message: 'disruptive check: pass --allow-disruptive or set SENTINEL_ALLOW_DISRUPTIVE=true' };
    }
    if (!hasRedeployDriver(config)) {
      return { id, run: false, reason: 'not_configured', message: 'no redeploy driver (SENTINEL_COOLIFY_URL/TOKEN/APP_UUID or SENTINEL_REDEPLOY_COMMAND)' };
    }
  }
  return { id, run: true };
}

export function selectChecks(input: SelectionInput): Selection {
  const decisions = CHECK_IDS.map((id) => decide(id, input));
  return {
    decisions,
    run: decisions.filter((d) => d.run).map((d) => d.id),
    skipped: decisions.filter((d) => !d.run).map((d) => skipped(d.id, d.reason!, d.message!)),
  };
}

/**
 * The gate's rule: in ci and postdeploy runs a check skipped as not configured is a check nobody
 * looked at, so the run cannot say "passed". One line per such check (what is missing, how to leave it
 * out on purpose); empty when every check runs, was deselected, is not permitted, or skips are allowed.
 */
export function unconfiguredChecks(mode: RunMode, config: Config, selection: Selection): string[] {
  if ((mode !== 'ci' && mode !== 'postdeploy') || config.allowSkipped) return [];
  return selection.decisions
    .filter((d) => d.reason === 'not_configured')
    .map((d) => `- ${d.id}: ${d.message} — or leave it out on purpose with --skip ${d.id} (SENTINEL_SKIP), or pass --allow-skipped`);
}

export function isProbeId(id: CheckId): id is (typeof PROBE_CHECK_IDS)[number] {
  return (PROBE_CHECK_IDS as readonly string[]).includes(id);
}
