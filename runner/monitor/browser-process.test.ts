import { describe, expect, it } from 'vitest';
import { runBrowserInChild } from './browser-process.ts';
import { testConfig } from './test-support/fakes.ts';

describe('browser runner child process', () => {
  it('runs in its own process and reports the runner error as one line (no usable Chromium)', async () => {
    const config = testConfig({ checks: ['e2e-login'] });
    const run = runBrowserInChild(config, { SENTINEL_CHROMIUM: '/nonexistent/chromium' }, { checks: ['e2e-login'], reportsDir: '/tmp/sentinel-browser-child-test' });
    await expect(run).rejects.toThrow('SENTINEL_CHROMIUM points at /nonexistent/chromium, which does not exist');
  });

  it('is stopped by its signal', async () => {
    const controller = new AbortController();
    controller.abort();
    const started = Date.now();
    const run = runBrowserInChild(testConfig(), {}, { checks: ['e2e-login'], reportsDir: '/tmp/sentinel-browser-child-test', signal: controller.signal });
    await expect(run).rejects.toThrow('browser runner exited with code null');
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
