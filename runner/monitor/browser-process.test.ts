import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBrowserInChild } from './browser-process.ts';
import { testConfig } from './test-support/fakes.ts';

describe('browser runner child process', () => {
  it('runs in its own process and reports the error of Playwright as one line (no usable Chromium)', async () => {
    const config = testConfig({ checks: ['e2e-login'] });
    const env = { SENTINEL_CHROMIUM: '/nonexistent/chromium', SENTINEL_APP_URL: 'https://app.example.test', SENTINEL_ISSUER: 'https://idp.example.test', SENTINEL_USER: 'a@example.test', SENTINEL_PASSWORD: 'pw-Secret-1' };
    const reportsDir = await mkdtemp(join(tmpdir(), 'sentinel-browser-child-test-'));
    try {
      const [result] = await runBrowserInChild(config, env, { checks: ['e2e-login'], reportsDir });
      expect(result).toMatchObject({ id: 'e2e-login', status: 'failed', reason: 'unexpected' });
      expect(result!.message).toBe('no result from Playwright (exit code 1; SentinelError: SENTINEL_CHROMIUM points at /nonexistent/chromium, which does not exist)');
    } finally {
      await rm(reportsDir, { recursive: true, force: true });
    }
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
