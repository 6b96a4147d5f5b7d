/**
 * The alerts Prometheus holds for sentinel's rules (`GET <prometheus>/api/v1/alerts`), for the status
 * page. Node's own http client with a deadline (the monitor keeps undici out of its memory); a
 * Prometheus that cannot be read is said so on the page, never an error of the page itself.
 */
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';

export interface AlertsView {
  alerts: Array<{ name: string; state: 'pending' | 'firing'; check?: string; reason?: string; since?: string }>;
  error?: string;
}

const DEADLINE_MS = 2_000;
const BODY_LIMIT = 1024 * 1024;

function getText(url: URL): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = (url.protocol === 'https:' ? httpsGet : httpGet)(url, { signal: AbortSignal.timeout(DEADLINE_MS), headers: { accept: 'application/json' } }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
        if (body.length > BODY_LIMIT) response.destroy(new Error('answer too large'));
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      response.on('error', reject);
    });
    request.on('error', reject);
  });
}

/** sentinel's alerts (rules named Sentinel…) pending or firing in the Prometheus at `prometheusUrl`. */
export async function readSentinelAlerts(prometheusUrl: string): Promise<AlertsView> {
  try {
    const { status, body } = await getText(new URL('/api/v1/alerts', `${prometheusUrl}/`));
    if (status !== 200) return { alerts: [], error: `Prometheus answered ${status}` };
    const parsed = JSON.parse(body) as { data?: { alerts?: Array<{ labels?: Record<string, string>; state?: string; activeAt?: string }> } };
    const alerts = (parsed.data?.alerts ?? [])
      .filter((a) => a.labels?.alertname?.startsWith('Sentinel') && (a.state === 'firing' || a.state === 'pending'))
      .map((a) => ({
        name: a.labels!.alertname!,
        state: a.state as 'pending' | 'firing',
        ...(a.labels!.check ? { check: a.labels!.check } : {}),
        ...(a.labels!.reason ? { reason: a.labels!.reason } : {}),
        ...(a.activeAt ? { since: a.activeAt } : {}),
      }))
      .sort((a, b) => (a.state === b.state ? a.name.localeCompare(b.name) : a.state === 'firing' ? -1 : 1));
    return { alerts };
  } catch (error) {
    const code = (error as { code?: string; name?: string }).code ?? (error as { name?: string }).name;
    return { alerts: [], error: `Prometheus could not be read (${code === 'AbortError' || code === 'TimeoutError' ? `no answer within ${DEADLINE_MS} ms` : (code ?? 'error')})` };
  }
}
