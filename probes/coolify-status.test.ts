import { describe, expect, it } from 'vitest';
import type { CoolifyScheduledBackup } from '../core/coolify.ts';
import { keptDays, normalizeStatus, readFrequency, reasonOfState, resourceState, retentionDaysOf } from './coolify-status.ts';

describe('resource status strings', () => {
  it.each([
    ['running:healthy', 'healthy', undefined],
    ['running:unknown', 'health_unknown', undefined],
    ['running:starting', 'starting', 'resource_unhealthy'],
    ['starting:unknown', 'starting', 'resource_unhealthy'],
    ['starting:unhealthy', 'starting', 'resource_unhealthy'],
    ['running:unhealthy', 'unhealthy', 'resource_unhealthy'],
    ['degraded:unhealthy', 'unhealthy', 'resource_unhealthy'],
    ['exited', 'down', 'resource_down'],
    ['exited:unhealthy', 'down', 'resource_down'],
    ['restarting:unknown', 'down', 'resource_down'],
    ['paused:unknown', 'down', 'resource_down'],
    ['running (healthy)', 'healthy', undefined],
    ['running (unhealthy)', 'unhealthy', 'resource_unhealthy'],
    ['running:healthy:excluded', 'healthy', undefined],
    ['unknown:unknown:excluded', 'unhealthy', 'resource_unhealthy'],
    ['', 'unhealthy', 'resource_unhealthy'],
  ] as const)('%s reads %s', (status, state, reason) => {
    expect(resourceState(status)).toBe(state);
    expect(reasonOfState(resourceState(status))).toBe(reason);
  });

  it('normalizes the parenthesised form older builds stored for a stack part', () => {
    expect(normalizeStatus('Running (Healthy)')).toBe('running:healthy');
    expect(normalizeStatus('exited')).toBe('exited');
  });
});

describe('backup frequencies', () => {
  it.each([
    ['0 2 * * *', true, 1],
    ['daily', true, 1],
    ['@daily', true, 1],
    ['@midnight', true, 1],
    ['hourly', true, 24],
    ['every_minute', true, 1440],
    ['0 2,14 * * *', true, 2],
    ['30 */6 * * *', true, 4],
    ['0 2 * * 0-6', true, 1],
    ['0 2 * * 1-7', true, 1],
    ['0 2 * * sun-sat', true, 1],
    ['0 2 1-31 * *', true, 1],
    ['0 2 * * 1-5', false, 1],
    ['weekly', false, 1],
    ['@monthly', false, 1],
    ['0 0 1 * *', false, 1],
    ['0 2 * 1-6 *', false, 1],
  ] as const)('%s: every day %s, %i run(s) a day', (frequency, everyDay, runsPerDay) => {
    expect(readFrequency(frequency)).toMatchObject({ everyDay, runsPerDay });
  });

  it.each(['0 2 L * *', '0 2 * * 5#3', 'not a cron', '0 2 * *', '61 2 * * *'])('cannot read %s', (frequency) => {
    expect(readFrequency(frequency)).toBeUndefined();
  });
});

describe('retention', () => {
  const none = { amount: 0, days: 0, maxStorageGb: 0 };
  it('0/0/0 keeps everything; the smallest limit wins', () => {
    expect(retentionDaysOf(none, 1, 50_000)).toBe(Number.POSITIVE_INFINITY);
    expect(retentionDaysOf({ ...none, days: 7 }, 1, undefined)).toBe(7);
    expect(retentionDaysOf({ ...none, days: 30, amount: 7 }, 1, undefined)).toBe(7);
    // 7 backups kept, two a day: three and a half days
    expect(retentionDaysOf({ ...none, amount: 7 }, 2, undefined)).toBe(3.5);
    // 1 GB for 200 MB dumps: five backups
    expect(retentionDaysOf({ ...none, maxStorageGb: 1 }, 1, 200 * 1024 ** 2)).toBe(5);
    // storage cannot be judged without a size
    expect(retentionDaysOf({ ...none, maxStorageGb: 1 }, 1, undefined)).toBe(Number.POSITIVE_INFINITY);
  });

  it('counts where backups are kept: locally unless switched off, S3 when uploaded; nowhere is 0', () => {
    const schedule = (over: Partial<CoolifyScheduledBackup>): CoolifyScheduledBackup => ({
      uuid: 'b',
      enabled: true,
      frequency: '0 2 * * *',
      saveS3: false,
      disableLocalBackup: false,
      local: { ...none, days: 3 },
      s3: { ...none, days: 14 },
      executions: [],
      ...over,
    });
    expect(keptDays(schedule({}), 1, undefined)).toBe(3);
    expect(keptDays(schedule({ saveS3: true }), 1, undefined)).toBe(14);
    expect(keptDays(schedule({ saveS3: true, disableLocalBackup: true, s3: { ...none, days: 2 } }), 1, undefined)).toBe(2);
    expect(keptDays(schedule({ disableLocalBackup: true }), 1, undefined)).toBe(0);
  });
});
