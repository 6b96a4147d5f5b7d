/**
 * Removes secrets from everything a run leaves in the reports folder. Playwright traces record
 * fill() values, request headers (the session cookie) and POST bodies (the IdP password form), and
 * the HTML report embeds its data as a base64 zip; none of that can be switched off, so every text
 * file, every zip entry (nested zips too) and every embedded zip is rewritten through the redactor.
 * Binary entries (screenshots, video) are left as they are: they hold pixels, not text.
 *
 * It fails closed: a file it cannot prove clean (an unreadable file, a zip or zip entry that does not
 * inflate) is replaced by a short placeholder, or removed when even that fails, and listed in the
 * summary. A folder it cannot read is an error, and it scrubs only a folder sentinel created
 * (core/reports-dir.ts), so a misdirected SENTINEL_REPORTS_DIR never rewrites unrelated files.
 */
import { lstat, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { unzipSync, zipSync, type Zippable } from 'fflate';
import { SentinelError } from './errors.ts';
import type { Redactor } from './redact.ts';
import { assertReportsDir } from './reports-dir.ts';

export interface ScrubSummary {
  filesScanned: number;
  filesRewritten: number;
  zipEntriesRewritten: number;
  /** Files (relative to the scrubbed folder) that could not be scrubbed: replaced by a placeholder or removed. */
  filesReplaced: string[];
}

/** What a run's scrubbing did, as summary.json reports it (paths relative to the reports folder). */
export interface ScrubReport {
  filesRewritten: number;
  /** files that could not be scrubbed: replaced by a placeholder or removed */
  filesReplaced: string[];
  /** why the browser artifacts (traces, screenshots, HTML report) were removed, when they were */
  artifactsDropped?: string;
}

/** The file system calls scrubbing makes; replaceable so tests can make one of them fail. */
export interface ScrubIo {
  readdir(dir: string): Promise<Array<{ name: string; isDirectory(): boolean; isFile(): boolean }>>;
  readFile(file: string): Promise<Buffer>;
  writeFile(file: string, data: Buffer | string): Promise<void>;
  rm(file: string): Promise<void>;
}

const NODE_IO: ScrubIo = {
  readdir: (dir) => readdir(dir, { withFileTypes: true }),
  readFile: (file) => readFile(file),
  writeFile: (file, data) => writeFile(file, data),
  rm: (file) => rm(file, { force: true }),
};

const ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
const EMPTY_ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x05, 0x06]);
/** The HTML report carries its data as `data:application/zip;base64,…` inside index.html (global: use with matchAll). */
export const EMBEDDED_ZIP = /data:application\/zip;base64,([A-Za-z0-9+/=]+)/g;
/** First line of the text that takes the place of a file that could not be scrubbed. */
export const PLACEHOLDER_PREFIX = 'sentinel: this file was removed because it could not be scrubbed of secrets';
/** Where Playwright writes traces/screenshots and its HTML report, below a run's reports folder (playwright.config.ts). */
export const BROWSER_ARTIFACT_DIRS = ['test-results', 'playwright-report'] as const;

export function isZip(buffer: Buffer): boolean {
  return buffer.subarray(0, 4).equals(ZIP_MAGIC) || buffer.subarray(0, 4).equals(EMPTY_ZIP_MAGIC);
}

/** Text = valid UTF-8 without NUL bytes; anything else is left untouched. */
function asText(buffer: Buffer): string | undefined {
  if (buffer.includes(0)) return undefined;
  const text = buffer.toString('utf8');
  return text.includes('\uFFFD') && !buffer.includes(Buffer.from('\uFFFD')) ? undefined : text;
}

/** Every file entry of a zip (folders skipped), uncompressed, in archive order; throws on a zip or entry that does not inflate. */
export function readZip(buffer: Buffer): Array<{ name: string; data: Buffer }> {
  const order: string[] = [];
  const files = unzipSync(new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength), {
    filter: (file) => {
      order.push(file.name);
      return !file.name.endsWith('/');
    },
  });
  return order.filter((name) => !name.endsWith('/')).map((name) => ({ name, data: Buffer.from(files[name]!) }));
}

export function writeZip(entries: ReadonlyArray<{ name: string; data: Buffer }>): Buffer {
  const zippable: Zippable = {};
  for (const entry of entries) zippable[entry.name] = new Uint8Array(entry.data);
  return Buffer.from(zipSync(zippable));
}

/** Redacts one blob; returns undefined when nothing changed. */
function scrubBuffer(buffer: Buffer, redactor: Redactor, summary: ScrubSummary): Buffer | undefined {
  if (isZip(buffer)) {
    let changed = false;
    const out: Array<{ name: string; data: Buffer }> = [];
    for (const entry of readZip(buffer)) {
      const scrubbed = scrubBuffer(entry.data, redactor, summary);
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
  for (const match of text.matchAll(EMBEDDED_ZIP)) {
    const inner = scrubBuffer(Buffer.from(match[1]!, 'base64'), redactor, summary);
    if (inner) result = result.replace(match[1]!, inner.toString('base64'));
  }
  result = redactor(result);
  return result === text ? undefined : Buffer.from(result, 'utf8');
}

function reasonOf(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (typeof code === 'string') return code;
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!.slice(0, 120);
}

function unreadable(where: string, error: unknown): SentinelError {
  return new SentinelError('environment', `sentinel: cannot scrub the reports: ${where} cannot be read (${reasonOf(error)})`, { cause: error });
}

/** Every entry under `dir`, depth first; a folder that cannot be listed is an error, never skipped. */
async function* walk(root: string, dir: string, io: ScrubIo): AsyncGenerator<{ file: string; regular: boolean }> {
  let entries;
  try {
    entries = await io.readdir(dir);
  } catch (error) {
    throw unreadable(dir === root ? `the reports folder ${root}` : path.relative(root, dir), error);
  }
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(root, full, io);
    else yield { file: full, regular: entry.isFile() };
  }
}

/**
 * Rewrites every file under `dir` that holds a secret the redactor knows or recognises; replaces the
 * ones it cannot read or parse. Refuses a folder without the reports marker; a missing folder has
 * nothing to scrub.
 */
export async function scrubReports(dir: string, redactor: Redactor, io: ScrubIo = NODE_IO): Promise<ScrubSummary> {
  const summary: ScrubSummary = { filesScanned: 0, filesRewritten: 0, zipEntriesRewritten: 0, filesReplaced: [] };
  const exists = await lstat(dir).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return false;
      throw unreadable(`the reports folder ${dir}`, error);
    },
  );
  if (!exists) return summary;
  assertReportsDir(dir);
  const replace = async (file: string, why: string, { writable = true } = {}) => {
    const relative = path.relative(dir, file);
    summary.filesReplaced.push(relative);
    try {
      if (writable) {
        await io.writeFile(file, `${PLACEHOLDER_PREFIX} (${why}).\n`);
        return;
      }
    } catch {
      // not even writable: remove it instead
    }
    try {
      await io.rm(file);
    } catch (error) {
      throw new SentinelError('environment', `sentinel: cannot scrub the reports: ${relative} can neither be scrubbed nor removed (${reasonOf(error)})`, { cause: error });
    }
  };
  for await (const { file, regular } of walk(dir, dir, io)) {
    summary.filesScanned += 1;
    // A link, pipe or socket: nothing Playwright writes, and nothing whose content can be vouched for.
    // Removed, never written: writing would follow a link out of the folder or block on a pipe.
    if (!regular) {
      await replace(file, 'not a regular file', { writable: false });
      continue;
    }
    let buffer: Buffer;
    try {
      buffer = await io.readFile(file);
    } catch (error) {
      await replace(file, `unreadable: ${reasonOf(error)}`);
      continue;
    }
    if (buffer.subarray(0, PLACEHOLDER_PREFIX.length).toString('utf8') === PLACEHOLDER_PREFIX) continue;
    let scrubbed: Buffer | undefined;
    try {
      if (file.endsWith('.zip') && !isZip(buffer)) throw new Error('not a zip archive');
      scrubbed = scrubBuffer(buffer, redactor, summary);
    } catch (error) {
      await replace(file, `unreadable: ${reasonOf(error)}`);
      continue;
    }
    if (!scrubbed) continue;
    try {
      await io.writeFile(file, scrubbed);
      summary.filesRewritten += 1;
    } catch (error) {
      await replace(file, `cannot be rewritten: ${reasonOf(error)}`);
    }
  }
  return summary;
}

/**
 * Removes a run's browser artifacts (traces, screenshots, the HTML report) when their secrets cannot
 * be known, e.g. the session-token recorder failed. Returns the folders removed (relative to `dir`).
 */
export async function dropBrowserArtifacts(dir: string): Promise<string[]> {
  assertReportsDir(dir);
  const removed: string[] = [];
  for (const name of BROWSER_ARTIFACT_DIRS) {
    const target = path.join(dir, name);
    const present = await lstat(target).then(() => true, () => false);
    if (!present) continue;
    try {
      await rm(target, { recursive: true, force: true });
    } catch (error) {
      throw new SentinelError('environment', `sentinel: cannot remove ${target} (${reasonOf(error)}); its artifacts cannot be vouched for`, { cause: error });
    }
    removed.push(name);
  }
  return removed;
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
