/**
 * The `sentinel` command (architecture §1). `main` returns the exit code; bin/sentinel.mjs sets
 * process.exitCode so output flushes. 0 all checks passed, 1 a check failed, 2 configuration,
 * usage or environment unusable (one line, never a stack trace), 130/143 interrupted by SIGINT/SIGTERM.
 */
import { spawn } from 'node:child_process';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { loadConfig, targetsEmbeddedStack, type Config } from '../core/config.ts';
import { SentinelError, isSentinelError } from '../core/errors.ts';
import { CHECK_IDS, exitCodeOf, isCheckId, type CheckId } from '../core/result.ts';
import { checkConfig, formatIssues, rawSecrets } from './check-config.ts';
import { REPO_ROOT, startEmbeddedStack, type EmbeddedStack } from './embedded-stack.ts';
import type { RunCommandMode } from './run.ts';
import { createRedactor } from '../core/redact.ts';

export const USAGE = `usage: sentinel <command> [options]

commands:
  run [--mode postdeploy|ci] [--check <id>…] [--allow-mutations] [--allow-disruptive]
                  probes, then browser checks; reports in reports/; exit 0 passed, 1 failed, 2 unusable
                  (no target configured → starts the embedded local stack, runs every check, stops it)
  probe [--check <id>…]
                  probes only (no browser)
  check-config    validate the configuration; list every problem, or the checks it enables
  stack           start the local reference stack and print READY <json>; runs until Ctrl-C
  monitor [--listen host:port]
                  long-running monitor: /metrics, /healthz, /status, /probe?check=<id>
  watch-deploys   watch Coolify deployments and run the post-deploy checks after each one
  help            this text

check ids: ${CHECK_IDS.join(', ')}
configuration: SENTINEL_* variables (see .env.example) and an optional JSON file in SENTINEL_CONFIG`;

type Options = NonNullable<ParseArgsConfig['options']>;
const COMMANDS: Record<string, Options> = {
  run: { mode: { type: 'string' }, check: { type: 'string', multiple: true }, 'allow-mutations': { type: 'boolean' }, 'allow-disruptive': { type: 'boolean' } },
  probe: { check: { type: 'string', multiple: true } },
  'check-config': {},
  stack: {},
  monitor: { listen: { type: 'string' } },
  'watch-deploys': {},
};

const out = (line: string) => process.stdout.write(`${line}\n`);
const err = (line: string) => process.stderr.write(`${line}\n`);

function usageError(message: string): never {
  throw new SentinelError('usage', `sentinel: ${message} (see \`sentinel help\`)`);
}

/** node:util's parse errors, as one short line. */
function parseError(error: unknown): never {
  const code = (error as { code?: string }).code;
  const message = error instanceof Error ? error.message : String(error);
  const quoted = /'([^']+)'/.exec(message)?.[1];
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') usageError(`unknown option ${quoted ?? message}`);
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') usageError(`unexpected argument ${quoted ?? message}`);
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') usageError(message.split('.')[0]!.replace(/^Option/, 'option'));
  throw error;
}

function checkIds(values: readonly string[] | undefined): CheckId[] | undefined {
  if (!values?.length) return undefined;
  const ids = values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
  const unknown = ids.filter((id) => !isCheckId(id));
  if (unknown.length) usageError(`unknown check id ${unknown.map((id) => `"${id}"`).join(', ')} (known: ${CHECK_IDS.join(', ')})`);
  return ids as CheckId[];
}

function defaultMode(env: NodeJS.ProcessEnv): RunCommandMode {
  return env.CI === 'true' || env.CI === '1' ? 'ci' : 'postdeploy';
}

/** Runs `work` with SIGINT/SIGTERM turned into an abort; returns the signal that arrived, if any. */
async function withInterrupts<T>(work: (signal: AbortSignal) => Promise<T>): Promise<{ value: T; interruptedBy?: NodeJS.Signals }> {
  const controller = new AbortController();
  let interruptedBy: NodeJS.Signals | undefined;
  const handlers = (['SIGINT', 'SIGTERM'] as const).map((name) => {
    const handler = () => {
      interruptedBy ??= name;
      err(`sentinel: ${name} received, stopping…`);
      controller.abort(new Error(`interrupted by ${name}`));
    };
    process.on(name, handler);
    return [name, handler] as const;
  });
  try {
    const value = await work(controller.signal);
    return interruptedBy ? { value, interruptedBy } : { value };
  } finally {
    for (const [name, handler] of handlers) process.off(name, handler);
  }
}

const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

async function runCommand(command: 'run' | 'probe', values: Record<string, unknown>, env: NodeJS.ProcessEnv): Promise<number> {
  const requested = checkIds(values.check as string[] | undefined);
  let mode: RunCommandMode = command === 'probe' ? 'probe' : defaultMode(env);
  if (command === 'run' && values.mode !== undefined) {
    if (values.mode !== 'postdeploy' && values.mode !== 'ci') usageError(`unknown mode "${String(values.mode)}" (postdeploy or ci)`);
    mode = values.mode;
  }
  const overrides: Record<string, unknown> = {};
  if (values['allow-mutations']) overrides.allowMutations = true;
  if (values['allow-disruptive']) overrides.allowDisruptive = true;
  const embedded = targetsEmbeddedStack(env);
  // Validate before starting anything (the embedded stack supplies the target fields itself).
  const validation = loadConfig(embedded ? { ...env, SENTINEL_APP_URL: 'https://localhost', SENTINEL_ISSUER: 'https://127.0.0.1' } : env, overrides);
  if (!validation.ok) {
    for (const line of formatIssues(validation.issues, createRedactor(rawSecrets(env)))) err(line);
    return 2;
  }
  // Loaded on demand: the probes and Playwright are heavy, and check-config/help need neither.
  const { executeRun } = await import('./run.ts');
  const { value: summary, interruptedBy } = await withInterrupts((signal) =>
    executeRun({ mode, env, overrides, embedded, write: out, signal, push: true, ...(requested ? { requested } : {}) }),
  );
  if (interruptedBy) return SIGNAL_EXIT[interruptedBy]!;
  return exitCodeOf(summary.checks);
}

/** `sentinel stack`: the reference stack in the foreground; signals are forwarded, its exit code returned. */
function stackCommand(): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'fixtures/stack/main.ts'], { cwd: REPO_ROOT, stdio: 'inherit', env: process.env });
    const forward = (name: NodeJS.Signals) => () => {
      if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, name);
    };
    const onInt = forward('SIGINT');
    const onTerm = forward('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    const done = (code: number) => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve(code);
    };
    child.once('error', (error) => {
      err(`sentinel: cannot start the local stack: ${error.message}`);
      done(2);
    });
    child.once('exit', (code, signalName) => done(code ?? (signalName ? 128 + (signalName === 'SIGKILL' ? 9 : signalName === 'SIGINT' ? 2 : 15) : 1)));
  });
}

/** Config for the long-running commands: the configured target, or the embedded stack started for them. */
async function longRunningConfig(env: NodeJS.ProcessEnv, overrides: Record<string, unknown>): Promise<{ config?: Config; stack?: EmbeddedStack; code?: number }> {
  const embedded = targetsEmbeddedStack(env);
  let stack: EmbeddedStack | undefined;
  let effectiveEnv = env;
  if (embedded) {
    out('sentinel: no target configured: starting the embedded local stack');
    stack = await startEmbeddedStack({ baseEnv: env });
    effectiveEnv = { ...env, ...stack.env };
  }
  const loaded = loadConfig(effectiveEnv, overrides);
  if (!loaded.ok) {
    for (const line of formatIssues(loaded.issues, createRedactor(rawSecrets(effectiveEnv)))) err(line);
    await stack?.stop();
    return { code: 2 };
  }
  return { config: loaded.config, ...(stack ? { stack } : {}) };
}

async function monitorCommand(values: Record<string, unknown>, env: NodeJS.ProcessEnv): Promise<number> {
  const { runMonitor } = await import('./monitor/index.ts');
  const listen = values.listen as string | undefined;
  const { config, stack, code } = await longRunningConfig(env, listen ? { monitor: { listen } } : {});
  if (!config) return code ?? 2;
  try {
    const sentinelEnv = Object.fromEntries(Object.entries({ ...env, ...stack?.env }).filter(([key]) => key.startsWith('SENTINEL_')));
    return await runMonitor(config, { ...(listen ? { listen } : {}), env: sentinelEnv, embedded: Boolean(stack) });
  } finally {
    await stack?.stop();
  }
}

async function watchDeploysCommand(env: NodeJS.ProcessEnv): Promise<number> {
  const { runDeployWatch } = await import('./deploy-watch.ts');
  const loaded = loadConfig(env);
  if (!loaded.ok) {
    for (const line of formatIssues(loaded.issues, createRedactor(rawSecrets(env)))) err(line);
    return 2;
  }
  return await runDeployWatch(loaded.config);
}

async function dispatch(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined) {
    err(USAGE);
    return 2;
  }
  if (command === 'help' || command === '--help' || command === '-h') {
    out(USAGE);
    return 0;
  }
  const options = COMMANDS[command];
  if (!options) usageError(command.startsWith('-') ? `unknown option ${command}` : `unknown command "${command}"`);
  if (rest.includes('--help') || rest.includes('-h')) {
    out(USAGE);
    return 0;
  }
  let values: Record<string, unknown>;
  try {
    values = parseArgs({ args: rest, options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    parseError(error);
  }
  switch (command) {
    case 'run':
    case 'probe':
      return runCommand(command, values, env);
    case 'check-config':
      return checkConfig({ env, embedded: targetsEmbeddedStack(env), mode: defaultMode(env), write: out, writeError: err });
    case 'stack':
      return stackCommand();
    case 'monitor':
      return monitorCommand(values, env);
    default:
      return watchDeploysCommand(env);
  }
}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const redact = createRedactor(rawSecrets(env));
  try {
    return await dispatch(argv, env);
  } catch (error) {
    if (isSentinelError(error)) {
      const line = redact(error.message.replace(/\s+/g, ' ').trim());
      err(line.startsWith('sentinel:') ? line : `sentinel: ${line}`);
      return 2;
    }
    const message = error instanceof Error ? error.message : String(error);
    err(redact(`sentinel: internal error: ${message.replace(/\s+/g, ' ').trim()}`));
    if (env.SENTINEL_DEBUG === '1' && error instanceof Error && error.stack) err(redact(error.stack));
    return 2;
  }
}
