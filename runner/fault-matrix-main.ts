/**
 * `npm run fault-matrix`: the full matrix — every reference-stack fault once, then the healthy stack
 * 5 times in a row (no retries) — one `sentinel run` at a time. Writes `<reportsDir>/fault-matrix.md`
 * (reportsDir: SENTINEL_REPORTS_DIR, default reports/) and exits 1 on any mismatch.
 * Each case keeps its own reports in `<reportsDir>/fault-matrix/<n>-<fault>/`.
 * FAULT_MATRIX_ONLY=a,b runs just those rows (healthy counts as a row); FAULT_MATRIX_HEALTHY_RUNS overrides the 5.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { detectionSummary, FAULT_MATRIX, HEALTHY, matrixMarkdown, matrixStats, runFaultCase, type FaultCaseResult } from './fault-matrix.ts';

const HEALTHY_RUNS = Number(process.env.FAULT_MATRIX_HEALTHY_RUNS || 5);

async function main(): Promise<number> {
  const reportsDir = resolve(process.env.SENTINEL_REPORTS_DIR || 'reports');
  const only = (process.env.FAULT_MATRIX_ONLY ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const faults = FAULT_MATRIX.map((row) => row.fault).filter((fault) => fault !== HEALTHY);
  const plan = [...faults, ...Array<string>(HEALTHY_RUNS).fill(HEALTHY)].filter((fault) => only.length === 0 || only.includes(fault));
  const casesDir = join(reportsDir, 'fault-matrix');
  await mkdir(casesDir, { recursive: true });
  const results: FaultCaseResult[] = [];
  for (const [index, fault] of plan.entries()) {
    const caseDir = join(casesDir, `${String(index + 1).padStart(2, '0')}-${fault}`);
    await mkdir(caseDir, { recursive: true });
    process.stdout.write(`[${index + 1}/${plan.length}] ${fault} … `);
    const result = await runFaultCase(fault, { reportsDir: caseDir });
    results.push(result);
    process.stdout.write(`${result.mismatches.length === 0 ? 'match' : `MISMATCH: ${result.mismatches.join('; ')}`} (${(result.durationMs / 1000).toFixed(1)} s)\n`);
    // Written after every case so an interrupted matrix still leaves its table.
    await writeFile(join(reportsDir, 'fault-matrix.md'), matrixMarkdown(results));
  }
  const stats = matrixStats(results);
  process.stdout.write(
    `${detectionSummary(stats)}, false alarms ${stats.falseAlarms}/${stats.healthyRuns}; table: ${join(reportsDir, 'fault-matrix.md')}\n`,
  );
  return stats.mismatches === 0 ? 0 : 1;
}

process.exitCode = await main();
