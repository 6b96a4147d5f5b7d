/**
 * The browser in one place: which Chromium (Playwright's own when it is installed, else a system
 * Chromium with the flags this kind of machine needs; none → SentinelError('no_browser'), exit 2),
 * and which certificates it trusts (browserTrust below).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { SentinelError } from './errors.ts';
import { nssTrustDatabase, pemCertificates } from './nss-db.ts';

export interface ResolvedBrowser {
  source: 'env' | 'playwright' | 'system';
  /** undefined = let Playwright use its own bundled build */
  executablePath: string | undefined;
  args: string[];
}

/** Flags for a system Chromium on a closed network (no background fetches, no sandbox as root). */
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

/**
 * Debian's headless shell first: what Playwright itself runs headless, and ~160 MB lighter than the
 * full browser in new-headless mode (no browser UI renderer) — it matters on the monitor's small VPS.
 */
export const SYSTEM_CHROMIUM_PATHS = ['/usr/lib/chromium/chromium-headless-shell', '/usr/bin/chromium-headless-shell', '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'];

export function resolveBrowser(settings: { chromiumPath?: string | undefined } = {}, exists: (path: string) => boolean = existsSync): ResolvedBrowser {
  const override = settings.chromiumPath;
  if (override) {
    if (!exists(override)) throw new SentinelError('no_browser', `SENTINEL_CHROMIUM points at ${override}, which does not exist`);
    return { source: 'env', executablePath: override, args: SYSTEM_CHROMIUM_ARGS };
  }
  let bundled: string | undefined;
  try {
    // Required here, not imported: Playwright costs ~75 MB, which only a process that needs its answer should pay.
    const { chromium } = createRequire(import.meta.url)('@playwright/test') as typeof import('@playwright/test');
    bundled = chromium.executablePath();
  } catch {
    bundled = undefined;
  }
  if (bundled && exists(bundled)) return { source: 'playwright', executablePath: undefined, args: [] };
  const system = SYSTEM_CHROMIUM_PATHS.find((path) => exists(path));
  if (system) return { source: 'system', executablePath: system, args: SYSTEM_CHROMIUM_ARGS };
  throw new SentinelError(
    'no_browser',
    'no Chromium found: run `npx playwright install chromium`, install a system Chromium (Debian: apt-get install chromium-headless-shell or chromium), or set SENTINEL_CHROMIUM',
  );
}

/**
 * Chromium verifies every certificate itself, as a user's browser does: the flows never type a
 * password into a page whose certificate it refused. What it trusts is its own root store plus
 * exactly the configured CA (config.tls.caCertPath: the local stack's CA, a private CA), nothing else:
 * Chromium runs with a private HOME whose NSS database (`.pki/nssdb`, core/nss-db.ts) holds only that
 * CA — the place where Chromium on Linux reads user-added trust anchors, honoured alike by Debian's
 * chromium-headless-shell and by an npm-packaged Chromium, with no system tool needed.
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
