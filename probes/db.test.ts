import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCertificateAuthority, issueLeafCertificate, type CertificateAuthority, type LeafOptions } from '../fixtures/stack/certs.ts';
import { DB_ROLE, randomDbPassword, startPostgres, type PostgresServer } from '../fixtures/stack/postgres.ts';
import { runProbe } from './run-probe.ts';
import { testConfig } from './test-support/probe-config.ts';
import { APP_MIGRATIONS, applyMigrations, sql, writeMigrationsFolder } from './test-support/drizzle.ts';
import { freePort } from './test-support/servers.ts';

const password = randomDbPassword();
let pgServer: PostgresServer;
let dir: string;
let migrations: string;

beforeAll(async () => {
  pgServer = await startPostgres({ password });
  dir = mkdtempSync(join(tmpdir(), 'sentinel-db-'));
  migrations = writeMigrationsFolder(join(dir, 'migrations'), APP_MIGRATIONS);
}, 120_000);

afterAll(async () => {
  await pgServer?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** URL of `database` as the stack's password-authenticated role, over TCP as the probe connects. */
function urlOf(database: string): string {
  const url = new URL(pgServer.databaseUrl);
  url.pathname = `/${database}`;
  return url.href;
}

/**
 * A fresh database per case, so the states never leak into each other. The stack's role may not
 * create databases; its superuser may, over the server's socket only.
 */
async function database(name: string): Promise<string> {
  const superuser = new pg.Client({ host: pgServer.dataDir, port: pgServer.port, user: 'postgres', database: 'postgres', connectionTimeoutMillis: 5000 });
  await superuser.connect();
  try {
    await superuser.query(`create database ${name} owner ${DB_ROLE}`);
  } finally {
    await superuser.end();
  }
  return urlOf(name);
}

/** `migrationsPath` null = no migrations folder configured. */
function config(databaseUrl: string | undefined, migrationsPath: string | null = migrations, caCertPath?: string) {
  return testConfig({
    appUrl: 'http://127.0.0.1:1',
    issuer: 'http://127.0.0.1:2',
    ...(databaseUrl ? { databaseUrl } : {}),
    ...(migrationsPath ? { migrationsPath } : {}),
    ...(caCertPath ? { tls: { caCertPath } } : {}),
  });
}

/** The migrations folder over HTTPS at https://localhost:<port>/migrations, with a leaf of `issuer`. */
async function serveMigrationsOverHttps(issuer: CertificateAuthority, leafOptions: LeafOptions = {}): Promise<{ url: string; server: Server }> {
  const leaf = await issueLeafCertificate(issuer, leafOptions);
  const server = createHttpsServer({ cert: leaf.chainPem, key: leaf.keyPem }, (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'https://x').pathname).replace(/^\/migrations\//, '');
    try {
      res.end(readFileSync(join(migrations, path)));
    } catch {
      res.writeHead(404).end();
    }
  });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `https://localhost:${(server.address() as { port: number }).port}/migrations`, server };
}

describe('db probe', () => {
  it('passes when every migration is applied, with server start time and counts', async () => {
    const url = await database('all_applied');
    await applyMigrations(url, APP_MIGRATIONS);
    const result = await runProbe('db', config(url));
    expect(result.message).toBeUndefined();
    expect(result.status).toBe('passed');
    expect(result.observations).toMatchObject({
      pgUp: 1,
      migrationsCompared: true,
      migrationsExpected: 2,
      migrationsApplied: 2,
      migrationsPending: 0,
      migrationsEdited: 0,
      migrationsUnknown: 0,
      lastAppliedWhen: 1760645756382,
      tablesMissing: [],
    });
    const started = result.observations?.postmasterStartTimeSeconds as number;
    expect(started).toBeGreaterThan(Date.now() / 1000 - 120);
    expect(started).toBeLessThanOrEqual(Date.now() / 1000);
    // The database password never reaches the result; the target names host, port and database only.
    expect(JSON.stringify(result)).not.toContain(password);
    expect(result.target).toBe(`127.0.0.1:${pgServer.port}/all_applied`);
  });

  it('fails migration_pending when the last migration was never run', async () => {
    const url = await database('one_pending');
    await applyMigrations(url, APP_MIGRATIONS.slice(0, 1));
    const result = await runProbe('db', config(url));
    expect(result).toMatchObject({ status: 'failed', reason: 'migration_pending' });
    expect(result.message).toBe('pending migrations: observed ["0001_graceful_psylocke"] expected []');
    expect(result.observations).toMatchObject({ migrationsApplied: 1, migrationsPending: 1, tablesMissing: ['users', 'sessions', 'accounts', 'verifications'] });
  });

  it('fails migration_pending for every entry when drizzle.__drizzle_migrations does not exist', async () => {
    const url = await database('never_migrated');
    const result = await runProbe('db', config(url));
    expect(result).toMatchObject({ status: 'failed', reason: 'migration_pending', observations: { migrationsApplied: 0, migrationsPending: 2, migrationsTable: 'missing' } });
  });

  it('fails migration_edited when a file changed after it was applied', async () => {
    const url = await database('edited');
    await applyMigrations(url, APP_MIGRATIONS);
    const edited = writeMigrationsFolder(join(dir, 'edited'), APP_MIGRATIONS.map((m, i) => (i === 0 ? { ...m, sql: `${m.sql}\n-- tweak` } : m)));
    const result = await runProbe('db', config(url, edited));
    expect(result).toMatchObject({ status: 'failed', reason: 'migration_edited', observations: { migrationsEdited: 1, migrationsPending: 0 } });
    expect(result.message).toBe('edited after apply (hash differs): observed ["0000_loud_morg"] expected []');
  });

  it('fails migration_unknown when an applied row matches no journal entry', async () => {
    const url = await database('unknown_row');
    await applyMigrations(url, APP_MIGRATIONS);
    await sql(url, `insert into drizzle.__drizzle_migrations (hash, created_at) values ('${'ab'.repeat(32)}', 1760700000000)`);
    const result = await runProbe('db', config(url));
    expect(result).toMatchObject({ status: 'failed', reason: 'migration_unknown', observations: { migrationsUnknown: 1, migrationsApplied: 3, lastAppliedWhen: 1760700000000 } });
  });

  it('fails db_schema listing a missing table', async () => {
    const url = await database('missing_table');
    await applyMigrations(url, APP_MIGRATIONS);
    await sql(url, 'drop table verifications');
    const result = await runProbe('db', config(url));
    expect(result).toMatchObject({ status: 'failed', reason: 'db_schema', observations: { tablesMissing: ['verifications'] } });
    expect(result.message).toBe('app tables missing in public: observed ["verifications"] expected []');
  });

  it('fails migration_journal when the journal is not valid JSON', async () => {
    const url = await database('bad_journal');
    await applyMigrations(url, APP_MIGRATIONS);
    const broken = writeMigrationsFolder(join(dir, 'broken'), APP_MIGRATIONS);
    writeFileSync(join(broken, 'meta', '_journal.json'), '{"entries": [');
    const result = await runProbe('db', config(url, broken));
    expect(result).toMatchObject({ status: 'failed', reason: 'migration_journal', observations: { pgUp: 1 } });
  });

  describe('journal over https', () => {
    let ca: CertificateAuthority;
    let caPath: string;
    let url: string;
    const https: Server[] = [];
    beforeAll(async () => {
      ca = await createCertificateAuthority('Journal Test CA');
      caPath = join(dir, 'journal-ca.pem');
      writeFileSync(caPath, ca.certPem);
      url = await database('journal_https');
      await applyMigrations(url, APP_MIGRATIONS);
    });
    afterAll(async () => {
      await Promise.all(https.map((server) => new Promise((resolve) => server.close(resolve))));
    });
    const serve = async (issuer: CertificateAuthority, leafOptions?: LeafOptions) => {
      const served = await serveMigrationsOverHttps(issuer, leafOptions);
      https.push(served.server);
      return served.url;
    };

    it('compares against a journal from a server whose certificate chains to the configured CA', async () => {
      const result = await runProbe('db', config(url, await serve(ca), caPath));
      expect(result).toMatchObject({ status: 'passed', observations: { migrationsCompared: true, migrationsPending: 0 } });
    });

    it('refuses a journal from a server with an untrusted certificate: migration_journal, saying why', async () => {
      const rogue = await createCertificateAuthority('Rogue Journal CA');
      const result = await runProbe('db', config(url, await serve(rogue), caPath));
      expect(result).toMatchObject({ status: 'failed', reason: 'migration_journal', observations: { pgUp: 1 } });
      expect(result.message).toMatch(/^migrations: meta\/_journal\.json cannot be read \(.*self-signed certificate in certificate chain/);
    });

    it('refuses a trusted certificate that names the host only in its CN, as browsers do', async () => {
      const result = await runProbe('db', config(url, await serve(ca, { commonNameOnly: true }), caPath));
      expect(result).toMatchObject({ status: 'failed', reason: 'migration_journal' });
      expect(result.message).toContain('certificate names localhost only in its subject CN');
    });
  });

  it('passes without a migrations folder, saying migrations were not compared', async () => {
    const url = await database('no_journal');
    await applyMigrations(url, APP_MIGRATIONS);
    const result = await runProbe('db', config(url, null));
    expect(result.status).toBe('passed');
    expect(result.observations).toMatchObject({ pgUp: 1, migrationsCompared: false, migrationsApplied: 2, tablesMissing: [] });
    expect(result.observations?.migrationsNote).toMatch(/not compared/);
  });

  it('fails db_auth on a wrong password, without printing either password', async () => {
    const wrong = pgServer.databaseUrl.replace(password, 'not-the-password');
    const result = await runProbe('db', config(wrong));
    expect(result).toMatchObject({ status: 'failed', reason: 'db_auth', observations: { pgUp: 0 } });
    expect(JSON.stringify(result)).not.toContain('not-the-password');
  });

  it('fails db_unreachable when the server is down', async () => {
    const port = await freePort();
    const result = await runProbe('db', config(`postgresql://postgres:secret-pw@127.0.0.1:${port}/postgres`));
    expect(result).toMatchObject({ status: 'failed', reason: 'db_unreachable', observations: { pgUp: 0 } });
    expect(JSON.stringify(result)).not.toContain('secret-pw');
  });

  it('is skipped (not_configured), never passed, without a database URL', async () => {
    const result = await runProbe('db', config(undefined));
    expect(result).toMatchObject({ status: 'skipped', reason: 'not_configured', message: 'no database URL configured (SENTINEL_DATABASE_URL)' });
  });

  it('fails timeout at the deadline when the server accepts but never answers', async () => {
    const { createServer } = await import('node:net');
    const silent = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const port = (silent.address() as { port: number }).port;
    const started = Date.now();
    const result = await runProbe('db', config(`postgresql://postgres:x@127.0.0.1:${port}/postgres`), { timeoutMs: 400 });
    const elapsed = Date.now() - started;
    silent.close();
    expect(result).toMatchObject({ status: 'failed', reason: 'timeout' });
    expect(elapsed).toBeLessThan(400 + 1_500);
  });
});
