/**
 * The practical floor for `sentinel run` (README.md "Benchmarks", figure `acceptance`): every probe (the
 * probe library, concurrently, as the suite runs them) and the same four browser flows, written
 * directly against playwright-core — no test runner, no reporters, no retries, no traces, one
 * Chromium. Same navigations, same assertions, same cleanup and the same sign-in pacing as e2e/:
 *   setup: users 1 and 2 sign in in parallel (stored state kept in memory);
 *   then e2e-login (fresh), e2e-admin-crud (user 1) and e2e-sign-out (user 2), two at a time (the
 *   suite runs two workers); then e2e-session-redeploy alone (fresh), through the Coolify driver.
 * Config: the SENTINEL_* environment. Prints one `FLOOR <json>` line; exit 0 when every flow passed.
 * Usage: node --import tsx bench/floor.ts
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { browserTrust, launchOptionsFor, resolveBrowser } from '../core/browser.ts';
import { loadConfig, type Config } from '../core/config.ts';
import { createRedeployDriver } from '../core/redeploy.ts';
import { PROBE_CHECK_IDS } from '../core/result.ts';
import { AvailabilityWatch } from '../e2e/support/availability.ts';
import { SignInSlotTimeout, claimSignInSlot } from '../core/sign-in-record.ts';
import { runProbe } from '../probes/run-probe.ts';

type StorageState = Awaited<ReturnType<BrowserContext['storageState']>>;
interface User {
  loginName: string;
  password: string;
}

class FlowError extends Error {}
function fail(message: string): never {
  throw new FlowError(message);
}

const esc = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Polls `condition` every 100 ms (as the suite's expect.poll) until it holds, or fails with `what`. */
async function until(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) fail(what);
    await delay(100);
  }
}

async function visible(locator: Locator, timeoutMs: number, what: string): Promise<void> {
  try {
    await locator.waitFor({ state: 'visible', timeout: timeoutMs });
  } catch {
    fail(`${what} did not show`);
  }
}

/** The suite's own pacing (core/sign-in-record.ts): the same record the suite's runs and probes use. */
async function reserveSignInSlot(appUrl: string, timeoutMs: number): Promise<void> {
  try {
    await claimSignInSlot(appUrl, { timeoutMs });
  } catch (error) {
    if (error instanceof SignInSlotTimeout) fail('no sign-in slot in time');
    throw error;
  }
}

/** Main-frame navigations, redirect hops included, and the requests (the suite's TrafficLog, lean). */
class Traffic {
  navigations: string[] = [];
  /** URLs the page really showed (a request alone may still be redirected) */
  committed: string[] = [];
  requests: string[] = [];
  constructor(page: Page) {
    page.on('request', (request) => {
      this.requests.push(request.url());
      if (request.isNavigationRequest() && request.frame() === page.mainFrame()) this.navigations.push(request.url());
    });
    page.on('framenavigated', (frame) => {
      if (frame !== page.mainFrame()) return;
      this.committed.push(frame.url());
      if (this.navigations.at(-1) !== frame.url()) this.navigations.push(frame.url());
    });
    page.on('dialog', (dialog) => void dialog.dismiss().catch(() => undefined));
  }
}

class Flow {
  readonly traffic: Traffic;
  constructor(readonly page: Page, readonly config: Config) {
    this.traffic = new Traffic(page);
  }
  get url(): URL {
    return new URL(this.page.url());
  }
  get actionMs(): number {
    return this.config.timeouts.actionMs;
  }
  private get origin(): string {
    return new URL(this.config.appUrl).origin;
  }
  /** The Login V2 screens the healthy flow passes (e2e/pages/login-v2.ts currentScreen knows them all). */
  private async step(): Promise<string> {
    const p = this.page;
    if (await p.getByTestId('error').isVisible()) return 'error';
    if (await p.getByTestId('password-text-input').isVisible()) return 'password';
    if (await p.getByTestId('username-text-input').isVisible()) return 'loginname';
    if ((await p.getByRole('heading', { name: 'Set up 2-Factor' }).isVisible()) && (await this.skipButton.isVisible())) return 'mfa-setup';
    if (await p.getByText('Select the account you want to use.').isVisible()) return 'accounts';
    return 'pending';
  }
  private get skipButton(): Locator {
    return this.page.getByTestId('reset-button').filter({ hasText: 'Skip' });
  }
  /** /login → "Sign in with Zitadel" → Login V2 screens → back on the app. */
  async signIn(user: User): Promise<void> {
    const p = this.page;
    await p.goto('/login');
    const button = p.getByRole('button', { name: 'Sign in with Zitadel' });
    await until(() => button.isEnabled().catch(() => false), this.actionMs, 'sign-in button enabled');
    await reserveSignInSlot(this.config.appUrl, this.config.timeouts.browserCheckMs);
    const from = this.traffic.committed.length;
    await button.click();
    const issuer = new URL(this.config.issuer).origin;
    const loginV2 = `${this.config.issuer}${this.config.loginBasePath}/`;
    let previous = 'app-login';
    for (let screen = 0; screen < 12; screen++) {
      let state = '';
      await until(
        async () => {
          const url = this.url;
          const leftApp = this.traffic.committed.slice(from).some((u) => u.startsWith(`${issuer}/`));
          if (url.origin === this.origin) {
            if (url.searchParams.get('error')) fail(`sign-in ended on the app with ?error=${url.searchParams.get('error')}`);
            if (url.pathname === '/login') {
              if (leftApp) fail('back on /login after the IdP');
              return false;
            }
            if (url.pathname.startsWith('/api/auth/')) return false;
            state = 'app';
            return true;
          }
          if (!url.href.startsWith(loginV2)) return false;
          state = await this.step().catch(() => 'pending');
          return state !== 'pending' && state !== previous;
        },
        this.actionMs,
        `sign-in made no progress after ${previous}`,
      );
      previous = state;
      switch (state) {
        case 'app':
          return;
        case 'loginname':
          await p.getByTestId('username-text-input').fill(user.loginName);
          await p.getByTestId('submit-button').click();
          break;
        case 'password':
          await p.getByTestId('password-text-input').fill(user.password);
          await p.getByTestId('submit-button').click();
          break;
        case 'mfa-setup':
          await this.skipButton.click();
          break;
        case 'accounts': {
          const account = p.getByRole('button', { name: new RegExp(esc(user.loginName), 'i') });
          if (await account.isVisible()) await account.click();
          else await p.getByRole('link', { name: 'Add another account' }).or(p.getByRole('button', { name: 'Add another account' })).click();
          break;
        }
        default:
          fail(`Login V2 shows an error: ${await p.getByTestId('error').textContent()}`);
      }
    }
    fail('sign-in did not finish within 12 screens');
  }
  async expectDashboard(): Promise<void> {
    await visible(this.page.getByRole('heading', { name: 'Admin Dashboard', exact: true }), this.actionMs, 'Admin Dashboard');
    await visible(this.page.getByRole('heading', { name: 'GadgetBot Admin', exact: true }), this.actionMs, 'GadgetBot Admin');
  }
  /** Same calls as e2e/api/app-api.ts. */
  async getSession(cookie?: string): Promise<{ session: { id: string } } | null> {
    const response = await this.page.request.get(`${this.config.appUrl}/api/auth/get-session?disableCookieCache=true`, {
      timeout: this.actionMs,
      headers: { accept: 'application/json', ...(cookie ? { cookie } : {}) },
    });
    if (response.status() !== 200) fail(`get-session answered ${response.status()}`);
    return (await response.json()) as { session: { id: string } } | null;
  }
  async signOutApi(): Promise<void> {
    await this.page.request
      .post(`${this.config.appUrl}/api/auth/sign-out`, { timeout: this.actionMs, headers: { origin: this.origin, 'content-type': 'application/json' }, data: {} })
      .catch(() => undefined);
  }
  async rpc<T>(procedure: string, input: unknown): Promise<T> {
    const response = await this.page.request.post(`${this.config.appUrl}/api/rpc/${procedure}`, {
      timeout: this.actionMs,
      headers: { origin: this.origin, 'content-type': 'application/json' },
      data: { json: input },
    });
    if (response.status() !== 200) fail(`oRPC ${procedure} answered ${response.status()}`);
    return ((await response.json()) as { json: T }).json;
  }
  async assetUrls(): Promise<string> {
    const html = await (await this.page.request.get(`${this.config.appUrl}/`, { timeout: this.actionMs })).text();
    return [...new Set([...html.matchAll(/["'](\/assets\/[^"'?#]+\.js)["']/g)].map((m) => m[1]!))].sort().join(' ');
  }
}

async function withContext<T>(browser: Browser, config: Config, state: StorageState | undefined, body: (flow: Flow) => Promise<T>): Promise<T> {
  // Certificates verified as in the suite (page.request trusts the CA through NODE_EXTRA_CA_CERTS, bench/acceptance.ts)
  const context = await browser.newContext({ baseURL: config.appUrl, ...(state ? { storageState: state } : {}) });
  context.setDefaultTimeout(config.timeouts.actionMs);
  context.setDefaultNavigationTimeout(config.timeouts.actionMs);
  try {
    return await body(new Flow(await context.newPage(), config));
  } finally {
    await context.close();
  }
}

async function setupUser(browser: Browser, config: Config, user: User): Promise<StorageState> {
  return withContext(browser, config, undefined, async (flow) => {
    await flow.signIn(user);
    await flow.expectDashboard();
    if (flow.url.pathname !== '/admin') fail(`setup ended on ${flow.url.pathname}`);
    return flow.page.context().storageState();
  });
}

/** e2e/support/login-sequence.ts: app /login → authorize (right redirect_uri, client_id) → Login V2 → callback → /admin. */
function assertLoginSequence(all: readonly string[], config: Config): void {
  const urls = all.filter((u, i) => all[i - 1] !== u);
  const app = new URL(config.appUrl).origin;
  const authorizeAt = `${config.issuer}/oauth/v2/authorize?`;
  const start = urls.findIndex((u) => u.startsWith(`${app}/login`));
  if (start < 0) fail('the sign-in did not start on /login');
  const authorize = urls.findIndex((u, i) => i > start && u.startsWith(authorizeAt));
  if (authorize < 0) fail('no authorize navigation');
  const params = new URL(urls[authorize]!).searchParams;
  if (params.get('redirect_uri') !== `${config.appUrl}/api/auth/callback/zitadel`) fail('authorize redirect_uri mismatch');
  const clientId = params.get('client_id');
  if (!clientId || (config.clientId !== undefined && clientId !== config.clientId)) fail('authorize client_id mismatch');
  const next = urls.slice(authorize + 1).find((u) => !u.startsWith(authorizeAt));
  if (next === undefined || !next.startsWith(`${config.issuer}${config.loginBasePath}/`)) fail('authorize did not lead to Login V2');
  const login = urls.indexOf(next);
  const callback = urls.findIndex((u, i) => i > login && u.startsWith(`${config.appUrl}/api/auth/callback/zitadel?`));
  if (callback < 0) fail('Login V2 never returned to the callback');
  if (urls.findIndex((u, i) => i > callback && new URL(u).origin === app && new URL(u).pathname === '/admin') < 0) fail('the callback did not land on /admin');
}

async function loginFlow(browser: Browser, config: Config, user: User): Promise<void> {
  await withContext(browser, config, undefined, async (flow) => {
    try {
      await flow.signIn(user);
      await flow.expectDashboard();
      assertLoginSequence(flow.traffic.navigations, config);
    } finally {
      await flow.signOutApi();
    }
  });
}

async function adminCrudFlow(browser: Browser, config: Config, state: StorageState): Promise<void> {
  await withContext(browser, config, state, async (flow) => {
    const p = flow.page;
    const ms = flow.actionMs;
    const name = `${config.botPrefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
    type Bot = { id: string; name: string; createdAt: string };
    // sweep leftovers older than sweepAfterMinutes, as the spec does
    const cutoff = Date.now() - config.sweepAfterMinutes * 60_000;
    for (const bot of (await flow.rpc<Bot[]>('gadgetbots/list', {})).filter((b) => b.name.startsWith(`${config.botPrefix}-`) && Date.parse(b.createdAt) < cutoff)) {
      await flow.rpc('gadgetbots/deleteById', { id: bot.id });
    }
    const productsHeading = p.getByRole('heading', { name: 'GadgetBot Products', exact: true });
    const row = p.getByRole('row', { name: new RegExp(esc(name)) });
    const heading = p.getByRole('heading', { name, exact: true, level: 1 });
    const battery = (hours: number) => p.getByText(new RegExp(`^\\s*${esc(String(hours))}\\s*hours\\s*$`));
    try {
      // create
      await p.goto('/admin/products');
      await visible(productsHeading, ms, 'products heading');
      await p.getByRole('link', { name: 'Add New GadgetBot' }).first().click();
      await visible(p.getByRole('heading', { name: 'Create New GadgetBot', exact: true }), ms, 'create heading');
      await p.getByLabel('Name').fill(name);
      await p.getByRole('combobox', { name: /Bot Type/ }).click();
      await p.getByRole('option', { name: 'Security Bot', exact: true }).click();
      await p.getByRole('button', { name: 'Create GadgetBot' }).click();
      await until(() => /^\/admin\/products\/?$/.test(flow.url.pathname), ms, 'create did not return to the list');
      await visible(row, ms, 'new bot row');
      // view
      await row.getByRole('link', { name: 'View' }).click();
      await visible(heading, ms, 'bot heading');
      await visible(battery(24), ms, 'battery 24 hours');
      // edit
      await p.getByRole('link', { name: 'Edit', exact: true }).click();
      await visible(p.getByRole('heading', { name: `Edit ${name}`, exact: true }), ms, 'edit heading');
      await p.getByRole('spinbutton', { name: /Battery Life/ }).fill('9.5');
      await p.getByRole('button', { name: 'Update GadgetBot' }).click();
      await until(() => /^\/admin\/products\/gadgetbots\/[^/]+\/?$/.test(flow.url.pathname), ms, 'update did not return to the bot');
      await visible(heading, ms, 'bot heading after edit');
      await visible(battery(9.5), ms, 'battery 9.5 hours');
      // delete
      await p.getByRole('button', { name: 'Delete', exact: true }).click();
      const dialog = p.getByRole('dialog', { name: 'Confirm Deletion' });
      await visible(dialog, ms, 'delete dialog');
      await visible(dialog.getByText(`Are you sure you want to delete "${name}"? This action cannot be undone.`), ms, 'delete text');
      await dialog.getByRole('button', { name: 'Delete', exact: true }).click();
      await until(() => /^\/admin\/products\/?$/.test(flow.url.pathname), ms, 'delete did not return to the list');
      await visible(productsHeading, ms, 'products heading after delete');
      await until(async () => (await row.count()) === 0, ms, 'deleted bot still listed');
    } finally {
      // the janitor: delete every bot of this name, pass or fail
      for (const bot of (await flow.rpc<Bot[]>('gadgetbots/list', {})).filter((b) => b.name === name)) await flow.rpc('gadgetbots/deleteById', { id: bot.id });
    }
  });
}

async function signOutFlow(browser: Browser, config: Config, state: StorageState, user: User): Promise<void> {
  await withContext(browser, config, state, async (flow) => {
    const p = flow.page;
    const ms = flow.actionMs;
    const cookieName = config.appUrl.startsWith('https:') ? '__Secure-better-auth.session_token' : 'better-auth.session_token';
    const appCookie = async () => (await p.context().cookies(config.appUrl)).find((c) => c.name === cookieName);
    try {
      await p.goto('/admin');
      await flow.expectDashboard();
      const old = await appCookie();
      if (!old) fail('no session cookie while signed in');
      await p.getByRole('banner').getByRole('button').or(p.locator('header button[aria-haspopup="menu"]')).click();
      await p.getByRole('menu').getByRole('menuitem', { name: 'Sign Out' }).click();
      await until(() => flow.url.pathname === '/', ms, 'sign-out did not land on /');
      await visible(p.getByRole('heading', { name: /GadgetBot\s*Rentals/, level: 1 }), ms, 'home heading');
      await until(async () => (await appCookie()) === undefined, ms, 'session cookie kept');
      if ((await flow.getSession(`${old.name}=${old.value}`)) !== null) fail('old session still valid');
      await p.goto('/admin');
      await until(() => `${flow.url.pathname}${flow.url.search}` === '/login?redirect=%2Fadmin', ms, 'not sent to /login');
      await flow.signIn(user);
      await flow.expectDashboard();
    } finally {
      await flow.signOutApi();
    }
  });
}

async function sessionRedeployFlow(browser: Browser, config: Config, user: User): Promise<void> {
  const driver = await createRedeployDriver(config);
  await withContext(browser, config, undefined, async (flow) => {
    try {
      await flow.signIn(user);
      await flow.expectDashboard();
      const before = await flow.getSession();
      if (!before) fail('no session after sign-in');
      const assetsBefore = await flow.assetUrls();
      const watch = new AvailabilityWatch({ appUrl: config.appUrl, issuer: config.issuer, ...(config.tls.caCertPath ? { caCertPath: config.tls.caCertPath } : {}) });
      let outcome;
      let upAgain;
      let availability;
      try {
        outcome = await driver.redeploy(AbortSignal.timeout(config.coolify.deployTimeoutMs));
        upAgain = await watch.appUp(Date.now() + Math.max(config.timeouts.actionMs, (config.redeploy.downtimeBudgetSeconds + 5) * 1000));
      } finally {
        availability = await watch.stop();
      }
      if (!outcome.ok) fail(`redeploy ended ${outcome.status}`);
      if (!upAgain) fail('app not up again');
      void ((await flow.assetUrls()) !== assetsBefore); // observation only (instanceChanged)
      flow.traffic.requests.length = 0;
      await flow.page.goto('/admin');
      await flow.expectDashboard();
      if (flow.traffic.requests.some((u) => u.startsWith(`${config.issuer}/oauth/v2/authorize`))) fail('reload went through authorize');
      const after = await flow.getSession();
      if (after?.session.id !== before.session.id) fail('session lost');
      if (availability.idpDisrupted) fail('IdP disrupted');
      if (availability.downtimeSeconds > config.redeploy.downtimeBudgetSeconds) fail('downtime over budget');
    } finally {
      await flow.signOutApi();
    }
  });
}

/** Runs `work` and records how long it took and whether it passed. */
async function timed(name: string, results: Record<string, { ok: boolean; ms: number; error?: string }>, work: () => Promise<unknown>): Promise<void> {
  const started = performance.now();
  try {
    await work();
    results[name] = { ok: true, ms: Math.round(performance.now() - started) };
  } catch (error) {
    results[name] = { ok: false, ms: Math.round(performance.now() - started), error: (error as Error).message.split('\n')[0]!.slice(0, 200) };
  }
}

/** Runs the tasks at most `limit` at a time (the suite's two Playwright workers). */
async function pool(tasks: Array<() => Promise<void>>, limit: number): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, async () => {
    while (next < tasks.length) await tasks[next++]!();
  }));
}

async function runFloor(env: NodeJS.ProcessEnv = process.env): Promise<{ ok: boolean; results: Record<string, { ok: boolean; ms: number; error?: string }> }> {
  const loaded = loadConfig(env);
  if (!loaded.ok) throw new Error(`floor: configuration unusable: ${loaded.issues.map((i) => i.path).join(', ')}`);
  const config = loaded.config;
  const [user1, user2] = config.users;
  if (!user1 || !user2) throw new Error('floor: two users needed');
  const results: Record<string, { ok: boolean; ms: number; error?: string }> = {};

  // probes first, concurrently, as runner/run.ts does (login-v2-redirect claims its sign-in in the shared record)
  await timed('probes', results, async () => {
    const probeResults = await Promise.all(PROBE_CHECK_IDS.map((id) => runProbe(id, config)));
    const failed = probeResults.filter((r) => r.status === 'failed');
    if (failed.length) fail(`probes failed: ${failed.map((r) => r.id).join(', ')}`);
  });

  const resolved = await resolveBrowser(config);
  const browserHome = mkdtempSync(join(tmpdir(), 'sentinel-floor-browser-'));
  const browser = await chromium.launch(launchOptionsFor(resolved, browserTrust(config.tls.caCertPath, browserHome)));
  try {
    const states: StorageState[] = [];
    await timed('setup', results, async () => {
      const [s1, s2] = await Promise.all([setupUser(browser, config, user1), setupUser(browser, config, user2)]);
      states.push(s1, s2);
    });
    if (states.length === 2) {
      await pool(
        [
          () => timed('e2e-login', results, () => loginFlow(browser, config, user1)),
          () => timed('e2e-admin-crud', results, () => adminCrudFlow(browser, config, states[0]!)),
          () => timed('e2e-sign-out', results, () => signOutFlow(browser, config, states[1]!, user2)),
        ],
        2,
      );
    }
    await timed('e2e-session-redeploy', results, () => sessionRedeployFlow(browser, config, user1));
  } finally {
    await browser.close();
    rmSync(browserHome, { recursive: true, force: true });
  }
  const expected = ['probes', 'setup', 'e2e-login', 'e2e-admin-crud', 'e2e-sign-out', 'e2e-session-redeploy'];
  return { ok: expected.every((k) => results[k]?.ok), results };
}

try {
  const outcome = await runFloor();
  process.stdout.write(`FLOOR ${JSON.stringify(outcome)}\n`);
  process.exitCode = outcome.ok ? 0 : 1;
} catch (error) {
  process.stdout.write(`FLOOR ${JSON.stringify({ ok: false, error: (error as Error).message })}\n`);
  process.exitCode = 2;
}
