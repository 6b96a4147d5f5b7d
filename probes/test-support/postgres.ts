/**
 * A throwaway Debian PostgreSQL 15 for db probe tests: initdb and postgres run as the `postgres`
 * user (they refuse root), data in a mkdtemp chowned to it, 127.0.0.1 on a free port, stopped by PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './servers.ts';

const BIN = '/usr/lib/postgresql/15/bin';

export interface TestPostgres {
  port: number;
  /** URL of a database (default `postgres`) as the superuser. */
  url(database?: string): string;
  password: string;
  stop(): Promise<void>;
}

function postgresUser(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error('no postgres user: apt-get install postgresql');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

function run(command: string, args: string[], options: { uid: number; gid: number; cwd: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env.PATH ?? '', LANG: 'C.UTF-8' } });
    let stderr = '';
    child.stderr?.on('data', (d) => (stderr += String(d)));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command} exited ${code}: ${stderr.trim()}`))));
  });
}

async function waitReady(url: string, child: ChildProcess, deadlineMs: number): Promise<void> {
  const until = Date.now() + deadlineMs;
  let last: unknown;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`postgres exited ${child.exitCode} during start`);
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
    try {
      await client.connect();
      await client.query('select 1');
      return;
    } catch (error) {
      last = error;
      await new Promise((r) => setTimeout(r, 50)); // poll interval while the server starts
    } finally {
      await client.end().catch(() => undefined);
    }
  }
  throw new Error(`postgres not ready within ${deadlineMs} ms: ${String(last)}`);
}

export async function startTestPostgres(): Promise<TestPostgres> {
  const user = postgresUser();
  const root = mkdtempSync(join(tmpdir(), 'sentinel-pg-'));
  chmodSync(root, 0o755);
  chownSync(root, user.uid, user.gid);
  const data = join(root, 'data');
  const password = `pw-${Math.random().toString(36).slice(2)}-secret`;
  const pwfile = join(root, 'pwfile');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  chownSync(pwfile, user.uid, user.gid);
  const opts = { ...user, cwd: root };
  await run(`${BIN}/initdb`, ['-D', data, '-U', 'postgres', '--auth=scram-sha-256', `--pwfile=${pwfile}`, '-E', 'UTF8', '--no-sync'], opts);
  const port = await freePort();
  const child = spawn(
    `${BIN}/postgres`,
    ['-D', data, '-p', String(port), '-k', root, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
    { ...opts, stdio: 'ignore', env: { PATH: process.env.PATH ?? '', LANG: 'C.UTF-8' } },
  );
  const url = (database = 'postgres') => `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
  const stop = async () => {
    if (child.exitCode === null && child.pid) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      process.kill(child.pid, 'SIGINT'); // fast shutdown
      await exited;
    }
    rmSync(root, { recursive: true, force: true });
  };
  try {
    await waitReady(url(), child, 15_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return { port, url, password, stop };
}
