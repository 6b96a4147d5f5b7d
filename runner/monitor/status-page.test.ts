/**
 * The status page as a person sees it: opened in the real Chromium with passing, failing and skipped
 * checks and a Prometheus with a firing alert. The screenshot stays in test-output/status-page.png.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { chromium, expect as expectPage } from '@playwright/test';
import { afterAll, describe, expect, test } from 'vitest';
import { resolveBrowser } from '../../core/browser.ts';
import { RUNBOOK } from '../../core/runbook.ts';
import { REPO } from '../test-support/cli.ts';
import { startMonitor, type MonitorHandle } from './index.ts';
import { relativeTime } from './status-page.ts';
import { fakeBrowser, fakeProbes, passed, testConfig } from './test-support/fakes.ts';

let monitor: MonitorHandle | undefined;
let prometheus: Server | undefined;
afterAll(async () => {
  await monitor?.stop();
  if (prometheus) await new Promise<void>((resolve) => prometheus!.close(() => resolve()));
});

describe('relative times', () => {
  test('read in seconds, minutes, hours and days', () => {
    const now = '2026-12-07T12:00:00.000Z';
    expect(relativeTime('2026-12-07T11:59:48.000Z', now)).toBe('12 s ago');
    expect(relativeTime('2026-12-07T11:55:00.000Z', now)).toBe('5 min ago');
    expect(relativeTime('2026-12-07T09:00:00.000Z', now)).toBe('3 h ago');
    expect(relativeTime('2026-12-04T12:00:00.000Z', now)).toBe('3 d ago');
  });
});

describe('the status page in Chromium', () => {
  test('shows state, relative and absolute times, duration and trend, the reason with its runbook line, skipped checks and the firing alerts', async () => {
    // A Prometheus stand-in that holds one firing sentinel alert (GET /api/v1/alerts, as Prometheus answers it).
    prometheus = createServer((req, res) => {
      const alerts = [
        { labels: { alertname: 'SentinelProbeFailed', check: 'db', reason: 'db_unreachable' }, state: 'firing', activeAt: new Date(Date.now() - 120_000).toISOString() },
        { labels: { alertname: 'SomeoneElsesAlert' }, state: 'firing', activeAt: new Date().toISOString() },
      ];
      res.writeHead(req.url === '/api/v1/alerts' ? 200 : 404, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'success', data: { alerts } }));
    });
    await new Promise<void>((resolve) => prometheus!.listen(0, '127.0.0.1', resolve));
    const prometheusUrl = `http://127.0.0.1:${(prometheus.address() as AddressInfo).port}`;

    let call = 0;
    const probes = fakeProbes((id) => {
      call += 1;
      if (id === 'db') return { ...passed(id), status: 'failed', reason: 'db_unreachable', message: 'connect ECONNREFUSED 10.0.0.5:5432', durationMs: 40 + call };
      return passed(id, { durationMs: 20 + (call % 5) * 10 });
    });
    monitor = await startMonitor(testConfig({ checks: ['tls', 'app-health', 'db', 'e2e-login', 'e2e-session-redeploy'], monitor: { prometheusUrl } }), {
      log: () => undefined,
      runProbe: probes.run,
      runBrowser: fakeBrowser().run,
    });
    await monitor.firstCycle;
    // Three more probe cycles, so the duration trend has points.
    for (let i = 0; i < 3; i++) await monitor.scheduler.trigger('probes');

    const browser = await resolveBrowser(testConfig());
    const launched = await chromium.launch({ ...(browser.executablePath ? { executablePath: browser.executablePath } : {}), args: browser.args });
    try {
      const page = await launched.newPage({ viewport: { width: 1280, height: 720 } });
      await page.goto(`${monitor.url}/status`);
      const db = page.getByRole('row').filter({ has: page.getByText('db', { exact: true }) });
      await expectPage(db.getByRole('cell').nth(1)).toHaveText('failing');
      await expectPage(db).toContainText('db_unreachable: connect ECONNREFUSED 10.0.0.5:5432');
      await expectPage(db).toContainText(`→ ${RUNBOOK.db_unreachable}`);
      await expectPage(db).toContainText(/\d+ s ago/);
      await expectPage(db).toContainText(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ/);
      await expectPage(db.getByRole('img', { name: /duration of the last \d+ runs/ })).toBeVisible();
      const appHealth = page.getByRole('row').filter({ has: page.getByText('app-health', { exact: true }) });
      await expectPage(appHealth.getByRole('cell').nth(1)).toHaveText('passing');
      await expectPage(appHealth).toContainText(/\d+ ms/);
      const redeploy = page.getByRole('row').filter({ has: page.getByText('e2e-session-redeploy', { exact: true }) });
      await expectPage(redeploy.getByRole('cell').nth(1)).toHaveText('skipped');
      const alerts = page.getByRole('region', { name: 'Alerts' });
      await expectPage(alerts).toContainText('SentinelProbeFailed firing · db · db_unreachable · since 2 min ago');
      await expectPage(alerts).not.toContainText('SomeoneElsesAlert');
      await expectPage(page.getByText('1 check failing')).toBeVisible();
      await mkdir(join(REPO, 'test-output'), { recursive: true });
      const file = join(REPO, 'test-output', 'status-page.png');
      await page.screenshot({ path: file, fullPage: true });
      expect((await readFile(file)).subarray(1, 4).toString()).toBe('PNG');
      expect(probes.rec.count('db')).toBeGreaterThanOrEqual(4);
      console.log(`status page screenshot: ${file}`);
    } finally {
      await launched.close();
    }
  }, 60_000);
});
