/**
 * The user-facing error of the suite: bad configuration or an unusable environment.
 * The CLI prints `message` (one line, or one line per problem) and exits 2; never a stack for these.
 */
export type SentinelErrorCode =
  | 'config_invalid'
  | 'not_configured'
  | 'usage'
  | 'no_browser'
  | 'stack_failed'
  | 'environment'
  | 'coolify_unauthorized'
  | 'coolify_forbidden'
  | 'coolify_not_found'
  | 'coolify_endpoint_missing'
  | 'coolify_method'
  | 'coolify_unreachable'
  | 'coolify_bad_response'
  | 'coolify_timeout'
  | 'coolify_deploy_failed'
  | 'redeploy_failed'
  | 'redeploy_timeout';

export class SentinelError extends Error {
  readonly code: SentinelErrorCode;
  constructor(code: SentinelErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SentinelError';
    this.code = code;
  }
}

export function isSentinelError(error: unknown): error is SentinelError {
  return error instanceof SentinelError;
}
