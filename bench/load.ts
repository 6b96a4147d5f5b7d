/**
 * HTTP load for the `/metrics` figures: wrk with `--latency` (50 connections, 10 s), or — when wrk
 * cannot be had — a small Node generator with the same shape (50 keep-alive loops, 10 s).
 */
import { spawn } from 'node:child_process';
import { Agent, request } from 'undici';
import { percentile, parseWrk, type WrkResult } from './stats.ts';

export interface LoadOptions {
  connections: number;
  seconds: number;
}

export async function wrkLoad(wrk: string, url: string, options: LoadOptions): Promise<WrkResult> {
  const child = spawn(wrk, ['-t2', `-c${options.connections}`, `-d${options.seconds}s`, '--timeout', '5s', '--latency', url], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), (options.seconds + 30) * 1000);
  await new Promise((resolve) => child.once('close', resolve));
  clearTimeout(killer);
  return parseWrk(output);
}

/** The npm-free fallback: `connections` loops of GET over keep-alive, for `seconds`. */
export async function nodeLoad(url: string, options: LoadOptions): Promise<WrkResult> {
  const agent = new Agent({ connections: options.connections, keepAliveTimeout: 10_000 });
  const latencies: number[] = [];
  let errors = 0;
  let timeouts = 0;
  const end = Date.now() + options.seconds * 1000;
  const loop = async () => {
    while (Date.now() < end) {
      const started = performance.now();
      try {
        const response = await request(url, { dispatcher: agent, signal: AbortSignal.timeout(5_000) });
        await response.body.dump();
        if (response.statusCode >= 400) errors++;
        latencies.push(performance.now() - started);
      } catch (error) {
        errors++;
        if ((error as Error).name === 'TimeoutError') timeouts++;
      }
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: options.connections }, loop));
  const seconds = (performance.now() - started) / 1000;
  await agent.close();
  return {
    p50Ms: percentile(latencies, 50),
    p75Ms: percentile(latencies, 75),
    p90Ms: percentile(latencies, 90),
    p99Ms: percentile(latencies, 99),
    requestsPerSecond: latencies.length / seconds,
    requests: latencies.length,
    errors,
    errorKinds: errors ? `${timeouts} timeouts, ${errors - timeouts} other` : '',
  };
}

export function runLoad(wrk: string | undefined, url: string, options: LoadOptions): Promise<WrkResult> {
  return wrk ? wrkLoad(wrk, url, options) : nodeLoad(url, options);
}
