// One anonymous mmap region holding everything the child touches: strings, argv/envp arrays,
// structs and the ucontexts. The child's memory is a copy-on-write copy of ours taken at clone(),
// so all of it must exist before clone and must not move: one region, written before clone and
// released by the parent right after it (the child keeps its copy).
//
// Addresses are plain numbers (`address = base + offset`): user addresses fit in 47 bits, and the
// engine writes hundreds of them, mostly run by the interpreter, where BigInt arithmetic costs more
// than everything else. The region starts zeroed (fresh pages), and nothing is written twice: what
// is not written reads as 0 (a string's NUL, an unused register).

import { libc, sysError } from '../linux/libc';

const PROT_READ = 1;
const PROT_WRITE = 2;
const TWO32 = 4294967296;

/** A 64-bit value: a number (exact below 2^53: every user address, every small argument) or a BigInt. */
export type Word = number | bigint;

/** Thrown when the arena was sized too small; the caller maps a larger one and starts again. */
export class ArenaFull extends Error {}

export class Arena {
  readonly base: number;
  readonly size: number;
  readonly u8: Uint8Array;
  /** 32-bit view: 64-bit words are written as two halves (see putWord) */
  readonly u32: Uint32Array;
  /** the same memory, for Buffer.write (strings are encoded in place) */
  private readonly buf: Buffer;
  private offset = 0;

  constructor(size: number) {
    this.size = size;
    const lc = libc();
    const p = lc.mmapAnonymous(size, PROT_READ | PROT_WRITE);
    if (p <= 0) throw sysError('mmap arena');
    this.base = p;
    const ab = lc.view(this.base, size);
    this.u8 = new Uint8Array(ab);
    this.u32 = new Uint32Array(ab);
    this.buf = Buffer.from(ab);
  }

  /** Reserve n bytes aligned to `align` (a power of two); returns the offset. */
  reserve(n: number, align = 16): number {
    const o = (this.offset + align - 1) & -align;
    if (o + n > this.size) throw new ArenaFull(`spawn arena overflow (${o + n} > ${this.size} bytes)`);
    this.offset = o + n;
    return o;
  }

  alloc(n: number, align = 16): number {
    return this.base + this.reserve(n, align);
  }

  /** NUL-terminated C string, encoded in place (the NUL is the region's own zero); returns its address. */
  cString(s: string): number {
    const o = this.offset;
    // at most 3 UTF-8 bytes per UTF-16 unit: room for the worst case, then keep what was written
    if (o + 3 * s.length + 1 > this.size) throw new ArenaFull(`spawn arena overflow (a string of ${s.length} characters)`);
    this.offset = o + this.buf.write(s, o, 'utf8') + 1;
    return this.base + o;
  }

  /** NULL-terminated array of pointers (argv/envp style). */
  pointerArray(ptrs: number[]): number {
    const o = this.reserve(8 * (ptrs.length + 1), 8);
    for (let i = 0; i < ptrs.length; i++) putWord(this.u32, (o >> 2) + 2 * i, ptrs[i]);
    return this.base + o;
  }

  bytes(b: Uint8Array, align = 8): number {
    const o = this.reserve(Math.max(1, b.length), align);
    this.u8.set(b, o);
    return this.base + o;
  }

  /** 32-bit store at a 4-aligned address */
  setU32(address: number, v: number): void {
    this.u32[(address - this.base) >> 2] = v;
  }

  getI32(address: number): number {
    return this.u32[(address - this.base) >> 2] | 0;
  }

  /** 64-bit store at an 8-aligned address */
  setU64(address: number, v: Word): void {
    putWord(this.u32, (address - this.base) >> 2, v);
  }

  /** Unmap it (after clone: the child has its own copy). The views must not be used after this. */
  release(): void {
    if (libc().munmap(this.base, this.size) !== 0) throw sysError('munmap arena');
  }

  used(): number {
    return this.offset;
  }
}

/**
 * Little-endian 64-bit store into a 32-bit view at index w (w even for an 8-aligned word);
 * negative values in two's complement (typed-array stores wrap modulo 2^32).
 */
export function putWord(u32: Uint32Array, w: number, v: Word): void {
  if (typeof v === 'number') {
    const lo = v >>> 0;
    u32[w] = lo;
    u32[w + 1] = (v - lo) / TWO32;
  } else {
    u32[w] = Number(v & 0xffffffffn);
    u32[w + 1] = Number((v >> 32n) & 0xffffffffn);
  }
}

/** Little-endian 64-bit load as a number (for addresses: below 2^53). */
export function getWord(u32: Uint32Array, w: number): number {
  return u32[w] + u32[w + 1] * TWO32;
}
