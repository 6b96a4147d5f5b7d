/**
 * One run of the suite (postdeploy | ci | probe-only): probes first (concurrently, a live line each),
 * then browser checks through Playwright, one CheckResult per check, then the reporters.
 * With `--embedded` the local reference stack is started for the run and stopped after it.
 */
import { resolve } from 'node:path';
import { resolveBrowser, type ResolvedBrowser } from '../core/browser.ts';
import { EMBEDDED_PLACEHOLDERS, collectSecrets, loadConfig, runEnvironment, type Config } from '../core/config.ts';
import { SentinelError } from '../core/errors.ts';
import { createRedactor, safeTarget, type Redactor } from '../core/redact.ts';
import { claimReportsDir } from '../core/reports-dir.ts';
import { CHECK_IDS, checkKind, totalsOf, type BrowserCheckId, type CheckId, type CheckResult, type ProbeCheckId, type RunSummary } from '../core/result.ts';
import { runProbe } from '../probes/run-probe.ts';
import { cleanupLines, sessionsSummary, type BrowserRunCleanup } from './cleanup.ts';
import { assertStackInstalled, startEmbeddedStack, type EmbeddedStack, type StartEmbeddedStackOptions } from './embedded-stack.ts';
import { runBrowserChecks, type RunBrowserChecksOptions } from './playwright.ts';
import { createStandardReporters, redactingFanOut, type Reporter, type WriteLine } from './reporters/index.ts';
import { isProbeId, selectChecks, unconfiguredChecks, type Selection } from './select.ts';

export type RunCommandMode = 'postdeploy' | 'ci' | 'probe';

export interface RunChecksOptions {
  mode: RunCommandMode;
  config: Config;
  selection: Selection;
  /** SENTINEL_* values describing the target, handed to the Playwright child. */
  env: Record<string, string | undefined>;
  reporter: Reporter;
  target: string;
  signal?: AbortSignal;
  /** Status lines between the per-check lines (the browser phase reports only when Playwright ends). */
  progress?: WriteLine;
  /** Replaceable for tests. */
  probe?: (id: ProbeCheckId, config: Config) => Promise<CheckResult>;
  browser?: (config: Config, env: Record<string, string | undefined>, options: RunBrowserChecksOptions) => Promise<CheckResult[]>;
}

function interrupted(id: CheckId, kind: CheckResult['kind']): CheckResult {
  return { id, kind, status: 'failed', reason: 'unexpected', message: 'the run was interrupted before this check finished', startedAt: new Date().toISOString(), durationMs: 0 };
}

/** Runs the selected checks and reports them; returns the (redacted) summary. */
export async function runChecks(options: RunChecksOptions): Promise<RunSummary> {
  const { config, selection, reporter, signal } = options;
  const probe = options.probe ?? ((id: ProbeCheckId, c: Config) => runProbe(id, c));
  const browser = options.browser ?? runBrowserChecks;
  const startedAt = new Date();
  const started = performance.now();
  const results = new Map<CheckId, CheckResult>();
  let cleanup: BrowserRunCleanup | undefined;
  const record = async (result: CheckResult) => {
    results.set(result.id, result);
    await reporter.onCheck(result);
  };

  for (const result of selection.skipped) await record(result);

  const probeIds = selection.run.filter(isProbeId);
  await Promise.all(
    probeIds.map(async (id) => {
      await record(await probe(id, config));
    }),
  );

  const browserIds = selection.run.filter((id): id is BrowserCheckId => !isProbeId(id));
  if (browserIds.length > 0) {
    if (signal?.aborted) {
      for (const id of browserIds) await record(interrupted(id, 'browser'));
    } else {
      options.progress?.(`… running ${browserIds.join(', ')} in Playwright`);
      const browserResults = await browser(config, options.env, {
        onStep: (who, line) => options.progress?.(`… ${who}: ${line}`),
        checks: browserIds,
        reportsDir: resolve(config.reportsDir),
        ...(signal ? { signal } : {}),
        onResult: (result) => record(result),
        onCleanup: (done) => {
          cleanup = done;
        },
      });
      // Checks reported live keep their line; the summary gets their final form (scrubbing may have dropped artifacts).
      for (const result of browserResults) {
        if (results.has(result.id)) results.set(result.id, result);
        else await record(result);
      }
      for (const line of cleanup ? cleanupLines(cleanup) : []) options.progress?.(line);
    }
  }

  const checks = CHECK_IDS.map((id) => results.get(id) ?? interrupted(id, isProbeId(id) ? 'probe' : 'browser'));
  const summary: RunSummary = {
    mode: options.mode,
    target: options.target,
    startedAt: startedAt.toISOString(),
    durationMs: Math.round(performance.now() - started),
    checks,
    totals: totalsOf(checks),
    ...(cleanup ? { scrub: cleanup.scrub, sessions: sessionsSummary(cleanup.sessions) } : {}),
  };
  await reporter.onEnd(summary);
  return summary;
}

export interface ExecuteRunOptions {
  mode: RunCommandMode;
  /** The process environment (SENTINEL_* and the rest). */
  env: NodeJS.ProcessEnv;
  /** Flag overrides for loadConfig (e.g. { allowMutations: true, checks: [...] }). */
  overrides?: Record<string, unknown>;
  requested?: readonly CheckId[];
  write: WriteLine;
  signal?: AbortSignal;
  /** Replaceable for tests. */
  startStack?: (options: StartEmbeddedStackOptions) => Promise<EmbeddedStack>;
  reporters?: (config: Config) => Promise<Reporter[]>;
  probe?: RunChecksOptions['probe'];
  browser?: RunChecksOptions['browser'];
  embedded: boolean;
  /** Push the run's metrics to the Pushgateway when one is configured (one-shot runs of the CLI). */
  push?: boolean;
  /** Which Chromium the browser checks get (core/browser.ts); replaceable for tests. */
  resolveBrowser?: (config: Config) => Promise<ResolvedBrowser>;
}

/** Browser checks the embedded stack will get, judged before it starts (its users are not known yet). */
function embeddedRunWantsBrowser(mode: RunCommandMode, settings: Config, requested: readonly CheckId[] | undefined): boolean {
  if (mode === 'probe') return false;
  const ids = requested?.length ? requested : (settings.checks ?? CHECK_IDS);
  return ids.some((id) => checkKind(id) === 'browser' && !settings.skip.includes(id));
}

function configOrThrow(env: NodeJS.ProcessEnv, overrides: Record<string, unknown>): Config {
  const loaded = loadConfig(env, overrides);
  if (loaded.ok) return loaded.config;
  const first = loaded.issues[0]!;
  throw new SentinelError('config_invalid', `configuration invalid (${loaded.issues.length} problem(s); run \`sentinel check-config\`): ${first.path}: ${first.message}`);
}

/** The whole `sentinel run` / `sentinel probe`: target (configured or embedded), selection, checks, reports. */
export async function executeRun(options: ExecuteRunOptions): Promise<RunSummary> {
  const overrides = options.overrides ?? {};
  let stack: EmbeddedStack | undefined;
  let browserAnnounced = false;
  // Which Chromium and why, among the first lines; no browser stops the run before anything starts.
  const announceBrowser = async (config: Config) => {
    const browser = await (options.resolveBrowser ?? resolveBrowser)(config);
    options.write(`sentinel: browser: ${browser.description}`);
    browserAnnounced = true;
  };
  try {
    let env: NodeJS.ProcessEnv = options.env;
    if (options.embedded) {
      const settings = configOrThrow({ ...options.env, ...EMBEDDED_PLACEHOLDERS }, overrides);
      // a reports folder sentinel may not write into stops the run before anything starts
      claimReportsDir(settings.reportsDir);
      // a production install lacks the stack's packages: say so before a browser is unpacked for nothing
      if (!options.startStack) assertStackInstalled();
      if (embeddedRunWantsBrowser(options.mode, settings, options.requested)) await announceBrowser(settings);
      options.write('sentinel: --embedded: starting the local reference stack');
      const start = options.startStack ?? startEmbeddedStack;
      stack = await start({
        baseEnv: options.env,
        faults: settings.stack.faults,
        protocol: settings.stack.protocol,
        postgres: settings.stack.postgres,
        debug: settings.debug,
        ...(options.signal ? { signal: options.signal } : {}),
      });
      env = { ...options.env, ...stack.env };
      if (stack.info.postgres) options.write(`sentinel: --embedded: PostgreSQL: ${stack.info.postgres}`);
    }
    const config = configOrThrow(env, overrides);
    // Nothing is written into (or scrubbed in) a folder sentinel did not create (core/reports-dir.ts).
    const reportsDir = claimReportsDir(config.reportsDir);
    const redact: Redactor = createRedactor(collectSecrets(config));
    const target = safeTarget(config.appUrl);
    const faults = stack?.info.faults?.length ? `, faults: ${stack.info.faults.join(', ')}` : '';
    options.write(`sentinel: ${options.mode} run against ${target}${options.embedded ? ` (embedded stack${faults})` : ''}`);
    const selection = selectChecks({ mode: options.mode, config, embedded: options.embedded, ...(options.requested ? { requested: options.requested } : {}) });
    const unvouched = unconfiguredChecks(options.mode, config, selection);
    if (unvouched.length) {
      throw new SentinelError('not_configured', [`sentinel: a ${options.mode} run cannot vouch for ${unvouched.length === 1 ? 'a check that is' : `${unvouched.length} checks that are`} not configured:`, ...unvouched].join('\n'));
    }
    if (!browserAnnounced && selection.run.some((id) => !isProbeId(id))) await announceBrowser(config);
    const { stepSummaryPath } = runEnvironment(options.env);
    const reporters = options.reporters
      ? await options.reporters(config)
      : await createStandardReporters({ reportsDir, write: options.write, ...(stepSummaryPath ? { stepSummaryPath } : {}) });
    const sentinelEnv = Object.fromEntries(Object.entries(env).filter(([key]) => key.startsWith('SENTINEL_')));
    const summary = await runChecks({
      mode: options.mode,
      config,
      selection,
      env: sentinelEnv,
      reporter: redactingFanOut(reporters, redact),
      target,
      progress: options.write,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.probe ? { probe: options.probe } : {}),
      ...(options.browser ? { browser: options.browser } : {}),
    });
    if (options.push && config.pushgatewayUrl) {
      const { pushRunMetrics } = await import('./pushgateway.ts');
      await pushRunMetrics(config, summary, { mode: options.mode, warn: options.write });
    }
    return summary;
  } finally {
    if (stack) {
      options.write('sentinel: stopping the embedded local stack');
      await stack.stop();
    }
  }
}
