/**
 * The parsed suite configuration for Playwright (config file, fixtures, reporter, teardown).
 * Everything reads it through here, so a bad environment fails once with one clear message.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { internalVariables, loadConfig, type Config } from '../../core/config.ts';

export const E2E_DIR = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
/**
 * Stored browser state and run-time secrets, deleted after the run. The runner hands every run its
 * own folder (INTERNAL_VARIABLES.stateDir) so a monitor and a post-deploy run never share sign-ins; a
 * bare `npx playwright test` uses the gitignored e2e/.auth.
 */
export const RUNNER_STATE_DIR = internalVariables(process.env).stateDir;
export const AUTH_DIR = RUNNER_STATE_DIR ? path.resolve(RUNNER_STATE_DIR) : path.join(E2E_DIR, '.auth');

export function loadSentinelConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const result = loadConfig(env);
  if (result.ok) return result.config;
  const problems = result.issues.map((issue) => `${issue.variable ?? issue.path}: ${issue.message}`).join('; ');
  throw new Error(`sentinel e2e: the configuration is unusable (${problems})`);
}

export function reportsDirOf(config: Config): string {
  return path.resolve(config.reportsDir);
}

/** Storage-state file of the n-th configured user (1-based, as the setup test titles say). */
export function storageStatePath(userNumber: number): string {
  return path.join(AUTH_DIR, `user-${userNumber}.json`);
}

/** The Better Auth session cookie name: `__Secure-` prefix when the app is served over https (docs/target-contract.md §4.1). */
export function sessionCookieName(config: Config): string {
  return config.appUrl.startsWith('https:') ? '__Secure-better-auth.session_token' : 'better-auth.session_token';
}
