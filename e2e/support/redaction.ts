/**
 * The redactor for this run: configured secrets plus every secret recorded at run time, in all the
 * forms they take in artifacts. Recorded values are kept in process memory too, because the global
 * teardown deletes e2e/.auth before the reporters finish (the HTML report is written last).
 */
import { collectSecrets, type Config } from '../../core/config.ts';
import { createRedactor, type Redactor } from '../../core/redact.ts';
import { secretVariants } from '../../core/scrub.ts';
import { readRecordedSecrets } from './secrets.ts';

const STASH = Symbol.for('gadgetbot-sentinel.e2e.recordedSecrets');
type Stash = { [STASH]?: Set<string> };

export function rememberRecordedSecrets(): string[] {
  const holder = globalThis as Stash;
  holder[STASH] ??= new Set<string>();
  for (const value of readRecordedSecrets()) holder[STASH].add(value);
  return [...holder[STASH]];
}

export function runRedactor(config: Config): Redactor {
  return createRedactor(secretVariants([...collectSecrets(config), ...rememberRecordedSecrets()]));
}
