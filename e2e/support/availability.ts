/**
 * Polls the app (`GET /`) and the IdP (discovery) every ~100 ms while a redeploy runs, each request
 * with its own short deadline, and turns the samples into downtime and IdP availability.
 * Certificates are not judged here: like the HTTP probes, the watch measures whether the services
 * answer; the `tls` probe and the browser (which refuses a bad certificate at sign-in) judge them.
 * Verifying here turned an app-certificate fault into a bogus 100 % downtime.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { Agent, request } from 'undici';

/** `ok`, `timeout`, `status_<code>` or `error_<code>`: enough to tell a slow poll from a dead service. */
export type PollAnswer = string;

export interface Sample {
  atMs: number;
  appOk: boolean;
  idpOk: boolean;
  app: PollAnswer;
  idp: PollAnswer;
}

export interface AvailabilitySummary {
  samples: number;
  downtimeSeconds: number;
  idpAvailability: number;
  idpFailures: number;
  /**
   * The IdP really failed: it refused, reset or answered an error, or it timed out on two polls in a
   * row. A single slow poll on a busy runner is our starvation, not the IdP's outage.
   */
  idpDisrupted: boolean;
  /** failed polls by outcome, e.g. `{ timeout: 1, status_502: 3 }` */
  appFailureKinds: Record<string, number>;
  idpFailureKinds: Record<string, number>;
}

export interface WatchOptions {
  appUrl: string;
  issuer: string;
  intervalMs?: number;
  requestTimeoutMs?: number;
}

async function poll(agent: Agent, url: string, timeoutMs: number, json: boolean): Promise<PollAnswer> {
  try {
    const response = await request(url, { dispatcher: agent, signal: AbortSignal.timeout(timeoutMs), headers: { accept: json ? 'application/json' : 'text/html' } });
    if (response.statusCode !== 200) {
      await response.body.dump();
      return `status_${response.statusCode}`;
    }
    if (json) await response.body.json();
    else await response.body.dump();
    return 'ok';
  } catch (error) {
    const name = (error as Error).name;
    if (name === 'TimeoutError' || name === 'AbortError') return 'timeout';
    const code = (error as { code?: string }).code ?? name;
    return `error_${String(code).toLowerCase()}`;
  }
}

function countKinds(outcomes: readonly PollAnswer[]): Record<string, number> {
  const kinds: Record<string, number> = {};
  for (const outcome of outcomes) if (outcome !== 'ok') kinds[outcome] = (kinds[outcome] ?? 0) + 1;
  return kinds;
}

/** Longest run of consecutive app failures, from its first failed poll to the next good one. */
export function summarize(samples: readonly Sample[]): AvailabilitySummary {
  let longestMs = 0;
  let downSince: number | undefined;
  for (const sample of samples) {
    if (!sample.appOk && downSince === undefined) downSince = sample.atMs;
    if (sample.appOk && downSince !== undefined) {
      longestMs = Math.max(longestMs, sample.atMs - downSince);
      downSince = undefined;
    }
  }
  const last = samples.at(-1);
  if (downSince !== undefined && last) longestMs = Math.max(longestMs, last.atMs - downSince);
  const idpFailures = samples.filter((s) => !s.idpOk).length;
  const idpDisrupted = samples.some((s, i) => !s.idpOk && (s.idp !== 'timeout' || samples[i + 1]?.idp === 'timeout'));
  return {
    samples: samples.length,
    downtimeSeconds: Math.round(longestMs) / 1000,
    idpAvailability: samples.length === 0 ? 1 : (samples.length - idpFailures) / samples.length,
    idpFailures,
    idpDisrupted,
    appFailureKinds: countKinds(samples.map((s) => s.app)),
    idpFailureKinds: countKinds(samples.map((s) => s.idp)),
  };
}

export class AvailabilityWatch {
  readonly samples: Sample[] = [];
  private readonly agent: Agent;
  private readonly stopController = new AbortController();
  private readonly loop: Promise<void>;

  constructor(private readonly options: WatchOptions) {
    // No keep-alive: every poll opens a fresh connection, as a new visitor would during the switch.
    this.agent = new Agent({ pipelining: 0, connect: { rejectUnauthorized: false } });
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    const interval = this.options.intervalMs ?? 100;
    const timeout = this.options.requestTimeoutMs ?? 2_000;
    const appUrl = `${this.options.appUrl}/`;
    const idpUrl = `${this.options.issuer}/.well-known/openid-configuration`;
    while (!this.stopController.signal.aborted) {
      const atMs = Date.now();
      const [app, idp] = await Promise.all([poll(this.agent, appUrl, timeout, false), poll(this.agent, idpUrl, timeout, true)]);
      this.samples.push({ atMs, app, idp, appOk: app === 'ok', idpOk: idp === 'ok' });
      const wait = atMs + interval - Date.now();
      if (wait > 0) await delay(wait, undefined, { signal: this.stopController.signal }).catch(() => undefined);
    }
  }

  /** Resolves once a poll that started after now finds the app answering 200; false at the deadline. */
  async appUp(deadlineMs: number): Promise<boolean> {
    const since = Date.now();
    while (Date.now() < deadlineMs) {
      const fresh = this.samples.filter((s) => s.atMs >= since);
      if (fresh.some((s) => s.appOk)) return true;
      await delay(50);
    }
    return false;
  }

  async stop(): Promise<AvailabilitySummary> {
    if (this.stopController.signal.aborted) return summarize(this.samples);
    this.stopController.abort();
    await this.loop;
    await this.agent.close().catch(() => undefined);
    return summarize(this.samples);
  }
}
