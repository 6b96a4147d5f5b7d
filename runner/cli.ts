/**
 * The `sentinel` command. `main` returns the exit code; bin/sentinel.mjs sets process.exitCode so
 * output flushes. 0 every selected check passed, 1 a check failed, 2 configuration, usage or
 * environment unusable (one line per problem, never a stack trace), 130/143 interrupted.
 *
 * The target is what the configuration names; the embedded reference stack only when `--embedded`
 * asks for it. Nothing switches between the two silently.
 */
import { spawn } from 'node:child_process';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { EMBEDDED_PLACEHOLDERS, chooseTarget, loadConfig, rawSecrets, runEnvironment, unknownVariableIssues, type Config, type ConfigIssue } from '../core/config.ts';
import { SentinelError, isSentinelError } from '../core/errors.ts';
import { createRedactor } from '../core/redact.ts';
import { CHECK_IDS, exitCodeOf, isCheckId, type CheckId } from '../core/result.ts';
import { checkConfig, formatIssues } from './check-config.ts';
import { REPO_ROOT, assertStackInstalled, startEmbeddedStack, type EmbeddedStack } from './embedded-stack.ts';
import type { RunCommandMode } from './run.ts';

export const USAGE = `usage: sentinel <command> [options]

commands:
  run [--mode postdeploy|ci] [--check <id>…] [--skip <id>…] [--allow-mutations] [--allow-disruptive]
      [--allow-skipped] [--embedded]
                  probes, then browser checks, against the configured target; reports in reports/;
                  exit 0 passed, 1 failed, 2 unusable (in ci/postdeploy also: a check not configured
                  and neither --skip'ped nor --allow-skipped)
  probe [--check <id>…] [--skip <id>…] [--embedded]
                  probes only (no browser)
  check-config [--embedded]
                  validate the configuration; list every problem, or the checks it enables
  stack           start the local reference stack and print READY <json>; runs until Ctrl-C
  monitor [--listen host:port] [--embedded]
                  long-running monitor: /metrics, /healthz, /status, /probe?check=<id>
  watch-deploys [--embedded]
                  watch Coolify deployments and run the post-deploy checks after each one
  help            this text

--embedded        the target is the local reference stack, started for the command and stopped after
                  it (npm start); it cannot be combined with variables that describe a target

check ids: ${CHECK_IDS.join(', ')}
configuration: SENTINEL_* variables (see .env.example) and an optional JSON file in SENTINEL_CONFIG`;

type Options = NonNullable<ParseArgsConfig['options']>;
const EMBEDDED = { embedded: { type: 'boolean' } } as const satisfies Options;
const SELECT = { check: { type: 'string', multiple: true }, skip: { type: 'string', multiple: true } } as const satisfies Options;
const COMMANDS: Record<string, Options> = {
  run: { mode: { type: 'string' }, ...SELECT, 'allow-mutations': { type: 'boolean' }, 'allow-disruptive': { type: 'boolean' }, 'allow-skipped': { type: 'boolean' }, ...EMBEDDED },
  probe: { ...SELECT, ...EMBEDDED },
  'check-config': { ...EMBEDDED },
  stack: {},
  monitor: { listen: { type: 'string' }, ...EMBEDDED },
  'watch-deploys': { ...EMBEDDED },
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

function checkIds(values: unknown, flag: string): CheckId[] | undefined {
  const list = values as readonly string[] | undefined;
  if (!list?.length) return undefined;
  const ids = list.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
  const unknown = ids.filter((id) => !isCheckId(id));
  if (unknown.length) usageError(`unknown check id ${unknown.map((id) => `"${id}"`).join(', ')} in ${flag} (known: ${CHECK_IDS.join(', ')})`);
  return ids as CheckId[];
}

function defaultMode(env: NodeJS.ProcessEnv): RunCommandMode {
  return runEnvironment(env).ci ? 'ci' : 'postdeploy';
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

/**
 * The target choice and every configuration problem, before anything starts. With `--embedded` the
 * stack supplies the target fields later, so they are validated with stand-ins here.
 */
function validate(env: NodeJS.ProcessEnv, embedded: boolean, overrides: Record<string, unknown> = {}): ConfigIssue[] {
  const target = chooseTarget(env, embedded);
  // Ambiguous: which of the two was meant is unknown, so the target's own settings are not judged.
  if (!target.ok && embedded) return [...target.issues, ...unknownVariableIssues(env)];
  const targetKnown = target.ok && !embedded;
  const loaded = loadConfig(targetKnown ? env : { ...env, ...EMBEDDED_PLACEHOLDERS }, overrides);
  return [...(target.ok ? [] : target.issues), ...(loaded.ok ? [] : loaded.issues)];
}

function reportIssues(issues: readonly ConfigIssue[], env: NodeJS.ProcessEnv): 2 {
  for (const line of formatIssues(issues, createRedactor(rawSecrets(env)))) err(line);
  return 2;
}

async function runCommand(command: 'run' | 'probe', values: Record<string, unknown>, env: NodeJS.ProcessEnv): Promise<number> {
  const requested = checkIds(values.check, '--check');
  const skip = checkIds(values.skip, '--skip');
  let mode: RunCommandMode = command === 'probe' ? 'probe' : defaultMode(env);
  if (command === 'run' && values.mode !== undefined) {
    if (values.mode !== 'postdeploy' && values.mode !== 'ci') usageError(`unknown mode "${String(values.mode)}" (postdeploy or ci)`);
    mode = values.mode;
  }
  const overrides: Record<string, unknown> = {};
  if (values['allow-mutations']) overrides.allowMutations = true;
  if (values['allow-disruptive']) overrides.allowDisruptive = true;
  if (values['allow-skipped']) overrides.allowSkipped = true;
  if (skip) overrides.skip = skip;
  const embedded = values.embedded === true;
  const issues = validate(env, embedded, overrides);
  if (issues.length) return reportIssues(issues, env);
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
  assertStackInstalled();
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
async function longRunningConfig(env: NodeJS.ProcessEnv, embedded: boolean, overrides: Record<string, unknown>): Promise<{ config?: Config; stack?: EmbeddedStack; code?: number }> {
  const issues = validate(env, embedded, overrides);
  if (issues.length) return { code: reportIssues(issues, env) };
  let stack: EmbeddedStack | undefined;
  let effectiveEnv = env;
  if (embedded) {
    const base = loadConfig({ ...env, ...EMBEDDED_PLACEHOLDERS }, overrides);
    out('sentinel: --embedded: starting the local reference stack');
    stack = await startEmbeddedStack({ baseEnv: env, ...(base.ok ? { faults: base.config.stack.faults, protocol: base.config.stack.protocol, postgres: base.config.stack.postgres, debug: base.config.debug } : {}) });
    effectiveEnv = { ...env, ...stack.env };
  }
  const loaded = loadConfig(effectiveEnv, overrides);
  if (!loaded.ok) {
    reportIssues(loaded.issues, effectiveEnv);
    await stack?.stop();
    return { code: 2 };
  }
  return { config: loaded.config, ...(stack ? { stack } : {}) };
}

async function monitorCommand(values: Record<string, unknown>, env: NodeJS.ProcessEnv): Promise<number> {
  const listen = values.listen as string | undefined;
  const { config, stack, code } = await longRunningConfig(env, values.embedded === true, listen ? { monitor: { listen } } : {});
  if (!config) return code ?? 2;
  const { runMonitor } = await import('./monitor/index.ts');
  try {
    const sentinelEnv = Object.fromEntries(Object.entries({ ...env, ...stack?.env }).filter(([key]) => key.startsWith('SENTINEL_')));
    return await runMonitor(config, { ...(listen ? { listen } : {}), env: sentinelEnv, embedded: Boolean(stack) });
  } finally {
    await stack?.stop();
  }
}

async function watchDeploysCommand(values: Record<string, unknown>, env: NodeJS.ProcessEnv): Promise<number> {
  const { config, stack, code } = await longRunningConfig(env, values.embedded === true, {});
  if (!config) return code ?? 2;
  const { runDeployWatch } = await import('./watch-deploys.ts');
  try {
    return await runDeployWatch(config, { env: { ...env, ...stack?.env }, embedded: Boolean(stack) });
  } finally {
    await stack?.stop();
  }
}

function checkConfigCommand(values: Record<string, unknown>, env: NodeJS.ProcessEnv): number {
  const embedded = values.embedded === true;
  const issues = validate(env, embedded);
  if (!chooseTarget(env, embedded).ok) return reportIssues(issues, env);
  return checkConfig({ env, embedded, mode: defaultMode(env), write: out, writeError: err });
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
      return checkConfigCommand(values, env);
    case 'stack':
      return stackCommand();
    case 'monitor':
      return monitorCommand(values, env);
    default:
      return watchDeploysCommand(values, env);
  }
}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const redact = createRedactor(rawSecrets(env));
  try {
    return await dispatch(argv, env);
  } catch (error) {
    if (isSentinelError(error)) {
      // One line per line of the message (a multi-problem error lists one problem per line), never a stack.
      const lines = error.message.split('\n').map((line) => redact(line.replace(/\s+/g, ' ').trim())).filter(Boolean);
      lines.forEach((line, i) => err(i === 0 && !line.startsWith('sentinel:') ? `sentinel: ${line}` : line));
      return 2;
    }
    const message = error instanceof Error ? error.message : String(error);
    err(redact(`sentinel: internal error: ${message.replace(/\s+/g, ' ').trim()}`));
    const loaded = loadConfig({ ...env, ...EMBEDDED_PLACEHOLDERS });
    if (loaded.ok && loaded.config.debug && error instanceof Error && error.stack) err(redact(error.stack));
    return 2;
  }
}
