/**
 * One redaction step, applied before anything leaves the process (reports, stdout, /status, logs).
 * Known secret values are replaced wherever they appear; credential-shaped substrings (URL
 * passwords, bearer tokens, Better Auth cookies) are masked even when their value is not known.
 */
export const REDACTED = '[REDACTED]';

const PATTERNS: Array<[RegExp, string]> = [
  // user:password@ in any URL
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)[^\s@/]+@/gi, `$1${REDACTED}@`],
  // Authorization: Bearer <token>
  [/(bearer\s+)[A-Za-z0-9._~+/|=-]{6,}/gi, `$1${REDACTED}`],
  // Better Auth cookies (any prefix) and their values
  [/((?:__Secure-)?better-auth\.(?:session_token|session_data|state|dont_remember|account_data)=)[^;\s"',]+/g, `$1${REDACTED}`],
  // password=… in a libpq conninfo or an environment assignment (PGPASSWORD=…), as dump and error output may show it
  [/\b((?:PG)?PASSWORD=)("[^"]*"|'[^']*'|[^\s,;&'"[][^\s,;&'"]*)/gi, `$1${REDACTED}`],
  // JSON-ish "password": "...", "token": "..."
  [/("(?:password|token|accessToken|refreshToken|idToken|access_token|refresh_token|id_token|code_verifier|session_token)"\s*:\s*")[^"]*"/gi, `$1${REDACTED}"`],
];

const JSON_LITERALS = new Set(['true', 'false', 'null']);

export type Redactor = {
  (text: string): string;
  /** Add values discovered at run time (a session token read during a check). */
  add(...values: Array<string | undefined>): void;
  deep<T>(value: T): T;
};

export function createRedactor(initial: readonly string[] = []): Redactor {
  const secrets = new Set<string>();
  const add = (...values: Array<string | undefined>) => {
    for (const value of values) {
      // A JSON literal is no secret (the redeploy command `true` is a no-op), and masking it would
      // corrupt every JSON report.
      if (!value || value.length < 4 || JSON_LITERALS.has(value)) continue;
      secrets.add(value);
      secrets.add(encodeURIComponent(value));
    }
  };
  add(...initial);

  const redact = ((text: string): string => {
    let out = text;
    // Longest first, so a secret that contains another is masked whole.
    for (const secret of [...secrets].sort((a, b) => b.length - a.length)) out = out.split(secret).join(REDACTED);
    for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
    return out;
  }) as Redactor;

  redact.add = add;
  redact.deep = <T>(value: T): T => deepRedact(value, redact) as T;
  return redact;
}

function deepRedact(value: unknown, redact: (text: string) => string): unknown {
  if (typeof value === 'string') return redact(value);
  if (Array.isArray(value)) return value.map((v) => deepRedact(v, redact));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, deepRedact(v, redact)]));
  }
  return value;
}

/** A URL without credentials, query or fragment: safe as a target label. */
export function safeTarget(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return '(invalid url)';
  }
}
