import { describe, expect, it } from 'vitest';
import { blackboxConfig } from './blackbox.ts';
import { browserWindows, type TreeSample } from './monitor-process.ts';
import { distance, figure, formatTable, growthPercent, judge, median, metricValue, parseWrk, percentile, summarize } from './stats.ts';

const WRK_OUTPUT = `Running 10s test @ http://127.0.0.1:9464/metrics
  2 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    21.50ms    9.12ms 120.33ms   80.00%
    Req/Sec     1.17k   150.21     1.50k    70.00%
  Latency Distribution
     50%   19.80ms
     75%   24.10ms
     90%   30.02ms
     99%    1.20s
  23400 requests in 10.01s, 120.50MB read
  Socket errors: connect 0, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 4
Requests/sec:   2337.66
Transfer/sec:     12.04MB
`;

describe('summaries', () => {
  it('takes the middle value, or the mean of the two middle ones', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });
  it('uses nearest-rank percentiles', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile([5, 1], 100)).toBe(5);
    expect(percentile([5, 1], 0)).toBe(1);
  });
  it('summarizes median, min, max and the number of runs', () => {
    expect(summarize([10, 30, 20])).toEqual({ median: 20, min: 10, max: 30, runs: 3 });
    expect(summarize([]).runs).toBe(0);
  });
});

describe('goals', () => {
  it('judges <=, >= and = goals, and nothing without a goal or a value', () => {
    expect(judge(1.3, { op: 'le', limit: 1.3, text: '' })).toBe(true);
    expect(judge(1.31, { op: 'le', limit: 1.3, text: '' })).toBe(false);
    expect(judge(5, { op: 'ge', limit: 6, text: '' })).toBe(false);
    expect(judge(0, { op: 'eq', limit: 0, text: '' })).toBe(true);
    expect(judge(1, { op: 'eq', limit: 0, text: '' })).toBe(false);
    expect(judge(1, undefined)).toBeNull();
    expect(judge(Number.NaN, { op: 'le', limit: 1, text: '' })).toBeNull();
  });
  it('says by how much a goal is missed', () => {
    expect(distance(1.56, { op: 'le', limit: 1.3, text: '' })).toBe('+20 % over');
    expect(distance(1, { op: 'le', limit: 1.3, text: '' })).toBe('met');
    expect(distance(2, { op: 'eq', limit: 0, text: '' })).toBe('2 vs 0');
  });
  it('builds a figure judged on its median unless told otherwise', () => {
    const load1 = { start: 1.234, end: 2.345 };
    const f = figure({ id: 'x', section: 'probes', unit: 'ms', values: [3, 1, 2], goal: { op: 'le', limit: 2, text: '' }, load1 });
    expect(f).toMatchObject({ median: 2, min: 1, max: 3, runs: 3, met: true, judged: 2, load1: { start: 1.23, end: 2.35 }, values: [3, 1, 2] });
    const ratio = figure({ id: 'r', section: 'soak', unit: '%', values: [1, 2], judgeValue: 12, goal: { op: 'le', limit: 10, text: '' }, load1 });
    expect(ratio.met).toBe(false);
    expect(ratio.judged).toBe(12);
    expect(figure({ id: 'e', section: 'soak', unit: 'ms', values: [], goal: { op: 'le', limit: 10, text: '' }, load1 }).met).toBeNull();
  });
  it('computes growth in percent, NaN without a positive baseline', () => {
    expect(growthPercent(50, 55)).toBeCloseTo(10);
    expect(growthPercent(0, 5)).toBeNaN();
  });
});

describe('parseWrk', () => {
  it('reads the latency distribution (any unit), requests/s and every kind of error', () => {
    expect(parseWrk(WRK_OUTPUT)).toEqual({ p50Ms: 19.8, p75Ms: 24.1, p90Ms: 30.02, p99Ms: 1200, requestsPerSecond: 2337.66, requests: 23400, errors: 9, errorKinds: 'read 2, timeout 3, non2xx 4' });
  });
  it('reads microseconds and reports no errors when wrk printed none', () => {
    const quiet = WRK_OUTPUT.replace('19.80ms', '812.00us').replace(/  Socket errors.*\n/, '').replace(/  Non-2xx.*\n/, '');
    const parsed = parseWrk(quiet);
    expect(parsed.p50Ms).toBeCloseTo(0.812);
    expect(parsed.errors).toBe(0);
    expect(parsed.errorKinds).toBe('');
  });
  it('refuses output without a latency distribution', () => {
    expect(() => parseWrk('unable to connect to 127.0.0.1:1 Connection refused')).toThrow(/50% latency/);
  });
});

describe('metricValue', () => {
  const text = [
    '# HELP sentinel_runs_skipped_total x',
    'sentinel_runs_skipped_total{group="probes",reason="overlap"} 0',
    'sentinel_runs_skipped_total{group="browser",reason="overlap"} 2',
    'sentinel_runs_skipped_total_extra{group="browser",reason="overlap"} 9',
    'process_resident_memory_bytes 52428800',
  ].join('\n');
  it('finds a sample by name and exact labels', () => {
    expect(metricValue(text, 'sentinel_runs_skipped_total', { group: 'browser', reason: 'overlap' })).toBe(2);
    expect(metricValue(text, 'sentinel_runs_skipped_total', { group: 'probes', reason: 'overlap' })).toBe(0);
    expect(metricValue(text, 'process_resident_memory_bytes')).toBe(52428800);
    expect(metricValue(text, 'sentinel_runs_skipped_total', { group: 'deploy', reason: 'overlap' })).toBeUndefined();
  });
});

describe('browserWindows', () => {
  const s = (browser: boolean): TreeSample => ({ atMs: 0, ownKb: 1, treeRssKb: 1, treePssKb: 1, treeUniqueKb: 1, browser, browserRunners: browser ? 1 : 0 });
  it('finds each stretch of samples with a browser run, open or closed', () => {
    expect(browserWindows([s(false), s(true), s(true), s(false), s(true)])).toEqual([
      [1, 2],
      [4, 4],
    ]);
    expect(browserWindows([s(false)])).toEqual([]);
  });
});

describe('blackboxConfig and formatTable', () => {
  it('writes the three modules with the stack CA', () => {
    const yaml = blackboxConfig('/tmp/ca.pem');
    expect(yaml).toContain('  tls_connect:\n    prober: tcp');
    expect(yaml.match(/ca_file: "\/tmp\/ca.pem"/g)).toHaveLength(3);
    expect(yaml).toContain('http_auth_ok:');
  });
  it('prints one row per figure with its verdict', () => {
    const load1 = { start: 1, end: 1 };
    const table = formatTable([figure({ id: 'suite-over-floor', section: 'acceptance', unit: 'ratio', values: [1.5, 1.56, 1.6], goal: { op: 'le', limit: 1.3, text: '' }, load1 })]);
    expect(table.split('\n')).toHaveLength(3);
    expect(table).toContain('acceptance.suite-over-floor');
    expect(table).toContain('MISSED (+20 % over)');
  });
});
