import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createRedactor } from './redact.ts';
import { scrubReports, secretVariants } from './scrub.ts';

const require = createRequire(import.meta.url);
const { yazl, yauzl } = require('playwright-core/lib/utilsBundle') as {
  yazl: { ZipFile: new () => { addBuffer(b: Buffer, n: string): void; end(): void; outputStream: NodeJS.ReadableStream } };
  yauzl: { fromBuffer(b: Buffer, o: object, cb: (e: Error | null, z: any) => void): void };
};

const PASSWORD = 'S3cret pass/word+&!';
const TOKEN = 'tok3nVALUEabcdefghijklmnopqrstuv';

function toBuffer(stream: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

async function zip(entries: Record<string, Buffer | string>): Promise<Buffer> {
  const file = new yazl.ZipFile();
  for (const [name, data] of Object.entries(entries)) file.addBuffer(Buffer.from(data), name);
  const out = toBuffer(file.outputStream);
  file.end();
  return out;
}

async function unzip(buffer: Buffer): Promise<Record<string, Buffer>> {
  const file = await new Promise<any>((resolve, reject) => yauzl.fromBuffer(buffer, { lazyEntries: true }, (e, z) => (e ? reject(e) : resolve(z))));
  const out: Record<string, Buffer> = {};
  await new Promise<void>((resolve, reject) => {
    file.on('end', resolve);
    file.on('error', reject);
    file.on('entry', (entry: { fileName: string }) =>
      file.openReadStream(entry, (e: Error | null, s: NodeJS.ReadableStream) => {
        if (e) return reject(e);
        toBuffer(s).then((b) => {
          out[entry.fileName] = b;
          file.readEntry();
        }, reject);
      }),
    );
    file.readEntry();
  });
  return out;
}

let dir: string;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('scrubReports', () => {
  it('removes secrets from text files, nested zips and the html report embedded zip, leaving binaries alone', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'scrub-'));
    const redactor = createRedactor(secretVariants([PASSWORD, TOKEN]));
    const formBody = `loginName=user&password=${new URLSearchParams({ p: PASSWORD }).toString().slice(2)}`;
    const traceEvents = JSON.stringify({ method: 'fill', params: { value: PASSWORD } }) + '\n' + JSON.stringify({ headers: [{ name: 'cookie', value: `__Secure-better-auth.session_token=${TOKEN}.sig%3D` }] });
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3]);
    const trace = await zip({ 'trace.trace': traceEvents, 'resources/abc.dat': formBody, 'screen.png': png });
    await mkdir(path.join(dir, 'test-results/t'), { recursive: true });
    await writeFile(path.join(dir, 'test-results/t/trace.zip'), trace);
    await writeFile(path.join(dir, 'test-results/t/error-context.md'), `token ${TOKEN} shown`);
    await writeFile(path.join(dir, 'test-results/t/test-failed-1.png'), png);
    const reportData = await zip({ 'report.json': JSON.stringify({ title: `Fill "${PASSWORD}"` }), 'data/x.zip': trace });
    await writeFile(path.join(dir, 'index.html'), `<script>window.playwrightReportBase64 = "data:application/zip;base64,${reportData.toString('base64')}";</script>`);

    const summary = await scrubReports(dir, redactor);

    expect(summary.filesScanned).toBe(4);
    expect(summary.filesRewritten).toBe(3);
    const scrubbedTrace = await unzip(await readFile(path.join(dir, 'test-results/t/trace.zip')));
    expect(scrubbedTrace['trace.trace']!.toString()).not.toContain(PASSWORD);
    expect(scrubbedTrace['trace.trace']!.toString()).not.toContain(TOKEN);
    expect(scrubbedTrace['trace.trace']!.toString()).toContain('[REDACTED]');
    expect(scrubbedTrace['resources/abc.dat']!.toString()).toBe('loginName=user&password=[REDACTED]');
    expect(scrubbedTrace['screen.png']).toEqual(png);
    expect(await readFile(path.join(dir, 'test-results/t/error-context.md'), 'utf8')).toBe('token [REDACTED] shown');
    expect(await readFile(path.join(dir, 'test-results/t/test-failed-1.png'))).toEqual(png);
    const html = await readFile(path.join(dir, 'index.html'), 'utf8');
    const embedded = await unzip(Buffer.from(/base64,([A-Za-z0-9+/=]+)/.exec(html)![1]!, 'base64'));
    expect(embedded['report.json']!.toString()).toBe(JSON.stringify({ title: 'Fill "[REDACTED]"' }));
    const nested = await unzip(embedded['data/x.zip']!);
    expect(nested['trace.trace']!.toString()).not.toContain(PASSWORD);
  });

  it('replaces an unreadable zip with an empty file rather than keep what it may hold', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'scrub-'));
    await writeFile(path.join(dir, 'broken.zip'), Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.from(PASSWORD)]));
    const summary = await scrubReports(dir, createRedactor([PASSWORD]));
    expect(summary.filesRewritten).toBe(1);
    expect((await readFile(path.join(dir, 'broken.zip'))).length).toBe(0);
  });

  it('handles a missing folder as empty', async () => {
    expect(await scrubReports('/nonexistent/reports-folder', createRedactor([]))).toEqual({ filesScanned: 0, filesRewritten: 0, zipEntriesRewritten: 0 });
  });
});
