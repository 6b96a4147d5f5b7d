/**
 * The only `test` the specs import. Fixtures: `sentinel` (parsed config), `app` (page-object facade),
 * `api` (requests with the page's cookies), `signedInAs` (which stored sign-in the context starts
 * with), `credentials` (the user a spec signs in as), and an automatic recorder of every cookie
 * value the browser receives, so the reports can be scrubbed by exact value.
 */
import { test as base, expect } from '@playwright/test';
import type { Config } from '../core/config.ts';
import type { Credentials } from './flows/sign-in.ts';
import { AppApi } from './api/app-api.ts';
import { App } from './pages/app.ts';
import { REASON_ANNOTATION } from './support/check.ts';
import { loadSentinelConfig, storageStatePath } from './support/config.ts';
import { recordContextCookies, recordSecrets } from './support/secrets.ts';

export type SignedInAs = 'fresh' | 'user-1' | 'user-2';

interface TestFixtures {
  signedInAs: SignedInAs;
  app: App;
  api: AppApi;
  /** the user behind `signedInAs` (user 1 for `fresh`) */
  credentials: Credentials;
  secretRecorder: void;
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
  secretRecorder: [
    async ({ context }, use) => {
      context.on('response', (response) => {
        response
          .headerValues('set-cookie')
          .then((lines) => recordSecrets(lines.map((line) => line.split(';')[0]?.split('=').slice(1).join('='))))
          .catch(() => undefined);
      });
      await use();
      await recordContextCookies(context).catch(() => undefined);
    },
    { auto: true },
  ],
});

export { expect };
export { checkDetails, failWith, withReason, warnWith, attachObservations } from './support/check.ts';
