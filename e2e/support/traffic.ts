/**
 * What the browser did, recorded from Playwright events: main-frame navigations (every redirect hop,
 * and client-side route changes, with Chromium's error when one failed), responses of the app's auth
 * and RPC endpoints, and alert()s.
 * Specs assert on it; flows use it to explain a stuck sign-in.
 */
import type { Dialog, Page, Request, Response } from '@playwright/test';
import { retryAfterMs } from '../../core/sign-in-limit.ts';

export interface NavigationHop {
  url: string;
  /** HTTP status, when the hop was a network navigation that got a response */
  status?: number;
  /** the page actually showed this URL (a request alone may still be redirected or aborted) */
  committed: boolean;
  atMs: number;
  /** Chromium's error when the request failed without a response, e.g. `net::ERR_CONNECTION_REFUSED` */
  failure?: string;
}

export interface ApiCall {
  method: string;
  url: string;
  status: number;
  /** on a 429: the wait the answer states (Retry-After / X-Retry-After), else the known window */
  retryAfterMs?: number;
}

/** What Chromium shows when a navigation failed without a response (refused, DNS, TLS…). */
export const CHROMIUM_ERROR_PAGE_PROTOCOL = 'chrome-error:';

export class TrafficLog {
  readonly navigations: NavigationHop[] = [];
  readonly apiCalls: ApiCall[] = [];
  readonly requests: string[] = [];
  readonly alerts: string[] = [];
  private readonly hopByRequest = new Map<Request, NavigationHop>();

  constructor(private readonly page: Page, private readonly appOrigin: string) {
    page.on('request', (request) => this.onRequest(request));
    page.on('response', (response) => this.onResponse(response));
    page.on('requestfailed', (request) => {
      const hop = this.hopByRequest.get(request);
      if (hop) hop.failure = request.failure()?.errorText ?? 'failed';
    });
    page.on('framenavigated', (frame) => {
      if (frame !== page.mainFrame()) return;
      const last = this.navigations.at(-1);
      if (last?.url === frame.url()) last.committed = true;
      else this.navigations.push({ url: frame.url(), committed: true, atMs: Date.now() });
    });
    // Server errors surface as window.alert (docs/target-contract.md §2.7); record and dismiss them.
    page.on('dialog', (dialog: Dialog) => {
      this.alerts.push(dialog.message());
      dialog.dismiss().catch(() => undefined);
    });
  }

  private onRequest(request: Request): void {
    this.requests.push(request.url());
    if (!request.isNavigationRequest() || request.frame() !== this.page.mainFrame()) return;
    const hop: NavigationHop = { url: request.url(), committed: false, atMs: Date.now() };
    this.hopByRequest.set(request, hop);
    this.navigations.push(hop);
  }

  private onResponse(response: Response): void {
    const request = response.request();
    const hop = this.hopByRequest.get(request);
    if (hop) hop.status = response.status();
    const url = new URL(response.url());
    if (url.origin === this.appOrigin && (url.pathname.startsWith('/api/auth/') || url.pathname.startsWith('/api/rpc/'))) {
      const status = response.status();
      const headers = response.headers();
      this.apiCalls.push({ method: request.method(), url: response.url(), status, ...(status === 429 ? { retryAfterMs: retryAfterMs((name) => headers[name]) } : {}) });
    }
  }

  /** Forget what happened so far (e.g. before a reload whose requests alone matter). */
  reset(): void {
    this.navigations.length = 0;
    this.apiCalls.length = 0;
    this.requests.length = 0;
    this.alerts.length = 0;
    this.hopByRequest.clear();
  }

  lastApiCall(pathPrefix: string): ApiCall | undefined {
    return [...this.apiCalls].reverse().find((call) => new URL(call.url).pathname.startsWith(pathPrefix));
  }

  /** Navigation URLs in order, consecutive duplicates folded. */
  navigationUrls(): string[] {
    const urls: string[] = [];
    for (const hop of this.navigations) if (urls.at(-1) !== hop.url) urls.push(hop.url);
    return urls;
  }
}
