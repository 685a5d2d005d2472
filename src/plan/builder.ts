// A small helper to write programs: steps with their checks, and a model of the child's fd table.
// After the engine's fd normalisation the child holds only 0, 1, 2 and the kept fds (high numbers),
// so every open() returns the lowest free number, which the builder predicts.

import type { RawSyscall } from '../linux/arch';
import type { Arg, Check, Program, SlotArg, Step } from '../spawn/program';
import { O } from '../linux/constants';

export class ProgramBuilder {
  readonly steps: Step[] = [];
  readonly keep: string[] = [];
  private readonly openFds = new Set<number>([0, 1, 2]);
  /** highest fd the program ever has open at once: kept fds must start above it */
  private highWater = 2;

  keepFd(slot: string): SlotArg {
    if (!this.keep.includes(slot)) this.keep.push(slot);
    return { slot };
  }

  call(fn: string, args: Arg[], desc: string, check: Check = 'full'): void {
    this.steps.push({ op: 'call', fn, args, desc, check });
  }

  syscall(name: RawSyscall, args: Arg[], desc: string, check: Check = 'full'): void {
    this.steps.push({ op: 'syscall', name, args, desc, check });
  }

  checkpoint(name: string): void {
    this.steps.push({ op: 'checkpoint', name, desc: `checkpoint: ${name}` });
  }

  records(fd: SlotArg | number | null, desc: string): void {
    this.steps.push({ op: 'records', fd, desc });
  }

  channel(fd: SlotArg | number | null, desc: string): void {
    this.steps.push({ op: 'channel', fd, desc });
  }

  timestamp(label: string): void {
    this.steps.push({ op: 'timestamp', label, desc: `timestamp: ${label}` });
  }

  exec(path: string, argv: string[], envp: string[], desc: string): void {
    this.steps.push({ op: 'exec', path, argv, envp, desc });
  }

  exit(code: number, desc: string): void {
    this.steps.push({ op: 'exit', code, desc });
  }

  /** The fd number the next successful open() in the child will return. */
  nextFd(): number {
    let n = 0;
    while (this.openFds.has(n)) n++;
    return n;
  }

  /** Record that an open-like step returns the next fd; returns that number. */
  allocFd(): number {
    const n = this.nextFd();
    this.openFds.add(n);
    this.highWater = Math.max(this.highWater, n);
    return n;
  }

  /** Emit close(fd) and free the number. */
  close(fd: number, desc = `close(${fd})`): void {
    this.call('close', [fd], desc, 'trip');
    this.openFds.delete(fd);
  }

  /** Forget an fd without a close step (it was closed some other way, e.g. close_range). */
  forget(fd: number): void {
    this.openFds.delete(fd);
  }

  /** Keep fds 3..3+n-1 for fds passed through to the program (--preserve-fds, LISTEN_FDS). */
  reserveLow(n: number): void {
    for (let fd = 3; fd < 3 + n; fd++) this.markOpen(fd);
  }

  markOpen(fd: number): void {
    this.openFds.add(fd);
    this.highWater = Math.max(this.highWater, fd);
  }

  build(): Program {
    return { keep: [...this.keep], keepBase: Math.max(64, this.highWater + 1), steps: [...this.steps] };
  }
}

/**
 * Steps that move the calling process into each cgroup v1 directory: 0 written to `tasks` moves
 * the writing thread (the process: it has one), and takes none of the kernel's global cgroup
 * locks, where a pid written to cgroup.procs waits for an RCU grace period unless another
 * migration happened lately (docs/cgroups.md, "Joining").
 */
export function joinOwnCgroupsV1(b: ProgramBuilder, dirs: readonly string[], who: string): void {
  for (const dir of dirs) {
    const fd = b.allocFd();
    b.call('open', [{ str: `${dir}/tasks` }, O.WRONLY | O.CLOEXEC, 0], `open ${dir}/tasks (fd ${fd})`);
    b.call('write', [fd, { str: '0' }, 1], `join cgroup ${dir} (0 to tasks: ${who} moves itself)`);
    b.close(fd);
  }
}

// --- structs the chain passes by pointer -------------------------------------------------------

const U64_MAX = (1n << 64n) - 1n;

function u64(v: number | bigint): bigint {
  const b = typeof v === 'bigint' ? v : Number.isSafeInteger(v) ? BigInt(v) : v >= 1.8e19 ? U64_MAX : BigInt(Math.trunc(v));
  return b > U64_MAX ? U64_MAX : BigInt.asUintN(64, b);
}

/** struct open_how { u64 flags; u64 mode; u64 resolve; } */
export function openHow(flags: number, mode: number, resolve: number): { bytes: Uint8Array; label: string } {
  const b = Buffer.alloc(24);
  b.writeBigUInt64LE(u64(flags), 0);
  b.writeBigUInt64LE(u64(mode), 8);
  b.writeBigUInt64LE(u64(resolve), 16);
  return { bytes: b, label: 'open_how' };
}

/** struct rlimit { rlim_t cur; rlim_t max; } — OCI's uint64 values clamp to RLIM_INFINITY */
export function rlimit(soft: number, hard: number): { bytes: Uint8Array; label: string } {
  const b = Buffer.alloc(16);
  b.writeBigUInt64LE(u64(soft), 0);
  b.writeBigUInt64LE(u64(hard), 8);
  return { bytes: b, label: 'rlimit' };
}

/** struct mount_attr { u64 attr_set; u64 attr_clr; u64 propagation; u64 userns_fd; } */
export function mountAttr(set: number, clear: number, propagation = 0): { bytes: Uint8Array; label: string } {
  const b = Buffer.alloc(32);
  b.writeBigUInt64LE(u64(set), 0);
  b.writeBigUInt64LE(u64(clear), 8);
  b.writeBigUInt64LE(u64(propagation), 16);
  return { bytes: b, label: 'mount_attr' };
}

/** int32 array (gid_t[]) */
export function u32Array(values: number[]): { bytes: Uint8Array; label: string } {
  const b = Buffer.alloc(Math.max(4, 4 * values.length));
  for (const [i, v] of values.entries()) b.writeUInt32LE(v >>> 0, 4 * i);
  return { bytes: b, label: 'gid_t[]' };
}

/** glibc's makedev() for dev_t */
export function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major >>> 0);
  const mi = BigInt(minor >>> 0);
  return ((ma & 0xfffff000n) << 32n) | ((ma & 0xfffn) << 8n) | ((mi & 0xffffff00n) << 12n) | (mi & 0xffn);
}
