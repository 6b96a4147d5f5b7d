/**
 * /proc readings for the footprint figures: RSS, PSS and the own memory of a set of processes. Which
 * processes form a tree, and whether one is still alive, come from the monitor tests' reader
 * (runner/monitor/test-support/proc.ts), so both judge leftovers the same way.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';

/** VmRSS in kB (0 when the process is gone). */
export function rssKb(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** Proportional set size in kB: shared pages split between the processes that share them. */
export function pssKb(pid: number): number {
  try {
    return Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/**
 * Memory a set of processes takes by itself, in kB: every private page, plus each shared mapping once
 * (the largest part of it any of them has resident). A summed VmRSS counts the Node binary once per
 * Node process and Chromium's binary once per Chromium process; PSS splits pages with processes
 * outside the set (another Node on the machine makes the set look smaller than it would be alone).
 */
export function footprintKb(pids: readonly number[]): number {
  let privateKb = 0;
  const sharedKb = new Map<string, number>();
  for (const pid of pids) {
    let smaps: string;
    try {
      smaps = readFileSync(`/proc/${pid}/smaps`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    const mine = new Map<string, number>();
    let key = '';
    for (const line of smaps.split('\n')) {
      const header = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ (\S+) (\d+)\s*(.*)$/.exec(line);
      if (header) {
        key = header[2] !== '0' ? `${header[1]}:${header[2]}` : header[3] || '[anon]';
        continue;
      }
      const field = /^(Private|Shared)_(?:Clean|Dirty):\s+(\d+)/.exec(line);
      if (!field) continue;
      if (field[1] === 'Private') privateKb += Number(field[2]);
      else mine.set(key, (mine.get(key) ?? 0) + Number(field[2]));
    }
    for (const [name, kb] of mine) sharedKb.set(name, Math.max(sharedKb.get(name) ?? 0, kb));
  }
  let total = privateKb;
  for (const kb of sharedKb.values()) total += kb;
  return total;
}

export const load1 = (): number => loadavg()[0]!;
