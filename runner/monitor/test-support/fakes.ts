/** Test doubles for the monitor: a parsed config and recording fake probe/browser runners. */
import { configSchema, type Config, type ConfigInput } from '../../../core/config.ts';
import type { BrowserCheckId, CheckResult, ProbeCheckId } from '../../../core/result.ts';
import type { RunBrowserFn, RunBrowserOptions, RunProbeFn } from '../runs.ts';

export const DB_PASSWORD = 'pg-Secret-7f3a9c';
export const USER_PASSWORD = 'user-Secret-51b2e8';

/** A config whose schedules fire only once a year unless a test says otherwise. */
export function testConfig(overrides: Partial<ConfigInput> & { monitor?: Partial<NonNullable<ConfigInput['monitor']>> } = {}): Config {
  const { monitor, ...rest } = overrides;
  return configSchema.parse({
    appUrl: 'https://app.example.test',
    issuer: 'https://auth.example.test',
    users: [{ loginName: 'monitor-bot', password: USER_PASSWORD }],
    databaseUrl: `postgresql://gadgetbot_admin:${DB_PASSWORD}@db.example.test:5432/gadgetbot`,
    reportsDir: '/tmp/sentinel-monitor-test-reports',
    ...rest,
    monitor: { listen: '127.0.0.1:0', probeSchedule: '0 0 1 1 *', browserSchedule: '0 0 1 1 *', ...monitor },
  });
}

export function passed(id: ProbeCheckId | BrowserCheckId, extra: Partial<CheckResult> = {}): CheckResult {
  return { id, kind: id.startsWith('e2e-') ? 'browser' : 'probe', status: 'passed', startedAt: new Date().toISOString(), durationMs: 5, ...extra };
}

export interface Recorder {
  calls: Array<{ id: string; at: number }>;
  running: number;
  maxRunning: number;
  count(id: string): number;
}

function recorder(): Recorder {
  const calls: Recorder['calls'] = [];
  return {
    calls,
    running: 0,
    maxRunning: 0,
    count: (id) => calls.filter((c) => c.id === id).length,
  };
}

/** A fake runProbe: `behaviour(id)` decides each result (default passed). */
export function fakeProbes(behaviour: (id: ProbeCheckId, call: number) => Promise<CheckResult> | CheckResult = (id) => passed(id)) {
  const rec = recorder();
  const perId = new Map<string, number>();
  const run: RunProbeFn = async (id) => {
    const call = (perId.get(id) ?? 0) + 1;
    perId.set(id, call);
    rec.calls.push({ id, at: Date.now() });
    rec.running += 1;
    rec.maxRunning = Math.max(rec.maxRunning, rec.running);
    try {
      return await behaviour(id, call);
    } finally {
      rec.running -= 1;
    }
  };
  return { run, rec };
}

/** A fake runBrowserChecks: one call = one "child process" run of all checks. */
export function fakeBrowser(behaviour: (options: RunBrowserOptions, call: number) => Promise<CheckResult[]> | CheckResult[] = (o) => o.checks.map((id) => passed(id))) {
  const rec = recorder();
  const signals: AbortSignal[] = [];
  let call = 0;
  const run: RunBrowserFn = async (_config, _env, options) => {
    call += 1;
    rec.calls.push({ id: options.checks.join(','), at: Date.now() });
    if (options.signal) signals.push(options.signal);
    rec.running += 1;
    rec.maxRunning = Math.max(rec.maxRunning, rec.running);
    try {
      return await behaviour(options, call);
    } finally {
      rec.running -= 1;
    }
  };
  return { run, rec, signals };
}

/** Resolves after `ms`, or earlier when the signal aborts (a slow check that honours its signal). */
export function slow(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

/** Polls `condition` until true or the deadline; throws with `what` on timeout. */
export async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; contentType: string }> {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(10_000) });
  return { status: res.status, body: await res.text(), contentType: res.headers.get('content-type') ?? '' };
}

export async function metricValue(url: string, line: string, headers: Record<string, string> = {}): Promise<number | undefined> {
  const { body } = await get(`${url}/metrics`, headers);
  const found = body.split('\n').find((l) => l.startsWith(`${line} `));
  return found === undefined ? undefined : Number(found.slice(line.length + 1));
}
