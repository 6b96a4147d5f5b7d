/**
 * `db` probe (pg): connect and `SELECT 1` with every pg timeout set from the deadline (all three
 * default to none), the five app tables, the server start time, and Drizzle's migration table against
 * the app's journal. Without a database URL it is skipped — never passed.
 */
import pg from 'pg';
import type { DbObservation } from '../core/observations.ts';
import { Assertions } from './assertions.ts';
import { readText, withProbeHttp } from './http.ts';
import { compareMigrations, migrationSource, readJournal, type AppliedRow, type JournalEntry } from './migrations.ts';
import { failedWith, fromAssertions, probeResult } from './probe-result.ts';
import type { ProbeContext, ProbeFn } from './types.ts';

export const APP_TABLES = ['gadgetbots', 'users', 'sessions', 'accounts', 'verifications'] as const;

function clientFor(databaseUrl: string, ctx: ProbeContext): pg.Client {
  const budget = Math.max(100, (ctx.remainingMs?.() ?? 10_000) - 50);
  return new pg.Client({
    connectionString: databaseUrl,
    connectionTimeoutMillis: budget,
    query_timeout: budget,
    statement_timeout: budget,
    application_name: 'gadgetbot-sentinel',
  });
}

/** The journal from a folder or over http(s); https is verified, since the verdict rests on what it says. */
async function loadJournal(migrationsPath: string, ctx: ProbeContext): Promise<JournalEntry[]> {
  if (!/^https?:\/\//.test(migrationsPath)) return readJournal(migrationSource(migrationsPath, async () => ''));
  return withProbeHttp(ctx, (http) =>
    readJournal(
      migrationSource(migrationsPath, async (url) => {
        const response = await http.fetch(url);
        if (response.status !== 200) throw new Error(`GET ${url} answered ${response.status}`);
        return readText(response, 4 * 1024 * 1024);
      }),
    ),
    { verifyTls: true },
  );
}

async function appliedRows(client: pg.Client): Promise<AppliedRow[] | undefined> {
  const exists = await client.query<{ present: boolean }>(`select to_regclass('drizzle.__drizzle_migrations') is not null as present`);
  if (!exists.rows[0]?.present) return undefined;
  const result = await client.query<{ id: number; hash: string; created_at: string | null }>('select id, hash, created_at from drizzle.__drizzle_migrations order by created_at');
  // created_at is bigint: pg hands it over as a string.
  return result.rows.map((r) => ({ id: Number(r.id), hash: r.hash, createdAt: Number(r.created_at) }));
}

export const dbProbe: ProbeFn = async (config, ctx) => {
  if (!config.databaseUrl) {
    return probeResult('db', { status: 'skipped', reason: 'not_configured', message: 'no database URL configured (SENTINEL_DATABASE_URL)' });
  }
  const observations: DbObservation & Record<string, unknown> = { pgUp: 0 };
  const assertions = new Assertions();
  const client = clientFor(config.databaseUrl, ctx);
  // pg emits 'error' on a lost connection outside a query; the awaited calls already report it.
  client.on('error', () => undefined);
  // pg takes no AbortSignal: on the deadline, cut the socket so nothing outlives the probe.
  const onAbort = () => (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  try {
    // Read the journal first: a broken journal is a finding of its own, the DB state is still worth having.
    let journal: JournalEntry[] | undefined;
    let journalError: unknown;
    if (config.migrationsPath) journal = await loadJournal(config.migrationsPath, ctx).catch((error: unknown) => ((journalError = error), undefined));

    await client.connect();
    const one = await client.query<{ one: number }>('select 1 as one');
    assertions.equal('select 1', one.rows[0]?.one, 1, 'db_query');
    observations.pgUp = 1;
    const started = await client.query<{ seconds: number }>('select extract(epoch from pg_postmaster_start_time())::float8 as seconds');
    if (started.rows[0]) observations.postmasterStartTimeSeconds = Math.floor(Number(started.rows[0].seconds));

    const rows = await appliedRows(client);
    if (journalError) throw journalError;
    if (journal) {
      const cmp = compareMigrations(journal, rows ?? []);
      observations.migrationsCompared = true;
      observations.migrationsExpected = cmp.expected;
      observations.migrationsApplied = cmp.applied;
      observations.migrationsPending = cmp.pending.length + cmp.skipped.length;
      observations.migrationsEdited = cmp.edited.length;
      observations.migrationsUnknown = cmp.unknown.length;
      if (cmp.lastAppliedWhen !== undefined) observations.lastAppliedWhen = cmp.lastAppliedWhen;
      if (!rows && journal.length > 0) observations.migrationsTable = 'missing';
      assertions.check('pending migrations', cmp.pending.length === 0, cmp.pending, [], 'migration_pending');
      assertions.check('migrations skipped by the migrator (older than the last applied)', cmp.skipped.length === 0, cmp.skipped, [], 'migration_pending');
      assertions.check('edited after apply (hash differs)', cmp.edited.length === 0, cmp.edited, [], 'migration_edited');
      assertions.check('applied rows without a journal entry (ids)', cmp.unknown.length === 0, cmp.unknown, [], 'migration_unknown');
    } else {
      observations.migrationsCompared = false;
      observations.migrationsNote = 'migrations not compared: no migrations folder configured (SENTINEL_MIGRATIONS)';
      if (rows) {
        observations.migrationsApplied = rows.length;
        const last = rows.reduce((max, r) => Math.max(max, r.createdAt), Number.NEGATIVE_INFINITY);
        if (rows.length > 0) observations.lastAppliedWhen = last;
      }
    }

    const tables = await client.query<{ table_name: string }>(
      `select table_name from information_schema.tables where table_schema = 'public' and table_name = any($1::text[])`,
      [[...APP_TABLES]],
    );
    const present = new Set(tables.rows.map((r) => r.table_name));
    const missing = APP_TABLES.filter((t) => !present.has(t));
    observations.tablesMissing = missing;
    assertions.check('app tables missing in public', missing.length === 0, missing, [], 'db_schema');
  } catch (error) {
    return failedWith('db', error, 'db', assertions, observations);
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
    await client.end().catch(() => undefined);
  }
  return fromAssertions('db', assertions, observations);
};
