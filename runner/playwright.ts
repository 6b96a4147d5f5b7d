/**
 * Browser checks run as a Playwright child process (docs/architecture.md, "Processes per mode"): the runner reaches e2e/
 * only through `playwright test`, never by import. The child gets an explicit environment, its own
 * process group (so a deadline or Ctrl-C takes Chromium down with it), and its results come back
 * through e2e/reporter.ts's `<reportsDir>/e2e-results.json`.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { resolveBrowser } from '../core/browser.ts';
import type { Config } from '../core/config.ts';
import { SentinelError } from '../core/errors.ts';
import { INTERNAL_VARIABLES, collectSecrets } from '../core/config.ts';
import { createRedactor } from '../core/redact.ts';
import { claimReportsDir, claimReportsSubdir } from '../core/reports-dir.ts';
import { readJsonLines, stateFile } from '../core/run-state.ts';
import { dropBrowserArtifacts, scrubReports, secretVariants, type ScrubReport } from '../core/scrub.ts';
import { endStoredSessions, writeSessionTarget, type SessionEnding } from '../core/sign-out.ts';
import { isCheckId, type BrowserCheckId, type CheckResult } from '../core/result.ts';
import { mergeCleanups, mergeScrubReports, type BrowserRunCleanup } from './cleanup.ts';
import { errorLine } from './child-output.ts';
import { REPO_ROOT } from './embedded-stack.ts';

export const E2E_RESULTS_FILE = 'e2e-results.json';

export interface RunBrowserChecksOptions {
  checks: readonly BrowserCheckId[];
  reportsDir: string;
  signal?: AbortSignal;
  /** Called once per check id as its result becomes known (as soon as its test ends). */
  onResult?: (result: CheckResult) => void | Promise<void>;
  /** A step line of a running check (`who`: the check id, or the setup), e.g. a wait for the sign-in limit. */
  onStep?: (who: string, line: string) => void;
  /** Overall deadline of the Playwright run; default derived from the config's timeouts. */
  deadlineMs?: number;
  /** Called once at the end with how scrubbing went and the sessions left signed in (runner/cleanup.ts). */
  onCleanup?: (cleanup: BrowserRunCleanup) => void;
  /** Playwright workers (the monitor runs one flow at a time); default the config's. */
  workers?: number;
  /**
   * Resolve the browser here first, so no Chromium is one clear error (exit 2) before Playwright starts;
   * default true. The monitor's browser child leaves it to Playwright's config, which resolves it anyway.
   */
  checkBrowser?: boolean;
  /** Command line of the child (tests use a fake Playwright); default the resolved Playwright CLI. */
  command?: { file: string; args: string[] };
}

/** Variables of the parent the child may see besides SENTINEL_*: none of them secret. */
const PASS_THROUGH = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'LC_ALL', 'TZ', 'CI', 'GITHUB_ACTIONS', 'PLAYWRIGHT_BROWSERS_PATH'];

export function playwrightCliPath(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@playwright/test/package.json')), 'cli.js');
}

/** A --grep that matches exactly the tests titled with one of these check ids. */
export function grepFor(checks: readonly BrowserCheckId[]): string {
  return `(^|[\\s›])(${checks.join('|')})(?![\\w-])`;
}

/**
 * The child's environment: PATH/HOME and friends, the SENTINEL_* values that describe the target,
 * the permissions as the (flag-overridden) config says, and the absolute reports folder.
 */
/** Tags the selection left out are excluded again by tag, so a mistitled spec cannot slip in. */
export function grepInvertFor(checks: readonly BrowserCheckId[]): string[] {
  const tags = [
    ...(checks.includes('e2e-session-redeploy') ? [] : ['@disruptive']),
    ...(checks.includes('e2e-admin-crud') ? [] : ['@mutating']),
  ];
  return tags.length ? ['--grep-invert', tags.join('|')] : [];
}

export function childEnv(config: Config, sentinelEnv: Record<string, string | undefined>, reportsDir: string, parent: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of PASS_THROUGH) {
    const value = parent[key];
    if (value !== undefined) env[key] = value;
  }
  for (const [key, value] of Object.entries(sentinelEnv)) {
    if (key.startsWith('SENTINEL_') && value !== undefined) env[key] = value;
  }
  if (config.allowMutations !== undefined) env.SENTINEL_ALLOW_MUTATIONS = String(config.allowMutations);
  if (config.allowDisruptive !== undefined) env.SENTINEL_ALLOW_DISRUPTIVE = String(config.allowDisruptive);
  for (const key of ['SENTINEL_CONFIG', 'SENTINEL_CA_CERT'] as const) {
    const value = env[key];
    if (value) env[key] = resolve(value);
  }
  env.SENTINEL_REPORTS_DIR = reportsDir;
  env.FORCE_COLOR = '0';
  return env;
}

export function defaultDeadlineMs(config: Config, checks: readonly BrowserCheckId[]): number {
  const perCheck = config.timeouts.browserCheckMs * (config.e2eRetries + 1);
  const redeploy = checks.includes('e2e-session-redeploy') ? config.coolify.deployTimeoutMs : 0;
  // the setup project signs in once per user before the specs start
  return 60_000 + perCheck * (checks.length + 2) + redeploy;
}

async function readResults(file: string): Promise<CheckResult[] | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed: unknown = JSON.parse(text);
    return Array.isArray(parsed) ? (parsed as CheckResult[]).filter((r) => r && typeof r.id === 'string' && isCheckId(r.id)) : undefined;
  } catch {
    return undefined; // half-written; the final read decides
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is already gone
  }
}

/**
 * Browser checks in up to two Playwright runs: the independent checks first, then the disruptive
 * redeploy on its own (`--project disruptive --no-deps`). Playwright would skip the redeploy when
 * any earlier check failed; a separate run keeps every verdict independent and still never lets
 * the redeploy overlap another spec. Each run gets its own reports subfolder and state folder.
 */
export async function runBrowserChecks(
  config: Config,
  env: Record<string, string | undefined>,
  options: RunBrowserChecksOptions,
): Promise<CheckResult[]> {
  const checks = [...options.checks];
  if (checks.length === 0) return [];
  if (!options.command && options.checkBrowser !== false) await resolveBrowser(config); // throws SentinelError('no_browser') → exit 2
  const independent = checks.filter((id) => id !== 'e2e-session-redeploy');
  const disruptive = checks.filter((id) => id === 'e2e-session-redeploy');
  const results: CheckResult[] = [];
  const cleanups: BrowserRunCleanup[] = [];
  if (independent.length > 0) {
    const run = await runPlaywright(config, env, options, independent, { subdir: '' });
    results.push(...run.results);
    cleanups.push(run.cleanup);
  }
  if (disruptive.length > 0 && !options.signal?.aborted) {
    const run = await runPlaywright(config, env, options, disruptive, { subdir: DISRUPTIVE_SUBDIR, project: 'disruptive' });
    results.push(...run.results);
    cleanups.push(run.cleanup);
  }
  options.onCleanup?.(mergeCleanups(cleanups));
  return checks.map((id) => results.find((r) => r.id === id)!);
}

/** Reports of the separate redeploy run, below the reports folder. */
export const DISRUPTIVE_SUBDIR = 'redeploy';

async function runPlaywright(
  config: Config,
  env: Record<string, string | undefined>,
  options: RunBrowserChecksOptions,
  checks: BrowserCheckId[],
  phase: { subdir: string; project?: string },
): Promise<{ results: CheckResult[]; cleanup: BrowserRunCleanup }> {
  // Nothing is written or scrubbed in a folder sentinel did not create (core/reports-dir.ts).
  const reportsRoot = claimReportsDir(options.reportsDir);
  const reportsDir = phase.subdir ? claimReportsSubdir(reportsRoot, phase.subdir) : reportsRoot;
  const resultsFile = join(reportsDir, E2E_RESULTS_FILE);
  await rm(resultsFile, { force: true });
  const orphaned = await removeOrphanedStateDirs(tmpdir());
  const stateDir = await mkdtemp(join(tmpdir(), `${STATE_DIR_PREFIX}${process.pid}-`));
  // whoever must sign this run's stored sessions out (the runner below, the orphan guard) needs the app
  await writeSessionTarget(stateDir, { appUrl: config.appUrl, timeoutMs: config.timeouts.actionMs });
  const redact = createRedactor(secretVariants(collectSecrets(config)));
  const debug = config.debug;
  const startedAt = new Date().toISOString();
  const started = performance.now();

  const projectArgs = phase.project ? ['--project', phase.project, '--no-deps'] : ['--project', 'setup', '--project', 'checks'];
  const command = options.command ?? {
    file: process.execPath,
    args: [playwrightCliPath(), 'test', '--config', join(REPO_ROOT, 'playwright.config.ts'), ...projectArgs, '--grep', grepFor(checks), ...grepInvertFor(checks), ...(options.workers ? ['--workers', String(options.workers)] : [])],
  };
  const child = spawn(command.file, command.args, {
    // the user's folder, so relative paths in SENTINEL_* (config file, CA, migrations) mean what they meant
    cwd: process.cwd(),
    // parentPid: Playwright's runner takes its group down if this process dies first (e2e/support/orphan-guard.ts)
    env: { ...childEnv(config, env, reportsDir), [INTERNAL_VARIABLES.stateDir]: stateDir, [INTERNAL_VARIABLES.parentPid]: String(process.pid), [INTERNAL_VARIABLES.eventsFd]: '3' },
    // fd 3: e2e/reporter.ts sends each result and step line as it happens
    stdio: ['ignore', debug ? 'inherit' : 'ignore', debug ? 'inherit' : 'pipe', 'pipe'],
    detached: true, // own process group: a kill reaches Chromium and the workers too
  });
  let stderrTail = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderrTail = (stderrTail + chunk.toString()).slice(-2000);
  });

  const reported = new Set<string>();
  const report = async (results: CheckResult[] | undefined) => {
    for (const result of results ?? []) {
      if (!checks.includes(result.id as BrowserCheckId) || reported.has(result.id)) continue;
      reported.add(result.id);
      await options.onResult?.(redact.deep(result));
    }
  };
  // Live: each result as its test ends, each step line as it is printed.
  const liveResults = new Map<string, CheckResult>();
  const events = child.stdio[3] as Readable | null | undefined;
  let live = Promise.resolve();
  if (events) {
    createInterface({ input: events }).on('line', (line) => {
      let event: { result?: CheckResult; step?: { who: string; line: string } };
      try {
        event = JSON.parse(line) as typeof event;
      } catch {
        return; // not ours
      }
      if (event.step) options.onStep?.(event.step.who, redact(event.step.line));
      if (event.result && isCheckId(event.result.id)) {
        const result = withArtifactsUnder(phase.subdir, event.result)!;
        liveResults.set(result.id, result);
        live = live.then(() => report([result]));
      }
    });
  }

  const deadlineMs = options.deadlineMs ?? defaultDeadlineMs(config, checks);
  let stopReason: 'deadline' | 'interrupted' | undefined;
  const stopChild = (why: 'deadline' | 'interrupted') => {
    if (stopReason || child.pid === undefined || child.exitCode !== null) return;
    stopReason = why;
    killGroup(child.pid, 'SIGTERM');
    setTimeout(() => child.pid !== undefined && killGroup(child.pid, 'SIGKILL'), 5_000).unref();
  };
  const deadline = setTimeout(() => stopChild('deadline'), deadlineMs);
  const onAbort = () => stopChild('interrupted');
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) onAbort();

  const exit = await new Promise<{ code: number | null; error?: Error }>((done) => {
    child.once('error', (error) => done({ code: null, error }));
    child.once('close', (code) => done({ code }));
  });
  clearTimeout(deadline);
  options.signal?.removeEventListener('abort', onAbort);
  // Whatever the outcome, no straggler (a worker, Chromium) may outlive the run.
  if (child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
  if (exit.error) throw new SentinelError('environment', `cannot start Playwright: ${exit.error.message}`, { cause: exit.error });

  // Stored sessions still here were not ended by the setup's teardown project (it failed, or the run
  // was stopped before it): signed out now, and reported either way.
  let sessions: SessionEnding[];
  let scrub: ScrubReport;
  try {
    sessions = [...orphaned.sessions, ...(await endStoredSessions(stateDir))];
    scrub = await scrubAfterPlaywright(config, stateDir, reportsDir);
  } finally {
    await rm(stateDir, { recursive: true, force: true });
  }
  const cleanup: BrowserRunCleanup = { scrub: withPathsUnder(phase.subdir, scrub), sessions };
  const results = (await readResults(resultsFile)) ?? [];
  const byId = new Map(results.map((r) => [r.id, r]));
  const lastError = redact(errorLine(stderrTail)).slice(0, 300);
  const missingMessage =
    stopReason === 'deadline'
      ? `no result from Playwright: the browser run exceeded its deadline of ${Math.round(deadlineMs / 1000)} s and was stopped`
      : stopReason === 'interrupted'
        ? 'no result from Playwright: the run was interrupted'
        : `no result from Playwright (exit code ${exit.code}${lastError ? `; ${lastError}` : ''})`;

  const final = checks.map((id): CheckResult =>
    withArtifactsUnder(phase.subdir, byId.get(id)) ?? liveResults.get(id) ?? {
      id,
      kind: 'browser',
      status: 'failed',
      reason: stopReason === 'deadline' ? 'timeout' : 'unexpected',
      message: missingMessage,
      startedAt,
      durationMs: Math.round(performance.now() - started),
    },
  );
  await live; // the live results first, so a check is never reported twice
  await report(final);
  return { results: final.map((r) => redact.deep(r)), cleanup };
}

/**
 * The runner's own scrub once Playwright has exited, with the secrets the run recorded as well. The
 * browser artifacts are dropped when a secret went unrecorded (the Playwright side drops them too,
 * but a run stopped early never got there) or the record cannot be read. Merged with the outcomes of
 * the Playwright side's scrubs (e2e/support/redaction.ts).
 */
async function scrubAfterPlaywright(config: Config, stateDir: string, reportsDir: string): Promise<ScrubReport> {
  const problems: string[] = [];
  const read = <T>(name: Parameters<typeof stateFile>[1], what: string): T[] => {
    try {
      return readJsonLines<T>(stateFile(stateDir, name));
    } catch (error) {
      problems.push(`${what} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
      return [];
    }
  };
  const recorded = read<string>('recordedSecrets', 'the recorded secrets');
  const failures = read<{ test: string; why: string }>('recorderFailures', 'the record of recorder failures');
  const earlier = read<ScrubReport>('scrubLog', 'the Playwright side\'s scrub outcome');
  problems.push(...failures.map((f) => `${f.test}: ${f.why}`));
  const redact = createRedactor(secretVariants([...collectSecrets(config), ...recorded]));
  const own: ScrubReport = { filesRewritten: 0, filesReplaced: [] };
  const alreadyDropped = earlier.some((r) => r.artifactsDropped);
  if (problems.length > 0) {
    const dropped = await dropBrowserArtifacts(reportsDir);
    if (!alreadyDropped || dropped.length) own.artifactsDropped = redact(`the session-token recorder failed, so traces, screenshots and the HTML report were removed (${problems.join('; ')})`);
  }
  const summary = await scrubReports(reportsDir, redact);
  own.filesRewritten = summary.filesRewritten;
  own.filesReplaced = summary.filesReplaced;
  return mergeScrubReports([...earlier, own]);
}

function withPathsUnder(subdir: string, scrub: ScrubReport): ScrubReport {
  return subdir ? { ...scrub, filesReplaced: scrub.filesReplaced.map((file) => join(subdir, file)) } : scrub;
}

/** The pacer's record of sign-in times (e2e/support/pacer.ts), or what we seeded it with. */
/** `<tmp>/sentinel-e2e-state-<pid of the run>-XXXXXX`: the run's signed-in storage state and pacer record. */
const STATE_DIR_PREFIX = 'sentinel-e2e-state-';

/**
 * A run killed outright together with its Playwright group (the OOM killer, `kill -9` of the job) never
 * removes its state folder, which holds signed-in storage state: every run signs those sessions out
 * and removes the folders of runs gone.
 */
export async function removeOrphanedStateDirs(dir = tmpdir()): Promise<{ removed: string[]; sessions: SessionEnding[] }> {
  const removed: string[] = [];
  const sessions: SessionEnding[] = [];
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const owner = new RegExp(`^${STATE_DIR_PREFIX}(\\d+)-`).exec(name);
    if (!owner || processAlive(Number(owner[1]))) continue;
    // Its stored sessions are signed out first, against the app that run wrote down.
    for (const outcome of await endStoredSessions(join(dir, name))) sessions.push({ ...outcome, who: `${outcome.who} (of an earlier run that was killed)` });
    await rm(join(dir, name), { recursive: true, force: true });
    removed.push(name);
  }
  return { removed, sessions };
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Artifact paths are relative to the run's own reports folder; make them relative to the top one. */
function withArtifactsUnder(subdir: string, result: CheckResult | undefined): CheckResult | undefined {
  if (!result || !subdir || !result.artifacts) return result;
  return { ...result, artifacts: result.artifacts.map((artifact) => join(subdir, artifact)) };
}
