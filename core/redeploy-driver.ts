/**
 * What a redeploy driver is and what it reports: the one interface the `coolify` driver
 * (core/coolify-redeploy.ts) and the `command` driver (core/redeploy.ts) implement, and
 * e2e-session-redeploy judges (core/redeploy.ts judgeRedeploy).
 */
import type { InstanceSignalSource } from './instance-signal.ts';

/** What showed that a new app instance serves after the redeploy. */
export interface InstanceEvidence {
  /** Coolify's record of a fresh deployment that finished, a changed instance signal, or nothing */
  kind: 'coolify-deployment' | 'instance-signal' | 'none';
  /** false only for a bare command: no instance signal configured, so nothing was looked at */
  checked: boolean;
  /** one line: what was verified, or what was looked at and not found */
  detail: string;
  deploymentId?: string;
  /** the deployment's `created_at` as Coolify gave it */
  deploymentCreatedAt?: string;
  signalSource?: InstanceSignalSource;
  /** fingerprints (core/instance-signal.ts), never the raw values */
  signalBefore?: string;
  signalAfter?: string;
}

export interface RedeployOutcome {
  /** false when the platform or the command reported a failure */
  ok: boolean;
  /** Coolify deployment uuid, when the driver has one */
  deploymentId?: string;
  /** terminal status as the platform names it (`finished`, `failed`, `cancelled-by-user`, `exit 0`) */
  status: string;
  /** the platform's view of the app afterwards (Coolify `running:healthy` …); context, not a verdict */
  applicationStatus?: string;
  /** one line, redacted */
  message?: string;
  evidence: InstanceEvidence;
}

export interface RedeployDriver {
  readonly name: 'coolify' | 'command';
  /** Starts a redeploy and resolves when the platform says it is over; rejects only on the signal or a driver error. */
  redeploy(signal: AbortSignal): Promise<RedeployOutcome>;
}
