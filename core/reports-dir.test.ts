import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SentinelError } from './errors.ts';
import { REPORTS_MARKER, assertReportsDir, claimReportsDir, claimReportsSubdir } from './reports-dir.ts';

let dir: string;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('claimReportsDir', () => {
  it('creates a missing folder with the marker, marks an empty one, accepts a marked one', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'reports-dir-'));
    const fresh = path.join(dir, 'a', 'b');
    expect(claimReportsDir(fresh)).toBe(fresh);
    expect(await readdir(fresh)).toEqual([REPORTS_MARKER]);
    await mkdir(path.join(dir, 'empty'));
    claimReportsDir(path.join(dir, 'empty'));
    await writeFile(path.join(fresh, 'summary.json'), '{}');
    expect(claimReportsDir(fresh)).toBe(fresh);
    expect(() => assertReportsDir(path.join(dir, 'empty'))).not.toThrow();
  });

  it('refuses a folder that holds files and no marker, and leaves it as it was', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'reports-dir-'));
    await writeFile(path.join(dir, 'passwd'), 'root:x:0:0');
    const before = await stat(path.join(dir, 'passwd'));
    let error: unknown;
    try {
      claimReportsDir(dir);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SentinelError);
    expect((error as Error).message).toBe(`sentinel: refusing to write into ${dir}: it holds files and was not created by sentinel (no ${REPORTS_MARKER} marker); set SENTINEL_REPORTS_DIR to a new or empty folder`);
    expect(await readdir(dir)).toEqual(['passwd']);
    expect(await readFile(path.join(dir, 'passwd'), 'utf8')).toBe('root:x:0:0');
    expect((await stat(path.join(dir, 'passwd'))).mtimeMs).toBe(before.mtimeMs);
    expect(() => assertReportsDir(dir)).toThrow(SentinelError);
  });

  it('a path that is a file is refused as unreadable', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'reports-dir-'));
    await writeFile(path.join(dir, 'file'), 'x');
    expect(() => claimReportsDir(path.join(dir, 'file'))).toThrow(/the reports folder .* cannot be read \(ENOTDIR\)/);
  });
});

describe('claimReportsSubdir', () => {
  it('creates or adopts a folder inside a claimed one, and refuses one inside a foreign folder', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'reports-dir-'));
    claimReportsDir(dir);
    await mkdir(path.join(dir, 'redeploy'));
    await writeFile(path.join(dir, 'redeploy', 'summary.md'), 'old run');
    expect(claimReportsSubdir(dir, 'redeploy')).toBe(path.join(dir, 'redeploy'));
    expect((await readdir(path.join(dir, 'redeploy'))).sort()).toEqual([REPORTS_MARKER, 'summary.md']);
    expect(claimReportsSubdir(dir, 'monitor')).toBe(path.join(dir, 'monitor'));
    const foreign = path.join(dir, 'redeploy', 'foreign');
    await mkdir(foreign);
    await writeFile(path.join(foreign, 'x'), 'x');
    expect(() => claimReportsSubdir(foreign, 'monitor')).toThrow(SentinelError);
    expect(await readdir(foreign)).toEqual(['x']);
  });
});
