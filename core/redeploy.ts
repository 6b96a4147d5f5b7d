/**
 * Redeploy drivers: how `e2e-session-redeploy` (and only it) replaces the running app, and the
 * evidence that it did. `coolify` drives Coolify's API v4 and confirms a fresh finished deployment
 * in Coolify's own record; `command` runs any shell command for targets without Coolify and, when an
 * instance signal is configured, sees it change. The spec only awaits `redeploy()` and asks
 * `judgeRedeploy` / `judgeRedeployError` for the verdict.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from './config.ts';
import { SentinelError } from './errors.ts';
import { coolifyDriver } from './coolify-redeploy.ts';
import { createInstanceSignalReader, InstanceSignalError, type InstanceSignalOptions, type InstanceSignalReader } from './instance-signal.ts';
import { createRedactor } from './redact.ts';
import type { RedeployDriver, RedeployOutcome } from './redeploy-driver.ts';

/** How long after the platform calls a redeploy done the new instance may take to answer (the spec waits as long). */
export function settleWindowMs(config: Pick<Config, 'timeouts' | 'redeploy'>): number {
  return Math.max(config.timeouts.actionMs, (config.redeploy.downtimeBudgetSeconds + 5) * 1000);
}

// ---------------------------------------------------------------------------------------------
// The verdict: which reason (or warning) an outcome or a driver error stands for.

export type RedeployVerdict =
  | { status: 'failed'; reason: 'redeploy_failed' | 'instance_unchanged'; message: string }
  | { status: 'passed'; warning?: { code: 'redeploy_unverified'; message: string } };

export function judgeRedeploy(driver: RedeployDriver['name'], outcome: RedeployOutcome): RedeployVerdict {
  if (!outcome.ok) {
    return { status: 'failed', reason: 'redeploy_failed', message: `the ${driver} redeploy ended ${outcome.status}${outcome.message ? `: ${outcome.message}` : ''}` };
  }
  const { evidence } = outcome;
  if (evidence.kind !== 'none') return { status: 'passed' };
  if (!evidence.checked) {
    return {
      status: 'passed',
      warning: {
        code: 'redeploy_unverified',
        message: `${evidence.detail}; the session and availability checks ran, but that a new app instance served was not verified (set SENTINEL_REDEPLOY_INSTANCE_URL, and SENTINEL_REDEPLOY_INSTANCE_HEADER if a header names the instance)`,
      },
    };
  }
  return { status: 'failed', reason: 'instance_unchanged', message: `no new app instance: ${evidence.detail}` };
}

/** A driver that threw: `timeout` when a deadline ran out, else `redeploy_failed`; never the generic `assertion`. */
export function judgeRedeployError(error: unknown): { reason: 'timeout' | 'redeploy_failed'; message: string } {
  const code = (error as { code?: unknown } | undefined)?.code;
  const name = (error as { name?: unknown } | undefined)?.name;
  const message = oneLine(error instanceof Error ? error.message : error === undefined || error === null ? '' : String(error)) || 'the redeploy driver failed without a message';
  if (code === 'coolify_timeout' || code === 'redeploy_timeout' || name === 'TimeoutError') {
    return { reason: 'timeout', message: name === 'TimeoutError' ? `the redeploy did not finish before its deadline (${message})` : message };
  }
  return { reason: 'redeploy_failed', message };
}

// ---------------------------------------------------------------------------------------------
// The command driver.

export interface CommandDriverOptions {
  command: string;
  /** the command's deadline (config.coolify.deployTimeoutMs), combined with the caller's signal */
  deadlineMs: number;
  /** between SIGTERM and SIGKILL of the command's process group */
  killGraceMs?: number;
  /** the evidence of a new instance; without it a successful command is unverified */
  instance?: InstanceSignalOptions & { settleMs: number; pollIntervalMs?: number };
}

const DEFAULT_KILL_GRACE_MS = 5_000;
const GROUP_POLL_MS = 50;
const SIGNAL_POLL_MS = 250;

export function commandDriver(options: CommandDriverOptions): RedeployDriver {
  return {
    name: 'command',
    async redeploy(signal) {
      const deadline = AbortSignal.timeout(options.deadlineMs);
      const within = AbortSignal.any([signal, deadline]);
      const reader = options.instance ? createInstanceSignalReader(options.instance) : undefined;
      try {
        const before = reader ? await readStableSignal(reader, within, deadline, signal) : undefined;
        const run = await runInOwnGroup(options.command, within, options.killGraceMs ?? DEFAULT_KILL_GRACE_MS);
        if (run.aborted) {
          if (deadline.aborted || isTimeout(signal)) {
            const limit = deadline.aborted ? `within ${options.deadlineMs} ms` : "before the caller's deadline";
            throw new SentinelError('redeploy_timeout', `the redeploy command did not finish ${limit}; its process group was stopped${run.lastStderrLine ? ` (last stderr line: ${run.lastStderrLine})` : ''}`);
          }
          throw signal.reason;
        }
        const status = run.signal ? `signal ${run.signal}` : `exit ${run.code}`;
        const stderr = run.lastStderrLine ? { message: run.lastStderrLine } : {};
        if (run.code !== 0) return { ok: false, status, ...stderr, evidence: { kind: 'none', checked: false, detail: `the redeploy command ended ${status}` } };
        if (!reader || before === undefined) {
          return { ok: true, status, evidence: { kind: 'none', checked: false, detail: 'the redeploy command exited 0 (no instance signal configured)' } };
        }
        const settleMs = options.instance!.settleMs;
        const after = await awaitChangedSignal(reader, before, within, settleMs, options.instance!.pollIntervalMs ?? SIGNAL_POLL_MS);
        const recorded = { signalSource: reader.source, signalBefore: before, ...(after.value ? { signalAfter: after.value } : {}) };
        if (after.value !== undefined && after.value !== before) {
          return { ok: true, status, evidence: { kind: 'instance-signal', checked: true, detail: `${reader.describe} changed`, ...recorded } };
        }
        const why = after.value === undefined ? `could not be read afterwards (${after.lastError ?? 'no answer'})` : 'stayed the same';
        return { ok: true, status, evidence: { kind: 'none', checked: true, detail: `the redeploy command exited 0, but ${reader.describe} ${why} for ${settleMs} ms after it`, ...recorded } };
      } catch (error) {
        if (error instanceof InstanceSignalError) {
          if (error.kind === 'timeout' || deadline.aborted) throw new SentinelError('redeploy_timeout', `the instance signal: ${error.message}`);
          throw new SentinelError('redeploy_failed', `the instance signal: ${error.message}`);
        }
        throw error;
      } finally {
        await reader?.close();
      }
    },
  };
}

/**
 * The signal before the redeploy, read twice: a value that changes between two reads without a
 * redeploy (a nonce, a clock, several instances behind a balancer) could never show one.
 */
async function readStableSignal(reader: InstanceSignalReader, within: AbortSignal, deadline: AbortSignal, caller: AbortSignal): Promise<string> {
  try {
    const first = await reader.read(within);
    const second = await reader.read(within);
    if (first !== second) {
      throw new InstanceSignalError('unusable', `${reader.describe} changed between two reads before the redeploy: it does not name one instance (choose a header with SENTINEL_REDEPLOY_INSTANCE_HEADER or a stable URL)`);
    }
    return first;
  } catch (error) {
    if (deadline.aborted && !caller.aborted) throw new InstanceSignalError('timeout', `${reader.describe} was not read before the redeploy deadline`);
    throw error;
  }
}

/** Polls the signal until it differs from `before` or `settleMs` passes; read errors (the app restarting) are waited out. */
async function awaitChangedSignal(reader: InstanceSignalReader, before: string, within: AbortSignal, settleMs: number, intervalMs: number): Promise<{ value?: string; lastError?: string }> {
  const settle = AbortSignal.any([within, AbortSignal.timeout(settleMs)]);
  let value: string | undefined;
  let lastError: string | undefined;
  for (;;) {
    try {
      value = await reader.read(settle);
      lastError = undefined;
      if (value !== before) return { value };
    } catch (error) {
      if (within.aborted) throw within.reason;
      if (!(error instanceof InstanceSignalError) && !settle.aborted) throw error;
      if (error instanceof InstanceSignalError) lastError = error.message;
    }
    if (settle.aborted) return { ...(value !== undefined ? { value } : {}), ...(lastError ? { lastError } : {}) };
    try {
      await sleep(intervalMs, undefined, { signal: settle });
    } catch {
      if (within.aborted) throw within.reason;
    }
  }
}

function isTimeout(signal: AbortSignal): boolean {
  return signal.aborted && (signal.reason as { name?: string } | undefined)?.name === 'TimeoutError';
}

interface CommandRun {
  aborted: boolean;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** the last non-empty stderr line, redacted against the command, at most 200 characters */
  lastStderrLine?: string;
}

/**
 * Runs `command` with /bin/sh in a process group of its own and, however it ends (exit, abort,
 * deadline), stops whatever is left of that group: SIGTERM, then SIGKILL after `graceMs`. A command
 * that must leave a server running has to start it in a session of its own (setsid) or through a
 * service manager. The command text never appears in what this returns.
 */
export async function runInOwnGroup(command: string, signal: AbortSignal, graceMs: number): Promise<CommandRun> {
  if (signal.aborted) return { aborted: true, code: null, signal: null };
  const child = spawn('/bin/sh', ['-c', command], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4_000);
  });
  // Once the whole group is gone nobody holds the pipe: its close means every line has arrived.
  const stderrClosed = new Promise<void>((resolve) => (child.stderr ? child.stderr.once('close', () => resolve()) : resolve()));
  const pgid = child.pid;
  // If this process ends first (the run is stopped), the group must not outlive it.
  const onExit = () => {
    if (pgid !== undefined) signalGroup(pgid, 'SIGKILL');
  };
  process.once('exit', onExit);
  let abort: (() => void) | undefined;
  let ended: { aborted: boolean; code: number | null; signal: NodeJS.Signals | null };
  try {
    ended = await new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code, exitSignal) => resolve({ aborted: false, code, signal: exitSignal }));
      abort = () => resolve({ aborted: true, code: null, signal: null });
      signal.addEventListener('abort', abort, { once: true });
    });
  } catch (error) {
    throw new SentinelError('redeploy_failed', `the redeploy command could not be started (${(error as { code?: string }).code ?? (error as Error).name})`);
  } finally {
    if (abort) signal.removeEventListener('abort', abort);
    if (pgid !== undefined) await stopGroup(pgid, graceMs);
    process.removeListener('exit', onExit);
  }
  const bound = new AbortController();
  await Promise.race([stderrClosed, sleep(graceMs, undefined, { signal: bound.signal }).catch(() => undefined)]);
  bound.abort();
  child.stderr?.destroy();
  return { ...ended, ...lastLineOf(stderr, command) };
}

function lastLineOf(stderr: string, command: string): { lastStderrLine?: string } {
  const line = stderr.split('\n').map((l) => l.trim()).filter(Boolean).pop();
  if (!line) return {};
  // The command is a secret and may carry a token: mask it whole and each longer word of it.
  const words = command.split(/[\s'"=:,;&|()<>`]+/).filter((word) => word.length >= 8);
  const redact = createRedactor([command, ...words]);
  return { lastStderrLine: oneLine(redact(line)).slice(0, 200) };
}

/** SIGTERM to the group, SIGKILL after `graceMs` if anything of it still runs; resolves when it is gone (or stays a bounded time). */
async function stopGroup(pgid: number, graceMs: number): Promise<void> {
  if (!groupAlive(pgid)) return;
  signalGroup(pgid, 'SIGTERM');
  if (await groupGoneWithin(pgid, graceMs)) return;
  signalGroup(pgid, 'SIGKILL');
  await groupGoneWithin(pgid, graceMs);
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // the group is already gone
  }
}

async function groupGoneWithin(pgid: number, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (groupAlive(pgid)) {
    if (Date.now() >= until) return false;
    await sleep(GROUP_POLL_MS);
  }
  return true;
}

/**
 * Whether any process of the group still runs. From /proc where there is one, so that zombies (which
 * run nothing; their reaping is their new parent's business) do not count; else kill(-pgid, 0).
 */
export function groupAlive(pgid: number): boolean {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    try {
      process.kill(-pgid, 0);
      return true;
    } catch {
      return false;
    }
  }
  for (const pid of entries) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue;
    }
    // comm may hold spaces and parentheses: the fields after it start behind the last ')'.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z') return true;
  }
  return false;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

// ---------------------------------------------------------------------------------------------

/** The command driver the configuration describes. */
export function commandDriverFromConfig(config: Config): RedeployDriver {
  const { command, instanceUrl, instanceHeader } = config.redeploy;
  if (!command) throw new SentinelError('config_invalid', 'redeploy.command (SENTINEL_REDEPLOY_COMMAND) is not set');
  return commandDriver({
    command,
    deadlineMs: config.coolify.deployTimeoutMs,
    ...(instanceUrl
      ? {
          instance: {
            url: instanceUrl,
            ...(instanceHeader ? { header: instanceHeader } : {}),
            ...(config.tls.caCertPath ? { caCertPath: config.tls.caCertPath } : {}),
            requestTimeoutMs: config.timeouts.probeMs,
            settleMs: settleWindowMs(config),
          },
        }
      : {}),
  });
}

/** Picks the driver the configuration asks for (explicit driver, else coolify when configured, else command). */
export async function createRedeployDriver(config: Config): Promise<RedeployDriver> {
  const coolifyReady = Boolean(config.coolify.url && config.coolify.token && config.coolify.appUuid);
  const driver = config.redeploy.driver ?? (coolifyReady ? 'coolify' : config.redeploy.command ? 'command' : undefined);
  if (driver === 'command') return commandDriverFromConfig(config);
  if (driver === 'coolify') {
    if (!coolifyReady) throw new SentinelError('config_invalid', 'the coolify redeploy driver needs SENTINEL_COOLIFY_URL, SENTINEL_COOLIFY_TOKEN and SENTINEL_COOLIFY_APP_UUID');
    return coolifyDriver(config);
  }
  throw new SentinelError('config_invalid', 'no redeploy driver: set the SENTINEL_COOLIFY_* variables or SENTINEL_REDEPLOY_COMMAND');
}
