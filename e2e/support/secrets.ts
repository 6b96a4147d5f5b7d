/**
 * Secret values seen at run time (session cookies, IdP cookies) are appended to e2e/.auth/tokens.jsonl,
 * one JSON string per line, from any worker; the teardown and the reporter redact them by exact value.
 */
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { BrowserContext } from '@playwright/test';
import { AUTH_DIR } from './config.ts';

export const TOKENS_FILE = path.join(AUTH_DIR, 'tokens.jsonl');

export function recordSecrets(values: Iterable<string | undefined>): void {
  const lines: string[] = [];
  for (const value of values) {
    if (!value || value.length < 8) continue;
    lines.push(JSON.stringify(value));
    let decoded = value;
    try {
      decoded = decodeURIComponent(value);
    } catch {
      // not URL-encoded
    }
    if (decoded !== value) lines.push(JSON.stringify(decoded));
    // A signed Better Auth cookie is "<token>.<signature>"; the bare token is what get-session and the DB show.
    const token = decoded.split('.')[0];
    if (token && token.length >= 16 && token !== decoded) lines.push(JSON.stringify(token));
  }
  if (lines.length === 0) return;
  mkdirSync(AUTH_DIR, { recursive: true });
  appendFileSync(TOKENS_FILE, `${lines.join('\n')}\n`);
}

/** Every cookie value the context holds, for every host (app session, cookie cache, IdP session). */
export async function recordContextCookies(context: BrowserContext): Promise<void> {
  const cookies = await context.cookies();
  recordSecrets(cookies.map((cookie) => cookie.value));
}

export function readRecordedSecrets(file: string = TOKENS_FILE): string[] {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as string);
  } catch {
    return [];
  }
}
