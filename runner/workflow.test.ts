/**
 * The deployment files nobody can run here (no GitHub runner, no Docker engine) are checked by
 * structure: the workflow parses and only calls commands and variables that exist; the Dockerfile
 * keeps its user, port, health check and command; the Coolify doc names real variables.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { CONFIG_FILE_VARIABLE, ENV_VARS, SECRET_PATHS } from '../core/config.ts';
import { USAGE } from './cli.ts';

const ROOT = new URL('../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, ROOT), 'utf8');
const KNOWN_VARIABLES = [...Object.keys(ENV_VARS), CONFIG_FILE_VARIABLE];
const SENTINEL_COMMANDS = ['run', 'probe', 'monitor', 'stack', 'check-config', 'watch-deploys'];

/** The workflow as GitHub reads it: YAML 1.2 with every scalar a string (`on` stays a key). */
type Yaml = string | Yaml[] | { [key: string]: Yaml };
const parseWorkflow = (text: string) => parseYaml(text, { schema: 'failsafe', uniqueKeys: true, strict: true }) as Yaml;

const asMap = (value: Yaml | undefined): Record<string, Yaml> => {
  expect(value !== undefined && typeof value === 'object' && !Array.isArray(value)).toBe(true);
  return value as Record<string, Yaml>;
};
const asList = (value: Yaml | undefined): Yaml[] => {
  expect(Array.isArray(value)).toBe(true);
  return value as Yaml[];
};

const workflowText = read('.github/workflows/acceptance.yml');
const workflow = asMap(parseWorkflow(workflowText));
const job = asMap(asMap(workflow.jobs).acceptance);
const steps = asList(job.steps).map(asMap);

/** Every shell line the workflow runs, continuation-free (the `run:` values). */
const shellLines = steps.flatMap((step) => (typeof step.run === 'string' ? step.run.split('\n').map((l) => l.trim()).filter(Boolean) : []));

describe('.github/workflows/acceptance.yml', () => {
  it('runs on workflow_dispatch, repository_dispatch coolify-deploy-finished and pushes to main', () => {
    const on = asMap(workflow.on);
    expect(Object.keys(on).sort()).toEqual(['push', 'repository_dispatch', 'workflow_dispatch']);
    expect(asMap(on.repository_dispatch).types).toEqual(['coolify-deploy-finished']);
    expect(asMap(on.push).branches).toEqual(['main']);
  });

  it('uses ubuntu-latest and Node 20, installs with npm ci and Playwright’s Chromium, runs sentinel in ci mode', () => {
    expect(job['runs-on']).toBe('ubuntu-latest');
    const setupNode = steps.find((s) => typeof s.uses === 'string' && s.uses.startsWith('actions/setup-node@'));
    expect(asMap(setupNode?.with)['node-version']).toBe('20');
    expect(shellLines).toContain('npm ci --no-audit --no-fund');
    expect(shellLines).toContain('npx playwright install --with-deps chromium');
    expect(shellLines).toContain('npx sentinel run --mode ci');
  });

  it('every sentinel / npm / npx command it runs exists', () => {
    const scripts = Object.keys((JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts);
    const commands = shellLines.flatMap((line) => [...line.matchAll(/\b(npx|npm)\s+([^\s;&|]+)(?:\s+([^\s;&|]+))?(?:\s+([^\s;&|]+))?/g)]);
    expect(commands.length).toBeGreaterThanOrEqual(4);
    for (const [, tool, first, second] of commands) {
      if (tool === 'npm') {
        expect(['ci', 'install', 'test', 'run']).toContain(first);
        if (first === 'run') expect(scripts).toContain(second);
      } else if (first === 'sentinel') {
        expect(SENTINEL_COMMANDS).toContain(second);
        expect(USAGE).toMatch(new RegExp(`^  ${second}\\b`, 'm'));
      } else {
        expect(existsSync(new URL(`node_modules/.bin/${first}`, ROOT))).toBe(true);
      }
    }
    const modes = shellLines.flatMap((line) => [...line.matchAll(/--mode\s+(\S+)/g)].map((m) => m[1]));
    expect(modes).toEqual(['ci']);
  });

  it('sets only known SENTINEL_* variables, each from the variable or secret of the same name; secrets only from secrets', () => {
    const secretVars = new Set(Object.entries(ENV_VARS).filter(([, path]) => (SECRET_PATHS as readonly string[]).includes(path)).map(([name]) => name));
    const envBlocks = [asMap(job.env), ...steps.filter((s) => s.env !== undefined).map((s) => asMap(s.env))];
    const set = envBlocks.flatMap((env) => Object.entries(env)).filter(([name]) => name.startsWith('SENTINEL_'));
    expect(set.length).toBeGreaterThanOrEqual(10);
    for (const [name, value] of set) {
      expect(Object.keys(ENV_VARS)).toContain(name);
      if (name === 'SENTINEL_REPORTS_DIR') {
        expect(value).toBe('reports');
        continue;
      }
      if (name === 'SENTINEL_ALLOW_DISRUPTIVE') continue; // the loop guard below
      const source = secretVars.has(name) ? 'secrets' : 'vars';
      expect(value).toBe(`\${{ ${source}.${name} }}`);
    }
    // Every SENTINEL_* name mentioned anywhere in the file is a real one.
    for (const [name] of workflowText.matchAll(/SENTINEL_[A-Z0-9_]+/g)) expect(Object.keys(ENV_VARS)).toContain(name);
    for (const name of ['SENTINEL_APP_URL', 'SENTINEL_ISSUER', 'SENTINEL_USER', 'SENTINEL_PASSWORD', 'SENTINEL_DATABASE_URL', 'SENTINEL_COOLIFY_URL', 'SENTINEL_COOLIFY_TOKEN', 'SENTINEL_COOLIFY_APP_UUID']) {
      expect(set.map(([n]) => n)).toContain(name);
    }
  });

  it('can never loop deployments: the disruptive check (a redeploy) is off on push and repository_dispatch, whatever the variables say', () => {
    // A redeploy finishes a Coolify deployment, which sends repository_dispatch, which would redeploy again.
    const allow = asMap(job.env).SENTINEL_ALLOW_DISRUPTIVE;
    expect(allow).toBe("${{ github.event_name == 'workflow_dispatch' && vars.SENTINEL_ALLOW_DISRUPTIVE || 'false' }}");
    // With GitHub's && / ||, any event but workflow_dispatch yields 'false'; only a run started by hand reads the variable.
    // Nothing else can switch it on: no step sets it, no command passes the flag or names the check.
    for (const step of steps) expect(step.env === undefined || !('SENTINEL_ALLOW_DISRUPTIVE' in asMap(step.env))).toBe(true);
    expect(workflowText).not.toContain('--allow-disruptive');
    expect(shellLines.some((line) => line.includes('e2e-session-redeploy'))).toBe(false);
    expect(Object.keys(asMap(workflow.on))).toEqual(expect.arrayContaining(['push', 'repository_dispatch']));
  });

  it('uploads reports/ always and leaves the job summary to the runner (no second copy)', () => {
    const upload = steps.find((s) => typeof s.uses === 'string' && s.uses.startsWith('actions/upload-artifact@'));
    expect(upload?.if).toBe('always()');
    expect(asMap(upload?.with).path).toBe('reports/');
    // The runner appends reports/summary.md itself; the workflow only notes a run that wrote none.
    const summaryWrites = shellLines.filter((line) => line.includes('GITHUB_STEP_SUMMARY'));
    expect(summaryWrites).toHaveLength(1);
    expect(summaryWrites[0]).toMatch(/^echo "[^"]*" >> "\$GITHUB_STEP_SUMMARY"$/);
    expect(workflowText).not.toMatch(/(cat|tee)\s[^\n]*summary\.md/);
    expect(shellLines).toContain('if [ ! -f reports/summary.md ]; then');
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const instructions = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const only = (keyword: string) => instructions.filter((l) => l.startsWith(`${keyword} `));

  it('keeps its base, browser, install, build, user, port, health check and command', () => {
    expect(only('FROM')).toEqual(['FROM node:20-bookworm-slim']);
    expect(only('RUN').some((l) => /apt-get install -y --no-install-recommends chromium-headless-shell fonts-liberation/.test(l))).toBe(true);
    expect(only('RUN').some((l) => l.startsWith('RUN npm ci --omit=dev'))).toBe(true);
    // the bundle is built after the sources are copied, so the monitor never runs them through tsx
    expect(instructions.indexOf('RUN node bin/build.mjs')).toBeGreaterThan(instructions.indexOf('COPY . .'));
    expect(only('USER')).toEqual(['USER node']);
    expect(only('EXPOSE')).toEqual(['EXPOSE 9464']);
    expect(only('CMD')).toEqual(['CMD ["node", "bin/sentinel.mjs", "monitor"]']);
    expect(only('ENTRYPOINT')).toEqual(['ENTRYPOINT ["/usr/bin/tini", "--"]']);
    const env = only('ENV').join(' ');
    expect(env).toMatch(/SENTINEL_CHROMIUM=\/usr\/lib\/chromium\/chromium-headless-shell/);
    expect(env).toMatch(/SENTINEL_MONITOR_LISTEN=0\.0\.0\.0:9464/);
    expect(only('HEALTHCHECK')).toHaveLength(1);
    expect(only('HEALTHCHECK')[0]).toMatch(/^HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 +CMD \["node", "-e", ".*\/healthz.*"\]$/);
    // USER comes after the last RUN: nothing after it runs as root.
    const lastRun = instructions.map((l) => l.startsWith('RUN ')).lastIndexOf(true);
    expect(instructions.indexOf('USER node')).toBeGreaterThan(lastRun);
  });

  it('every SENTINEL_* variable it sets is a known one', () => {
    for (const [name] of dockerfile.matchAll(/SENTINEL_[A-Z0-9_]+/g)) expect(KNOWN_VARIABLES).toContain(name);
  });

  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  /** The HEALTHCHECK's own script, run with node against a local /healthz. */
  const healthScript = (): string => {
    const json = /HEALTHCHECK .*?CMD (\[.*\])$/.exec(only('HEALTHCHECK')[0]!)![1]!;
    const argv = JSON.parse(json) as string[];
    expect(argv.slice(0, 2)).toEqual(['node', '-e']);
    return argv[2]!;
  };
  // Asynchronous on purpose: the /healthz stand-in lives in this process and must keep answering.
  const runHealth = (port: number, extraEnv: Record<string, string> = {}) =>
    new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, ['-e', healthScript()], { env: { PATH: process.env.PATH ?? '', SENTINEL_MONITOR_LISTEN: `0.0.0.0:${port}`, ...extraEnv }, stdio: 'ignore', timeout: 10_000 });
      child.on('exit', (code) => resolve(code));
    });

  it('its health check passes on 200 from /healthz (with the bearer token when set) and fails otherwise', async () => {
    const seen: Array<{ url: string | undefined; authorization: string | undefined }> = [];
    let healthy = true;
    server = createServer((req, res) => {
      seen.push({ url: req.url, authorization: req.headers.authorization });
      res.writeHead(req.url === '/healthz' && healthy ? 200 : 503).end();
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    expect(await runHealth(port)).toBe(0);
    expect(await runHealth(port, { SENTINEL_MONITOR_TOKEN: 'tok-123456' })).toBe(0);
    healthy = false;
    expect(await runHealth(port)).toBe(1);
    expect(seen).toEqual([
      { url: '/healthz', authorization: undefined },
      { url: '/healthz', authorization: 'Bearer tok-123456' },
      { url: '/healthz', authorization: undefined },
    ]);
  });

  it('its health check fails when nothing listens', async () => {
    server = createServer();
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    server = undefined;
    expect(await runHealth(port)).toBe(1);
  });

  it('.dockerignore keeps dependencies, reports, git and browser state out of the image', () => {
    const ignored = read('.dockerignore').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    for (const entry of ['node_modules', 'reports', '.git', 'e2e/.auth', 'test-results']) expect(ignored).toContain(entry);
  });
});

describe('docs/coolify-monitor.md', () => {
  it('names only real SENTINEL_* variables and the port the image exposes', () => {
    const doc = read('docs/coolify-monitor.md');
    const names = [...doc.matchAll(/SENTINEL_[A-Z0-9_]+/g)].map((m) => m[0]);
    expect(names.length).toBeGreaterThan(5);
    for (const name of names) expect(KNOWN_VARIABLES).toContain(name);
    expect(doc).toContain('9464');
  });
});
