import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { zipSync } from 'fflate';
import { afterEach, describe, expect, it } from 'vitest';
import { SentinelError } from './errors.ts';
import { createRedactor } from './redact.ts';
import { PLACEHOLDER_PREFIX, dropBrowserArtifacts, readZip, scrubReports, secretVariants, type ScrubIo } from './scrub.ts';

const PASSWORD = 'S3cret pass/word+&!';
const TOKEN = 'tok3nVALUEabcdefghijklmnopqrstuv';

function zip(entries: Record<string, Buffer | string>, level: 0 | 6 = 6): Buffer {
  return Buffer.from(zipSync(Object.fromEntries(Object.entries(entries).map(([name, data]) => [name, new Uint8Array(Buffer.from(data))])), { level }));
}

function unzip(buffer: Buffer): Record<string, Buffer> {
  return Object.fromEntries(readZip(buffer).map((entry) => [entry.name, entry.data]));
}

const NODE_IO: ScrubIo = {
  readdir: (dir) => readdir(dir, { withFileTypes: true }),
  readFile: (file) => readFile(file),
  writeFile: (file, data) => writeFile(file, data),
  rm: (file) => rm(file, { force: true }),
};

let dir: string;
let outside: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  if (outside) await rm(outside, { recursive: true, force: true });
  outside = undefined;
});

/** The marker core/reports-dir.ts leaves in a reports folder it created (written here as sentinel writes it). */
const REPORTS_MARKER = '.sentinel-reports';

async function reportsFolder(): Promise<string> {
  dir = await mkdtemp(path.join(tmpdir(), 'scrub-'));
  await writeFile(path.join(dir, REPORTS_MARKER), 'gadgetbot-sentinel\n');
  return dir;
}

describe('scrubReports', () => {
  it('removes secrets from text files, nested zips and the html report embedded zip, leaving binaries alone', async () => {
    await reportsFolder();
    const redactor = createRedactor(secretVariants([PASSWORD, TOKEN]));
    const formBody = `loginName=user&password=${new URLSearchParams({ p: PASSWORD }).toString().slice(2)}`;
    const traceEvents = JSON.stringify({ method: 'fill', params: { value: PASSWORD } }) + '\n' + JSON.stringify({ headers: [{ name: 'cookie', value: `__Secure-better-auth.session_token=${TOKEN}.sig%3D` }] });
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3]);
    const trace = zip({ 'trace.trace': traceEvents, 'resources/abc.dat': formBody, 'screen.png': png });
    await mkdir(path.join(dir, 'test-results/t'), { recursive: true });
    await writeFile(path.join(dir, 'test-results/t/trace.zip'), trace);
    await writeFile(path.join(dir, 'test-results/t/error-context.md'), `token ${TOKEN} shown`);
    await writeFile(path.join(dir, 'test-results/t/test-failed-1.png'), png);
    const reportData = zip({ 'report.json': JSON.stringify({ title: `Fill "${PASSWORD}"` }), 'data/x.zip': trace });
    await writeFile(path.join(dir, 'index.html'), `<script>window.playwrightReportBase64 = "data:application/zip;base64,${reportData.toString('base64')}";</script>`);

    const summary = await scrubReports(dir, redactor);

    expect(summary).toMatchObject({ filesScanned: 5, filesRewritten: 3, filesReplaced: [] }); // the four files and the marker
    const scrubbedTrace = unzip(await readFile(path.join(dir, 'test-results/t/trace.zip')));
    expect(Object.keys(scrubbedTrace)).toEqual(['trace.trace', 'resources/abc.dat', 'screen.png']);
    expect(scrubbedTrace['trace.trace']!.toString()).not.toContain(PASSWORD);
    expect(scrubbedTrace['trace.trace']!.toString()).not.toContain(TOKEN);
    expect(scrubbedTrace['trace.trace']!.toString()).toContain('[REDACTED]');
    expect(scrubbedTrace['resources/abc.dat']!.toString()).toBe('loginName=user&password=[REDACTED]');
    expect(scrubbedTrace['screen.png']).toEqual(png);
    expect(await readFile(path.join(dir, 'test-results/t/error-context.md'), 'utf8')).toBe('token [REDACTED] shown');
    expect(await readFile(path.join(dir, 'test-results/t/test-failed-1.png'))).toEqual(png);
    const html = await readFile(path.join(dir, 'index.html'), 'utf8');
    const embedded = unzip(Buffer.from(/base64,([A-Za-z0-9+/=]+)/.exec(html)![1]!, 'base64'));
    expect(embedded['report.json']!.toString()).toBe(JSON.stringify({ title: 'Fill "[REDACTED]"' }));
    const nested = unzip(embedded['data/x.zip']!);
    expect(nested['trace.trace']!.toString()).not.toContain(PASSWORD);
  });

  it('replaces a zip that cannot be read with a placeholder and lists it', async () => {
    await reportsFolder();
    await writeFile(path.join(dir, 'broken.zip'), Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.from(PASSWORD)]));
    await writeFile(path.join(dir, 'not-a-zip.zip'), Buffer.from(`garbage ${PASSWORD}`));
    const summary = await scrubReports(dir, createRedactor([]));
    expect(summary.filesReplaced).toEqual(['broken.zip', 'not-a-zip.zip']);
    for (const name of ['broken.zip', 'not-a-zip.zip']) {
      const text = await readFile(path.join(dir, name), 'utf8');
      expect(text.startsWith(PLACEHOLDER_PREFIX)).toBe(true);
      expect(text).not.toContain(PASSWORD);
    }
    // A later scrub (the runner's, after Playwright's own) does not count the placeholder again.
    expect((await scrubReports(dir, createRedactor([]))).filesReplaced).toEqual([]);
  });

  it('replaces a zip with an entry that does not inflate (nested in a trace too)', async () => {
    await reportsFolder();
    const good = zip({ 'trace.trace': `x`.repeat(2000) + TOKEN });
    const corrupt = Buffer.from(good);
    // The deflated data of the only entry starts after the 30-byte local header and the name.
    const dataStart = 30 + 'trace.trace'.length;
    corrupt.fill(0xff, dataStart, dataStart + 8);
    expect(() => readZip(corrupt)).toThrow();
    await mkdir(path.join(dir, 'test-results/t'), { recursive: true });
    await writeFile(path.join(dir, 'test-results/t/trace.zip'), corrupt);
    await writeFile(path.join(dir, 'outer.zip'), zip({ 'inner.zip': corrupt, 'ok.txt': 'fine' }, 0));
    const summary = await scrubReports(dir, createRedactor([TOKEN]));
    expect(summary.filesReplaced).toEqual(['outer.zip', path.join('test-results', 't', 'trace.zip')]);
    expect((await readFile(path.join(dir, 'outer.zip'), 'utf8')).startsWith(PLACEHOLDER_PREFIX)).toBe(true);
  });

  it('removes a link or a pipe instead of following or blocking on it, and never writes through a link', async () => {
    await reportsFolder();
    outside = await mkdtemp(path.join(tmpdir(), 'scrub-outside-'));
    await writeFile(path.join(outside, 'target.txt'), `outside ${PASSWORD}`);
    await symlink(path.join(outside, 'target.txt'), path.join(dir, 'link.txt'));
    await symlink(path.join(outside, 'missing'), path.join(dir, 'dangling'));
    execFileSync('mkfifo', [path.join(dir, 'pipe')]);
    const summary = await scrubReports(dir, createRedactor([PASSWORD]));
    expect(summary.filesReplaced.sort()).toEqual(['dangling', 'link.txt', 'pipe']);
    expect((await readdir(dir)).sort()).toEqual([REPORTS_MARKER]);
    expect(await readFile(path.join(outside, 'target.txt'), 'utf8')).toBe(`outside ${PASSWORD}`);
  });

  it('replaces a file that cannot be read; removes it when the placeholder cannot be written either', async () => {
    await reportsFolder();
    await writeFile(path.join(dir, 'a.txt'), `a ${PASSWORD}`);
    await writeFile(path.join(dir, 'b.txt'), `b ${PASSWORD}`);
    const eio = () => Object.assign(new Error('i/o error'), { code: 'EIO' });
    const io: ScrubIo = {
      ...NODE_IO,
      readFile: async (file) => (file.endsWith('.txt') ? Promise.reject(eio()) : NODE_IO.readFile(file)),
      writeFile: async (file, data) => (file.endsWith('b.txt') ? Promise.reject(eio()) : NODE_IO.writeFile(file, data)),
    };
    const summary = await scrubReports(dir, createRedactor([PASSWORD]), io);
    expect(summary.filesReplaced).toEqual(['a.txt', 'b.txt']);
    expect(await readFile(path.join(dir, 'a.txt'), 'utf8')).toBe(`${PLACEHOLDER_PREFIX} (unreadable: EIO).\n`);
    expect((await readdir(dir)).sort()).toEqual([REPORTS_MARKER, 'a.txt']);
  });

  it('fails when a file can be neither scrubbed nor removed', async () => {
    await reportsFolder();
    await writeFile(path.join(dir, 'stuck.zip'), 'PK\u0003\u0004 nonsense');
    const io: ScrubIo = { ...NODE_IO, writeFile: () => Promise.reject(new Error('read-only')), rm: () => Promise.reject(Object.assign(new Error('busy'), { code: 'EBUSY' })) };
    const error = await scrubReports(dir, createRedactor([]), io).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SentinelError);
    expect((error as Error).message).toBe('sentinel: cannot scrub the reports: stuck.zip can neither be scrubbed nor removed (EBUSY)');
  });

  it('an unreadable subfolder is an error, not a silent skip', async () => {
    // Tests run as root, for whom a chmod 000 folder is still readable: the listing is made to fail instead.
    await reportsFolder();
    await mkdir(path.join(dir, 'test-results/locked'), { recursive: true });
    await writeFile(path.join(dir, 'test-results/locked/error-context.md'), TOKEN);
    const io: ScrubIo = { ...NODE_IO, readdir: (d) => (d.endsWith('locked') ? Promise.reject(Object.assign(new Error('denied'), { code: 'EACCES' })) : NODE_IO.readdir(d)) };
    const error = await scrubReports(dir, createRedactor([TOKEN]), io).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SentinelError);
    expect((error as Error).message).toBe(`sentinel: cannot scrub the reports: ${path.join('test-results', 'locked')} cannot be read (EACCES)`);
  });

  it('an unreadable reports folder is an error', async () => {
    await reportsFolder();
    const io: ScrubIo = { ...NODE_IO, readdir: () => Promise.reject(Object.assign(new Error('denied'), { code: 'EIO' })) };
    await expect(scrubReports(dir, createRedactor([]), io)).rejects.toThrow(`sentinel: cannot scrub the reports: the reports folder ${dir} cannot be read (EIO)`);
  });

  it('refuses a folder sentinel did not create, and changes nothing in it', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'scrub-foreign-'));
    await writeFile(path.join(dir, 'notes.txt'), `mine ${PASSWORD}`);
    await writeFile(path.join(dir, 'archive.zip'), 'not really a zip');
    const before = await stat(path.join(dir, 'notes.txt'));
    await expect(scrubReports(dir, createRedactor([PASSWORD]))).rejects.toThrow(`sentinel: refusing to scrub ${dir}: it was not created by sentinel (no ${REPORTS_MARKER} marker)`);
    expect(await readFile(path.join(dir, 'notes.txt'), 'utf8')).toBe(`mine ${PASSWORD}`);
    expect(await readFile(path.join(dir, 'archive.zip'), 'utf8')).toBe('not really a zip');
    expect((await stat(path.join(dir, 'notes.txt'))).mtimeMs).toBe(before.mtimeMs);
  });

  it('handles a missing folder as empty', async () => {
    expect(await scrubReports('/nonexistent/reports-folder', createRedactor([]))).toEqual({ filesScanned: 0, filesRewritten: 0, zipEntriesRewritten: 0, filesReplaced: [] });
  });
});

describe('dropBrowserArtifacts', () => {
  it('removes the traces and the HTML report of a marked folder, nothing else', async () => {
    await reportsFolder();
    await mkdir(path.join(dir, 'test-results/t'), { recursive: true });
    await mkdir(path.join(dir, 'playwright-report/data'), { recursive: true });
    await writeFile(path.join(dir, 'test-results/t/trace.zip'), 'x');
    await writeFile(path.join(dir, 'summary.json'), '{}');
    expect(await dropBrowserArtifacts(dir)).toEqual(['test-results', 'playwright-report']);
    expect((await readdir(dir)).sort()).toEqual([REPORTS_MARKER, 'summary.json']);
  });
});
