/**
 * bin/sentinel.mjs runs the esbuild bundle in dist/ (bin/build.mjs): rebuilt when a source is newer,
 * reused otherwise, and the monitor's browser child is bundled beside it.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './embedded-stack.ts';

const run = promisify(execFile);
const manifestFile = join(REPO_ROOT, 'dist', 'manifest.json');
const manifest = () => JSON.parse(readFileSync(manifestFile, 'utf8')) as { builtAtMs: number; entries: string[]; inputs: string[] };
const sentinel = (...args: string[]) => run(process.execPath, ['bin/sentinel.mjs', ...args], { cwd: REPO_ROOT, timeout: 60_000 });

describe('the bundle in dist/', () => {
  it('is rebuilt when a source is newer and reused when none is', async () => {
    await sentinel('help');
    const source = join(REPO_ROOT, 'runner', 'select.ts');
    const before = manifest();
    expect(before.inputs).toEqual(expect.arrayContaining(['runner/cli.ts', 'runner/select.ts', 'core/config.ts', 'runner/monitor/browser-child.ts']));
    const touched = new Date(); // after the build above began, so the bundle is now stale
    expect(touched.getTime()).toBeGreaterThan(before.builtAtMs);
    utimesSync(source, touched, touched);
    const { stdout } = await sentinel('help');
    expect(stdout).toContain('usage: sentinel');
    const rebuilt = manifest();
    expect(rebuilt.builtAtMs).toBeGreaterThan(before.builtAtMs);
    await sentinel('help');
    expect(manifest().builtAtMs).toBe(rebuilt.builtAtMs);
    for (const entry of ['sentinel.mjs', 'browser-child.mjs']) expect(existsSync(join(REPO_ROOT, 'dist', entry))).toBe(true);
  });
});
