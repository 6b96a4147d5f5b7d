// Bundles the suite's TypeScript (runner/, probes/, core/) into dist/ with esbuild, packages left as
// imports. Why: running the sources through tsx costs every process ~40 MB (on Node 20 a loader's
// hooks run on a thread of their own), which the long-lived monitor cannot afford. `sentinel` rebuilds
// whenever a bundled source is newer than the bundle, so the sources stay the only truth.
// Code splitting keeps the dynamic imports lazy (the monitor never loads Playwright or the run's
// reporters); chunks are named by their content, so a process started from an older build keeps
// finding its own. dist/ is one level below the root, like runner/: the bundles' `new URL('..',
// import.meta.url)` and createRequire still find the root and node_modules.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = join(ROOT, 'dist');
const MANIFEST = join(DIST, 'manifest.json');
const ENTRIES = { sentinel: 'runner/cli.ts', 'browser-child': 'runner/monitor/browser-child.ts' };
const SELF = 'bin/build.mjs';
const KEEP_OLD_BUILDS_MS = 24 * 3600_000;

/**
 * The bundle of one entry (`sentinel`, `browser-child`), rebuilt when stale; undefined when it cannot
 * be built. The build runs in a process of its own: esbuild's API keeps a service process and a
 * worker thread alive in whoever calls it, which a monitor would then carry for its whole life.
 */
export function bundlePath(name) {
  if (!(name in ENTRIES)) throw new Error(`no bundle named ${name}`);
  if (!isFresh()) {
    const built = spawnSync(process.execPath, [fileURLToPath(import.meta.url)], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 60_000 });
    if (built.status !== 0) return undefined;
  }
  return join(DIST, `${name}.mjs`);
}

function isFresh() {
  try {
    const manifest = JSON.parse(readFileSync(MANIFEST, 'utf8'));
    if (!Object.keys(ENTRIES).every((name) => manifest.entries.includes(name))) return false;
    return [...manifest.inputs, SELF].every((file) => statSync(join(ROOT, file)).mtimeMs <= manifest.builtAtMs);
  } catch {
    return false; // no build yet, or an input was deleted or renamed
  }
}

/**
 * Builds into a scratch folder, then renames chunks, entries and the manifest into dist/ in that
 * order: a concurrent start reads either the old entry or the new one, never half a file.
 */
function build() {
  const builtAtMs = Date.now();
  const scratch = join(DIST, `.build-${process.pid}`);
  try {
    // Loaded only when a build is due: a start with a fresh build never pays for esbuild.
    const esbuild = createRequire(join(ROOT, 'package.json'))('esbuild');
    const result = esbuild.buildSync({
      absWorkingDir: ROOT,
      entryPoints: ENTRIES,
      outdir: scratch,
      outExtension: { '.js': '.mjs' },
      chunkNames: 'chunk-[hash]',
      bundle: true,
      splitting: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      metafile: true,
      logLevel: 'silent',
    });
    const entryFiles = Object.keys(ENTRIES).map((name) => `${name}.mjs`);
    const files = readdirSync(scratch).sort((a, b) => Number(entryFiles.includes(a)) - Number(entryFiles.includes(b)));
    for (const file of files) renameSync(join(scratch, file), join(DIST, file));
    const manifest = { builtAtMs, entries: Object.keys(ENTRIES), inputs: Object.keys(result.metafile.inputs) };
    writeFileSync(join(scratch, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    renameSync(join(scratch, 'manifest.json'), MANIFEST);
    removeOldChunks();
    return true;
  } catch (error) {
    process.stderr.write(`sentinel: could not bundle the sources into dist/ (${String(error?.message ?? error).split('\n')[0]}); running them through tsx\n`);
    return false;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Chunks of older builds go after a day: long enough for any process still running from one. */
function removeOldChunks() {
  for (const file of readdirSync(DIST)) {
    if (!file.startsWith('chunk-')) continue;
    const path = join(DIST, file);
    if (Date.now() - statSync(path).mtimeMs > KEEP_OLD_BUILDS_MS) rmSync(path, { force: true });
  }
}

// `node bin/build.mjs`: build now (the Docker image does, so its read-only /app never needs to).
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  mkdirSync(DIST, { recursive: true });
  process.exitCode = build() ? 0 : 1;
}
