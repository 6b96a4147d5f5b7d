/**
 * The pure part of the benchmark: summaries (median, min, max, percentiles), goals and their
 * verdicts, wrk output parsing, and the printed table. Everything here is deterministic and tested.
 */

export interface Summary {
  median: number;
  min: number;
  max: number;
  runs: number;
}

/** A goal a figure is judged against: `value <= limit` (le) or `value >= limit` (ge). */
export interface Goal {
  op: 'le' | 'ge' | 'eq';
  limit: number;
  /** what the goal says in words (from the issue) */
  text: string;
}

export interface Figure extends Summary {
  id: string;
  section: string;
  unit: string;
  goal?: Goal;
  /** true/false when a goal exists and there were runs; null otherwise */
  met: boolean | null;
  /** 1-minute load average when the measurement started and ended */
  load1: { start: number; end: number };
  note?: string;
  /** the value the verdict is about: the median, or e.g. a ratio of medians */
  judged: number;
  /** the raw values, rounded (small sets only) */
  values?: number[];
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  if (p <= 0) return sorted[0]!;
  if (p >= 100) return sorted[sorted.length - 1]!;
  // nearest-rank: the smallest value with at least p % of the values at or below it
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.max(0, rank - 1)]!;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, runs: 0 };
  return { median: median(values), min: Math.min(...values), max: Math.max(...values), runs: values.length };
}

/** Whether `value` meets `goal`; null when there is nothing to judge. */
export function judge(value: number, goal: Goal | undefined): boolean | null {
  if (!goal || !Number.isFinite(value)) return null;
  if (goal.op === 'le') return value <= goal.limit;
  if (goal.op === 'ge') return value >= goal.limit;
  return value === goal.limit;
}

/** How far a value is from its goal, in words ("+12.3 % over", "within"). */
export function distance(value: number, goal: Goal | undefined): string {
  if (!goal || !Number.isFinite(value)) return '';
  const met = judge(value, goal);
  if (met) return 'met';
  if (goal.limit === 0) return `${round(value, 3)} vs ${goal.limit}`;
  const pct = ((value - goal.limit) / Math.abs(goal.limit)) * 100;
  return `${pct >= 0 ? '+' : ''}${round(pct, 1)} % ${goal.op === 'le' ? 'over' : 'under'}`;
}

export function round(value: number, digits = 2): number {
  if (!Number.isFinite(value)) return value;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export interface FigureInput {
  id: string;
  section: string;
  unit: string;
  values: readonly number[];
  goal?: Goal;
  load1: { start: number; end: number };
  note?: string;
  /** judge a different value than the median (e.g. a ratio of medians); default the median */
  judgeValue?: number;
}

export function figure(input: FigureInput): Figure {
  const s = summarize(input.values);
  const judged = input.judgeValue ?? s.median;
  const out: Figure = {
    id: input.id,
    section: input.section,
    unit: input.unit,
    median: round(s.median, 3),
    min: round(s.min, 3),
    max: round(s.max, 3),
    runs: s.runs,
    met: s.runs === 0 ? null : judge(judged, input.goal),
    load1: { start: round(input.load1.start), end: round(input.load1.end) },
    judged: round(judged, 3),
  };
  if (input.goal) out.goal = input.goal;
  if (input.note) out.note = input.note;
  if (input.values.length <= 60) out.values = input.values.map((v) => round(v, 3));
  return out;
}

export interface WrkResult {
  /** latency percentiles in milliseconds */
  p50Ms: number;
  p75Ms: number;
  p90Ms: number;
  p99Ms: number;
  requestsPerSecond: number;
  requests: number;
  /** socket errors (connect + read + write + timeout) plus non-2xx/3xx responses */
  errors: number;
  /** the same, by kind, e.g. `read 2, timeout 3, non2xx 4` (empty when none) */
  errorKinds: string;
}

const UNIT_TO_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

function durationMs(text: string): number {
  const match = /^([\d.]+)(us|ms|s|m)$/.exec(text.trim());
  if (!match) return Number.NaN;
  return Number(match[1]) * UNIT_TO_MS[match[2]!]!;
}

/** Parses `wrk --latency` output. Throws when the output has no latency distribution. */
export function parseWrk(output: string): WrkResult {
  const pct = (p: number) => {
    const match = new RegExp(`^\\s*${p}%\\s+(\\S+)`, 'm').exec(output);
    if (!match) throw new Error(`wrk output has no ${p}% latency line`);
    return durationMs(match[1]!);
  };
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(output);
  const total = /(\d+) requests in/.exec(output);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(output);
  const socketErrors = socket ? socket.slice(1, 5).reduce((sum, n) => sum + Number(n), 0) : 0;
  const kinds = socket ? ['connect', 'read', 'write', 'timeout'].map((kind, i) => [kind, Number(socket[i + 1])] as const) : [];
  const errorKinds = [...kinds, ['non2xx', non2xx ? Number(non2xx[1]) : 0] as const]
    .filter(([, n]) => n > 0)
    .map(([kind, n]) => `${kind} ${n}`)
    .join(', ');
  return {
    p50Ms: pct(50),
    p75Ms: pct(75),
    p90Ms: pct(90),
    p99Ms: pct(99),
    requestsPerSecond: rps ? Number(rps[1]) : Number.NaN,
    requests: total ? Number(total[1]) : Number.NaN,
    errors: socketErrors + (non2xx ? Number(non2xx[1]) : 0),
    errorKinds,
  };
}

/** Reads one sample value of a Prometheus text exposition, by metric name and exact labels. */
export function metricValue(exposition: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of exposition.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const found: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) found[pair[1]!] = pair[2]!;
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(match[3]);
  }
  return undefined;
}

/** Growth of the late level over the early one, in percent. */
export function growthPercent(early: number, late: number): number {
  if (!Number.isFinite(early) || early <= 0 || !Number.isFinite(late)) return Number.NaN;
  return ((late - early) / early) * 100;
}

function cell(value: number, unit: string): string {
  if (!Number.isFinite(value)) return '-';
  const digits = unit === 'ratio' ? 3 : Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return String(round(value, digits));
}

function goalText(goal: Goal | undefined, unit: string): string {
  if (!goal) return '';
  const op = goal.op === 'le' ? '<=' : goal.op === 'ge' ? '>=' : '=';
  return `${op} ${goal.limit}${unit === 'ratio' ? '' : ` ${unit}`}`;
}

/** The printed table: one line per figure. */
export function formatTable(figures: readonly Figure[]): string {
  const header = ['figure', 'median', 'min', 'max', 'n', 'unit', 'goal', 'verdict', 'load1'];
  const rows = figures.map((f) => [
    `${f.section}.${f.id}`,
    cell(f.median, f.unit),
    cell(f.min, f.unit),
    cell(f.max, f.unit),
    String(f.runs),
    f.unit,
    goalText(f.goal, f.unit),
    f.met === null ? (f.goal ? 'n/a' : '') : f.met ? 'MET' : `MISSED (${distance(f.judged, f.goal)})`,
    `${cell(f.load1.start, '')}→${cell(f.load1.end, '')}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
