/**
 * `app-health` probe: the two cheap endpoints of docs/target-contract.md §1.1 — `/` (the container healthcheck
 * target, SSR HTML with the app's title) and `/api/auth/ok` (Better Auth loaded, no DB). Timings are
 * measured here, honestly: connect = TCP+TLS of the first new connection (probes/http.ts times each new socket),
 * ttfb = request sent → headers received, total = until the body was read.
 */
import { Assertions } from './assertions.ts';
import { readText, withProbeHttp, type ProbeHttp } from './http.ts';
import { failedWith, fromAssertions } from './probe-result.ts';
import type { ProbeFn } from './types.ts';

const HOME_TITLE = '<title>GadgetBot Rental Service</title>';

interface Timed {
  status: number;
  body: string;
  contentType: string;
  ttfbMs: number;
  totalMs: number;
}

async function timedGet(http: ProbeHttp, url: string): Promise<Timed> {
  const started = performance.now();
  const response = await http.fetch(url, { headers: { accept: 'text/html,application/json' } });
  const ttfbMs = Math.round(performance.now() - started);
  const body = await readText(response);
  return { status: response.status, body, contentType: response.headers.get('content-type') ?? '', ttfbMs, totalMs: Math.round(performance.now() - started) };
}

function isOkBody(body: string): boolean {
  try {
    return (JSON.parse(body) as { ok?: unknown }).ok === true;
  } catch {
    return false;
  }
}

export const appHealthProbe: ProbeFn = async (config, ctx) => {
  const observations: Record<string, unknown> = { httpStatusCode: 0 };
  const assertions = new Assertions();
  try {
    await withProbeHttp(ctx, async (http) => {
      const home = await timedGet(http, `${config.appUrl}/`);
      observations.httpStatusCode = home.status;
      assertions.equal('GET / status', home.status, 200, 'http_status');
      assertions.check('GET / title', home.body.includes(HOME_TITLE), home.contentType.split(';')[0] || '(no content-type)', `HTML with ${HOME_TITLE}`, 'bad_response');
      const ok = await timedGet(http, `${config.appUrl}/api/auth/ok`);
      observations.okStatusCode = ok.status;
      // Better Auth limits each /api/auth path per IP (100 per 10 s in production, docs/target-contract.md §5.1): a 429 is its limiter, not a broken app.
      assertions.equal('GET /api/auth/ok status', ok.status, 200, ok.status === 429 ? 'rate_limited' : 'http_status');
      assertions.check('GET /api/auth/ok body', isOkBody(ok.body), ok.body.slice(0, 80), '{"ok":true}', 'bad_response');
      observations.timings = {
        connectMs: http.connectTimings[0] ?? 0,
        homeTtfbMs: home.ttfbMs,
        homeTotalMs: home.totalMs,
        okTtfbMs: ok.ttfbMs,
        okTotalMs: ok.totalMs,
      };
    });
  } catch (error) {
    return failedWith('app-health', error, 'http', assertions, observations);
  }
  return fromAssertions('app-health', assertions, observations);
};
