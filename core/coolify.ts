/**
 * A small typed client for Coolify's API v4 (`/api/v1`, facts §B) and the `coolify` redeploy driver.
 * Every call carries a deadline (its own timeout combined with the caller's signal); every failure
 * becomes a CoolifyError with a closed code and one line that says what to fix. The token is only
 * ever written into the Authorization header: messages, causes and logs never see it.
 */
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, fetch as undiciFetch, type Dispatcher } from 'undici';
import type { Config } from './config.ts';
import { SentinelError, type SentinelErrorCode } from './errors.ts';
import { createRedactor, safeTarget, type Redactor } from './redact.ts';
import type { RedeployDriver, RedeployOutcome } from './redeploy.ts';

/** `ApplicationDeploymentStatus` (facts §B3). Unknown future values are passed through as strings. */
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
  /** `<state>:<health>` (`running:healthy`, `running:unknown`, …) or a bare `exited` (facts §B3) */
  status: string;
}

export interface QueuedDeployment {
  deployment_uuid: string;
  resource_uuid?: string;
  message?: string;
}

/** The part of a fetch response the client reads; undici's and Node's Response both fit. */
export interface CoolifyResponse {
  status: number;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
}
export interface CoolifyRequestInit {
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  signal: AbortSignal;
  redirect: 'manual';
  dispatcher?: Dispatcher;
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
  /** replaces undici's fetch (tests); the CA agent is then the caller's business */
  fetchImpl?: CoolifyFetch;
}

export interface CoolifyClient {
  /** `POST /api/v1/deploy?uuid=<appUuid>` (never with `force`: ≤ v4.1 reads `force=false` as true) */
  deploy(appUuid: string, signal?: AbortSignal): Promise<QueuedDeployment>;
  getDeployment(deploymentUuid: string, signal?: AbortSignal): Promise<CoolifyDeployment>;
  listAppDeployments(appUuid: string, page?: { skip?: number; take?: number }, signal?: AbortSignal): Promise<CoolifyDeploymentList>;
  getApplication(appUuid: string, signal?: AbortSignal): Promise<CoolifyApplication>;
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

type Subject = { kind: 'application' | 'deployment'; uuid: string; ability: 'read' | 'deploy' };

const API_PREFIX = '/api/v1';
const BODY_LIMIT = 1024 * 1024;

export function createCoolifyClient(options: CoolifyClientOptions): CoolifyClient {
  const base = options.url.replace(/\/+$/, '').replace(/\/api\/v1$/, '');
  const where = safeTarget(base);
  const redact = createRedactor([options.token]);
  const agent = options.fetchImpl || !options.caCertPath ? undefined : new Agent({ connect: { ca: [...rootCertificates, readFileSync(options.caCertPath, 'utf8')] } });
  const doFetch: CoolifyFetch = options.fetchImpl ?? ((url, init) => undiciFetch(url, init));

  async function request(method: 'GET' | 'POST', path: string, subject: Subject, signal?: AbortSignal): Promise<unknown> {
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
        redirect: 'manual',
        ...(agent ? { dispatcher: agent } : {}),
      });
      body = (await response.text()).slice(0, BODY_LIMIT);
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
      try {
        return JSON.parse(body) as unknown;
      } catch {
        const type = (response.headers.get('content-type') ?? 'no content type').split(';')[0];
        throw new CoolifyError('coolify_bad_response', `Coolify answered ${call} with a body that is not JSON (${status}, ${type}): is SENTINEL_COOLIFY_URL Coolify's base URL?`, { httpStatus: status });
      }
    }
    throw statusError(status, call, subject, coolifyMessage(body, redact), response, redact);
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
    async close() {
      await agent?.destroy().catch(() => undefined);
    },
  };
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

export interface CoolifyDriverDeps {
  fetchImpl?: CoolifyFetch;
}

/**
 * How far Coolify's clock may run behind ours before a deployment it created for us looks older
 * than the check: small against a deploy, which takes minutes.
 */
export const CLOCK_SKEW_MARGIN_MS = 60_000;
/** Newest deployments read to find ours in Coolify's record (≤ v4.1 sends each one's full logs: keep it small). */
const RECORD_PAGE = 5;

/**
 * The `coolify` redeploy driver: deploy, poll the deployment until it ends, within
 * config.coolify.deployTimeoutMs, then confirm in Coolify's own record (the application's deployment
 * list) that it is a deployment created after the redeploy started which finished: only that is
 * evidence of a new instance. Transient read errors are retried until that deadline; auth,
 * permission and not-found errors end the wait at once. The deploy POST itself is never retried.
 */
export function coolifyDriver(config: Config, deps: CoolifyDriverDeps = {}): RedeployDriver {
  const { appUuid, deployTimeoutMs, pollIntervalMs } = config.coolify;
  if (!appUuid) throw new SentinelError('config_invalid', 'the coolify redeploy driver needs SENTINEL_COOLIFY_APP_UUID');
  return {
    name: 'coolify',
    async redeploy(signal) {
      const startedAtMs = Date.now();
      const client = coolifyClientFromConfig(config, deps.fetchImpl);
      const deadline = AbortSignal.timeout(deployTimeoutMs);
      const within = AbortSignal.any([signal, deadline]);
      let deploymentId: string | undefined;
      let lastStatus = 'not queued yet';
      let lastError = '';
      /** Reads until Coolify answers: transient errors are retried until the deadline. */
      const untilAnswered = async <T>(read: () => Promise<T>): Promise<T> => {
        for (;;) {
          try {
            const value = await read();
            lastError = '';
            return value;
          } catch (error) {
            if (!(error instanceof CoolifyError) || !error.transient) throw error;
            lastError = `; last poll: ${error.message}`;
          }
          await sleep(pollIntervalMs, undefined, { signal: within });
        }
      };
      try {
        const queued = await client.deploy(appUuid, within);
        deploymentId = queued.deployment_uuid;
        lastStatus = 'queued';
        for (;;) {
          let deployment: CoolifyDeployment;
          try {
            deployment = await untilAnswered(() => client.getDeployment(queued.deployment_uuid, within));
          } catch (error) {
            if (error instanceof CoolifyError && error.code === 'coolify_not_found') return notCreated(queued, appUuid);
            throw error;
          }
          lastStatus = deployment.status;
          if (isTerminalDeploymentStatus(deployment.status)) {
            const record = await untilAnswered(() => client.listAppDeployments(appUuid, { skip: 0, take: RECORD_PAGE }, within));
            return await outcomeOf(client, appUuid, deployment, record.deployments, startedAtMs, within);
          }
          await sleep(pollIntervalMs, undefined, { signal: within });
        }
      } catch (error) {
        // Our deadline, or the caller's own timeout signal: either way the deployment outlived its wait.
        const callerTimedOut = signal.aborted && (signal.reason as { name?: string } | undefined)?.name === 'TimeoutError';
        if (deadline.aborted || callerTimedOut) {
          const which = deploymentId ? `deployment "${deploymentId}" of application "${appUuid}"` : `the deploy request for application "${appUuid}"`;
          const limit = deadline.aborted ? `within ${deployTimeoutMs} ms` : "before the caller's deadline";
          throw new CoolifyError('coolify_timeout', `Coolify ${which} did not finish ${limit} (last status: ${lastStatus}${lastError})`);
        }
        if (signal.aborted) throw signal.reason;
        throw error;
      } finally {
        await client.close();
      }
    },
  };
}

/**
 * Coolify handed back a deployment uuid it has no record of. Since v4.0.0-beta.408 a deploy of a
 * commit that already has a queued or running deployment answers 200 "Deployment already queued for
 * this commit." with a freshly made uuid it never stores: nothing new was queued.
 */
function notCreated(queued: QueuedDeployment, appUuid: string): RedeployOutcome {
  const said = queued.message ? ` ("${queued.message}")` : '';
  return {
    ok: true,
    deploymentId: queued.deployment_uuid,
    status: 'not queued',
    ...(queued.message ? { message: queued.message } : {}),
    evidence: {
      kind: 'none',
      checked: true,
      deploymentId: queued.deployment_uuid,
      detail: `Coolify answered the deploy of application "${appUuid}" with deployment "${queued.deployment_uuid}"${said} but has no such deployment (404): it queued nothing new`,
    },
  };
}

async function outcomeOf(
  client: CoolifyClient,
  appUuid: string,
  deployment: CoolifyDeployment,
  record: readonly CoolifyDeployment[],
  startedAtMs: number,
  signal: AbortSignal,
): Promise<RedeployOutcome> {
  let applicationStatus: string | undefined;
  try {
    // Coolify refreshes the application status on a timer, so it may lag; it is context, not a verdict.
    applicationStatus = (await client.getApplication(appUuid, signal)).status;
  } catch (error) {
    if (signal.aborted) throw error;
  }
  const id = deployment.deployment_uuid;
  const base = { deploymentId: id, status: deployment.status, ...(applicationStatus ? { applicationStatus } : {}) };
  const listed = record.find((d) => d.deployment_uuid === id);
  const createdAt = listed?.created_at ?? deployment.created_at;
  const createdMs = createdAt ? Date.parse(createdAt) : Number.NaN;
  const notEvidence = (detail: string) => ({ kind: 'none' as const, checked: true, deploymentId: id, ...(createdAt ? { deploymentCreatedAt: createdAt } : {}), detail });
  if (Number.isFinite(createdMs) && createdMs < startedAtMs - CLOCK_SKEW_MARGIN_MS) {
    // An answer with a deployment that existed before we asked: whatever it did, it is not our redeploy.
    return {
      ...base,
      ok: true,
      evidence: notEvidence(`Coolify answered the deploy with deployment "${id}", created ${createdAt}, before this redeploy started (${new Date(startedAtMs).toISOString()}): an existing deployment, not a new one`),
    };
  }
  if (deployment.status !== 'finished') {
    return { ...base, ok: false, message: deploymentFailure(id, deployment.status, appUuid).message, evidence: notEvidence(`deployment "${id}" ended ${deployment.status}`) };
  }
  if (!listed) return { ...base, ok: true, evidence: notEvidence(`Coolify's deployment list of application "${appUuid}" does not show deployment "${id}"`) };
  if (listed.status !== 'finished') return { ...base, ok: true, evidence: notEvidence(`Coolify's deployment list shows deployment "${id}" as "${listed.status}", not finished`) };
  if (!Number.isFinite(createdMs)) return { ...base, ok: true, evidence: notEvidence(`Coolify's record of deployment "${id}" has no readable created_at`) };
  return {
    ...base,
    ok: true,
    evidence: { kind: 'coolify-deployment', checked: true, deploymentId: id, deploymentCreatedAt: createdAt!, detail: `Coolify lists deployment "${id}", created ${createdAt}, as finished` },
  };
}

function statusError(status: number, call: string, subject: Subject, said: string | undefined, response: CoolifyResponse, redact: Redactor): CoolifyError {
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
      return new CoolifyError(
        'coolify_forbidden',
        `Coolify token lacks the "${ability}" ability (403${quoted}) for ${call}: SENTINEL_COOLIFY_TOKEN needs read + deploy (or root)`,
        opts,
      );
    }
    case 404:
      return subject.kind === 'application'
        ? new CoolifyError('coolify_not_found', `Coolify has no application with uuid "${subject.uuid}" (404${quoted}): check SENTINEL_COOLIFY_APP_UUID`, opts)
        : new CoolifyError('coolify_not_found', `Coolify has no deployment with uuid "${subject.uuid}" (404${quoted})`, opts);
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
