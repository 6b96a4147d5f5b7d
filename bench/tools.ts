/**
 * Small process helpers for the benchmark: installing a Debian tool when it is missing, spawning a
 * child and waiting for a line it prints (with a deadline), stopping a child by PID, timing.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';

export const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

function which(binary: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':')) {
    const path = `${dir}/${binary}`;
    if (existsSync(path)) return path;
  }
  return undefined;
}

/**
 * The binary's path, installing `debPackage` with apt-get when it is missing and we are root.
 * undefined (after one line on stderr) when it cannot be had.
 */
export function ensureBinary(binary: string, debPackage: string): string | undefined {
  const found = which(binary);
  if (found) return found;
  if (process.getuid?.() !== 0) {
    log(`${binary} is missing and we are not root: install the Debian package ${debPackage}; that section is skipped`);
    return undefined;
  }
  log(`${binary} is missing: apt-get install -y ${debPackage}`);
  const opts = { stdio: 'ignore' as const, timeout: 300_000, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } };
  let result = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', debPackage], opts);
  if (result.status !== 0) {
    spawnSync('apt-get', ['update'], opts);
    result = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', debPackage], opts);
  }
  const after = which(binary);
  if (!after) log(`apt-get install ${debPackage} failed (exit ${result.status}); that section is skipped`);
  return after;
}

export interface Spawned {
  child: ChildProcess;
  /** resolves with the first line matching `pattern` on stdout or stderr (rejects at the deadline or on exit) */
  waitForLine(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray>;
  /** the last lines of output, for error messages */
  tail(): string;
}

export function spawnWatched(file: string, args: string[], options: SpawnOptions): Spawned {
  const child = spawn(file, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const listeners = new Set<(line: string) => void>();
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on('line', (line) => {
      lines.push(line);
      if (lines.length > 40) lines.shift();
      for (const listener of listeners) listener(line);
    });
  }
  return {
    child,
    tail: () => lines.slice(-8).join(' | ').slice(0, 800),
    waitForLine(pattern, timeoutMs) {
      return new Promise((resolve, reject) => {
        for (const line of lines) {
          const m = pattern.exec(line);
          if (m) return resolve(m);
        }
        const timer = setTimeout(() => finish(new Error(`no line matching ${pattern} within ${timeoutMs} ms: ${lines.slice(-5).join(' | ')}`)), timeoutMs);
        const onExit = (code: number | null) => finish(new Error(`exited (${code}) before printing ${pattern}: ${lines.slice(-5).join(' | ')}`));
        const listener = (line: string) => {
          const m = pattern.exec(line);
          if (m) finish(m);
        };
        const finish = (outcome: RegExpExecArray | Error) => {
          clearTimeout(timer);
          listeners.delete(listener);
          child.off('exit', onExit);
          if (outcome instanceof Error) reject(outcome);
          else resolve(outcome);
        };
        listeners.add(listener);
        child.once('exit', onExit);
      });
    },
  };
}

// One way to stop a child, shared with the runner's embedded stack.
export { exited, stopChild } from '../runner/embedded-stack.ts';

/** Polls `condition` every `intervalMs` until it holds; false at the deadline. */
export async function pollUntil(condition: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await delay(intervalMs);
  }
  return condition();
}

/** GET with a deadline; the body as text. */
export async function getText(url: string, timeoutMs = 5_000): Promise<{ status: number; body: string }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  return { status: response.status, body: await response.text() };
}
