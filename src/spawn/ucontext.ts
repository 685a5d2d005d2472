// Writing one ucontext: "call fn(args) on the shared stack, then go on with the context at `link`",
// what glibc's makecontext does. Two ways:
//  - emulated (x86_64): the registers and the frame are written from JS. Through an FFI, each
//    makecontext costs ~25 µs (a variadic call is prepared every time): ~20 ms for a chain. The
//    contexts are compact: every one points at the same fpregs block (the x87 environment, read
//    only by setcontext), so a context is only what setcontext reads (512 bytes, not 1024), and
//    it is written into fresh zeroed memory: only the words that matter, no template copy.
//    Checked against glibc's makecontext, byte for byte, on contexts the caller picks.
//  - glibc's makecontext through the FFI, on full contexts copied from a getcontext template (other
//    architectures, or TSRUNC_REAL_MAKECONTEXT=1), with the layout checked after every call.

import type { ArchInfo, UcontextLayout } from '../linux/arch';
import { libc, symbol, sysError } from '../linux/libc';
import { getWord, putWord, type Arena, type Word } from './arena';

/** stack bytes per context: on x86_64 makecontext writes its frame in the top of them */
export const FRAME_SLOT = 128;

/** The stack all contexts share (a mapping the caller owns): its address and a view of it. */
export interface SharedStack {
  base: number;
  u32: Uint32Array;
  u8: Uint8Array;
}

export interface ContextWriter {
  /**
   * Write, at arena offset `o`, a context that runs fn(args[0..n-1]) with every signal blocked
   * (none if `unblocked`), on a stack whose top is `top` bytes above the stack's base (its frame
   * goes just below), then continues with the context at address `link`. `args` may be longer
   * than n (a reused scratch array).
   */
  write(o: number, fn: number, args: readonly Word[], n: number, top: number, link: number, unblocked: boolean): void;
  /** write(), then check that glibc's makecontext, given the same, writes the very same bytes */
  writeVerified(o: number, fn: number, args: readonly Word[], n: number, top: number, link: number, unblocked: boolean, what: string): void;
}

/**
 * A writer for `arch`, with contexts in `arena` and frames in `stack`. It takes a few hundred
 * bytes of the arena for itself (the getcontext template, whose fpregs block compact contexts
 * share, and scratch contexts): the arena must outlive the contexts.
 */
export function contextWriter(arch: ArchInfo, arena: Arena, stack: SharedStack): ContextWriter {
  const uc = arch.ucontext;
  const lc = libc();
  const template = arena.reserve(uc.slot, 64);
  if (lc.getcontext(arena.base + template) !== 0) throw sysError('getcontext');
  return emulated(arch) ? new EmulatedX86Writer(uc, arena, stack, template) : new GlibcWriter(arch, arena, stack, template);
}

/** Bytes per context (a multiple of 64) that contextWriter(arch, ...) will write. */
export function contextSlot(arch: ArchInfo): number {
  return emulated(arch) ? arch.ucontext.compactSlot! : arch.ucontext.slot;
}

function emulated(arch: ArchInfo): boolean {
  return arch.name === 'x86_64' && arch.ucontext.compactSlot !== undefined && process.env.TSRUNC_REAL_MAKECONTEXT !== '1';
}

// uc_mcontext.gregs[] indices (sys/ucontext.h), and the argument registers in order
const REG_R8 = 0;
const REG_R9 = 1;
const REG_RDI = 8;
const REG_RSI = 9;
const REG_RBX = 11;
const REG_RDX = 12;
const REG_RCX = 14;
const REG_RSP = 15;
const REG_RIP = 16;
/** 32-bit word index of gregs[r] in a context */
const gregW = (r: number) => (40 + 8 * r) >> 2;
const W_RIP = gregW(REG_RIP);
const W_RSP = gregW(REG_RSP);
const W_RBX = gregW(REG_RBX);
const ARG_W = [REG_RDI, REG_RSI, REG_RDX, REG_RCX, REG_R8, REG_R9].map(gregW);
const TWO32 = 4294967296;
/** 6 in registers, the rest in the frame: at most 13 there for the frame to fit in its FRAME_SLOT */
const MAX_ARGS = 6 + (FRAME_SLOT - 24) / 8;

/**
 * glibc's x86_64 makecontext (sysdeps/unix/sysv/linux/x86_64/makecontext.c), in JS: the frame
 * below the stack top holds the return address (__start_context), the arguments past the sixth
 * and uc_link; RBX points at that uc_link (__start_context reads it from there, not from the
 * context); the first six arguments go to registers.
 */
class EmulatedX86Writer implements ContextWriter {
  /** bytes per context (contextSlot) */
  private readonly slot: number;
  private readonly u32: Uint32Array;
  private readonly u8: Uint8Array;
  /** 32-bit word index in a context of the fpregs pointer, MXCSR and uc_sigmask */
  private readonly fpregsW: number;
  private readonly mxcsrW: number;
  private readonly sigmaskW: number;
  /** the words every context gets: the shared fpregs block, MXCSR, __start_context (the frame's return address) */
  private readonly fpregsLo: number;
  private readonly fpregsHi: number;
  private readonly mxcsrValue: number;
  private readonly startLo: number;
  private readonly startHi: number;
  /** two full-size scratch contexts for verification */
  private readonly scratch: [number, number];

  constructor(
    private readonly uc: UcontextLayout,
    private readonly arena: Arena,
    private readonly stack: SharedStack,
    private readonly template: number,
  ) {
    if (uc.pc !== 4 * W_RIP || uc.sp !== 4 * W_RSP || uc.arg0 !== 4 * ARG_W[0]) {
      throw new Error('spawn engine: the x86_64 ucontext table disagrees with the makecontext emulation');
    }
    this.slot = uc.compactSlot!;
    this.u32 = arena.u32;
    this.u8 = arena.u8;
    this.fpregsW = uc.fpregsPtr! >> 2;
    this.mxcsrW = uc.mxcsr! >> 2;
    this.sigmaskW = uc.sigmask >> 2;
    // getcontext pointed the template's fpregs at its own __fpregs_mem: every context shares it
    const fpregs = arena.base + template + uc.fpregsMem!;
    if (getWord(this.u32, (template + uc.fpregsPtr!) >> 2) !== fpregs) {
      throw new Error('spawn engine: ucontext layout mismatch (fpregs)');
    }
    this.fpregsLo = fpregs >>> 0;
    this.fpregsHi = (fpregs - this.fpregsLo) / TWO32;
    this.mxcsrValue = this.u32[(template + uc.mxcsr!) >> 2];
    if (this.mxcsrValue === 0 || this.mxcsrValue > 0xffff) throw new Error('spawn engine: ucontext layout mismatch (mxcsr)');
    this.scratch = [arena.reserve(uc.slot, 64), arena.reserve(uc.slot, 64)];
    // __start_context is hidden: learn its address from one real makecontext on a scratch context
    const s = this.scratch[0];
    this.u8.copyWithin(s, template, template + uc.size);
    this.setStack(s, FRAME_SLOT, 0);
    libc().makecontext(arena.base + s, symbol('getpid'), []);
    const startContext = getWord(stack.u32, (getWord(this.u32, (s + uc.sp) >> 2) - stack.base) >> 2);
    this.startLo = startContext >>> 0;
    this.startHi = (startContext - this.startLo) / TWO32;
  }

  write(o: number, fn: number, args: readonly Word[], n: number, top: number, link: number, unblocked: boolean): void {
    if (n > MAX_ARGS) throw new Error(`spawn engine: a call with ${n} arguments (at most ${MAX_ARGS})`);
    const u = this.u32;
    const w = o >> 2;
    const onStack = n > 6 ? n - 6 : 0;
    // stack offsets (bytes above the stack's page-aligned base): the same alignment as addresses
    let sp = top - 8 * (onStack + 1);
    sp -= (sp & 15) + 8;
    const linkAt = sp + 8 * (onStack + 1);
    // 64-bit words go in as 32-bit halves, split inline: this runs for every context, mostly in
    // the interpreter
    let v = fn;
    let lo = v >>> 0;
    u[w + W_RIP] = lo;
    u[w + W_RIP + 1] = (v - lo) / TWO32;
    v = this.stack.base + linkAt;
    lo = v >>> 0;
    u[w + W_RBX] = lo;
    u[w + W_RBX + 1] = (v - lo) / TWO32;
    v = this.stack.base + sp;
    lo = v >>> 0;
    u[w + W_RSP] = lo;
    u[w + W_RSP + 1] = (v - lo) / TWO32;
    u[w + this.fpregsW] = this.fpregsLo;
    u[w + this.fpregsW + 1] = this.fpregsHi;
    u[w + this.mxcsrW] = this.mxcsrValue;
    // every context runs with all signals blocked: no inherited runtime handler may run in the
    // child; exec contexts get an empty mask, which is what unblocks signals for the new program
    const mask = unblocked ? 0 : 0xffffffff;
    u[w + this.sigmaskW] = mask;
    u[w + this.sigmaskW + 1] = mask;
    const s = this.stack.u32;
    const f = sp >> 2; // the frame: return address, stack arguments, uc_link
    s[f] = this.startLo;
    s[f + 1] = this.startHi;
    lo = link >>> 0;
    s[(linkAt >> 2)] = lo;
    s[(linkAt >> 2) + 1] = (link - lo) / TWO32;
    const regs = n < 6 ? n : 6;
    for (let i = 0; i < regs; i++) {
      const a = args[i];
      const x = w + ARG_W[i];
      if (typeof a === 'number') {
        lo = a >>> 0;
        u[x] = lo;
        u[x + 1] = (a - lo) / TWO32;
      } else {
        putWord(u, x, a);
      }
    }
    for (let i = 6; i < n; i++) putWord(s, f + 2 * (i - 5), args[i]);
  }

  writeVerified(o: number, fn: number, args: readonly Word[], n: number, top: number, link: number, unblocked: boolean, what: string): void {
    this.write(o, fn, args, n, top, link, unblocked);
    const { u8, uc, slot } = this;
    const [ours, theirs] = this.scratch;
    // ours as a full context: the compact bytes, the template's beyond them, and what glibc's
    // makecontext reads (uc_stack, uc_link); theirs starts as a copy and gets glibc's makecontext
    u8.copyWithin(ours, o, o + slot);
    u8.copyWithin(ours + slot, this.template + slot, this.template + uc.size);
    this.setStack(ours, top, link);
    u8.copyWithin(theirs, ours, ours + uc.size);
    const ourFrame = this.stack.u8.slice(top - FRAME_SLOT, top);
    libc().makecontext(this.arena.base + theirs, fn, args.slice(0, n));
    const theirFrame = this.stack.u8.subarray(top - FRAME_SLOT, top);
    if (!sameBytes(u8.subarray(ours, ours + uc.size), u8.subarray(theirs, theirs + uc.size)) || !sameBytes(ourFrame, theirFrame)) {
      throw new Error(`spawn engine: the makecontext emulation differs from glibc's (${what}); this glibc needs TSRUNC_REAL_MAKECONTEXT=1`);
    }
  }

  private setStack(o: number, top: number, link: number): void {
    putWord(this.u32, (o + this.uc.stackSp) >> 2, this.stack.base);
    this.u32[(o + this.uc.stackFlags) >> 2] = 0;
    putWord(this.u32, (o + this.uc.stackSize) >> 2, top);
    putWord(this.u32, (o + this.uc.link) >> 2, link);
  }
}

/** glibc's makecontext on every context (full size, copied from the template), layout checked after each. */
class GlibcWriter implements ContextWriter {
  private readonly uc: UcontextLayout;

  constructor(
    private readonly arch: ArchInfo,
    private readonly arena: Arena,
    private readonly stack: SharedStack,
    private readonly template: number,
  ) {
    this.uc = arch.ucontext;
  }

  write(o: number, fn: number, args: readonly Word[], n: number, top: number, link: number, unblocked: boolean): void {
    const { uc, arena } = this;
    const u = arena.u32;
    arena.u8.copyWithin(o, this.template, this.template + uc.size);
    if (uc.fpregsPtr !== undefined && uc.fpregsMem !== undefined) putWord(u, (o + uc.fpregsPtr) >> 2, arena.base + o + uc.fpregsMem);
    putWord(u, (o + uc.stackSp) >> 2, this.stack.base);
    u[(o + uc.stackFlags) >> 2] = 0;
    putWord(u, (o + uc.stackSize) >> 2, top);
    // uc_link must be set before makecontext: glibc copies it into the new frame
    putWord(u, (o + uc.link) >> 2, link);
    const mask = unblocked ? 0 : 0xffffffff;
    u[(o + uc.sigmask) >> 2] = mask;
    u[(o + uc.sigmask + 4) >> 2] = mask;
    libc().makecontext(arena.base + o, fn, args.slice(0, n));
    // self-check of the layout assumptions: a wrong table must fail here, loudly, not in the child
    const what = `the context at ${o}`;
    if (getWord(u, (o + uc.pc) >> 2) !== fn) throw new Error(`spawn engine: ucontext layout mismatch at ${what} (pc)`);
    const arg0 = (BigInt(u[((o + uc.arg0) >> 2) + 1]) << 32n) | BigInt(u[(o + uc.arg0) >> 2]);
    if (n > 0 && arg0 !== BigInt.asUintN(64, BigInt(args[0]))) {
      throw new Error(`spawn engine: ucontext layout mismatch at ${what} (first argument)`);
    }
    if (this.arch.makecontextWritesFrame) {
      const sp = getWord(u, (o + uc.sp) >> 2);
      const frameTop = this.stack.base + top;
      if (sp >= frameTop || sp < frameTop - FRAME_SLOT || (sp + 8) % 16 !== 0) throw new Error(`spawn engine: frame of ${what} outside its ladder slot`);
    }
  }

  writeVerified(o: number, fn: number, args: readonly Word[], n: number, top: number, link: number, unblocked: boolean): void {
    this.write(o, fn, args, n, top, link, unblocked);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.length).equals(b);
}
