// bpf(2) for the cgroup v2 device controller: load a BPF_PROG_TYPE_CGROUP_DEVICE program and
// attach it to the container's cgroup (BPF_F_ALLOW_MULTI, as runc), replacing what was attached
// before (update). Goes through libc's syscall() (src/linux/libc.ts, loaded only when needed).

import { files } from '../files';
import { libc, sysError } from '../libc';

const SYS_bpf = 321; // x86_64
const BPF_PROG_LOAD = 5;
const BPF_PROG_ATTACH = 8;
const BPF_PROG_DETACH = 9;
const BPF_PROG_GET_FD_BY_ID = 13;
const BPF_PROG_QUERY = 16;
const BPF_PROG_TYPE_CGROUP_DEVICE = 15;
const BPF_CGROUP_DEVICE = 6;
const BPF_F_ALLOW_MULTI = 2;
const O_DIRECTORY = 0o200000;
const O_RDONLY = 0;

/** Native memory for the attr's pointers (insns, license, log): Node buffers have no stable address. */
class Scratch {
  readonly base: bigint;
  readonly u8: Uint8Array;
  private off = 0;
  constructor(readonly size: number) {
    const lc = libc();
    const p = lc.mmapAnonymous(size, 3 /* PROT_READ | PROT_WRITE */);
    if (p <= 0) throw sysError('mmap');
    this.base = BigInt(p);
    this.u8 = new Uint8Array(lc.view(p, size));
  }
  put(b: Uint8Array): bigint {
    const o = (this.off + 7) & ~7;
    this.u8.set(b, o);
    this.off = o + b.length;
    return this.base + BigInt(o);
  }
  free(): void {
    libc().munmap(this.base, this.size);
  }
}

function bpf(cmd: number, attr: Buffer): number {
  return libc().syscall(SYS_bpf, cmd, attr, attr.length);
}

/** Load the program; returns its fd. A verifier refusal is reported with the verifier's log. */
export function loadDeviceProgram(insns: Buffer): number {
  const logSize = 64 * 1024;
  const mem = new Scratch(insns.length + logSize + 4096);
  try {
    const insnsAddr = mem.put(insns);
    const license = mem.put(Buffer.from('Apache\0'));
    const log = mem.put(new Uint8Array(logSize));
    const attr = Buffer.alloc(128);
    attr.writeUInt32LE(BPF_PROG_TYPE_CGROUP_DEVICE, 0);
    attr.writeUInt32LE(insns.length / 8, 4);
    attr.writeBigUInt64LE(insnsAddr, 8);
    attr.writeBigUInt64LE(license, 16);
    attr.writeUInt32LE(1, 24); // log_level
    attr.writeUInt32LE(logSize, 28);
    attr.writeBigUInt64LE(log, 32);
    const fd = bpf(BPF_PROG_LOAD, attr);
    if (fd < 0) {
      const err = sysError('bpf(BPF_PROG_LOAD) of the device program');
      const start = Number(log - mem.base);
      const text = Buffer.from(mem.u8.subarray(start, start + logSize)).toString('utf8').replace(/\0[\s\S]*$/, '').trim();
      if (text) err.message += `: ${text.split('\n').slice(-3).join(' | ')}`;
      throw err;
    }
    return fd;
  } finally {
    mem.free();
  }
}

/** Ids of the device programs attached to a cgroup. */
function attachedIds(cgfd: number): number[] {
  const mem = new Scratch(4096);
  try {
    const ids = mem.put(new Uint8Array(64 * 4));
    const attr = Buffer.alloc(64);
    attr.writeUInt32LE(cgfd, 0);
    attr.writeUInt32LE(BPF_CGROUP_DEVICE, 4);
    attr.writeBigUInt64LE(ids, 16);
    attr.writeUInt32LE(64, 24);
    if (bpf(BPF_PROG_QUERY, attr) < 0) throw sysError('bpf(BPF_PROG_QUERY)');
    const n = attr.readUInt32LE(24);
    const start = Number(ids - mem.base);
    const view = Buffer.from(mem.u8.subarray(start, start + n * 4));
    return Array.from({ length: n }, (_, i) => view.readUInt32LE(i * 4));
  } finally {
    mem.free();
  }
}

function progFdById(id: number): number {
  const attr = Buffer.alloc(64);
  attr.writeUInt32LE(id, 0);
  const fd = bpf(BPF_PROG_GET_FD_BY_ID, attr);
  if (fd < 0) throw sysError(`bpf(BPF_PROG_GET_FD_BY_ID ${id})`);
  return fd;
}

function attachOp(cmd: number, cgfd: number, progFd: number, flags: number, what: string): void {
  const attr = Buffer.alloc(64);
  attr.writeUInt32LE(cgfd, 0);
  attr.writeUInt32LE(progFd, 4);
  attr.writeUInt32LE(BPF_CGROUP_DEVICE, 8);
  attr.writeUInt32LE(flags, 12);
  if (bpf(cmd, attr) < 0) throw sysError(what);
}

/**
 * Attach the program to the cgroup directory, then detach the device programs that were there
 * before: the new rules hold before the old ones go (never a moment without a filter).
 */
export function attachDeviceProgram(cgroupDir: string, insns: Buffer): void {
  const cgfd = files().openSync(cgroupDir, O_RDONLY | O_DIRECTORY);
  const prog = loadDeviceProgram(insns);
  try {
    const before = attachedIds(cgfd);
    attachOp(BPF_PROG_ATTACH, cgfd, prog, BPF_F_ALLOW_MULTI, `bpf(BPF_PROG_ATTACH) to ${cgroupDir}`);
    for (const id of before) {
      const old = progFdById(id);
      try {
        attachOp(BPF_PROG_DETACH, cgfd, old, 0, `bpf(BPF_PROG_DETACH) of program ${id} from ${cgroupDir}`);
      } finally {
        libc().close(old);
      }
    }
  } finally {
    libc().close(prog);
    files().closeSync(cgfd);
  }
}

/** Device programs attached to a cgroup directory (tests and `explain`). */
export function deviceProgramCount(cgroupDir: string): number {
  const cgfd = files().openSync(cgroupDir, O_RDONLY | O_DIRECTORY);
  try {
    return attachedIds(cgfd).length;
  } finally {
    files().closeSync(cgfd);
  }
}
