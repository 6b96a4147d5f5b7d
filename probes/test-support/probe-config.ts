/** A parsed Config for probe tests, through the one schema (so defaults are the real ones). */
import { configSchema, type Config, type ConfigInput } from '../../core/config.ts';

export function testConfig(input: Partial<ConfigInput> & Pick<ConfigInput, 'appUrl' | 'issuer'>): Config {
  return configSchema.parse(input);
}
