/**
 * Removes secrets from everything a run leaves in the reports folder. Playwright traces record
 * fill() values, request headers (the session cookie) and POST bodies (the IdP password form), and
 * the HTML report embeds its data as a base64 zip; none of that can be switched off, so every text
 * file, every zip entry (nested zips too) and every embedded zip is rewritten through the redactor.
 * Binary entries (screenshots, video) are left as they are: they hold pixels, not text.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Redactor } from './redact.ts';

/** Minimal shapes of the yauzl/yazl builds bundled with playwright-core (no own dependency). */
interface ZipEntry {
  fileName: string;
}
interface ZipReader {
  on(event: 'entry', listener: (entry: ZipEntry) => void): void;
  on(event: 'end', listener: () => void): void;
  on(event: 'error', listener: (error: Error) => void): void;
  readEntry(): void;
  openReadStream(entry: ZipEntry, callback: (error: Error | null, stream?: NodeJS.ReadableStream) => void): void;
}
interface ZipWriter {
  addBuffer(buffer: Buffer, name: string, options?: { compress?: boolean }): void;
  end(): void;
  outputStream: NodeJS.ReadableStream;
}
interface ZipLibs {
  yauzl: { fromBuffer(buffer: Buffer, options: { lazyEntries: boolean }, callback: (error: Error | null, zip?: ZipReader) => void): void };
  yazl: { ZipFile: new () => ZipWriter };
}

const require = createRequire(import.meta.url);
let zipLibs: ZipLibs | undefined;
function zips(): ZipLibs {
  zipLibs ??= require('playwright-core/lib/utilsBundle') as ZipLibs;
  return zipLibs;
}

export interface ScrubSummary {
  filesScanned: number;
  filesRewritten: number;
  zipEntriesRewritten: number;
}

const ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
const EMPTY_ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x05, 0x06]);
/** The HTML report carries its data as `data:application/zip;base64,…` inside index.html (global: use with matchAll). */
export const EMBEDDED_ZIP = /data:application\/zip;base64,([A-Za-z0-9+/=]+)/g;

export function isZip(buffer: Buffer): boolean {
  return buffer.subarray(0, 4).equals(ZIP_MAGIC) || buffer.subarray(0, 4).equals(EMPTY_ZIP_MAGIC);
}

/** Text = valid UTF-8 without NUL bytes; anything else is left untouched. */
function asText(buffer: Buffer): string | undefined {
  if (buffer.includes(0)) return undefined;
  const text = buffer.toString('utf8');
  return text.includes('\uFFFD') && !buffer.includes(Buffer.from('\uFFFD')) ? undefined : text;
}

function streamToBuffer(stream: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

/** Every file entry of a zip (folders skipped), uncompressed, in archive order. */
export async function readZip(buffer: Buffer): Promise<Array<{ name: string; data: Buffer }>> {
  const zip = await new Promise<ZipReader>((resolve, reject) =>
    zips().yauzl.fromBuffer(buffer, { lazyEntries: true }, (error, file) => (error || !file ? reject(error ?? new Error('unreadable zip')) : resolve(file))),
  );
  return new Promise((resolve, reject) => {
    const entries: Array<{ name: string; data: Buffer }> = [];
    zip.on('error', reject);
    zip.on('end', () => resolve(entries));
    zip.on('entry', (entry) => {
      if (entry.fileName.endsWith('/')) {
        zip.readEntry();
        return;
      }
      zip.openReadStream(entry, (error, stream) => {
        if (error || !stream) {
          reject(error ?? new Error(`cannot read ${entry.fileName}`));
          return;
        }
        streamToBuffer(stream)
          .then((data) => {
            entries.push({ name: entry.fileName, data });
            zip.readEntry();
          })
          .catch(reject);
      });
    });
    zip.readEntry();
  });
}

async function writeZip(entries: ReadonlyArray<{ name: string; data: Buffer }>): Promise<Buffer> {
  const zip = new (zips().yazl.ZipFile)();
  for (const entry of entries) zip.addBuffer(entry.data, entry.name);
  const done = streamToBuffer(zip.outputStream);
  zip.end();
  return done;
}

/** Redacts one blob; returns undefined when nothing changed. */
async function scrubBuffer(buffer: Buffer, redactor: Redactor, summary: ScrubSummary): Promise<Buffer | undefined> {
  if (isZip(buffer)) {
    const entries = await readZip(buffer);
    let changed = false;
    const out: Array<{ name: string; data: Buffer }> = [];
    for (const entry of entries) {
      const scrubbed = await scrubBuffer(entry.data, redactor, summary);
      if (scrubbed) {
        changed = true;
        summary.zipEntriesRewritten += 1;
      }
      out.push({ name: entry.name, data: scrubbed ?? entry.data });
    }
    return changed ? writeZip(out) : undefined;
  }
  const text = asText(buffer);
  if (text === undefined) return undefined;
  let result = text;
  const embedded = [...text.matchAll(EMBEDDED_ZIP)];
  for (const match of embedded) {
    const inner = await scrubBuffer(Buffer.from(match[1]!, 'base64'), redactor, summary);
    if (inner) result = result.replace(match[1]!, inner.toString('base64'));
  }
  result = redactor(result);
  return result === text ? undefined : Buffer.from(result, 'utf8');
}

async function* walk(dir: string): AsyncGenerator<string> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(full);
    else if (entry.isFile()) yield full;
  }
}

/** Rewrites every file under `dir` that holds a secret the redactor knows or recognises. */
export async function scrubReports(dir: string, redactor: Redactor): Promise<ScrubSummary> {
  const summary: ScrubSummary = { filesScanned: 0, filesRewritten: 0, zipEntriesRewritten: 0 };
  for await (const file of walk(dir)) {
    summary.filesScanned += 1;
    const buffer = await readFile(file);
    let scrubbed: Buffer | undefined;
    try {
      scrubbed = await scrubBuffer(buffer, redactor, summary);
    } catch {
      // A zip that cannot be read cannot be proven clean: drop its content rather than keep a secret.
      scrubbed = isZip(buffer) ? Buffer.alloc(0) : undefined;
    }
    if (scrubbed) {
      await writeFile(file, scrubbed);
      summary.filesRewritten += 1;
    }
  }
  return summary;
}

/**
 * The forms a secret takes in artifacts besides itself and its URL encoding (which the redactor adds):
 * HTML form encoding (the IdP password POST body), JSON string escaping, base64 and base64url.
 */
export function secretVariants(values: Iterable<string>): string[] {
  const out = new Set<string>();
  for (const value of values) {
    if (!value || value.length < 4) continue;
    out.add(value);
    out.add(new URLSearchParams({ v: value }).toString().slice(2));
    out.add(JSON.stringify(value).slice(1, -1));
    if (value.length >= 8) {
      out.add(Buffer.from(value).toString('base64').replace(/=+$/, ''));
      out.add(Buffer.from(value).toString('base64url'));
    }
  }
  return [...out];
}
