/**
 * Live news from a running check to the operator: a step line while a long step waits ("waiting 6 s
 * for the sign-in limit", "redeploying through Coolify…"). Written to the test's stdout with a prefix;
 * e2e/reporter.ts forwards such lines to the runner, which prints them as they come.
 */
export const PROGRESS_PREFIX = 'sentinel-progress: ';

export function progress(line: string): void {
  process.stdout.write(`${PROGRESS_PREFIX}${line}\n`);
}
