/**
 * `/status`: the last result of every check with a short history, as JSON and as a small HTML page
 * (inline CSS and SVG, no external assets) that reads at a glance: state, how long ago, how long it
 * took and its trend, the reason with what to do first (core/runbook.ts), and the alerts Prometheus
 * has firing for this monitor when SENTINEL_PROMETHEUS_URL is set. Everything shown passes through
 * the redactor first.
 */
import type { Redactor } from '../../core/redact.ts';
import { countsAsFailed, type CheckId, type CheckStatus, type Reason } from '../../core/result.ts';
import { runbookLine } from '../../core/runbook.ts';
import { stateOf, type CheckSpec, type StateSetStatus } from '../metrics.ts';
import type { CheckHistory } from './history.ts';
import type { AlertsView } from './prometheus-alerts.ts';

export interface StatusEntry {
  id: CheckId;
  kind: 'probe' | 'browser';
  checkType: string;
  target: string;
  scheduled: boolean;
  /** state-set status of the last result; `pending` before the first one */
  state: StateSetStatus | 'pending';
  lastStatus?: CheckStatus;
  lastRun?: string;
  lastSuccess?: string;
  durationMs?: number;
  reason?: Reason;
  message?: string;
  /** what to do first about `reason` */
  runbook?: string;
  warnings?: string[];
  history: Array<{ at: string; status: CheckStatus; durationMs: number; reason?: Reason }>;
}

export interface DeploymentStatus {
  uuid: string;
  status: 'finished' | 'failed';
  /** outcome of the post-deploy run: running until it ends */
  outcome: 'running' | 'passed' | 'failed' | 'deploy_failed' | 'skipped';
  at: string;
}

export interface StatusDocument {
  generatedAt: string;
  startedAt: string;
  schedules: Record<string, string>;
  /** the last Coolify deployment the monitor saw, when it watches deployments */
  lastDeployment?: DeploymentStatus;
  /** sentinel's alerts pending or firing in Prometheus (SENTINEL_PROMETHEUS_URL), or why they could not be read */
  alerts?: AlertsView['alerts'];
  alertsError?: string;
  checks: StatusEntry[];
}

export function buildStatus(input: {
  specs: readonly CheckSpec[];
  history: CheckHistory;
  startedAtMs: number;
  schedules: Record<string, string>;
  redact: Redactor;
  nowMs?: number;
  lastDeployment?: DeploymentStatus | undefined;
  alerts?: AlertsView | undefined;
}): StatusDocument {
  const iso = (ms: number) => new Date(ms).toISOString();
  const checks = input.specs.map((spec): StatusEntry => {
    const last = input.history.last(spec.id);
    const success = input.history.lastSuccess(spec.id);
    const result = last?.result;
    return {
      id: spec.id,
      kind: spec.checkType === 'browser' ? 'browser' : 'probe',
      checkType: spec.checkType,
      target: spec.target,
      scheduled: spec.scheduled !== false,
      state: result ? stateOf(result) : 'pending',
      ...(result ? { lastStatus: result.status, durationMs: result.durationMs } : {}),
      ...(last ? { lastRun: iso(last.finishedAtMs) } : {}),
      ...(success ? { lastSuccess: iso(success.finishedAtMs) } : {}),
      ...(result?.reason ? { reason: result.reason, ...(countsAsFailed(result.status) ? { runbook: runbookLine(result.reason) } : {}) } : {}),
      ...(result?.message ? { message: result.message } : {}),
      ...(result?.warnings?.length ? { warnings: [...result.warnings] } : {}),
      history: input.history.recent(spec.id).map((e) => ({ at: iso(e.finishedAtMs), status: e.result.status, durationMs: e.result.durationMs, ...(e.result.reason ? { reason: e.result.reason } : {}) })),
    };
  });
  return input.redact.deep({
    generatedAt: iso(input.nowMs ?? Date.now()),
    startedAt: iso(input.startedAtMs),
    schedules: input.schedules,
    ...(input.lastDeployment ? { lastDeployment: input.lastDeployment } : {}),
    ...(input.alerts ? { alerts: input.alerts.alerts, ...(input.alerts.error ? { alertsError: input.alerts.error } : {}) } : {}),
    checks,
  });
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const COLOURS: Record<string, string> = { passed: '#1a7f37', passing: '#1a7f37', flaky: '#bf8700', degraded: '#bf8700', failed: '#cf222e', failing: '#cf222e', skipped: '#8c959f', pending: '#8c959f', firing: '#cf222e' };

function dot(status: string, title: string): string {
  return `<span class="dot" style="background:${COLOURS[status] ?? '#8c959f'}" title="${escapeHtml(title)}"></span>`;
}

/** "12 s ago", "3 min ago", "2 h ago", "4 d ago" between two ISO times. */
export function relativeTime(at: string, now: string): string {
  const s = Math.max(0, Math.round((Date.parse(now) - Date.parse(at)) / 1000));
  if (s < 90) return `${s} s ago`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min ago`;
  if (s < 36 * 3600) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

export function formatMs(ms: number): string {
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}

/** The durations of the recent runs as a small line (oldest → newest), each point coloured by its status. */
function sparkline(history: StatusEntry['history']): string {
  const runs = history.filter((h) => h.status !== 'skipped');
  if (runs.length < 2) return '';
  const width = 96;
  const height = 22;
  const max = Math.max(...runs.map((h) => h.durationMs), 1);
  const x = (i: number) => ((i / (runs.length - 1)) * (width - 4) + 2).toFixed(1);
  const y = (ms: number) => (height - 2 - (ms / max) * (height - 4)).toFixed(1);
  const line = runs.map((h, i) => `${i === 0 ? 'M' : 'L'}${x(i)} ${y(h.durationMs)}`).join(' ');
  const points = runs.map((h, i) => `<circle cx="${x(i)}" cy="${y(h.durationMs)}" r="1.8" fill="${COLOURS[h.status] ?? '#8c959f'}"/>`).join('');
  return `<svg class="trend" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="duration of the last ${runs.length} runs, up to ${escapeHtml(formatMs(max))}"><path d="${line}" fill="none" stroke="#8c959f" stroke-width="1"/>${points}</svg>`;
}

function when(at: string | undefined, now: string): string {
  return at ? `${escapeHtml(relativeTime(at, now))}<br><small><time datetime="${escapeHtml(at)}">${escapeHtml(at.replace('T', ' ').replace(/\.\d+Z$/, 'Z'))}</time></small>` : '–';
}

function alertsSection(doc: StatusDocument): string {
  if (!doc.alerts && !doc.alertsError) return '';
  const items = (doc.alerts ?? []).map((a) => `<li>${dot(a.state === 'firing' ? 'firing' : 'degraded', a.state)}<strong>${escapeHtml(a.name)}</strong> ${escapeHtml(a.state)}${a.check ? ` · ${escapeHtml(a.check)}` : ''}${a.reason ? ` · ${escapeHtml(a.reason)}` : ''}${a.since ? ` · since ${escapeHtml(relativeTime(a.since, doc.generatedAt))}` : ''}</li>`);
  const body = doc.alertsError ? `<p class="muted">Alerts unavailable: ${escapeHtml(doc.alertsError)}</p>` : items.length ? `<ul class="alerts">${items.join('')}</ul>` : '<p class="muted">No sentinel alert is pending or firing in Prometheus.</p>';
  return `<section aria-labelledby="alerts"><h2 id="alerts">Alerts</h2>${body}</section>`;
}

export function renderStatusHtml(doc: StatusDocument): string {
  const now = doc.generatedAt;
  const rows = doc.checks
    .map((c) => {
      const history = c.history.map((h) => dot(h.status, `${h.at} ${h.status} ${formatMs(h.durationMs)}${h.reason ? ` (${h.reason})` : ''}`)).join('');
      const why = [c.reason, c.message].filter(Boolean).join(': ');
      return `<tr class="state-${escapeHtml(c.state)}">
<td>${dot(c.state, c.state)} <strong>${escapeHtml(c.id)}</strong><br><small>${escapeHtml(c.checkType)} · ${escapeHtml(c.target)}</small></td>
<td class="state">${escapeHtml(c.state)}${c.warnings?.length ? `<br><small>${escapeHtml(c.warnings.join(', '))}</small>` : ''}</td>
<td>${when(c.lastRun, now)}</td>
<td>${when(c.lastSuccess, now)}</td>
<td>${c.durationMs === undefined || c.lastStatus === 'skipped' ? '–' : escapeHtml(formatMs(c.durationMs))}<br>${sparkline(c.history)}</td>
<td>${why ? escapeHtml(why) : ''}${c.runbook ? `<br><small class="runbook">→ ${escapeHtml(c.runbook)}</small>` : ''}</td>
<td class="history">${history}</td>
</tr>`;
    })
    .join('\n');
  const failing = doc.checks.filter((c) => c.state === 'failing').length;
  const headline = failing === 0 ? 'All scheduled checks passing or pending' : `${failing} check${failing === 1 ? '' : 's'} failing`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="30">
<title>sentinel status</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1.5rem;color:#1f2328}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.4rem .6rem;border-bottom:1px solid #d0d7de;vertical-align:top}
th{font-weight:600;background:#f6f8fa}
small,.muted{color:#59636e}
h1{margin:0 0 .3rem}
h2{font-size:1rem;margin:1rem 0 .3rem}
.headline{font-size:1.1rem;font-weight:600}
.dot{display:inline-block;width:.7rem;height:.7rem;border-radius:50%;margin-right:3px;vertical-align:middle}
.history{white-space:nowrap}
.trend{vertical-align:middle}
.state-failing .state{color:#cf222e;font-weight:600}
.state-failing{background:#fff5f5}
.runbook{color:#1f2328}
.alerts{margin:.2rem 0;padding-left:1rem}
</style>
</head>
<body>
<h1>sentinel status</h1>
<p class="headline">${escapeHtml(headline)}</p>
<p class="muted">Generated <time datetime="${escapeHtml(doc.generatedAt)}">${escapeHtml(doc.generatedAt)}</time>; monitor started ${escapeHtml(relativeTime(doc.startedAt, now))}.
Schedules: ${Object.entries(doc.schedules).map(([k, v]) => `${escapeHtml(k)} <code>${escapeHtml(v)}</code>`).join(', ')} (every group also runs once at start).</p>
${alertsSection(doc)}
${doc.lastDeployment ? `<p>Last Coolify deployment <code>${escapeHtml(doc.lastDeployment.uuid)}</code> ${escapeHtml(doc.lastDeployment.status)} ${escapeHtml(relativeTime(doc.lastDeployment.at, now))}; post-deploy checks: <strong>${escapeHtml(doc.lastDeployment.outcome)}</strong>.</p>` : ''}
<table>
<thead><tr><th>Check</th><th>Status</th><th>Last run</th><th>Last success</th><th>Duration · trend</th><th>Reason · what to do</th><th>History (oldest → newest)</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
</body>
</html>
`;
}
