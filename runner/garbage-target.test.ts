/**
 * Issue 7 item 3, the target half: a target that answers garbage turns the right check red with a
 * precise reason, and never crashes the CLI. `sentinel probe` (and `sentinel run` for one cheap browser
 * check) runs as a child process against local servers that answer HTML where JSON is expected, a 500
 * page, nothing at all, a reset, a truncated TLS handshake, or never answer.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import type { Reason } from '../core/result.ts';
import { runCli, type CliRun } from './test-support/cli.ts';
import { startGarbageServer, type GarbageKind, type GarbageServer } from './test-support/garbage-servers.ts';

const DB_PASSWORD = 'dbpw-Garbage-SECRET-4417';
const USER_PASSWORD = 'pw-Garbage-SECRET-8830';
const SERVICE_SECRET = 'svc-Garbage-SECRET-2291';
const PROBE_TIMEOUT_MS = 2_000;

interface SummaryCheck {
  id: string;
  status: string;
  reason?: string;
  durationMs: number;
}

type ProbeReasons = Record<'tls' | 'app-health' | 'oidc-discovery' | 'login-v2-redirect' | 'db' | 'idp-token' | 'idp-health', Reason>;

interface GarbageCase {
  kind: GarbageKind;
  scheme: 'http' | 'https';
  /** Expected reason per probe (every probe fails: the whole target is garbage). */
  reasons: ProbeReasons;
  /** A fragment of each probe's human line on stdout, per probe. */
  lines: Partial<Record<keyof ProbeReasons, string>>;
}

/** The spec: what each kind of garbage must turn into. */
const CASES: GarbageCase[] = [
  {
    kind: 'html-everywhere',
    scheme: 'http',
    // tls: the port speaks plain HTTP, so the TLS handshake cannot even start.
    reasons: { tls: 'tls_handshake', 'app-health': 'bad_response', 'oidc-discovery': 'bad_response', 'login-v2-redirect': 'bad_response', db: 'db_unreachable', 'idp-token': 'bad_response', 'idp-health': 'bad_response' },
    lines: {
      'oidc-discovery': 'bad_response: discovery: GET http://127.0.0.1:PORT/.well-known/openid-configuration did not return JSON (text/html)',
      'login-v2-redirect': 'bad_response: sign-in: response is not JSON',
      'app-health': 'bad_response: GET / title',
    },
  },
  {
    kind: 'http-500',
    scheme: 'http',
    reasons: { tls: 'tls_handshake', 'app-health': 'http_status', 'oidc-discovery': 'http_status', 'login-v2-redirect': 'http_status', db: 'db_unreachable', 'idp-token': 'http_status', 'idp-health': 'idp_not_ready' },
    lines: {
      'oidc-discovery': 'http_status: discovery: GET http://127.0.0.1:PORT/.well-known/openid-configuration answered 500, expected 200',
      'login-v2-redirect': 'http_status: sign-in: POST /api/auth/sign-in/social answered 500, expected 200',
      'app-health': 'http_status: GET / status',
    },
  },
  {
    // A body that never ends is read up to a limit, then judged — not buffered until the deadline.
    kind: 'endless-body',
    scheme: 'http',
    reasons: { tls: 'tls_handshake', 'app-health': 'bad_response', 'oidc-discovery': 'bad_response', 'login-v2-redirect': 'bad_response', db: 'db_unreachable', 'idp-token': 'bad_response', 'idp-health': 'bad_response' },
    lines: {
      'oidc-discovery': 'bad_response: discovery: GET http://127.0.0.1:PORT/.well-known/openid-configuration did not return JSON (text/html)',
      'login-v2-redirect': 'bad_response: sign-in: response is not JSON',
    },
  },
  {
    kind: 'empty-reply',
    scheme: 'http',
    // tls: the port closed before the handshake completed — the TLS handshake failed, TCP did not.
    reasons: { tls: 'tls_handshake', 'app-health': 'connection_reset', 'oidc-discovery': 'connection_reset', 'login-v2-redirect': 'connection_reset', db: 'db_unreachable', 'idp-token': 'connection_reset', 'idp-health': 'connection_reset' },
    lines: { 'app-health': 'connection_reset: socket hang up (ECONNRESET)', db: 'db_unreachable: Connection terminated unexpectedly' },
  },
  {
    kind: 'connection-reset',
    scheme: 'http',
    reasons: { tls: 'connection_reset', 'app-health': 'connection_reset', 'oidc-discovery': 'connection_reset', 'login-v2-redirect': 'connection_reset', db: 'connection_reset', 'idp-token': 'connection_reset', 'idp-health': 'connection_reset' },
    lines: { 'app-health': 'connection_reset: read ECONNRESET' },
  },
  {
    kind: 'truncated-tls',
    scheme: 'https',
    reasons: { tls: 'tls_handshake', 'app-health': 'tls_handshake', 'oidc-discovery': 'tls_handshake', 'login-v2-redirect': 'tls_handshake', db: 'db_unreachable', 'idp-token': 'tls_handshake', 'idp-health': 'tls_handshake' },
    lines: { tls: 'tls_handshake: 127.0.0.1:PORT: Client network socket disconnected before secure TLS connection was established' },
  },
  {
    kind: 'never-answers',
    scheme: 'http',
    reasons: { tls: 'timeout', 'app-health': 'timeout', 'oidc-discovery': 'timeout', 'login-v2-redirect': 'timeout', db: 'timeout', 'idp-token': 'timeout', 'idp-health': 'timeout' },
    lines: {},
  },
];

const servers: GarbageServer[] = [];
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function garbageTarget(kind: GarbageKind, scheme: 'http' | 'https') {
  const server = await startGarbageServer(kind);
  servers.push(server);
  const reportsDir = await mkdtemp(join(tmpdir(), `sentinel-garbage-${kind}-`));
  dirs.push(reportsDir);
  const base = `${scheme}://${server.hostPort}`;
  const env: Record<string, string> = {
    SENTINEL_APP_URL: base,
    SENTINEL_ISSUER: base,
    SENTINEL_TLS_HOSTS: server.hostPort,
    SENTINEL_DATABASE_URL: `postgresql://gadgetbot_admin:${DB_PASSWORD}@${server.hostPort}/gadgetbot`,
    SENTINEL_USER: 'sentinel-e2e@example.test',
    SENTINEL_PASSWORD: USER_PASSWORD,
    SENTINEL_IDP_TOKEN_CLIENT_ID: 'sentinel-token-probe',
    SENTINEL_IDP_TOKEN_CLIENT_SECRET: SERVICE_SECRET,
    SENTINEL_PROBE_TIMEOUT_MS: String(PROBE_TIMEOUT_MS),
    SENTINEL_REPORTS_DIR: reportsDir,
  };
  return { server, reportsDir, env };
}

async function summaryChecks(reportsDir: string): Promise<Map<string, SummaryCheck>> {
  const summary = JSON.parse(await readFile(join(reportsDir, 'summary.json'), 'utf8')) as { checks: SummaryCheck[] };
  return new Map(summary.checks.map((c) => [c.id, c]));
}

/** No stack frame, no uncaught-error banner, no secret: garbage is a finding, not a crash. */
function expectCleanOutput(run: CliRun): void {
  const output = run.stdout + run.stderr;
  expect(output).not.toMatch(/\n\s+at .+:\d+:\d+/);
  expect(output).not.toMatch(/internal error|Uncaught|UnhandledPromiseRejection|triggerUncaughtException/);
  expect(output).not.toContain(DB_PASSWORD);
  expect(output).not.toContain(USER_PASSWORD);
  expect(output).not.toContain(SERVICE_SECRET);
}

describe('sentinel probe against a target that answers garbage', () => {
  // One at a time: each case is a CLI child process, and the machine has two cores.
  test.for(CASES)('$kind → exit 1, every probe failed with its reason, no crash', { timeout: 120_000 }, async (spec) => {
    const { server, reportsDir, env } = await garbageTarget(spec.kind, spec.scheme);
    const run = await runCli(['probe'], env, 90_000);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(1);
    expectCleanOutput(run);
    expect(server.connections()).toBeGreaterThanOrEqual(5);
    const checks = await summaryChecks(reportsDir);
    const actual = Object.fromEntries(Object.keys(spec.reasons).map((id) => [id, `${checks.get(id)?.status}/${checks.get(id)?.reason}`]));
    const expected = Object.fromEntries(Object.entries(spec.reasons).map(([id, reason]) => [id, `failed/${reason}`]));
    expect(actual).toEqual(expected);
    for (const [id, fragment] of Object.entries(spec.lines)) {
      const line = run.stdout.split('\n').find((l) => l.startsWith(`✘ ${id} `));
      expect(line, `${id} line`).toContain(fragment.replaceAll('PORT', String(server.port)));
    }
    if (spec.kind === 'never-answers') {
      // Each probe was stopped by its own deadline (runCli's limit proves the CLI did not hang); tls
      // stops each host at its handshake deadline, half the probe's by default, and reports it.
      const handshakeMs = PROBE_TIMEOUT_MS / 2;
      for (const id of Object.keys(spec.reasons)) expect(checks.get(id)!.durationMs, `${id} duration`).toBeGreaterThanOrEqual((id === 'tls' ? handshakeMs : PROBE_TIMEOUT_MS) - 50);
      expect(run.stdout).toContain(`timeout: app-health: no result within the deadline of ${PROBE_TIMEOUT_MS} ms`);
      expect(run.stdout).toContain(`timeout: ${server.hostPort}: TLS handshake timed out after ${handshakeMs} ms`);
    }
  });
});

describe('sentinel run with a browser check against garbage', () => {
  test('HTML everywhere → e2e-login fails with a reason, app-health fails bad_response, exit 1, no crash', async () => {
    const { reportsDir, env } = await garbageTarget('html-everywhere', 'http');
    const run = await runCli(['run', '--check', 'app-health,e2e-login'], { ...env, SENTINEL_BROWSER_TIMEOUT_MS: '20000', SENTINEL_ACTION_TIMEOUT_MS: '3000' }, 170_000);
    expect(run.code).toBe(1);
    expectCleanOutput(run);
    const checks = await summaryChecks(reportsDir);
    expect(checks.get('app-health')).toMatchObject({ status: 'failed', reason: 'bad_response' });
    expect(checks.get('e2e-login')).toMatchObject({ status: 'failed', reason: 'sign_in_error' });
    const line = run.stdout.split('\n').find((l) => l.startsWith('✘ e2e-login '));
    // The page has no "Sign in with Zitadel" button: the setup says so instead of timing out blindly.
    expect(line).toContain("sign_in_error: setup sign-in failed: expect(locator).toBeEnabled() failed (Locator: getByRole('button', { name: 'Sign in with Zitadel' }))");
  }, 180_000);
});
