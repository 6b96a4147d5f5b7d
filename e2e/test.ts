/**
 * The only `test` the specs import. Fixtures: `sentinel` (parsed config), `app` (page-object facade),
 * `api` (requests with the page's cookies), `signedInAs` (which stored sign-in the context starts
 * with), `credentials` (the user a spec signs in as), an automatic recorder of every cookie value
 * the browser receives, so the reports can be scrubbed by exact value, and an automatic closer of
 * sessions a test signed in and left open.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { test as base, expect, type Response, type TestInfo } from '@playwright/test';
import type { Config } from '../core/config.ts';
import { STORED_SESSION_FILE } from '../core/run-state.ts';
import { endSession, sessionTokenOf, type StoredCookie, type StoredState } from '../core/sign-out.ts';
import type { Credentials } from './flows/sign-in.ts';
import { AppApi } from './api/app-api.ts';
import { App } from './pages/app.ts';
import { CHECK_ANNOTATION, REASON_ANNOTATION } from './support/check-annotations.ts';
import { AUTH_DIR, loadSentinelConfig, storageStatePath } from './support/suite-config.ts';
import { noteRecorderFailure, recordContextCookies, recordSecrets, setCookies, setCookieValues } from './support/secrets.ts';

export type SignedInAs = 'fresh' | 'user-1' | 'user-2';

interface TestFixtures {
  signedInAs: SignedInAs;
  app: App;
  api: AppApi;
  /** the user behind `signedInAs` (user 1 for `fresh`) */
  credentials: Credentials;
  /** Records every cookie value the browser receives; a failure is noted, never ignored (e2e/support/secrets.ts). */
  secretRecorder: void;
  /**
   * After the test, ends every session it signed in itself (the session cookies the recorder saw) and
   * left open: a spec stopped by its timeout before its own sign-out, or a sign-out the server did not
   * honour. So no run leaves a session row behind; what cannot be ended is left for the teardown.
   */
  sessionCloser: { seen(cookie: { name: string; value: string }): void };
  /** Bots a test creates: deleted through oRPC with the test's session after it, pass or fail. */
  botJanitor: BotJanitor;
}

export interface BotJanitor {
  track(botName: string): void;
}

interface WorkerFixtures {
  sentinel: Config;
}

/**
 * The stored sign-in a spec starts with. `user-2` without a second configured user starts fresh
 * (the spec then signs in itself), so no spec ever consumes another spec's session.
 */
export function storedStateFor(signedInAs: SignedInAs, config: Config): number | undefined {
  if (signedInAs === 'user-1') return 1;
  if (signedInAs === 'user-2' && config.users.length >= 2) return 2;
  return undefined;
}

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error)).split('\n')[0]!.slice(0, 200);

const SESSION_COOKIE = /^(?:__Secure-)?better-auth\.session_token$/;

/** The session token of a (signed, maybe URL-encoded) session cookie value: what the database keys on. */
function tokenOf(value: string): string {
  let decoded = value;
  try {
    decoded = decodeURIComponent(value);
  } catch {
    // not URL-encoded
  }
  return decoded.split('.')[0]!;
}

function checkIdOf(testInfo: TestInfo): string | undefined {
  return testInfo.annotations.find((a) => a.type === CHECK_ANNOTATION)?.description;
}

/** Session tokens of the stored sign-ins (the setup's storage states) still in the state folder. */
function storedSessionTokens(appUrl: string): Set<string> {
  const tokens = new Set<string>();
  let names: string[] = [];
  try {
    names = readdirSync(AUTH_DIR).filter((name) => STORED_SESSION_FILE.test(name));
  } catch {
    return tokens;
  }
  for (const name of names) {
    try {
      const token = sessionTokenOf(JSON.parse(readFileSync(path.join(AUTH_DIR, name), 'utf8')) as StoredState, appUrl);
      if (token) tokens.add(tokenOf(token));
    } catch {
      // a half-written state: its session is the teardown's business
    }
  }
  return tokens;
}

export const test = base.extend<TestFixtures, WorkerFixtures>({
  sentinel: [async ({}, use) => use(loadSentinelConfig()), { scope: 'worker' }],
  signedInAs: ['fresh', { option: true }],
  storageState: async ({ signedInAs, sentinel }, use) => {
    const stored = storedStateFor(signedInAs, sentinel);
    await use(stored === undefined ? { cookies: [], origins: [] } : storageStatePath(stored));
  },
  credentials: async ({ signedInAs, sentinel }, use) => {
    const user = (signedInAs === 'user-2' ? sentinel.users[1] : undefined) ?? sentinel.users[0];
    if (!user) throw new Error('no test user configured (SENTINEL_USER / SENTINEL_PASSWORD)');
    await use(user);
  },
  app: async ({ page, sentinel }, use) => use(new App(page, sentinel)),
  api: async ({ page, sentinel }, use) => use(new AppApi(page.request, sentinel)),
  botJanitor: async ({ api }, use) => {
    const names = new Set<string>();
    await use({ track: (name) => names.add(name) });
    const problems: string[] = [];
    for (const name of names) {
      try {
        await api.deleteBotsNamed(name);
      } catch (error) {
        problems.push(`${name}: ${(error as Error).message}`);
      }
    }
    if (problems.length > 0) {
      // A failure the test already reported keeps its own reason (the reporter takes the first).
      test.info().annotations.push({ type: REASON_ANNOTATION, description: 'cleanup_failed' });
      throw new Error(`cleanup failed, bots left behind: ${problems.join('; ')}`);
    }
  },
  sessionCloser: [
    async ({ context, sentinel }, use, testInfo) => {
      const seen = new Map<string, StoredCookie>();
      const appHost = new URL(sentinel.appUrl).hostname;
      await use({ seen: (cookie) => seen.set(tokenOf(cookie.value), { ...cookie, domain: appHost }) });
      // What the context still holds counts too (a stored sign-in it started with is filtered below).
      const current = await context.cookies(sentinel.appUrl).catch(() => []);
      for (const cookie of current) if (SESSION_COOKIE.test(cookie.name)) seen.set(tokenOf(cookie.value), { name: cookie.name, value: cookie.value, domain: appHost });
      // A stored sign-in (setup's) is ended by the setup's teardown project, after every spec that uses it.
      const stored = storedSessionTokens(sentinel.appUrl);
      const label = checkIdOf(testInfo) ?? 'setup';
      for (const [token, cookie] of seen) {
        if (stored.has(token)) continue;
        // Ended already by the spec's own sign-out, this only confirms it; else it ends the session now.
        const outcome = await endSession({ cookies: [cookie] }, label, { appUrl: sentinel.appUrl, timeoutMs: sentinel.timeouts.actionMs });
        if (outcome.ended) continue;
        // Left for the setup's teardown and the runner, which try again and report it.
        mkdirSync(AUTH_DIR, { recursive: true });
        writeFileSync(path.join(AUTH_DIR, `open-session-${label}-${randomBytes(4).toString('hex')}.json`), JSON.stringify({ cookies: [cookie], origins: [] }));
      }
    },
    { auto: true },
  ],
  secretRecorder: [
    async ({ context, sentinel, sessionCloser }, use, testInfo) => {
      const failures: string[] = [];
      const pending = new Set<Promise<void>>();
      const onResponse = (response: Response) => {
        const recording = response
          .headerValues('set-cookie')
          .then((lines) => {
            recordSecrets(setCookieValues(lines));
            for (const cookie of setCookies(lines)) if (SESSION_COOKIE.test(cookie.name) && cookie.value) sessionCloser.seen(cookie);
          })
          .catch((error: unknown) => void failures.push(`a response's cookies were not recorded: ${errorText(error)}`))
          .finally(() => pending.delete(recording));
        pending.add(recording);
      };
      context.on('response', onResponse);
      await use();
      context.off('response', onResponse);
      const deadline = new AbortController();
      const settled = await Promise.race([Promise.all(pending).then(() => true), delay(sentinel.timeouts.actionMs, false, { signal: deadline.signal }).catch(() => false)]);
      deadline.abort();
      if (!settled) failures.push(`the cookies of ${pending.size} response(s) were not read within ${sentinel.timeouts.actionMs} ms`);
      await recordContextCookies(context).catch((error: unknown) => void failures.push(`the context's cookies were not recorded: ${errorText(error)}`));
      if (failures.length > 0) noteRecorderFailure(testInfo, failures);
    },
    { auto: true },
  ],
});

export { expect };
export { checkDetails, failWith, withReason, warnWith, attachObservations } from './support/check-annotations.ts';
