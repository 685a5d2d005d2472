// One anonymous mmap region holding everything the child touches: strings, argv/envp arrays,
// structs and the ucontexts. The child's memory is a copy-on-write copy of ours taken at clone(),
// so all of it must exist before clone and must not move: one region, written before clone and
// released by the parent right after it (the child keeps its copy). Addresses are BigInt
// (koffi's pointer representation), so `address = base + offset`.

import { libc, sysError } from '../linux/libc';

const PROT_READ = 1;
const PROT_WRITE = 2;
const MAP_PRIVATE = 2;
const MAP_ANONYMOUS = 0x20;
const MAP_FAILED = 0xffffffffffffffffn;

export class Arena {
  readonly base: bigint;
  readonly size: number;
  readonly u8: Uint8Array;
  readonly view: DataView;
  private offset = 0;

  constructor(size: number) {
    this.size = size;
    const lc = libc();
    const p = BigInt(lc.mmap(null, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0n));
    if (p === 0n || p === MAP_FAILED) throw sysError('mmap arena');
    this.base = p;
    const ab = lc.koffi.view(p, size) as ArrayBuffer;
    this.u8 = new Uint8Array(ab);
    this.view = new DataView(ab);
  }

  /** Reserve n bytes aligned to `align`; returns the offset. */
  reserve(n: number, align = 16): number {
    this.offset = (this.offset + align - 1) & ~(align - 1);
    const o = this.offset;
    this.offset += n;
    if (this.offset > this.size) throw new Error(`spawn arena overflow (${this.offset} > ${this.size} bytes)`);
    return o;
  }

  addr(offset: number): bigint {
    return this.base + BigInt(offset);
  }

  offsetOf(address: bigint): number {
    return Number(address - this.base);
  }

  alloc(n: number, align = 16): bigint {
    return this.addr(this.reserve(n, align));
  }

  /** NUL-terminated C string; returns its address. */
  cString(s: string): bigint {
    const b = Buffer.from(s + '\0', 'utf8');
    const o = this.reserve(b.length, 1);
    this.u8.set(b, o);
    return this.addr(o);
  }

  /** NULL-terminated array of pointers (argv/envp style). */
  pointerArray(ptrs: bigint[]): bigint {
    const o = this.reserve(8 * (ptrs.length + 1), 8);
    ptrs.forEach((p, i) => this.view.setBigUint64(o + 8 * i, p, true));
    this.view.setBigUint64(o + 8 * ptrs.length, 0n, true);
    return this.addr(o);
  }

  bytes(b: Uint8Array, align = 8): bigint {
    const o = this.reserve(Math.max(1, b.length), align);
    this.u8.set(b, o);
    return this.addr(o);
  }

  setU8(address: bigint, v: number): void {
    this.u8[this.offsetOf(address)] = v;
  }

  getU8(address: bigint): number {
    return this.u8[this.offsetOf(address)];
  }

  setU32(address: bigint, v: number): void {
    this.view.setUint32(this.offsetOf(address), v >>> 0, true);
  }

  setU64(address: bigint, v: bigint): void {
    this.view.setBigUint64(this.offsetOf(address), BigInt.asUintN(64, v), true);
  }

  getU64(address: bigint): bigint {
    return this.view.getBigUint64(this.offsetOf(address), true);
  }

  /** Unmap it (after clone: the child has its own copy). The views must not be used after this. */
  release(): void {
    if (libc().munmap(this.base, this.size) !== 0) throw sysError('munmap arena');
  }

  used(): number {
    return this.offset;
  }
}
