import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backupExecution, backupSchedule, startFakeCoolify, type FakeCoolify } from '../core/test-support/coolify-fake.ts';
import { safeMessage } from './backups.ts';
import { runProbe } from './run-probe.ts';
import { testConfig } from './test-support/probe-config.ts';

const TOKEN = '5|backups-sekrit-token-0a1b2c';
const APP = 'app0000000000000000000001';
const APP_DB = 'adb0000000000000000000001';
const ZITADEL_DB = 'zdb0000000000000000000001';
const HOUR = 3_600_000;
const NOW = Date.now();

let fake: FakeCoolify;

/** A week of nightly runs, newest first, the newest `newestAgeMs` ago. */
const week = (newestAgeMs = 5 * HOUR) => Array.from({ length: 7 }, (_, day) => backupExecution({ finishedAtMs: NOW - newestAgeMs - day * 24 * HOUR }));

beforeEach(async () => {
  fake = await startFakeCoolify({ tokens: { [TOKEN]: ['read'] }, appUuid: APP });
  fake.databases[APP_DB] = { name: 'gadgetbot-db', status: 'running:healthy', backups: [backupSchedule({}, week())] };
  fake.databases[ZITADEL_DB] = { name: 'zitadel-db', status: 'running:healthy', backups: [backupSchedule({ databases_to_backup: 'zitadel' }, week())] };
});
afterEach(async () => {
  await fake.close();
});

function config(extra: Record<string, unknown> = {}) {
  return testConfig({
    appUrl: 'https://gadgetbot.example.com',
    issuer: 'https://auth.example.com',
    coolify: { url: fake.url, token: TOKEN, appUuid: APP, appDbUuid: APP_DB, zitadelDbUuid: ZITADEL_DB },
    timeouts: { probeMs: 5_000 },
    ...extra,
  });
}
const probe = (extra: Record<string, unknown> = {}) => runProbe('backups', config(extra), { now: () => new Date(NOW) });
const setApp = (...schedules: Array<Record<string, unknown>>) => (fake.databases[APP_DB]!.backups = schedules);

describe('backups probe', () => {
  it('passes with the plan: daily at 2 AM, kept 7 days, newest run a success 5 h old; metrics observations per database', async () => {
    const result = await probe();
    expect(result).toMatchObject({ id: 'backups', status: 'passed', target: fake.url });
    const newest = fake.databases[APP_DB]!.backups[0]!.executions as Array<Record<string, unknown>>;
    expect(result.observations).toMatchObject({
      coolifyVersion: '4.2.0',
      databases: [
        { role: 'app-db', uuid: APP_DB, enabled: true, frequency: '0 2 * * *', retentionDays: 7, lastStatus: 'success', lastSuccessSeconds: Math.floor((NOW - 5 * HOUR) / 1000), lastSizeBytes: newest[0]!.size },
        { role: 'zitadel-db', uuid: ZITADEL_DB, lastStatus: 'success' },
      ],
    });
    expect(fake.requests.map((r) => r.url)).toEqual(expect.arrayContaining(['/api/v1/version', `/api/v1/databases/${APP_DB}/backups`, `/api/v1/databases/${ZITADEL_DB}/backups`]));
  });

  it('reads older builds\' shapes: size as a string, finished_at as an ISO string or the raw database form', async () => {
    setApp(backupSchedule({ database_backup_retention_max_storage_locally: '0.0000000' }, [
      backupExecution({ size: '48213', finished_at: new Date(NOW - 2 * HOUR).toISOString() }),
      ...week(26 * HOUR),
    ]));
    const result = await probe();
    expect(result.status).toBe('passed');
    expect((result.observations!.databases as Array<Record<string, unknown>>)[0]).toMatchObject({ lastSizeBytes: 48213, lastSuccessSeconds: Math.floor((NOW - 2 * HOUR) / 1000) });
  });

  it('no scheduled backup: backup_missing', async () => {
    setApp();
    expect(await probe()).toMatchObject({ status: 'failed', reason: 'backup_missing', message: 'app-db scheduled backup: observed "none" expected "a scheduled backup"' });
  });

  it('a disabled schedule: backup_disabled (Coolify skips it without a trace)', async () => {
    setApp(backupSchedule({ enabled: false }, week()));
    const result = await probe();
    expect(result).toMatchObject({ status: 'failed', reason: 'backup_disabled' });
    expect(result.message).toMatch(/^app-db scheduled backup \w+ enabled: observed false expected true$/);
  });

  it('the newest run failed: backup_failed with its message, credentials masked', async () => {
    setApp(backupSchedule({}, [backupExecution({ status: 'failed', size: null, message: 'pg_dump: error: connection to "postgresql://postgres:hunter2-db@gadgetbot-db:5432/gadgetbot" failed\nPGPASSWORD=hunter2-db' }), ...week(29 * HOUR)]));
    const result = await probe();
    expect(result).toMatchObject({ status: 'failed', reason: 'backup_failed' });
    expect(result.message).toContain('app-db backup newest run: observed "failed at');
    expect(result.message).toContain('pg_dump: error: connection to \\"postgresql://postgres:[REDACTED]@gadgetbot-db:5432/gadgetbot\\" failed PGPASSWORD=[REDACTED]');
    expect(JSON.stringify(result)).not.toContain('hunter2');
    expect((result.observations!.databases as Array<Record<string, unknown>>)[0]).toMatchObject({ lastStatus: 'failed', lastSuccessSeconds: Math.floor((NOW - 29 * HOUR) / 1000) });
  });

  it('a run in progress is passed over: the newest finished one is judged', async () => {
    setApp(backupSchedule({}, [backupExecution({ status: 'running', finished_at: null, size: null, finishedAtMs: NOW }), ...week()]));
    expect((await probe()).status).toBe('passed');
  });

  it('the newest success is older than 26 h (the scheduler stopped three days ago): backup_stale', async () => {
    setApp(backupSchedule({}, week(3 * 24 * HOUR)));
    const result = await probe();
    expect(result).toMatchObject({ status: 'failed', reason: 'backup_stale' });
    expect(result.message).toMatch(/^app-db backup newest success age: observed "3\.0 days old \(finished .+\)" expected "within 26 h"$/);
  });

  it('the age limit is configurable', async () => {
    setApp(backupSchedule({}, week(30 * HOUR)));
    expect((await probe()).reason).toBe('backup_stale');
    expect((await probe({ backups: { maxAgeHours: 49 } })).status).toBe('passed');
  });

  it('an empty newest backup is backup_failed; so is a run whose S3 upload failed', async () => {
    setApp(backupSchedule({}, [backupExecution({ size: 0 }), ...week(26 * HOUR)]));
    expect(await probe()).toMatchObject({ reason: 'backup_failed', message: 'app-db backup newest run size: observed "0 bytes" expected "more than 0 bytes"' });
    setApp(backupSchedule({ save_s3: true, database_backup_retention_days_s3: 30 }, [backupExecution({ s3_uploaded: false, message: 'Warning: S3 upload failed: 403 Forbidden' }), ...week(26 * HOUR)]));
    expect(await probe()).toMatchObject({ reason: 'backup_failed', message: 'app-db backup newest run S3 upload: observed "not uploaded: Warning: S3 upload failed: 403 Forbidden" expected "uploaded to S3"' });
  });

  it('retention shorter than 7 days (days, or a count at several runs a day) is backup_retention', async () => {
    setApp(backupSchedule({ database_backup_retention_days_locally: 3 }, week()));
    expect(await probe()).toMatchObject({ reason: 'backup_retention', message: 'app-db backup retention: observed "3 days locally" expected "at least 7 days"' });
    setApp(backupSchedule({ frequency: '0 */6 * * *', database_backup_retention_days_locally: 0, database_backup_retention_amount_locally: 7 }, week()));
    expect(await probe()).toMatchObject({ reason: 'backup_retention', message: 'app-db backup retention: observed "1.8 days locally" expected "at least 7 days"' });
    setApp(backupSchedule({ database_backup_retention_days_locally: 0 }, week()));
    expect((await probe()).status).toBe('passed');
    // app-db keeps everything now; zitadel-db keeps 7 days, short of a configured 14
    expect(await probe({ backups: { retentionDays: 14 } })).toMatchObject({ reason: 'backup_retention', message: 'zitadel-db backup retention: observed "7 days locally" expected "at least 14 days"' });
  });

  it('a schedule less often than daily is backup_schedule', async () => {
    setApp(backupSchedule({ frequency: 'weekly' }, week()));
    expect(await probe()).toMatchObject({ reason: 'backup_schedule', message: 'app-db backup frequency: observed "weekly" expected "at least daily (e.g. 0 2 * * *)"' });
  });

  it('several schedules: one that is fine is enough', async () => {
    setApp(backupSchedule({ enabled: false }, []), backupSchedule({ frequency: 'weekly' }, week()), backupSchedule({}, week()));
    expect((await probe()).status).toBe('passed');
  });

  it('a Coolify before v4.0.0-beta.429 is not_supported with the version seen; so is one whose backup route is missing', async () => {
    fake.version = '4.0.0-beta.420';
    fake.backupApi = false;
    expect(await probe()).toMatchObject({
      status: 'failed',
      reason: 'not_supported',
      message: 'Coolify 4.0.0-beta.420 has no backup API (GET /api/v1/databases/{uuid}/backups, since v4.0.0-beta.429): upgrade Coolify, or leave the check out with --skip backups',
    });
    fake.version = 'v4-custom-build';
    expect(await probe()).toMatchObject({ reason: 'not_supported', message: expect.stringContaining('Coolify v4-custom-build has no backup API') });
  });

  it('a database uuid Coolify does not serve (a compose service database) is resource_missing', async () => {
    const result = await probe({ coolify: { url: fake.url, token: TOKEN, appUuid: APP, appDbUuid: 'svcdb' } });
    expect(result).toMatchObject({ status: 'failed', reason: 'resource_missing' });
    expect(result.message).toBe('app-db: Coolify has no standalone database with uuid "svcdb" for this token (404): check SENTINEL_COOLIFY_APP_DB_UUID (a database inside a Docker Compose service has no backup API)');
  });

  it('a rejected token is coolify_auth', async () => {
    expect(await probe({ coolify: { url: fake.url, token: '1|sekrit-nope', appUuid: APP, appDbUuid: APP_DB } })).toMatchObject({ reason: 'coolify_auth' });
  });

  it('messages are one short line with credential-shaped parts masked', () => {
    expect(safeMessage(undefined)).toBe('(no message)');
    expect(safeMessage(`a\n${'x'.repeat(400)}`)).toHaveLength(200);
    expect(safeMessage('host=db password=s3cret user=postgres')).toBe('host=db password=[REDACTED] user=postgres');
  });
});
