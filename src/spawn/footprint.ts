// What a cloned child inherits. clone() without CLONE_VM copies the page tables of the whole
// JavaScript engine (tens of MB resident), and until the child executes, every page either side
// writes is copied on write: the runtime itself runs measurably slower for the rest of create.
// The chain needs none of the engine's memory — only libc, its arena, its stack and the thread's
// TLS (errno) — so the engine's anonymous memory is marked MADV_DONTFORK around clone(): the
// child never maps it, and the parent writes it freely.

import * as fs from 'node:fs';
import { libc } from '../linux/libc';

const MADV_DONTFORK = 10;
const MADV_DOFORK = 11;

interface Region {
  start: bigint;
  length: bigint;
}

/**
 * Anonymous writable mappings that contain none of the `keep` addresses, are not a shared
 * library's .bss (the anonymous mapping right after its file-backed data: libc's own state) and
 * are not DONTFORK already (JavaScriptCore and V8 mark some of theirs: those must stay so).
 */
function engineRegions(keep: bigint[]): Region[] {
  const out: Region[] = [];
  let prevEnd = -1n;
  let prevFile = false;
  let candidate: Region | null = null;
  const header = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/;
  // smaps, not maps: only it shows VmFlags ("dc": do not copy on fork)
  for (const line of fs.readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    if (line.startsWith('VmFlags:')) {
      if (candidate && !/ dc\b/.test(line)) out.push(candidate);
      candidate = null;
      continue;
    }
    const m = header.exec(line);
    if (!m) continue;
    const start = BigInt('0x' + m[1]);
    const end = BigInt('0x' + m[2]);
    const perms = m[3];
    const name = m[4];
    const anonymous = name === '' || name.startsWith('[anon');
    const bss = anonymous && prevFile && start === prevEnd;
    prevEnd = end;
    prevFile = name.startsWith('/');
    candidate = null;
    // anonymous memory only (no file, no [heap]/[stack]/[vdso]...), writable, private
    if (!anonymous || bss || !perms.startsWith('rw') || perms[3] !== 'p') continue;
    if (keep.some((a) => a >= start && a < end)) continue;
    candidate = { start, length: end - start };
  }
  return out;
}

/** Run fn (the clone) with the engine's memory kept out of children. */
export function withSmallFootprint<T>(keep: bigint[], fn: () => T): T {
  if (process.env.TSRUNC_FULL_FORK === '1') return fn();
  const lc = libc();
  const regions = engineRegions(keep);
  const marked: Region[] = [];
  for (const r of regions) if (lc.madvise(r.start, r.length, MADV_DONTFORK) === 0) marked.push(r);
  try {
    return fn();
  } finally {
    // later forks (child_process for hooks) run C code that may touch the engine's malloc arenas
    for (const r of marked) lc.madvise(r.start, r.length, MADV_DOFORK);
  }
}
