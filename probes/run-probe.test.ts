import { describe, expect, it } from 'vitest';
import { REDACTED } from '../core/redact.ts';
import { PROBE_CHECK_IDS } from '../core/result.ts';
import { probeResult } from './probe-result.ts';
import { checkTarget, defaultTlsHosts } from '../core/targets.ts';
import { runWithDeadline } from './run-probe.ts';
import { runProbes } from './test-support/run-probes.ts';
import { probes } from './registry.ts';
import { testConfig } from './test-support/probe-config.ts';
import type { ProbeFn } from './types.ts';

const config = testConfig({
  appUrl: 'https://app.example.com',
  issuer: 'https://auth.example.com',
  databaseUrl: 'postgresql://gadgetbot_admin:s3cret-db-pass@db.internal:5432/gadgetbot',
  users: [{ loginName: 'demo', password: 'Demo777-secret' }],
  coolify: { url: 'https://coolify.example.com:8443', token: 'coolify-token-123456', appUuid: 'abc' },
});

describe('runWithDeadline', () => {
  it('yields failed/timeout at the deadline even when the probe ignores its signal', async () => {
    const stubborn: ProbeFn = () => new Promise(() => undefined);
    const started = Date.now();
    const result = await runWithDeadline('app-health', stubborn, config, { timeoutMs: 300 });
    const elapsed = Date.now() - started;
    expect(result).toMatchObject({ id: 'app-health', kind: 'probe', status: 'failed', reason: 'timeout' });
    expect(elapsed).toBeGreaterThanOrEqual(295);
    expect(elapsed).toBeLessThan(300 + 1_500);
    expect(result.durationMs).toBeGreaterThanOrEqual(295);
  });

  it('aborts the signal at the deadline with a TimeoutError', async () => {
    let seen: unknown;
    const listening: ProbeFn = (_config, ctx) =>
      new Promise((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject((seen = ctx.signal.reason))));
    const result = await runWithDeadline('tls', listening, config, { timeoutMs: 100 });
    expect(result.reason).toBe('timeout');
    expect((seen as DOMException).name).toBe('TimeoutError');
  });

  it('never throws: a thrown error becomes a classified failure', async () => {
    const throwing: ProbeFn = () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND app.example.com'), { code: 'ENOTFOUND' });
    };
    const result = await runWithDeadline('app-health', throwing, config, { timeoutMs: 1000 });
    expect(result).toMatchObject({ status: 'failed', reason: 'dns', message: 'getaddrinfo ENOTFOUND app.example.com' });
  });

  it('fills id, kind, startedAt, durationMs and target, and redacts every secret', async () => {
    const leaky: ProbeFn = async () =>
      probeResult('db', {
        status: 'failed',
        reason: 'db_auth',
        message: `password authentication failed (s3cret-db-pass) for ${config.databaseUrl}`,
        observations: { note: 'Demo777-secret coolify-token-123456', nested: { url: 'postgresql://u:other-pass@h/db' } },
      });
    const now = () => new Date('2026-01-02T03:04:05.000Z');
    const result = await runWithDeadline('db', leaky, config, { timeoutMs: 1000, now });
    expect(result.startedAt).toBe('2026-01-02T03:04:05.000Z');
    expect(result.target).toBe('db.internal:5432/gadgetbot');
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
    const text = JSON.stringify(result);
    for (const secret of ['s3cret-db-pass', 'Demo777-secret', 'coolify-token-123456', 'other-pass']) expect(text).not.toContain(secret);
    expect(result.message).toContain(REDACTED);
  });

  it('drops a reason from a passed result and gives a reasonless failure "unexpected"', async () => {
    const passedWithReason: ProbeFn = async () => ({ ...probeResult('tls', { status: 'passed' }), reason: 'timeout' });
    expect((await runWithDeadline('tls', passedWithReason, config)).reason).toBeUndefined();
    const bareFailure: ProbeFn = async () => probeResult('tls', { status: 'failed' });
    expect((await runWithDeadline('tls', bareFailure, config)).reason).toBe('unexpected');
  });
});

describe('runProbes', () => {
  it('runs the given probes and keeps their order (db skipped without a URL: never passed)', async () => {
    const local = testConfig({ appUrl: 'http://127.0.0.1:1', issuer: 'http://127.0.0.1:2' });
    const results = await runProbes(['db', 'tls'], local, { concurrency: 1, timeoutMs: 2000 });
    expect(results.map((r) => [r.id, r.status, r.reason])).toEqual([
      ['db', 'skipped', 'not_configured'],
      ['tls', 'skipped', 'not_configured'],
    ]);
  });
});

describe('registry and targets', () => {
  it('has one probe per probe check id', () => {
    expect(Object.keys(probes).sort()).toEqual([...PROBE_CHECK_IDS].sort());
  });

  it('defaults the TLS hosts to the app, IdP and Coolify https hosts', () => {
    expect(defaultTlsHosts(config)).toEqual(['app.example.com:443', 'auth.example.com:443', 'coolify.example.com:8443']);
    expect(checkTarget('tls', config)).toBe('app.example.com:443,auth.example.com:443,coolify.example.com:8443');
    expect(checkTarget('oidc-discovery', config)).toBe('https://auth.example.com');
    expect(checkTarget('login-v2-redirect', config)).toBe('https://app.example.com');
  });
});
