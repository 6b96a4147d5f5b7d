/**
 * The reports folder is sentinel's own: every run writes into it and rewrites (scrubs) every file in
 * it. So it may never be a folder that holds anything else (`SENTINEL_REPORTS_DIR=.` or `=/etc`).
 * The first run creates it, or takes an empty one, and leaves a marker file inside; a folder that
 * exists, holds files and has no marker is refused (exit 2), and scrubbing refuses it too.
 */
import { lstatSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { SentinelError } from './errors.ts';

export const REPORTS_MARKER = '.sentinel-reports';
const MARKER_TEXT = 'gadgetbot-sentinel writes into this folder and rewrites the files in it to remove secrets.\n';

function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error));
}

/** True when `dir` carries the marker (a regular file, not a link someone pointed elsewhere). */
export function hasReportsMarker(dir: string): boolean {
  try {
    return lstatSync(path.join(dir, REPORTS_MARKER)).isFile();
  } catch {
    return false;
  }
}

/**
 * Makes `dir` a reports folder of sentinel's, or refuses: created with the marker when missing,
 * marked when empty, accepted when marked. Returns the absolute path. Synchronous, because
 * Playwright's configuration (a module evaluated at load) claims its folder too.
 */
export function claimReportsDir(dir: string): string {
  const absolute = path.resolve(dir);
  let names: string[];
  try {
    names = readdirSync(absolute);
  } catch (error) {
    const code = errorCode(error);
    if (code !== 'ENOENT') throw new SentinelError('environment', `sentinel: the reports folder ${absolute} cannot be read (${code}); set SENTINEL_REPORTS_DIR to a new or empty folder`, { cause: error });
    try {
      mkdirSync(absolute, { recursive: true });
    } catch (mkdirError) {
      throw new SentinelError('environment', `sentinel: cannot create the reports folder ${absolute} (${errorCode(mkdirError)})`, { cause: mkdirError });
    }
    names = [];
  }
  if (hasReportsMarker(absolute)) return absolute;
  if (names.length > 0) {
    throw new SentinelError(
      'environment',
      `sentinel: refusing to write into ${absolute}: it holds files and was not created by sentinel (no ${REPORTS_MARKER} marker); set SENTINEL_REPORTS_DIR to a new or empty folder`,
    );
  }
  try {
    writeFileSync(path.join(absolute, REPORTS_MARKER), MARKER_TEXT, { flag: 'wx' });
  } catch (error) {
    if (errorCode(error) !== 'EEXIST') throw new SentinelError('environment', `sentinel: cannot write into the reports folder ${absolute} (${errorCode(error)})`, { cause: error });
  }
  return absolute;
}

/**
 * A folder inside a claimed reports folder (the redeploy run's `redeploy/`, the monitor's `monitor/`):
 * sentinel's because its parent is, so it is created or adopted and marked, for the scrub to accept.
 */
export function claimReportsSubdir(root: string, name: string): string {
  assertReportsDir(root);
  const absolute = path.resolve(root, name);
  try {
    mkdirSync(absolute, { recursive: true });
    if (!hasReportsMarker(absolute)) writeFileSync(path.join(absolute, REPORTS_MARKER), MARKER_TEXT);
  } catch (error) {
    throw new SentinelError('environment', `sentinel: cannot write into the reports folder ${absolute} (${errorCode(error)})`, { cause: error });
  }
  return absolute;
}

/** Throws unless `dir` carries the marker: what scrubbing checks before it rewrites a single file. */
export function assertReportsDir(dir: string): void {
  if (!hasReportsMarker(dir)) {
    throw new SentinelError('environment', `sentinel: refusing to scrub ${path.resolve(dir)}: it was not created by sentinel (no ${REPORTS_MARKER} marker)`);
  }
}
