/**
 * Drizzle (0.x) migration bookkeeping, compared the way the migrator decides (docs/target-contract.md §7.2): an entry is
 * applied iff its `when` ≤ max(created_at); hashes are sha256 hex of the whole `<tag>.sql` text.
 * Drizzle itself never re-checks hashes; we do, to catch files edited after they were applied.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { classify, ProbeFailure } from './errors.ts';

export interface JournalEntry {
  idx: number;
  when: number;
  tag: string;
  hash: string;
}

export interface AppliedRow {
  id: number;
  hash: string;
  createdAt: number;
}

export interface MigrationComparison {
  expected: number;
  applied: number;
  /** journal entries with when > max(created_at): the migrator would run them next */
  pending: string[];
  /** journal entries older than the last applied one but with no row: the migrator will skip them forever */
  skipped: string[];
  /** rows whose created_at matches an entry but whose hash differs */
  edited: string[];
  /** rows that match no journal entry */
  unknown: number[];
  lastAppliedWhen?: number;
}

type TextReader = (relativePath: string) => Promise<string>;

/** Reads files from a folder; an http(s) base is read through `fetchText`. */
export function migrationSource(base: string, fetchText: (url: string) => Promise<string>): TextReader {
  if (/^https?:\/\//.test(base)) return (rel) => fetchText(`${base.replace(/\/+$/, '')}/${rel}`);
  return (rel) => readFile(`${base.replace(/\/+$/, '')}/${rel}`, 'utf8');
}

export async function readJournal(read: TextReader): Promise<JournalEntry[]> {
  let raw: unknown;
  try {
    raw = JSON.parse(await read('meta/_journal.json'));
  } catch (error) {
    const why = error instanceof SyntaxError ? 'is not valid JSON' : `cannot be read (${classify(error).message})`;
    throw new ProbeFailure('migration_journal', `migrations: meta/_journal.json ${why}`);
  }
  const entries = (raw as { entries?: unknown })?.entries;
  if (!Array.isArray(entries)) throw new ProbeFailure('migration_journal', 'migrations: meta/_journal.json has no "entries" array');
  const out: JournalEntry[] = [];
  for (const entry of entries as Array<{ idx?: unknown; when?: unknown; tag?: unknown }>) {
    if (typeof entry?.tag !== 'string' || typeof entry.when !== 'number') throw new ProbeFailure('migration_journal', 'migrations: a journal entry lacks "tag" or "when"');
    let sql: string;
    try {
      sql = await read(`${entry.tag}.sql`);
    } catch (error) {
      throw new ProbeFailure('migration_journal', `migrations: ${entry.tag}.sql listed in the journal cannot be read (${classify(error).message})`);
    }
    out.push({ idx: typeof entry.idx === 'number' ? entry.idx : out.length, when: entry.when, tag: entry.tag, hash: createHash('sha256').update(sql).digest('hex') });
  }
  return out;
}

export function compareMigrations(journal: readonly JournalEntry[], rows: readonly AppliedRow[]): MigrationComparison {
  const lastAppliedWhen = rows.length > 0 ? Math.max(...rows.map((r) => r.createdAt)) : undefined;
  const byWhen = new Map(rows.map((r) => [r.createdAt, r]));
  const entryWhens = new Set(journal.map((e) => e.when));
  const pending = journal.filter((e) => lastAppliedWhen === undefined || e.when > lastAppliedWhen).map((e) => e.tag);
  const skipped = journal.filter((e) => lastAppliedWhen !== undefined && e.when <= lastAppliedWhen && !byWhen.has(e.when)).map((e) => e.tag);
  const edited = journal.filter((e) => byWhen.has(e.when) && byWhen.get(e.when)!.hash !== e.hash).map((e) => e.tag);
  const unknown = rows.filter((r) => !entryWhens.has(r.createdAt)).map((r) => r.id);
  return { expected: journal.length, applied: rows.length, pending, skipped, edited, unknown, ...(lastAppliedWhen !== undefined ? { lastAppliedWhen } : {}) };
}
