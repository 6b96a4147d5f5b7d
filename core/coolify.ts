/**
 * A small typed client for Coolify's API v4 (`/api/v1`, docs/target-contract.md §10); the `coolify` redeploy driver built
 * on it is core/coolify-redeploy.ts.
 * Every call carries a deadline (its own timeout combined with the caller's signal); every failure
 * becomes a CoolifyError with a closed code and one line that says what to fix. The token is only
 * ever written into the Authorization header: messages, causes and logs never see it.
 */
import { readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Config } from './config.ts';
import { SentinelError, type SentinelErrorCode } from './errors.ts';
import { createRedactor, safeTarget, type Redactor } from './redact.ts';
import { trustContext } from './trust-context.ts';

/** `ApplicationDeploymentStatus` (docs/target-contract.md §10.4). Unknown future values are passed through as strings. */
export const DEPLOYMENT_STATUSES = ['queued', 'in_progress', 'finished', 'failed', 'cancelled-by-user'] as const;
export const TERMINAL_DEPLOYMENT_STATUSES = ['finished', 'failed', 'cancelled-by-user'] as const;
export type DeploymentStatus = (typeof DEPLOYMENT_STATUSES)[number];

export function isTerminalDeploymentStatus(status: string): boolean {
  return (TERMINAL_DEPLOYMENT_STATUSES as readonly string[]).includes(status);
}

/** The fields of Coolify's deployment object (`ApplicationDeploymentQueue`) the suite reads. */
export interface CoolifyDeployment {
  deployment_uuid: string;
  status: DeploymentStatus | (string & {});
  application_name?: string;
  commit?: string | null;
  created_at?: string;
  updated_at?: string;
  /** newer Coolify builds only; `updated_at` is the fallback for when a deployment ended */
  finished_at?: string | null;
}

export interface CoolifyDeploymentList {
  count: number;
  /** newest first, as Coolify returns them */
  deployments: CoolifyDeployment[];
}

export interface CoolifyApplication {
  uuid: string;
  name?: string;
  /** `<state>:<health>` (`running:healthy`, `running:unknown`, `exited:unhealthy`, …): an application always has both parts (docs/target-contract.md §10.5) */
  status: string;
}

/** A stack's container group as `GET /services/{uuid}` nests it (`applications[]`, `databases[]`). */
export interface CoolifyServicePart {
  name: string;
  kind: 'application' | 'database';
  /** stored per part; bare `exited`, or `running (healthy)` on builds before v4.0.0-beta.445 */
  status: string;
  /** a one-shot or `exclude_from_hc` container Coolify leaves out of the stack's status */
  excludedFromStatus: boolean;
}

/** `GET /services/{uuid}`: a Docker Compose stack; its `status` is computed from the parts on every read. */
export interface CoolifyService {
  uuid: string;
  name?: string;
  status: string;
  parts: CoolifyServicePart[];
}

/** `GET /databases/{uuid}`: a standalone database (service databases are not served here). */
export interface CoolifyDatabase {
  uuid: string;
  name?: string;
  status: string;
  /** `standalone-postgresql`, … */
  databaseType?: string;
}

/** One run of a scheduled backup, newest first in its schedule's `executions`. */
export interface CoolifyBackupExecution {
  uuid?: string;
  /** `running` | `success` | `failed` */
  status: string;
  /** dump output or the error text; shown to a `read` token as is, so it is redacted before use */
  message?: string;
  /** bytes; a numeric string before v4.1.2 */
  size?: number;
  /** `finished_at`: ISO since v4.3.1, the raw `YYYY-MM-DD HH:MM:SS` (UTC) before; read it with parseCoolifyTime */
  finishedAt?: string;
  createdAt?: string;
  /** null when the schedule does not upload to S3 */
  s3Uploaded?: boolean | null;
}

/** Where and how long backups are kept; 0 means no limit for each of the three. */
export interface CoolifyBackupRetention {
  /** newest N successful backups */
  amount: number;
  /** backups younger than N days (counted from the newest successful one) */
  days: number;
  /** gigabytes */
  maxStorageGb: number;
}

/** `ScheduledDatabaseBackup` with its executions, as `GET /databases/{uuid}/backups` returns them. */
export interface CoolifyScheduledBackup {
  uuid: string;
  enabled: boolean;
  /** cron expression or alias (`daily`, `@daily`, …), stored verbatim */
  frequency: string;
  saveS3: boolean;
  disableLocalBackup: boolean;
  local: CoolifyBackupRetention;
  s3: CoolifyBackupRetention;
  createdAt?: string;
  /** newest first */
  executions: CoolifyBackupExecution[];
}

export interface QueuedDeployment {
  deployment_uuid: string;
  resource_uuid?: string;
  message?: string;
}

/** The part of a fetch response the client reads (a fetch Response fits too: tests pass their own). */
export interface CoolifyResponse {
  status: number;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
}
export interface CoolifyRequestInit {
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  signal: AbortSignal;
  /** the most characters of the body the client reads */
  bodyLimit: number;
}
export type CoolifyFetch = (url: string, init: CoolifyRequestInit) => Promise<CoolifyResponse>;

export interface CoolifyClientOptions {
  /** Coolify's base URL (`https://coolify.example.com`; a trailing `/api/v1` is tolerated) */
  url: string;
  token: string;
  /** deadline of each single call */
  requestTimeoutMs: number;
  /** PEM of extra trusted CAs (config.tls.caCertPath) */
  caCertPath?: string;
  /** replaces the client's HTTP (tests); the CA is then the caller's business */
  fetchImpl?: CoolifyFetch;
}

export interface CoolifyClient {
  /** `POST /api/v1/deploy?uuid=<appUuid>` (never with `force`: ≤ v4.1 reads `force=false` as true) */
  deploy(appUuid: string, signal?: AbortSignal): Promise<QueuedDeployment>;
  getDeployment(deploymentUuid: string, signal?: AbortSignal): Promise<CoolifyDeployment>;
  listAppDeployments(appUuid: string, page?: { skip?: number; take?: number }, signal?: AbortSignal): Promise<CoolifyDeploymentList>;
  getApplication(appUuid: string, signal?: AbortSignal): Promise<CoolifyApplication>;
  getService(serviceUuid: string, signal?: AbortSignal): Promise<CoolifyService>;
  getDatabase(databaseUuid: string, signal?: AbortSignal): Promise<CoolifyDatabase>;
  /** `GET /databases/{uuid}/backups` (since v4.0.0-beta.429; older builds answer coolify_endpoint_missing) */
  listDatabaseBackups(databaseUuid: string, signal?: AbortSignal): Promise<CoolifyScheduledBackup[]>;
  /** `GET /version`: plain text such as `4.0.0-beta.420` or `4.2.0` */
  getVersion(signal?: AbortSignal): Promise<string>;
  /** Releases the CA agent's sockets. */
  close(): Promise<void>;
}

/** A Coolify failure. `transient` ones (unreachable, per-call timeout, 429, 5xx) may be retried by a poll loop. */
export class CoolifyError extends SentinelError {
  readonly httpStatus: number | undefined;
  readonly transient: boolean;
  constructor(code: SentinelErrorCode, message: string, options: { httpStatus?: number; transient?: boolean; causeCode?: string; causeMessage?: string } = {}) {
    // The cause is rebuilt from a code and an already-redacted message: the original error object
    // (which holds the request) never travels on.
    const causeCode = options.causeCode ?? code;
    super(code, message, { cause: Object.assign(new Error(options.causeMessage ?? causeCode), { code: causeCode }) });
    this.name = 'CoolifyError';
    this.httpStatus = options.httpStatus;
    this.transient = options.transient ?? false;
  }
}

type Subject = { kind: 'application' | 'deployment' | 'service' | 'database' | 'version'; uuid: string; ability: 'read' | 'deploy' };

const API_PREFIX = '/api/v1';
const BODY_LIMIT = 1024 * 1024;
/** A backup list carries every execution of every schedule (Coolify does not page it). */
const BACKUPS_BODY_LIMIT = 32 * 1024 * 1024;

export function createCoolifyClient(options: CoolifyClientOptions): CoolifyClient {
  const base = options.url.replace(/\/+$/, '').replace(/\/api\/v1$/, '');
  const where = safeTarget(base);
  const redact = createRedactor([options.token]);
  const secureContext = options.caCertPath ? trustContext(readFileSync(options.caCertPath, 'utf8')) : undefined;
  const agent = options.fetchImpl ? undefined : new HttpsAgent({ keepAlive: true, ...(secureContext ? { secureContext } : {}) });
  const doFetch: CoolifyFetch = options.fetchImpl ?? ((url, init) => nodeFetch(url, init, agent!));

  async function request(method: 'GET' | 'POST', path: string, subject: Subject, signal?: AbortSignal, read: { text?: boolean; bodyLimit?: number } = {}): Promise<unknown> {
    const call = `${method} ${API_PREFIX}${path}`;
    const timeout = AbortSignal.timeout(options.requestTimeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let response: CoolifyResponse;
    let body: string;
    try {
      response = await doFetch(`${base}${API_PREFIX}${path}`, {
        method,
        headers: { authorization: `Bearer ${options.token}`, accept: 'application/json' },
        signal: combined,
        bodyLimit: read.bodyLimit ?? BODY_LIMIT,
      });
      body = (await response.text()).slice(0, read.bodyLimit ?? BODY_LIMIT);
    } catch (error) {
      // The caller's own abort is not a Coolify problem: hand back its reason untouched.
      if (signal?.aborted) throw signal.reason;
      if (timeout.aborted) {
        throw new CoolifyError('coolify_timeout', `Coolify did not answer ${call} within ${options.requestTimeoutMs} ms (${where})`, { transient: true, causeCode: 'TimeoutError' });
      }
      throw networkError(error, where, redact);
    }
    const status = response.status;
    if (status >= 200 && status < 300) {
      if (read.text) return body;
      try {
        return JSON.parse(body) as unknown;
      } catch {
        const type = (response.headers.get('content-type') ?? 'no content type').split(';')[0];
        throw new CoolifyError('coolify_bad_response', `Coolify answered ${call} with a body that is not JSON (${status}, ${type}): is SENTINEL_COOLIFY_URL Coolify's base URL?`, { httpStatus: status });
      }
    }
    throw statusError(status, call, subject, coolifyMessage(body, redact), response, redact, isCatchAllNotFound(body));
  }

  return {
    async deploy(appUuid, signal) {
      const json = await request('POST', `/deploy?uuid=${encodeURIComponent(appUuid)}`, { kind: 'application', uuid: appUuid, ability: 'deploy' }, signal);
      const deployments = isRecord(json) && Array.isArray(json.deployments) ? json.deployments.filter(isRecord) : [];
      const mine = deployments.find((d) => d.resource_uuid === appUuid) ?? deployments[0];
      if (!mine || typeof mine.deployment_uuid !== 'string' || !mine.deployment_uuid) {
        const said = isRecord(json) && typeof json.message === 'string' ? ` ("${oneLine(redact(json.message))}")` : '';
        throw new CoolifyError('coolify_bad_response', `Coolify accepted POST ${API_PREFIX}/deploy for application "${appUuid}" but returned no deployment_uuid${said}`);
      }
      return {
        deployment_uuid: mine.deployment_uuid,
        ...(typeof mine.resource_uuid === 'string' ? { resource_uuid: mine.resource_uuid } : {}),
        ...(typeof mine.message === 'string' ? { message: oneLine(redact(mine.message)) } : {}),
      };
    },
    async getDeployment(deploymentUuid, signal) {
      const path = `/deployments/${encodeURIComponent(deploymentUuid)}`;
      const json = await request('GET', path, { kind: 'deployment', uuid: deploymentUuid, ability: 'read' }, signal);
      return asDeployment(json, `GET ${API_PREFIX}${path}`);
    },
    async listAppDeployments(appUuid, page = {}, signal) {
      const query = `skip=${page.skip ?? 0}&take=${page.take ?? 10}`;
      const path = `/deployments/applications/${encodeURIComponent(appUuid)}?${query}`;
      const json = await request('GET', path, { kind: 'application', uuid: appUuid, ability: 'read' }, signal);
      // Coolify returns {count, deployments}; the OpenAPI file documents an array, so take both.
      const rows = Array.isArray(json) ? json : isRecord(json) && Array.isArray(json.deployments) ? json.deployments : undefined;
      if (!rows) throw shapeError(`GET ${API_PREFIX}${path}`, 'expected {count, deployments}');
      const deployments = rows.map((row) => asDeployment(row, `GET ${API_PREFIX}${path}`));
      const count = isRecord(json) && typeof json.count === 'number' ? json.count : deployments.length;
      return { count, deployments };
    },
    async getApplication(appUuid, signal) {
      const path = `/applications/${encodeURIComponent(appUuid)}`;
      const json = await request('GET', path, { kind: 'application', uuid: appUuid, ability: 'read' }, signal);
      if (!isRecord(json) || typeof json.status !== 'string') throw shapeError(`GET ${API_PREFIX}${path}`, 'missing status');
      return { uuid: typeof json.uuid === 'string' ? json.uuid : appUuid, status: json.status, ...(typeof json.name === 'string' ? { name: json.name } : {}) };
    },
    async getService(serviceUuid, signal) {
      const path = `/services/${encodeURIComponent(serviceUuid)}`;
      const json = await request('GET', path, { kind: 'service', uuid: serviceUuid, ability: 'read' }, signal);
      if (!isRecord(json) || typeof json.status !== 'string') throw shapeError(`GET ${API_PREFIX}${path}`, 'missing status');
      const parts = (kind: CoolifyServicePart['kind'], rows: unknown): CoolifyServicePart[] =>
        (Array.isArray(rows) ? rows.filter(isRecord) : [])
          .filter((row) => typeof row.status === 'string')
          .map((row) => ({
            name: typeof row.name === 'string' ? row.name : '(unnamed)',
            kind,
            status: row.status as string,
            excludedFromStatus: row.exclude_from_status === true,
          }));
      return {
        uuid: typeof json.uuid === 'string' ? json.uuid : serviceUuid,
        status: json.status,
        ...(typeof json.name === 'string' ? { name: json.name } : {}),
        parts: [...parts('application', json.applications), ...parts('database', json.databases)],
      };
    },
    async getDatabase(databaseUuid, signal) {
      const path = `/databases/${encodeURIComponent(databaseUuid)}`;
      const json = await request('GET', path, { kind: 'database', uuid: databaseUuid, ability: 'read' }, signal);
      if (!isRecord(json) || typeof json.status !== 'string') throw shapeError(`GET ${API_PREFIX}${path}`, 'missing status');
      return {
        uuid: typeof json.uuid === 'string' ? json.uuid : databaseUuid,
        status: json.status,
        ...(typeof json.name === 'string' ? { name: json.name } : {}),
        ...(typeof json.database_type === 'string' ? { databaseType: json.database_type } : {}),
      };
    },
    async listDatabaseBackups(databaseUuid, signal) {
      const path = `/databases/${encodeURIComponent(databaseUuid)}/backups`;
      const call = `GET ${API_PREFIX}${path}`;
      const json = await request('GET', path, { kind: 'database', uuid: databaseUuid, ability: 'read' }, signal, { bodyLimit: BACKUPS_BODY_LIMIT });
      if (!Array.isArray(json)) throw shapeError(call, 'expected an array of scheduled backups');
      return json.map((row) => asScheduledBackup(row, call));
    },
    async getVersion(signal) {
      const text = await request('GET', '/version', { kind: 'version', uuid: '', ability: 'read' }, signal, { text: true });
      const version = oneLine(redact(String(text))).replace(/^"|"$/g, '').slice(0, 60);
      if (!version) throw shapeError(`GET ${API_PREFIX}/version`, 'empty version');
      return version;
    },
    async close() {
      agent?.destroy();
    },
  };
}

/**
 * One request on Node's own https client (http for a plain-HTTP Coolify), redirects returned, not followed;
 * the body read up to the limit. Node's client rather than fetch (undici): the coolify-resources and backups
 * probes run in the long-lived monitor, and undici's WebAssembly parser costs that process ~25 MB.
 */
function nodeFetch(url: string, init: CoolifyRequestInit, agent: HttpsAgent): Promise<CoolifyResponse> {
  const target = new URL(url);
  const secure = target.protocol === 'https:';
  return new Promise((resolve, reject) => {
    const { signal } = init;
    if (signal.aborted) return reject(signal.reason);
    const onResponse = (response: IncomingMessage) => {
      const text = (async () => {
        const decoder = new TextDecoder();
        let body = '';
        for await (const chunk of response) {
          body += decoder.decode(chunk as Buffer, { stream: true });
          if (body.length >= init.bodyLimit) break; // leaving the loop destroys the stream
        }
        return body + decoder.decode();
      })();
      text.catch(() => undefined); // read by the caller; an abort meanwhile surfaces there
      resolve({
        status: response.statusCode ?? 0,
        headers: { get: (name) => [response.headers[name.toLowerCase()]].flat().filter((v) => v !== undefined).join(', ') || null },
        text: () => text,
      });
    };
    const request = secure ? httpsRequest(target, { method: init.method, headers: init.headers, agent, signal }, onResponse) : httpRequest(target, { method: init.method, headers: init.headers, signal }, onResponse);
    request.once('error', (error) => reject(signal.aborted ? signal.reason : error));
    request.end();
  });
}

/** A Coolify version as `GET /version` prints it: `4.0.0-beta.420`, `4.0.0-beta.420.7`, `4.2.0` (a leading `v` tolerated). */
export interface CoolifyVersion {
  major: number;
  minor: number;
  patch: number;
  /** the beta number; undefined for a release, which sorts after every beta of the same x.y.z */
  beta?: number;
  betaPatch?: number;
}

export function parseCoolifyVersion(text: string): CoolifyVersion | undefined {
  const match = /^v?(\d+)\.(\d+)\.(\d+)(?:-beta\.(\d+)(?:\.(\d+))?)?/.exec(text.trim());
  if (!match) return undefined;
  const [, major, minor, patch, beta, betaPatch] = match;
  return { major: Number(major), minor: Number(minor), patch: Number(patch), ...(beta ? { beta: Number(beta) } : {}), ...(betaPatch ? { betaPatch: Number(betaPatch) } : {}) };
}

/** Negative when a is older than b, 0 when equal, positive when newer. */
export function compareCoolifyVersions(a: CoolifyVersion, b: CoolifyVersion): number {
  const release = Number.MAX_SAFE_INTEGER;
  const key = (v: CoolifyVersion) => [v.major, v.minor, v.patch, v.beta ?? release, v.betaPatch ?? 0];
  const ka = key(a);
  const kb = key(b);
  for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return ka[i]! - kb[i]!;
  return 0;
}

/** The first Coolify with `GET /databases/{uuid}/backups` (v4.0.0-beta.428 has no such route). */
export const BACKUP_API_SINCE = '4.0.0-beta.429';

/**
 * A Coolify timestamp in milliseconds: ISO 8601 (`…T…Z`, `…+00:00`), or the raw database form
 * `YYYY-MM-DD HH:MM:SS` that columns without a datetime cast come out as (stored in UTC).
 */
export function parseCoolifyTime(text: string | undefined | null): number | undefined {
  if (!text) return undefined;
  const raw = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d+)?)$/.exec(text.trim());
  const ms = Date.parse(raw ? `${raw[1]}T${raw[2]}Z` : text);
  return Number.isFinite(ms) ? ms : undefined;
}

/** The client the configuration describes; per-call deadline = the probe deadline. */
export function coolifyClientFromConfig(config: Config, fetchImpl?: CoolifyFetch): CoolifyClient {
  const { url, token } = config.coolify;
  if (!url || !token) throw new SentinelError('config_invalid', 'Coolify is not configured: set SENTINEL_COOLIFY_URL, SENTINEL_COOLIFY_TOKEN and SENTINEL_COOLIFY_APP_UUID');
  return createCoolifyClient({
    url,
    token,
    requestTimeoutMs: config.timeouts.probeMs,
    ...(config.tls.caCertPath ? { caCertPath: config.tls.caCertPath } : {}),
    ...(fetchImpl ? { fetchImpl } : {}),
  });
}

/** The error a deployment that ended in anything but `finished` stands for. */
export function deploymentFailure(deploymentUuid: string, status: string, appUuid?: string): SentinelError {
  const of = appUuid ? ` of application "${appUuid}"` : '';
  const how = status === 'cancelled-by-user' ? 'was cancelled in Coolify (cancelled-by-user)' : `ended with status "${status}"`;
  return new SentinelError('coolify_deploy_failed', `Coolify deployment "${deploymentUuid}"${of} ${how}: see its logs in Coolify`);
}

function statusError(status: number, call: string, subject: Subject, said: string | undefined, response: CoolifyResponse, redact: Redactor, catchAll: boolean): CoolifyError {
  const quoted = said ? ` "${said}"` : '';
  const opts = { httpStatus: status };
  switch (status) {
    case 401:
      return new CoolifyError('coolify_unauthorized', 'Coolify rejected the token (401): check SENTINEL_COOLIFY_TOKEN', opts);
    case 403: {
      if (said && /API is disabled/i.test(said)) {
        return new CoolifyError('coolify_forbidden', 'Coolify API is disabled (403 "API is disabled."): enable it in Coolify under Settings → Advanced → API Access', opts);
      }
      if (said && /not allowed to access the API/i.test(said)) {
        return new CoolifyError('coolify_forbidden', `Coolify refused this client's address (403${quoted}): add it to the API allowlist in Coolify under Settings → Advanced`, opts);
      }
      const ability = said?.match(/Missing required permissions?:\s*([\w:,\s-]+)/i)?.[1]?.trim() ?? subject.ability;
      const needs = subject.ability === 'read' ? 'the read permission (read + deploy for the redeploy check), or root' : 'read + deploy (or root)';
      return new CoolifyError('coolify_forbidden', `Coolify token lacks the "${ability}" ability (403${quoted}) for ${call}: SENTINEL_COOLIFY_TOKEN needs ${needs}`, opts);
    }
    case 404:
      // Coolify's catch-all route (`{"message":"Not found.","docs":…}`) answers a path it does not know:
      // the endpoint is missing (an older Coolify), not the resource.
      if (catchAll) return new CoolifyError('coolify_endpoint_missing', `Coolify does not know ${call} (404${quoted}): it is older than this API`, opts);
      if (subject.kind === 'application') {
        return new CoolifyError('coolify_not_found', `Coolify has no application with uuid "${subject.uuid}" (404${quoted}): check SENTINEL_COOLIFY_APP_UUID`, opts);
      }
      return new CoolifyError('coolify_not_found', `Coolify has no ${subject.kind} with uuid "${subject.uuid}" (404${quoted})`, opts);
    case 405:
      return new CoolifyError('coolify_method', `Coolify does not accept ${call} (405${quoted}): check that SENTINEL_COOLIFY_URL is Coolify's own base URL`, opts);
    case 429: {
      const retry = response.headers.get('retry-after');
      return new CoolifyError('coolify_bad_response', `Coolify throttled ${call} (429${retry ? `, retry after ${retry} s` : ''})`, { ...opts, transient: true });
    }
    default: {
      if (status >= 300 && status < 400) {
        const location = response.headers.get('location');
        const to = location ? ` to ${safeTarget(redact(location))}` : '';
        return new CoolifyError('coolify_bad_response', `Coolify redirected ${call} (${status}${to}): SENTINEL_COOLIFY_URL must be Coolify's base URL, including https://`, opts);
      }
      return new CoolifyError('coolify_bad_response', `Coolify answered ${call} with ${status}${quoted}`, { ...opts, transient: status >= 500 });
    }
  }
}

const UNREACHABLE_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'DNS name not found',
  EAI_AGAIN: 'DNS lookup failed',
  UND_ERR_SOCKET: 'connection closed',
  UND_ERR_CONNECT_TIMEOUT: 'connect timeout',
};

function networkError(error: unknown, where: string, redact: Redactor): CoolifyError {
  const code = codeInChain(error);
  const causeMessage = oneLine(redact(innermostMessage(error))).slice(0, 300);
  if (code && /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO/.test(code)) {
    return new CoolifyError('coolify_unreachable', `Coolify at ${where} failed the TLS check (${code}): set SENTINEL_CA_CERT if it uses a private CA`, { transient: true, causeCode: code, causeMessage });
  }
  const what = code ? (UNREACHABLE_CODES[code] ?? code) : causeMessage;
  return new CoolifyError('coolify_unreachable', `Coolify at ${where} is unreachable (${what}${code && UNREACHABLE_CODES[code] ? `, ${code}` : ''}): check SENTINEL_COOLIFY_URL`, {
    transient: true,
    causeMessage,
    ...(code ? { causeCode: code } : {}),
  });
}

function codeInChain(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 6 && current && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && code) return code;
    const errors = (current as { errors?: unknown }).errors;
    if (Array.isArray(errors) && errors.length > 0) current = errors[0];
    else current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function innermostMessage(error: unknown): string {
  let message = error instanceof Error ? error.message : String(error);
  let current: unknown = error;
  for (let depth = 0; depth < 6 && current instanceof Error && current.cause; depth++) {
    current = current.cause;
    if (current instanceof Error && current.message) message = current.message;
  }
  return message;
}

/** Coolify's own `{"message": …}` (or the start of a non-JSON body), one line, redacted. */
function coolifyMessage(body: string, redact: Redactor): string | undefined {
  let text: string | undefined;
  try {
    const json: unknown = JSON.parse(body);
    if (isRecord(json) && typeof json.message === 'string') text = json.message;
  } catch {
    text = body.trim().startsWith('<') ? undefined : body;
  }
  return text ? oneLine(redact(text)).slice(0, 200) || undefined : undefined;
}

/** The catch-all answer of an unknown `/api/*` path (it carries a `docs` link; a missing resource does not). */
function isCatchAllNotFound(body: string): boolean {
  try {
    const json: unknown = JSON.parse(body);
    return isRecord(json) && typeof json.docs === 'string';
  } catch {
    return false;
  }
}

function numberOf(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(value)) return Number(value);
  return undefined;
}

function asExecution(value: unknown): CoolifyBackupExecution | undefined {
  if (!isRecord(value) || typeof value.status !== 'string') return undefined;
  const text = (key: string) => (typeof value[key] === 'string' ? (value[key] as string) : undefined);
  const size = numberOf(value.size);
  const out: CoolifyBackupExecution = { status: value.status };
  if (text('uuid')) out.uuid = text('uuid')!;
  if (text('message') !== undefined) out.message = text('message')!;
  if (size !== undefined) out.size = size;
  if (text('finished_at')) out.finishedAt = text('finished_at')!;
  if (text('created_at')) out.createdAt = text('created_at')!;
  if (typeof value.s3_uploaded === 'boolean' || value.s3_uploaded === null) out.s3Uploaded = value.s3_uploaded;
  return out;
}

function asScheduledBackup(value: unknown, call: string): CoolifyScheduledBackup {
  if (!isRecord(value) || typeof value.uuid !== 'string' || typeof value.frequency !== 'string') {
    throw shapeError(call, 'a scheduled backup needs uuid and frequency');
  }
  // Booleans arrive as true/false, or 1/0 from older builds' raw columns.
  const bool = (key: string) => value[key] === true || value[key] === 1;
  const retention = (where: 'locally' | 's3'): CoolifyBackupRetention => ({
    amount: numberOf(value[`database_backup_retention_amount_${where}`]) ?? 0,
    days: numberOf(value[`database_backup_retention_days_${where}`]) ?? 0,
    maxStorageGb: numberOf(value[`database_backup_retention_max_storage_${where}`]) ?? 0,
  });
  const executions = (Array.isArray(value.executions) ? value.executions : []).map(asExecution).filter((e): e is CoolifyBackupExecution => e !== undefined);
  return {
    uuid: value.uuid,
    enabled: bool('enabled'),
    frequency: value.frequency,
    saveS3: bool('save_s3'),
    disableLocalBackup: bool('disable_local_backup'),
    local: retention('locally'),
    s3: retention('s3'),
    ...(typeof value.created_at === 'string' ? { createdAt: value.created_at } : {}),
    executions,
  };
}

function asDeployment(value: unknown, call: string): CoolifyDeployment {
  if (!isRecord(value) || typeof value.deployment_uuid !== 'string' || typeof value.status !== 'string') {
    throw shapeError(call, 'a deployment needs deployment_uuid and status');
  }
  const text = (key: string) => (typeof value[key] === 'string' ? (value[key] as string) : undefined);
  const out: CoolifyDeployment = { deployment_uuid: value.deployment_uuid, status: value.status };
  for (const key of ['application_name', 'commit', 'created_at', 'updated_at', 'finished_at'] as const) {
    const v = text(key);
    if (v !== undefined) out[key] = v;
  }
  return out;
}

function shapeError(call: string, what: string): CoolifyError {
  return new CoolifyError('coolify_bad_response', `Coolify answered ${call} with JSON of an unexpected shape (${what})`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
