/**
 * The process tree from /proc (Linux): which processes descend from a PID, and whether one of them is
 * still alive afterwards. A PID counts as the same process only with the same start time (PIDs are
 * reused); a zombie (state Z) holds no memory and runs nothing, so it counts as gone.
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcInfo {
  pid: number;
  ppid: number;
  state: string;
  /** clock ticks since boot: with the PID, the identity of a process */
  startTime: string;
  command: string;
}

function readProc(pid: number): ProcInfo | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm may hold spaces and parentheses: the fields after it start behind the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    return { pid, state: rest[0]!, ppid: Number(rest[1]), startTime: rest[19]!, command: cmdline || comm };
  } catch {
    return undefined;
  }
}

export function processes(): ProcInfo[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map((name) => readProc(Number(name)))
    .filter((p): p is ProcInfo => p !== undefined);
}

/** Every live process whose parent chain leads to `root` (root excluded). */
export function descendantsOf(root: number): ProcInfo[] {
  const all = processes();
  const children = new Map<number, ProcInfo[]>();
  for (const p of all) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const out: ProcInfo[] = [];
  const queue = [...(children.get(root) ?? [])];
  while (queue.length > 0) {
    const next = queue.shift()!;
    out.push(next);
    queue.push(...(children.get(next.pid) ?? []));
  }
  return out;
}

export function isChromium(p: ProcInfo): boolean {
  return /chrom(e|ium)/i.test(p.command);
}

/** The same process (PID and start time) still exists and is not a zombie. */
export function stillRunning(p: ProcInfo): boolean {
  const now = readProc(p.pid);
  return now !== undefined && now.startTime === p.startTime && now.state !== 'Z';
}
