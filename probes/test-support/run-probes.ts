/**
 * Several probes at once, for tests (a run schedules its probes itself, runner/run.ts): at most
 * `concurrency` at a time; results keep the order of `ids`.
 */
import type { Config } from '../../core/config.ts';
import type { CheckResult, ProbeCheckId } from '../../core/result.ts';
import { runProbe, type RunProbeOptions } from '../run-probe.ts';

export interface RunProbesOptions extends RunProbeOptions {
  /** How many probes run at once; default all of them. */
  concurrency?: number;
}

/** Run several probes, at most `concurrency` at a time; results keep the order of `ids`. */
export async function runProbes(ids: readonly ProbeCheckId[], config: Config, options: RunProbesOptions = {}): Promise<CheckResult[]> {
  const concurrency = Math.max(1, options.concurrency ?? ids.length);
  const results: CheckResult[] = new Array(ids.length);
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const index = next++;
      results[index] = await runProbe(ids[index]!, config, options);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, ids.length) }, worker));
  return results;
}
