/**
 * The monitor's checks as its metrics know them: labels from core/targets.ts, the interval each may
 * take between results (which checks run is runner/select.ts's decision).
 */
import type { Config } from '../../core/config.ts';
import type { BrowserCheckId, CheckId, ProbeCheckId } from '../../core/result.ts';
import { checkSpec, type CheckSpec } from '../metrics.ts';

export interface MonitorChecks {
  probes: readonly ProbeCheckId[];
  browser: readonly BrowserCheckId[];
  /** configured but not run by the monitor (not configured / not permitted): shown as skipped */
  notRun: readonly CheckId[];
}

/**
 * `intervals`: the longest two results of a group may be apart when nothing is wrong (seconds);
 * `signIn` for the sign-in probe, which also waits while a browser flow holds the sign-in lane.
 */
export function checkSpecs(config: Config, selection: MonitorChecks, intervals: { probes: number; browser: number; signIn?: number }): CheckSpec[] {
  const spec = (id: CheckId, intervalSeconds: number | undefined, scheduled: boolean): CheckSpec => ({
    ...checkSpec(id, config),
    scheduled,
    ...(intervalSeconds === undefined ? {} : { intervalSeconds }),
  });
  return [
    ...selection.probes.map((id) => spec(id, id === 'login-v2-redirect' ? (intervals.signIn ?? intervals.probes) : intervals.probes, true)),
    ...selection.browser.map((id) => spec(id, intervals.browser, true)),
    ...selection.notRun.map((id) => spec(id, undefined, false)),
  ];
}
