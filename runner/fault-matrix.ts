/**
 * The fault matrix (issue 7, items 1-2): for each reference-stack fault, what a full `sentinel run`
 * must report — exactly these failed checks with these reasons, every other check passed (a skipped
 * check would hide a false alarm) — and the code that runs one case and compares.
 *
 * Each row is decided from the production failure the fault reproduces (contract §12), never from
 * what the stand-in happens to render. A case is a real `node bin/sentinel.mjs run` child with
 * SENTINEL_STACK_FAULTS set, its own reports folder, and its summary.json read back.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHECK_IDS, WARNINGS, type CheckId, type CheckStatus, type Reason, type Warning } from '../core/result.ts';
import { REPO_ROOT } from './embedded-stack.ts';

/** The healthy stack is a row of its own: nothing may fail. */
export const HEALTHY = 'healthy';

export interface FaultExpectation {
  /** A STACK_FAULTS name (fixtures/stack/index.ts), or `healthy`. */
  fault: string;
  /** Exactly the checks that must fail, with their reasons; all others must pass. */
  failed: Partial<Record<CheckId, Reason>>;
  /** Warnings on otherwise passed checks (none expected anywhere else). */
  warnings?: Partial<Record<CheckId, Warning>>;
  /** The production failure this reproduces, and why these checks (and only these) see it. */
  why: string;
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
    why: '"Use new login UI" off (contract §12.14): authorize 302s to /ui/login/login, so every sign-in ends on the classic login',
  },
  {
    fault: 'idp-issuer-mismatch',
    failed: { 'oidc-discovery': 'issuer_mismatch' },
    why: 'discovery names the old gadgetbot-auth host (§12.18); the app uses hard-coded endpoints and never reads discovery, so sign-in still works',
  },
  {
    fault: 'idp-jwks-empty',
    failed: { 'oidc-discovery': 'jwks_empty' },
    why: 'no signing keys published; Better Auth reads the user from the id_token claims or userinfo without JWKS (contract §5), so only discovery/JWKS sees it',
  },
  {
    fault: 'idp-down',
    failed: { 'oidc-discovery': 'http_status', 'login-v2-redirect': 'idp_error', ...ALL_BROWSER('idp_error') },
    why: 'Zitadel container stopped behind Traefik (502): discovery and authorize answer 502, every sign-in stops at the IdP',
  },
  {
    fault: 'idp-slow',
    failed: { 'oidc-discovery': 'timeout', 'login-v2-redirect': 'timeout', ...ALL_BROWSER('timeout') },
    why: 'the IdP answers after 60 s (overloaded Zitadel): every IdP request exceeds its deadline; TLS at the front is unaffected',
  },
  {
    fault: 'app-wrong-redirect-uri',
    failed: { 'login-v2-redirect': 'redirect_uri_mismatch', ...ALL_BROWSER('redirect_uri_mismatch') },
    why: 'BETTER_AUTH_URL/callback wrong (§12.5, §12.11): the authorize redirect_uri is not the registered one, no sign-in completes',
  },
  {
    fault: 'app-signout-keeps-session',
    failed: { 'e2e-sign-out': 'session_not_revoked' },
    why: 'sign-out clears the cookie but the sessions row survives (§12.25): only the sign-out check replays the old token',
  },
  {
    fault: 'app-crud-500',
    failed: { 'e2e-admin-crud': 'http_status' },
    why: 'create answers 500 (a DB constraint, a broken deploy): the CRUD flow fails on POST gadgetbots/create; sign-in is fine',
  },
  {
    fault: 'app-sessions-volatile',
    failed: { 'e2e-session-redeploy': 'session_lost' },
    why: 'sessions kept in the app process (no DB store): a redeploy loses every session (§12.30)',
  },
  {
    fault: 'app-secret-rotated',
    failed: { 'e2e-session-redeploy': 'session_lost' },
    why: 'the redeploy changes BETTER_AUTH_SECRET (§12.6): the signed session cookie no longer verifies',
  },
  {
    fault: 'deploy-restarts-idp',
    failed: { 'e2e-session-redeploy': 'idp_disrupted' },
    why: 'the app deploy also restarts Zitadel (one compose): the IdP is unavailable during the deploy; the app session itself survives',
  },
  {
    fault: 'redeploy-slow',
    failed: { 'e2e-session-redeploy': 'downtime_budget' },
    why: 'stop-then-start deploy: ~20 s of downtime, over the 10 s budget (§12.30); the DB-backed session survives',
  },
  {
    fault: 'redeploy-already-queued',
    failed: { 'e2e-session-redeploy': 'instance_unchanged' },
    why: 'a deployment hangs in Coolify: every deploy answers 200 "Deployment already queued for this commit." and queues nothing; the old instance keeps serving, so only evidence of a new deployment tells',
  },
  {
    fault: 'db-migration-pending',
    failed: { db: 'migration_pending', 'login-v2-redirect': 'http_status', ...ALL_BROWSER('sign_in_error') },
    why: 'migrations not run (§12.2): the auth tables are missing, POST sign-in/social answers 500 and the button hangs on "Signing in..."',
  },
  {
    fault: 'db-migration-edited',
    failed: { db: 'migration_edited' },
    why: 'an applied migration file was edited afterwards: the journal hash differs; the live schema still works',
  },
  {
    fault: 'db-down',
    failed: { db: 'db_unreachable', 'login-v2-redirect': 'http_status', ...ALL_BROWSER('sign_in_error') },
    why: 'Postgres stopped: the db probe cannot connect; sign-in/social needs the verifications table, answers 500, and no one signs in',
  },
  {
    fault: 'tls-expiring',
    failed: { tls: 'tls_expiry' },
    why: 'the app certificate has 3 days left (ACME renewal failing, §12.28): inside the 7-day fail window; it still works',
  },
  {
    fault: 'tls-expiring-soon',
    failed: {},
    warnings: { tls: 'tls_expiry_soon' },
    why: '15 days left: inside the 21-day warn window, outside the fail window — a warning on a passed tls check',
  },
  {
    fault: 'tls-expired',
    failed: { tls: 'tls_expiry' },
    why: 'the app certificate expired; certificate verdicts belong to the tls probe only (the flows ignore HTTPS errors)',
  },
  {
    fault: 'tls-wrong-host',
    failed: { tls: 'tls_hostname' },
    why: 'the served certificate does not cover the app host (wrong Traefik router / default cert)',
  },
  {
    fault: 'tls-untrusted',
    failed: { tls: 'tls_verify' },
    why: 'the certificate chains to an unknown CA (Traefik default self-signed cert)',
  },
  {
    fault: HEALTHY,
    failed: {},
    why: 'the healthy stack: every check passes, nothing flaky, no warning',
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
 * Warnings of a check. summary.json (architecture §4) carries no `warnings` field, so the tls
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
export function compareWithExpectation(expectation: FaultExpectation, checks: readonly ObservedCheck[], exitCode: number | null): string[] {
  const problems: string[] = [];
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
  /** Deadline of the whole run (stack start, probes, browser, stop); default 6 min. */
  timeoutMs?: number;
  /** Environment to start from; default process.env (target variables are removed). */
  baseEnv?: NodeJS.ProcessEnv;
  /** How often a stack that never became ready is started again; default 3 starts. */
  startAttempts?: number;
}

/** Variables that would point the run at a configured target or change its shape: the matrix runs the embedded stack, no retries. */
const STRIPPED = /^SENTINEL_(APP_URL|ISSUER|CONFIG|CHECKS|E2E_RETRIES|ALLOW_MUTATIONS|ALLOW_DISRUPTIVE|STACK_FAULTS|REPORTS_DIR)$/;

export function caseEnv(fault: string, reportsDir: string, baseEnv: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(baseEnv)) if (!STRIPPED.test(key) && key !== 'CI') env[key] = value;
  env.SENTINEL_REPORTS_DIR = reportsDir;
  env.SENTINEL_STACK_FAULTS = fault === HEALTHY ? '' : fault;
  return env;
}

/** The run never got a stack (exit 2 before any check): no verdict about the checks, so the case may start again. */
export function stackDidNotStart(exitCode: number | null, stderrTail: string, hasSummary: boolean): boolean {
  return exitCode === 2 && !hasSummary && /sentinel: the local stack (was not ready|exited|was killed)/.test(stderrTail);
}

/**
 * Runs `sentinel run` against the embedded stack with `fault` and compares with its row. A run whose
 * stack did not come up (the runner's 30 s READY deadline on a loaded machine) produced no check
 * result at all; it is started again, up to `startAttempts` times, and the attempts are recorded.
 * Check results are never retried.
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

async function runFaultCaseOnce(fault: string, options: RunFaultCaseOptions): Promise<FaultCaseResult> {
  const expectation = expectationFor(fault);
  const reportsDir = options.reportsDir ?? (await mkdtemp(join(tmpdir(), `sentinel-fault-${fault}-`)));
  const timeoutMs = options.timeoutMs ?? 360_000;
  const started = performance.now();
  const child = spawn(process.execPath, [join(REPO_ROOT, 'bin/sentinel.mjs'), 'run', '--embedded', '--mode', 'postdeploy'], {
    cwd: REPO_ROOT,
    env: caseEnv(fault, reportsDir, options.baseEnv),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderrTail = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderrTail = (stderrTail + chunk.toString()).slice(-2000)));
  let timedOut = false;
  // SIGTERM lets sentinel stop Playwright and the stack; SIGKILL only if it does not within 20 s.
  const deadline = setTimeout(() => {
    timedOut = true;
    child.kill('SIGTERM');
    setTimeout(() => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL'), 20_000).unref();
  }, timeoutMs);
  const exitCode = await new Promise<number | null>((resolve) => {
    child.once('error', () => resolve(null));
    child.once('close', (code) => resolve(code));
  });
  clearTimeout(deadline);
  const durationMs = Math.round(performance.now() - started);
  await writeFile(join(reportsDir, 'sentinel-stdout.txt'), stdout).catch(() => undefined);

  let summary: { checks?: SummaryCheck[] } | undefined;
  try {
    summary = JSON.parse(await readFile(join(reportsDir, 'summary.json'), 'utf8')) as { checks?: SummaryCheck[] };
  } catch {
    summary = undefined;
  }
  const checks = observedChecks(summary);
  const mismatches = compareWithExpectation(expectation, checks, exitCode);
  if (!summary) mismatches.unshift(`no summary.json (exit ${exitCode ?? 'none'}${timedOut ? ', killed at the deadline' : ''}): ${stderrTail.trim().split('\n').pop() ?? ''}`);
  if (timedOut) mismatches.unshift(`the run exceeded its deadline of ${Math.round(timeoutMs / 1000)} s`);
  const stackStartFailed = stackDidNotStart(exitCode, stderrTail, summary !== undefined);
  return { fault, expectation, exitCode, timedOut, stackStartFailed, startAttempts: 1, durationMs, checks, mismatches, reportsDir, stderrTail };
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
