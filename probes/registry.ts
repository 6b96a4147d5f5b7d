/** Check id → probe. Adding a probe touches this map, core/result.ts's id list and the new file. */
import type { ProbeCheckId } from '../core/result.ts';
import { appHealthProbe } from './app-health.ts';
import { backupsProbe } from './backups.ts';
import { coolifyResourcesProbe } from './coolify-resources.ts';
import { dbProbe } from './db.ts';
import { exposureProbe } from './exposure.ts';
import { idpHealthProbe } from './idp-health.ts';
import { idpTokenProbe } from './idp-token.ts';
import { loginV2RedirectProbe } from './login-v2-redirect.ts';
import { oidcDiscoveryProbe } from './oidc-discovery.ts';
import { tlsProbe } from './tls.ts';
import type { ProbeFn } from './types.ts';

export const probes = {
  tls: tlsProbe,
  'app-health': appHealthProbe,
  'oidc-discovery': oidcDiscoveryProbe,
  'login-v2-redirect': loginV2RedirectProbe,
  db: dbProbe,
  'coolify-resources': coolifyResourcesProbe,
  backups: backupsProbe,
  'idp-token': idpTokenProbe,
  'idp-health': idpHealthProbe,
  exposure: exposureProbe,
} satisfies Record<ProbeCheckId, ProbeFn>;
