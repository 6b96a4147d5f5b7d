/**
 * Footprint measurement (the goals and figures are in README.md, "Benchmarks"):
 * starts the reference stack, runs `sentinel monitor` against it as its own process, and samples the
 * RSS of the monitor, and the PSS of the monitor plus its descendants (browser runner, Playwright, Chromium).
 * Usage: node --import tsx runner/monitor/test-support/measure-rss.ts [seconds]
 */
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { startEmbeddedStack } from '../../embedded-stack.ts';

const seconds = Number(process.argv[2] ?? 180);
const rssKb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
function descendants(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const ppid = Number(readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
      if (ppid === pid) children.push(Number(entry), ...descendants(Number(entry)));
    } catch {
      // gone
    }
  }
  return children;
}
const safeRss = (pid: number) => {
  try {
    return rssKb(pid);
  } catch {
    return 0;
  }
};
/** Proportional set size: shared pages split between the processes sharing them (Chromium's many processes). */
const pssKb = (pid: number) => {
  try {
    return Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
};

const stack = await startEmbeddedStack({ readyTimeoutMs: 120_000 });
const monitor = spawn(process.execPath, ['bin/sentinel.mjs', 'monitor', '--listen', '127.0.0.1:0'], {
  env: { PATH: process.env.PATH, HOME: process.env.HOME, ...stack.env },
  stdio: ['ignore', 'inherit', 'pipe'],
});
let url = '';
createInterface({ input: monitor.stderr! }).on('line', (line) => {
  const found = /listening on (http:\/\/\S+?);/.exec(line)?.[1];
  if (found) url = found;
  process.stderr.write(`[monitor] ${line}\n`);
});
let peakTree = 0;
let browserDoneAt: number | undefined;
const samples: Array<{ t: number; own: number; tree: number }> = [];
const started = Date.now();
while (Date.now() - started < seconds * 1000 && monitor.exitCode === null) {
  await new Promise((r) => setTimeout(r, 500));
  const own = safeRss(monitor.pid!);
  const tree = pssKb(monitor.pid!) + descendants(monitor.pid!).reduce((sum, pid) => sum + pssKb(pid), 0);
  peakTree = Math.max(peakTree, tree);
  samples.push({ t: Date.now() - started, own, tree });
  if (url && browserDoneAt === undefined) {
    try {
      const status = (await (await fetch(`${url}/status?format=json`, { signal: AbortSignal.timeout(2_000) })).json()) as { checks: Array<{ id: string; lastRun?: string; state: string }> };
      const login = status.checks.find((c) => c.id === 'e2e-login');
      if (login?.lastRun) {
        browserDoneAt = Date.now() - started;
        console.log(`browser flow done at ${browserDoneAt} ms: ${status.checks.map((c) => `${c.id}=${c.state}`).join(' ')}`);
      }
    } catch {
      // not up yet
    }
  }
}
const idle = samples.filter((s) => browserDoneAt !== undefined && s.t > browserDoneAt + 20_000);
console.log(JSON.stringify({
  peakTreePssMB: Math.round(peakTree / 1024),
  peakOwnMB: Math.round(Math.max(...samples.map((s) => s.own)) / 1024),
  idleOwnMB: idle.length ? Math.round(idle.reduce((a, s) => a + s.own, 0) / idle.length / 1024) : undefined,
  idleOwnMaxMB: idle.length ? Math.round(Math.max(...idle.map((s) => s.own)) / 1024) : undefined,
  idleSamples: idle.length,
}));
monitor.kill('SIGTERM');
const t = Date.now();
await new Promise((r) => monitor.once('exit', r));
console.log(`monitor exited ${monitor.exitCode} after SIGTERM in ${Date.now() - t} ms`);
await stack.stop();
