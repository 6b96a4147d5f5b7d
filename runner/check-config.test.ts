import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CONFIG_FILE_VARIABLE, ENV_VARS } from '../core/config.ts';
import { REPO, runCli } from './test-support/cli.ts';

/** Distinctive secret values: none may appear in any output. */
const SECRETS = {
  SENTINEL_PASSWORD: 'pw-Zq8-SECRET-7731',
  SENTINEL_PASSWORD_2: 'pw2-Lm4-SECRET-0042',
  SENTINEL_DATABASE_URL: 'postgresql://gadgetbot:dbpw-Kx91-SECRET@db.internal:5432/gadgetbot',
  SENTINEL_COOLIFY_TOKEN: '7|coolify-tok-SECRET-5521',
  SENTINEL_MONITOR_TOKEN: 'mon-tok-SECRET-8812',
  SENTINEL_IDP_TOKEN_CLIENT_SECRET: 'svc-sec-SECRET-6604',
};
const SECRET_FRAGMENTS = ['pw-Zq8-SECRET-7731', 'pw2-Lm4-SECRET-0042', 'dbpw-Kx91-SECRET', 'coolify-tok-SECRET-5521', 'mon-tok-SECRET-8812', 'dbpw-Wq7-SECRET-3390', 'svc-sec-SECRET-6604'];

const VALID_ENV = {
  SENTINEL_APP_URL: 'https://gadgetbot.vellandi.net',
  SENTINEL_ISSUER: 'https://auth.vellandi.net',
  SENTINEL_USER: 'sentinel-e2e@vellandi.net',
  SENTINEL_USER_2: 'sentinel-e2e-2@vellandi.net',
  SENTINEL_COOLIFY_URL: 'https://gadgetbot-coolify.vellandi.net',
  SENTINEL_COOLIFY_APP_UUID: 'gadgetbot-app-uuid',
  SENTINEL_IDP_TOKEN_CLIENT_ID: 'sentinel-token-probe',
  ...SECRETS,
};

interface InvalidCase {
  env: Record<string, string>;
  configFile?: unknown;
  expect: Array<{ path: string; variable?: string }>;
}

const INVALID_DIR = join(REPO, 'fixtures/config/invalid');
const CASES = readdirSync(INVALID_DIR)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((file) => [file.replace(/\.json$/, ''), JSON.parse(readFileSync(join(INVALID_DIR, file), 'utf8')) as InvalidCase] as const);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sentinel-check-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const assertNoSecrets = (text: string) => {
  for (const fragment of SECRET_FRAGMENTS) expect(text).not.toContain(fragment);
};

describe('sentinel check-config on invalid configurations', () => {
  test('there are at least 12 cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(12);
  });

  test.concurrent.for(CASES)('%s → exit 2, one line per problem naming the field, no stack, no secret', async ([name, spec], { expect }) => {
    const env: Record<string, string> = { ...VALID_ENV };
    for (const [key, value] of Object.entries(spec.env)) {
      if (value === '') delete env[key];
      else env[key] = value;
    }
    if (spec.configFile !== undefined) {
      const file = join(dir, `${name}.json`);
      await writeFile(file, typeof spec.configFile === 'string' ? spec.configFile : JSON.stringify(spec.configFile));
      env.SENTINEL_CONFIG = file;
    }
    const run = await runCli(['check-config'], env);
    const output = run.stdout + run.stderr;
    expect(run.code).toBe(2);
    const problems = run.stderr.split('\n').filter((l) => l.startsWith('- '));
    expect(problems).toHaveLength(spec.expect.length);
    for (const [i, expected] of spec.expect.entries()) {
      // A field problem names the field and its variable; one about the file or the environment, the variable.
      const head = expected.path.startsWith('(') ? `- ${expected.variable}: ` : `- ${expected.path}${expected.variable ? ` (${expected.variable})` : ''}: `;
      expect(problems[i]!.startsWith(head), `${problems[i]} starts with ${head}`).toBe(true);
    }
    expect(run.stderr.split('\n')[0]).toBe(`sentinel: the configuration has ${spec.expect.length} problem${spec.expect.length === 1 ? '' : 's'}:`);
    expect(output).not.toMatch(/\n\s+at .+:\d+:\d+/);
    for (const fragment of SECRET_FRAGMENTS) expect(output).not.toContain(fragment);
  });
});

describe('sentinel check-config on valid configurations', () => {
  test('the production example (secrets from the environment) is valid; secrets are masked; skips are explained', async () => {
    const { SENTINEL_PASSWORD_2: _second, ...secrets } = SECRETS;
    const uuids = { SENTINEL_COOLIFY_APP_UUID: 'gadgetbot-app-uuid', SENTINEL_COOLIFY_ZITADEL_UUID: 'zitadel-stack-uuid', SENTINEL_COOLIFY_APP_DB_UUID: 'gadgetbot-db-uuid', SENTINEL_COOLIFY_ZITADEL_DB_UUID: 'zitadel-db-uuid' };
    const run = await runCli(['check-config'], { ...secrets, SENTINEL_CONFIG: join(REPO, 'fixtures/config/example.json'), ...uuids });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines).toContain('target: https://gadgetbot.vellandi.net (issuer https://auth.vellandi.net)');
    expect(lines).toContain('  users.0.password = [set]');
    expect(lines).toContain('  coolify.token = [set]');
    expect(lines).toContain('  databaseUrl = [set]');
    expect(lines).toContain('  idpToken.clientSecret = [set]');
    expect(lines).toContain('  coolify.url = "https://gadgetbot-coolify.vellandi.net"');
    expect(lines).toContain('  coolify.appDbUuid = "gadgetbot-db-uuid"');
    expect(lines).toContain('  backups.maxAgeHours = 26');
    expect(lines).toContain('  exposure.closedPorts = [3000,5432,8080]');
    expect(lines).toContain('checks enabled for `sentinel run --mode postdeploy`: tls, app-health, oidc-discovery, login-v2-redirect, db, coolify-resources, backups, idp-token, idp-health, exposure, e2e-login, e2e-sign-out');
    expect(lines).toContain('  skipped e2e-admin-crud: not_permitted: mutating check: pass --allow-mutations or set SENTINEL_ALLOW_MUTATIONS=true');
    assertNoSecrets(run.stdout);
  });

  test('no database URL and no users: db and browser checks are skipped with the reason (probe mode is not gated)', async () => {
    const run = await runCli(['check-config'], { SENTINEL_APP_URL: 'https://gadgetbot.vellandi.net', SENTINEL_ISSUER: 'https://auth.vellandi.net', CI: 'true', SENTINEL_ALLOW_SKIPPED: 'true' });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('checks enabled for `sentinel run --mode ci`: tls, app-health, oidc-discovery, login-v2-redirect, idp-health\n');
    expect(run.stdout).toContain('  skipped idp-token: not_configured: no service user (SENTINEL_IDP_TOKEN_CLIENT_ID and SENTINEL_IDP_TOKEN_CLIENT_SECRET)\n');
    expect(run.stdout).toContain('  skipped db: not_configured: no database URL (SENTINEL_DATABASE_URL)\n');
    expect(run.stdout).toContain('  skipped e2e-login: not_configured: no test user (SENTINEL_USER and SENTINEL_PASSWORD)\n');
    expect(run.stdout).toContain('  databaseUrl = (unset)\n');
  });

  test('--embedded: the local reference stack is the target', async () => {
    const run = await runCli(['check-config', '--embedded'], {});
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('target: the local reference stack (--embedded)');
  });
});

describe('.env.example', () => {
  test('lists exactly the schema\'s variables, each with a comment and no secret value', () => {
    const text = readFileSync(join(REPO, '.env.example'), 'utf8');
    const lines = text.split('\n');
    const assignments = new Map(lines.filter((l) => /^[A-Z0-9_]+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    const required = [...Object.keys(ENV_VARS), CONFIG_FILE_VARIABLE];
    expect(required.filter((v) => !assignments.has(v))).toEqual([]);
    expect([...assignments.keys()].filter((v) => !required.includes(v))).toEqual([]);
    for (const variable of required) {
      const index = lines.findIndex((l) => l.startsWith(`${variable}=`));
      expect(lines[index - 1]!.startsWith('# '), `${variable} has a comment`).toBe(true);
    }
    for (const secret of ['SENTINEL_PASSWORD', 'SENTINEL_PASSWORD_2', 'SENTINEL_DATABASE_URL', 'SENTINEL_COOLIFY_TOKEN', 'SENTINEL_MONITOR_TOKEN', 'SENTINEL_REDEPLOY_COMMAND', 'SENTINEL_IDP_TOKEN_CLIENT_SECRET']) {
      expect(assignments.get(secret)).toBe('');
    }
  });
});

describe('check-config and the monitor', () => {
  const TARGET = { SENTINEL_APP_URL: 'https://gadgetbot.vellandi.net', SENTINEL_ISSUER: 'https://auth.vellandi.net', SENTINEL_USER: 'sentinel-e2e@vellandi.net', SENTINEL_PASSWORD: 'pw-Zq8-SECRET-7731', SENTINEL_SKIP: 'db,coolify-resources,backups,idp-token,exposure' };

  test.concurrent('schedules are judged by node-cron itself (names and ranges), and check-config says what the monitor runs and when', async ({ expect }) => {
    const run = await runCli(['check-config'], { ...TARGET, SENTINEL_SCHEDULE_BROWSER: '*/15 8-18 * * MON-FRI', SENTINEL_SCHEDULE_PROBES: '*/30 * * * * *' });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('`sentinel monitor` would run (every group also runs once when it starts):');
    expect(run.stdout).toMatch(/\n {2}probes tls, app-health, oidc-discovery, idp-health on "\*\/30 \* \* \* \* \*" \(every 30 s; next \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\)\n/);
    expect(run.stdout).toContain('  login-v2-redirect on the same schedule, never during a browser flow (it signs in)\n');
    // whatever the time of day: the usual gap, and the longest one (over the weekend)
    expect(run.stdout).toMatch(/\n {2}browser flows e2e-login, e2e-sign-out on "\*\/15 8-18 \* \* MON-FRI" \(every 15 min, longest gap 6\d(\.\d)? h; next [^)]+\), one at a time\n/);
    expect(run.stdout).toContain('  not run by the monitor: e2e-session-redeploy (not_permitted: disruptive checks never run in monitor mode)\n');
    const bad = await runCli(['check-config'], { ...TARGET, SENTINEL_SCHEDULE_PROBES: '61 * * * *' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('- monitor.probeSchedule (SENTINEL_SCHEDULE_PROBES): monitor.probeSchedule must be a cron expression node-cron accepts (5 fields, or 6 with seconds)');
  });

  test.concurrent('a monitor that listens beyond loopback needs a token, or anonymous access allowed explicitly', async ({ expect }) => {
    for (const args of [['check-config'], ['monitor']]) {
      const run = await runCli(args, { ...TARGET, SENTINEL_MONITOR_LISTEN: '0.0.0.0:9464' });
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr).toContain('- monitor.listen (SENTINEL_MONITOR_LISTEN): monitor.listen 0.0.0.0:9464 is reachable beyond this machine: set SENTINEL_MONITOR_TOKEN, or SENTINEL_MONITOR_ALLOW_ANONYMOUS=true to serve it without one');
    }
    const flag = await runCli(['monitor', '--listen', '[::]:9464'], TARGET);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('monitor.listen [::]:9464 is reachable beyond this machine');
    for (const extra of [{ SENTINEL_MONITOR_TOKEN: 'mon-tok-SECRET-8812' }, { SENTINEL_MONITOR_ALLOW_ANONYMOUS: 'true' }]) {
      const ok = await runCli(['check-config'], { ...TARGET, SENTINEL_MONITOR_LISTEN: '0.0.0.0:9464', ...extra });
      expect(ok.code).toBe(0);
      expect(ok.stdout + ok.stderr).not.toContain('mon-tok-SECRET-8812');
    }
  });
});
