import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { createRedactor } from '../../core/redact.ts';
import { totalsOf, type CheckResult, type RunSummary } from '../../core/result.ts';
import { findAll, parseXml } from '../test-support/xml.ts';
import { liveLine, summaryTable } from './console.ts';
import { createStandardReporters, redactingFanOut } from './index.ts';
import { junitDocument } from './junit.ts';
import { markdownDocument } from './markdown.ts';
import { summaryDocument } from './summary-json.ts';

const SECRET = 'pw-Zq8-SECRET-7731';
const at = '2026-11-25T10:00:00.000Z';
const CHECKS: CheckResult[] = [
  { id: 'tls', kind: 'probe', status: 'passed', startedAt: at, durationMs: 123, target: 'localhost:443', observations: { hosts: [] } },
  { id: 'db', kind: 'probe', status: 'failed', startedAt: at, durationMs: 45, reason: 'migration_pending', message: '1 migration not applied: 0001_graceful_psylocke' },
  { id: 'e2e-login', kind: 'browser', status: 'flaky', startedAt: at, durationMs: 15_300, message: 'passed only after a retry' },
  { id: 'e2e-admin-crud', kind: 'browser', status: 'skipped', startedAt: at, durationMs: 0, reason: 'not_permitted', message: 'mutating check: pass --allow-mutations <& "quoted">' },
  { id: 'e2e-sign-out', kind: 'browser', status: 'failed', startedAt: at, durationMs: 900, reason: 'assertion', message: `password ${SECRET} was | shown\nsecond line` },
];
const summary = (checks = CHECKS): RunSummary => ({ mode: 'ci', target: 'https://gadgetbot.example.test', startedAt: at, durationMs: 20_000, checks, totals: totalsOf(checks) });

describe('console reporter', () => {
  test('live lines carry the mark, id, duration and the explaining line', () => {
    expect(liveLine(CHECKS[0]!)).toBe('✔ tls  123 ms');
    expect(liveLine(CHECKS[1]!)).toBe('✘ db  45 ms  migration_pending: 1 migration not applied: 0001_graceful_psylocke');
    expect(liveLine(CHECKS[2]!)).toBe('⚠ e2e-login  15.3 s  passed only after a retry');
    expect(liveLine(CHECKS[3]!)).toBe('- e2e-admin-crud  skipped  not_permitted: mutating check: pass --allow-mutations <& "quoted">');
  });

  test('a passed check with a warning shows the warning and what it means', () => {
    const tlsSoon: CheckResult = { ...CHECKS[0]!, warnings: ['tls_expiry_soon'] };
    expect(liveLine(tlsSoon)).toBe('✔ tls  123 ms  warning: tls_expiry_soon');
    const unverified: CheckResult = {
      id: 'e2e-session-redeploy',
      kind: 'browser',
      status: 'passed',
      startedAt: at,
      durationMs: 20_000,
      warnings: ['redeploy_unverified'],
      message: 'the redeploy command exited 0 (no instance signal configured); … not verified',
    };
    expect(liveLine(unverified)).toBe('✔ e2e-session-redeploy  20.0 s  warning: redeploy_unverified: the redeploy command exited 0 (no instance signal configured); … not verified');
    expect(markdownDocument(summary([unverified]))).toContain('| ✔ passed | `e2e-session-redeploy` | 20.0 s | warning: redeploy_unverified: the redeploy command exited 0 (no instance signal configured); … not verified |');
  });

  test('the final table is aligned and the verdict never counts skips as passes', () => {
    const lines = summaryTable(summary());
    expect(lines[1]).toBe('status   check           duration  reason');
    expect(lines[2]).toBe('passed   tls             123 ms');
    expect(lines[3]).toBe('failed   db              45 ms     migration_pending: 1 migration not applied: 0001_graceful_psylocke');
    expect(lines.at(-1)).toBe('FAILED: 1 passed, 2 failed, 1 flaky, 1 skipped (skipped checks are not passes) in 20.0 s; target https://gadgetbot.example.test');
    const onlySkips = summaryTable(summary([CHECKS[3]!]));
    expect(onlySkips.at(-1)).toMatch(/^NOTHING RAN: 0 passed/);
  });
});

describe('summary.json', () => {
  test('has the summary.json shape of the README (Reports), plus the explaining line of a failure', () => {
    const doc = summaryDocument(summary());
    expect(Object.keys(doc)).toEqual(['mode', 'target', 'startedAt', 'durationMs', 'checks', 'totals']);
    expect(doc.checks[0]).toEqual({ id: 'tls', kind: 'probe', status: 'passed', durationMs: 123, observations: { hosts: [] } });
    expect(doc.checks[1]).toEqual({ id: 'db', kind: 'probe', status: 'failed', durationMs: 45, reason: 'migration_pending', message: '1 migration not applied: 0001_graceful_psylocke' });
    expect(doc.totals).toEqual({ passed: 1, failed: 2, flaky: 1, skipped: 1 });
  });
});

describe('junit.xml', () => {
  test('parses, has one testcase per check and carries reasons, skips and the flaky note', () => {
    const suites = parseXml(junitDocument(summary()));
    expect(suites.name).toBe('testsuites');
    const [suite] = findAll(suites, 'testsuite');
    expect(suite!.attributes).toMatchObject({ tests: '5', failures: '3', skipped: '1' });
    const cases = findAll(suites, 'testcase');
    expect(cases.map((c) => c.attributes.name)).toEqual(['tls', 'db', 'e2e-login', 'e2e-admin-crud', 'e2e-sign-out']);
    expect(cases[0]!.children).toEqual([]);
    expect(cases[1]!.children[0]).toMatchObject({ name: 'failure', attributes: { message: 'migration_pending: 1 migration not applied: 0001_graceful_psylocke' } });
    expect(cases[2]!.children.map((c) => c.name)).toEqual(['failure', 'system-out']);
    expect(cases[2]!.children[1]!.text).toContain('passed only after a retry');
    expect(cases[3]!.children[0]).toMatchObject({ name: 'skipped', attributes: { message: 'not_permitted: mutating check: pass --allow-mutations <& "quoted">' } });
  });
});

describe('summary.md', () => {
  test('is a Markdown table with one row per check, pipes escaped, one line per row', () => {
    const lines = markdownDocument(summary()).split('\n');
    expect(lines[0]).toBe('## gadgetbot-sentinel ci: ✘ failed');
    const rows = lines.filter((l) => l.startsWith('| '));
    expect(rows).toHaveLength(6);
    expect(rows[2]).toBe('| ✘ failed | `db` | 45 ms | migration_pending: 1 migration not applied: 0001_graceful_psylocke |');
    expect(rows[5]).toContain('was \\| shown second line');
  });

  test('a run in which nothing ran never says passed', () => {
    const doc = markdownDocument(summary([CHECKS[3]!]));
    expect(doc.split('\n')[0]).toBe('## gadgetbot-sentinel ci: - nothing ran: no check was verified');
    expect(doc).not.toContain('passed ·');
    expect(doc).not.toMatch(/✔/);
    expect(markdownDocument(summary([CHECKS[0]!, CHECKS[3]!])).split('\n')[0]).toBe('## gadgetbot-sentinel ci: ✔ passed');
  });
});

describe('standard reporters', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sentinel-reporters-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('write all files redacted and append to GITHUB_STEP_SUMMARY', async () => {
    const stepSummary = join(dir, 'step-summary.md');
    await writeFile(stepSummary, '# earlier step\n');
    const lines: string[] = [];
    const reporters = await createStandardReporters({ reportsDir: join(dir, 'reports'), write: (l) => lines.push(l), stepSummaryPath: stepSummary });
    const fanOut = redactingFanOut(reporters, createRedactor([SECRET]));
    for (const check of CHECKS) await fanOut.onCheck(check);
    await fanOut.onEnd(summary());
    const files = await Promise.all(['summary.json', 'junit.xml', 'summary.md'].map((f) => readFile(join(dir, 'reports', f), 'utf8')));
    const step = await readFile(stepSummary, 'utf8');
    expect(step.startsWith('# earlier step\n## gadgetbot-sentinel ci')).toBe(true);
    expect(lines.find((l) => l.startsWith('✘ e2e-sign-out'))).toBe('✘ e2e-sign-out  900 ms  assertion: password [REDACTED] was | shown second line');
    for (const text of [...files, step, lines.join('\n')]) expect(text).not.toContain(SECRET);
    expect(JSON.parse(files[0]!).checks).toHaveLength(5);
    expect(findAll(parseXml(files[1]!), 'testcase')).toHaveLength(5);
  });
});
