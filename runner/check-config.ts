/**
 * `sentinel check-config`: every configuration problem at once (path + variable), or the effective
 * configuration with secrets masked, the checks it enables and why the others are skipped.
 * Nothing here prints a secret value: secrets are masked as `[set]`, and every line passes the
 * redactor built from the raw secret inputs (which exist even when the configuration is invalid).
 */
import { readFileSync } from 'node:fs';
import { ENV_VARS, SECRET_PATHS, loadConfig, type Config, type ConfigIssue } from '../core/config.ts';
import { createRedactor, type Redactor } from '../core/redact.ts';
import type { WriteLine } from './reporters/types.ts';
import { selectChecks, type RunMode } from './select.ts';

const SECRET_SET = new Set<string>(SECRET_PATHS);

/** Secret values as given (env and config file), before any validation. */
export function rawSecrets(env: NodeJS.ProcessEnv): string[] {
  const values: string[] = [];
  for (const [variable, path] of Object.entries(ENV_VARS)) {
    const value = env[variable];
    if (SECRET_SET.has(path) && value) values.push(value);
  }
  if (env.SENTINEL_CONFIG) {
    try {
      const file = JSON.parse(readFileSync(env.SENTINEL_CONFIG, 'utf8')) as Record<string, unknown>;
      for (const path of SECRET_PATHS) {
        const value = path.split('.').reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), file);
        if (typeof value === 'string' && value) values.push(value);
      }
      // A database URL's password may appear on its own in a message.
      for (const value of [...values]) {
        if (/^postgres(ql)?:\/\//.test(value)) {
          try {
            values.push(decodeURIComponent(new URL(value).password));
          } catch {
            // not a URL: redacted whole above
          }
        }
      }
    } catch {
      // an unreadable or malformed file is reported by loadConfig
    }
  }
  return values;
}

/** The variable that sets this path, or the one that sets its list (`checks.1` → SENTINEL_CHECKS). */
function variableOf(issue: ConfigIssue): string | undefined {
  if (issue.variable) return issue.variable;
  const parent = issue.path.replace(/\.\d+$/, '');
  return Object.entries(ENV_VARS).find(([, p]) => p === parent)?.[0];
}

/** `- tls.warnDays (SENTINEL_TLS_WARN_DAYS): tls.warnDays must be a number` */
export function formatIssue(issue: ConfigIssue): string {
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

// Stand-in target values used only to validate the remaining settings when the embedded stack is the target.
const EMBEDDED_PLACEHOLDERS = { SENTINEL_APP_URL: 'https://localhost', SENTINEL_ISSUER: 'https://127.0.0.1' };

export interface CheckConfigOptions {
  env: NodeJS.ProcessEnv;
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
    write('target: none configured (SENTINEL_APP_URL, SENTINEL_ISSUER, SENTINEL_CONFIG are unset), so the embedded local stack is the target:');
    write('  `sentinel run` starts it, runs every check against it (mutations and the redeploy check included), stops it and exits');
    return 0;
  }
  const config = loaded.config;
  const out = (line: string) => write(redact(line));
  out('sentinel: the configuration is valid');
  out(`target: ${config.appUrl} (issuer ${config.issuer})`);
  out('effective configuration (secrets shown as [set]):');
  for (const line of effectiveConfigLines(config)) out(line);
  const selection = selectChecks({ mode: options.mode, config, embedded: false });
  out(`checks enabled for \`sentinel run --mode ${options.mode}\`: ${selection.run.join(', ') || '(none)'}`);
  for (const decision of selection.decisions.filter((d) => !d.run)) out(`  skipped ${decision.id}: ${decision.reason}: ${decision.message}`);
  return 0;
}
