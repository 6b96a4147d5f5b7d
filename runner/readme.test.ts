/**
 * The README repeats three lists the code owns: the runbook line per reason (core/runbook.ts), the
 * fault-matrix rows (runner/fault-matrix.ts) and the alert rules (monitoring/sentinel.rules.yml).
 * These tests keep the copies equal, so a reader never acts on a stale line.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { REASONS } from '../core/result.ts';
import { RUNBOOK } from '../core/runbook.ts';
import { FAULT_MATRIX } from './fault-matrix.ts';

const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');
const readme = read('README.md');
const escapeCell = (text: string) => text.replace(/\|/g, '\\|');

describe('README.md', () => {
  test('its troubleshooting table has every reason under its anchor with the runbook line the status page and the alerts show', () => {
    for (const reason of REASONS) {
      expect(readme, reason).toContain(`| <a id="reason-${reason}"></a>\`${reason}\` | ${escapeCell(RUNBOOK[reason])} |`);
    }
  });

  test('its fault-matrix table has a row for every row of the matrix, and no other', () => {
    const table = readme.slice(readme.indexOf('## Fault matrix'), readme.indexOf('## Troubleshooting'));
    const named = [...table.matchAll(/^\| `([a-z0-9-]+)(?: \(scenario[^`]*\))?` \|/gm)].map((m) => m[1]);
    expect(named).toEqual(FAULT_MATRIX.map((row) => row.fault));
  });

  test('its alerting table names every alert rule', () => {
    const rules = parseYaml(read('monitoring/sentinel.rules.yml')) as { groups: Array<{ rules: Array<{ alert: string }> }> };
    const table = readme.slice(readme.indexOf('## Alerting'), readme.indexOf('## The reference stack'));
    for (const { alert } of rules.groups.flatMap((g) => g.rules)) expect(table, alert).toContain(`\`${alert}\``);
  });
});
