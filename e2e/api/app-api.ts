/**
 * Request helpers over a Playwright APIRequestContext that shares the browser context's cookies
 * (`page.request`): Better Auth session calls and oRPC calls (docs/target-contract.md §4.3, §6.1). Non-GET calls that
 * carry cookies need the app's Origin (docs/target-contract.md §3.7).
 */
import type { APIRequestContext } from '@playwright/test';
import type { Config } from '../../core/config.ts';

export interface SessionInfo {
  session: { id: string; token?: string; userId: string; expiresAt: string };
  user: { id: string; name: string; email: string };
}

export interface GadgetBot {
  id: string;
  name: string;
  type: string;
  batteryLife: number;
  createdAt: string;
}

export class AppApi {
  constructor(private readonly request: APIRequestContext, private readonly config: Config) {}

  private get origin(): string {
    return new URL(this.config.appUrl).origin;
  }

  private url(pathname: string): string {
    return `${this.config.appUrl}${pathname}`;
  }

  /** The DB's view of the session (the 5-minute cookie cache bypassed, docs/target-contract.md §4.4). */
  async getSession(): Promise<SessionInfo | null> {
    const response = await this.request.get(this.url('/api/auth/get-session?disableCookieCache=true'), {
      timeout: this.config.timeouts.actionMs,
      headers: { accept: 'application/json' },
    });
    if (response.status() !== 200) throw new Error(`get-session answered ${response.status()}`);
    return (await response.json()) as SessionInfo | null;
  }

  /** Sends only the given Cookie header: how a stolen old token would be replayed. */
  async getSessionWithCookie(cookieHeader: string): Promise<SessionInfo | null> {
    const response = await this.request.get(this.url('/api/auth/get-session?disableCookieCache=true'), {
      timeout: this.config.timeouts.actionMs,
      headers: { accept: 'application/json', cookie: cookieHeader },
    });
    if (response.status() !== 200) throw new Error(`get-session answered ${response.status()}`);
    return (await response.json()) as SessionInfo | null;
  }

  /** Ends the app session server-side (sessions pile up otherwise, docs/target-contract.md §4.6). */
  async signOut(): Promise<number> {
    const response = await this.request.post(this.url('/api/auth/sign-out'), {
      timeout: this.config.timeouts.actionMs,
      headers: { origin: this.origin, 'content-type': 'application/json' },
      data: {},
    });
    return response.status();
  }

  async rpc<T>(procedure: string, input: unknown): Promise<T> {
    const response = await this.request.post(this.url(`/api/rpc/${procedure}`), {
      timeout: this.config.timeouts.actionMs,
      headers: { origin: this.origin, 'content-type': 'application/json' },
      data: { json: input },
    });
    if (response.status() !== 200) throw new Error(`oRPC ${procedure} answered ${response.status()}`);
    const body = (await response.json()) as { json: T };
    return body.json;
  }

  listBots(): Promise<GadgetBot[]> {
    return this.rpc<GadgetBot[]>('gadgetbots/list', {});
  }

  deleteBot(id: string): Promise<GadgetBot> {
    return this.rpc<GadgetBot>('gadgetbots/deleteById', { id });
  }

  /** Deletes every bot with exactly this name; returns how many went. */
  async deleteBotsNamed(name: string): Promise<number> {
    const bots = (await this.listBots()).filter((bot) => bot.name === name);
    for (const bot of bots) await this.deleteBot(bot.id);
    return bots.length;
  }
}

/**
 * Removes bots our runs left behind: the configured prefix, older than `sweepAfterMinutes`
 * (README.md, "Modes": the sweep of prefixed leftovers). Uses the session of `request`. Returns the number deleted.
 */
export async function sweepLeftovers(request: APIRequestContext, config: Config, now: Date = new Date()): Promise<number> {
  const api = new AppApi(request, config);
  const cutoff = now.getTime() - config.sweepAfterMinutes * 60_000;
  const stale = (await api.listBots()).filter((bot) => bot.name.startsWith(`${config.botPrefix}-`) && Date.parse(bot.createdAt) < cutoff);
  for (const bot of stale) await api.deleteBot(bot.id);
  return stale.length;
}
