// Reading /proc (through files.ts, not node:fs): process liveness and identity, mount tables.

import { files } from './files';

export interface ProcStat {
  pid: number;
  /** the command name (field 2): "tsrunc:[init]" while a container's init waits for start */
  comm: string;
  /** R, S, D, Z, T, X, ... */
  state: string;
  ppid: number;
  /** start time in clock ticks since boot (field 22): with the pid, identifies a process */
  startTime: string;
}

/** /proc/PID/stat, or null when there is no such process. */
export function procStat(pid: number): ProcStat | null {
  let text: string;
  try {
    text = files().readFileSync(`/proc/${pid}/stat`);
  } catch {
    return null;
  }
  // the command name (field 2) may contain spaces and parentheses: split after the last ')'
  const close = text.lastIndexOf(')');
  const rest = text.slice(close + 2).split(' ');
  return { pid, comm: text.slice(text.indexOf('(') + 1, close), state: rest[0], ppid: Number(rest[1]), startTime: rest[19] };
}

/** The process's stat if it exists, is not a zombie, and is the one that started at `startTime`. */
export function liveStat(pid: number, startTime?: string): ProcStat | null {
  if (!pid || pid <= 0) return null;
  const st = procStat(pid);
  if (!st || st.state === 'Z' || st.state === 'X') return null;
  return startTime === undefined || st.startTime === startTime ? st : null;
}

/** The process exists, is not a zombie, and is the one that started at `startTime`. */
export function isAlive(pid: number, startTime?: string): boolean {
  return liveStat(pid, startTime) !== null;
}

export interface MountInfo {
  id: number;
  parent: number;
  root: string;
  mountpoint: string;
  options: string;
  optional: string[];
  fstype: string;
  source: string;
  superOptions: string;
}

/** mountinfo escapes space, tab, newline and backslash as \ooo */
function unescape(s: string): string {
  // most fields have no escape: no regex for those (this runs for every field of every line)
  return s.includes('\\') ? s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))) : s;
}

export function parseMountinfo(text: string): MountInfo[] {
  const out: MountInfo[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const f = line.split(' ');
    const sep = f.indexOf('-', 6);
    if (sep < 0) continue;
    out.push({
      id: Number(f[0]),
      parent: Number(f[1]),
      root: unescape(f[3]),
      mountpoint: unescape(f[4]),
      options: f[5],
      optional: f.slice(6, sep),
      fstype: f[sep + 1],
      source: unescape(f[sep + 2]),
      superOptions: f[sep + 3] ?? '',
    });
  }
  return out;
}

export function readMountinfo(pid: number | 'self' = 'self'): MountInfo[] {
  return parseMountinfo(files().readFileSync(`/proc/${pid}/mountinfo`));
}

/** The mount that contains `path` (an absolute, symlink-free path): the last-mounted longest prefix. */
export function mountContaining(mounts: MountInfo[], path: string): MountInfo | undefined {
  let best: MountInfo | undefined;
  for (const m of mounts) {
    const mp = m.mountpoint;
    const inside = path === mp || mp === '/' || path.startsWith(mp + '/');
    if (inside && (!best || mp.length >= best.mountpoint.length)) best = m;
  }
  return best;
}
