/**
 * A double of Better Auth's session endpoints for unit tests (node:http on 127.0.0.1:0), with the
 * behaviour the suite relies on (Better Auth's api/routes/sign-out.ts and session.ts, its origin
 * check): `POST /api/auth/sign-out` needs a trusted `Origin` when it carries cookies (403 otherwise),
 * deletes the session of the signed `session_token` cookie and answers `{"success":true}`;
 * `GET /api/auth/get-session` answers `null` for an unknown session. The stack's stand-in
 * (fixtures/stack, on the real Better Auth) is the integration double.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface BetterAuthFake {
  url: string;
  /** live session tokens (the part before the signature) */
  sessions: Set<string>;
  /** `ok`, a status to answer sign-out with, or `keep` (answers 200 but keeps the session) */
  signOutBehaviour: 'ok' | 'keep' | number;
  signOuts: number;
  close(): Promise<void>;
}

const SESSION_COOKIE = /(?:^|;\s*)(?:__Secure-)?better-auth\.session_token=([^;]+)/;

function tokenOf(req: IncomingMessage): string | undefined {
  const value = SESSION_COOKIE.exec(req.headers.cookie ?? '')?.[1];
  return value ? decodeURIComponent(value).split('.')[0] : undefined;
}

export async function startBetterAuthFake(): Promise<BetterAuthFake> {
  const fake = { sessions: new Set<string>(), signOutBehaviour: 'ok', signOuts: 0 } as BetterAuthFake;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on('end', () => {
      const json = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      const url = new URL(req.url ?? '/', fake.url);
      if (req.method === 'POST' && url.pathname === '/api/auth/sign-out') {
        fake.signOuts += 1;
        if (req.headers.cookie && req.headers.origin !== new URL(fake.url).origin) return json(403, { code: 'MISSING_OR_NULL_ORIGIN', message: 'Missing or null Origin' });
        if (typeof fake.signOutBehaviour === 'number') return json(fake.signOutBehaviour, { message: 'error' });
        const token = tokenOf(req);
        if (token && fake.signOutBehaviour === 'ok') fake.sessions.delete(token);
        return json(200, { success: true });
      }
      if (req.method === 'GET' && url.pathname === '/api/auth/get-session') {
        const token = tokenOf(req);
        return json(200, token && fake.sessions.has(token) ? { session: { id: 's', userId: 'u', expiresAt: '' }, user: { id: 'u' } } : null);
      }
      json(404, { message: 'not found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.close = () => new Promise((resolve) => server.close(() => resolve()));
  return fake;
}

/** A Playwright storage state holding one signed session cookie for the fake's host. */
export function storedStateFor(token: string, extra: Array<{ name: string; value: string; domain: string }> = []) {
  return { cookies: [{ name: 'better-auth.session_token', value: `${token}.c2lnbmF0dXJl`, domain: '127.0.0.1', path: '/' }, ...extra], origins: [] };
}
