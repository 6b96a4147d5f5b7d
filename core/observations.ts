/**
 * Observation shapes that cross layers: probes and specs write them into `CheckResult.observations`,
 * the monitor's metrics read them. One definition so both sides agree on names and units.
 */

/** `tls` → observations.hosts */
export interface TlsHostObservation {
  /** host:port as configured */
  target: string;
  servername?: string;
  /** min notAfter over the served chain, ISO and Unix seconds; present whenever a handshake happened */
  earliestExpiry?: string;
  earliestExpirySeconds?: number;
  daysLeft?: number;
  /** chain verifies against the trusted CAs (system + configured) */
  verified?: boolean;
  verifyError?: string;
  hostnameMatch?: boolean;
  tlsVersion?: string;
  cipher?: string;
  issuer?: string;
  subject?: string;
  sans?: string[];
  status: 'ok' | 'warn' | 'fail';
  reason?: string;
}

/** `app-health`, `oidc-discovery`, `login-v2-redirect` → observations.httpStatusCode (last response of the check, 0 when none). */
export interface HttpObservation {
  httpStatusCode: number;
}

/** `login-v2-redirect` → observations.loginUi */
export type LoginUi = 'v2' | 'v1' | 'unknown';

/** `db` → observations */
export interface DbObservation {
  pgUp: 0 | 1;
  /** pg_postmaster_start_time() as Unix seconds */
  postmasterStartTimeSeconds?: number;
  migrationsExpected?: number;
  migrationsApplied?: number;
  migrationsPending?: number;
  migrationsEdited?: number;
  migrationsUnknown?: number;
  lastAppliedWhen?: number;
  tablesMissing?: string[];
}

/** `e2e-session-redeploy` → observations */
export interface RedeployObservation {
  driver: 'coolify' | 'command';
  downtimeSeconds: number;
  /** share of IdP polls that succeeded during the window, 0..1 */
  idpAvailability: number;
  idpFailures: number;
  /** the platform or the instance signal showed a new instance (never inferred from the app's pages) */
  instanceChanged: boolean;
  /** what showed it: Coolify's record of a fresh finished deployment, a changed instance signal, or nothing */
  evidence: 'coolify-deployment' | 'instance-signal' | 'none';
  sessionKept: boolean;
  newAuthorizeRoundTrip: boolean;
  deploymentId?: string;
  deploymentStatus?: string;
  /** the deployment's `created_at` as Coolify records it */
  deploymentCreatedAt?: string;
  /** which part of SENTINEL_REDEPLOY_INSTANCE_URL's answer was compared, and its fingerprints (sha256 prefixes, never raw) */
  instanceSignalSource?: 'header' | 'body';
  instanceSignalBefore?: string;
  instanceSignalAfter?: string;
}

/** How a Coolify status string reads (probes/coolify-status.ts): the bounded state the metrics export. */
export type ResourceState = 'healthy' | 'health_unknown' | 'starting' | 'unhealthy' | 'down';
export const RESOURCE_STATES: readonly ResourceState[] = ['healthy', 'health_unknown', 'starting', 'unhealthy', 'down'];

/** The roles of the resources the `coolify-resources` check can watch (core/config.ts names their uuids). */
export type ResourceRole = 'app' | 'zitadel' | 'app-db' | 'zitadel-db';
/** The roles of the databases the `backups` check watches. */
export type DatabaseRole = Extract<ResourceRole, 'app-db' | 'zitadel-db'>;

/** `coolify-resources` → observations.resources[] */
export interface ResourceObservation {
  role: ResourceRole;
  uuid: string;
  /** what Coolify calls it (its `name`) */
  name?: string;
  kind: 'application' | 'service' | 'database';
  /** Coolify's status string as read */
  status?: string;
  state?: ResourceState;
  /** a stack's containers that are not running healthy: `zitadel-login: exited` */
  unhealthyParts?: string[];
  /** set when the resource could not be read */
  error?: string;
}

/** `coolify-resources` → observations.deployment: the app's newest deployment that ended */
export interface DeploymentObservation {
  uuid: string;
  /** Coolify's deployment status (`finished`, `failed`, `cancelled-by-user`) */
  status: string;
  commit?: string;
  /** when it ended (ISO), when Coolify says */
  finishedAt?: string;
}

/** `backups` → observations.databases[] */
export interface BackupObservation {
  role: DatabaseRole;
  uuid: string;
  /** the scheduled backup judged (uuid), when there is one */
  scheduleUuid?: string;
  enabled?: boolean;
  frequency?: string;
  /** days of backups the retention keeps (Infinity as null: no limit), where the backups are kept */
  retentionDays?: number | null;
  /** newest finished execution */
  lastStatus?: 'success' | 'failed';
  /** newest successful execution: when it finished (Unix seconds) and its size in bytes */
  lastSuccessSeconds?: number;
  lastSizeBytes?: number;
  lastMessage?: string;
}

/** `exposure` → observations.hosts: one entry per configured exposure host */
export interface ExposureHostObservation {
  host: string;
  /** the addresses the host resolved to; every one was checked */
  addresses: string[];
  /** ports that accepted a connection on at least one address, ascending */
  exposedPorts: number[];
  /** every port of the list was answered (refused, timed out or accepted) on every address */
  complete: boolean;
  /** set when the host could not be checked (its name did not resolve, a port could not be tried) */
  reason?: string;
}

/** `exposure` → observations.exposed: one entry per accepting port and address */
export interface ExposedPortObservation {
  host: string;
  address: string;
  port: number;
  /** what the port answered to a PostgreSQL SSLRequest: `S`/`N` from a PostgreSQL server, else nothing it recognised */
  postgresql: 'S' | 'N' | 'no';
}
