/**
 * The browser the suite launches judges certificates as a user's browser does: it trusts exactly the
 * configured CA on top of its own roots, and refuses an expired certificate, one for another host,
 * a CN-only one and one from an unknown CA — with Chromium's own error names. The same holds for the
 * packaged Chromium from npm, which also keeps the web's own rules (CORS, mixed content) that the
 * package's default flags would switch off. And the resolution order, source by source.
 */
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Server } from 'node:https';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type LaunchOptions } from '@playwright/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCertificateAuthority, DAY_MS, issueLeafCertificate, type CertificateAuthority, type LeafOptions } from '../fixtures/stack/certs.ts';
import { browserTrust, chooseBrowser, launchOptionsFor, resolveBrowser, SYSTEM_CHROMIUM_ARGS, type BrowserProbes, type ResolvedBrowser } from './browser.ts';
import { SentinelError } from './errors.ts';
import { nssTrustDatabase } from './nss-db.ts';
import { findPackagedChromium, packagedChromiumDir } from './packaged-chromium.ts';

let dir: string;
let ca: CertificateAuthority;
let caPath: string;
const servers: Server[] = [];

/** An HTTPS server on 127.0.0.1 serving `chainPem`; its URL names `localhost`. */
async function serve(chainPem: string, keyPem: string): Promise<string> {
  const server = createServer({ cert: chainPem, key: keyPem }, (_req, res) => res.end('<title>ok</title>'));
  server.on('tlsClientError', () => undefined);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `https://localhost:${(server.address() as { port: number }).port}/`;
}

async function serveLeaf(options: LeafOptions & { withCa?: boolean } = {}, issuer: CertificateAuthority = ca): Promise<string> {
  const leaf = await issueLeafCertificate(issuer, options);
  return serve(options.withCa === false ? leaf.certPem : leaf.chainPem, leaf.keyPem);
}

/** What a navigation ends in: `200`, or the net:: error Chromium refused it with. */
async function visit(browser: Browser, url: string, ignoreHTTPSErrors: boolean | undefined): Promise<string> {
  const context = await browser.newContext({ ...(ignoreHTTPSErrors === undefined ? {} : { ignoreHTTPSErrors }) });
  try {
    const response = await context.newPage().then((page) => page.goto(url, { timeout: 15_000 }));
    return String(response?.status());
  } catch (error) {
    return /net::ERR_[A-Z_]+/.exec((error as Error).message)?.[0] ?? (error as Error).message;
  } finally {
    await context.close();
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sentinel-browser-trust-'));
  ca = await createCertificateAuthority('Browser Trust Test CA');
  caPath = join(dir, 'ca.pem');
  writeFileSync(caPath, ca.certPem);
});

afterAll(async () => {
  await Promise.all(servers.map((server) => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); })));
  rmSync(dir, { recursive: true, force: true });
});

describe('the browser of playwright.config.ts', () => {
  let browser: Browser;
  let use: { ignoreHTTPSErrors?: boolean; launchOptions?: LaunchOptions };
  const saved = { ...process.env };

  beforeAll(async () => {
    // The configuration of a run against a target whose private CA is configured.
    Object.assign(process.env, {
      SENTINEL_APP_URL: 'https://localhost:1',
      SENTINEL_ISSUER: 'https://127.0.0.1:2',
      SENTINEL_CA_CERT: caPath,
      _SENTINEL_STATE_DIR: join(dir, 'state'),
    });
    const config = (await import('../playwright.config.ts')).default;
    use = config.use as typeof use;
    browser = await chromium.launch(use.launchOptions);
  });

  afterAll(async () => {
    await browser?.close();
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  });

  it('accepts a certificate from the configured CA, also when the server does not send the CA', async () => {
    expect(await visit(browser, await serveLeaf(), use.ignoreHTTPSErrors)).toBe('200');
    expect(await visit(browser, await serveLeaf({ withCa: false }), use.ignoreHTTPSErrors)).toBe('200');
  });

  it('refuses an expired certificate from the trusted CA', async () => {
    const url = await serveLeaf({ notBefore: new Date(Date.now() - 91 * DAY_MS), notAfter: new Date(Date.now() - DAY_MS) });
    expect(await visit(browser, url, use.ignoreHTTPSErrors)).toBe('net::ERR_CERT_DATE_INVALID');
  });

  it('refuses a certificate for another host, and one naming the host only in its CN', async () => {
    expect(await visit(browser, await serveLeaf({ dnsNames: ['wrong-host.invalid'], ipAddresses: [] }), use.ignoreHTTPSErrors)).toBe('net::ERR_CERT_COMMON_NAME_INVALID');
    expect(await visit(browser, await serveLeaf({ commonNameOnly: true }), use.ignoreHTTPSErrors)).toBe('net::ERR_CERT_COMMON_NAME_INVALID');
  });

  it('refuses an unknown CA, and a self-signed leaf that carries the trusted CA along', async () => {
    const rogue = await createCertificateAuthority('Rogue CA');
    expect(await visit(browser, await serveLeaf({}, rogue), use.ignoreHTTPSErrors)).toBe('net::ERR_CERT_AUTHORITY_INVALID');
    // The CA certificate is public: anyone can append it to a chain. Trust must come from signatures.
    const impostor = await issueLeafCertificate(rogue);
    expect(await visit(browser, await serve(impostor.certPem + ca.certPem, impostor.keyPem), use.ignoreHTTPSErrors)).toBe('net::ERR_CERT_AUTHORITY_INVALID');
  });

  it('lets Node-side requests (page.request) of the workers trust the same CA', () => {
    expect(process.env.NODE_EXTRA_CA_CERTS).toBe(caPath);
  });
});

describe('browserTrust', () => {
  let browser: Browser | undefined;
  const launch = async (caCertPath: string | undefined, home: string) => {
    await browser?.close();
    browser = await chromium.launch(launchOptionsFor(await resolveBrowser(), browserTrust(caCertPath, home)));
    return browser;
  };

  afterAll(async () => {
    await browser?.close();
  });

  it('trusts a CA anywhere in a large bundle (more than one database page)', async () => {
    const others = await Promise.all(Array.from({ length: 80 }, (_, i) => createCertificateAuthority(`Bundle CA ${i}`)));
    const bundlePath = join(dir, 'bundle.pem');
    const bundle = others.map((other) => other.certPem).join('') + ca.certPem;
    writeFileSync(bundlePath, bundle);
    expect(nssTrustDatabase(bundle).length).toBeGreaterThan(3 * 65_536); // header page, table root, two leaves
    const url = await serveLeaf();
    expect(await visit(await launch(bundlePath, join(dir, 'home-bundle')), url, undefined)).toBe('200');
  });

  it('trusts nothing extra without a configured CA, also in a home that trusted one before', async () => {
    const home = join(dir, 'home-reused');
    const url = await serveLeaf();
    expect(await visit(await launch(caPath, home), url, undefined)).toBe('200');
    expect(await visit(await launch(undefined, home), url, undefined)).toBe('net::ERR_CERT_AUTHORITY_INVALID');
  });

  it('puts only HOME of the environment in its own place', () => {
    const { env } = browserTrust(undefined, join(dir, 'home-env'), { PATH: '/bin', HOME: '/root', EMPTY: undefined });
    expect(env).toEqual({ PATH: '/bin', HOME: join(dir, 'home-env') });
  });
});

/**
 * A page on https://localhost that reads a cross-origin response without CORS headers, and runs a
 * script from http:// (on a name that is not loopback, so it counts as insecure): a user's browser
 * blocks both (the second is active mixed content).
 */
async function webRules(browser: Browser): Promise<{ crossOrigin: string; mixedContent: string }> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(webRulesPage.url, { timeout: 15_000 });
    const crossOrigin = await page.evaluate((target) => fetch(target).then((r) => r.text()).then((t) => `read ${t}`, () => 'blocked'), webRulesPage.crossOrigin);
    const mixedContent = await page.evaluate(
      (src) =>
        new Promise<string>((resolve) => {
          const script = document.createElement('script');
          script.src = src;
          script.onload = () => resolve('ran');
          script.onerror = () => resolve('blocked');
          document.head.append(script);
        }),
      webRulesPage.insecure,
    );
    return { crossOrigin, mixedContent };
  } finally {
    await context.close();
  }
}
/** Maps the insecure name to loopback inside Chromium only (DNS, nothing about the web's rules). */
const RESOLVER_RULES = '--host-resolver-rules=MAP insecure.sentinel.test 127.0.0.1';
const webRulesPage = { url: '', crossOrigin: '', insecure: '' };
let insecureServer: HttpServer | undefined;

describe('the web platform stays as a user has it', () => {
  beforeAll(async () => {
    webRulesPage.url = await serveLeaf();
    // another origin (host 127.0.0.1), trusted certificate, no Access-Control-Allow-Origin
    webRulesPage.crossOrigin = `${(await serveLeaf()).replace('localhost', '127.0.0.1')}data`;
    // a script over plain http: only the mixed-content rule can stop it
    insecureServer = createHttpServer((_req, res) => res.writeHead(200, { 'content-type': 'text/javascript' }).end('window.insecureScriptRan = true;'));
    await new Promise<void>((resolve) => insecureServer!.listen(0, '127.0.0.1', resolve));
    webRulesPage.insecure = `http://insecure.sentinel.test:${(insecureServer.address() as { port: number }).port}/script.js`;
  });
  afterAll(async () => {
    insecureServer?.closeAllConnections();
    await new Promise<void>((resolve) => (insecureServer ? insecureServer.close(() => resolve()) : resolve()));
  });

  const launchWith = async (resolved: ResolvedBrowser, home: string, extraArgs: string[] = []) => {
    const options = launchOptionsFor(resolved, browserTrust(caPath, join(dir, home)));
    return chromium.launch({ ...options, args: [...options.args, ...extraArgs] });
  };

  it('on the browser the resolution order picks on this machine: CORS and mixed content are enforced', async () => {
    const browser = await launchWith(await resolveBrowser(), 'home-web-default', [RESOLVER_RULES]);
    try {
      expect(await webRules(browser)).toEqual({ crossOrigin: 'blocked', mixedContent: 'blocked' });
    } finally {
      await browser.close();
    }
  });

  describe('on the packaged Chromium (SENTINEL_BROWSER=packaged)', () => {
    let resolved: ResolvedBrowser;
    let browser: Browser;
    beforeAll(async () => {
      resolved = await resolveBrowser({ browser: 'packaged' });
      browser = await launchWith(resolved, 'home-web-packaged', [RESOLVER_RULES]);
    });
    afterAll(async () => {
      await browser?.close();
    });

    it("is the package's own build, unpacked in the temp folder, launched with the suite's flags", () => {
      const pkg = findPackagedChromium();
      expect(pkg, '@sparticuz/chromium is installed (optional dependency, Linux x64)').toBeDefined();
      expect(resolved.source).toBe('packaged');
      expect(resolved.executablePath).toBe(join(packagedChromiumDir(pkg!.version), 'chromium'));
      expect(browser.version().split('.')[0]).toBe(pkg!.version.split('.')[0]);
      expect(resolved.args).toEqual(SYSTEM_CHROMIUM_ARGS);
      expect(resolved.description).toContain(`@sparticuz/chromium@${pkg!.version}`);
    });

    it('enforces CORS and mixed content', async () => {
      expect(await webRules(browser)).toEqual({ crossOrigin: 'blocked', mixedContent: 'blocked' });
    });

    it('trusts exactly the configured CA: accepts its certificates, refuses expired, other-host, CN-only and unknown-CA ones', async () => {
      expect(await visit(browser, await serveLeaf(), false)).toBe('200');
      expect(await visit(browser, await serveLeaf({ withCa: false }), false)).toBe('200');
      expect(await visit(browser, await serveLeaf({ notBefore: new Date(Date.now() - 91 * DAY_MS), notAfter: new Date(Date.now() - DAY_MS) }), false)).toBe('net::ERR_CERT_DATE_INVALID');
      expect(await visit(browser, await serveLeaf({ dnsNames: ['wrong-host.invalid'], ipAddresses: [] }), false)).toBe('net::ERR_CERT_COMMON_NAME_INVALID');
      expect(await visit(browser, await serveLeaf({ commonNameOnly: true }), false)).toBe('net::ERR_CERT_COMMON_NAME_INVALID');
      expect(await visit(browser, await serveLeaf({}, await createCertificateAuthority('Rogue CA')), false)).toBe('net::ERR_CERT_AUTHORITY_INVALID');
    });

    it("would not with the package's own argument list: the reason core/browser.ts never uses it", async () => {
      const { default: packaged } = (await import('@sparticuz/chromium')) as { default: { args: string[] } };
      expect(packaged.args).toEqual(expect.arrayContaining(['--disable-web-security', '--allow-running-insecure-content']));
      const options = launchOptionsFor(resolved, browserTrust(caPath, join(dir, 'home-web-package-args')));
      const insecure = await chromium.launch({ ...options, args: [...packaged.args, RESOLVER_RULES] });
      try {
        // --disable-web-security: the cross-origin response is readable. (This build still blocked the
        // http script despite --allow-running-insecure-content; the flag is in the list all the same.)
        expect((await webRules(insecure)).crossOrigin).toBe('read <title>ok</title>');
      } finally {
        await insecure.close();
      }
    });
  });
});

describe('chooseBrowser: the resolution order', () => {
  const PLAYWRIGHT = '/home/u/.cache/ms-playwright/chromium-1255/chrome-linux/chrome';
  const probes = (present: string[], packaged = true): BrowserProbes => ({
    exists: (path) => present.includes(path),
    playwrightExecutable: () => PLAYWRIGHT,
    packaged: () => (packaged ? { version: '147.0.0', binDir: '/nm/@sparticuz/chromium/bin' } : undefined),
  });
  const everything = [PLAYWRIGHT, '/usr/lib/chromium/chromium-headless-shell', '/usr/bin/chromium', '/opt/chrome'];

  it('SENTINEL_CHROMIUM first, then Playwright, the headless shell, a system Chromium, the packaged one', () => {
    expect(chooseBrowser({ chromiumPath: '/opt/chrome' }, probes(everything))).toMatchObject({ source: 'env', executablePath: '/opt/chrome', args: SYSTEM_CHROMIUM_ARGS });
    expect(chooseBrowser({}, probes(everything))).toMatchObject({ source: 'playwright', executablePath: undefined, args: [] });
    expect(chooseBrowser({}, probes(everything.slice(1)))).toMatchObject({ source: 'system', executablePath: '/usr/lib/chromium/chromium-headless-shell' });
    expect(chooseBrowser({}, probes(everything.slice(2)))).toMatchObject({ source: 'system', executablePath: '/usr/bin/chromium' });
    const last = chooseBrowser({}, probes([]));
    expect(last).toMatchObject({ source: 'packaged', executablePath: join(packagedChromiumDir('147.0.0'), 'chromium'), args: SYSTEM_CHROMIUM_ARGS });
    expect(last.description).toBe(
      `the packaged Chromium (@sparticuz/chromium@147.0.0, unpacked in ${packagedChromiumDir('147.0.0')}): no Playwright browser (npx playwright install chromium), no chromium-headless-shell, no system Chromium`,
    );
  });

  it('says why: the first line of a run names the browser and what was passed over', () => {
    expect(chooseBrowser({}, probes(everything.slice(1))).description).toBe("Debian's headless shell (/usr/lib/chromium/chromium-headless-shell): no Playwright browser (npx playwright install chromium)");
    expect(chooseBrowser({ chromiumPath: '/opt/chrome' }, probes(everything)).description).toBe('/opt/chrome (SENTINEL_CHROMIUM)');
  });

  it('SENTINEL_BROWSER names one source and nothing else', () => {
    expect(chooseBrowser({ browser: 'packaged' }, probes(everything))).toMatchObject({ source: 'packaged' });
    expect(chooseBrowser({ browser: 'system' }, probes(everything))).toMatchObject({ source: 'system', executablePath: '/usr/lib/chromium/chromium-headless-shell' });
    expect(() => chooseBrowser({ browser: 'playwright' }, probes(everything.slice(1)))).toThrow(/^SENTINEL_BROWSER=playwright: not available \(no Playwright browser/);
  });

  it('none at all is one no_browser error that says what to do', () => {
    let error: SentinelError | undefined;
    try {
      chooseBrowser({}, probes([], false));
    } catch (e) {
      error = e as SentinelError;
    }
    expect(error).toBeInstanceOf(SentinelError);
    expect(error!.code).toBe('no_browser');
    expect(error!.message).toBe(
      'no Chromium found (no Playwright browser (npx playwright install chromium); no chromium-headless-shell; no system Chromium; no @sparticuz/chromium (npm install brings it on Linux x64)): ' +
        'run `npm install` (Linux x64), `npx playwright install chromium`, install a system Chromium (Debian: apt-get install chromium-headless-shell), or set SENTINEL_CHROMIUM',
    );
  });

  it('no flag of the suite switches off a web-platform rule', () => {
    for (const flag of ['--disable-web-security', '--allow-running-insecure-content', '--disable-site-isolation-trials', '--single-process', '--no-zygote']) {
      expect(SYSTEM_CHROMIUM_ARGS).not.toContain(flag);
    }
    expect(SYSTEM_CHROMIUM_ARGS.some((flag) => flag.startsWith('--disable-features'))).toBe(false);
  });
});
