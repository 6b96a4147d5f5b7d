/**
 * `backups` probe: the deployment plan's daily backups of both databases, as Coolify records them
 * (`GET /databases/{uuid}/backups`, a read-only token). For each database: an enabled scheduled backup
 * exists, runs at least daily and keeps at least `backups.retentionDays` days; its newest finished run
 * succeeded, is not empty, reached S3 when it uploads there, and is younger than `backups.maxAgeHours`.
 *
 * Coolify skips a disabled (or unrunnable) schedule without writing anything, so the age of the newest
 * success is what finds a backup that quietly stopped. The endpoint exists since v4.0.0-beta.429; an
 * older Coolify is `not_supported`, with the version it reports.
 */
import {
  BACKUP_API_SINCE,
  CoolifyError,
  compareCoolifyVersions,
  coolifyClientFromConfig,
  parseCoolifyTime,
  parseCoolifyVersion,
  type CoolifyBackupExecution,
  type CoolifyClient,
  type CoolifyScheduledBackup,
} from '../core/coolify.ts';
import type { BackupObservation } from '../core/observations.ts';
import { createRedactor } from '../core/redact.ts';
import type { Reason } from '../core/result.ts';
import { Assertions } from './assertions.ts';
import { keptDays, readFrequency } from './coolify-status.ts';
import { ProbeFailure } from './errors.ts';
import { fromAssertions, probeResult } from './probe-result.ts';
import { watchedDatabases, type WatchedResource } from '../core/targets.ts';
import type { ProbeFn } from './types.ts';

const MESSAGE_LIMIT = 200;
const HOUR_MS = 3_600_000;

/** A finding about one database's backups: the assertion the check records. */
interface Finding {
  name: string;
  ok: boolean;
  observed: unknown;
  expected: unknown;
  reason: Reason;
}

export const backupsProbe: ProbeFn = async (config, ctx) => {
  const databases = watchedDatabases(config);
  if (databases.length === 0) {
    return probeResult('backups', { status: 'skipped', reason: 'not_configured', message: 'no database uuid (SENTINEL_COOLIFY_APP_DB_UUID, SENTINEL_COOLIFY_ZITADEL_DB_UUID)' });
  }
  const client = coolifyClientFromConfig(config);
  try {
    const version = await client.getVersion(ctx.signal);
    const parsed = parseCoolifyVersion(version);
    if (parsed && compareCoolifyVersions(parsed, parseCoolifyVersion(BACKUP_API_SINCE)!) < 0) throw notSupported(version);
    const now = ctx.now().getTime();
    const assertions = new Assertions();
    const observed: BackupObservation[] = [];
    const schedules = await Promise.all(databases.map((db) => readSchedules(client, db, version, ctx.signal)));
    databases.forEach((db, i) => {
      const { findings, observation } = judgeDatabase(db, schedules[i]!, { now, maxAgeHours: config.backups.maxAgeHours, retentionDays: config.backups.retentionDays });
      for (const f of findings) assertions.check(f.name, f.ok, f.observed, f.expected, f.reason);
      observed.push(observation);
    });
    return fromAssertions('backups', assertions, { coolifyVersion: version, databases: observed });
  } finally {
    await client.close();
  }
};

function notSupported(version: string): ProbeFailure {
  return new ProbeFailure('not_supported', `Coolify ${version} has no backup API (GET /api/v1/databases/{uuid}/backups, since v${BACKUP_API_SINCE}): upgrade Coolify, or leave the check out with --skip backups`);
}

async function readSchedules(client: CoolifyClient, db: WatchedResource, version: string, signal: AbortSignal): Promise<CoolifyScheduledBackup[]> {
  try {
    return await client.listDatabaseBackups(db.uuid, signal);
  } catch (error) {
    if (error instanceof CoolifyError && error.code === 'coolify_endpoint_missing') throw notSupported(version);
    if (error instanceof CoolifyError && error.code === 'coolify_not_found') {
      throw new ProbeFailure(
        'resource_missing',
        `${db.role}: Coolify has no standalone database with uuid "${db.uuid}" for this token (404): check ${db.variable} (a database inside a Docker Compose service has no backup API)`,
      );
    }
    throw error;
  }
}

export interface JudgeOptions {
  now: number;
  maxAgeHours: number;
  retentionDays: number;
}

/**
 * The findings about one database, in the order they are reported: a schedule, enabled, at least daily,
 * kept long enough; then its newest finished run. Exported for the unit tests.
 */
export function judgeDatabase(db: Pick<WatchedResource, 'role' | 'uuid'>, schedules: readonly CoolifyScheduledBackup[], options: JudgeOptions): { findings: Finding[]; observation: BackupObservation } {
  const role = db.role as BackupObservation['role'];
  const observation: BackupObservation = { role, uuid: db.uuid };
  const enabled = schedules.filter((s) => s.enabled);
  if (schedules.length === 0) {
    return { observation, findings: [{ name: `${role} scheduled backup`, ok: false, observed: 'none', expected: 'a scheduled backup', reason: 'backup_missing' }] };
  }
  if (enabled.length === 0) {
    const first = schedules[0]!;
    Object.assign(observation, { scheduleUuid: first.uuid, enabled: false, frequency: first.frequency }, lastRuns(first.executions));
    return { observation, findings: [{ name: `${role} scheduled backup ${first.uuid} enabled`, ok: false, observed: false, expected: true, reason: 'backup_disabled' }] };
  }
  // With several enabled schedules, the database is fine when one of them is; else the one closest to fine speaks.
  const judged = enabled.map((schedule) => judgeSchedule(role, schedule, options));
  const best = judged.find((j) => j.findings.every((f) => f.ok)) ?? [...judged].sort((a, b) => a.findings.filter((f) => !f.ok).length - b.findings.filter((f) => !f.ok).length)[0]!;
  return { findings: best.findings, observation: { ...observation, ...best.observation } };
}

function lastRuns(executions: readonly CoolifyBackupExecution[]): Pick<BackupObservation, 'lastStatus' | 'lastSuccessSeconds' | 'lastSizeBytes'> {
  const finished = newestFirst(executions).filter((e) => e.status === 'success' || e.status === 'failed');
  const success = finished.find((e) => e.status === 'success');
  const at = success ? endedAt(success) : undefined;
  return {
    ...(finished[0] ? { lastStatus: finished[0].status as 'success' | 'failed' } : {}),
    ...(at !== undefined ? { lastSuccessSeconds: Math.floor(at / 1000) } : {}),
    ...(success?.size !== undefined ? { lastSizeBytes: success.size } : {}),
  };
}

function judgeSchedule(role: string, schedule: CoolifyScheduledBackup, options: JudgeOptions): { findings: Finding[]; observation: Partial<BackupObservation> } {
  const findings: Finding[] = [];
  const name = (what: string) => `${role} backup ${what}`;
  const runs = lastRuns(schedule.executions);
  const frequency = readFrequency(schedule.frequency);
  const kept = keptDays(schedule, frequency?.runsPerDay ?? 1, runs.lastSizeBytes);
  const observation: Partial<BackupObservation> = {
    scheduleUuid: schedule.uuid,
    enabled: true,
    frequency: schedule.frequency,
    retentionDays: Number.isFinite(kept) ? Math.round(kept * 10) / 10 : null,
    ...runs,
  };

  findings.push({ name: name('frequency'), ok: frequency?.everyDay === true, observed: schedule.frequency, expected: 'at least daily (e.g. 0 2 * * *)', reason: 'backup_schedule' });
  const where = schedule.disableLocalBackup ? (schedule.saveS3 ? 'on S3' : 'nowhere (local backups off, no S3)') : schedule.saveS3 ? 'locally or on S3' : 'locally';
  findings.push({
    name: name('retention'),
    ok: kept >= options.retentionDays,
    observed: Number.isFinite(kept) ? `${observation.retentionDays} days ${where}` : `no limit ${where}`,
    expected: `at least ${options.retentionDays} days`,
    reason: 'backup_retention',
  });

  const finished = newestFirst(schedule.executions).filter((e) => e.status === 'success' || e.status === 'failed');
  const newest = finished[0];
  if (!newest) {
    const since = schedule.createdAt ? ` since the schedule was created (${schedule.createdAt})` : '';
    findings.push({ name: name('newest run'), ok: false, observed: `no finished backup${since}`, expected: `a successful backup within ${options.maxAgeHours} h`, reason: 'backup_stale' });
    return { findings, observation };
  }
  const endedMs = endedAt(newest);
  const when = endedMs !== undefined ? new Date(endedMs).toISOString() : 'an unknown time';
  if (newest.status === 'failed') {
    findings.push({ name: name('newest run'), ok: false, observed: `failed at ${when}: ${safeMessage(newest.message)}`, expected: 'success', reason: 'backup_failed' });
    observation.lastMessage = safeMessage(newest.message);
    return { findings, observation };
  }
  const empty = newest.size === undefined || newest.size <= 0;
  findings.push({ name: name('newest run size'), ok: !empty, observed: newest.size === undefined ? 'no size recorded' : `${newest.size} bytes`, expected: 'more than 0 bytes', reason: 'backup_failed' });
  if (schedule.saveS3 && newest.s3Uploaded === false) {
    findings.push({ name: name('newest run S3 upload'), ok: false, observed: `not uploaded: ${safeMessage(newest.message)}`, expected: 'uploaded to S3', reason: 'backup_failed' });
  }
  const ageHours = endedMs === undefined ? Number.POSITIVE_INFINITY : (options.now - endedMs) / HOUR_MS;
  findings.push({
    name: name('newest success age'),
    ok: ageHours <= options.maxAgeHours,
    observed: endedMs === undefined ? 'no end time recorded' : `${formatAge(ageHours)} (finished ${when})`,
    expected: `within ${options.maxAgeHours} h`,
    reason: 'backup_stale',
  });
  return { findings, observation };
}

/** Executions newest first by their creation time (Coolify's own order; kept when times are missing). */
function newestFirst(executions: readonly CoolifyBackupExecution[]): CoolifyBackupExecution[] {
  return executions
    .map((execution, index) => ({ execution, index, at: parseCoolifyTime(execution.createdAt) }))
    .sort((a, b) => (a.at !== undefined && b.at !== undefined && a.at !== b.at ? b.at - a.at : a.index - b.index))
    .map((x) => x.execution);
}

function endedAt(execution: CoolifyBackupExecution): number | undefined {
  return parseCoolifyTime(execution.finishedAt) ?? parseCoolifyTime(execution.createdAt);
}

function formatAge(hours: number): string {
  return hours >= 48 ? `${(hours / 24).toFixed(1)} days old` : `${hours.toFixed(1)} h old`;
}

/**
 * An execution's message as a report may show it: one line, short, credential-shaped parts masked (it
 * is dump output or an error text that may name a connection string with the database's password).
 */
const scrubMessage = createRedactor([]);
export function safeMessage(message: string | undefined): string {
  const line = scrubMessage(message ?? '').replace(/\s+/g, ' ').trim();
  if (!line) return '(no message)';
  return line.length > MESSAGE_LIMIT ? `${line.slice(0, MESSAGE_LIMIT - 3)}...` : line;
}
