/**
 * The monitor's config against a running reference stack: the stack's targets, CA, users, Coolify
 * resources, service user and firewall stand-in (as envFromStackInfo hands them over), every probe.
 * Each test adds its own reports folder, schedules and extras (top-level keys replace).
 */
import { configSchema, type Config, type ConfigInput } from '../../../core/config.ts';
import { PROBE_CHECK_IDS } from '../../../core/result.ts';
import type { StackInfo } from '../../embedded-stack.ts';

export function stackMonitorConfig(info: StackInfo, overrides: Partial<ConfigInput>): Config {
  return configSchema.parse({
    appUrl: info.appUrl,
    issuer: info.issuer,
    loginBasePath: info.loginBasePath,
    clientId: info.clientId,
    databaseUrl: info.databaseUrl,
    migrationsPath: info.migrationsPath,
    tls: { hosts: info.tlsHosts, caCertPath: info.caCertPath },
    exposure: { hosts: info.exposure.hosts, closedPorts: info.exposure.closedPorts, ...(info.exposure.httpUrls.length ? { httpUrls: info.exposure.httpUrls } : {}) },
    users: info.users,
    coolify: {
      url: info.coolifyUrl,
      token: info.coolifyToken,
      appUuid: info.coolifyAppUuid,
      zitadelUuid: info.coolifyZitadelUuid,
      appDbUuid: info.coolifyAppDbUuid,
      zitadelDbUuid: info.coolifyZitadelDbUuid,
    },
    ...(info.machineUser ? { idpToken: { clientId: info.machineUser.clientId, clientSecret: info.machineUser.clientSecret } } : {}),
    checks: [...PROBE_CHECK_IDS],
    ...overrides,
  });
}
