/** Small formatting helpers shared by the reporters. */
import type { CheckResult } from '../../core/result.ts';

export const STATUS_MARK: Record<CheckResult['status'], string> = { passed: '✔', failed: '✘', flaky: '⚠', skipped: '-' };

export function formatDuration(ms: number): string {
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}

/** The one line explaining a result: `reason: message`, or `warning: codes: message` for a passed one with warnings. */
export function explanation(result: CheckResult): string {
  const message = (result.message ?? '').replace(/\s+/g, ' ').trim();
  if (result.status === 'passed') return result.warnings?.length ? `warning: ${result.warnings.join(', ')}${message ? `: ${message}` : ''}` : '';
  if (result.reason && message) return `${result.reason}: ${message}`;
  return result.reason ?? message;
}
