/**
 * The probe runner: it owns the deadline, the timing, the error capture and
 * the redaction, so each probe stays a plain function of its protocol. `runProbe` never throws and
 * never outlives its deadline — a probe that ignores its signal still yields failed/timeout on time.
 */
import { readFile, stat } from 'node:fs/promises';
import { collectSecrets, type Config } from '../core/config.ts';
import { createRedactor, type Redactor } from '../core/redact.ts';
import { SignInSlotTimeout, claimSignInSlot } from '../core/sign-in-record.ts';
import type { CheckResult, ProbeCheckId } from '../core/result.ts';
import { classify } from './errors.ts';
import { SIGN_IN_PROBES, SIGN_IN_SLOT_WAIT_MAX_MS } from './probe-deadline.ts';
import { probes } from './registry.ts';
import { checkTarget } from '../core/targets.ts';
import type { ProbeContext, ProbeFn } from './types.ts';

export interface RunProbeOptions {
  /** Deadline of this probe; default config.timeouts.probeMs. */
  timeoutMs?: number;
  now?: () => Date;
}

/** The CA file, read again only when it changed (a stat per probe instead of a read). */
const caFiles = new Map<string, { mtimeMs: number; text: string }>();
async function readCaCerts(config: Config): Promise<string | undefined> {
  const file = config.tls.caCertPath;
  if (!file) return undefined;
  const { mtimeMs } = await stat(file);
  const known = caFiles.get(file);
  if (known?.mtimeMs === mtimeMs) return known.text;
  const text = await readFile(file, 'utf8');
  caFiles.set(file, { mtimeMs, text });
  return text;
}

/** One redactor per configuration: its secrets do not change while the configuration lives. */
const redactors = new WeakMap<Config, Redactor>();
function redactorFor(config: Config): Redactor {
  let redact = redactors.get(config);
  if (!redact) {
    redact = createRedactor(collectSecrets(config));
    redactors.set(config, redact);
  }
  return redact;
}

export function runProbe(id: ProbeCheckId, config: Config, options: RunProbeOptions = {}): Promise<CheckResult> {
  return runWithDeadline(id, probes[id], config, options);
}

/** runProbe with the probe function passed in (tests exercise the deadline with misbehaving probes). */
export async function runWithDeadline(id: ProbeCheckId, probe: ProbeFn, config: Config, options: RunProbeOptions = {}): Promise<CheckResult> {
  const now = options.now ?? (() => new Date());
  const timeoutMs = options.timeoutMs ?? config.timeouts.probeMs;
  const redact = redactorFor(config);
  let signInWaitedMs: number | undefined;
  if (SIGN_IN_PROBES.has(id)) {
    try {
      signInWaitedMs = await claimSignInSlot(config.appUrl, { timeoutMs: SIGN_IN_SLOT_WAIT_MAX_MS });
    } catch (error) {
      // Only a record kept busy by sign-ins past one window (another run, a loop) ends here.
      const message = error instanceof SignInSlotTimeout ? `${id}: sign-in: ${error.message}` : `${id}: the sign-in record could not be read: ${String((error as Error)?.message ?? error)}`;
      return redact.deep({ id, kind: 'probe', status: 'failed', reason: error instanceof SignInSlotTimeout ? 'rate_limited' : 'unexpected', message, startedAt: now().toISOString(), durationMs: 0, target: checkTarget(id, config) });
    }
  }
  const startedAt = now();
  const started = performance.now();
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  // The deadline aborts the probe's signal and, independently, settles the race below.
  const deadline = new Promise<CheckResult>((resolve) => {
    timer = setTimeout(() => {
      controller.abort(new DOMException(`deadline of ${timeoutMs} ms exceeded`, 'TimeoutError'));
      resolve({ id, kind: 'probe', status: 'failed', reason: 'timeout', message: `${id}: no result within the deadline of ${timeoutMs} ms`, startedAt: '', durationMs: 0 });
    }, timeoutMs);
  });

  const attempt = (async (): Promise<CheckResult> => {
    const caCerts = await readCaCerts(config);
    const remainingMs = () => Math.max(1, Math.round(timeoutMs - (performance.now() - started)));
    const ctx: ProbeContext = { signal: controller.signal, now, remainingMs, ...(caCerts ? { caCerts } : {}), ...(signInWaitedMs !== undefined ? { signInWaitedMs } : {}) };
    return probe(config, ctx);
  })().catch((error: unknown): CheckResult => {
    const { reason, message } = classify(error, id === 'db' ? 'db' : id === 'tls' ? 'tls' : 'http');
    return { id, kind: 'probe', status: 'failed', reason, message, startedAt: '', durationMs: 0 };
  });

  let result: CheckResult;
  try {
    result = await Promise.race([attempt, deadline]);
  } finally {
    clearTimeout(timer);
    // Tell a probe that finished (or lost the race) to release whatever it still holds.
    if (!controller.signal.aborted) controller.abort(new DOMException('probe finished', 'AbortError'));
  }
  const finished: CheckResult = {
    ...result,
    id,
    kind: 'probe',
    startedAt: startedAt.toISOString(),
    durationMs: Math.round(performance.now() - started),
    target: checkTarget(id, config),
  };
  if (finished.status !== 'failed' && finished.status !== 'skipped') delete finished.reason;
  else if (!finished.reason) finished.reason = 'unexpected';
  return redact.deep(finished);
}
