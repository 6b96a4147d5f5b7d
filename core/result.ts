/**
 * The one result model every check produces (its JSON form: README.md, "Reports"). Probes, browser specs, reporters
 * and metrics all speak this shape; nothing else crosses a layer boundary.
 */

export const PROBE_CHECK_IDS = [
  'tls', 'app-health', 'oidc-discovery', 'login-v2-redirect', 'db',
  // Coolify's view of the deployment: resource status, the last deployment, the database backups
  'coolify-resources',
  'backups',
  'idp-token',
  'idp-health',
  // closed ports, http→https redirects, HSTS on the public hosts
  'exposure',
] as const;
export const BROWSER_CHECK_IDS = ['e2e-login', 'e2e-admin-crud', 'e2e-sign-out', 'e2e-session-redeploy'] as const;
export const CHECK_IDS = [...PROBE_CHECK_IDS, ...BROWSER_CHECK_IDS] as const;

export type ProbeCheckId = (typeof PROBE_CHECK_IDS)[number];
export type BrowserCheckId = (typeof BROWSER_CHECK_IDS)[number];
export type CheckId = (typeof CHECK_IDS)[number];
export type CheckKind = 'probe' | 'browser';
export type CheckStatus = 'passed' | 'failed' | 'flaky' | 'skipped';

export function isCheckId(value: string): value is CheckId {
  return (CHECK_IDS as readonly string[]).includes(value);
}

export function checkKind(id: CheckId): CheckKind {
  return (PROBE_CHECK_IDS as readonly string[]).includes(id) ? 'probe' : 'browser';
}

/**
 * Bounded failure (and skip) reasons. Metrics label on these, so the set is closed:
 * a new failure mode gets a new code here, never free text.
 */
export const REASONS = [
  // transport
  'timeout', 'dns', 'connect_refused', 'connection_reset', 'tls_handshake',
  // tls
  'tls_verify', 'tls_hostname', 'tls_expiry',
  // http / protocol
  'http_status', 'bad_response',
  // oidc
  'issuer_mismatch', 'endpoint_mismatch', 'pkce_unsupported', 'scope_unsupported', 'jwks_empty', 'jwks_unusable',
  // idp-token: a machine user's token, verified as every other client of the IdP verifies it
  'token_grant_refused', 'token_not_jwt', 'jwks_mismatch', 'token_issuer_mismatch', 'token_audience_mismatch', 'clock_skew', 'token_rejected',
  // idp-health: Zitadel's readiness and the Login V2 container's
  'idp_not_ready', 'login_not_ready',
  // login v2 redirect / sign-in
  'login_v1', 'login_wrong_host', 'login_page_error', 'authorize_mismatch', 'redirect_uri_mismatch', 'sign_in_error',
  'rate_limited', 'idp_error',
  // Login V2 asks the test user for a second factor (forced MFA, or a factor registered)
  'mfa_required',
  // Login V2 shows a screen the sign-in cannot pass (password change, email verification, register…)
  'login_unexpected_screen',
  // database
  'db_auth', 'db_unreachable', 'db_query', 'db_schema', 'migration_pending', 'migration_edited', 'migration_unknown',
  'migration_journal',
  // exposure: a port that must be closed accepts connections; plain http served without a redirect to https
  'port_exposed', 'http_not_redirected',
  // exposure: no Strict-Transport-Security (or a short max-age) on an https response, when configured to fail
  'hsts_missing',
  // e2e-login: a session cookie over https without Secure or HttpOnly, as the browser stored it
  'cookie_insecure',
  // browser flows
  'assertion', 'session_lost', 'session_not_revoked', 'idp_disrupted', 'downtime_budget', 'redeploy_failed',
  'instance_unchanged', 'cleanup_failed',
  // Coolify resources and deployments
  'resource_down', 'resource_unhealthy', 'resource_missing', 'deploy_failed',
  // the Coolify API refuses the token (401, a missing ability, the API disabled)
  'coolify_auth',
  // database backups in Coolify
  'backup_missing', 'backup_disabled', 'backup_schedule', 'backup_retention', 'backup_failed', 'backup_stale',
  // the target's software is older than the API the check needs
  'not_supported',
  // skips
  'not_configured', 'not_permitted', 'not_selected', 'dependency_failed',
  // anything the classifier cannot place
  'unexpected',
] as const;
export type Reason = (typeof REASONS)[number];

export function isReason(value: string): value is Reason {
  return (REASONS as readonly string[]).includes(value);
}

/** Warnings never fail a check (e.g. a certificate inside the warn window but outside the fail window). */
export const WARNINGS = [
  'tls_expiry_soon',
  // a redeploy command exited 0 but nothing showed that a new instance serves (no instance signal configured)
  'redeploy_unverified',
  // a Coolify resource runs without a health check (`running:unknown`): Coolify cannot tell healthy from broken
  'resource_health_unknown',
  // an https response without Strict-Transport-Security, or with a max-age below the minimum (the default: a warning)
  'hsts_missing',
] as const;
export type Warning = (typeof WARNINGS)[number];

export function isWarning(value: string): value is Warning {
  return (WARNINGS as readonly string[]).includes(value);
}

/** One assertion, Gatus style: what was observed against what was expected. */
export interface Assertion {
  name: string;
  ok: boolean;
  observed: unknown;
  expected: unknown;
}

function showValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === undefined) return '(none)';
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text;
}

/** The one-line message of a failed assertion: `issuer: observed "a" expected "b"`. */
export function failureLine(a: Pick<Assertion, 'name' | 'observed' | 'expected'>): string {
  return `${a.name}: observed ${showValue(a.observed)} expected ${showValue(a.expected)}`;
}

export interface CheckResult {
  id: CheckId;
  kind: CheckKind;
  status: CheckStatus;
  startedAt: string;
  durationMs: number;
  /** Host or base URL the check ran against (no credentials, no query). */
  target?: string;
  /** Set when status is failed or skipped. */
  reason?: Reason;
  /** One line a person reads first: why it failed, why it was skipped, or what a passed check's warning means. Redacted. */
  message?: string;
  warnings?: Warning[];
  assertions?: Assertion[];
  /** Measured values (numbers, short strings, small objects); already redacted. */
  observations?: Record<string, unknown>;
  /** Paths (relative to the reports folder) of failure artifacts: trace, screenshot. */
  artifacts?: string[];
}

export interface RunTotals {
  passed: number;
  failed: number;
  flaky: number;
  skipped: number;
}

export interface RunSummary {
  mode: string;
  target: string;
  startedAt: string;
  durationMs: number;
  checks: CheckResult[];
  totals: RunTotals;
  /** Runs with browser checks: what scrubbing the reports did (runner/cleanup.ts). */
  scrub?: { filesRewritten: number; filesReplaced: string[]; artifactsDropped?: string };
  /** Runs with browser checks: test users' sessions the runner still had to sign out, and those left. */
  sessions?: { endedByRunner: string[]; notEnded: string[] };
}

export function totalsOf(checks: readonly CheckResult[]): RunTotals {
  const totals: RunTotals = { passed: 0, failed: 0, flaky: 0, skipped: 0 };
  for (const check of checks) totals[check.status] += 1;
  return totals;
}

/**
 * The verdict of a run, the same in every report: failed when a check failed or was flaky, passed
 * only when at least one check passed and none failed, and "nothing ran" when every check was skipped
 * (a run that looked at nothing never says passed).
 */
export type Verdict = 'failed' | 'passed' | 'nothing_ran';
export function verdictOf(totals: RunTotals): Verdict {
  if (totals.failed + totals.flaky > 0) return 'failed';
  return totals.passed > 0 ? 'passed' : 'nothing_ran';
}

/**
 * The one rule for what counts as a success, wherever results are counted (exit code, metrics,
 * history, status): only `passed`. A pass after a retry (`flaky`) can hide an outage, so it is a failure.
 */
export function countsAsPassed(status: CheckStatus): boolean {
  return status === 'passed';
}

/** A result that stands for a failure: failed, or flaky. */
export function countsAsFailed(status: CheckStatus): boolean {
  return status === 'failed' || status === 'flaky';
}

/** Exit code of a run: 1 when any check counts as failed. */
export function exitCodeOf(checks: readonly CheckResult[]): 0 | 1 {
  return checks.some((c) => countsAsFailed(c.status)) ? 1 : 0;
}

export function skipped(id: CheckId, reason: Reason, message: string, target?: string): CheckResult {
  return {
    id,
    kind: checkKind(id),
    status: 'skipped',
    startedAt: new Date().toISOString(),
    durationMs: 0,
    reason,
    message,
    ...(target ? { target } : {}),
  };
}
