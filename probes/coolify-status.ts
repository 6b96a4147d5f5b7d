/**
 * How Coolify's own words read: resource status strings, backup frequencies and retention settings.
 * Pure functions, so the two Coolify probes (coolify-resources.ts, backups.ts) judge the same way and
 * the rules are testable without a server. The formats are Coolify API v4's, across the versions it
 * has had since v4.0.0-beta.400.
 */
import type { CoolifyBackupRetention, CoolifyScheduledBackup } from '../core/coolify.ts';
import type { ResourceState } from '../core/observations.ts';
import type { Reason } from '../core/result.ts';

/**
 * `running (healthy)` (builds before v4.0.0-beta.445 stored a stack's parts that way) → `running:healthy`;
 * a trailing `:excluded` (every container of a stack left out of its status) is dropped.
 */
export function normalizeStatus(status: string): string {
  const text = status.trim().toLowerCase();
  const old = /^([a-z]+)\s*\(([a-z]+)\)$/.exec(text);
  const colon = old ? `${old[1]}:${old[2]}` : text;
  return colon.replace(/:excluded$/, '');
}

/**
 * The state a status string stands for. `running:unknown` is a container without a health check;
 * `running:starting` (a database in its health check's start period), `starting:*` and `created` are
 * not serving yet; `degraded:*` is a stack with a container down. Exited, restarting (a crash loop),
 * paused and dead containers serve nothing. Anything else is not healthy either.
 */
export function resourceState(status: string): ResourceState {
  const [state = '', health = ''] = normalizeStatus(status).split(':');
  if (state === 'running') {
    if (health === 'healthy') return 'healthy';
    if (health === 'unknown') return 'health_unknown';
    if (health === 'starting') return 'starting';
    return 'unhealthy';
  }
  if (state === 'starting' || state === 'created') return 'starting';
  if (['exited', 'restarting', 'paused', 'dead', 'removing', 'stopped'].includes(state)) return 'down';
  return 'unhealthy';
}

/** The failure reason of a state; undefined for the states that pass. */
export function reasonOfState(state: ResourceState): Extract<Reason, 'resource_down' | 'resource_unhealthy'> | undefined {
  if (state === 'down') return 'resource_down';
  if (state === 'healthy' || state === 'health_unknown') return undefined;
  return 'resource_unhealthy';
}

/** Coolify's aliases (`VALID_CRON_STRINGS`) and the cron library's `@` names, as five-field cron. */
const FREQUENCY_ALIASES: Readonly<Record<string, string>> = {
  every_minute: '* * * * *',
  hourly: '0 * * * *',
  daily: '0 0 * * *',
  weekly: '0 0 * * 0',
  monthly: '0 0 1 * *',
  yearly: '0 0 1 1 *',
  '@hourly': '0 * * * *',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@weekly': '0 0 * * 0',
  '@monthly': '0 0 1 * *',
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
};

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/** The values a cron field matches, or undefined when it uses syntax this reader does not know (L, W, #). */
function expandField(field: string, min: number, max: number, names: readonly string[] = [], nameBase = 0): Set<number> | undefined {
  const values = new Set<number>();
  const value = (text: string): number | undefined => {
    const named = names.indexOf(text.toLowerCase());
    if (named >= 0) return named + nameBase;
    return /^\d+$/.test(text) ? Number(text) : undefined;
  };
  for (const part of field.split(',')) {
    const match = /^(\*|\?|[a-z0-9]+(?:-[a-z0-9]+)?)(?:\/(\d+))?$/i.exec(part);
    if (!match) return undefined;
    const [, range, stepText] = match;
    const step = stepText ? Number(stepText) : 1;
    if (step < 1) return undefined;
    let from = min;
    let to = max;
    if (range !== '*' && range !== '?') {
      const [a, b] = range!.split('-');
      const start = value(a!);
      const end = b === undefined ? (stepText ? max : start) : value(b);
      if (start === undefined || end === undefined) return undefined;
      from = start;
      to = end;
    }
    if (from < min || to > max || from > to) return undefined;
    for (let v = from; v <= to; v += step) values.add(v);
  }
  return values;
}

export interface FrequencyReading {
  /** the five-field cron the frequency stands for */
  cron: string;
  /** runs on every day of every month */
  everyDay: boolean;
  /** runs per day on a day it runs */
  runsPerDay: number;
}

/**
 * Reads a backup frequency (a cron expression or one of Coolify's aliases). Undefined when it is not
 * a five-field cron this reader understands.
 */
export function readFrequency(frequency: string): FrequencyReading | undefined {
  const text = frequency.trim();
  const cron = FREQUENCY_ALIASES[text.toLowerCase()] ?? text;
  const fields = cron.split(/\s+/);
  if (fields.length !== 5) return undefined;
  const [minute, hour, dom, month, dow] = fields as [string, string, string, string, string];
  const minutes = expandField(minute, 0, 59);
  const hours = expandField(hour, 0, 23);
  const days = expandField(dom, 1, 31);
  const months = expandField(month, 1, 12, MONTHS, 1);
  const weekdays = expandField(dow, 0, 7, WEEKDAYS);
  if (!minutes || !hours || !days || !months || !weekdays) return undefined;
  if (weekdays.delete(7)) weekdays.add(0);
  const anyDom = dom === '*' || dom === '?';
  const anyDow = dow === '*' || dow === '?';
  const allDom = days.size === 31;
  const allDow = weekdays.size === 7;
  // Cron runs on a day when the day of month OR the weekday matches if both are restricted; when one
  // is `*`, the other alone decides.
  const everyDayOfMonth = anyDom && anyDow ? true : anyDom ? allDow : anyDow ? allDom : allDom || allDow;
  return { cron, everyDay: everyDayOfMonth && months.size === 12, runsPerDay: minutes.size * hours.size };
}

const GIB = 1024 ** 3;

/**
 * How many days of backups a retention keeps: the smallest of its limits (days; number of backups at
 * `runsPerDay`; storage at the newest backup's size). Infinity when nothing limits it (every setting 0).
 */
export function retentionDaysOf(retention: CoolifyBackupRetention, runsPerDay: number, backupSizeBytes: number | undefined): number {
  const limits: number[] = [];
  if (retention.days > 0) limits.push(retention.days);
  if (retention.amount > 0) limits.push(retention.amount / Math.max(1, runsPerDay));
  if (retention.maxStorageGb > 0 && backupSizeBytes && backupSizeBytes > 0) {
    limits.push(Math.floor((retention.maxStorageGb * GIB) / backupSizeBytes) / Math.max(1, runsPerDay));
  }
  return limits.length ? Math.min(...limits) : Number.POSITIVE_INFINITY;
}

/**
 * Days of backups a schedule keeps anywhere: locally unless local backups are switched off, on S3
 * when it uploads there; the longer of the two. 0 when it keeps them nowhere.
 */
export function keptDays(schedule: CoolifyScheduledBackup, runsPerDay: number, backupSizeBytes: number | undefined): number {
  const kept: number[] = [];
  if (!schedule.disableLocalBackup) kept.push(retentionDaysOf(schedule.local, runsPerDay, backupSizeBytes));
  if (schedule.saveS3) kept.push(retentionDaysOf(schedule.s3, runsPerDay, backupSizeBytes));
  return kept.length ? Math.max(...kept) : 0;
}
