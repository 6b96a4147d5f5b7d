import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configSchema, type Config } from './config.ts';
import {
  CoolifyError,
  compareCoolifyVersions,
  createCoolifyClient,
  deploymentFailure,
  parseCoolifyTime,
  parseCoolifyVersion,
  type CoolifyClient,
} from './coolify.ts';
import { createCertificateAuthority, issueLeafCertificate } from '../fixtures/stack/certs.ts';
import { coolifyDriver } from './coolify-redeploy.ts';
import { createRedeployDriver, judgeRedeploy, judgeRedeployError } from './redeploy.ts';
import { backupExecution, backupSchedule, startFakeCoolify, type FakeCoolify } from './test-support/coolify-fake.ts';

// Distinctive so a leak anywhere (message, cause, inspect output) is unmistakable.
const TOKEN = '7|sekrit-TOKEN-4f9a0c2e-never-print-me';
const READ_ONLY = '8|read-only-TOKEN-b1d2e3f4';
const DEPLOY_ONLY = '9|deploy-only-TOKEN-a1b2c3d4';
const APP = 'k8s4w0c0ooc8sg0kgwk4o8o0';

let fake: FakeCoolify;
let client: CoolifyClient;

function configFor(url: string, overrides: Partial<Config['coolify']> = {}, token = TOKEN): Config {
  return configSchema.parse({
    appUrl: 'https://gadgetbot.example.com',
    issuer: 'https://auth.example.com',
    coolify: { url, token, appUuid: APP, pollIntervalMs: 20, deployTimeoutMs: 5_000, ...overrides },
    timeouts: { probeMs: 5_000 },
  });
}

/** Everything a person or a log could ever see of an error, causes included. */
function everythingPrinted(error: unknown): string {
  return `${String(error)}\n${inspect(error, { depth: 10 })}\n${JSON.stringify(error)}`;
}

async function failure(promise: Promise<unknown>): Promise<CoolifyError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CoolifyError);
  expect(everythingPrinted(error)).not.toContain('sekrit');
  return error as CoolifyError;
}

beforeEach(async () => {
  fake = await startFakeCoolify({ tokens: { [TOKEN]: ['read', 'deploy'], [READ_ONLY]: ['read'], [DEPLOY_ONLY]: ['deploy'] }, appUuid: APP });
  client = createCoolifyClient({ url: fake.url, token: TOKEN, requestTimeoutMs: 5_000 });
});
afterEach(async () => {
  await client.close();
  await fake.close();
});

describe('coolify client', () => {
  it('deploys with POST, a Bearer token and no force parameter', async () => {
    const queued = await client.deploy(APP);
    expect(queued.deployment_uuid).toBe(fake.deployments[0]!.deployment_uuid);
    expect(queued.resource_uuid).toBe(APP);
    expect(fake.requests).toEqual([{ method: 'POST', url: `/api/v1/deploy?uuid=${APP}`, authorization: `Bearer ${TOKEN}` }]);
  });

  it('reads a deployment, the app deployment list (object or bare array, newest first) and the app status', async () => {
    const older = fake.addDeployment('finished');
    const newer = fake.addDeployment('in_progress');
    expect(await client.getDeployment(older.deployment_uuid)).toMatchObject({ deployment_uuid: older.deployment_uuid, status: 'finished' });
    const list = await client.listAppDeployments(APP, { skip: 0, take: 10 });
    expect(list.count).toBe(2);
    expect(list.deployments.map((d) => d.deployment_uuid)).toEqual([newer.deployment_uuid, older.deployment_uuid]);
    fake.bareArrayList = true;
    const bare = await client.listAppDeployments(APP);
    expect(bare).toEqual({ count: 2, deployments: list.deployments });
    expect(fake.requests.at(-1)!.url).toBe(`/api/v1/deployments/applications/${APP}?skip=0&take=10`);
    expect(await client.getApplication(APP)).toEqual({ uuid: APP, name: 'gadgetbot', status: 'running:healthy' });
  });

  it('tolerates a base URL given with /api/v1 and a trailing slash', async () => {
    const other = createCoolifyClient({ url: `${fake.url}/api/v1/`, token: TOKEN, requestTimeoutMs: 5_000 });
    expect((await other.getApplication(APP)).status).toBe('running:healthy');
    expect(fake.requests.at(-1)!.url).toBe(`/api/v1/applications/${APP}`);
    await other.close();
  });

  it('401: a rejected token', async () => {
    const bad = createCoolifyClient({ url: fake.url, token: '1|sekrit-wrong-token', requestTimeoutMs: 5_000 });
    const error = await failure(bad.getApplication(APP));
    expect(error.code).toBe('coolify_unauthorized');
    expect(error.message).toBe('Coolify rejected the token (401): check SENTINEL_COOLIFY_TOKEN');
    expect(error.httpStatus).toBe(401);
    await bad.close();
  });

  it('403: a token without the deploy ability names it', async () => {
    const readOnly = createCoolifyClient({ url: fake.url, token: READ_ONLY, requestTimeoutMs: 5_000 });
    const error = await failure(readOnly.deploy(APP));
    expect(error.code).toBe('coolify_forbidden');
    expect(error.message).toBe(
      'Coolify token lacks the "deploy" ability (403 "Missing required permissions: deploy") for POST /api/v1/deploy?uuid=k8s4w0c0ooc8sg0kgwk4o8o0: SENTINEL_COOLIFY_TOKEN needs read + deploy (or root)',
    );
    expect(everythingPrinted(error)).not.toContain(READ_ONLY);
    await readOnly.close();
  });

  it('403: a deploy-only token (the dashboard default when ticking deploy) names the missing read ability', async () => {
    const deployOnly = createCoolifyClient({ url: fake.url, token: DEPLOY_ONLY, requestTimeoutMs: 5_000 });
    const error = await failure(deployOnly.getDeployment('abc'));
    expect(error.code).toBe('coolify_forbidden');
    expect(error.message).toBe(
      'Coolify token lacks the "read" ability (403 "Missing required permissions: read") for GET /api/v1/deployments/abc: SENTINEL_COOLIFY_TOKEN needs the read permission (read + deploy for the redeploy check), or root',
    );
    await deployOnly.close();
  });

  it('403: the API switched off in Coolify', async () => {
    fake.apiDisabled = true;
    const error = await failure(client.listAppDeployments(APP));
    expect(error.code).toBe('coolify_forbidden');
    expect(error.message).toBe('Coolify API is disabled (403 "API is disabled."): enable it in Coolify under Settings → Advanced → API Access');
  });

  it('404: a wrong application uuid and a wrong deployment uuid say which', async () => {
    const app = await failure(client.deploy('no-such-app'));
    expect(app.code).toBe('coolify_not_found');
    expect(app.message).toBe('Coolify has no application with uuid "no-such-app" (404 "No resources found."): check SENTINEL_COOLIFY_APP_UUID');
    const list = await failure(client.listAppDeployments('no-such-app'));
    expect(list.message).toBe('Coolify has no application with uuid "no-such-app" (404 "Application not found."): check SENTINEL_COOLIFY_APP_UUID');
    const deployment = await failure(client.getDeployment('dep-404'));
    expect(deployment.code).toBe('coolify_not_found');
    expect(deployment.message).toBe('Coolify has no deployment with uuid "dep-404" (404 "Deployment not found.")');
  });

  it('405: a method the endpoint does not take', async () => {
    fake.deployMethodNotAllowed = true;
    const error = await failure(client.deploy(APP));
    expect(error.code).toBe('coolify_method');
    expect(error.message).toBe(
      'Coolify does not accept POST /api/v1/deploy?uuid=k8s4w0c0ooc8sg0kgwk4o8o0 (405 "This endpoint has changed to a POST request."): check that SENTINEL_COOLIFY_URL is Coolify\'s own base URL',
    );
  });

  it('unreachable: nothing listens on the port', async () => {
    const port = await closedPort();
    const gone = createCoolifyClient({ url: `http://127.0.0.1:${port}`, token: TOKEN, requestTimeoutMs: 5_000 });
    const error = await failure(gone.getApplication(APP));
    expect(error.code).toBe('coolify_unreachable');
    expect(error.message).toBe(`Coolify at http://127.0.0.1:${port} is unreachable (connection refused, ECONNREFUSED): check SENTINEL_COOLIFY_URL`);
    expect(error.transient).toBe(true);
    // The cause keeps the network error's code and message (useful, token-free), not the error object.
    expect(error.cause).toMatchObject({ code: 'ECONNREFUSED', message: `connect ECONNREFUSED 127.0.0.1:${port}` });
    await gone.close();
  });

  it('https: verifies the certificate against the system roots plus SENTINEL_CA_CERT', async () => {
    const ca = await createCertificateAuthority('Coolify test CA');
    const leaf = await issueLeafCertificate(ca, { ipAddresses: ['127.0.0.1'] });
    const server = createHttpsServer({ cert: leaf.chainPem, key: leaf.keyPem }, (_req, res) => void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ uuid: APP, status: 'running:healthy' })));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const dir = mkdtempSync(join(tmpdir(), 'coolify-ca-'));
    try {
      const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const untrusting = createCoolifyClient({ url, token: TOKEN, requestTimeoutMs: 5_000 });
      const error = await failure(untrusting.getApplication(APP));
      await untrusting.close();
      expect(error.code).toBe('coolify_unreachable');
      expect(error.message).toMatch(/^Coolify at https:\/\/127\.0\.0\.1:\d+ failed the TLS check \((UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN)\): set SENTINEL_CA_CERT if it uses a private CA$/);
      writeFileSync(join(dir, 'ca.pem'), ca.certPem);
      const trusting = createCoolifyClient({ url, token: TOKEN, requestTimeoutMs: 5_000, caCertPath: join(dir, 'ca.pem') });
      expect(await trusting.getApplication(APP)).toEqual({ uuid: APP, status: 'running:healthy' });
      await trusting.close();
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('unreachable: a name DNS cannot resolve', async () => {
    const nowhere = createCoolifyClient({ url: 'http://coolify.invalid', token: TOKEN, requestTimeoutMs: 5_000 });
    const error = await failure(nowhere.getApplication(APP));
    expect(error.code).toBe('coolify_unreachable');
    expect(error.message).toMatch(/^Coolify at http:\/\/coolify\.invalid is unreachable \(DNS (name not found, ENOTFOUND|lookup failed, EAI_AGAIN)\): check SENTINEL_COOLIFY_URL$/);
    await nowhere.close();
  });

  it('timeout: a Coolify that never answers hits the per-call deadline', async () => {
    fake.hangPaths = ['/api/v1/applications/'];
    const quick = createCoolifyClient({ url: fake.url, token: TOKEN, requestTimeoutMs: 200 });
    const started = Date.now();
    const error = await failure(quick.getApplication(APP));
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(error.code).toBe('coolify_timeout');
    expect(error.message).toBe(`Coolify did not answer GET /api/v1/applications/${APP} within 200 ms (${fake.url})`);
    await quick.close();
  });

  it("the caller's abort wins over the deadline and is passed back as is", async () => {
    fake.hangPaths = ['/api/v1/applications/'];
    const controller = new AbortController();
    const pending = client.getApplication(APP, controller.signal);
    controller.abort(new Error('run stopped'));
    await expect(pending).rejects.toThrow('run stopped');
  });

  it('non-JSON: an HTML page where the API should be', async () => {
    fake.htmlInstead = true;
    const error = await failure(client.getDeployment('abc'));
    expect(error.code).toBe('coolify_bad_response');
    expect(error.message).toBe("Coolify answered GET /api/v1/deployments/abc with a body that is not JSON (200, text/html): is SENTINEL_COOLIFY_URL Coolify's base URL?");
  });

  it('a 5xx is a transient bad response', async () => {
    fake.failPolls = 1;
    const error = await failure(client.getDeployment('abc'));
    expect(error.code).toBe('coolify_bad_response');
    expect(error.message).toBe('Coolify answered GET /api/v1/deployments/abc with 503 "Service Unavailable"');
    expect(error.transient).toBe(true);
  });
});

describe('coolify client: resources, backups, version', () => {
  it('reads the version as plain text (no JSON), without a leading v', async () => {
    fake.version = '4.0.0-beta.420.7';
    expect(await client.getVersion()).toBe('4.0.0-beta.420.7');
  });

  it('reads a service with its parts, and a standalone database', async () => {
    fake.services.svc = {
      name: 'zitadel-stack',
      status: 'degraded:unhealthy',
      applications: [{ name: 'zitadel', status: 'running:healthy' }, { name: 'init', status: 'exited', exclude_from_status: true }],
      databases: [{ name: 'postgres', status: 'running (healthy)' }],
    };
    expect(await client.getService('svc')).toEqual({
      uuid: 'svc',
      name: 'zitadel-stack',
      status: 'degraded:unhealthy',
      parts: [
        { name: 'zitadel', kind: 'application', status: 'running:healthy', excludedFromStatus: false },
        { name: 'init', kind: 'application', status: 'exited', excludedFromStatus: true },
        { name: 'postgres', kind: 'database', status: 'running (healthy)', excludedFromStatus: false },
      ],
    });
    fake.databases.db1 = { name: 'gadgetbot-db', status: 'exited:unhealthy', backups: [] };
    expect(await client.getDatabase('db1')).toEqual({ uuid: 'db1', name: 'gadgetbot-db', status: 'exited:unhealthy', databaseType: 'standalone-postgresql' });
    const missing = await failure(client.getService('nope'));
    expect([missing.code, missing.message]).toEqual(['coolify_not_found', 'Coolify has no service with uuid "nope" (404 "Service not found.")']);
  });

  it('reads scheduled backups in every shape the 4.x builds used (string sizes and storage, 1/0 flags)', async () => {
    fake.databases.db1 = {
      name: 'gadgetbot-db',
      status: 'running:healthy',
      backups: [
        backupSchedule({ uuid: 'b1', enabled: 1, save_s3: 0, database_backup_retention_max_storage_locally: '1.5000000', created_at: '2025-09-01T00:00:00.000000Z' }, [
          backupExecution({ uuid: 'e2', status: 'failed', message: 'pg_dump: error', size: null, finished_at: '2025-09-23 02:00:04', created_at: '2025-09-23T02:00:00.000000Z', s3_uploaded: null }),
          backupExecution({ uuid: 'e1', size: '48213', finished_at: '2025-09-22T02:00:04+00:00', created_at: '2025-09-22T02:00:00.000000Z' }),
        ]),
      ],
    };
    expect(await client.listDatabaseBackups('db1')).toEqual([
      {
        uuid: 'b1',
        enabled: true,
        frequency: '0 2 * * *',
        saveS3: false,
        disableLocalBackup: false,
        local: { amount: 0, days: 7, maxStorageGb: 1.5 },
        s3: { amount: 0, days: 0, maxStorageGb: 0 },
        createdAt: '2025-09-01T00:00:00.000000Z',
        executions: [
          { uuid: 'e2', status: 'failed', message: 'pg_dump: error', finishedAt: '2025-09-23 02:00:04', createdAt: '2025-09-23T02:00:00.000000Z', s3Uploaded: null },
          { uuid: 'e1', status: 'success', message: '', size: 48213, finishedAt: '2025-09-22T02:00:04+00:00', createdAt: '2025-09-22T02:00:00.000000Z', s3Uploaded: null },
        ],
      },
    ]);
  });

  it('tells a missing endpoint (the catch-all 404 of an older Coolify, no token needed) from a missing database', async () => {
    fake.backupApi = false;
    const endpoint = await failure(client.listDatabaseBackups('db1'));
    expect(endpoint.code).toBe('coolify_endpoint_missing');
    expect(endpoint.message).toBe('Coolify does not know GET /api/v1/databases/db1/backups (404 "Not found."): it is older than this API');
    fake.backupApi = true;
    const database = await failure(client.listDatabaseBackups('db1'));
    expect([database.code, database.message]).toEqual(['coolify_not_found', 'Coolify has no database with uuid "db1" (404 "Database not found.")']);
  });

  it('parses and orders Coolify versions; a release sorts after its betas', () => {
    expect(parseCoolifyVersion('4.0.0-beta.420.7')).toEqual({ major: 4, minor: 0, patch: 0, beta: 420, betaPatch: 7 });
    expect(parseCoolifyVersion('v4.2.0')).toEqual({ major: 4, minor: 2, patch: 0 });
    expect(parseCoolifyVersion('latest')).toBeUndefined();
    const order = ['4.0.0-beta.428', '4.0.0-beta.429', '4.0.0-beta.429.1', '4.0.0', '4.1.2', '4.3.11'].map((v) => parseCoolifyVersion(v)!);
    for (let i = 1; i < order.length; i++) expect(compareCoolifyVersions(order[i - 1]!, order[i]!)).toBeLessThan(0);
    expect(compareCoolifyVersions(parseCoolifyVersion('4.2.0')!, parseCoolifyVersion('v4.2.0')!)).toBe(0);
  });

  it('reads Coolify timestamps: ISO with microseconds or an offset, and the raw database form as UTC', () => {
    const at = Date.UTC(2025, 8, 23, 10, 0, 0);
    expect(parseCoolifyTime('2025-09-23T10:00:00.000000Z')).toBe(at);
    expect(parseCoolifyTime('2025-09-23T10:00:00+00:00')).toBe(at);
    expect(parseCoolifyTime('2025-09-23 10:00:00')).toBe(at);
    expect(parseCoolifyTime('yesterday')).toBeUndefined();
    expect(parseCoolifyTime(null)).toBeUndefined();
  });
});

describe('coolify redeploy driver', () => {
  it('deploys, polls until finished, confirms the fresh deployment in Coolify\'s list and reports it as the evidence', async () => {
    fake.nextDeploy = { finalStatus: 'finished', polls: 3 };
    const outcome = await coolifyDriver(configFor(fake.url)).redeploy(AbortSignal.timeout(10_000));
    const { deployment_uuid: id, created_at: createdAt } = fake.deployments[0]!;
    expect(outcome).toEqual({
      ok: true,
      deploymentId: id,
      status: 'finished',
      applicationStatus: 'running:healthy',
      evidence: { kind: 'coolify-deployment', checked: true, deploymentId: id, deploymentCreatedAt: createdAt, detail: `Coolify lists deployment "${id}", created ${createdAt}, as finished` },
    });
    expect(judgeRedeploy('coolify', outcome)).toEqual({ status: 'passed' });
    const calls = fake.requests.map((r) => `${r.method} ${r.url}`);
    expect(calls).toEqual([
      `POST /api/v1/deploy?uuid=${APP}`,
      ...Array(4).fill(`GET /api/v1/deployments/${id}`),
      `GET /api/v1/deployments/applications/${APP}?skip=0&take=5`,
      `GET /api/v1/applications/${APP}`,
    ]);
  });

  it('a deploy answered with a deployment that existed before the redeploy started is no evidence: instance_unchanged', async () => {
    const old = fake.addDeployment('finished', { ageMs: 10 * 60_000 });
    fake.deployAnswersWith = old.deployment_uuid;
    const outcome = await coolifyDriver(configFor(fake.url)).redeploy(AbortSignal.timeout(10_000));
    expect(outcome.ok).toBe(true);
    expect(outcome.evidence).toMatchObject({ kind: 'none', checked: true, deploymentId: old.deployment_uuid, deploymentCreatedAt: old.created_at });
    const verdict = judgeRedeploy('coolify', outcome);
    expect(verdict).toMatchObject({ status: 'failed', reason: 'instance_unchanged' });
    expect((verdict as { message: string }).message).toMatch(
      new RegExp(`^no new app instance: Coolify answered the deploy with deployment "${old.deployment_uuid}", created ${old.created_at.replace(/\./g, '\\.')}, before this redeploy started \\(.+\\): an existing deployment, not a new one$`),
    );
    expect(fake.deployments).toHaveLength(1);
  });

  it('Coolify\'s no-op (a deployment of the same commit already running): "already queued" with a uuid it never stored is instance_unchanged', async () => {
    const hung = fake.addDeployment('in_progress');
    const outcome = await coolifyDriver(configFor(fake.url)).redeploy(AbortSignal.timeout(10_000));
    expect(fake.deployments.map((d) => d.deployment_uuid)).toEqual([hung.deployment_uuid]);
    expect(outcome).toMatchObject({ ok: true, status: 'not queued', message: 'Deployment already queued for this commit.', evidence: { kind: 'none', checked: true } });
    expect(outcome.deploymentId).not.toBe(hung.deployment_uuid);
    const verdict = judgeRedeploy('coolify', outcome);
    expect(verdict).toEqual({
      status: 'failed',
      reason: 'instance_unchanged',
      message: `no new app instance: Coolify answered the deploy of application "${APP}" with deployment "${outcome.deploymentId}" ("Deployment already queued for this commit.") but has no such deployment (404): it queued nothing new`,
    });
  });

  it('driver errors are redeploy_failed (401, 403, 404) or timeout, never the generic assertion', async () => {
    const unauthorized = await failure(coolifyDriver(configFor(fake.url, {}, '99|unknown-token')).redeploy(AbortSignal.timeout(10_000)));
    expect(unauthorized.code).toBe('coolify_unauthorized');
    expect(judgeRedeployError(unauthorized)).toEqual({ reason: 'redeploy_failed', message: 'Coolify rejected the token (401): check SENTINEL_COOLIFY_TOKEN' });
    const forbidden = await failure(coolifyDriver(configFor(fake.url, {}, READ_ONLY)).redeploy(AbortSignal.timeout(10_000)));
    expect(judgeRedeployError(forbidden).reason).toBe('redeploy_failed');
    const missing = await failure(coolifyDriver(configFor(fake.url, { appUuid: 'wrong-uuid' })).redeploy(AbortSignal.timeout(10_000)));
    expect(judgeRedeployError(missing)).toEqual({ reason: 'redeploy_failed', message: missing.message });
    fake.nextDeploy = { finalStatus: 'finished', polls: 1_000_000 };
    const slow = await failure(coolifyDriver(configFor(fake.url, { deployTimeoutMs: 1_000 })).redeploy(AbortSignal.timeout(20_000)));
    expect(judgeRedeployError(slow)).toEqual({ reason: 'timeout', message: slow.message });
  });

  it('is the driver createRedeployDriver picks when Coolify is configured', async () => {
    const driver = await createRedeployDriver(configFor(fake.url));
    expect(driver.name).toBe('coolify');
    expect((await driver.redeploy(AbortSignal.timeout(10_000))).ok).toBe(true);
  });

  it('a failed deployment is a not-ok outcome with the coolify_deploy_failed message', async () => {
    fake.nextDeploy = { finalStatus: 'failed', polls: 1 };
    const outcome = await coolifyDriver(configFor(fake.url)).redeploy(AbortSignal.timeout(10_000));
    const id = fake.deployments[0]!.deployment_uuid;
    const expected = deploymentFailure(id, 'failed', APP);
    expect(expected.code).toBe('coolify_deploy_failed');
    expect(expected.message).toBe(`Coolify deployment "${id}" of application "${APP}" ended with status "failed": see its logs in Coolify`);
    expect(outcome).toMatchObject({ ok: false, deploymentId: id, status: 'failed', applicationStatus: 'running:healthy', message: expected.message, evidence: { kind: 'none' } });
    expect(judgeRedeploy('coolify', outcome)).toEqual({ status: 'failed', reason: 'redeploy_failed', message: `the coolify redeploy ended failed: ${expected.message}` });
  });

  it('a deployment cancelled in Coolify is not ok either', async () => {
    fake.nextDeploy = { finalStatus: 'cancelled-by-user', polls: 0 };
    const outcome = await coolifyDriver(configFor(fake.url)).redeploy(AbortSignal.timeout(10_000));
    expect(outcome.ok).toBe(false);
    expect(outcome.status).toBe('cancelled-by-user');
    expect(outcome.message).toBe(`Coolify deployment "${outcome.deploymentId}" of application "${APP}" was cancelled in Coolify (cancelled-by-user): see its logs in Coolify`);
  });

  it('retries transient poll errors and still finishes', async () => {
    fake.nextDeploy = { finalStatus: 'finished', polls: 1 };
    fake.failPolls = 2;
    const outcome = await coolifyDriver(configFor(fake.url)).redeploy(AbortSignal.timeout(10_000));
    expect(outcome.status).toBe('finished');
    expect(fake.requests.filter((r) => r.url === `/api/v1/deployments/${outcome.deploymentId}`).length).toBe(4);
    expect(outcome.evidence.kind).toBe('coolify-deployment');
  });

  it('never waits forever: a deployment that stays in progress ends with coolify_timeout at the deploy deadline', async () => {
    fake.nextDeploy = { finalStatus: 'finished', polls: 1_000_000 };
    const started = Date.now();
    const error = await failure(coolifyDriver(configFor(fake.url, { deployTimeoutMs: 1_500 })).redeploy(AbortSignal.timeout(20_000)));
    expect(Date.now() - started).toBeLessThan(6_000);
    const id = fake.deployments[0]!.deployment_uuid;
    expect(error.code).toBe('coolify_timeout');
    expect(error.message).toBe(`Coolify deployment "${id}" of application "${APP}" did not finish within 1500 ms (last status: in_progress)`);
  });

  it("the caller's own timeout signal also ends in coolify_timeout, naming the deployment", async () => {
    fake.nextDeploy = { finalStatus: 'finished', polls: 1_000_000 };
    const error = await failure(coolifyDriver(configFor(fake.url)).redeploy(AbortSignal.timeout(1_500)));
    const id = fake.deployments[0]!.deployment_uuid;
    expect(error.code).toBe('coolify_timeout');
    expect(error.message).toBe(`Coolify deployment "${id}" of application "${APP}" did not finish before the caller's deadline (last status: in_progress)`);
  });

  it('a status poll that hangs is cut by the deploy deadline too', async () => {
    fake.hangPaths = ['/api/v1/deployments/'];
    const error = await failure(coolifyDriver(configFor(fake.url, { deployTimeoutMs: 1_500 })).redeploy(AbortSignal.timeout(20_000)));
    expect(error.code).toBe('coolify_timeout');
    expect(error.message).toBe(`Coolify deployment "${fake.deployments[0]!.deployment_uuid}" of application "${APP}" did not finish within 1500 ms (last status: queued)`);
  });

  it('permission errors end the wait at once, with the token out of every printed form', async () => {
    const error = await failure(coolifyDriver(configFor(fake.url, {}, READ_ONLY)).redeploy(AbortSignal.timeout(10_000)));
    expect(error.code).toBe('coolify_forbidden');
    expect(fake.requests.length).toBe(1);
    const wrong = await failure(coolifyDriver(configFor(fake.url, { appUuid: 'wrong-uuid' })).redeploy(AbortSignal.timeout(10_000)));
    expect(wrong.code).toBe('coolify_not_found');
    expect(wrong.message).toContain('"wrong-uuid"');
  });

  it('the caller can stop the wait', async () => {
    fake.nextDeploy = { finalStatus: 'finished', polls: 1_000_000 };
    const controller = new AbortController();
    const pending = coolifyDriver(configFor(fake.url)).redeploy(controller.signal);
    await expect.poll(() => fake.requests.length, { timeout: 5_000 }).toBeGreaterThan(2);
    controller.abort(new Error('spec deadline'));
    await expect(pending).rejects.toThrow('spec deadline');
  });
});

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
