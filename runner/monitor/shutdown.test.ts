import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CHILD = fileURLToPath(new URL('./test-support/monitor-child.ts', import.meta.url));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('monitor process shutdown', () => {
  it('on SIGTERM stops, kills the running browser child by PID and exits 0 within 10 s', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<{ code: number | null; at: number }>((resolve) => child.once('exit', (code) => resolve({ code, at: Date.now() })));
    const lines: string[] = [];
    const browserPid = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no BROWSER_PID line within 40 s: ${lines.join(' | ')}`)), 40_000);
      createInterface({ input: child.stdout! }).on('line', (line) => {
        lines.push(line);
        const pid = /^BROWSER_PID (\d+)$/.exec(line)?.[1];
        if (pid) {
          clearTimeout(timer);
          resolve(Number(pid));
        }
      });
    });
    try {
      expect(alive(browserPid)).toBe(true);
      const sentAt = Date.now();
      child.kill('SIGTERM');
      const { code, at } = await exited;
      expect(code).toBe(0);
      expect(at - sentAt).toBeLessThan(10_000);
      expect(lines).toContain('EXIT 0');
      expect(lines.some((l) => l.startsWith('monitor: SIGTERM received'))).toBe(true);
      expect(alive(browserPid)).toBe(false);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      if (alive(browserPid)) process.kill(browserPid, 'SIGKILL');
    }
  });
});
