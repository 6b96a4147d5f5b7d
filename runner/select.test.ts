import { describe, expect, test } from 'vitest';
import { loadConfig } from '../core/config.ts';
import { CHECK_IDS } from '../core/result.ts';
import { selectChecks, unconfiguredChecks } from './select.ts';
import { BASE_ENV, configFrom } from './test-support/env.ts';

const FULL_ENV = {
  ...BASE_ENV,
  SENTINEL_DATABASE_URL: 'postgresql://u:dbpw-SECRET@db.example.test:5432/app',
  SENTINEL_COOLIFY_URL: 'https://coolify.example.test',
  SENTINEL_COOLIFY_TOKEN: 'coolify-SECRET-token',
  SENTINEL_COOLIFY_APP_UUID: 'app-uuid',
  SENTINEL_COOLIFY_APP_DB_UUID: 'app-db-uuid',
  SENTINEL_EXPOSURE_HOSTS: 'gadgetbot.example.test,auth.example.test',
};

const reasons = (selection: ReturnType<typeof selectChecks>) => Object.fromEntries(selection.skipped.map((s) => [s.id, s.reason]));

describe('selectChecks', () => {
  test('the embedded stack runs every check, mutating and disruptive included', () => {
    const selection = selectChecks({ mode: 'postdeploy', config: configFrom(FULL_ENV), embedded: true });
    expect(selection.run).toEqual([...CHECK_IDS]);
    expect(selection.skipped).toEqual([]);
  });

  test('a configured target needs permission for mutating and disruptive checks', () => {
    const selection = selectChecks({ mode: 'postdeploy', config: configFrom(FULL_ENV), embedded: false });
    expect(selection.run).toEqual(['tls', 'app-health', 'oidc-discovery', 'login-v2-redirect', 'db', 'coolify-resources', 'backups', 'idp-token', 'idp-health', 'exposure', 'e2e-login', 'e2e-sign-out']);
    expect(reasons(selection)).toEqual({ 'e2e-admin-crud': 'not_permitted', 'e2e-session-redeploy': 'not_permitted' });
    for (const skip of selection.skipped) {
      expect(skip.status).toBe('skipped');
      expect(skip.message).toMatch(/--allow-(mutations|disruptive)/);
    }
  });

  test('flags (config overrides) grant the permissions', () => {
    const config = configFrom(FULL_ENV, { allowMutations: true, allowDisruptive: true });
    expect(selectChecks({ mode: 'ci', config, embedded: false }).run).toEqual([...CHECK_IDS]);
  });

  test('an explicit "false" wins over the embedded default', () => {
    const config = configFrom({ ...FULL_ENV, SENTINEL_ALLOW_MUTATIONS: 'false' });
    expect(reasons(selectChecks({ mode: 'postdeploy', config, embedded: true }))).toEqual({ 'e2e-admin-crud': 'not_permitted' });
  });

  test('disruptive without a redeploy driver is not configured; with a command it runs', () => {
    const noDriver = configFrom({ ...BASE_ENV, SENTINEL_DATABASE_URL: FULL_ENV.SENTINEL_DATABASE_URL }, { allowDisruptive: true });
    const skippedRedeploy = selectChecks({ mode: 'postdeploy', config: noDriver, embedded: false }).skipped.find((s) => s.id === 'e2e-session-redeploy');
    expect(skippedRedeploy?.reason).toBe('not_configured');
    expect(skippedRedeploy?.message).toContain('SENTINEL_REDEPLOY_COMMAND');
    const withCommand = configFrom({ ...BASE_ENV, SENTINEL_REDEPLOY_COMMAND: 'true' }, { allowDisruptive: true });
    expect(selectChecks({ mode: 'postdeploy', config: withCommand, embedded: false }).run).toContain('e2e-session-redeploy');
  });

  test('monitor mode never runs disruptive checks, even when allowed', () => {
    const config = configFrom(FULL_ENV, { allowMutations: true, allowDisruptive: true });
    const selection = selectChecks({ mode: 'monitor', config, embedded: true });
    expect(reasons(selection)).toEqual({ 'e2e-session-redeploy': 'not_permitted' });
    expect(selection.run).toContain('e2e-admin-crud');
  });

  test('monitor mode runs mutating checks only when allowed', () => {
    const selection = selectChecks({ mode: 'monitor', config: configFrom(FULL_ENV), embedded: false });
    expect(reasons(selection)['e2e-admin-crud']).toBe('not_permitted');
  });

  test('no database URL skips db; no exposure host skips exposure (never a port check by default); no users skips every browser check', () => {
    const config = configFrom({ SENTINEL_APP_URL: BASE_ENV.SENTINEL_APP_URL, SENTINEL_ISSUER: BASE_ENV.SENTINEL_ISSUER });
    const selection = selectChecks({ mode: 'postdeploy', config, embedded: false });
    expect(selection.run).toEqual(['tls', 'app-health', 'oidc-discovery', 'login-v2-redirect', 'idp-health']);
    expect(selection.skipped.find((s) => s.id === 'exposure')?.message).toBe('no exposure host (SENTINEL_EXPOSURE_HOSTS: the public hosts whose ports may be checked)');
    expect(reasons(selection)).toEqual({
      db: 'not_configured',
      'coolify-resources': 'not_configured',
      backups: 'not_configured',
      'idp-token': 'not_configured',
      exposure: 'not_configured',
      'e2e-login': 'not_configured',
      'e2e-admin-crud': 'not_configured',
      'e2e-sign-out': 'not_configured',
      'e2e-session-redeploy': 'not_configured',
    });
  });

  test('plain-http targets have no TLS host to check', () => {
    const config = configFrom({ ...BASE_ENV, SENTINEL_APP_URL: 'http://127.0.0.1:3000', SENTINEL_ISSUER: 'http://127.0.0.1:3001' });
    expect(reasons(selectChecks({ mode: 'postdeploy', config, embedded: false })).tls).toBe('not_configured');
  });

  test('requested ids (--check, else SENTINEL_CHECKS) narrow the run; probe mode drops browser checks', () => {
    const config = configFrom({ ...FULL_ENV, SENTINEL_CHECKS: 'db,e2e-login' });
    expect(selectChecks({ mode: 'postdeploy', config, embedded: false }).run).toEqual(['db', 'e2e-login']);
    const requested = selectChecks({ mode: 'postdeploy', config, embedded: false, requested: ['tls'] });
    expect(requested.run).toEqual(['tls']);
    expect(requested.skipped.find((s) => s.id === 'db')).toMatchObject({ status: 'skipped', reason: 'not_selected' });
    const probeOnly = selectChecks({ mode: 'probe', config: configFrom(FULL_ENV), embedded: true });
    expect(probeOnly.run).toEqual(['tls', 'app-health', 'oidc-discovery', 'login-v2-redirect', 'db', 'coolify-resources', 'backups', 'idp-token', 'idp-health', 'exposure']);
    expect(probeOnly.skipped.map((s) => s.reason)).toEqual(['not_selected', 'not_selected', 'not_selected', 'not_selected']);
  });
});

describe('Coolify checks', () => {
  test('coolify-resources needs Coolify; backups needs a database uuid too, and names what is missing', () => {
    const none = selectChecks({ mode: 'postdeploy', config: configFrom(BASE_ENV), embedded: false });
    expect(none.skipped.find((s) => s.id === 'coolify-resources')).toMatchObject({ reason: 'not_configured', message: 'Coolify is not configured (SENTINEL_COOLIFY_URL, SENTINEL_COOLIFY_TOKEN, SENTINEL_COOLIFY_APP_UUID)' });
    expect(none.skipped.find((s) => s.id === 'backups')?.message).toBe(
      'Coolify is not configured (SENTINEL_COOLIFY_URL, SENTINEL_COOLIFY_TOKEN, SENTINEL_COOLIFY_APP_UUID) and no database uuid (SENTINEL_COOLIFY_APP_DB_UUID, SENTINEL_COOLIFY_ZITADEL_DB_UUID)',
    );
    const appOnly = selectChecks({ mode: 'postdeploy', config: configFrom({ ...FULL_ENV, SENTINEL_COOLIFY_APP_DB_UUID: undefined }), embedded: false });
    expect(appOnly.run).toContain('coolify-resources');
    expect(appOnly.skipped.find((s) => s.id === 'backups')).toMatchObject({ reason: 'not_configured', message: 'no database uuid (SENTINEL_COOLIFY_APP_DB_UUID, SENTINEL_COOLIFY_ZITADEL_DB_UUID)' });
    const zitadelDbOnly = selectChecks({ mode: 'postdeploy', config: configFrom({ ...FULL_ENV, SENTINEL_COOLIFY_APP_DB_UUID: undefined, SENTINEL_COOLIFY_ZITADEL_DB_UUID: 'z-db' }), embedded: false });
    expect(zitadelDbOnly.run).toContain('backups');
  });

  test('a resource uuid without the Coolify settings is a configuration error naming them', () => {
    const loaded = loadConfig({ ...BASE_ENV, SENTINEL_COOLIFY_ZITADEL_DB_UUID: 'z-db', SENTINEL_BACKUP_MAX_AGE_HOURS: '0' } as NodeJS.ProcessEnv);
    expect(loaded.ok).toBe(false);
    expect(!loaded.ok && loaded.issues.map((i) => `${i.variable ?? i.path}: ${i.message}`)).toEqual([
      'SENTINEL_BACKUP_MAX_AGE_HOURS: backups.maxAgeHours must be greater than 0',
      'SENTINEL_COOLIFY_ZITADEL_DB_UUID: coolify.zitadelDbUuid needs coolify.url, coolify.token and coolify.appUuid',
    ]);
  });
});

describe('unconfiguredChecks: the ci/postdeploy gate', () => {
  const NO_DB = { ...FULL_ENV, SENTINEL_DATABASE_URL: undefined };
  test('a not_configured check blocks ci and postdeploy runs, one line each; probe and monitor runs are not gated', () => {
    const config = configFrom(NO_DB);
    for (const mode of ['ci', 'postdeploy'] as const) {
      const lines = unconfiguredChecks(mode, config, selectChecks({ mode, config, embedded: false }));
      expect(lines).toEqual(['- db: no database URL (SENTINEL_DATABASE_URL) — or leave it out on purpose with --skip db (SENTINEL_SKIP), or pass --allow-skipped']);
    }
    for (const mode of ['probe', 'monitor'] as const) expect(unconfiguredChecks(mode, config, selectChecks({ mode, config, embedded: false }))).toEqual([]);
  });

  test('idp-token without its service user (id and secret) is not configured, and blocks the gate like any other', () => {
    const config = configFrom({ ...FULL_ENV, SENTINEL_IDP_TOKEN_CLIENT_ID: undefined, SENTINEL_IDP_TOKEN_CLIENT_SECRET: undefined });
    const selection = selectChecks({ mode: 'postdeploy', config, embedded: false });
    expect(selection.skipped.find((s) => s.id === 'idp-token')).toMatchObject({ status: 'skipped', reason: 'not_configured', message: 'no service user (SENTINEL_IDP_TOKEN_CLIENT_ID and SENTINEL_IDP_TOKEN_CLIENT_SECRET)' });
    expect(selection.run).toContain('idp-health');
    expect(unconfiguredChecks('postdeploy', config, selection)).toEqual([
      '- idp-token: no service user (SENTINEL_IDP_TOKEN_CLIENT_ID and SENTINEL_IDP_TOKEN_CLIENT_SECRET) — or leave it out on purpose with --skip idp-token (SENTINEL_SKIP), or pass --allow-skipped',
    ]);
  });

  test('--skip (SENTINEL_SKIP) deselects on purpose; --allow-skipped lets it pass as a visible skip; not_permitted never blocks', () => {
    const skipped = configFrom({ ...NO_DB, SENTINEL_SKIP: 'db' });
    const selection = selectChecks({ mode: 'ci', config: skipped, embedded: false });
    expect(unconfiguredChecks('ci', skipped, selection)).toEqual([]);
    expect(selection.skipped.find((s) => s.id === 'db')).toMatchObject({ reason: 'not_selected', message: 'left out on purpose (--skip / SENTINEL_SKIP)' });
    const allowed = configFrom(NO_DB, { allowSkipped: true });
    const allowedSelection = selectChecks({ mode: 'ci', config: allowed, embedded: false });
    expect(unconfiguredChecks('ci', allowed, allowedSelection)).toEqual([]);
    expect(allowedSelection.skipped.find((s) => s.id === 'db')?.reason).toBe('not_configured');
    // e2e-admin-crud and e2e-session-redeploy are not permitted here: visible skips, no gate
    expect(reasons(allowedSelection)['e2e-admin-crud']).toBe('not_permitted');
  });
});
