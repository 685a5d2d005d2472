// What a cloned child inherits. clone() without CLONE_VM copies the page tables of the whole
// JavaScript engine (tens of MB resident), and until the child executes, every page either side
// writes is copied on write: the runtime itself runs measurably slower for the rest of create.
// The chain needs none of the engine's memory — only libc, its arena, its stack and the thread's
// TLS (errno) — so the engine's anonymous memory is marked MADV_DONTFORK around clone(): the
// child never maps it, and the parent writes it freely.

import { files } from '../linux/files';
import { libc } from '../linux/libc';

const MADV_DONTFORK = 10;
const MADV_DOFORK = 11;

interface Region {
  start: bigint;
  length: bigint;
}

/**
 * Anonymous writable mappings that contain none of the `keep` addresses and are not a shared
 * library's .bss (the anonymous mapping right after its file-backed data: libc's own state).
 * With `skipDontfork`, also not those DONTFORK already (JavaScriptCore and V8 mark some of theirs:
 * marks that are to be undone must leave those so); that needs smaps (~1 ms), not maps (~0.05).
 */
function engineRegions(keep: bigint[], skipDontfork: boolean): Region[] {
  const out: Region[] = [];
  let prevEnd = -1n;
  let prevFile = false;
  let candidate: Region | null = null;
  const header = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/;
  // smaps shows VmFlags ("dc": do not copy on fork) after each mapping's header
  for (const line of files().readFileSync(skipDontfork ? '/proc/self/smaps' : '/proc/self/maps').split('\n')) {
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
    // with smaps, pushed once its VmFlags line shows it is not DONTFORK already
    if (skipDontfork) candidate = { start, length: end - start };
    else out.push({ start, length: end - start });
  }
  return out;
}

/** Run fn (the clone) with the engine's memory kept out of children. */
export function withSmallFootprint<T>(keep: bigint[], fn: () => T): T {
  if (process.env.TSRUNC_FULL_FORK === '1') return fn();
  const lc = libc();
  // Node's child_process may fork, and the forked C code may touch the engine's malloc arenas: on
  // Node the marks are undone after the clone. Bun spawns with vfork (the child shares our memory)
  // and our own later clones need none of it: on Bun they stay, and need no smaps to undo exactly.
  const undo = !process.versions.bun;
  const marked: Region[] = [];
  for (const r of engineRegions(keep, undo)) if (lc.madvise(r.start, r.length, MADV_DONTFORK) === 0) marked.push(r);
  try {
    return fn();
  } finally {
    if (undo) for (const r of marked) lc.madvise(r.start, r.length, MADV_DOFORK);
  }
}
