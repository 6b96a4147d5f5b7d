/**
 * A Drizzle-shaped migrations folder and a migrator that records rows exactly as drizzle-orm 0.x
 * does (docs/target-contract.md §7.2): sha256 hex of the whole file, created_at = the journal's `when`.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';

export interface TestMigration {
  tag: string;
  when: number;
  sql: string;
}

/** Same tags and `when`s as the app (docs/target-contract.md §7.3); the SQL is a faithful sketch of the tables. */
export const APP_MIGRATIONS: TestMigration[] = [
  {
    tag: '0000_loud_morg',
    when: 1760600785785,
    sql: `CREATE TABLE "gadgetbots" (\n\t"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,\n\t"name" text NOT NULL,\n\t"type" text NOT NULL,\n\t"status" text DEFAULT 'available' NOT NULL,\n\t"description" text NOT NULL,\n\t"battery_life" real NOT NULL,\n\t"max_load_capacity" real NOT NULL,\n\t"features" text[] DEFAULT '{}' NOT NULL,\n\t"image_url" text,\n\t"created_at" timestamp with time zone DEFAULT now() NOT NULL,\n\t"updated_at" timestamp with time zone DEFAULT now() NOT NULL\n);\n`,
  },
  {
    tag: '0001_graceful_psylocke',
    when: 1760645756382,
    sql: [
      `CREATE TABLE "accounts" ("id" text PRIMARY KEY NOT NULL, "account_id" text NOT NULL, "provider_id" text NOT NULL, "user_id" text NOT NULL);`,
      `CREATE TABLE "sessions" ("id" text PRIMARY KEY NOT NULL, "expires_at" timestamp NOT NULL, "token" text NOT NULL, "user_id" text NOT NULL, CONSTRAINT "sessions_token_unique" UNIQUE("token"));`,
      `CREATE TABLE "users" ("id" text PRIMARY KEY NOT NULL, "name" text NOT NULL, "email" text NOT NULL, CONSTRAINT "users_email_unique" UNIQUE("email"));`,
      `CREATE TABLE "verifications" ("id" text PRIMARY KEY NOT NULL, "identifier" text NOT NULL, "value" text NOT NULL, "expires_at" timestamp NOT NULL);`,
      `ALTER TABLE "accounts" ADD CONSTRAINT "accounts_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;`,
      `ALTER TABLE "sessions" ADD CONSTRAINT "sessions_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;`,
    ].join('--> statement-breakpoint\n'),
  },
];

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Write `<dir>/meta/_journal.json` and `<dir>/<tag>.sql`. */
export function writeMigrationsFolder(dir: string, migrations: readonly TestMigration[]): string {
  mkdirSync(join(dir, 'meta'), { recursive: true });
  const entries = migrations.map((m, idx) => ({ idx, version: '7', when: m.when, tag: m.tag, breakpoints: true }));
  writeFileSync(join(dir, 'meta', '_journal.json'), JSON.stringify({ version: '7', dialect: 'postgresql', entries }, null, 2));
  for (const m of migrations) writeFileSync(join(dir, `${m.tag}.sql`), m.sql);
  return dir;
}

/** Apply migrations the way drizzle-orm's migrator does, recording (hash, when). */
export async function applyMigrations(url: string, migrations: readonly TestMigration[]): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    await client.query('CREATE SCHEMA IF NOT EXISTS drizzle');
    await client.query('CREATE TABLE IF NOT EXISTS drizzle.__drizzle_migrations (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at bigint)');
    for (const m of migrations) {
      for (const statement of m.sql.split('--> statement-breakpoint')) if (statement.trim()) await client.query(statement);
      await client.query('insert into drizzle.__drizzle_migrations (hash, created_at) values ($1, $2)', [sha256(m.sql), m.when]);
    }
  } finally {
    await client.end();
  }
}

export async function sql(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}
