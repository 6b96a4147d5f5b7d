// The command redeploy driver against a real /bin/sh and a real HTTP listener on 127.0.0.1: what it
// takes as evidence of a new instance, what it reports, and that it never leaves a process behind.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCertificateAuthority, issueLeafCertificate } from '../fixtures/stack/certs.ts';
import { configSchema } from './config.ts';
import { SentinelError } from './errors.ts';
import { fingerprint } from './instance-signal.ts';
import type { RedeployOutcome } from './redeploy-driver.ts';
import { commandDriver, createRedeployDriver, groupAlive, judgeRedeploy, judgeRedeployError, type CommandDriverOptions } from './redeploy.ts';

let dir: string;
let servers: Server[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sentinel-redeploy-'));
  servers = [];
});
afterEach(async () => {
  await Promise.all(servers.map((server) => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  })));
  rmSync(dir, { recursive: true, force: true });
});

/** Answers with the current content of `file` as the body and as the `x-instance` header; `nonce` adds a per-request counter to the body. */
async function instanceServer(file: string, options: { nonce?: boolean } = {}): Promise<string> {
  let requests = 0;
  const handler = (_req: IncomingMessage, res: ServerResponse) => {
    const instance = readFileSync(file, 'utf8').trim();
    requests += 1;
    res.writeHead(200, { 'content-type': 'text/plain', 'x-instance': instance });
    res.end(`instance ${instance}\n${options.nonce ? `request ${requests}\n` : ''}`);
  };
  const server = createHttpServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/instance`;
}

function driver(command: string, overrides: Partial<CommandDriverOptions> = {}) {
  return commandDriver({ command, deadlineMs: 20_000, killGraceMs: 1_000, ...overrides });
}

function signalFor(url: string, more: Partial<NonNullable<CommandDriverOptions['instance']>> = {}): CommandDriverOptions['instance'] {
  return { url, requestTimeoutMs: 2_000, settleMs: 1_000, pollIntervalMs: 50, ...more };
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(Error);
  return error as Error;
}

/** Alive, not a zombie: /proc/<pid>/stat exists and its state is not Z. */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] !== 'Z';
  } catch {
    return false;
  }
}

describe('command driver: the evidence of a new instance', () => {
  it('a no-op command (`true`) with an instance signal that does not change: instance_unchanged', async () => {
    const file = join(dir, 'instance');
    writeFileSync(file, 'one');
    const url = await instanceServer(file);
    const outcome = await driver('true', { instance: signalFor(url) }).redeploy(AbortSignal.timeout(30_000));
    const same = fingerprint('instance one\n');
    expect(outcome).toEqual({
      ok: true,
      status: 'exit 0',
      evidence: {
        kind: 'none',
        checked: true,
        signalSource: 'body',
        signalBefore: same,
        signalAfter: same,
        detail: `the redeploy command exited 0, but the body of ${url} stayed the same for 1000 ms after it`,
      },
    });
    expect(judgeRedeploy('command', outcome)).toEqual({ status: 'failed', reason: 'instance_unchanged', message: `no new app instance: ${outcome.evidence.detail}` });
  });

  it('a command that replaces the instance changes the body: the evidence, with fingerprints only', async () => {
    const file = join(dir, 'instance');
    writeFileSync(file, 'one');
    const url = await instanceServer(file);
    const outcome = await driver(`printf two > '${file}'`, { instance: signalFor(url) }).redeploy(AbortSignal.timeout(30_000));
    expect(outcome.evidence).toEqual({
      kind: 'instance-signal',
      checked: true,
      signalSource: 'body',
      signalBefore: fingerprint('instance one\n'),
      signalAfter: fingerprint('instance two\n'),
      detail: `the body of ${url} changed`,
    });
    expect(JSON.stringify(outcome)).not.toContain('instance two');
    expect(judgeRedeploy('command', outcome)).toEqual({ status: 'passed' });
  });

  it('with a header configured only that header counts, and it may change a while after the command (the app restarting)', async () => {
    const file = join(dir, 'instance');
    writeFileSync(file, 'one');
    // The body changes on every request; only the header names the instance.
    const url = await instanceServer(file, { nonce: true });
    // The new instance shows up after the command is done: started in a session of its own, as a server would be.
    const outcome = await driver(`setsid sh -c "(sleep 0.3; printf two > '${file}') >/dev/null 2>&1 </dev/null &"`, {
      instance: signalFor(url, { header: 'X-Instance', settleMs: 5_000 }),
    }).redeploy(AbortSignal.timeout(30_000));
    expect(outcome.evidence).toMatchObject({ kind: 'instance-signal', signalSource: 'header', signalBefore: fingerprint('one'), signalAfter: fingerprint('two'), detail: `header X-Instance of ${url} changed` });
  });

  it('a bare command (no instance signal) passes with the redeploy_unverified warning that says what was not verified', async () => {
    const outcome = await driver('true').redeploy(AbortSignal.timeout(30_000));
    expect(outcome).toEqual({ ok: true, status: 'exit 0', evidence: { kind: 'none', checked: false, detail: 'the redeploy command exited 0 (no instance signal configured)' } });
    expect(judgeRedeploy('command', outcome)).toEqual({
      status: 'passed',
      warning: {
        code: 'redeploy_unverified',
        message:
          'the redeploy command exited 0 (no instance signal configured); the session and availability checks ran, but that a new app instance served was not verified (set SENTINEL_REDEPLOY_INSTANCE_URL, and SENTINEL_REDEPLOY_INSTANCE_HEADER if a header names the instance)',
      },
    });
  });

  it('a signal that changes between two reads before the redeploy names no instance: redeploy_failed, and the command never runs', async () => {
    let n = 0;
    const server = createHttpServer((_req, res) => res.end(`nonce ${(n += 1)}`));
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const marker = join(dir, 'ran');
    const error = await rejection(driver(`touch '${marker}'`, { instance: signalFor(url) }).redeploy(AbortSignal.timeout(30_000)));
    expect(error).toBeInstanceOf(SentinelError);
    expect(judgeRedeployError(error)).toEqual({
      reason: 'redeploy_failed',
      message: `the instance signal: the body of ${url.replace(/\/$/, '')} changed between two reads before the redeploy: it does not name one instance (choose a header with SENTINEL_REDEPLOY_INSTANCE_HEADER or a stable URL)`,
    });
    expect(existsSync(marker)).toBe(false);
  });

  it('verifies TLS: a private CA is trusted only through caCertPath', async () => {
    const ca = await createCertificateAuthority('redeploy test CA');
    const leaf = await issueLeafCertificate(ca);
    const server = createHttpsServer({ key: leaf.keyPem, cert: leaf.chainPem }, (_req, res) => res.end('tls instance'));
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `https://localhost:${(server.address() as AddressInfo).port}/`;
    const untrusted = await rejection(driver('true', { instance: signalFor(url) }).redeploy(AbortSignal.timeout(30_000)));
    expect(judgeRedeployError(untrusted)).toEqual({ reason: 'redeploy_failed', message: expect.stringMatching(/^the instance signal: https:\/\/localhost:\d+ could not be read \((UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)\)$/) });
    const caCertPath = join(dir, 'ca.pem');
    writeFileSync(caCertPath, ca.certPem);
    const outcome = await driver('true', { instance: signalFor(url, { caCertPath }) }).redeploy(AbortSignal.timeout(30_000));
    expect(outcome.evidence).toMatchObject({ kind: 'none', checked: true, signalBefore: fingerprint('tls instance') });
  });
});

describe('command driver: failures and the process group', () => {
  it('a non-zero exit is redeploy_failed with the exit status and the last stderr line, the command text masked', async () => {
    const script = join(dir, 'deploy.sh');
    writeFileSync(script, 'echo "starting" >&2\necho "deploy rejected: token $DEPLOY_TOKEN is unknown" >&2\nexit 3\n');
    const outcome = await driver(`DEPLOY_TOKEN=S3cretDeployT0ken sh '${script}'`).redeploy(AbortSignal.timeout(30_000));
    expect(outcome).toMatchObject({ ok: false, status: 'exit 3', message: 'deploy rejected: token [REDACTED] is unknown' });
    const verdict = judgeRedeploy('command', outcome);
    expect(verdict).toEqual({ status: 'failed', reason: 'redeploy_failed', message: 'the command redeploy ended exit 3: deploy rejected: token [REDACTED] is unknown' });
    expect(JSON.stringify([outcome, verdict])).not.toMatch(/S3cret|deploy\.sh/);
  });

  it('a timed-out command loses its whole process group, grandchildren that ignore SIGTERM included: reason timeout', async () => {
    const pids = join(dir, 'pids');
    // sh leads the group; one grandchild ignores SIGTERM, so only the SIGKILL after the grace ends it.
    const command = `echo $$ > '${pids}'; sleep 600 & echo $! >> '${pids}'; (trap '' TERM; sleep 600) & echo $! >> '${pids}'; wait`;
    const error = await rejection(driver(command, { deadlineMs: 1_000, killGraceMs: 500 }).redeploy(AbortSignal.timeout(30_000)));
    expect(judgeRedeployError(error)).toEqual({ reason: 'timeout', message: 'the redeploy command did not finish within 1000 ms; its process group was stopped' });
    expect(error.message).not.toContain('sleep');
    const [group, ...children] = readFileSync(pids, 'utf8').trim().split('\n').map(Number);
    expect(children).toHaveLength(2);
    expect(groupAlive(group!)).toBe(false);
    // Gone or a zombie (which runs nothing and is its new parent's to reap).
    for (const pid of [group!, ...children]) expect(running(pid), `pid ${pid}`).toBe(false);
  });

  it("the caller's timeout signal counts as a timeout too; the caller's plain abort is handed back as it is", async () => {
    const timedOut = await rejection(driver('sleep 600').redeploy(AbortSignal.timeout(500)));
    expect(judgeRedeployError(timedOut)).toEqual({ reason: 'timeout', message: "the redeploy command did not finish before the caller's deadline; its process group was stopped" });
    const pids = join(dir, 'pid');
    const controller = new AbortController();
    const pending = driver(`echo $$ > '${pids}'; sleep 600`).redeploy(controller.signal);
    await expect.poll(() => existsSync(pids) && readFileSync(pids, 'utf8').endsWith('\n'), { timeout: 10_000 }).toBe(true);
    controller.abort(new Error('the spec gave up'));
    await expect(pending).rejects.toThrow('the spec gave up');
    expect(groupAlive(Number(readFileSync(pids, 'utf8')))).toBe(false);
  });

  it('a command that exits 0 but leaves a child in its group: the child is stopped too, and the driver does not wait for it', async () => {
    const pids = join(dir, 'pid');
    const outcome = await driver(`sleep 600 & echo $! > '${pids}'`).redeploy(AbortSignal.timeout(30_000));
    expect(outcome.status).toBe('exit 0');
    expect(running(Number(readFileSync(pids, 'utf8')))).toBe(false);
  });
});

describe('createRedeployDriver', () => {
  it('builds the command driver from the configuration, with the instance signal when one is set', async () => {
    const file = join(dir, 'instance');
    writeFileSync(file, 'one');
    const url = await instanceServer(file);
    const config = configSchema.parse({
      appUrl: 'https://gadgetbot.example.com',
      issuer: 'https://auth.example.com',
      redeploy: { command: `printf two > '${file}'`, instanceUrl: url, instanceHeader: 'X-Instance' },
      timeouts: { probeMs: 2_000, actionMs: 2_000 },
      coolify: { deployTimeoutMs: 20_000 },
    });
    const redeploy = await createRedeployDriver(config);
    expect(redeploy.name).toBe('command');
    const outcome: RedeployOutcome = await redeploy.redeploy(AbortSignal.timeout(30_000));
    expect(outcome.evidence).toMatchObject({ kind: 'instance-signal', signalSource: 'header' });
  });
});

describe('judgeRedeployError', () => {
  it('a deadline (ours or the caller’s AbortSignal.timeout) is timeout; anything else a driver throws is redeploy_failed', () => {
    const reason = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    expect(judgeRedeployError(reason)).toEqual({ reason: 'timeout', message: 'the redeploy did not finish before its deadline (The operation was aborted due to timeout)' });
    expect(judgeRedeployError(new SentinelError('redeploy_timeout', 'took too long')).reason).toBe('timeout');
    expect(judgeRedeployError(new SentinelError('redeploy_failed', 'the redeploy command could not be started (ENOENT)'))).toEqual({ reason: 'redeploy_failed', message: 'the redeploy command could not be started (ENOENT)' });
    expect(judgeRedeployError(new Error('socket hang up\n  at somewhere'))).toEqual({ reason: 'redeploy_failed', message: 'socket hang up at somewhere' });
    expect(judgeRedeployError(undefined)).toEqual({ reason: 'redeploy_failed', message: 'the redeploy driver failed without a message' });
  });
});
