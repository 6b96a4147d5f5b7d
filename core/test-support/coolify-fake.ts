/**
 * A scripted Coolify API v4 double for unit tests (node:http on 127.0.0.1:0). It answers with the
 * shapes and messages of docs/target-contract.md §10.1–§10.4 (tokens and abilities, 401/403/404/405 bodies, the deployment
 * status enum, `{count, deployments}` newest first) so the client is tested against Coolify's
 * contract, not against itself. The stack's stand-in (fixtures/stack) is the integration double.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';

type Ability = 'read' | 'deploy' | 'root';

export interface FakeDeployment {
  deployment_uuid: string;
  application_id: number;
  application_name: string;
  status: string;
  commit: string;
  created_at: string;
  updated_at: string;
  /** polls of GET /deployments/{uuid} left before it reaches `finalStatus` */
  pollsLeft: number;
  finalStatus: string;
}

export interface RecordedRequest {
  method: string;
  url: string;
  authorization: string | undefined;
}

export interface FakeCoolifyOptions {
  tokens: Record<string, Ability[]>;
  appUuid: string;
  appStatus?: string;
}

/** A Docker Compose service as `GET /services/{uuid}` returns it (the parts' raw rows). */
export interface FakeService {
  name: string;
  status: string;
  applications: Array<{ name: string; status: string; exclude_from_status?: boolean }>;
  databases: Array<{ name: string; status: string; exclude_from_status?: boolean }>;
}

/** A standalone database and its scheduled backups, the raw JSON `GET /databases/{uuid}/backups` answers. */
export interface FakeDatabase {
  name: string;
  status: string;
  backups: Array<Record<string, unknown>>;
}

export interface FakeCoolify {
  url: string;
  requests: RecordedRequest[];
  deployments: FakeDeployment[];
  /** what the next POST /deploy creates: its end status and how many status polls it takes */
  nextDeploy: { finalStatus: string; polls: number };
  /** the whole API answers `403 API is disabled.` */
  apiDisabled: boolean;
  /** every reply is an HTML page with 200 (a reverse proxy's default page) */
  htmlInstead: boolean;
  /** POST /deploy answers 405 (a proxy or an API that changed the method) */
  deployMethodNotAllowed: boolean;
  /** list endpoint answers with a bare array (as the OpenAPI file documents) */
  bareArrayList: boolean;
  /** paths (prefix match, without query) that never answer */
  hangPaths: string[];
  /** answer 503 to this many next GET /deployments/{uuid} polls */
  failPolls: number;
  /** POST /deploy hands back this existing deployment instead of queueing one (a stale answer) */
  deployAnswersWith: string | undefined;
  /** what GET /version prints */
  version: string;
  /** false: the backup endpoints fall into the catch-all 404 (a Coolify before v4.0.0-beta.429) */
  backupApi: boolean;
  services: Record<string, FakeService>;
  databases: Record<string, FakeDatabase>;
  /** adds a deployment as if Coolify had started one (a webhook or someone else's deploy), `ageMs` before now */
  addDeployment(status: string, options?: { ageMs?: number }): FakeDeployment;
  setStatus(deploymentUuid: string, status: string): void;
  /** the application's `status` string from now on */
  setAppStatus(status: string): void;
  close(): Promise<void>;
}

export async function startFakeCoolify(options: FakeCoolifyOptions): Promise<FakeCoolify> {
  let appStatus = options.appStatus ?? 'running:healthy';
  const state: Omit<FakeCoolify, 'url' | 'close' | 'addDeployment' | 'setStatus' | 'setAppStatus'> = {
    requests: [],
    deployments: [],
    nextDeploy: { finalStatus: 'finished', polls: 2 },
    apiDisabled: false,
    htmlInstead: false,
    deployMethodNotAllowed: false,
    bareArrayList: false,
    hangPaths: [],
    failPolls: 0,
    deployAnswersWith: undefined,
    version: '4.2.0',
    backupApi: true,
    services: {},
    databases: {},
  };
  // Real time (the driver compares created_at with its own clock), strictly increasing so that
  // newest-first stays well defined. Laravel serialises timestamps as ISO 8601 with microseconds.
  let clock = 0;
  const laravel = (ms: number) => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
  const stamp = () => laravel((clock = Math.max(clock + 1, Date.now())));

  const addDeployment = (status: string, finalStatus = status, polls = 0, ageMs = 0): FakeDeployment => {
    const now = ageMs > 0 ? laravel(Date.now() - ageMs) : stamp();
    const deployment: FakeDeployment = {
      deployment_uuid: randomUUID().replace(/-/g, '').slice(0, 24),
      application_id: 1,
      application_name: 'gadgetbot',
      status,
      commit: 'HEAD',
      created_at: now,
      updated_at: now,
      pollsLeft: polls,
      finalStatus,
    };
    state.deployments.unshift(deployment);
    return deployment;
  };

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    state.requests.push({ method: req.method ?? '', url: url.pathname + url.search, authorization: req.headers.authorization });
    if (state.hangPaths.some((p) => url.pathname.startsWith(p))) return; // never answers
    if (state.htmlInstead) {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><title>Welcome to nginx!</title>');
      return;
    }
    if (url.pathname === '/api/v1/health') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('OK');
      return;
    }
    if (!isKnownRoute(url.pathname, state.backupApi)) return send(res, 404, CATCH_ALL);
    if (state.apiDisabled) return send(res, 403, { success: true, message: 'API is disabled.' });
    const token = req.headers.authorization?.replace(/^Bearer /, '');
    const abilities = token ? options.tokens[token] : undefined;
    if (!abilities) return send(res, 401, { message: 'Unauthenticated.' });
    const need = (ability: 'read' | 'deploy') => abilities.includes(ability) || abilities.includes('root');

    if (url.pathname === '/api/v1/deploy') {
      if (req.method !== 'POST' || state.deployMethodNotAllowed) return send(res, 405, { message: 'This endpoint has changed to a POST request.' }, { allow: 'POST' });
      if (!need('deploy')) return send(res, 403, { message: 'Missing required permissions: deploy' });
      const uuid = url.searchParams.get('uuid');
      if (!uuid) return send(res, 400, { message: 'You must provide uuid or tag.' });
      if (uuid !== options.appUuid) return send(res, 404, { message: 'No resources found.' });
      if (state.deployAnswersWith) {
        return send(res, 200, { deployments: [{ message: 'Application gadgetbot deployment queued.', resource_uuid: uuid, deployment_uuid: state.deployAnswersWith }] });
      }
      if (state.deployments.some((d) => d.status === 'queued' || d.status === 'in_progress')) {
        // Coolify deduplicates: with the same commit already queued or running nothing is queued, and
        // the answer still carries a fresh deployment uuid, one that is never stored.
        return send(res, 200, { deployments: [{ message: 'Deployment already queued for this commit.', resource_uuid: uuid, deployment_uuid: randomUUID().replace(/-/g, '').slice(0, 24) }] });
      }
      const deployment = addDeployment('queued', state.nextDeploy.finalStatus, state.nextDeploy.polls);
      return send(res, 200, { deployments: [{ message: 'Application gadgetbot deployment queued.', resource_uuid: uuid, deployment_uuid: deployment.deployment_uuid }] });
    }
    if (req.method !== 'GET') return send(res, 405, { message: 'Method not allowed.' });
    if (!need('read')) return send(res, 403, { message: 'Missing required permissions: read' });

    const list = url.pathname.match(/^\/api\/v1\/deployments\/applications\/([^/]+)$/);
    if (list) {
      if (list[1] !== options.appUuid) return send(res, 404, { message: 'Application not found.' });
      const skip = Number(url.searchParams.get('skip') ?? 0);
      const take = Number(url.searchParams.get('take') ?? 10);
      const page = state.deployments.slice(skip, skip + take).map(publicShape);
      return send(res, 200, state.bareArrayList ? page : { count: state.deployments.length, deployments: page });
    }
    const one = url.pathname.match(/^\/api\/v1\/deployments\/([^/]+)$/);
    if (one) {
      if (state.failPolls > 0) {
        state.failPolls -= 1;
        return send(res, 503, { message: 'Service Unavailable' });
      }
      const deployment = state.deployments.find((d) => d.deployment_uuid === one[1]);
      if (!deployment) return send(res, 404, { message: 'Deployment not found.' });
      advance(deployment);
      return send(res, 200, publicShape(deployment));
    }
    const app = url.pathname.match(/^\/api\/v1\/applications\/([^/]+)$/);
    if (app) {
      if (app[1] !== options.appUuid) return send(res, 404, { message: 'Application not found.' });
      return send(res, 200, { uuid: options.appUuid, name: 'gadgetbot', status: appStatus, fqdn: 'https://gadgetbot.example.com' });
    }
    if (url.pathname === '/api/v1/version') {
      res.writeHead(200, { 'content-type': 'text/html; charset=UTF-8' });
      res.end(state.version);
      return;
    }
    const service = url.pathname.match(/^\/api\/v1\/services\/([^/]+)$/);
    if (service) {
      const found = state.services[service[1]!];
      if (!found) return send(res, 404, { message: 'Service not found.' });
      return send(res, 200, { uuid: service[1], ...found, applications: found.applications.map((a, id) => ({ id, exclude_from_status: false, ...a })), databases: found.databases.map((d, id) => ({ id, exclude_from_status: false, ...d })) });
    }
    const database = url.pathname.match(/^\/api\/v1\/databases\/([^/]+)(\/backups)?$/);
    if (database) {
      const found = state.databases[database[1]!];
      if (!found) return send(res, 404, { message: 'Database not found.' });
      if (database[2]) return send(res, 200, found.backups);
      return send(res, 200, { uuid: database[1], name: found.name, database_type: 'standalone-postgresql', status: found.status });
    }
    return send(res, 404, CATCH_ALL);
  };

  const advance = (deployment: FakeDeployment) => {
    if (deployment.status === deployment.finalStatus) return;
    if (deployment.pollsLeft > 0) {
      deployment.pollsLeft -= 1;
      deployment.status = 'in_progress';
    } else {
      deployment.status = deployment.finalStatus;
      if (deployment.finalStatus === 'finished') appStatus = 'running:healthy';
    }
    deployment.updated_at = stamp();
  };

  const server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}`,
    addDeployment: (status: string, extra: { ageMs?: number } = {}) => addDeployment(status, status, 0, extra.ageMs ?? 0),
    setAppStatus(status: string) {
      appStatus = status;
    },
    setStatus(deploymentUuid: string, status: string) {
      const deployment = state.deployments.find((d) => d.deployment_uuid === deploymentUuid);
      if (!deployment) throw new Error(`no deployment ${deploymentUuid}`);
      deployment.status = status;
      deployment.finalStatus = status;
      deployment.updated_at = stamp();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

function publicShape(deployment: FakeDeployment) {
  const { pollsLeft: _p, finalStatus: _f, ...rest } = deployment;
  return { ...rest, logs: undefined, pull_request_id: 0, force_rebuild: false, is_webhook: false, restart_only: false };
}

/** Coolify's answer to an `/api/*` path it has no route for. */
const CATCH_ALL = { message: 'Not found.', docs: 'https://coolify.io/docs' };

function isKnownRoute(path: string, backupApi: boolean): boolean {
  if (!path.startsWith('/api/')) return false;
  const routes = [
    /^\/api\/v1\/(health|version|deploy|deployments)$/,
    /^\/api\/v1\/deployments\/(applications\/)?[^/]+$/,
    /^\/api\/v1\/(applications|services|databases)\/[^/]+$/,
    ...(backupApi ? [/^\/api\/v1\/databases\/[^/]+\/backups$/] : []),
  ];
  return routes.some((route) => route.test(path));
}

const laravelAt = (ms: number) => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

/** One backup execution row as Coolify serializes it (v4.2: integer size, raw `finished_at`). */
export function backupExecution(overrides: { finishedAtMs?: number } & Record<string, unknown> = {}): Record<string, unknown> {
  const finishedMs = overrides.finishedAtMs ?? Date.now() - 3_600_000;
  const { finishedAtMs: _f, ...rest } = overrides;
  return {
    id: Math.floor(Math.random() * 1e6),
    uuid: randomUUID().replace(/-/g, '').slice(0, 24),
    scheduled_database_backup_id: 1,
    status: 'success',
    message: '',
    size: 51234,
    filename: '/data/coolify/backups/databases/root-0/gadgetbot/pg-dump-gadgetbot-1.dmp',
    database_name: 'gadgetbot',
    s3_uploaded: null,
    local_storage_deleted: false,
    s3_storage_deleted: false,
    finished_at: new Date(finishedMs).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, ''),
    created_at: laravelAt(finishedMs - 4_000),
    updated_at: laravelAt(finishedMs),
    ...rest,
  };
}

/** A scheduled backup row with its executions (newest first): daily at 2 AM, kept 7 days locally, unless overridden. */
export function backupSchedule(overrides: Record<string, unknown> = {}, executions: Array<Record<string, unknown>> = [backupExecution()]): Record<string, unknown> {
  return {
    id: 1,
    uuid: randomUUID().replace(/-/g, '').slice(0, 24),
    description: null,
    enabled: true,
    save_s3: false,
    disable_local_backup: false,
    frequency: '0 2 * * *',
    database_backup_retention_amount_locally: 0,
    database_backup_retention_days_locally: 7,
    database_backup_retention_max_storage_locally: 0,
    database_backup_retention_amount_s3: 0,
    database_backup_retention_days_s3: 0,
    database_backup_retention_max_storage_s3: 0,
    timeout: 3600,
    databases_to_backup: 'gadgetbot',
    dump_all: false,
    database_type: 'App\\Models\\StandalonePostgresql',
    database_id: 1,
    s3_storage_id: null,
    team_id: 0,
    created_at: laravelAt(Date.now() - 30 * 86_400_000),
    updated_at: laravelAt(Date.now() - 30 * 86_400_000),
    executions,
    ...overrides,
  };
}
