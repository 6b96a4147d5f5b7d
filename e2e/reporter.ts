/**
 * Playwright reporter → `<reportsDir>/e2e-results.json`: one CheckResult (core/result.ts) per
 * selected browser check. Checks that never ran because the setup sign-in failed are reported
 * failed with the setup's reason, never missing and never passed. A failure without a reason of its
 * own is named by the transport rule the probes use (core/network-errors.ts: net::ERR_* and Node
 * codes), else `timeout` or `assertion`. Time spent waiting out a 429 on sign-in is reported as
 * `signInWaitMs` (the check's own sign-ins) and `setupSignInWaitMs` (the setup's, which every check of
 * the run depends on). At exit (after the HTML report is written) the reports folder is scrubbed of
 * secrets once more.
 */
import { mkdirSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { FullConfig, FullResult, Reporter, Suite, TestCase, TestResult } from '@playwright/test/reporter';
import { internalVariables, type Config } from '../core/config.ts';
import type { Redactor } from '../core/redact.ts';
import { safeTarget } from '../core/redact.ts';
import { networkFailureIn } from '../core/network-errors.ts';
import { BROWSER_CHECK_IDS, isReason, isWarning, type BrowserCheckId, type CheckResult, type Reason, type Warning } from '../core/result.ts';
import { CHECK_ANNOTATION, OBSERVATIONS_ATTACHMENT, REASON_ANNOTATION, SETUP_ANNOTATION, SIGN_IN_WAIT_ANNOTATION, WARNING_ANNOTATION } from './support/check-annotations.ts';
import { loadSentinelConfig, reportsDirOf } from './support/suite-config.ts';
import { runRedactor, scrubRunReports } from './support/redaction.ts';
import { PROGRESS_PREFIX } from './support/progress.ts';
import { UNRECORDED_ANNOTATION } from './support/secrets.ts';

export const E2E_RESULTS_FILE = 'e2e-results.json';

interface Annotation {
  type: string;
  description?: string;
}

const ANSI = /\u001b\[[0-9;]*m/g;

function annotationsOf(test: TestCase, result: TestResult | undefined): Annotation[] {
  return [...test.annotations, ...((result as { annotations?: Annotation[] } | undefined)?.annotations ?? [])];
}

function checkIdOf(test: TestCase): BrowserCheckId | undefined {
  const id = test.annotations.find((a) => a.type === CHECK_ANNOTATION)?.description;
  return (BROWSER_CHECK_IDS as readonly string[]).includes(id ?? '') ? (id as BrowserCheckId) : undefined;
}

function reasonOf(test: TestCase, result: TestResult | undefined): Reason | undefined {
  const found = annotationsOf(test, result).find((a) => a.type === REASON_ANNOTATION && a.description && isReason(a.description));
  return found?.description as Reason | undefined;
}

/** Warnings a passing test recorded (`<code>: <message>`), and their messages as one line. */
function warningsOf(test: TestCase, result: TestResult | undefined): { warnings: Warning[]; message?: string } {
  const warnings: Warning[] = [];
  const messages: string[] = [];
  for (const a of annotationsOf(test, result)) {
    if (a.type !== WARNING_ANNOTATION || !a.description) continue;
    const [code, ...rest] = a.description.split(': ');
    if (!code || !isWarning(code) || warnings.includes(code)) continue;
    warnings.push(code);
    if (rest.length) messages.push(rest.join(': '));
  }
  return messages.length ? { warnings, message: messages.join('; ') } : { warnings };
}

/** The first line of the error; for a web-first assertion also its `Locator:` line, which says what was missing. */
function firstErrorLine(result: TestResult | undefined): string | undefined {
  const error = result?.errors[0] ?? result?.error;
  const lines = (error?.message ?? error?.value ?? '')
    .replace(ANSI, '')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  const first = lines[0]?.replace(/^(CheckFailure|Error): /, '');
  const locator = lines.find((line) => line.startsWith('Locator:'));
  return first && locator && first.startsWith('expect(') ? `${first} (${locator})` : first;
}

function isTimeout(result: TestResult | undefined): boolean {
  if (result?.status === 'timedOut') return true;
  const message = (result?.errors[0]?.message ?? '').replace(ANSI, '');
  return /TimeoutError|Test timeout of \d+ms exceeded|Timeout \d+ms exceeded/.test(message);
}

/** The reason of a failure that recorded none: a transport failure by the probes' rule, else timeout or assertion. */
export function unreasonedFailure(result: TestResult | undefined): Reason {
  const error = result?.errors[0] ?? result?.error;
  const network = networkFailureIn((error?.message ?? error?.value ?? '').replace(ANSI, ''));
  if (network) return network.reason;
  return isTimeout(result) ? 'timeout' : 'assertion';
}

/**
 * Milliseconds the test's sign-ins waited out a 429. Summed over the result's own annotations only:
 * Playwright hands the test the same list, so counting both would count every wait twice.
 */
export function signInWaitOf(test: TestCase, result: TestResult | undefined): number {
  const annotations = (result as { annotations?: Annotation[] } | undefined)?.annotations ?? test.annotations;
  return annotations.filter((a) => a.type === SIGN_IN_WAIT_ANNOTATION).reduce((sum, a) => sum + (Number(a.description) || 0), 0);
}

const EVENTS_FD = internalVariables(process.env).eventsFd;

/** One JSON line to the runner, when it listens (a bare `npx playwright test` has no such channel). */
function sendEvent(event: { result: CheckResult } | { step: { who: string; line: string } }): void {
  if (EVENTS_FD === undefined) return;
  try {
    writeSync(EVENTS_FD, `${JSON.stringify(event)}\n`);
  } catch {
    // the runner reads the results file at the end anyway; a lost live line only delays the news
  }
}

export default class SentinelReporter implements Reporter {
  private root: Suite | undefined;
  private sentinel: Config | undefined;
  private redactor: Redactor | undefined;

  printsToStdio(): boolean {
    return false;
  }

  onBegin(_config: FullConfig, suite: Suite): void {
    this.root = suite;
    this.sentinel = loadSentinelConfig();
  }

  /** A check's result the moment its last attempt ends (the runner prints it at once). */
  onTestEnd(test: TestCase, result: TestResult): void {
    const id = checkIdOf(test);
    if (!id || !this.sentinel) return;
    const final = result.status === 'passed' || result.status === 'skipped' || result.retry >= test.retries;
    if (final) sendEvent({ result: this.resultOf(test, id) });
  }

  /** Step lines a check prints while it waits (e2e/support/progress.ts), for the runner to show. */
  onStdOut(chunk: string | Buffer, test?: TestCase): void {
    for (const line of chunk.toString().split('\n')) {
      if (!line.startsWith(PROGRESS_PREFIX)) continue;
      const who = test ? (checkIdOf(test) ?? test.annotations.find((a) => a.type === SETUP_ANNOTATION)?.description ?? 'setup') : 'setup';
      sendEvent({ step: { who, line: this.redact(line.slice(PROGRESS_PREFIX.length)) } });
    }
  }

  private get redact(): Redactor {
    this.redactor ??= runRedactor(this.sentinel!);
    return this.redactor;
  }

  private setupFailure(): { reason: Reason; message: string } | undefined {
    const setups = this.root!.allTests().filter((t) => t.annotations.some((a) => a.type === SETUP_ANNOTATION));
    for (const setup of setups) {
      const last = setup.results.at(-1);
      if (setup.outcome() !== 'unexpected' || !last) continue;
      const reason = reasonOf(setup, last) ?? unreasonedFailure(last);
      const who = setup.annotations.find((a) => a.type === SETUP_ANNOTATION)?.description ?? 'a user';
      return { reason, message: `setup sign-in failed: ${firstErrorLine(last) ?? 'no error message'} (${who})` };
    }
    return undefined;
  }

  private artifactsOf(result: TestResult): string[] {
    const reportsDir = reportsDirOf(this.sentinel!);
    return result.attachments
      .filter((a) => a.path && (a.name === 'trace' || a.name === 'screenshot' || a.contentType.startsWith('image/')))
      .map((a) => path.relative(reportsDir, a.path!));
  }

  private attachedObservations(result: TestResult): Record<string, unknown> | undefined {
    const attachment = result.attachments.find((a) => a.name === OBSERVATIONS_ATTACHMENT && a.body);
    if (!attachment?.body) return undefined;
    try {
      return this.redact.deep(JSON.parse(attachment.body.toString('utf8')) as Record<string, unknown>);
    } catch {
      return undefined;
    }
  }

  /** Rate-limit waits of the setup sign-ins of this run. */
  private setupSignInWaitMs(): number {
    const setups = this.root!.allTests().filter((t) => t.annotations.some((a) => a.type === SETUP_ANNOTATION));
    return setups.reduce((sum, setup) => sum + signInWaitOf(setup, setup.results.at(-1)), 0);
  }

  /** What the spec attached, plus the sign-in waits (only when there were any). */
  private observationsOf(test: TestCase, result: TestResult): Record<string, unknown> | undefined {
    const own = signInWaitOf(test, result);
    const setup = this.setupSignInWaitMs();
    const waits = { ...(own > 0 ? { signInWaitMs: own } : {}), ...(setup > 0 ? { setupSignInWaitMs: setup } : {}) };
    const attached = this.attachedObservations(result);
    return attached || own > 0 || setup > 0 ? { ...attached, ...waits } : undefined;
  }

  private resultOf(test: TestCase, id: BrowserCheckId): CheckResult {
    const target = safeTarget(this.sentinel!.appUrl);
    const base = { id, kind: 'browser' as const, target };
    const last = test.results.at(-1);
    if (!last) {
      const setup = this.setupFailure();
      if (setup) {
        const setupWaitMs = this.setupSignInWaitMs();
        return {
          ...base,
          status: 'failed',
          startedAt: new Date().toISOString(),
          durationMs: 0,
          reason: setup.reason,
          message: this.redact(setup.message),
          ...(setupWaitMs > 0 ? { observations: { setupSignInWaitMs: setupWaitMs } } : {}),
        };
      }
      return { ...base, status: 'skipped', startedAt: new Date().toISOString(), durationMs: 0, reason: 'dependency_failed', message: 'not run: a check it waits for failed first' };
    }
    const startedAt = (test.results[0] ?? last).startTime.toISOString();
    const durationMs = test.results.reduce((sum, r) => sum + r.duration, 0);
    const observations = this.observationsOf(test, last);
    const withObservations = observations ? { observations } : {};
    switch (test.outcome()) {
      case 'expected': {
        const { warnings, message } = warningsOf(test, last);
        const withWarnings = warnings.length ? { warnings, ...(message ? { message: this.redact(message) } : {}) } : {};
        return { ...base, status: 'passed', startedAt, durationMs, ...withWarnings, ...withObservations };
      }
      case 'flaky':
        return { ...base, status: 'flaky', startedAt, durationMs, message: 'passed only after a retry', ...withObservations };
      case 'skipped': {
        const why = annotationsOf(test, last).find((a) => a.type === 'skip')?.description ?? 'skipped';
        return { ...base, status: 'skipped', startedAt, durationMs, reason: reasonOf(test, last) ?? 'not_permitted', message: this.redact(why) };
      }
      default: {
        const reason = reasonOf(test, last) ?? unreasonedFailure(last);
        const message = this.redact(firstErrorLine(last) ?? `failed (${last.status})`);
        const artifacts = this.artifactsOf(last);
        return { ...base, status: 'failed', startedAt, durationMs, reason, message, ...withObservations, ...(artifacts.length ? { artifacts } : {}) };
      }
    }
  }

  onEnd(_result: FullResult): void {
    if (!this.root || !this.sentinel) return;
    const results: CheckResult[] = [];
    for (const test of this.root.allTests()) {
      const id = checkIdOf(test);
      if (id) results.push(this.resultOf(test, id));
    }
    const reportsDir = reportsDirOf(this.sentinel);
    mkdirSync(reportsDir, { recursive: true });
    writeFileSync(path.join(reportsDir, E2E_RESULTS_FILE), `${JSON.stringify(results, null, 2)}\n`);
  }

  async onExit(): Promise<void> {
    if (!this.sentinel) return;
    const unrecorded = (this.root?.allTests() ?? []).flatMap((test) => test.results.flatMap((result) => annotationsOf(test, result).filter((a) => a.type === UNRECORDED_ANNOTATION).map((a) => `${test.title}: ${a.description ?? 'unknown'}`)));
    await scrubRunReports(this.sentinel, unrecorded);
  }
}
