import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { endSession, endStoredSessions, sessionTokenOf, whoseSession, writeSessionTarget } from './sign-out.ts';
import { startBetterAuthFake, storedStateFor, type BetterAuthFake } from './test-support/better-auth-fake.ts';

let app: BetterAuthFake;
let dir: string | undefined;
beforeEach(async () => {
  app = await startBetterAuthFake();
});
afterEach(async () => {
  await app.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

const target = () => ({ appUrl: app.url, timeoutMs: 5_000 });

describe('endSession', () => {
  it('signs the stored session out with its cookie and the app origin, and checks the server forgot it', async () => {
    app.sessions.add('tokenAAAAAAAAAAAAAAAA');
    expect(await endSession(storedStateFor('tokenAAAAAAAAAAAAAAAA'), 'user 1', target())).toEqual({ who: 'user 1', ended: true });
    expect(app.sessions.size).toBe(0);
  });

  it('a session the server already forgot is ended; a state without a session cookie needs nothing', async () => {
    expect(await endSession(storedStateFor('goneBBBBBBBBBBBBBBBBB'), 'user 2', target())).toEqual({ who: 'user 2', ended: true });
    expect(await endSession({ cookies: [{ name: 'idp', value: 'x', domain: '127.0.0.1' }] }, 'user 3', target())).toEqual({ who: 'user 3', ended: true });
    expect(app.signOuts).toBe(1);
  });

  it('reports a sign-out that fails or keeps the session, never passes it', async () => {
    app.sessions.add('tokenCCCCCCCCCCCCCCCC');
    app.signOutBehaviour = 500;
    expect(await endSession(storedStateFor('tokenCCCCCCCCCCCCCCCC'), 'user 1', target())).toEqual({ who: 'user 1', ended: false, why: 'sign-out answered 500' });
    app.signOutBehaviour = 'keep';
    expect(await endSession(storedStateFor('tokenCCCCCCCCCCCCCCCC'), 'user 1', target())).toEqual({ who: 'user 1', ended: false, why: 'the session is still valid after sign-out' });
    await app.close();
    const refused = await endSession(storedStateFor('tokenCCCCCCCCCCCCCCCC'), 'user 1', target());
    expect(refused).toEqual({ who: 'user 1', ended: false, why: 'sign-out failed: ECONNREFUSED' });
    app = await startBetterAuthFake();
  });

  it('only the app host\'s session cookie counts', () => {
    const state = storedStateFor('tokenDDDDDDDDDDDDDDDD', [{ name: 'better-auth.session_token', value: 'other', domain: 'elsewhere.example' }]);
    expect(sessionTokenOf(state, app.url)).toBe('tokenDDDDDDDDDDDDDDDD.c2lnbmF0dXJl');
    expect(sessionTokenOf(state, 'https://elsewhere.example')).toBe('other');
    expect(sessionTokenOf(state, 'https://unrelated.example')).toBeUndefined();
  });
});

describe('endStoredSessions', () => {
  it('ends every stored session of a state folder, deletes those ended and keeps the rest for a later try', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'sign-out-'));
    app.sessions.add('user1EEEEEEEEEEEEEEEE');
    app.sessions.add('openFFFFFFFFFFFFFFFFF');
    await writeFile(path.join(dir, 'user-1.json'), JSON.stringify(storedStateFor('user1EEEEEEEEEEEEEEEE')));
    await writeFile(path.join(dir, 'open-session-e2e-login-1a2b3c4d.json'), JSON.stringify(storedStateFor('openFFFFFFFFFFFFFFFFF')));
    await writeFile(path.join(dir, 'user-2.json'), '{ half written');
    await writeFile(path.join(dir, 'tokens.jsonl'), '"x"\n');
    await writeSessionTarget(dir, target());
    const outcomes = await endStoredSessions(dir);
    expect(outcomes).toEqual([
      { who: 'the session e2e-login signed in', ended: true },
      { who: "user 1's stored session", ended: true },
      { who: "user 2's stored session", ended: false, why: expect.stringMatching(/^its stored state cannot be read/) },
    ]);
    expect(app.sessions.size).toBe(0);
    expect((await readdir(dir)).sort()).toEqual(['session-target.json', 'tokens.jsonl', 'user-2.json']);
  });

  it('without a known app nothing is tried, and that is reported', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'sign-out-'));
    await writeFile(path.join(dir, 'user-1.json'), JSON.stringify(storedStateFor('user1GGGGGGGGGGGGGGGG')));
    expect(await endStoredSessions(dir)).toEqual([{ who: "user 1's stored session", ended: false, why: 'the app it belongs to is unknown' }]);
    expect(app.signOuts).toBe(0);
  });

  it('names whose session a file holds', () => {
    expect(whoseSession('/x/user-2.json')).toBe("user 2's stored session");
    expect(whoseSession('open-session-setup-ab12.json')).toBe('the session setup signed in');
  });
});
