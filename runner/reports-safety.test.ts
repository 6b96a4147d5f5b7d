/**
 * The reports cannot keep a secret, and sentinel writes only into its own reports folder:
 * - a reports folder that holds files sentinel did not write is refused (exit 2, one line) and left
 *   exactly as it was;
 * - a corrupt zip in the reports folder is replaced by a placeholder and the run says so, on the
 *   console and in summary.json, while the checks' results stay what they were;
 * - when the session-token recorder fails, the run keeps no browser artifact it cannot prove clean:
 *   the traces and the HTML report are dropped and the run says why (the check still passes: the
 *   recorder is about the reports, not about production).
 */
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadConfig } from '../core/config.ts';
import { SentinelError } from '../core/errors.ts';
import { startStack, type RunningStack } from '../fixtures/stack/index.ts';
import type { BrowserRunCleanup } from './cleanup.ts';
import { REPO_ROOT, envFromStackInfo } from './embedded-stack.ts';
import { grepFor, grepInvertFor, playwrightCliPath, runBrowserChecks } from './playwright.ts';
import { BASE_ENV } from './test-support/env.ts';
import { runCli } from './test-support/cli.ts';
import { startMonitor } from './monitor/index.ts';
import { passed, testConfig } from './monitor/test-support/fakes.ts';

/** What sentinel leaves in a reports folder it created, and what a file that could not be scrubbed becomes. */
const REPORTS_MARKER = '.sentinel-reports';
const PLACEHOLDER_PREFIX = 'sentinel: this file was removed because it could not be scrubbed of secrets';

const dirs: string[] = [];
async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('a reports folder sentinel did not create', () => {
  test('SENTINEL_REPORTS_DIR at a folder with other files: exit 2 with one line, nothing in it changed', async () => {
    const foreign = await tempDir('sentinel-foreign-');
    await mkdir(join(foreign, 'nested'));
    const files = { 'notes.txt': 'my notes', 'archive.zip': 'PK\u0003\u0004 not really', 'nested/config.json': '{"password":"hunter22"}' };
    for (const [name, text] of Object.entries(files)) await writeFile(join(foreign, name), text);
    const before = await Promise.all(Object.keys(files).map(async (name) => (await stat(join(foreign, name))).mtimeMs));

    const run = await runCli(['run', '--check', 'app-health'], { ...BASE_ENV, SENTINEL_REPORTS_DIR: foreign }, 60_000);

    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n')).toEqual([
      `sentinel: refusing to write into ${foreign}: it holds files and was not created by sentinel (no ${REPORTS_MARKER} marker); set SENTINEL_REPORTS_DIR to a new or empty folder`,
    ]);
    expect((await readdir(foreign)).sort()).toEqual(['archive.zip', 'nested', 'notes.txt']);
    for (const [index, [name, text]] of Object.entries(files).entries()) {
      expect(await readFile(join(foreign, name), 'utf8')).toBe(text);
      expect((await stat(join(foreign, name))).mtimeMs).toBe(before[index]);
    }
  });

  test('the monitor with browser checks refuses such a folder at start, and leaves it as it was', async () => {
    const foreign = await tempDir('sentinel-foreign-monitor-');
    await writeFile(join(foreign, 'notes.txt'), 'my notes');
    const config = testConfig({ reportsDir: foreign, checks: ['e2e-login'] });
    const error = await startMonitor(config, { runProbe: async (id) => passed(id), runBrowser: async (_c, _e, o) => o.checks.map((id) => passed(id)), log: () => undefined }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SentinelError);
    expect((error as Error).message).toContain(`refusing to write into ${foreign}`);
    expect(await readdir(foreign)).toEqual(['notes.txt']);
  });
});

describe('against the reference stack', () => {
  let stack: RunningStack;
  beforeAll(async () => {
    stack = await startStack();
  }, 180_000);
  afterAll(async () => {
    await stack?.stop();
  });

  test('a corrupt zip in the reports folder is replaced and reported; the checks are unaffected', async () => {
    const reportsDir = await tempDir('sentinel-corrupt-zip-');
    await writeFile(join(reportsDir, REPORTS_MARKER), 'gadgetbot-sentinel\n');
    await mkdir(join(reportsDir, 'old'));
    await writeFile(join(reportsDir, 'old', 'trace.zip'), Buffer.concat([Buffer.from('PK\u0003\u0004'), Buffer.from(stack.info.users[0]!.password)]));

    const run = await runCli(['run', '--check', 'e2e-login'], { ...envFromStackInfo(stack.info), SENTINEL_REPORTS_DIR: reportsDir }, 240_000);

    expect(run.code).toBe(0);
    expect(run.stdout).toContain('sentinel: replaced 1 report file(s) that could not be scrubbed of secrets: old/trace.zip');
    const summary = JSON.parse(await readFile(join(reportsDir, 'summary.json'), 'utf8')) as { checks: Array<{ id: string; status: string }>; scrub?: { filesReplaced: string[]; artifactsDropped?: string } };
    expect(summary.checks.find((c) => c.id === 'e2e-login')?.status).toBe('passed');
    expect(summary.scrub).toMatchObject({ filesReplaced: ['old/trace.zip'] });
    expect(summary.scrub?.artifactsDropped).toBeUndefined();
    const placeholder = await readFile(join(reportsDir, 'old', 'trace.zip'), 'utf8');
    expect(placeholder.startsWith(PLACEHOLDER_PREFIX)).toBe(true);
    expect(placeholder).not.toContain(stack.info.users[0]!.password);
    // A healthy run keeps its HTML report: nothing was dropped.
    expect(await readdir(join(reportsDir, 'playwright-report'))).toContain('index.html');
  }, 300_000);

  test('the session-token recorder failing drops the browser artifacts and says why; the check result stays', async () => {
    const reportsDir = await tempDir('sentinel-recorder-fails-');
    const env = envFromStackInfo(stack.info);
    const loaded = loadConfig({ ...env, SENTINEL_REPORTS_DIR: reportsDir });
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.issues));
    // The real Playwright run, with the run's record of secrets made unwritable: a folder where the
    // recorder appends to a file (as root, permissions cannot make it fail).
    const wrapper = join(await tempDir('sentinel-recorder-wrapper-'), 'playwright.mjs');
    await writeFile(
      wrapper,
      `import { spawn } from 'node:child_process';
       import { mkdirSync } from 'node:fs';
       mkdirSync(process.env._SENTINEL_STATE_DIR + '/tokens.jsonl');
       const child = spawn(process.execPath, process.argv.slice(2), { stdio: 'inherit' });
       child.on('close', (code) => process.exit(code ?? 1));`,
    );
    const checks = ['e2e-login'] as const;
    const args = [playwrightCliPath(), 'test', '--config', join(REPO_ROOT, 'playwright.config.ts'), '--project', 'setup', '--project', 'checks', '--grep', grepFor(checks), ...grepInvertFor(checks)];
    const cleanups: BrowserRunCleanup[] = [];
    // The runs before signed in on this stack moments ago: the shared sign-in record (core/sign-in-record.ts) paces this one.
    const results = await runBrowserChecks(loaded.config, env, { checks, reportsDir, command: { file: process.execPath, args: [wrapper, ...args] }, onCleanup: (c) => void cleanups.push(c) });

    expect(results.map((r) => [r.id, r.status, r.message])).toEqual([['e2e-login', 'passed', undefined]]);
    expect(cleanups).toHaveLength(1);
    expect(cleanups[0]!.scrub.artifactsDropped).toMatch(/^the session-token recorder failed, so traces, screenshots and the HTML report were removed \(.*EISDIR/);
    const left = await readdir(reportsDir);
    expect(left).not.toContain('playwright-report');
    expect(left).not.toContain('test-results');
    expect(cleanups[0]!.sessions).toEqual([]);
  }, 300_000);
});
