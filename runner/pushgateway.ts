/**
 * Optional push of a one-shot run's metrics to a Prometheus Pushgateway (architecture §6,
 * monitoring-anchors §4.6 "Exposition rules"): a fresh registry, the same names and labels the
 * monitor scrapes, PUT (replace the whole group) under the grouping key {job, mode}. Pushing is
 * telemetry: a failure is one warning line and never changes the run's verdict.
 */
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { Gauge, Registry } from 'prom-client';
import { Agent, fetch as undiciFetch, type Dispatcher } from 'undici';
import { collectSecrets, type Config } from '../core/config.ts';
import type { RedeployObservation } from '../core/observations.ts';
import { createRedactor, safeTarget } from '../core/redact.ts';
import { countsAsPassed, type RunSummary } from '../core/result.ts';
import { STATE_SET, exposedPortCounts, stateOf } from './metrics.ts';
import { checkTypeOf, targetOf } from './monitor/checks.ts';

export const PUSH_JOB = 'gadgetbot_sentinel';

export interface PushedDeployment {
  uuid: string;
  status: string;
  finishedAt?: string | undefined;
}

export interface PushRequestInit {
  method: 'PUT';
  headers: Record<string, string>;
  body: string;
  signal: AbortSignal;
  redirect: 'manual';
  dispatcher?: Dispatcher;
}
export type PushFetch = (url: string, init: PushRequestInit) => Promise<{ status: number; text(): Promise<string> }>;

export interface PushOptions {
  /** grouping key value: the run's mode (`postdeploy`, `ci`) */
  mode: string;
  fetchImpl?: PushFetch;
  /** the Coolify deployment that triggered the run, exported as sentinel_run_deployment_* */
  deployment?: PushedDeployment;
  /** where the warning line goes; default stderr */
  warn?: (line: string) => void;
}

export type PushResult = { pushed: true; url: string } | { pushed: false; reason: 'not_configured' } | { pushed: false; reason: 'failed'; warning: string };

/** The run's metrics in the Prometheus text format, built on a fresh registry. */
export async function buildRunMetrics(config: Config, summary: RunSummary, deployment?: PushedDeployment): Promise<{ body: string; contentType: string }> {
  const registry = new Registry();
  const help = 'of the one-shot run that pushed this group';
  const idLabels = ['check', 'check_type', 'target'] as const;
  const status = new Gauge({ name: 'sentinel_check_status', help: `State set: 1 for the status of the check (passing, failing, degraded, skipped), ${help}`, labelNames: ['check', 'status'], registers: [registry] });
  const success = new Gauge({ name: 'probe_success', help: `Whether the check succeeded (1) or not (0), ${help}`, labelNames: idLabels, registers: [registry] });
  const duration = new Gauge({ name: 'probe_duration_seconds', help: `Duration of the check in seconds, ${help}`, labelNames: idLabels, registers: [registry] });
  const lastRun = new Gauge({ name: 'sentinel_check_last_run_timestamp_seconds', help: `Unix time the check finished, ${help}`, labelNames: ['check'], registers: [registry] });
  const lastSuccess = new Gauge({ name: 'sentinel_check_last_success_timestamp_seconds', help: `Unix time the check finished with a pass, ${help} (absent when it did not pass)`, labelNames: ['check'], registers: [registry] });
  const runDuration = new Gauge({ name: 'sentinel_run_duration_seconds', help: 'Duration of the whole one-shot run in seconds', registers: [registry] });
  // Only one-shot runs redeploy (the monitor never does): this push is where the redeploy alert's series comes from.
  const sessionSurvived = new Gauge({ name: 'sentinel_session_survived_redeploy', help: `Whether the session survived the redeploy (1) or not (0), ${help}; absent unless the run measured one`, labelNames: ['check'], registers: [registry] });
  const downtime = new Gauge({ name: 'sentinel_redeploy_downtime_seconds', help: `App downtime during the redeploy in seconds, ${help}; absent unless the run measured one`, labelNames: ['check'], registers: [registry] });
  // The exposure check belongs outside the server (a CI runner is): its finding must reach the alert from a one-shot run too.
  const exposedPorts = new Gauge({ name: 'sentinel_exposed_ports', help: `Ports of the closed list that accepted a connection, per exposure host, ${help}`, labelNames: ['host'], registers: [registry] });

  for (const check of summary.checks) {
    const state = stateOf(check);
    for (const s of STATE_SET) status.set({ check: check.id, status: s }, s === state ? 1 : 0);
    // A check that did not run has no success or failure to report (it must not page anyone).
    if (check.status === 'skipped') continue;
    const labels = { check: check.id, check_type: checkTypeOf(check.id), target: targetOf(check.id, config) };
    const finishedSeconds = Math.floor((Date.parse(check.startedAt) + Math.max(0, check.durationMs)) / 1000);
    success.set(labels, countsAsPassed(check.status) ? 1 : 0);
    duration.set(labels, Math.max(0, check.durationMs) / 1000);
    if (Number.isFinite(finishedSeconds)) {
      lastRun.set({ check: check.id }, finishedSeconds);
      if (countsAsPassed(check.status)) lastSuccess.set({ check: check.id }, finishedSeconds);
    }
    if (check.id === 'exposure') {
      for (const [host, count] of exposedPortCounts(config.exposure.hosts ?? [], check.observations?.hosts)) if (count !== undefined) exposedPorts.set({ host }, count);
    }
    const redeploy = check.observations as Partial<RedeployObservation> | undefined;
    if (typeof redeploy?.sessionKept === 'boolean') {
      sessionSurvived.set({ check: check.id }, redeploy.sessionKept ? 1 : 0);
      if (typeof redeploy.downtimeSeconds === 'number' && Number.isFinite(redeploy.downtimeSeconds)) downtime.set({ check: check.id }, redeploy.downtimeSeconds);
    }
  }
  runDuration.set(Math.max(0, summary.durationMs) / 1000);

  if (deployment) {
    // One series per group: a PUT replaces the previous deployment's, so the uuid label stays bounded.
    new Gauge({ name: 'sentinel_run_deployment_info', help: 'The Coolify deployment that triggered this run (always 1)', labelNames: ['deployment', 'deployment_status'], registers: [registry] }).set(
      { deployment: deployment.uuid, deployment_status: deployment.status },
      1,
    );
    const finished = deployment.finishedAt ? Date.parse(deployment.finishedAt) : Number.NaN;
    if (Number.isFinite(finished)) {
      new Gauge({ name: 'sentinel_run_deployment_finished_timestamp_seconds', help: 'Unix time the triggering Coolify deployment ended', registers: [registry] }).set(Math.floor(finished / 1000));
    }
  }
  return { body: await registry.metrics(), contentType: registry.contentType };
}

/** `<pushgatewayUrl>/metrics/job/gadgetbot_sentinel/mode/<mode>` (credentials moved out of the URL). */
export function pushUrl(pushgatewayUrl: string, mode: string): { url: string; authorization?: string } {
  const u = new URL(pushgatewayUrl);
  const authorization = u.username || u.password ? `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}` : undefined;
  u.username = '';
  u.password = '';
  const base = u.toString().replace(/\/+$/, '');
  return { url: `${base}/metrics/job/${PUSH_JOB}/mode/${encodeURIComponent(mode)}`, ...(authorization ? { authorization } : {}) };
}

/** PUTs the run's metrics; resolves (never rejects) with what happened. */
export async function pushRunMetrics(config: Config, summary: RunSummary, options: PushOptions): Promise<PushResult> {
  if (!config.pushgatewayUrl) return { pushed: false, reason: 'not_configured' };
  const warn = options.warn ?? ((line: string) => process.stderr.write(`${line}\n`));
  const redact = createRedactor(collectSecrets(config));
  const where = safeTarget(config.pushgatewayUrl);
  const fail = (why: string): PushResult => {
    const warning = redact(`sentinel: warning: metrics not pushed to the Pushgateway at ${where}: ${why} (the run's result is unaffected)`);
    warn(warning);
    return { pushed: false, reason: 'failed', warning };
  };
  if (!/^[A-Za-z0-9_-]+$/.test(options.mode)) return fail(`mode "${options.mode}" is not a plain word`);

  let agent: Agent | undefined;
  try {
    const { url, authorization } = pushUrl(config.pushgatewayUrl, options.mode);
    const { body, contentType } = await buildRunMetrics(config, summary, options.deployment);
    if (!options.fetchImpl && config.tls.caCertPath) agent = new Agent({ connect: { ca: [...rootCertificates, readFileSync(config.tls.caCertPath, 'utf8')] } });
    const doFetch: PushFetch = options.fetchImpl ?? ((u, init) => undiciFetch(u, init));
    const response = await doFetch(url, {
      method: 'PUT',
      headers: { 'content-type': contentType, ...(authorization ? { authorization } : {}) },
      body,
      signal: AbortSignal.timeout(config.timeouts.probeMs),
      redirect: 'manual',
      ...(agent ? { dispatcher: agent } : {}),
    });
    const text = (await response.text()).replace(/\s+/g, ' ').trim().slice(0, 200);
    if (response.status < 200 || response.status >= 300) return fail(`HTTP ${response.status}${text ? ` ${text}` : ''}`);
    return { pushed: true, url: safeTarget(url) };
  } catch (error) {
    const name = (error as { name?: string }).name;
    if (name === 'TimeoutError' || name === 'AbortError') return fail(`no answer within ${config.timeouts.probeMs} ms`);
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return fail(cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error)));
  } finally {
    await agent?.destroy().catch(() => undefined);
  }
}
