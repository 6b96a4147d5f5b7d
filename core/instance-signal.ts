/**
 * The instance signal of the `command` redeploy driver: a URL whose answer names the app instance
 * that serves it (one response header, or else the whole body). Read before and after a redeploy,
 * a change shows that a new instance serves. Only hashes leave this module: the raw value may be
 * anything the target chose to expose. Every read has a deadline and verifies TLS against Node's
 * root certificates plus the configured CA (config.tls.caCertPath).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { Agent, request, type Dispatcher } from 'undici';
import { safeTarget } from './redact.ts';

export interface InstanceSignalOptions {
  url: string;
  /** response header that names the instance; without it the body is the signal */
  header?: string;
  caCertPath?: string;
  /** deadline of one read */
  requestTimeoutMs: number;
}

export type InstanceSignalSource = 'header' | 'body';

export interface InstanceSignalReader {
  readonly source: InstanceSignalSource;
  /** `safeTarget(url)` plus, for a header, its name: what a message may say about the signal */
  readonly describe: string;
  /** `sha256:<16 hex>` of the header value or the body; rejects with an InstanceSignalError */
  read(signal: AbortSignal): Promise<string>;
  close(): Promise<void>;
}

/** Why a read gave no signal: `timeout` (its own deadline), else anything else that went wrong. */
export class InstanceSignalError extends Error {
  constructor(readonly kind: 'timeout' | 'unusable', message: string) {
    super(message);
    this.name = 'InstanceSignalError';
  }
}

const BODY_LIMIT = 1024 * 1024;

/** A short, stable fingerprint: enough to tell two values apart, useless for recovering either. */
export function fingerprint(value: string | Buffer): string {
  return `sha256:${createHash('sha256').update(value).digest('hex').slice(0, 16)}`;
}

export function createInstanceSignalReader(options: InstanceSignalOptions): InstanceSignalReader {
  const where = safeTarget(options.url);
  const header = options.header?.toLowerCase();
  const describe = header ? `header ${options.header} of ${where}` : `the body of ${where}`;
  const agent = new Agent({ connect: { ca: [...rootCertificates, ...(options.caCertPath ? [readFileSync(options.caCertPath, 'utf8')] : [])] } });

  async function read(signal: AbortSignal): Promise<string> {
    const timeout = AbortSignal.timeout(options.requestTimeoutMs);
    const within = AbortSignal.any([signal, timeout]);
    let response: Dispatcher.ResponseData;
    try {
      // A fresh connection per read: a kept-alive one could still lead to the old instance.
      response = await request(options.url, { dispatcher: agent, signal: within, reset: true, headers: { accept: '*/*', 'cache-control': 'no-cache' } });
    } catch (error) {
      throw readFailure(error, signal, timeout, where, options.requestTimeoutMs);
    }
    try {
      const status = response.statusCode;
      if (status < 200 || status >= 300) {
        throw new InstanceSignalError('unusable', `${where} answered ${status}${status >= 300 && status < 400 ? ' (a redirect: name the final URL)' : ''}`);
      }
      if (header) {
        const value = response.headers[header];
        const text = Array.isArray(value) ? value.join(', ') : value;
        if (!text) throw new InstanceSignalError('unusable', `${where} answered without the ${options.header} header`);
        return fingerprint(text);
      }
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of response.body) {
        chunks.push(chunk as Buffer);
        size += (chunk as Buffer).length;
        if (size >= BODY_LIMIT) break;
      }
      return fingerprint(Buffer.concat(chunks).subarray(0, BODY_LIMIT));
    } catch (error) {
      if (error instanceof InstanceSignalError) throw error;
      throw readFailure(error, signal, timeout, where, options.requestTimeoutMs);
    } finally {
      // Releases the connection; a body read to the end (or cut at the limit) is dumped at once.
      await response.body.dump().catch(() => undefined);
    }
  }

  return {
    source: header ? 'header' : 'body',
    describe,
    read,
    async close() {
      await agent.destroy().catch(() => undefined);
    },
  };
}

function readFailure(error: unknown, caller: AbortSignal, timeout: AbortSignal, where: string, timeoutMs: number): unknown {
  // The caller's own abort is not a problem of the signal: hand its reason back untouched.
  if (caller.aborted) return caller.reason;
  if (timeout.aborted) return new InstanceSignalError('timeout', `${where} did not answer within ${timeoutMs} ms`);
  const code = (error as { code?: unknown; cause?: { code?: unknown } }).code ?? (error as { cause?: { code?: unknown } }).cause?.code;
  return new InstanceSignalError('unusable', `${where} could not be read (${typeof code === 'string' ? code : (error as Error).name})`);
}
