/**
 * Real services for the alerting tests: Debian's Prometheus and Alertmanager started on loopback from
 * the repository's own configuration files (monitoring/), a webhook receiver, and small helpers to wait
 * for a condition with a deadline and to stop what was started, by PID.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';

export const MONITORING_DIR = fileURLToPath(new URL('../../../monitoring/', import.meta.url));

export function commandPath(name: string): string | undefined {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : undefined;
}

export async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Polls `condition` every `everyMs` until it returns a value; throws naming `what` at the deadline. */
export async function waitFor<T>(what: string, condition: () => Promise<T | undefined> | T | undefined, deadlineMs: number, everyMs = 250): Promise<T> {
  const until = Date.now() + deadlineMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > until) throw new Error(`${what}: not within ${Math.round(deadlineMs / 1000)} s${lastError ? ` (last error: ${(lastError as Error).message})` : ''}`);
    await delay(everyMs);
  }
}

export async function getJson<T>(url: string, headers: Record<string, string> = {}): Promise<T> {
  const response = await fetch(url, { headers, signal: AbortSignal.timeout(5_000) });
  if (!response.ok) throw new Error(`GET ${url}: ${response.status}`);
  return (await response.json()) as T;
}

export interface Service {
  url: string;
  child: ChildProcess;
  /** the last lines it printed, for a failure message */
  log(): string;
  stop(): Promise<void>;
}

/** Starts a binary, waits until `readyPath` answers 200, and stops it by PID (SIGTERM, SIGKILL after 5 s). */
async function startService(binary: string, args: string[], port: number, readyPath: string, dir: string): Promise<Service> {
  const child = spawn(binary, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const keep = (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(`${binary} ready at ${url}${readyPath}`, async () => {
      if (child.exitCode !== null) throw new Error(`${binary} exited: ${log}`);
      const response = await fetch(`${url}${readyPath}`, { signal: AbortSignal.timeout(2_000) });
      return response.ok ? true : undefined;
    }, 30_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, child, log: () => log, stop };
}

/**
 * Prometheus on monitoring/prometheus.yml as the docs give it, with only the addresses filled in: the
 * monitor to scrape (and the file holding its token), the Alertmanager, and the rule file's path.
 */
export async function startPrometheus(binary: string, options: { monitor: string; tokenFile: string; alertmanager: string; port?: number }): Promise<Service> {
  const dir = await mkdtemp(join(tmpdir(), 'sentinel-prometheus-'));
  const config = parseYaml(await readFile(join(MONITORING_DIR, 'prometheus.yml'), 'utf8')) as PrometheusConfig;
  config.rule_files = config.rule_files.map((file) => join(MONITORING_DIR, file));
  config.alerting.alertmanagers[0]!.static_configs[0]!.targets = [options.alertmanager];
  const job = config.scrape_configs[0]!;
  job.static_configs[0]!.targets = [options.monitor];
  job.authorization.credentials_file = options.tokenFile;
  await writeFile(join(dir, 'prometheus.yml'), stringifyYaml(config));
  const port = options.port ?? (await freePort());
  return startService(binary, [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], port, '/-/ready', dir);
}

interface PrometheusConfig {
  rule_files: string[];
  alerting: { alertmanagers: Array<{ static_configs: Array<{ targets: string[] }> }> };
  scrape_configs: Array<{ static_configs: Array<{ targets: string[] }>; authorization: { credentials_file: string } }>;
}

/** Alertmanager on monitoring/alertmanager.yml with the webhook URL filled in; no cluster listener. */
export async function startAlertmanager(binary: string, webhookUrl: string): Promise<Service> {
  const dir = await mkdtemp(join(tmpdir(), 'sentinel-alertmanager-'));
  const config = parseYaml(await readFile(join(MONITORING_DIR, 'alertmanager.yml'), 'utf8')) as { receivers: Array<{ webhook_configs: Array<{ url: string }> }> };
  config.receivers[0]!.webhook_configs[0]!.url = webhookUrl;
  await writeFile(join(dir, 'alertmanager.yml'), stringifyYaml(config));
  const port = await freePort();
  return startService(binary, [`--config.file=${join(dir, 'alertmanager.yml')}`, `--storage.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address='], port, '/-/ready', dir);
}

export interface ReceivedAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** when the receiver got it (ms) */
  receivedAt: number;
}

/** An Alertmanager webhook receiver on loopback that keeps every alert of every notification. */
export async function startReceiver(): Promise<{ url: string; alerts: ReceivedAlert[]; close(): Promise<void> }> {
  const alerts: ReceivedAlert[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const receivedAt = Date.now();
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { alerts: Array<Omit<ReceivedAlert, 'receivedAt'>> };
        for (const alert of body.alerts) alerts.push({ status: alert.status, labels: alert.labels, annotations: alert.annotations, receivedAt });
      } catch {
        // not a notification: ignored, the test only looks at notifications
      }
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts`,
    alerts,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
