/**
 * `/status`: the last result of every check with a short history, as JSON and as a small HTML page
 * (inline CSS, no external assets). Everything shown passes through the redactor first.
 */
import type { Redactor } from '../../core/redact.ts';
import type { CheckId, CheckStatus, Reason } from '../../core/result.ts';
import { stateOf, type CheckSpec, type StateSetStatus } from '../metrics.ts';
import type { CheckHistory } from './history.ts';

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
  warnings?: string[];
  history: Array<{ at: string; status: CheckStatus; reason?: Reason }>;
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
      ...(result?.reason ? { reason: result.reason } : {}),
      ...(result?.message ? { message: result.message } : {}),
      ...(result?.warnings?.length ? { warnings: [...result.warnings] } : {}),
      history: input.history.recent(spec.id).map((e) => ({ at: iso(e.finishedAtMs), status: e.result.status, ...(e.result.reason ? { reason: e.result.reason } : {}) })),
    };
  });
  return input.redact.deep({
    generatedAt: iso(input.nowMs ?? Date.now()),
    startedAt: iso(input.startedAtMs),
    schedules: input.schedules,
    ...(input.lastDeployment ? { lastDeployment: input.lastDeployment } : {}),
    checks,
  });
}

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const COLOURS: Record<string, string> = { passed: '#1a7f37', passing: '#1a7f37', flaky: '#bf8700', degraded: '#bf8700', failed: '#cf222e', failing: '#cf222e', skipped: '#8c959f', pending: '#8c959f' };

function dot(status: string, title: string): string {
  return `<span class="dot" style="background:${COLOURS[status] ?? '#8c959f'}" title="${escapeHtml(title)}"></span>`;
}

export function renderStatusHtml(doc: StatusDocument): string {
  const rows = doc.checks
    .map((c) => {
      const history = c.history.map((h) => dot(h.status, `${h.at} ${h.status}${h.reason ? ` (${h.reason})` : ''}`)).join('');
      const why = [c.reason, c.message].filter(Boolean).join(': ');
      return `<tr>
<td>${dot(c.state, c.state)} <strong>${escapeHtml(c.id)}</strong><br><small>${escapeHtml(c.checkType)} · ${escapeHtml(c.target)}</small></td>
<td class="state-${escapeHtml(c.state)}">${escapeHtml(c.state)}${c.warnings?.length ? `<br><small>${escapeHtml(c.warnings.join(', '))}</small>` : ''}</td>
<td>${c.lastRun ? `<time>${escapeHtml(c.lastRun)}</time>` : '–'}</td>
<td>${c.lastSuccess ? `<time>${escapeHtml(c.lastSuccess)}</time>` : '–'}</td>
<td>${why ? escapeHtml(why) : ''}</td>
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
small{color:#59636e}
.dot{display:inline-block;width:.7rem;height:.7rem;border-radius:50%;margin-right:2px}
.history{white-space:nowrap}
.state-failing{color:#cf222e;font-weight:600}
</style>
</head>
<body>
<h1>sentinel status</h1>
<p>${escapeHtml(headline)}. Generated ${escapeHtml(doc.generatedAt)}; monitor started ${escapeHtml(doc.startedAt)}.
Schedules: ${Object.entries(doc.schedules).map(([k, v]) => `${escapeHtml(k)} <code>${escapeHtml(v)}</code>`).join(', ')}.</p>
${doc.lastDeployment ? `<p>Last Coolify deployment <code>${escapeHtml(doc.lastDeployment.uuid)}</code> ${escapeHtml(doc.lastDeployment.status)} at <time>${escapeHtml(doc.lastDeployment.at)}</time>; post-deploy checks: <strong>${escapeHtml(doc.lastDeployment.outcome)}</strong>.</p>` : ''}
<table>
<thead><tr><th>Check</th><th>Status</th><th>Last run</th><th>Last success</th><th>Reason</th><th>History (oldest → newest)</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
</body>
</html>
`;
}
