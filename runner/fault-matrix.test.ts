/**
 * The fault matrix in `npm test`: the table's coverage and comparison rules (fast), then a
 * representative half of the matrix as real `sentinel run`s against the embedded stack. The full
 * matrix (every fault + 5 healthy runs) is `npm run fault-matrix` (runner/fault-matrix-main.ts).
 *
 * Representative half — one fault per layer, chosen to cover each way a check can fail:
 *   idp-login-v1          IdP: a probe and all four browser checks fail with one precise reason
 *   app-signout-keeps-session  app: one browser check fails, the other eight must stay green
 *   app-secret-rotated    redeploy: only the disruptive check sees it
 *   db-down               DB: a probe and the sign-in of every browser check fail
 *   tls-untrusted         TLS: the tls probe and every browser check fail (the browser refuses the app), the HTTP probes pass
 *   tls-expiring-soon     the warning case: everything passes, tls carries tls_expiry_soon
 *   healthy ×2            zero failed, flaky, skipped or warned checks
 */
import { rm } from 'node:fs/promises';
import { describe, expect, test } from 'vitest';
import { CHECK_IDS } from '../core/result.ts';
import { STACK_FAULTS } from '../fixtures/stack/index.ts';
import { FAULT_MATRIX, HEALTHY, isScenario, stackDidNotStart, compareWithExpectation, detectionSummary, expectationFor, matrixMarkdown, matrixStats, observedChecks, runFaultCase, type ObservedCheck } from './fault-matrix.ts';

const REPRESENTATIVE = ['idp-login-v1', 'app-signout-keeps-session', 'app-secret-rotated', 'db-down', 'tls-untrusted', 'tls-expiring-soon', HEALTHY, HEALTHY] as const;
const CASE_TIMEOUT_MS = 300_000;

const allPassed = (): ObservedCheck[] => CHECK_IDS.map((id) => ({ id, status: 'passed', warnings: [] }));

describe('fault matrix table', () => {
  test('has exactly one row per stack fault, plus the healthy stack, plus scenario rows with unique names', () => {
    expect(FAULT_MATRIX.filter((row) => !isScenario(row)).map((row) => row.fault).sort()).toEqual([...STACK_FAULTS, HEALTHY].sort());
    const names = FAULT_MATRIX.map((row) => row.fault);
    expect(new Set(names).size).toBe(names.length);
    for (const row of FAULT_MATRIX.filter(isScenario)) expect(STACK_FAULTS as readonly string[], row.fault).not.toContain(row.fault);
  });

  test('a scenario that must be refused: exit 2, the line printed and no check run; anything else is a mismatch', () => {
    const row = expectationFor('ci-missing-secret');
    const none = observedChecks(undefined);
    const line = row.scenario!.lines![0]!;
    expect(compareWithExpectation(row, none, 2, `sentinel: a ci run cannot vouch for a check that is not configured:\n${line}\n`)).toEqual([]);
    expect(compareWithExpectation(row, allPassed(), 0, '')).toEqual([`no line "${line}" in the output`, 'exit code 0, expected 2', `expected no check to run, got ${CHECK_IDS.join(', ')}`]);
  });

  test('every fault row expects at least one failure or warning; the healthy row none', () => {
    for (const row of FAULT_MATRIX.filter((r) => !isScenario(r))) {
      const findings = Object.keys(row.failed).length + Object.keys(row.warnings ?? {}).length;
      expect(findings > 0, row.fault).toBe(row.fault !== HEALTHY);
    }
  });

  test('compare: an exact match has no mismatches', () => {
    const checks = allPassed().map((c) => (c.id === 'e2e-sign-out' ? { ...c, status: 'failed' as const, reason: 'session_not_revoked' } : c));
    expect(compareWithExpectation(expectationFor('app-signout-keeps-session'), checks, 1)).toEqual([]);
  });

  test('compare: wrong reason, extra failure, skipped, flaky, missing, stray warning and exit code all count', () => {
    const checks: ObservedCheck[] = allPassed().map((c): ObservedCheck => {
      switch (c.id) {
        case 'e2e-sign-out':
          return { ...c, status: 'failed', reason: 'assertion' };
        case 'db':
          return { ...c, status: 'failed', reason: 'db_query' };
        case 'e2e-session-redeploy':
          return { ...c, status: 'skipped', reason: 'not_permitted' };
        case 'e2e-login':
          return { ...c, status: 'flaky' };
        case 'app-health':
          return { ...c, status: 'missing' };
        case 'tls':
          return { ...c, warnings: ['tls_expiry_soon'] };
        default:
          return c;
      }
    });
    expect(compareWithExpectation(expectationFor('app-signout-keeps-session'), checks, 0)).toEqual([
      'tls: expected warnings [], got [tls_expiry_soon]',
      'app-health: expected passed, got missing',
      'db: expected passed, got failed (db_query)',
      'e2e-login: expected passed, got flaky',
      'e2e-sign-out: expected reason session_not_revoked, got assertion',
      'e2e-session-redeploy: expected passed, got skipped (not_permitted)',
      'exit code 0, expected 1',
    ]);
  });

  test('the tls warning is read from the probe observations (summary.json has no warnings field)', () => {
    const summary = {
      checks: CHECK_IDS.map((id) => ({
        id,
        status: 'passed' as const,
        ...(id === 'tls' ? { observations: { hosts: [{ target: 'localhost:1', status: 'warn', reason: 'tls_expiry_soon' }, { target: '127.0.0.1:2', status: 'ok' }] } } : {}),
      })),
    };
    const checks = observedChecks(summary);
    expect(checks.find((c) => c.id === 'tls')!.warnings).toEqual(['tls_expiry_soon']);
    expect(compareWithExpectation(expectationFor('tls-expiring-soon'), checks, 0)).toEqual([]);
    expect(compareWithExpectation(expectationFor(HEALTHY), checks, 0)).toEqual(['tls: expected warnings [], got [tls_expiry_soon]']);
  });

  test('only a stack that never came up (exit 2, no summary) counts as a start failure, never a check result', () => {
    expect(stackDidNotStart(2, 'sentinel: the local stack was not ready within 30 s\n', false)).toBe(true);
    expect(stackDidNotStart(2, 'sentinel: the local stack exited with code 2 before it was ready\n', false)).toBe(true);
    expect(stackDidNotStart(1, 'sentinel: the local stack was not ready within 30 s\n', false)).toBe(false);
    expect(stackDidNotStart(2, 'sentinel: the local stack was not ready within 30 s\n', true)).toBe(false);
    expect(stackDidNotStart(2, 'sentinel: configuration invalid\n', false)).toBe(false);
  });

  test('markdown table and stats: one line per run, detection rate and false alarms', () => {
    const base = { exitCode: 0, timedOut: false, stackStartFailed: false, startAttempts: 1, durationMs: 1000, reportsDir: '/tmp/x', stderrTail: '', checks: allPassed() };
    const results = [
      { ...base, fault: 'tls-expiring', expectation: expectationFor('tls-expiring'), exitCode: 1, checks: allPassed().map((c) => (c.id === 'tls' ? { ...c, status: 'failed' as const, reason: 'tls_expiry' } : c)), mismatches: [] },
      { ...base, fault: HEALTHY, expectation: expectationFor(HEALTHY), mismatches: [] },
      { ...base, fault: HEALTHY, expectation: expectationFor(HEALTHY), mismatches: ['e2e-login: expected passed, got flaky'] },
    ];
    expect(matrixStats(results)).toEqual({ faults: 1, detected: 1, detectionRate: 1, healthyRuns: 2, falseAlarms: 1, mismatches: 1 });
    const md = matrixMarkdown(results, new Date('2026-01-01T00:00:00Z'));
    expect(md.split('\n').filter((line) => line.startsWith('| ') && !line.startsWith('| fault'))).toEqual([
      '| tls-expiring | tls: tls_expiry | tls: tls_expiry | match | 1.0 s |',
      '| healthy | (none) | (none) | match | 1.0 s |',
      '| healthy | (none) | (none) | **MISMATCH**: e2e-login: expected passed, got flaky | 1.0 s |',
    ]);
    expect(md).toContain('Detection rate: 1/1 faults (100 %)');
    expect(md).toContain('False alarms: 1 of 2 healthy runs');
  });

  test('the console line gives the detection rate, or says that no fault row ran (healthy runs only)', () => {
    expect(detectionSummary({ faults: 4, detected: 3, detectionRate: 0.75 })).toBe('detection rate 3/4 (75 %)');
    expect(detectionSummary({ faults: 0, detected: 0, detectionRate: 1 })).toBe('no fault row ran (detection rate not applicable)');
  });
});

describe('representative half of the matrix (full `sentinel run` per case, no retries)', () => {
  REPRESENTATIVE.forEach((fault, index) => {
    test(`${index + 1}. ${fault}`, async () => {
      const result = await runFaultCase(fault, { timeoutMs: CASE_TIMEOUT_MS - 20_000 });
      const failed = Object.fromEntries(result.checks.filter((c) => c.status === 'failed').map((c) => [c.id, c.reason]));
      // The exact failed set first (readable diff), then every other rule of the row.
      expect(failed, `reports kept in ${result.reportsDir}`).toEqual(result.expectation.failed);
      expect(result.mismatches, `reports kept in ${result.reportsDir}`).toEqual([]);
      // Reports of a failed case stay for diagnosis (path in the message above).
      await rm(result.reportsDir, { recursive: true, force: true });
    }, CASE_TIMEOUT_MS);
  });
});
