/**
 * The fault matrix (README.md, "Fault matrix: what each failure turns red"): for each reference-stack fault, what a full `sentinel run`
 * must report — exactly these failed checks with these reasons, every other check passed (a skipped
 * check would hide a false alarm) — and the code that runs one case and compares.
 *
 * Each row is decided from the production failure the fault reproduces (docs/target-contract.md §12), never from
 * what the stand-in happens to render. A case is a real `node bin/sentinel.mjs run` child with
 * SENTINEL_STACK_FAULTS set, its own reports folder, and its summary.json read back.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { claimReportsDir } from '../core/reports-dir.ts';
import { CHECK_IDS, WARNINGS, type CheckId, type CheckStatus, type Reason, type Warning } from '../core/result.ts';
import { REPO_ROOT, startEmbeddedStack, type EmbeddedStack } from './embedded-stack.ts';

/** The healthy stack is a row of its own: nothing may fail. */
export const HEALTHY = 'healthy';

export interface FaultExpectation {
  /** A STACK_FAULTS name (fixtures/stack/index.ts), `healthy`, or the name of a scenario row. */
  fault: string;
  /** Exactly the checks that must fail, with their reasons; all others must pass. */
  failed: Partial<Record<CheckId, Reason>>;
  /** Warnings on otherwise passed checks (none expected anywhere else). */
  warnings?: Partial<Record<CheckId, Warning>>;
  /** The production failure this reproduces, and why these checks (and only these) see it. */
  why: string;
  /** A row that is not one stack fault under `sentinel run --embedded`: how its run is set up. */
  scenario?: Scenario;
}

/**
 * What an operator does wrong, or what happens around a run, rather than a fault of the stack: edited
 * variables, a run right after another, a reports folder with junk in it.
 */
export interface Scenario {
  /**
   * `configured`: the stack is started beside the run and handed over as a configured target (its
   * variables, then `env` edits them); `embedded`: `sentinel run --embedded` with `env` added.
   */
  target: 'configured' | 'embedded';
  faults?: readonly string[];
  /** Edits the run's variables: `undefined` removes one. */
  env?: (stackEnv: Readonly<Record<string, string>>) => Record<string, string | undefined>;
  /** Arguments after `sentinel run` (default `--mode postdeploy`). */
  args?: readonly string[];
  /** Runs one right after the other against the same stack; each must match the row. Default 1. */
  runs?: number;
  /** Prepares the reports folder before the first run. */
  prepare?: (reportsDir: string) => Promise<void>;
  /** 2 for a run the configuration stops before any check (no summary then); default from `failed`. */
  exitCode?: 2;
  /** Lines the run must print (stdout or stderr), exactly. */
  lines?: readonly string[];
}

/** Rows the representative half and the table test treat as stack faults. */
export function isScenario(row: FaultExpectation): boolean {
  return row.scenario !== undefined;
}

const ALL_BROWSER = (reason: Reason): Partial<Record<CheckId, Reason>> => ({
  'e2e-login': reason,
  'e2e-admin-crud': reason,
  'e2e-sign-out': reason,
  'e2e-session-redeploy': reason,
});

/** The spec. Order: IdP, app, redeploy, database, TLS — as STACK_FAULTS lists them. */
export const FAULT_MATRIX: readonly FaultExpectation[] = [
  {
    fault: 'idp-login-v1',
    failed: { 'login-v2-redirect': 'login_v1', ...ALL_BROWSER('login_v1') },
    why: '"Use new login UI" off (docs/target-contract.md §12.14): authorize 302s to /ui/login/login, so every sign-in ends on the classic login',
  },
  {
    fault: 'idp-issuer-mismatch',
    failed: { 'oidc-discovery': 'issuer_mismatch', 'idp-token': 'issuer_mismatch' },
    why: 'discovery names the old gadgetbot-auth host (docs/target-contract.md §12.18); the app uses hard-coded endpoints and never reads discovery, so sign-in still works; every client that discovers the IdP (openid-client in idp-token) refuses it',
  },
  {
    fault: 'idp-jwks-empty',
    failed: { 'oidc-discovery': 'jwks_empty', 'idp-token': 'jwks_mismatch' },
    why: 'no signing keys published; Better Auth reads the user from the id_token claims or userinfo without JWKS (docs/target-contract.md §3.4), so only discovery/JWKS and the token check (no key verifies its token) see it',
  },
  {
    fault: 'idp-down',
    failed: { 'oidc-discovery': 'http_status', 'idp-token': 'http_status', 'idp-health': 'idp_not_ready', 'login-v2-redirect': 'idp_error', 'coolify-resources': 'resource_down', ...ALL_BROWSER('idp_error') },
    why: 'Zitadel container stopped behind Traefik (502): discovery, the health endpoints and authorize answer 502, every sign-in stops at the IdP; Coolify shows the Zitadel stack exited',
  },
  {
    fault: 'idp-slow',
    failed: { 'oidc-discovery': 'timeout', 'idp-token': 'timeout', 'idp-health': 'timeout', 'login-v2-redirect': 'timeout', exposure: 'timeout', ...ALL_BROWSER('timeout') },
    why: 'the IdP answers after 60 s (overloaded Zitadel): every IdP request exceeds its deadline, the exposure check\'s read of its Strict-Transport-Security too; TLS at the front is unaffected',
  },
  {
    fault: 'idp-mfa-required',
    failed: ALL_BROWSER('mfa_required'),
    why: 'the login policy forces MFA and the test user has no second factor: after the password Login V2 shows "Set up 2-Factor" without Skip, so no sign-in completes; login-v2-redirect stops at the login page, before any credentials, and passes',
  },
  {
    fault: 'idp-unknown-screen',
    failed: ALL_BROWSER('login_unexpected_screen'),
    why: 'the test user must change the password (expired, or set by an admin): after the password Login V2 shows /password/change, which the flow cannot pass; login-v2-redirect stops at the login page and passes',
  },
  {
    fault: 'idp-jwks-stale',
    failed: { 'idp-token': 'jwks_mismatch' },
    why: 'Zitadel signs with a key its /oauth/v2/keys does not publish (a key rotated behind a stale cache, another instance behind the domain): Better Auth decodes the id_token without verifying it, so sign-in works and every client that verifies breaks; only the token check verifies',
  },
  {
    fault: 'idp-not-ready',
    failed: { 'idp-health': 'idp_not_ready' },
    why: "Zitadel's /debug/ready answers 412 (its database check fails) and the login container's /ready follows with 503, while discovery, tokens and the login pages still answer: only the health check sees it before users do",
  },
  {
    fault: 'idp-login-not-ready',
    failed: { 'idp-health': 'login_not_ready' },
    why: "the Login V2 container lost its connection to Zitadel's API: its /ready answers 503 while its pages still render and Zitadel is ready; only the health check asks the container itself",
  },
  {
    fault: 'idp-token-issuer-mismatch',
    failed: { 'idp-token': 'token_issuer_mismatch' },
    why: "Zitadel's tokens name the old gadgetbot-auth host as iss while discovery names the issuer (the issuer follows the request's host): verifying clients refuse the token; Better Auth does not check it, discovery itself is right",
  },
  {
    fault: 'app-wrong-redirect-uri',
    failed: { 'login-v2-redirect': 'redirect_uri_mismatch', ...ALL_BROWSER('redirect_uri_mismatch') },
    why: 'BETTER_AUTH_URL/callback wrong (docs/target-contract.md §12.5, §12.11): the authorize redirect_uri is not the registered one, no sign-in completes',
  },
  {
    fault: 'app-signout-keeps-session',
    failed: { 'e2e-sign-out': 'session_not_revoked' },
    why: 'sign-out clears the cookie but the sessions row survives (docs/target-contract.md §12.25): only the sign-out check replays the old token',
  },
  {
    fault: 'app-crud-500',
    failed: { 'e2e-admin-crud': 'http_status' },
    why: 'create answers 500 (a DB constraint, a broken deploy): the CRUD flow fails on POST gadgetbots/create; sign-in is fine',
  },
  {
    fault: 'app-sessions-volatile',
    failed: { 'e2e-session-redeploy': 'session_lost' },
    why: 'sessions kept in the app process (no DB store): a redeploy loses every session (docs/target-contract.md §12.30)',
  },
  {
    fault: 'app-secret-rotated',
    failed: { 'e2e-session-redeploy': 'session_lost' },
    why: 'the redeploy changes BETTER_AUTH_SECRET (docs/target-contract.md §12.6): the signed session cookie no longer verifies',
  },
  {
    fault: 'app-cookie-not-httponly',
    failed: { 'e2e-login': 'cookie_insecure' },
    why: "the app's auth config overrides the session token cookie's attributes, so Better Auth sets it without HttpOnly and the page's scripts can read the session; sign-in still works, and only e2e-login judges the cookie the browser stored",
  },
  {
    fault: 'deploy-restarts-idp',
    failed: { 'e2e-session-redeploy': 'idp_disrupted' },
    why: 'the app deploy also restarts Zitadel (one compose): the IdP is unavailable during the deploy; the app session itself survives',
  },
  {
    fault: 'redeploy-slow',
    failed: { 'e2e-session-redeploy': 'downtime_budget' },
    why: 'stop-then-start deploy: ~20 s of downtime, over the 10 s budget (docs/target-contract.md §12.30); the DB-backed session survives',
  },
  {
    fault: 'redeploy-already-queued',
    failed: { 'e2e-session-redeploy': 'instance_unchanged' },
    why: 'a deployment hangs in Coolify: every deploy answers 200 "Deployment already queued for this commit." and queues nothing; the old instance keeps serving, so only evidence of a new deployment tells',
  },
  {
    fault: 'db-migration-pending',
    failed: { db: 'migration_pending', 'login-v2-redirect': 'http_status', ...ALL_BROWSER('sign_in_error') },
    why: 'migrations not run (docs/target-contract.md §12.2): the auth tables are missing, POST sign-in/social answers 500 and the button hangs on "Signing in..."',
  },
  {
    fault: 'db-migration-edited',
    failed: { db: 'migration_edited' },
    why: 'an applied migration file was edited afterwards: the journal hash differs; the live schema still works',
  },
  {
    fault: 'db-down',
    failed: { db: 'db_unreachable', 'login-v2-redirect': 'http_status', 'coolify-resources': 'resource_down', ...ALL_BROWSER('sign_in_error') },
    why: 'Postgres stopped (the database exited): the db probe cannot connect; sign-in/social needs the verifications table, answers 500, and no one signs in; Coolify shows gadgetbot-db exited:unhealthy',
  },
  {
    fault: 'db-port-public',
    failed: { exposure: 'port_exposed' },
    why: 'the database is published on a port the firewall must close ("Make it publicly available" in Coolify, or a Docker port mapping UFW never filters): it accepts connections from outside and answers the PostgreSQL SSLRequest; the app works on, so nothing else sees it',
  },
  {
    fault: 'tls-expiring',
    failed: { tls: 'tls_expiry' },
    why: 'the app certificate has 3 days left (ACME renewal failing, docs/target-contract.md §12.28): inside the 7-day fail window; it still works',
  },
  {
    fault: 'tls-expiring-soon',
    failed: {},
    warnings: { tls: 'tls_expiry_soon' },
    why: '15 days left: inside the 21-day warn window, outside the fail window — a warning on a passed tls check',
  },
  {
    fault: 'tls-expired',
    failed: { tls: 'tls_expiry', ...ALL_BROWSER('tls_expiry') },
    why: 'the app certificate expired (renewal failed): every browser refuses the app (ERR_CERT_DATE_INVALID) even from a trusted CA, so no one signs in; the HTTP probes do not judge certificates and still see the app answer',
  },
  {
    fault: 'tls-wrong-host',
    failed: { tls: 'tls_hostname', ...ALL_BROWSER('tls_hostname') },
    why: 'the served certificate does not cover the app host (wrong Traefik router / default cert): browsers refuse the app (ERR_CERT_COMMON_NAME_INVALID), no one signs in',
  },
  {
    fault: 'tls-untrusted',
    failed: { tls: 'tls_verify', ...ALL_BROWSER('tls_verify') },
    why: 'the certificate chains to an unknown CA (a self-signed or staging certificate): browsers refuse the app (ERR_CERT_AUTHORITY_INVALID), no one signs in',
  },
  {
    fault: 'tls-cn-only',
    failed: { tls: 'tls_hostname', ...ALL_BROWSER('tls_hostname') },
    why: 'the app certificate names its host only in the subject CN, with no subjectAltName (a hand-made certificate): browsers ignore the CN and refuse the app (ERR_CERT_COMMON_NAME_INVALID); Node clients still accept it, so the HTTP probes pass',
  },
  {
    fault: 'tls-host-hangs',
    failed: { tls: 'timeout' },
    why: 'one more listed TLS host accepts TCP and never answers the handshake (a wedged load balancer): that host fails at its handshake deadline, the app, IdP and Coolify certificates are still judged and nothing else uses that host',
  },
  {
    fault: 'coolify-app-unhealthy',
    failed: { 'app-health': 'http_status', 'login-v2-redirect': 'http_status', 'coolify-resources': 'resource_unhealthy', ...ALL_BROWSER('sign_in_error') },
    why: "the app's health check fails in Coolify (a wrong path or port): Coolify reports running:unhealthy, and Traefik routes nothing to a container Docker calls unhealthy, so the app answers Traefik's 404; the IdP, the database and the certificate are untouched",
  },
  {
    fault: 'coolify-deploy-failed',
    failed: { 'coolify-resources': 'deploy_failed' },
    why: 'the last deployment (a push to main) failed in Coolify: the previous version keeps serving, so only Coolify\'s deployment record shows that production is not what was pushed',
  },
  {
    fault: 'coolify-backup-failed',
    failed: { backups: 'backup_failed' },
    why: "last night's backup of gadgetbot-db failed (pg_dump refused by the database): the app runs on, only the backup record shows it",
  },
  {
    fault: 'coolify-backup-stale',
    failed: { backups: 'backup_stale' },
    why: 'the schedule is enabled but nothing has run for three days (the scheduler stopped, the server was unreachable): Coolify writes no failed run for a skipped schedule, so only the age of the newest backup shows it',
  },
  {
    fault: 'coolify-backup-disabled',
    failed: { backups: 'backup_disabled' },
    why: 'the scheduled backup of gadgetbot-db was switched off: Coolify skips it silently; the schedule itself says so',
  },
  {
    fault: 'coolify-no-backup-api',
    failed: { backups: 'not_supported' },
    why: 'Coolify 4.0.0-beta.420, from before the backup API (v4.0.0-beta.429): the backup endpoints fall into the catch-all 404, so the check says it cannot look and names the version, while resources and deployments are still read',
  },
  {
    fault: 'proxy-http-not-redirected',
    failed: { exposure: 'http_not_redirected' },
    why: 'the app domain is served over plain http as well (a domain given with http://, "Force Https" off): http://<app>/ answers 200 instead of a redirect; every check that uses https still passes',
  },
  {
    fault: 'proxy-no-hsts',
    failed: {},
    warnings: { exposure: 'hsts_missing' },
    why: 'Traefik sends no Strict-Transport-Security (Coolify adds none by default): browsers would not insist on https next time; the plan does not ask for it, so a warning on a passed exposure check',
  },
  {
    fault: HEALTHY,
    failed: {},
    why: 'the healthy stack: every check passes, nothing flaky, no warning',
  },
  // Scenario rows: the operator's side of a run.
  {
    fault: 'typo-variable',
    failed: {},
    scenario: {
      target: 'configured',
      env: (stack) => ({ SENTINEL_APP_URL: undefined, SENTINEL_APP_URI: stack.SENTINEL_APP_URL }),
      exitCode: 2,
      lines: ['- SENTINEL_APP_URI: unknown variable SENTINEL_APP_URI (did you mean SENTINEL_APP_URL?); the known ones are listed in .env.example'],
    },
    why: 'a typo in a variable name with users and a database set: refused, never a run against something else (the local stand-in)',
  },
  {
    fault: 'variables-without-target',
    failed: {},
    scenario: {
      target: 'configured',
      env: () => ({ SENTINEL_APP_URL: undefined, SENTINEL_ISSUER: undefined }),
      exitCode: 2,
      lines: ['- no target: set SENTINEL_APP_URL and SENTINEL_ISSUER (or SENTINEL_CONFIG), or pass --embedded to run against the local reference stack'],
    },
    why: 'users, database and Coolify set but no app or issuer: refused (the embedded stack is the target only with --embedded)',
  },
  {
    fault: 'hsts-required',
    failed: { exposure: 'hsts_missing' },
    scenario: { target: 'configured', faults: ['proxy-no-hsts'], env: () => ({ SENTINEL_HSTS_REQUIRED: 'true' }) },
    why: 'no Strict-Transport-Security on any front, and the operator made HSTS a requirement (SENTINEL_HSTS_REQUIRED=true): the warning of proxy-no-hsts becomes a failure of the exposure check',
  },
  {
    fault: 'ci-missing-secret',
    failed: {},
    scenario: {
      target: 'configured',
      env: () => ({ SENTINEL_DATABASE_URL: undefined }),
      args: ['--mode', 'ci'],
      exitCode: 2,
      lines: ['- db: no database URL (SENTINEL_DATABASE_URL) — or leave it out on purpose with --skip db (SENTINEL_SKIP), or pass --allow-skipped'],
    },
    why: 'a CI gate whose database secret is missing (a fork, a renamed secret): the db check could not look, so the gate is not green',
  },
  {
    fault: 'runs-back-to-back',
    failed: {},
    scenario: { target: 'configured', runs: 2 },
    why: "a second run right after the first (a CI retry, a second operator): the first run's sign-ins still count in Better Auth's limit; the second waits the window the server states, never rate_limited",
  },
  {
    fault: 'redeploy-noop-command',
    failed: { 'e2e-session-redeploy': 'instance_unchanged' },
    scenario: {
      target: 'configured',
      // The app's home page names its build; a redeploy serves a new one. `true` redeploys nothing.
      env: (stack) => ({ SENTINEL_REDEPLOY_DRIVER: 'command', SENTINEL_REDEPLOY_COMMAND: 'true', SENTINEL_REDEPLOY_INSTANCE_URL: `${stack.SENTINEL_APP_URL}/` }),
    },
    why: 'a redeploy command that does nothing (a typo, a wrong service name): it exits 0, but the instance signal never changes, so no redeploy was proven',
  },
  {
    fault: 'reports-corrupt-zip',
    failed: {},
    scenario: {
      target: 'embedded',
      // A zip in the reports folder that cannot be read cannot be proven clean: it is replaced and named.
      prepare: async (reportsDir) => {
        claimReportsDir(reportsDir);
        await mkdir(join(reportsDir, 'old'), { recursive: true });
        await writeFile(join(reportsDir, 'old', 'trace.zip'), Buffer.from('PK\u0003\u0004 corrupt'));
      },
      lines: ['sentinel: replaced 1 report file(s) that could not be scrubbed of secrets: old/trace.zip'],
    },
    why: 'the reports folder holds a zip that cannot be read (a trace of a killed run, a broken copy): it cannot be proven clean, so it is replaced by a placeholder and the run says so',
  },
  {
    fault: 'redeploy-bare-command',
    failed: {},
    warnings: { 'e2e-session-redeploy': 'redeploy_unverified' },
    scenario: { target: 'configured', env: () => ({ SENTINEL_REDEPLOY_DRIVER: 'command', SENTINEL_REDEPLOY_COMMAND: 'true' }) },
    why: 'a redeploy command with no instance signal configured: its exit 0 is all there is, so the check passes with the warning that the redeploy was not verified',
  },
];

export function expectationFor(fault: string): FaultExpectation {
  const row = FAULT_MATRIX.find((r) => r.fault === fault);
  if (!row) throw new Error(`no fault-matrix row for "${fault}"`);
  return row;
}

/** What one run reported, reduced to what the matrix compares. */
export interface ObservedCheck {
  id: CheckId;
  status: CheckStatus | 'missing';
  reason?: string;
  warnings: string[];
}

export interface FaultCaseResult {
  fault: string;
  expectation: FaultExpectation;
  exitCode: number | null;
  /** Killed because the case overran its deadline. */
  timedOut: boolean;
  /** The embedded stack never became ready (no check ran). */
  stackStartFailed: boolean;
  /** Stack starts it took (more than 1 only when the stack failed to come up). */
  startAttempts: number;
  durationMs: number;
  checks: ObservedCheck[];
  /** Empty when the run matched its row exactly. */
  mismatches: string[];
  reportsDir: string;
  /** Last stderr lines of the run (diagnostics when no summary was written). */
  stderrTail: string;
}

interface SummaryCheck {
  id: string;
  status: CheckStatus;
  reason?: string;
  warnings?: string[];
  observations?: Record<string, unknown>;
}

/**
 * Warnings of a check. summary.json (runner/reporters/summary-json.ts) carries no `warnings` field, so the tls
 * warning is read from the tls observations (hosts[].reason), where the probe records it per host.
 */
export function warningsOf(check: SummaryCheck): string[] {
  const found = new Set<string>(check.warnings ?? []);
  const hosts = check.observations?.hosts;
  if (Array.isArray(hosts)) {
    for (const host of hosts as Array<{ reason?: unknown }>) {
      if (typeof host?.reason === 'string' && (WARNINGS as readonly string[]).includes(host.reason)) found.add(host.reason);
    }
  }
  return [...found].sort();
}

export function observedChecks(summary: { checks?: SummaryCheck[] } | undefined): ObservedCheck[] {
  return CHECK_IDS.map((id) => {
    const check = summary?.checks?.find((c) => c.id === id);
    if (!check) return { id, status: 'missing' as const, warnings: [] };
    return { id, status: check.status, ...(check.reason ? { reason: check.reason } : {}), warnings: warningsOf(check) };
  });
}

/**
 * How a check's status differs from its row: `failed` with `wantReason` when the row names one,
 * else `passed`. A failed check is then compared by reason too.
 */
function statusMismatch(check: ObservedCheck, wantReason: Reason | undefined): string | undefined {
  const wantStatus = wantReason ? 'failed' : 'passed';
  if (check.status !== wantStatus) {
    return `${check.id}: expected ${wantStatus}${wantReason ? ` (${wantReason})` : ''}, got ${check.status}${check.reason ? ` (${check.reason})` : ''}`;
  }
  if (wantReason && check.reason !== wantReason) return `${check.id}: expected reason ${wantReason}, got ${check.reason ?? '(none)'}`;
  return undefined;
}

/** Every difference between a run and its row; empty means an exact match. */
export function compareWithExpectation(expectation: FaultExpectation, checks: readonly ObservedCheck[], exitCode: number | null, output = ''): string[] {
  const problems: string[] = [];
  const printed = output.split('\n');
  for (const line of expectation.scenario?.lines ?? []) if (!printed.includes(line)) problems.push(`no line "${line}" in the output`);
  if (expectation.scenario?.exitCode === 2) {
    if (exitCode !== 2) problems.push(`exit code ${exitCode ?? 'none'}, expected 2`);
    const ran = checks.filter((c) => c.status !== 'missing').map((c) => c.id);
    if (ran.length) problems.push(`expected no check to run, got ${ran.join(', ')}`);
    return problems;
  }
  for (const check of checks) {
    const wantWarnings = expectation.warnings?.[check.id] ? [expectation.warnings[check.id]!] : [];
    const status = statusMismatch(check, expectation.failed[check.id]);
    if (status) problems.push(status);
    if (check.warnings.join(',') !== wantWarnings.join(',')) {
      problems.push(`${check.id}: expected warnings [${wantWarnings.join(', ')}], got [${check.warnings.join(', ')}]`);
    }
  }
  const wantExit = Object.keys(expectation.failed).length > 0 ? 1 : 0;
  if (exitCode !== wantExit) problems.push(`exit code ${exitCode ?? 'none'}, expected ${wantExit}`);
  return problems;
}

export interface RunFaultCaseOptions {
  /** Reports folder of this run; default a fresh temp folder. */
  reportsDir?: string;
  /** Deadline of each run (stack start, probes, browser, stop); default 6 min. */
  timeoutMs?: number;
  /** Environment to start from; default process.env (its SENTINEL_* and CI variables are removed). */
  baseEnv?: NodeJS.ProcessEnv;
  /** How often a stack that never became ready is started again; default 3 starts. */
  startAttempts?: number;
}

/** The environment a case starts from: no SENTINEL_* of the caller, no CI (the mode is explicit). */
export function caseEnv(reportsDir: string, baseEnv: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(baseEnv)) if (!key.startsWith('SENTINEL_') && key !== 'CI') env[key] = value;
  env.SENTINEL_REPORTS_DIR = reportsDir;
  return env;
}

/** The scenario a row stands for: its own, or its stack fault under `sentinel run --embedded`. */
export function scenarioOf(expectation: FaultExpectation): Scenario {
  return expectation.scenario ?? { target: 'embedded', faults: expectation.fault === HEALTHY ? [] : [expectation.fault] };
}

/** The run never got a stack (exit 2 before any check): no verdict about the checks, so the case may start again. */
export function stackDidNotStart(exitCode: number | null, stderrTail: string, hasSummary: boolean): boolean {
  return exitCode === 2 && !hasSummary && /sentinel: the local stack (was not ready|exited|was killed)/.test(stderrTail);
}

/**
 * Runs the row's scenario (by default `sentinel run --embedded` with the fault) and compares with the
 * row. A run whose stack did not come up produced no check result at all; it is started again, up to
 * `startAttempts` times, and the attempts are recorded. Check results are never retried.
 */
export async function runFaultCase(fault: string, options: RunFaultCaseOptions = {}): Promise<FaultCaseResult> {
  const attempts = Math.max(1, options.startAttempts ?? 3);
  let result: FaultCaseResult | undefined;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    result = { ...(await runFaultCaseOnce(fault, options)), startAttempts: attempt };
    if (!result.stackStartFailed) break;
  }
  return result!;
}

interface SentinelRun {
  exitCode: number | null;
  timedOut: boolean;
  stdout: string;
  stderrTail: string;
}

function runSentinel(args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<SentinelRun> {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'bin/sentinel.mjs'), 'run', ...args], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderrTail = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderrTail = (stderrTail + chunk.toString()).slice(-4000)));
  let timedOut = false;
  // SIGTERM lets sentinel stop Playwright and the stack; SIGKILL only if it does not within 20 s.
  const deadline = setTimeout(() => {
    timedOut = true;
    child.kill('SIGTERM');
    setTimeout(() => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL'), 20_000).unref();
  }, timeoutMs);
  return new Promise((resolve) => {
    const done = (exitCode: number | null) => {
      clearTimeout(deadline);
      resolve({ exitCode, timedOut, stdout, stderrTail });
    };
    child.once('error', () => done(null));
    child.once('close', (code) => done(code));
  });
}

function applyEdits(env: NodeJS.ProcessEnv, edits: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const out = { ...env };
  for (const [key, value] of Object.entries(edits)) {
    if (value === undefined) delete out[key];
    else out[key] = value;
  }
  return out;
}

async function readSummary(reportsDir: string): Promise<{ checks?: SummaryCheck[] } | undefined> {
  try {
    return JSON.parse(await readFile(join(reportsDir, 'summary.json'), 'utf8')) as { checks?: SummaryCheck[] };
  } catch {
    return undefined;
  }
}

async function runFaultCaseOnce(fault: string, options: RunFaultCaseOptions): Promise<FaultCaseResult> {
  const expectation = expectationFor(fault);
  const scenario = scenarioOf(expectation);
  const reportsDir = options.reportsDir ?? (await mkdtemp(join(tmpdir(), `sentinel-fault-${fault}-`)));
  const timeoutMs = options.timeoutMs ?? 360_000;
  const started = performance.now();
  const base = caseEnv(reportsDir, options.baseEnv);
  let stack: EmbeddedStack | undefined;
  const result = (partial: Partial<FaultCaseResult> & Pick<FaultCaseResult, 'checks' | 'mismatches'>): FaultCaseResult => ({
    fault,
    expectation,
    exitCode: null,
    timedOut: false,
    stackStartFailed: false,
    startAttempts: 1,
    durationMs: Math.round(performance.now() - started),
    reportsDir,
    stderrTail: '',
    ...partial,
  });
  try {
    let env: NodeJS.ProcessEnv;
    if (scenario.target === 'configured') {
      try {
        stack = await startEmbeddedStack({ baseEnv: base, faults: scenario.faults ?? [] });
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        return result({ stackStartFailed: true, stderrTail: message, checks: observedChecks(undefined), mismatches: [`the stack did not start: ${message}`] });
      }
      env = applyEdits({ ...base, ...stack.env }, scenario.env?.(stack.env) ?? {});
    } else {
      env = applyEdits({ ...base, SENTINEL_STACK_FAULTS: (scenario.faults ?? []).join(',') }, scenario.env?.({}) ?? {});
    }
    await scenario.prepare?.(reportsDir);
    const args = [...(scenario.target === 'embedded' ? ['--embedded'] : []), ...(scenario.args ?? ['--mode', 'postdeploy'])];
    const mismatches: string[] = [];
    let last: SentinelRun | undefined;
    let checks = observedChecks(undefined);
    const runs = Math.max(1, scenario.runs ?? 1);
    for (let run = 1; run <= runs; run++) {
      await rm(join(reportsDir, 'summary.json'), { force: true });
      last = await runSentinel(args, env, timeoutMs);
      await writeFile(join(reportsDir, run === runs ? 'sentinel-stdout.txt' : `sentinel-stdout-${run}.txt`), last.stdout).catch(() => undefined);
      const summary = await readSummary(reportsDir);
      checks = observedChecks(summary);
      const label = runs > 1 ? `run ${run} of ${runs}: ` : '';
      const found = compareWithExpectation(expectation, checks, last.exitCode, `${last.stdout}\n${last.stderrTail}`).map((m) => `${label}${m}`);
      const wantsSummary = scenario.exitCode !== 2;
      if (!summary && wantsSummary) found.unshift(`${label}no summary.json (exit ${last.exitCode ?? 'none'}${last.timedOut ? ', killed at the deadline' : ''}): ${last.stderrTail.trim().split('\n').pop() ?? ''}`);
      if (last.timedOut) found.unshift(`${label}the run exceeded its deadline of ${Math.round(timeoutMs / 1000)} s`);
      mismatches.push(...found);
      if (scenario.target === 'embedded' && stackDidNotStart(last.exitCode, last.stderrTail, summary !== undefined)) {
        return result({ exitCode: last.exitCode, stackStartFailed: true, stderrTail: last.stderrTail, checks, mismatches });
      }
      if (run < runs) await rename(join(reportsDir, 'summary.json'), join(reportsDir, `summary-${run}.json`)).catch(() => undefined);
    }
    return result({ exitCode: last!.exitCode, timedOut: last!.timedOut, stderrTail: last!.stderrTail, checks, mismatches });
  } finally {
    await stack?.stop();
  }
}

function describeFailed(failed: Partial<Record<string, string>>, warnings?: Partial<Record<string, string>>): string {
  const parts = Object.entries(failed).map(([id, reason]) => `${id}: ${reason}`);
  for (const [id, warning] of Object.entries(warnings ?? {})) parts.push(`${id}: warning ${warning}`);
  return parts.length ? parts.join('<br>') : '(none)';
}

function describeObserved(result: FaultCaseResult): string {
  const failed: Record<string, string> = {};
  const warnings: Record<string, string> = {};
  const other: string[] = [];
  for (const check of result.checks) {
    if (check.status === 'failed') failed[check.id] = check.reason ?? '(no reason)';
    else if (check.status !== 'passed') other.push(`${check.id}: ${check.status}${check.reason ? ` (${check.reason})` : ''}`);
    if (check.warnings.length) warnings[check.id] = check.warnings.join(', ');
  }
  const text = describeFailed(failed, warnings);
  return other.length ? `${text}<br>${other.join('<br>')}` : text;
}

/** Detection = fault rows that matched exactly; false alarm = a healthy run that reported anything. */
export function matrixStats(results: readonly FaultCaseResult[]) {
  const faultRuns = results.filter((r) => r.fault !== HEALTHY);
  const healthyRuns = results.filter((r) => r.fault === HEALTHY);
  const detected = faultRuns.filter((r) => r.mismatches.length === 0).length;
  const falseAlarms = healthyRuns.filter((r) => r.mismatches.length > 0).length;
  return {
    faults: faultRuns.length,
    detected,
    detectionRate: faultRuns.length ? detected / faultRuns.length : 1,
    healthyRuns: healthyRuns.length,
    falseAlarms,
    mismatches: results.filter((r) => r.mismatches.length > 0).length,
  };
}

/** The detection figure for a console line; a selection of healthy runs only has no fault row to detect. */
export function detectionSummary(stats: Pick<ReturnType<typeof matrixStats>, 'faults' | 'detected' | 'detectionRate'>): string {
  if (stats.faults === 0) return 'no fault row ran (detection rate not applicable)';
  return `detection rate ${stats.detected}/${stats.faults} (${(stats.detectionRate * 100).toFixed(0)} %)`;
}

export function matrixMarkdown(results: readonly FaultCaseResult[], when: Date = new Date()): string {
  const stats = matrixStats(results);
  const lines = [
    '# Fault matrix',
    '',
    `Run ${when.toISOString()}: every fault of the reference stack, one full \`sentinel run\` each (no retries), then the healthy stack ${stats.healthyRuns} times.`,
    '',
    '| fault | expected failed checks (reason) | observed | verdict | run time |',
    '|---|---|---|---|---|',
  ];
  results.forEach((result) => {
    const verdict = result.mismatches.length === 0 ? 'match' : `**MISMATCH**: ${result.mismatches.join('; ').replace(/\|/g, '\\|')}`;
    const starts = result.startAttempts > 1 ? ` (stack started ${result.startAttempts}×)` : '';
    lines.push(`| ${result.fault} | ${describeFailed(result.expectation.failed, result.expectation.warnings)} | ${describeObserved(result)} | ${verdict} | ${(result.durationMs / 1000).toFixed(1)} s${starts} |`);
  });
  lines.push(
    '',
    stats.faults === 0 ? 'No fault row ran (healthy runs only).' : `Detection rate: ${stats.detected}/${stats.faults} faults (${(stats.detectionRate * 100).toFixed(0)} %) yield exactly their expected checks and reasons.`,
    `False alarms: ${stats.falseAlarms} of ${stats.healthyRuns} healthy runs reported a failed, flaky, skipped or warned check.`,
    '',
  );
  return lines.join('\n');
}
