/**
 * Builds a probe's CheckResult. The runner overwrites startedAt/durationMs/target; a probe only
 * decides status, reason, message, assertions, warnings and observations.
 */
import { failureLine, type CheckResult, type ProbeCheckId, type Reason, type Warning } from '../core/result.ts';
import type { Assertions } from './assertions.ts';
import { classify, type ClassifyScope } from './errors.ts';

export interface ProbeResultParts {
  status: CheckResult['status'];
  reason?: Reason;
  message?: string;
  warnings?: Warning[];
  assertions?: Assertions;
  observations?: Record<string, unknown>;
}

export function probeResult(id: ProbeCheckId, parts: ProbeResultParts): CheckResult {
  return {
    id,
    kind: 'probe',
    status: parts.status,
    startedAt: '',
    durationMs: 0,
    ...(parts.reason ? { reason: parts.reason } : {}),
    ...(parts.message ? { message: parts.message } : {}),
    ...(parts.warnings && parts.warnings.length > 0 ? { warnings: parts.warnings } : {}),
    ...(parts.assertions ? { assertions: parts.assertions.toResult() } : {}),
    ...(parts.observations ? { observations: parts.observations } : {}),
  };
}

/** Passed when every assertion holds, else failed with the first failing assertion's reason and line. */
export function fromAssertions(id: ProbeCheckId, assertions: Assertions, observations: Record<string, unknown>, warnings: Warning[] = []): CheckResult {
  const failure = assertions.firstFailure;
  if (!failure) return probeResult(id, { status: 'passed', assertions, observations, warnings });
  return probeResult(id, { status: 'failed', reason: failure.reason, message: failureLine(failure), assertions, observations, warnings });
}

/**
 * A thrown error turned into a failed result that keeps what was observed so far. A failing
 * assertion recorded before the error still names the reason (it is the earlier, more precise fact).
 */
export function failedWith(id: ProbeCheckId, error: unknown, scope: ClassifyScope, assertions: Assertions, observations: Record<string, unknown>): CheckResult {
  const earlier = assertions.firstFailure;
  const { reason, message } = earlier ? { reason: earlier.reason, message: failureLine(earlier) } : classify(error, scope);
  return probeResult(id, { status: 'failed', reason, message, assertions, observations });
}
