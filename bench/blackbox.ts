/**
 * prometheus-blackbox-exporter for the side-by-side figures: a config with the modules that match
 * the suite's `tls` and `app-health` probes, one process on 127.0.0.1:<free port>, stopped by PID.
 */
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { spawnWatched, stopChild, pollUntil, getText, type Spawned } from './tools.ts';

export interface Blackbox {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** tls: a TLS handshake verified against the stack CA; home/ok: the two GETs of app-health. */
export function blackboxConfig(caCertPath: string): string {
  const tls = `      tls_config:\n        ca_file: ${JSON.stringify(caCertPath)}\n`;
  return `modules:
  tls_connect:
    prober: tcp
    timeout: 10s
    tcp:
      tls: true
${tls}  http_home:
    prober: http
    timeout: 10s
    http:
      method: GET
      valid_status_codes: [200]
      no_follow_redirects: true
      fail_if_body_not_matches_regexp: ['<title>GadgetBot Rental Service</title>']
${tls}  http_auth_ok:
    prober: http
    timeout: 10s
    http:
      method: GET
      valid_status_codes: [200]
      no_follow_redirects: true
      fail_if_body_not_matches_regexp: ['"ok":\\s*true']
${tls}`;
}

/** A port free right now (for tools that cannot be told port 0 and report what they got). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export async function startBlackbox(binary: string, workDir: string, caCertPath: string): Promise<Blackbox> {
  const configFile = join(workDir, 'blackbox.yml');
  writeFileSync(configFile, blackboxConfig(caCertPath));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const spawned: Spawned = spawnWatched(binary, [`--config.file=${configFile}`, `--web.listen-address=127.0.0.1:${port}`], {});
  const up = await pollUntil(async () => {
    if (spawned.child.exitCode !== null) return true;
    try {
      return (await getText(`${url}/metrics`, 1_000)).status === 200;
    } catch {
      return false;
    }
  }, 15_000, 100);
  if (!up || spawned.child.exitCode !== null) {
    await stopChild(spawned.child, 2_000);
    throw new Error(`blackbox_exporter did not come up: ${spawned.tail()}`);
  }
  return { url, pid: spawned.child.pid!, stop: async () => void (await stopChild(spawned.child, 5_000)) };
}
