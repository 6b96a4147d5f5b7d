/**
 * The browser the suite launches judges certificates as a user's browser does: it trusts exactly the
 * configured CA on top of its own roots, and refuses an expired certificate, one for another host,
 * a CN-only one and one from an unknown CA — with Chromium's own error names.
 */
import { createServer, type Server } from 'node:https';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type LaunchOptions } from '@playwright/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCertificateAuthority, DAY_MS, issueLeafCertificate, type CertificateAuthority, type LeafOptions } from '../fixtures/stack/certs.ts';
import { browserTrust, resolveBrowser } from './browser.ts';
import { nssTrustDatabase } from './nss-db.ts';

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
    const resolved = resolveBrowser();
    browser = await chromium.launch({
      ...(resolved.executablePath ? { executablePath: resolved.executablePath } : {}),
      args: resolved.args,
      env: browserTrust(caCertPath, home).env,
    });
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
