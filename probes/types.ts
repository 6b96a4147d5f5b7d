/**
 * The probe interface: a probe is a plain async function of the
 * parsed config and a context carrying the deadline signal and a clock. The runner (run-probe.ts) owns the
 * deadline, timing, error capture and redaction; a probe measures its own protocol only.
 */
import type { Config } from '../core/config.ts';
import type { CheckResult } from '../core/result.ts';

export interface ProbeContext {
  /** Aborts at the probe's deadline; every network call of the probe must honour it. */
  signal: AbortSignal;
  /** The clock (injectable so expiry arithmetic is testable). */
  now: () => Date;
  /** Extra trusted CA certificates (PEM), read from config.tls.caCertPath by the runner. */
  caCerts?: string;
  /** Milliseconds left until the deadline (for clients such as pg that take timeouts, not signals). */
  remainingMs?: () => number;
  /**
   * A probe that signs in: the runner already claimed its slot of the sign-in limit, before the deadline
   * started, and waited this long for it (probes/run-probe.ts). Absent: the probe claims its own.
   */
  signInWaitedMs?: number;
}

export type ProbeFn = (config: Config, ctx: ProbeContext) => Promise<CheckResult>;
