/**
 * /proc readings for the footprint figures: RSS and PSS of a process, the descendants of a process,
 * Chromium processes in a tree, and "is this exact process still alive" (PID plus start time, so a
 * reused PID is not mistaken for a leftover).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { loadavg } from 'node:os';

export interface ProcInfo {
  pid: number;
  ppid: number;
  comm: string;
  /** start time in clock ticks since boot (field 22 of /proc/<pid>/stat) */
  startTicks: number;
}

function readStat(pid: number): ProcInfo | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = text.lastIndexOf(')');
    const comm = text.slice(text.indexOf('(') + 1, close);
    const rest = text.slice(close + 2).split(' ');
    // rest[0] is field 3 (state): ppid is field 4, starttime field 22
    return { pid, ppid: Number(rest[1]), comm, startTicks: Number(rest[19]) };
  } catch {
    return undefined;
  }
}

export function allProcesses(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const info = readStat(Number(entry));
    if (info) out.push(info);
  }
  return out;
}

/** The root and every process below it, from one /proc snapshot. */
export function processTree(root: number, snapshot: readonly ProcInfo[] = allProcesses()): ProcInfo[] {
  const byParent = new Map<number, ProcInfo[]>();
  for (const p of snapshot) {
    const list = byParent.get(p.ppid) ?? [];
    list.push(p);
    byParent.set(p.ppid, list);
  }
  const rootInfo = snapshot.find((p) => p.pid === root);
  const out: ProcInfo[] = rootInfo ? [rootInfo] : [];
  const queue = [root];
  // bounded: a tree cannot hold more processes than the snapshot
  for (let i = 0; i < queue.length && i <= snapshot.length; i++) {
    for (const child of byParent.get(queue[i]!) ?? []) {
      out.push(child);
      queue.push(child.pid);
    }
  }
  return out;
}

export function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
  } catch {
    return '';
  }
}

export function isChromium(p: ProcInfo): boolean {
  return /chrom/i.test(p.comm) || /\/chromium|chrome-linux|headless_shell/.test(cmdline(p.pid).split(' ')[0] ?? '');
}

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

/** True when the process that had this PID and start time still exists (and is not a zombie). */
export function stillAlive(p: Pick<ProcInfo, 'pid' | 'startTicks'>): boolean {
  const now = readStat(p.pid);
  if (!now || now.startTicks !== p.startTicks) return false;
  try {
    const state = readFileSync(`/proc/${p.pid}/stat`, 'utf8');
    return !/\) Z /.test(state);
  } catch {
    return false;
  }
}

export const load1 = (): number => loadavg()[0]!;
