/**
 * The alerting path the way its users run it: `sentinel monitor` on the reference stack, a real
 * Prometheus scraping it with monitoring/prometheus.yml and evaluating monitoring/sentinel.rules.yml, a
 * real Alertmanager with monitoring/alertmanager.yml, and a webhook receiver served here. The files are
 * the ones the docs give users; only addresses are filled in.
 *
 * It shows: a healthy stack pages nobody; the IdP stopped, the database stopped and a pending migration
 * each page within the worst-case time README.md documents ("Alerting") with the check, the reason and a
 * runbook line, and each resolves once repaired. It records the time to page and to resolve per failure
 * (test-output/alerting-times.json) and evaluates every PromQL expression of the Grafana dashboard.
 * Runs when Debian's `prometheus` and `prometheus-alertmanager` are installed (.ci/run installs them).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startStack, type RunningStack } from '../../fixtures/stack/index.ts';
import { envFromStackInfo } from '../embedded-stack.ts';
import { REPO } from '../test-support/cli.ts';
import { MONITORING_DIR, commandPath, freePort, getJson, startAlertmanager, startPrometheus, startReceiver, waitFor, type ReceivedAlert, type Service } from './test-support/services.ts';

const PROMETHEUS = commandPath('prometheus');
const ALERTMANAGER = commandPath('prometheus-alertmanager');

/** The monitor's schedule here: fast, so that rules counting runs page in seconds instead of minutes. */
const PROBE_INTERVAL_S = 5;
const PROBE_DEADLINE_S = 4;
const BROWSER_INTERVAL_S = 30;
const CHECKS = 'tls,app-health,oidc-discovery,login-v2-redirect,db,e2e-login';

interface PromAlert {
  labels: Record<string, string>;
  state: 'pending' | 'firing';
}

/** Settings of the shipped files that bound the time to page and to resolve. */
interface PagingSettings {
  scrapeS: number;
  evaluationS: number;
  groupWaitS: number;
  groupIntervalS: number;
  /** runs in a row each alert waits for (from its `sentinel_check_consecutive_failures >= N`) */
  runs: Record<string, number>;
}

const seconds = (duration: string) => {
  const match = /^(\d+)(s|m)$/.exec(duration);
  if (!match) throw new Error(`unexpected duration ${duration}`);
  return Number(match[1]) * (match[2] === 'm' ? 60 : 1);
};

async function pagingSettings(): Promise<PagingSettings> {
  const prometheus = parseYaml(await readFile(join(MONITORING_DIR, 'prometheus.yml'), 'utf8')) as { global: { scrape_interval: string; evaluation_interval: string } };
  const alertmanager = parseYaml(await readFile(join(MONITORING_DIR, 'alertmanager.yml'), 'utf8')) as { route: { group_wait: string; group_interval: string } };
  const rules = parseYaml(await readFile(join(MONITORING_DIR, 'sentinel.rules.yml'), 'utf8')) as { groups: Array<{ rules: Array<{ alert: string; expr: string }> }> };
  const runs: Record<string, number> = {};
  for (const rule of rules.groups.flatMap((g) => g.rules)) {
    const n = /sentinel_check_consecutive_failures(?:\{[^}]*\})?\s*>=\s*(\d+)/.exec(rule.expr)?.[1];
    if (n) runs[rule.alert] = Number(n);
  }
  return {
    scrapeS: seconds(prometheus.global.scrape_interval),
    evaluationS: seconds(prometheus.global.evaluation_interval),
    groupWaitS: seconds(alertmanager.route.group_wait),
    groupIntervalS: seconds(alertmanager.route.group_interval),
    runs,
  };
}

/** README.md "Alerting": runs × interval + one run's deadline + scrape + evaluation + group_wait, plus a few seconds of processing. */
const PROCESSING_S = 5;
function worstCaseToPageS(settings: PagingSettings, alert: string, intervalS: number, deadlineS: number): number {
  return settings.runs[alert]! * intervalS + deadlineS + settings.scrapeS + settings.evaluationS + settings.groupWaitS + PROCESSING_S;
}
/** One passing run, then scrape, evaluation and Alertmanager's group_interval for the resolved notification. */
function worstCaseToResolveS(settings: PagingSettings, intervalS: number, deadlineS: number): number {
  return intervalS + deadlineS + settings.scrapeS + settings.evaluationS + settings.groupIntervalS + PROCESSING_S;
}

const skipWhy = !PROMETHEUS ? 'prometheus is not installed (apt-get install prometheus)' : !ALERTMANAGER ? 'prometheus-alertmanager is not installed (apt-get install prometheus-alertmanager)' : '';

describe.skipIf(skipWhy !== '')(`alerting end to end${skipWhy ? ` — SKIPPED: ${skipWhy}` : ''}`, () => {
  let stack: RunningStack;
  let monitor: { child: ChildProcess; url: string; output: () => string; stop(): Promise<void> };
  let prometheus: Service;
  let alertmanager: Service;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let settings: PagingSettings;
  let workDir: string;
  let token: string;
  const times: Array<{ failure: string; alert: string; toPageS: number; worstCaseToPageS: number; toResolveS: number; worstCaseToResolveS: number }> = [];

  const promAlerts = async () => (await getJson<{ data: { alerts: PromAlert[] } }>(`${prometheus.url}/api/v1/alerts`)).data.alerts;
  const query = async (expr: string) => {
    const response = await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(expr)}`, { signal: AbortSignal.timeout(5_000) });
    return (await response.json()) as { status: string; error?: string; data?: { result: unknown[] } };
  };
  const monitorStatus = () => getJson<{ checks: Array<{ id: string; history: unknown[] }>; alerts?: Array<{ name: string }> }>(`${monitor.url}/status?format=json`, { authorization: `Bearer ${token}` });

  beforeAll(async () => {
    settings = await pagingSettings();
    workDir = await mkdtemp(join(tmpdir(), 'sentinel-alerting-'));
    token = randomBytes(16).toString('hex');
    const tokenFile = join(workDir, 'token');
    await writeFile(tokenFile, token);
    stack = await startStack();
    receiver = await startReceiver();
    alertmanager = await startAlertmanager(ALERTMANAGER!, receiver.url);
    const monitorPort = await freePort();
    const prometheusPort = await freePort();
    monitor = await startMonitorCommand(
      {
        ...envFromStackInfo(stack.info),
        SENTINEL_CHECKS: CHECKS,
        SENTINEL_SCHEDULE_PROBES: `*/${PROBE_INTERVAL_S} * * * * *`,
        SENTINEL_SCHEDULE_BROWSER: `*/${BROWSER_INTERVAL_S} * * * * *`,
        SENTINEL_PROBE_TIMEOUT_MS: String(PROBE_DEADLINE_S * 1000),
        SENTINEL_MONITOR_TOKEN: token,
        SENTINEL_PROMETHEUS_URL: `http://127.0.0.1:${prometheusPort}`,
        SENTINEL_REPORTS_DIR: join(workDir, 'reports'),
      },
      `127.0.0.1:${monitorPort}`,
    );
    // Its port was chosen before the monitor started: the monitor's status page asks this Prometheus.
    prometheus = await startPrometheus(PROMETHEUS!, { monitor: `127.0.0.1:${monitorPort}`, tokenFile, alertmanager: alertmanager.url.replace('http://', ''), port: prometheusPort });
  }, 180_000);

  afterAll(async () => {
    await monitor?.stop();
    await prometheus?.stop();
    await alertmanager?.stop();
    await receiver?.close();
    await stack?.stop();
    if (times.length) {
      await mkdir(join(REPO, 'test-output'), { recursive: true });
      await writeFile(join(REPO, 'test-output', 'alerting-times.json'), `${JSON.stringify(times, null, 2)}\n`);
      console.log(`time to page and to resolve (s):\n${times.map((t) => `  ${t.failure}: ${t.alert} paged after ${t.toPageS} s (worst case ${t.worstCaseToPageS} s), resolved after ${t.toResolveS} s (worst case ${t.worstCaseToResolveS} s)`).join('\n')}`);
    }
    if (workDir) await rm(workDir, { recursive: true, force: true });
  }, 60_000);

  test('a healthy stack: three probe cycles and a browser cycle later no alert is pending or firing, nothing reached the receiver', async () => {
    await waitFor('Prometheus scrapes the monitor', async () => {
      const targets = await getJson<{ data: { activeTargets: Array<{ health: string }> } }>(`${prometheus.url}/api/v1/targets`);
      return targets.data.activeTargets[0]?.health === 'up' ? true : undefined;
    }, 60_000);
    await waitFor('three probe cycles and one browser cycle', async () => {
      const status = await monitorStatus();
      const history = (id: string) => status.checks.find((c) => c.id === id)?.history.length ?? 0;
      return history('app-health') >= 3 && history('e2e-login') >= 1 ? true : undefined;
    }, 120_000);
    // Two more evaluations after the data: whatever would fire is at least pending by then.
    const since = Date.now();
    await waitFor('two rule evaluations after the cycles', async () => {
      const rules = await getJson<{ data: { groups: Array<{ lastEvaluation: string }> } }>(`${prometheus.url}/api/v1/rules`);
      return Date.parse(rules.data.groups[0]!.lastEvaluation) > since + settings.evaluationS * 1000 ? true : undefined;
    }, (settings.evaluationS * 3 + 10) * 1000);
    expect(await promAlerts()).toEqual([]);
    expect(receiver.alerts).toEqual([]);
  }, 300_000);

  test('every PromQL expression of the Grafana dashboard evaluates, and the core panels return data', async () => {
    const dashboard = JSON.parse(await readFile(join(MONITORING_DIR, 'grafana-dashboard.json'), 'utf8')) as { panels: Array<{ title: string; targets?: Array<{ expr: string }>; description?: string }> };
    const panels = dashboard.panels.filter((p) => p.targets?.length);
    expect(panels.length).toBeGreaterThanOrEqual(8);
    const core = ['Check status', 'Check duration', 'TLS days left'];
    for (const panel of panels) {
      for (const target of panel.targets!) {
        // Grafana's template variables, as the dashboard's defaults fill them in.
        const expr = target.expr.replaceAll('$job', 'gadgetbot-sentinel').replaceAll('$instance', '.+').replaceAll('$__rate_interval', '1m').replaceAll('$__range', '5m').replaceAll('$check', '.+');
        const answer = await query(expr);
        expect(answer.error, `${panel.title}: ${expr}`).toBeUndefined();
        expect(answer.status, `${panel.title}: ${expr}`).toBe('success');
        if (core.includes(panel.title)) expect(answer.data!.result.length, `${panel.title} returns data`).toBeGreaterThan(0);
      }
    }
    expect(core.every((title) => panels.some((p) => p.title === title))).toBe(true);
  }, 60_000);

  /** Breaks something, waits for `alert` about `check` at the receiver, repairs it, waits for the resolve. */
  async function pagesAndResolves(failure: string, alert: string, check: string, reason: string, interval: { s: number; deadlineS: number }, breakIt: () => Promise<void>, repair: () => Promise<void>) {
    const toPage = worstCaseToPageS(settings, alert, interval.s, interval.deadlineS);
    const toResolve = worstCaseToResolveS(settings, interval.s, interval.deadlineS);
    const matches = (a: ReceivedAlert, status: ReceivedAlert['status']) => a.status === status && a.labels.alertname === alert && a.labels.check === check;
    const brokeAt = Date.now();
    await breakIt();
    let paged: ReceivedAlert;
    try {
      paged = await waitFor(`${alert} for ${check} at the receiver after ${failure}`, () => receiver.alerts.find((a) => a.receivedAt >= brokeAt && matches(a, 'firing')), toPage * 1000, 200);
      expect(paged.labels).toMatchObject({ alertname: alert, check, reason });
      expect(paged.annotations.runbook).toContain(`reason-${reason}`);
      expect(paged.annotations.runbook?.length).toBeGreaterThan(40);
      // The status page names the firing alert (it asks the Prometheus the monitor is configured with).
      const status = await monitorStatus();
      expect(status.alerts?.map((a) => a.name)).toContain(alert);
    } catch (error) {
      await repair(); // the next case needs a healthy stack
      throw error;
    }
    const repairedAt = Date.now();
    await repair();
    await waitFor(`${alert} for ${check} resolved at the receiver`, () => receiver.alerts.find((a) => a.receivedAt >= repairedAt && matches(a, 'resolved')), toResolve * 1000, 200);
    times.push({ failure, alert, toPageS: Math.round((paged.receivedAt - brokeAt) / 100) / 10, worstCaseToPageS: toPage, toResolveS: Math.round((Date.now() - repairedAt) / 100) / 10, worstCaseToResolveS: toResolve });
    // Everything that fired because of this failure is over before the next one starts.
    await waitFor(`no alert pending or firing after ${failure} was repaired`, async () => ((await promAlerts()).length === 0 ? true : undefined), (BROWSER_INTERVAL_S * 2 + toResolve) * 1000);
    // Alertmanager sends a resolve at its group's next flush: within two group intervals of the last
    // evaluation that resolved it (the flush in progress may just have left).
    let stillFiring: string[] = [];
    try {
      await waitFor('every notification of this failure resolved', () => {
        const open = new Map<string, string>();
        for (const a of receiver.alerts.filter((x) => x.receivedAt >= brokeAt)) open.set(JSON.stringify(a.labels), a.status);
        stillFiring = [...open].filter(([, s]) => s !== 'resolved').map(([labels]) => labels);
        return stillFiring.length === 0 ? true : undefined;
      }, (settings.groupIntervalS * 2 + settings.evaluationS + 30) * 1000);
    } catch (error) {
      throw new Error(`${(error as Error).message}; firing at the receiver without a resolve: ${stillFiring.join(' ')}`);
    }
  }

  const probe = { s: PROBE_INTERVAL_S, deadlineS: PROBE_DEADLINE_S };

  test('the IdP stopped pages SentinelProbeFailed for oidc-discovery with its reason and runbook, and resolves when it is back', async () => {
    await pagesAndResolves('IdP stopped', 'SentinelProbeFailed', 'oidc-discovery', 'http_status', probe, () => stack.idp.stop(), () => stack.idp.start());
  }, 600_000);

  test('the database stopped pages SentinelPostgresDown with its reason and runbook, and resolves when it is back', async () => {
    await pagesAndResolves('database stopped', 'SentinelPostgresDown', 'db', 'db_unreachable', probe, () => stack.db.stop(), () => stack.db.start());
  }, 600_000);

  test('a pending migration pages SentinelMigrationsPending, and resolves once it is applied', async () => {
    let removed: { hash: string; created_at: string } | undefined;
    const withDb = async <T>(work: (client: pg.Client) => Promise<T>) => {
      const client = new pg.Client({ connectionString: stack.info.databaseUrl, connectionTimeoutMillis: 5_000, query_timeout: 5_000 });
      await client.connect();
      try {
        return await work(client);
      } finally {
        await client.end();
      }
    };
    // As after restoring a backup taken before the last migration: its record is gone, the journal still lists it.
    await pagesAndResolves(
      'pending migration',
      'SentinelMigrationsPending',
      'db',
      'migration_pending',
      probe,
      async () => {
        removed = await withDb(async (client) => (await client.query<{ hash: string; created_at: string }>('delete from drizzle.__drizzle_migrations where id = (select max(id) from drizzle.__drizzle_migrations) returning hash, created_at')).rows[0]);
        expect(removed).toBeDefined();
      },
      () => withDb(async (client) => void (await client.query('insert into drizzle.__drizzle_migrations (hash, created_at) values ($1, $2)', [removed!.hash, removed!.created_at]))),
    );
  }, 600_000);
});

/** `sentinel monitor --listen <address>` as users start it; its URL once it says it listens. */
async function startMonitorCommand(sentinelEnv: Record<string, string>, listen: string) {
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', ...sentinelEnv };
  const child = spawn(process.execPath, ['bin/sentinel.mjs', 'monitor', '--listen', listen], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-8000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the monitor did not listen within 60 s: ${output}`)), 60_000);
    createInterface({ input: child.stderr! }).on('line', (line) => {
      output = (output + `${line}\n`).slice(-8000);
      const match = /^monitor: listening on (http:\/\/[^;]+);/.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.once('exit', () => reject(new Error(`the monitor exited: ${output}`)));
  });
  return {
    child,
    url,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}
