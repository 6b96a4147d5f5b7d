/** Check id → probe. Adding a probe touches this map, core/result.ts's id list and the new file. */
import type { ProbeCheckId } from '../core/result.ts';
import { appHealthProbe } from './app-health.ts';
import { dbProbe } from './db.ts';
import { exposureProbe } from './exposure.ts';
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
  exposure: exposureProbe,
} satisfies Record<ProbeCheckId, ProbeFn>;
