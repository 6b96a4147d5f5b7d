import type { Cookie } from '@playwright/test';
import { describe, expect, it } from 'vitest';
import { judgeSessionCookies, sessionCookieAttributes } from './session-cookies.ts';

const cookie = (name: string, extra: Partial<Cookie> = {}): Cookie => ({
  name,
  value: 'token.signature-never-reported',
  domain: 'gadgetbot.vellandi.net',
  path: '/',
  expires: 1_800_000_000,
  httpOnly: true,
  secure: true,
  sameSite: 'Lax',
  ...extra,
});

const APP = 'https://gadgetbot.vellandi.net';

describe('session cookies as the browser stored them', () => {
  it('keeps the session token and data cookies, attributes only, never a value', () => {
    const attributes = sessionCookieAttributes([
      cookie('__Secure-better-auth.session_token'),
      cookie('__Secure-better-auth.session_data', { expires: -1 }),
      cookie('__Secure-better-auth.state'),
      cookie('sessions', { domain: 'auth.vellandi.net' }),
    ]);
    expect(attributes).toEqual([
      { name: '__Secure-better-auth.session_data', secure: true, httpOnly: true, sameSite: 'Lax', path: '/', domain: 'gadgetbot.vellandi.net', expires: 'session' },
      { name: '__Secure-better-auth.session_token', secure: true, httpOnly: true, sameSite: 'Lax', path: '/', domain: 'gadgetbot.vellandi.net', expires: new Date(1_800_000_000_000).toISOString() },
    ]);
    expect(JSON.stringify(attributes)).not.toContain('never-reported');
  });

  it('passes Secure + HttpOnly session cookies over https', () => {
    expect(judgeSessionCookies(sessionCookieAttributes([cookie('__Secure-better-auth.session_token'), cookie('__Secure-better-auth.session_data')]), APP)).toBeUndefined();
  });

  it('fails cookie_insecure naming each cookie and each missing flag', () => {
    const cookies = sessionCookieAttributes([
      cookie('__Secure-better-auth.session_token', { httpOnly: false }),
      cookie('better-auth.session_data', { secure: false, httpOnly: false }),
    ]);
    expect(judgeSessionCookies(cookies, APP)).toEqual({
      reason: 'cookie_insecure',
      message: 'session cookie over https: __Secure-better-auth.session_token lacks HttpOnly; better-auth.session_data lacks Secure and HttpOnly',
    });
  });

  it('a sign-in that left no session token cookie is an assertion failure, not a pass', () => {
    expect(judgeSessionCookies([], APP)?.reason).toBe('assertion');
  });

  it('judges nothing over plain http (no cookie can be Secure there)', () => {
    expect(judgeSessionCookies(sessionCookieAttributes([cookie('better-auth.session_token', { secure: false, httpOnly: false })]), 'http://localhost:3001')).toBeUndefined();
  });
});
