import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeCoolify, type FakeCoolify } from '../core/test-support/coolify-fake.ts';
import { runProbe } from './run-probe.ts';
import { testConfig } from './test-support/probe-config.ts';

const TOKEN = '5|resources-sekrit-token-0a1b2c';
const READ_ONLY = '6|read-only-resources-token';
const DEPLOY_ONLY = '7|deploy-only-resources-token';
const APP = 'app0000000000000000000001';
const ZITADEL = 'zit0000000000000000000001';
const APP_DB = 'adb0000000000000000000001';
const ZITADEL_DB = 'zdb0000000000000000000001';

let fake: FakeCoolify;

const healthyStack = () => ({
  name: 'zitadel-stack',
  status: 'running:healthy',
  applications: [
    { name: 'zitadel', status: 'running:healthy' },
    { name: 'zitadel-login', status: 'running:healthy' },
  ],
  databases: [],
});

beforeEach(async () => {
  fake = await startFakeCoolify({ tokens: { [TOKEN]: ['read', 'deploy'], [READ_ONLY]: ['read'], [DEPLOY_ONLY]: ['deploy'] }, appUuid: APP });
  fake.services[ZITADEL] = healthyStack();
  fake.databases[APP_DB] = { name: 'gadgetbot-db', status: 'running:healthy', backups: [] };
  fake.databases[ZITADEL_DB] = { name: 'zitadel-db', status: 'running:healthy', backups: [] };
  fake.addDeployment('finished');
});
afterEach(async () => {
  await fake.close();
});

function config(coolify: Record<string, unknown> = {}) {
  return testConfig({
    appUrl: 'https://gadgetbot.example.com',
    issuer: 'https://auth.example.com',
    coolify: { url: fake.url, token: TOKEN, appUuid: APP, zitadelUuid: ZITADEL, appDbUuid: APP_DB, zitadelDbUuid: ZITADEL_DB, ...coolify },
    timeouts: { probeMs: 5_000 },
  });
}

const probe = (coolify: Record<string, unknown> = {}) => runProbe('coolify-resources', config(coolify));

describe('coolify-resources probe', () => {
  it('passes when every resource runs healthy and the last deployment finished, with a read-only token', async () => {
    const result = await probe({ token: READ_ONLY });
    expect(result).toMatchObject({ id: 'coolify-resources', status: 'passed', target: fake.url });
    expect(result.warnings).toBeUndefined();
    expect(result.observations).toEqual({
      resources: [
        { role: 'app', uuid: APP, kind: 'application', name: 'gadgetbot', status: 'running:healthy', state: 'healthy' },
        { role: 'zitadel', uuid: ZITADEL, kind: 'service', name: 'zitadel-stack', status: 'running:healthy', state: 'healthy' },
        { role: 'app-db', uuid: APP_DB, kind: 'database', name: 'gadgetbot-db', status: 'running:healthy', state: 'healthy' },
        { role: 'zitadel-db', uuid: ZITADEL_DB, kind: 'database', name: 'zitadel-db', status: 'running:healthy', state: 'healthy' },
      ],
      deployment: { uuid: fake.deployments[0]!.deployment_uuid, status: 'finished', commit: 'HEAD', finishedAt: fake.deployments[0]!.updated_at },
    });
    // Only reads, and the deployment list one at a time (older Coolify sends every deployment's logs).
    expect(fake.requests.every((r) => r.method === 'GET')).toBe(true);
    expect(fake.requests.map((r) => r.url)).toContain(`/api/v1/deployments/applications/${APP}?skip=0&take=1`);
  });

  it('watches only the app when no other uuid is set', async () => {
    const result = await runProbe('coolify-resources', testConfig({ appUrl: 'https://a.example.com', issuer: 'https://b.example.com', coolify: { url: fake.url, token: TOKEN, appUuid: APP } }));
    expect(result.status).toBe('passed');
    expect((result.observations!.resources as Array<{ role: string }>).map((r) => r.role)).toEqual(['app']);
  });

  it('running:unknown passes with a warning that says no health check is configured', async () => {
    fake.databases[APP_DB]!.status = 'running:unknown';
    const result = await probe();
    expect(result.status).toBe('passed');
    expect(result.warnings).toEqual(['resource_health_unknown']);
    expect(result.message).toBe(
      'app-db "gadgetbot-db" is running:unknown: Coolify has no health check for it, so it cannot tell a broken database from a healthy one (enable one under the resource\'s Health Checks)',
    );
  });

  it('an exited database fails resource_down with its name and status', async () => {
    fake.databases[ZITADEL_DB]!.status = 'exited:unhealthy';
    const result = await probe();
    expect(result).toMatchObject({ status: 'failed', reason: 'resource_down', message: 'zitadel-db "zitadel-db" status: observed "exited:unhealthy" expected "running:healthy"' });
  });

  it('restarting is down; running:unhealthy and degraded are unhealthy; down outranks unhealthy', async () => {
    fake.databases[APP_DB]!.status = 'restarting:unknown';
    expect((await probe()).reason).toBe('resource_down');
    fake.databases[APP_DB]!.status = 'running:healthy';
    fake.setAppStatus('running:unhealthy');
    expect(await probe()).toMatchObject({ reason: 'resource_unhealthy', message: 'app "gadgetbot" status: observed "running:unhealthy" expected "running:healthy"' });
    fake.databases[ZITADEL_DB]!.status = 'exited:unhealthy';
    expect((await probe()).reason).toBe('resource_down');
  });

  it('a degraded Zitadel stack names the container that is not running (excluded one-shots left out)', async () => {
    fake.services[ZITADEL] = {
      ...healthyStack(),
      status: 'degraded:unhealthy',
      applications: [
        { name: 'zitadel', status: 'running:healthy' },
        { name: 'zitadel-login', status: 'exited' },
        { name: 'zitadel-init', status: 'exited', exclude_from_status: true },
      ],
    };
    const result = await probe();
    expect(result).toMatchObject({
      status: 'failed',
      reason: 'resource_unhealthy',
      message: 'zitadel "zitadel-stack" status: observed "degraded:unhealthy (zitadel-login: exited)" expected "running:healthy"',
    });
  });

  it('a Zitadel stack deployed as a compose application is read from /applications', async () => {
    delete fake.services[ZITADEL];
    const result = await probe({ zitadelUuid: APP });
    expect(result.status).toBe('passed');
    expect((result.observations!.resources as Array<{ role: string; kind: string }>)[1]).toMatchObject({ role: 'zitadel', kind: 'application' });
  });

  it('the last deployment failed: deploy_failed with its uuid and commit; a newer one still running does not hide it', async () => {
    const failed = fake.addDeployment('failed');
    fake.addDeployment('in_progress');
    const result = await probe();
    expect(result).toMatchObject({ status: 'failed', reason: 'deploy_failed' });
    expect(result.message).toBe(`app last deployment: observed "failed (deployment ${failed.deployment_uuid}, commit HEAD)" expected "not failed"`);
    expect(result.observations!.deployment).toMatchObject({ uuid: failed.deployment_uuid, status: 'failed' });
  });

  it('a cancelled last deployment is no failure; no deployment at all passes', async () => {
    fake.addDeployment('cancelled-by-user');
    expect((await probe()).status).toBe('passed');
    fake.deployments.splice(0);
    const result = await probe();
    expect(result.status).toBe('passed');
    expect(result.observations!.deployment).toBeUndefined();
  });

  it('a uuid Coolify does not know is resource_missing, naming the variable', async () => {
    const result = await probe({ appDbUuid: 'nope' });
    expect(result).toMatchObject({ status: 'failed', reason: 'resource_missing' });
    expect(result.message).toContain('check SENTINEL_COOLIFY_APP_DB_UUID (a database inside a Docker Compose service is not served by the API');
    const stack = await probe({ zitadelUuid: 'nope' });
    expect(stack.message).toContain('Coolify has no service or application with uuid "nope" for this token (404): check SENTINEL_COOLIFY_ZITADEL_UUID');
  });

  it('a token that cannot read is coolify_auth and says what to fix; the token never shows', async () => {
    const deployOnly = await probe({ token: DEPLOY_ONLY });
    expect(deployOnly).toMatchObject({ status: 'failed', reason: 'coolify_auth' });
    expect(deployOnly.message).toMatch(/lacks the "read" ability .*SENTINEL_COOLIFY_TOKEN needs the read permission/);
    const rejected = await probe({ token: '9|sekrit-wrong' });
    expect(rejected).toMatchObject({ reason: 'coolify_auth', message: 'Coolify rejected the token (401): check SENTINEL_COOLIFY_TOKEN' });
    fake.apiDisabled = true;
    expect(await probe()).toMatchObject({ reason: 'coolify_auth', message: 'Coolify API is disabled (403 "API is disabled."): enable it in Coolify under Settings → Advanced → API Access' });
    expect(JSON.stringify([deployOnly, rejected])).not.toContain('sekrit');
  });

  it('an unreachable Coolify is connect_refused, a hanging one timeout', async () => {
    const refused = await probe({ url: 'http://127.0.0.1:1' });
    expect(refused.reason).toBe('connect_refused');
    fake.hangPaths = ['/api/v1/databases'];
    const hung = await runProbe('coolify-resources', { ...config(), timeouts: { ...config().timeouts, probeMs: 1_000 } });
    expect(hung.reason).toBe('timeout');
  });

  it('on a Coolify before v4.0.0-beta.445 an unhealthy resource says that it may only lack a health check', async () => {
    fake.version = '4.0.0-beta.420';
    fake.setAppStatus('running:unhealthy');
    const result = await probe();
    expect(result.message).toContain('(Coolify 4.0.0-beta.420 reports a container without a health check as running:unhealthy; since v4.0.0-beta.445 that reads running:unknown)');
  });
});
