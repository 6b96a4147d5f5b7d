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
