/**
 * The browser in one place: which Chromium, launched with which flags, and which certificates it
 * trusts (browserTrust below). None found → SentinelError('no_browser'), exit 2.
 *
 * Resolution order (config.browser `auto`, the default; SENTINEL_BROWSER names one source instead):
 *   1. SENTINEL_CHROMIUM: the executable the operator named (flags: SYSTEM_CHROMIUM_ARGS);
 *   2. Playwright's own Chromium (`npx playwright install chromium`), Playwright's default flags;
 *   3. Debian's headless shell (`chromium-headless-shell`), SYSTEM_CHROMIUM_ARGS;
 *   4. a system Chromium or Chrome (`/usr/bin/chromium`, …), SYSTEM_CHROMIUM_ARGS;
 *   5. the packaged Chromium of the optional dependency @sparticuz/chromium (Linux x64; installed by
 *      `npm install`, unpacked on first use into the temp folder, core/packaged-chromium.ts),
 *      SYSTEM_CHROMIUM_ARGS — the same flags as Debian's build, never the package's own list.
 * Playwright adds its own default flags to every launch, whichever the source.
 *
 * Why not the package's default argument list (its `args`): it is made for serverless functions and
 * switches off what a browser check exists to see. `--disable-web-security` drops the same-origin
 * policy and CORS (core/browser.test.ts shows a page reading a cross-origin response with that list),
 * `--allow-running-insecure-content` is meant to let an https page run http scripts,
 * `--disable-site-isolation-trials` with `--disable-features=IsolateOrigins,site-per-process` and
 * `--single-process` put every site in one renderer, `--no-zygote` changes how renderers start. A check
 * on such a browser passes where a user's browser blocks a request, warns about mixed content or
 * refuses a cookie. The flags used here only keep Chromium from fetching things in the background and
 * let it run as root in a container; the web platform stays as a user's browser has it.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { BrowserChoice } from './config.ts';
import { SentinelError } from './errors.ts';
import { nssTrustDatabase, pemCertificates } from './nss-db.ts';
import { PACKAGED_CHROMIUM_PACKAGE, findPackagedChromium, packagedChromiumDir, unpackPackagedChromium, type PackagedChromium } from './packaged-chromium.ts';

export type BrowserSource = 'env' | 'playwright' | 'system' | 'packaged';

export interface ResolvedBrowser {
  source: BrowserSource;
  /** undefined = let Playwright use its own bundled build */
  executablePath: string | undefined;
  args: string[];
  /** Environment the build itself needs (the packaged build's libraries and fonts); merged into the launch env. */
  env: Record<string, string>;
  /** One line for the start of a run: which Chromium and why this one. */
  description: string;
}

/**
 * Flags for every Chromium but Playwright's own (which gets Playwright's defaults): no background
 * fetches on a closed network, no sandbox (root in a container has no user namespace for it), no GPU,
 * /tmp instead of a small /dev/shm. Nothing here changes what a page may do.
 */
export const SYSTEM_CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--disable-dev-shm-usage',
];

/** Debian's headless shell: what Playwright itself runs headless, and ~160 MB lighter than the full browser (no browser UI renderer). */
export const HEADLESS_SHELL_PATHS = ['/usr/lib/chromium/chromium-headless-shell', '/usr/bin/chromium-headless-shell'];
/** A full system Chromium or Chrome, after the headless shell. */
export const SYSTEM_BROWSER_PATHS = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'];
export const SYSTEM_CHROMIUM_PATHS = [...HEADLESS_SHELL_PATHS, ...SYSTEM_BROWSER_PATHS];

export interface BrowserSettings {
  chromiumPath?: string | undefined;
  browser?: BrowserChoice | undefined;
}

/** What the machine has, for the decision; replaceable in tests. */
export interface BrowserProbes {
  exists(path: string): boolean;
  /** Playwright's own Chromium executable (present or not), undefined when Playwright cannot say. */
  playwrightExecutable(): string | undefined;
  packaged(): PackagedChromium | undefined;
}

const defaultProbes: BrowserProbes = {
  exists: existsSync,
  playwrightExecutable() {
    try {
      // Required here, not imported: Playwright costs ~75 MB, which only a process that needs its answer should pay.
      const { chromium } = createRequire(import.meta.url)('@playwright/test') as typeof import('@playwright/test');
      return chromium.executablePath();
    } catch {
      return undefined;
    }
  },
  packaged: () => findPackagedChromium(),
};

/** The decision without side effects: the packaged build's path is where it is (or will be) unpacked. */
export type BrowserCandidate = Omit<ResolvedBrowser, 'env'> & { packaged?: PackagedChromium };

export function chooseBrowser(settings: BrowserSettings = {}, probes: BrowserProbes = defaultProbes): BrowserCandidate {
  const choice = settings.browser ?? 'auto';
  const override = settings.chromiumPath;
  if (override) {
    if (!probes.exists(override)) throw new SentinelError('no_browser', `SENTINEL_CHROMIUM points at ${override}, which does not exist`);
    return { source: 'env', executablePath: override, args: SYSTEM_CHROMIUM_ARGS, description: `${override} (SENTINEL_CHROMIUM)` };
  }
  const passed: string[] = [];
  if (choice === 'auto' || choice === 'playwright') {
    const bundled = probes.playwrightExecutable();
    if (bundled && probes.exists(bundled)) {
      return { source: 'playwright', executablePath: undefined, args: [], description: `Playwright's Chromium (${bundled})${choice === 'auto' ? ': installed, first in the order' : ' (SENTINEL_BROWSER=playwright)'}` };
    }
    passed.push("no Playwright browser (npx playwright install chromium)");
  }
  if (choice === 'auto' || choice === 'system') {
    const shell = HEADLESS_SHELL_PATHS.find((path) => probes.exists(path));
    if (shell) return { source: 'system', executablePath: shell, args: SYSTEM_CHROMIUM_ARGS, description: `Debian's headless shell (${shell})${reason(choice, passed, 'system')}` };
    passed.push('no chromium-headless-shell');
    const system = SYSTEM_BROWSER_PATHS.find((path) => probes.exists(path));
    if (system) return { source: 'system', executablePath: system, args: SYSTEM_CHROMIUM_ARGS, description: `the system Chromium (${system})${reason(choice, passed, 'system')}` };
    passed.push('no system Chromium');
  }
  if (choice === 'auto' || choice === 'packaged') {
    const packaged = probes.packaged();
    if (packaged) {
      const dir = packagedChromiumDir(packaged.version);
      return {
        source: 'packaged',
        executablePath: join(dir, 'chromium'),
        args: SYSTEM_CHROMIUM_ARGS,
        description: `the packaged Chromium (${PACKAGED_CHROMIUM_PACKAGE}@${packaged.version}, unpacked in ${dir})${reason(choice, passed, 'packaged')}`,
        packaged,
      };
    }
    passed.push(`no ${PACKAGED_CHROMIUM_PACKAGE} (npm install brings it on Linux x64)`);
  }
  const which = choice === 'auto' ? 'no Chromium found' : `SENTINEL_BROWSER=${choice}: not available`;
  throw new SentinelError(
    'no_browser',
    `${which} (${passed.join('; ')}): run \`npm install\` (Linux x64), \`npx playwright install chromium\`, install a system Chromium (Debian: apt-get install chromium-headless-shell), or set SENTINEL_CHROMIUM`,
  );
}

function reason(choice: BrowserChoice, passed: readonly string[], source: BrowserChoice): string {
  if (choice === source) return ` (SENTINEL_BROWSER=${source})`;
  return passed.length ? `: ${passed.join(', ')}` : '';
}

/** The browser to launch, ready: the packaged build is unpacked first when it is the one chosen. */
export async function resolveBrowser(settings: BrowserSettings = {}, probes: BrowserProbes = defaultProbes): Promise<ResolvedBrowser> {
  const { packaged, ...candidate } = chooseBrowser(settings, probes);
  if (!packaged) return { ...candidate, env: {} };
  const unpacked = await unpackPackagedChromium(packaged);
  return { ...candidate, executablePath: unpacked.executablePath, env: unpacked.env };
}

/**
 * Chromium verifies every certificate itself, as a user's browser does: the flows never type a
 * password into a page whose certificate it refused. What it trusts is its own root store plus
 * exactly the configured CA (config.tls.caCertPath: the local stack's CA, a private CA), nothing else:
 * Chromium runs with a private HOME whose NSS database (`.pki/nssdb`, core/nss-db.ts) holds only that
 * CA — the place where Chromium on Linux reads user-added trust anchors, honoured alike by Debian's
 * chromium-headless-shell and by the packaged Chromium (with its own NSS libraries), with no system
 * tool needed.
 *
 * Verified by Chromium's own verifier then: the chain up to its roots or the configured CA (the
 * server need not send that CA, only its intermediates), the validity dates of the leaf and the
 * intermediates, and the host name against the subjectAltName only — no Common Name fallback, no
 * partial wildcards. A refusal is the navigation's error: net::ERR_CERT_AUTHORITY_INVALID (unknown CA),
 * net::ERR_CERT_DATE_INVALID (expired or not yet valid), net::ERR_CERT_COMMON_NAME_INVALID (another
 * host, a CN-only certificate, a partial wildcard).
 * Not verified: revocation and Certificate Transparency (their lists come by component update, which
 * the launch flags turn off, SYSTEM_CHROMIUM_ARGS as Playwright's defaults; a locally trusted CA is
 * exempt from CT anyway).
 *
 * Rejected alternatives: Playwright's ignoreHTTPSErrors checks nothing. Chromium's
 * --ignore-certificate-errors-spki-list=<CA's SPKI hash> only applies when the server sends the CA
 * itself, and then skips every check: an expired leaf, a leaf for another host, even a self-signed
 * leaf with the (public) CA certificate appended were all accepted.
 *
 * Playwright's request API (`page.request`) does not go through Chromium: it runs in Node, which
 * verifies chain and expiry against Node's roots plus NODE_EXTRA_CA_CERTS (set from the same CA by
 * playwright.config.ts) and the host name by Node's rules, which still fall back to the CN.
 */
export interface BrowserTrust {
  /** Environment of the Chromium process: the caller's, with HOME pointing at the private home. */
  env: Record<string, string>;
}

/**
 * Prepares `homeDir` (created if missing) as Chromium's HOME, trusting the CA in `caCertPath` when
 * given. Idempotent and cheap: Playwright loads its config in every worker, and a database a running
 * Chromium has open is never rewritten.
 */
export function browserTrust(caCertPath: string | undefined, homeDir: string, parentEnv: NodeJS.ProcessEnv = process.env): BrowserTrust {
  const nssDir = join(homeDir, '.pki', 'nssdb');
  const database = join(nssDir, 'cert9.db');
  const stamp = join(nssDir, 'sentinel-ca.sha256');
  mkdirSync(nssDir, { recursive: true });
  if (caCertPath) {
    const caPem = readFileSync(caCertPath, 'utf8');
    const digest = createHash('sha256').update(caPem).digest('hex');
    if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== digest) {
      if (pemCertificates(caPem).length === 0) throw new SentinelError('config_invalid', `SENTINEL_CA_CERT: ${caCertPath} holds no PEM certificate`);
      const partial = `${database}.${process.pid}`;
      writeFileSync(partial, nssTrustDatabase(caPem), { mode: 0o600 });
      renameSync(partial, database);
      writeFileSync(stamp, digest);
    }
  } else if (existsSync(stamp)) {
    // a reused home (e2e/.auth) must not keep trusting a CA the configuration no longer names
    rmSync(database, { force: true });
    rmSync(stamp, { force: true });
  }
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(parentEnv)) if (value !== undefined) env[key] = value;
  env.HOME = homeDir;
  return { env };
}

/** Launch options for Playwright: the resolved executable, its flags, and its environment on top of the trust home's. */
export function launchOptionsFor(browser: ResolvedBrowser, trust: BrowserTrust): { executablePath?: string; args: string[]; env: Record<string, string> } {
  return {
    ...(browser.executablePath ? { executablePath: browser.executablePath } : {}),
    args: browser.args,
    env: { ...trust.env, ...browser.env },
  };
}
