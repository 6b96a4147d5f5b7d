/**
 * The browser checks' sign-in through `sentinel run --check e2e-login` against a configured target,
 * as an operator runs it: the reason names what happened (a second factor asked for, a Login V2
 * screen the flow cannot pass, a refused connection), decided when it shows rather than after a
 * timeout; and a run that meets the app's sign-in limit (Better Auth: 3 per 10 s per IP, answered
 * 429 with X-Retry-After) waits the stated time and passes instead of reporting our own traffic as
 * a production failure.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, test } from 'vitest';
import { startStack, type RunningStack, type StackFault } from '../fixtures/stack/index.ts';
import { REPO_ROOT, envFromStackInfo } from './embedded-stack.ts';
import { descendantsOf, isChromium } from './monitor/test-support/proc.ts';

let stack: RunningStack | undefined;
const servers: Server[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

interface SummaryCheck {
  id: string;
  status: string;
  reason?: string;
  message?: string;
  observations?: Record<string, unknown>;
}

interface SentinelRun {
  pid: number;
  exit: Promise<number | null>;
  summary(): Promise<SummaryCheck>;
}

/** `node bin/sentinel.mjs run --mode postdeploy --check e2e-login` with exactly these SENTINEL_* variables. */
async function runLogin(sentinelEnv: Record<string, string>): Promise<SentinelRun> {
  const reportsDir = await mkdtemp(join(tmpdir(), 'sentinel-sign-in-'));
  dirs.push(reportsDir);
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('SENTINEL_') && key !== 'CI') env[key] = value;
  Object.assign(env, sentinelEnv, { SENTINEL_REPORTS_DIR: reportsDir });
  const child = spawn(process.execPath, [join(REPO_ROOT, 'bin/sentinel.mjs'), 'run', '--mode', 'postdeploy', '--check', 'e2e-login'], { cwd: REPO_ROOT, env, stdio: 'ignore' });
  const exit = new Promise<number | null>((resolve) => {
    child.once('error', () => resolve(null));
    child.once('close', (code) => resolve(code));
  });
  return {
    pid: child.pid!,
    exit,
    summary: async () => {
      const summary = JSON.parse(await readFile(join(reportsDir, 'summary.json'), 'utf8')) as { checks: SummaryCheck[] };
      return summary.checks.find((check) => check.id === 'e2e-login')!;
    },
  };
}

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<number> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** A port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('a Login V2 screen the test user cannot pass is named as soon as it shows', () => {
  async function loginWith(fault: StackFault): Promise<SummaryCheck> {
    stack = await startStack({ faults: [fault] });
    const run = await runLogin(envFromStackInfo(stack.info));
    expect(await run.exit).toBe(1);
    return run.summary();
  }

  test('forced MFA without a registered factor ("Set up 2-Factor", no Skip) → mfa_required', async () => {
    const login = await loginWith('idp-mfa-required');
    expect({ status: login.status, reason: login.reason }).toEqual({ status: 'failed', reason: 'mfa_required' });
    expect(login.message).toBe('setup sign-in failed: Login V2 showed "Set up 2-Factor" without Skip at /ui/v2/login/mfa/set: MFA is forced and the test user has no second factor (user-1)');
  }, 180_000);

  test('a password change required (/password/change) → login_unexpected_screen with its heading and path', async () => {
    const login = await loginWith('idp-unknown-screen');
    expect({ status: login.status, reason: login.reason }).toEqual({ status: 'failed', reason: 'login_unexpected_screen' });
    // Login V2 titles this screen with the user's display name
    expect(login.message).toBe('setup sign-in failed: Login V2 showed "Sentinel Tester 1" at /ui/v2/login/password/change (user-1)');
  }, 180_000);
});

describe("Chromium's network errors get the probes' transport reasons", () => {
  const target = (appUrl: string, issuer: string) => ({ SENTINEL_APP_URL: appUrl, SENTINEL_ISSUER: issuer, SENTINEL_USER: 'tester', SENTINEL_PASSWORD: 'not-a-real-password' });

  test('the app refusing connections → connect_refused', async () => {
    const run = await runLogin(target(`http://localhost:${await closedPort()}`, `http://127.0.0.1:${await closedPort()}`));
    expect(await run.exit).toBe(1);
    const login = await run.summary();
    expect({ status: login.status, reason: login.reason }).toEqual({ status: 'failed', reason: 'connect_refused' });
    expect(login.message).toMatch(/^setup sign-in failed: page\.goto: net::ERR_CONNECTION_REFUSED at http:\/\/localhost:\d+\/login/);
  }, 120_000);

  test('the IdP refusing connections in the middle of the sign-in → connect_refused, naming the page', async () => {
    const issuer = `http://127.0.0.1:${await closedPort()}`;
    // The app's side of the contract up to the redirect: /login with its button, sign-in/social answering the authorize URL.
    const appPort = await listen((req, res) => {
      req.resume();
      if (req.method === 'POST' && req.url === '/api/auth/sign-in/social') {
        const authorize = `${issuer}/oauth/v2/authorize?response_type=code&client_id=1&state=s&scope=openid+profile+email+offline_access&redirect_uri=${encodeURIComponent(`http://localhost:${appPort}/api/auth/callback/zitadel`)}&code_challenge_method=S256&code_challenge=${'a'.repeat(43)}`;
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ url: authorize, redirect: true }));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><title>GadgetBot</title><button onclick="fetch('/api/auth/sign-in/social',{method:'POST',headers:{'content-type':'application/json'},body:'{}'}).then(r=>r.json()).then(j=>{location.href=j.url})">Sign in with Zitadel</button>`);
    });
    const run = await runLogin(target(`http://localhost:${appPort}`, issuer));
    expect(await run.exit).toBe(1);
    const login = await run.summary();
    expect({ status: login.status, reason: login.reason }).toEqual({ status: 'failed', reason: 'connect_refused' });
    expect(login.message).toBe(`setup sign-in failed: ${issuer}/oauth/v2/authorize did not load: net::ERR_CONNECTION_REFUSED (user-1)`);
  }, 120_000);
});

/** One `POST /api/auth/sign-in/social` as the app's button sends it; the status and the wait a 429 states. */
function signInRequest(appUrl: string, ca: string): Promise<{ status: number; retryAfterMs: number }> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ provider: 'zitadel', callbackURL: '/admin' });
    const req = httpsRequest(`${appUrl}/api/auth/sign-in/social`, { method: 'POST', ca, headers: { 'content-type': 'application/json', origin: appUrl }, signal: AbortSignal.timeout(10_000) }, (res) => {
      res.resume();
      // Better Auth states the seconds left in its window in X-Retry-After
      res.once('end', () => resolve({ status: res.statusCode ?? 0, retryAfterMs: Number(res.headers['x-retry-after'] ?? 0) * 1000 }));
    });
    req.once('error', reject);
    req.end(body);
  });
}

/** Signs in until the app refuses (429): the window is then full from this moment on, for its whole length. */
async function useUpSignIns(appUrl: string, ca: string): Promise<number> {
  let allowed = 0;
  for (;;) {
    const answer = await signInRequest(appUrl, ca);
    if (answer.status === 429) return allowed;
    expect(answer.status).toBe(200);
    allowed += 1;
  }
}

/** Waits out whatever window is open now (the stated time), so the next sign-in is allowed. */
async function waitForFreeWindow(appUrl: string, ca: string): Promise<void> {
  for (;;) {
    const answer = await signInRequest(appUrl, ca);
    if (answer.status !== 429) return;
    await delay(answer.retryAfterMs);
  }
}

describe("two runs back to back: our own sign-ins are not a production failure", () => {
  test("the second run meets the app's 429, waits the stated time and passes, and says how long it waited", async () => {
    stack = await startStack();
    const env = envFromStackInfo(stack.info);
    const { appUrl, caCertPath } = stack.info;
    const ca = readFileSync(caCertPath, 'utf8');

    const first = await runLogin(env);
    expect(await first.exit).toBe(0);
    expect((await first.summary()).status).toBe('passed');

    // How soon the second run signs in depends on the machine (a start takes seconds). So that it
    // surely signs in inside a full window, whatever the speed, the window the first run left is
    // waited out and the limit used up again right when the second run's browser starts — the
    // sign-ins a run just before (or another operator) would have made at that moment.
    await waitForFreeWindow(appUrl, ca);
    const second = await runLogin(env);
    await expect.poll(() => descendantsOf(second.pid).some(isChromium), { timeout: 60_000, interval: 50 }).toBe(true);
    expect(await useUpSignIns(appUrl, ca)).toBeGreaterThan(0);

    expect(await second.exit).toBe(0);
    const login = await second.summary();
    expect({ status: login.status, reason: login.reason }).toEqual({ status: 'passed', reason: undefined });
    const waited = Number(login.observations?.setupSignInWaitMs ?? 0) + Number(login.observations?.signInWaitMs ?? 0);
    expect(waited).toBeGreaterThan(0);
  }, 240_000);
});
