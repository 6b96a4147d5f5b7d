/** Test helpers: a parsed Config from SENTINEL_* variables, failing loudly when the fixture itself is invalid. */
import { loadConfig, type Config } from '../../core/config.ts';

export const BASE_ENV = {
  SENTINEL_APP_URL: 'https://gadgetbot.example.test',
  SENTINEL_ISSUER: 'https://auth.example.test',
  SENTINEL_USER: 'sentinel@example.test',
  SENTINEL_PASSWORD: 'pw-Zq8-SECRET-7731',
  SENTINEL_IDP_TOKEN_CLIENT_ID: 'sentinel-token-probe',
  SENTINEL_IDP_TOKEN_CLIENT_SECRET: 'svc-SECRET-Yk2p9Qw41',
} as const;

export function configFrom(env: Record<string, string | undefined>, overrides: Record<string, unknown> = {}): Config {
  const loaded = loadConfig(env as NodeJS.ProcessEnv, overrides);
  if (!loaded.ok) throw new Error(`test config invalid: ${JSON.stringify(loaded.issues)}`);
  return loaded.config;
}
