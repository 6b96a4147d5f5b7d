/** What every benchmark section receives, and how it records figures. */
import type { Blackbox } from './blackbox.ts';
import type { EmbeddedStack } from '../runner/embedded-stack.ts';
import { load1 } from './proc.ts';
import { figure, type FigureInput, type Figure, type Goal } from './stats.ts';

export const SECTIONS = ['stack-ready', 'probe-cycle', 'scale', 'probes', 'monitor', 'acceptance', 'soak'] as const;
export type SectionName = (typeof SECTIONS)[number];

export interface BenchOptions {
  runs: number;
  soakMinutes: number;
  quick: boolean;
  only?: SectionName;
  /** where the JSON goes; default reports/bench.json */
  out?: string;
}

export interface SectionStatus {
  status: 'ok' | 'skipped' | 'failed';
  message?: string;
  details?: Record<string, unknown>;
}

export interface BenchContext {
  options: BenchOptions;
  /** the reference stack, as its own process (fixtures/stack/main.ts), so the bench process stays idle */
  stack: EmbeddedStack;
  /** SENTINEL_* variables pointing the suite at the stack, plus a scratch reports folder */
  sentinelEnv: Record<string, string>;
  /** a scratch folder for this bench run */
  workDir: string;
  /** a running blackbox_exporter, when the binary is available */
  blackbox?: Blackbox;
  wrkBin?: string;
  figures: Figure[];
  /** starts a load-average window; the returned function records a figure with it */
  measure(section: SectionName): (input: Omit<FigureInput, 'section' | 'load1'>) => Figure;
}

export function sentinelEnvOf(stack: EmbeddedStack, reportsDir: string): Record<string, string> {
  return { ...stack.env, SENTINEL_REPORTS_DIR: reportsDir };
}

/** The environment of a child we start: what Node needs plus the given variables (no CI, no secrets of ours). */
export function childEnv(extra: Record<string, string>): Record<string, string> {
  const base: Record<string, string> = {};
  for (const key of ['PATH', 'HOME', 'LANG', 'TMPDIR', 'PLAYWRIGHT_BROWSERS_PATH', 'SENTINEL_CHROMIUM']) {
    const value = process.env[key];
    if (value !== undefined) base[key] = value;
  }
  return { ...base, ...extra };
}

export function recorder(figures: Figure[], section: SectionName): (input: Omit<FigureInput, 'section' | 'load1'>) => Figure {
  const start = load1();
  return (input) => {
    const f = figure({ ...input, section, load1: { start, end: load1() } });
    figures.push(f);
    return f;
  };
}

export const GOALS = {
  // The goals of the performance issue (README, "Benchmarks"): against blackbox_exporter, what a
  // Prometheus user would run instead, and within the VPS's headroom beside the app and Zitadel.
  suiteOverFloor: { op: 'le', limit: 1.15, text: 'suite / floor <= 1.15' },
  tlsProbeRatio: { op: 'le', limit: 1.1, text: 'sentinel /probe tls / blackbox_exporter <= 1.1' },
  appHealthProbeRatio: { op: 'le', limit: 1.0, text: 'sentinel /probe app-health / blackbox_exporter <= 1.0' },
  idleRssMb: { op: 'le', limit: 65, text: 'idle RSS <= 65 MB' },
  peakMb: { op: 'le', limit: 480, text: 'peak with browser <= 480 MB' },
  zero: { op: 'eq', limit: 0, text: 'must be 0' },
  soakGrowth: { op: 'le', limit: 10, text: 'RSS growth <= 10 %' },
  scale50: { op: 'le', limit: 2000, text: '50 targets in <= 2 s' },
  stackReady: { op: 'le', limit: 10_000, text: 'READY within 10 s' },
  probeCycle: { op: 'le', limit: 2000, text: 'every probe within 2 s' },
  p99Ratio: { op: 'le', limit: 0.25, text: "/metrics p99 <= 0.25x blackbox_exporter's" },
  rpsRatio: { op: 'ge', limit: 3, text: "/metrics req/s >= 3x blackbox_exporter's" },
} satisfies Record<string, Goal>;
