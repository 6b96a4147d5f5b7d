/**
 * Browser resolution in one place: Playwright's own Chromium when it is installed, else a system
 * Chromium with the flags this kind of machine needs; none → SentinelError('no_browser') (exit 2).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { SentinelError } from './errors.ts';

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
