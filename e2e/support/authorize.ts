/** What the authorize request must carry (contract §5 step 3), checked on the URL the browser really followed. */
import type { Config } from '../../core/config.ts';
import type { Reason } from '../../core/result.ts';

export interface AuthorizeProblem {
  reason: Reason;
  message: string;
}

export function authorizeEndpoint(config: Config): string {
  return `${config.issuer}/oauth/v2/authorize`;
}

export function expectedRedirectUri(config: Config): string {
  return `${config.appUrl}/api/auth/callback/zitadel`;
}

export function isAuthorizeUrl(url: string, config: Config): boolean {
  return url.startsWith(`${authorizeEndpoint(config)}?`);
}

export function inspectAuthorizeUrl(url: string, config: Config): AuthorizeProblem | undefined {
  const params = new URL(url).searchParams;
  const redirectUri = params.get('redirect_uri');
  if (redirectUri !== expectedRedirectUri(config)) {
    return { reason: 'redirect_uri_mismatch', message: `authorize redirect_uri is ${redirectUri ?? '(missing)'}, expected ${expectedRedirectUri(config)}` };
  }
  const clientId = params.get('client_id');
  if (!clientId || (config.clientId !== undefined && clientId !== config.clientId)) {
    return { reason: 'authorize_mismatch', message: `authorize client_id is ${clientId ?? '(missing)'}, expected ${config.clientId ?? 'a client id'}` };
  }
  if (params.get('code_challenge_method') !== 'S256' || !params.get('code_challenge')) {
    return { reason: 'authorize_mismatch', message: `authorize code_challenge_method is ${params.get('code_challenge_method') ?? '(missing)'}, expected S256 with a code_challenge` };
  }
  if (params.get('response_type') !== 'code') {
    return { reason: 'authorize_mismatch', message: `authorize response_type is ${params.get('response_type') ?? '(missing)'}, expected code` };
  }
  const scopes = (params.get('scope') ?? '').split(' ');
  const missing = config.scopes.filter((scope) => !scopes.includes(scope));
  if (missing.length > 0) return { reason: 'authorize_mismatch', message: `authorize scope lacks ${missing.join(' ')}` };
  return undefined;
}

export function isClassicLoginUrl(url: string, config: Config): boolean {
  return url.startsWith(`${config.issuer}/ui/login/`);
}

export function isLoginV2Url(url: string, config: Config): boolean {
  return url.startsWith(`${config.issuer}${config.loginBasePath}/`);
}
