/**
 * `npm run bench` (README.md, "Benchmarks"): side-by-side measurements on the embedded reference stack, printed as a
 * table and written to reports/bench.json (median, min, max, runs, unit, goal, verdict and the
 * 1-minute load average of each figure). Goals are reported, never enforced: the exit code is 0
 * unless the bench itself could not run.
 * Options: --runs N (alternating pairs / repetitions, default 3), --soak-minutes N (default 10),
 * --quick (fewer runs, 1-minute soak: for development only), --only <section>, --out <file>.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT, startEmbeddedStack, type EmbeddedStack } from '../runner/embedded-stack.ts';
import { acceptance } from './acceptance.ts';
import { startBlackbox, type Blackbox } from './blackbox.ts';
import { recorder, SECTIONS, sentinelEnvOf, type BenchContext, type BenchOptions, type SectionName, type SectionStatus } from './context.ts';
import { monitorSection } from './monitor-section.ts';
import { probesSection } from './probes-section.ts';
import { probeCycle, scale, stackReady } from './scale.ts';
import { soak } from './soak.ts';
import { formatTable, type Figure } from './stats.ts';
import { ensureBinary, log } from './tools.ts';

function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: { runs: { type: 'string' }, 'soak-minutes': { type: 'string' }, quick: { type: 'boolean' }, only: { type: 'string' }, out: { type: 'string' } },
    strict: true,
    allowPositionals: false,
  });
  const quick = values.quick === true;
  const int = (raw: string | undefined, fallback: number, name: string) => {
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a whole number >= 1`);
    return n;
  };
  const only = values.only;
  if (only !== undefined && !(SECTIONS as readonly string[]).includes(only)) throw new Error(`--only must be one of ${SECTIONS.join(', ')}`);
  return {
    quick,
    runs: int(values.runs, quick ? 2 : 3, 'runs'),
    soakMinutes: int(values['soak-minutes'], quick ? 1 : 10, 'soak-minutes'),
    ...(only ? { only: only as SectionName } : {}),
    ...(values.out ? { out: values.out } : {}),
  };
}

const RUNNERS: Record<Exclude<SectionName, 'stack-ready'>, (ctx: BenchContext) => Promise<SectionStatus>> = {
  'probe-cycle': probeCycle,
  scale,
  probes: probesSection,
  monitor: monitorSection,
  acceptance,
  soak,
};

async function main(): Promise<number> {
  let options: BenchOptions;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`bench: ${(error as Error).message}\n`);
    return 2;
  }
  const wanted = (s: SectionName) => !options.only || options.only === s;
  const startedAt = new Date();
  const load1AtStart = loadavg()[0]!;
  const figures: Figure[] = [];
  const sections: Record<string, SectionStatus> = {};
  const workDir = mkdtempSync(join(tmpdir(), 'sentinel-bench-'));
  let stack: EmbeddedStack | undefined;
  let blackbox: Blackbox | undefined;
  const cleanUp = async () => {
    await blackbox?.stop().catch(() => undefined);
    await stack?.stop().catch(() => undefined);
  };
  const onSignal = (name: NodeJS.Signals) => {
    log(`${name}: stopping what the bench started`);
    void cleanUp().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  log(`options ${JSON.stringify(options)}; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}; work dir ${workDir}`);
  if (load1AtStart > cpus().length) log(`the machine is loaded (1-min load ${load1AtStart.toFixed(1)} on ${cpus().length} cores): timings are not trustworthy`);

  try {
    if (wanted('stack-ready')) sections['stack-ready'] = await guarded('stack-ready', () => stackReady({ options, measure: (section) => recorder(figures, section) }));
    const rest = (Object.keys(RUNNERS) as Array<keyof typeof RUNNERS>).filter(wanted);
    if (rest.length > 0) {
      const needsBlackbox = rest.includes('probes') || rest.includes('monitor');
      const blackboxBin = needsBlackbox ? ensureBinary('prometheus-blackbox-exporter', 'prometheus-blackbox-exporter') : undefined;
      const wrkBin = rest.includes('monitor') ? ensureBinary('wrk', 'wrk') : undefined;
      if (rest.includes('monitor') && !wrkBin) log('wrk unavailable: /metrics load uses the Node load generator instead');
      log('starting the reference stack');
      stack = await startEmbeddedStack({ readyTimeoutMs: 120_000, baseEnv: { PATH: process.env.PATH, HOME: process.env.HOME } });
      if (blackboxBin) blackbox = await startBlackbox(blackboxBin, workDir, stack.info.caCertPath);
      const ctx: BenchContext = {
        options,
        stack,
        sentinelEnv: sentinelEnvOf(stack, join(workDir, 'reports')),
        workDir,
        ...(blackbox ? { blackbox } : {}),
        ...(wrkBin ? { wrkBin } : {}),
        figures,
        measure: (section) => recorder(figures, section),
      };
      for (const name of rest) sections[name] = await guarded(name, () => RUNNERS[name](ctx));
    }
  } catch (error) {
    sections.bench = { status: 'failed', message: (error as Error).message.split('\n')[0]! };
    log(`bench failed: ${(error as Error).message}`);
  } finally {
    await cleanUp();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }

  const report = {
    generatedAt: new Date().toISOString(),
    durationSeconds: Math.round((Date.now() - startedAt.getTime()) / 1000),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryMB: Math.round(totalmem() / 2 ** 20), node: process.version },
    load: { load1AtStart, loadavgAtEnd: loadavg(), note: 'other work on this machine distorts timings; each figure carries the 1-minute load average at its start and end' },
    options,
    sections,
    figures,
  };
  mkdirSync(join(REPO_ROOT, 'reports'), { recursive: true });
  const out = options.out ? resolve(options.out) : join(REPO_ROOT, 'reports', 'bench.json');
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  rmSync(workDir, { recursive: true, force: true });
  process.stdout.write(`\n${formatTable(figures)}\n\n`);
  for (const [name, outcome] of Object.entries(sections)) if (outcome.status !== 'ok') process.stdout.write(`${name}: ${outcome.status}${outcome.message ? ` (${outcome.message})` : ''}\n`);
  process.stdout.write(`written ${out}\n`);
  return sections.bench?.status === 'failed' ? 1 : 0;
}

async function guarded(name: string, run: () => Promise<SectionStatus>): Promise<SectionStatus> {
  log(`section ${name}: start (load ${loadavg()[0]!.toFixed(2)})`);
  const started = performance.now();
  try {
    const outcome = await run();
    log(`section ${name}: ${outcome.status} in ${((performance.now() - started) / 1000).toFixed(0)} s${outcome.message ? ` (${outcome.message})` : ''}`);
    return outcome;
  } catch (error) {
    const message = (error as Error).message.split('\n')[0]!.slice(0, 400);
    log(`section ${name}: failed: ${message}`);
    return { status: 'failed', message };
  }
}

process.exitCode = await main();
