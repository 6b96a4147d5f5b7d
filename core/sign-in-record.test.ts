import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { SIGN_IN_LIMIT } from './sign-in-limit.ts';
import { SignInSlotTimeout, claimSignInSlot, signInRecordPath } from './sign-in-record.ts';

const APP = 'https://gadgetbot.example.test';
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sentinel-sign-in-record-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the shared sign-in record', () => {
  test('grants the limit at once, then refuses a slot it cannot grant before the deadline, without waiting for nothing', async () => {
    for (let i = 0; i < SIGN_IN_LIMIT.max; i++) expect(await claimSignInSlot(APP, { timeoutMs: 1_000, dir })).toBeLessThan(1_000);
    const started = Date.now();
    const refused = await claimSignInSlot(APP, { timeoutMs: 1_000, dir }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(SignInSlotTimeout);
    expect((refused as SignInSlotTimeout).neededMs).toBeGreaterThan(SIGN_IN_LIMIT.windowMs - 1_000);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(JSON.parse(await readFile(signInRecordPath(APP, dir), 'utf8'))).toHaveLength(SIGN_IN_LIMIT.max);
  });

  test('another process\'s sign-ins against the same app count; another app has its own record', async () => {
    const module = fileURLToPath(new URL('./sign-in-record.ts', import.meta.url));
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `const { claimSignInSlot } = await import(${JSON.stringify(module)}); for (let i = 0; i < 2; i++) await claimSignInSlot(${JSON.stringify(APP)}, { timeoutMs: 1000, dir: ${JSON.stringify(dir)} });`], { encoding: 'utf8', timeout: 30_000 });
    expect(child.status, child.stderr).toBe(0);
    expect(await claimSignInSlot(APP, { timeoutMs: 1_000, dir })).toBeLessThan(1_000);
    await expect(claimSignInSlot(APP, { timeoutMs: 1_000, dir })).rejects.toBeInstanceOf(SignInSlotTimeout);
    // a path of the app does not matter, only its origin
    await expect(claimSignInSlot(`${APP}/admin`, { timeoutMs: 1_000, dir })).rejects.toBeInstanceOf(SignInSlotTimeout);
    expect(await claimSignInSlot('https://other.example.test', { timeoutMs: 1_000, dir })).toBeLessThan(1_000);
  });

  test('a lock left by a process that died holding it is taken over; an abort ends the wait', async () => {
    const record = signInRecordPath(APP, dir);
    await claimSignInSlot(APP, { timeoutMs: 1_000, dir });
    await writeFile(`${record}.lock`, '');
    const old = new Date(Date.now() - 60_000);
    await utimes(`${record}.lock`, old, old);
    expect(await claimSignInSlot(APP, { timeoutMs: 2_000, dir })).toBeLessThan(2_000);
    await writeFile(`${record}.lock`, ''); // a live holder
    const controller = new AbortController();
    const waiting = claimSignInSlot(APP, { timeoutMs: 10_000, dir, signal: controller.signal });
    controller.abort(new Error('stopped'));
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
  });
});
