/**
 * `sentinel check-config`: every configuration problem at once (path + variable), or the effective
 * configuration with secrets masked, the checks it enables and why the others are skipped.
 * Nothing here prints a secret value: secrets are masked as `[set]`, and every line passes the
 * redactor built from the raw secret inputs (which exist even when the configuration is invalid).
 */
import { EMBEDDED_PLACEHOLDERS, ENV_VARS, SECRET_PATHS, loadConfig, rawSecrets, type Config, type ConfigIssue } from '../core/config.ts';
import { createRedactor, type Redactor } from '../core/redact.ts';
import type { WriteLine } from './reporters/types.ts';
import { isProbeId, selectChecks, unconfiguredChecks, type RunMode } from './select.ts';
import { cronGaps, nextRun } from './monitor/scheduler.ts';

const SECRET_SET = new Set<string>(SECRET_PATHS);

/** The variable that sets this path, or the one that sets its list (`checks.1` → SENTINEL_CHECKS). */
function variableOf(issue: ConfigIssue): string | undefined {
  if (issue.variable) return issue.variable;
  const parent = issue.path.replace(/\.\d+$/, '');
  return Object.entries(ENV_VARS).find(([, p]) => p === parent)?.[0];
}

/**
 * `- tls.warnDays (SENTINEL_TLS_WARN_DAYS): tls.warnDays must be a number`; a problem that is not
 * about one field (`(environment)`, `(target)`, `(file)`) names only its variable, if any.
 */
export function formatIssue(issue: ConfigIssue): string {
  if (issue.path.startsWith('(')) return `- ${issue.variable ? `${issue.variable}: ` : ''}${issue.message.replace(/\s+/g, ' ')}`;
  const variable = variableOf(issue);
  const message = issue.message.startsWith(`${issue.path}: `) ? issue.message.slice(issue.path.length + 2) : issue.message;
  return `- ${issue.path}${variable ? ` (${variable})` : ''}: ${message.replace(/\s+/g, ' ')}`;
}

export function formatIssues(issues: readonly ConfigIssue[], redact: Redactor): string[] {
  const noun = issues.length === 1 ? 'problem' : 'problems';
  return [`sentinel: the configuration has ${issues.length} ${noun}:`, ...issues.map((issue) => redact(formatIssue(issue)))];
}

/** Dotted path = value lines of the effective configuration, secrets masked. */
export function effectiveConfigLines(config: Config): string[] {
  const lines: string[] = [];
  const walk = (value: unknown, path: string) => {
    if (SECRET_SET.has(path)) {
      lines.push(`  ${path} = ${value === undefined ? '(unset)' : '[set]'}`);
      return;
    }
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      for (const [key, child] of Object.entries(value)) walk(child, path ? `${path}.${key}` : key);
      return;
    }
    if (Array.isArray(value) && value.some((v) => v && typeof v === 'object')) {
      value.forEach((child, i) => walk(child, `${path}.${i}`));
      return;
    }
    lines.push(`  ${path} = ${JSON.stringify(value)}`);
  };
  walk(config, '');
  for (const secret of SECRET_PATHS) if (!lines.some((l) => l.startsWith(`  ${secret} `)) && !secret.startsWith('users.')) lines.push(`  ${secret} = (unset)`);
  return lines.sort();
}

/** What `sentinel monitor` would run with this configuration, and when. */
export function monitorPlan(config: Config, now: Date = new Date()): string[] {
  const selection = selectChecks({ mode: 'monitor', config, embedded: false });
  const probes = selection.run.filter(isProbeId);
  const browser = selection.run.filter((id) => !isProbeId(id));
  const when = (schedule: string) => {
    const gaps = cronGaps(schedule);
    const longest = gaps.longest > gaps.typical ? `, longest gap ${formatInterval(gaps.longest)}` : '';
    return `"${schedule}" (every ${formatInterval(gaps.typical)}${longest}; next ${nextRun(schedule, now)})`;
  };
  const lines = ['`sentinel monitor` would run (every group also runs once when it starts):'];
  const plain = probes.filter((id) => id !== 'login-v2-redirect');
  lines.push(`  probes ${plain.join(', ') || '(none)'} on ${when(config.monitor.probeSchedule)}`);
  if (probes.includes('login-v2-redirect')) lines.push(`  login-v2-redirect on the same schedule, never during a browser flow (it signs in)`);
  lines.push(`  browser flows ${browser.join(', ') || '(none)'} on ${when(config.monitor.browserSchedule)}, one at a time`);
  if (config.monitor.deployPollSchedule) lines.push(`  Coolify deployments watched on ${when(config.monitor.deployPollSchedule)}; a finished one runs the checks above once more`);
  for (const decision of selection.decisions.filter((d) => !d.run && d.reason !== 'not_selected')) lines.push(`  not run by the monitor: ${decision.id} (${decision.reason}: ${decision.message})`);
  return lines;
}

function formatInterval(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7_200) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 360) / 10} h`;
}

export interface CheckConfigOptions {
  env: NodeJS.ProcessEnv;
  /** `--embedded`: the target fields come from the local stack; the rest is validated. */
  embedded: boolean;
  mode: RunMode;
  write: WriteLine;
  writeError: WriteLine;
}

export function checkConfig(options: CheckConfigOptions): number {
  const { env, embedded, write, writeError } = options;
  const redact = createRedactor(rawSecrets(env));
  const loaded = loadConfig(embedded ? { ...env, ...EMBEDDED_PLACEHOLDERS } : env);
  if (!loaded.ok) {
    for (const line of formatIssues(loaded.issues, redact)) writeError(line);
    return 2;
  }
  if (embedded) {
    write('sentinel: the configuration is valid');
    write('target: the local reference stack (--embedded): `sentinel run --embedded` starts it, runs every check against it');
    write('  (mutations and the redeploy check included), stops it and exits');
    return 0;
  }
  const config = loaded.config;
  const out = (line: string) => write(redact(line));
  const selection = selectChecks({ mode: options.mode, config, embedded: false });
  const unvouched = unconfiguredChecks(options.mode, config, selection);
  out(unvouched.length ? 'sentinel: the configuration is valid, but not complete for this mode' : 'sentinel: the configuration is valid');
  out(`target: ${config.appUrl} (issuer ${config.issuer})`);
  out('effective configuration (secrets shown as [set]):');
  for (const line of effectiveConfigLines(config)) out(line);
  out(`checks enabled for \`sentinel run --mode ${options.mode}\`: ${selection.run.join(', ') || '(none)'}`);
  for (const decision of selection.decisions.filter((d) => !d.run)) out(`  skipped ${decision.id}: ${decision.reason}: ${decision.message}`);
  for (const line of monitorPlan(config)) out(line);
  if (unvouched.length === 0) return 0;
  writeError(`sentinel: a ${options.mode} run would exit 2: it cannot vouch for checks that are not configured:`);
  for (const line of unvouched) writeError(redact(line));
  return 2;
}
