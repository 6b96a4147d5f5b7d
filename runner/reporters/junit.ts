/** `junit.xml` — one testsuite, one testcase per check id; failures carry `reason: message`. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CheckResult, RunSummary } from '../../core/result.ts';
import type { Reporter } from './types.ts';

export function escapeXml(text: string): string {
  return text
    // characters XML 1.0 cannot carry at all
    .replace(/[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

const seconds = (ms: number) => (ms / 1000).toFixed(3);

function testcase(c: CheckResult): string {
  const open = `    <testcase classname="sentinel.${c.kind}" name="${escapeXml(c.id)}" time="${seconds(c.durationMs)}"`;
  const message = escapeXml(`${c.reason ?? 'unexpected'}: ${c.message ?? ''}`.trim());
  switch (c.status) {
    case 'passed':
      return `${open}/>`;
    case 'skipped':
      return `${open}>\n      <skipped message="${message}"/>\n    </testcase>`;
    case 'failed':
      return `${open}>\n      <failure message="${message}" type="${escapeXml(c.reason ?? 'unexpected')}"/>\n    </testcase>`;
    case 'flaky':
      return [
        `${open}>`,
        `      <failure message="${message}" type="flaky"/>`,
        `      <system-out>${escapeXml(`flaky: ${c.id} passed only after a retry; a pass after retry can hide an outage, so it counts as a failure`)}</system-out>`,
        '    </testcase>',
      ].join('\n');
  }
}

export function junitDocument(summary: RunSummary): string {
  const { failed, flaky, skipped } = summary.totals;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="gadgetbot-sentinel" tests="${summary.checks.length}" failures="${failed + flaky}" skipped="${skipped}" time="${seconds(summary.durationMs)}">`,
    `  <testsuite name="sentinel ${escapeXml(summary.mode)}" tests="${summary.checks.length}" failures="${failed + flaky}" errors="0" skipped="${skipped}" time="${seconds(summary.durationMs)}" timestamp="${escapeXml(summary.startedAt)}">`,
    `    <properties><property name="target" value="${escapeXml(summary.target)}"/></properties>`,
    ...summary.checks.map(testcase),
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

export function junitReporter(reportsDir: string): Reporter {
  return {
    onCheck() {},
    async onEnd(summary) {
      await writeFile(join(reportsDir, 'junit.xml'), junitDocument(summary));
    },
  };
}
