// The spawn engine: turns a Program into linked ucontexts and starts a child that runs them.
//
// Each call becomes one ucontext_t prepared in the parent with getcontext + makecontext and linked
// to the next through uc_link. The child starts with clone(fn = setcontext, arg = &context[0]);
// when a context's function returns, glibc's __start_context does setcontext(uc_link). No
// JavaScript ever runs in the child — only libc code and the kernel.
//
// A chain has no branches, so errors are handled with two memory tricks:
//  - tripwire: after a checked step the child copies errno's low byte into byte 6 of the next
//    context's saved program counter. errno is zeroed first and every errno is 1..133, so a
//    failure makes that address non-canonical: setcontext's jump faults and the child dies
//    (SIGSEGV, forced even while blocked) before doing anything else;
//  - go byte: a checkpoint reads one byte from the parent into that same place, preset to 0xFF:
//    only the parent's 0x00 lets the child go on; EOF (parent died) leaves 0xFF and it faults.
// Records {step, errno} written after steps tell the parent which step failed and why.
//
// Stack: all contexts share one stack ("frame ladder"). On x86_64 makecontext writes a small frame
// (return address to __start_context, uc_link, stack arguments) at the top of the context's stack;
// context i gets a stack ending SHARED + (i+1)*FRAME bytes above the base, so its frame sits just
// above frame i-1 and running context i only overwrites frames already consumed.
//
// The parent's side of clone() is a short chain too ("clone sequence"): enter the namespaces the
// child must be cloned into (setns on this thread), clone, step back out — run by one
// swapcontext, so no JavaScript runs while this thread sits in another pid namespace (a thread
// created then, by the JS engine for its own use, fails with EINVAL and aborts the runtime). A
// failed setns writes errno's low byte into byte 6 of the child's start address: the child dies
// at its first instruction, before anything of the container runs.

import { ARCHES, hostArch, type ArchInfo } from '../linux/arch';
import { libc, symbol, sysError, waitChild } from '../linux/libc';
import { Arena } from './arena';
import { mark } from '../state/timing';
import { withSmallFootprint } from './footprint';
import { RECORD, type Arg, type Program, type Step } from './program';

const SHARED_STACK = 256 << 10;
const FRAME_SLOT = 128;
const PAGE = 4096;
const TRIP_BYTE = 6; // bits 48..55: zero in every user address on x86_64 and aarch64 (TBI covers only byte 7)
const O_CLOEXEC = 0o2000000;
const SIG_SETMASK = 2;
const CLOCK_MONOTONIC = 1;
const SIGCHLD = 17;
const PIPE_CAPACITY = 65536;
const CLONE_PARENT_SETTID = 0x00100000;
/** stack room below the clone sequence's frames, for setns and clone themselves */
const SEQUENCE_GAP = 64 << 10;
/** contexts the clone sequence may use: 4 + 5 per namespace entered */
const SEQUENCE_MAX = 64;

type Role = 'step' | 'record' | 'tripwire' | 'errno-reset' | 'go-byte' | 'exec' | 'exit' | 'timestamp' | 'setup';

interface ContextSpec {
  fn: string;
  args: (Arg | { nextPc: true } | { recordOf: number; kind: number; withTime?: bigint })[];
  step: number;
  role: Role;
  /** signals unblocked while this context runs (exec only) */
  unblocked: boolean;
  /** the next context's trip byte starts as 0xFF (a checkpoint's go byte) */
  presetNext: boolean;
}

export interface StepInfo {
  index: number;
  desc: string;
  op: Step['op'];
  check?: string;
  tag?: string;
}

export interface BuiltChain {
  pid?: number;
  steps: StepInfo[];
  contexts: number;
  arenaBytes: number;
  /** child fd number of each kept slot */
  childFd: Record<string, number>;
  /** clone the child into `joins` (entered on this thread around clone only); returns its pid */
  launch(cloneFlags: number, joins?: NamespaceJoin[]): number;
}

export interface NamespaceJoin {
  /** CLONE_NEW* flag */
  flag: number;
  /** fd of the namespace to clone the child into */
  fd: number;
  /** fd of this thread's namespace of that kind, to step back to */
  backFd: number;
  /** for errors: `pid namespace /proc/123/ns/pid` */
  what: string;
}

/**
 * Lay out `program` for a child whose kept fds come from `parentFds` (slot name → parent fd).
 * Nothing runs until launch().
 */
export function buildChain(program: Program, parentFds: Record<string, number>, arch: ArchInfo = hostArch()): BuiltChain {
  if (!arch.verified) throw new Error(`spawn engine: the ${arch.name} ucontext layout has not been verified yet`);
  const lc = libc();
  const errnoLoc = BigInt(lc.errnoLocation());
  const keepFds = program.keep.map((slot) => {
    const fd = parentFds[slot];
    if (fd === undefined) throw new Error(`spawn engine: no fd given for slot "${slot}"`);
    return fd;
  });
  // kept fds move to base..base+n-1; the base must be above every parent fd being moved so that a
  // dup3 never overwrites a kept fd that has not been moved yet
  const base = Math.max(program.keepBase, ...keepFds.map((fd) => fd + 1));
  const childFd: Record<string, number> = {};
  program.keep.forEach((slot, i) => (childFd[slot] = base + i));

  const ctxs: ContextSpec[] = [];
  const steps: StepInfo[] = [];
  let recordsFd: number | null = null;
  let channelFd: number | null = null;
  const resolveFd = (fd: { slot: string } | number | null): number | null => {
    if (fd === null || typeof fd === 'number') return fd;
    const n = childFd[fd.slot];
    if (n === undefined) throw new Error(`spawn engine: unknown fd slot "${fd.slot}"`);
    return n;
  };
  const add = (c: Omit<ContextSpec, 'unblocked' | 'presetNext'> & Partial<ContextSpec>) =>
    ctxs.push({ unblocked: false, presetNext: false, ...c });
  const record = (step: number, kind: number, fd: number) =>
    add({ fn: 'writev', args: [fd, { recordOf: step, kind }, 2], step, role: 'record' });
  const tripwire = (step: number) => add({ fn: 'memcpy', args: [{ nextPc: true }, { errnoAddress: true }, 1], step, role: 'tripwire' });
  const resetErrno = (step: number) => add({ fn: 'memset', args: [{ errnoAddress: true }, 0, 4], step, role: 'errno-reset' });

  // --- engine prologue: zero errno (the child's is a copy of ours), normalise fds ---
  const setup = (fn: string, args: Arg[], desc: string) => {
    const index = steps.length;
    steps.push({ index, desc, op: 'call', check: 'trip' });
    add({ fn, args, step: index, role: 'setup' });
    if (fn !== 'memset') tripwire(index);
  };
  setup('memset', [{ errnoAddress: true }, 0, 4], 'errno = 0');
  keepFds.forEach((fd, i) => setup('dup3', [fd, base + i, O_CLOEXEC], `dup3(${fd}, ${base + i}) keep ${program.keep[i]}`));
  setup('close_range', [3, base - 1, 0], `close_range(3, ${base - 1}): close everything inherited`);
  setup('close_range', [base + keepFds.length, 0xffffffff, 0], `close_range(${base + keepFds.length}, ~0)`);

  for (const s of program.steps) {
    const index = steps.length;
    steps.push({ index, desc: s.desc, op: s.op, check: 'check' in s ? s.check : undefined, tag: s.op === 'call' ? s.tag : undefined });
    switch (s.op) {
      case 'call':
      case 'syscall': {
        const args = s.op === 'syscall' ? [arch.syscalls[s.name], ...s.args] : s.args;
        add({ fn: s.op === 'syscall' ? 'syscall' : s.fn, args, step: index, role: 'step' });
        const wantsRecord = s.check === 'full' || s.check === 'warn' || s.check === 'report';
        if (wantsRecord && recordsFd !== null) record(index, RECORD.STEP, recordsFd);
        if (s.check === 'full' || s.check === 'trip') tripwire(index);
        if (s.check === 'warn' || s.check === 'report' || s.check === 'ignore') resetErrno(index);
        break;
      }
      case 'checkpoint':
        if (channelFd === null) throw new Error(`spawn engine: checkpoint "${s.name}" without a channel`);
        record(index, RECORD.CHECKPOINT, channelFd);
        add({ fn: 'read', args: [channelFd, { nextPc: true }, 1], step: index, role: 'go-byte', presetNext: true });
        break;
      case 'records':
        recordsFd = resolveFd(s.fd);
        break;
      case 'channel':
        channelFd = resolveFd(s.fd);
        break;
      case 'timestamp':
        if (recordsFd !== null) {
          add({ fn: 'clock_gettime', args: [CLOCK_MONOTONIC, { buffer: 16 }], step: index, role: 'timestamp' });
          add({ fn: 'writev', args: [recordsFd, { recordOf: index, kind: RECORD.TIMESTAMP }, 3], step: index, role: 'record' });
        }
        break;
      case 'exec':
        add({ fn: 'execve', args: [{ str: s.path }, { strv: s.argv }, { strv: s.envp }], step: index, role: 'exec', unblocked: true });
        if (recordsFd !== null) record(index, RECORD.EXEC, recordsFd);
        resetErrno(index);
        break;
      case 'exit':
        add({ fn: '_exit', args: [s.code], step: index, role: 'exit' });
        break;
    }
  }
  const last = ctxs[ctxs.length - 1];
  if (!last || last.fn !== '_exit') {
    // falling off the chain makes __start_context call exit(), running Node's atexit code in the child
    throw new Error('spawn engine: a program must end with an exit step');
  }
  checkRecordBudget(ctxs, program, childFd);
  mark('engine: contexts listed');
  return materialize(ctxs, steps, childFd, errnoLoc, arch);
}

/** Records written to a pipe are read only at checkpoints: between two of them they must fit in it. */
function checkRecordBudget(ctxs: ContextSpec[], program: Program, childFd: Record<string, number>): void {
  const pipeFd = childFd.records;
  if (pipeFd === undefined) return;
  let bytes = 0;
  for (const c of ctxs) {
    if (c.role === 'go-byte') bytes = 0;
    if (c.role === 'record' && c.args[0] === pipeFd) bytes += c.args[2] === 3 ? 24 : 8;
    if (bytes > PIPE_CAPACITY) throw new Error(`spawn engine: ${bytes} bytes of records between checkpoints exceed the pipe (${program.steps.length} steps)`);
  }
}

function materialize(ctxs: ContextSpec[], steps: StepInfo[], childFd: Record<string, number>, errnoLoc: bigint, arch: ArchInfo): BuiltChain {
  const lc = libc();
  const uc = arch.ucontext;
  const n = ctxs.length;
  // size the arena: contexts, the clone sequence and what their arguments need
  let need = (n + SEQUENCE_MAX + 1) * uc.slot + 4096 + 8 * SEQUENCE_MAX;
  for (const c of ctxs) for (const a of c.args) need += argBytes(a);
  const arena = new Arena(roundUp(need, PAGE));
  const ucBase = arena.reserve(uc.slot * n, 64);
  const ucAddr = (i: number) => arena.addr(ucBase + i * uc.slot);
  const ucBaseN = Number(arena.addr(ucBase));
  const ucAddrN = (i: number) => ucBaseN + i * uc.slot;
  mark('engine: arena mapped');

  // one stack for all contexts, with a PROT_NONE guard page below it; the clone sequence's frames
  // sit above the child's, past a gap its calls run in
  const sequenceLow = SHARED_STACK + n * FRAME_SLOT;
  const stackLen = roundUp(sequenceLow + SEQUENCE_GAP + SEQUENCE_MAX * FRAME_SLOT, PAGE);
  const map = BigInt(lc.mmap(null, stackLen + PAGE, 3, 0x22, -1, 0n));
  if (map === 0xffffffffffffffffn) throw sysError('mmap chain stack');
  if (lc.mprotect(map, PAGE, 0) !== 0) throw sysError('mprotect guard page');
  const stackBase = map + BigInt(PAGE);
  const cloneStackTop = stackBase + BigInt(SHARED_STACK);

  // template context: one getcontext, copied for every context (2x faster than one each)
  const tmplAddr = arena.alloc(uc.slot, 64);
  if (lc.getcontext(tmplAddr) !== 0) throw sysError('getcontext');
  const tmpl = arena.u8.slice(arena.offsetOf(tmplAddr), arena.offsetOf(tmplAddr) + uc.size);

  const dv = arena.view;
  const records = new Map<string, bigint>();
  const recordIov = (step: number, kind: number, withTime: boolean, tsBuf: bigint): bigint => {
    const key = `${step}:${kind}`;
    let iov = records.get(key);
    if (iov === undefined) {
      const tag = arena.alloc(4, 4);
      arena.setU32(tag, ((kind & 0xff) << 24) | step);
      iov = arena.alloc(48, 8);
      arena.setU64(iov, tag);
      arena.setU64(iov + 8n, 4n);
      arena.setU64(iov + 16n, errnoLoc); // errno is read straight from TLS when the record is written
      arena.setU64(iov + 24n, 4n);
      if (withTime) {
        arena.setU64(iov + 32n, tsBuf);
        arena.setU64(iov + 40n, 16n);
      }
      records.set(key, iov);
    }
    return iov;
  };

  // makecontext, written from JS: 780 koffi calls cost ~20 ms; writing the registers and the
  // frame ourselves costs ~1 ms. Checked against glibc's makecontext below (twice, byte for
  // byte), and the koffi path stays for architectures without an emulation.
  const stackView = new DataView(lc.koffi.view(stackBase, stackLen) as ArrayBuffer);
  const emulate = makecontextEmulation(arch, stackBase, stackView, dv, arena);

  /**
   * Context at `addr`: run fn(args) on a stack of `top` bytes above the stack base, then go on
   * with `link`; every signal blocked unless `unblocked`. `verify`: glibc's makecontext writes
   * the same context after ours, and the bytes must match. Addresses are plain numbers here (user
   * addresses fit in 47 bits): BigInt arithmetic, run by the interpreter ~750 times, cost more
   * than everything else in this loop.
   */
  const stackBaseN = Number(stackBase);
  const arenaBaseN = Number(arena.base);
  const writeContext = (addr: number, fn: number, args: Word[], top: number, link: number, unblocked: boolean, verify: boolean, what: string) => {
    const o = addr - arenaBaseN;
    arena.u8.set(tmpl, o);
    if (uc.fpregsPtr !== undefined && uc.fpregsMem !== undefined) put64(dv, o + uc.fpregsPtr, addr + uc.fpregsMem);
    put64(dv, o + uc.stackSp, stackBaseN);
    dv.setUint32(o + uc.stackFlags, 0, true);
    put64(dv, o + uc.stackSize, top);
    // uc_link must be set before makecontext: glibc copies it into the new frame
    put64(dv, o + uc.link, link);
    // every context runs with all signals blocked: no inherited runtime handler may run in the
    // child; exec contexts get an empty mask, which is what unblocks signals for the new program
    const mask = unblocked ? 0 : 0xffffffff;
    dv.setUint32(o + uc.sigmask, mask, true);
    dv.setUint32(o + uc.sigmask + 4, mask, true);
    const real = () => {
      const va: unknown[] = [];
      for (const v of args) va.push('int64_t', BigInt.asIntN(64, BigInt(v)));
      lc.makecontext(BigInt(addr), BigInt(fn), args.length, ...va);
    };
    if (!emulate) real();
    else if (!verify) emulate(o, fn, args, stackBaseN + top, link);
    else {
      // ours, then glibc's on the same context: they must write the very same bytes
      emulate(o, fn, args, stackBaseN + top, link);
      const ours = arena.u8.slice(o, o + uc.size);
      const frameFrom = top - FRAME_SLOT;
      const ourFrame = new Uint8Array(stackView.buffer.slice(frameFrom, top));
      real();
      const theirs = arena.u8.subarray(o, o + uc.size);
      const theirFrame = new Uint8Array(stackView.buffer.slice(frameFrom, top));
      if (!Buffer.from(ours).equals(Buffer.from(theirs)) || !Buffer.from(ourFrame).equals(Buffer.from(theirFrame))) {
        throw new Error(`spawn engine: the makecontext emulation differs from glibc's (${what}); this glibc needs the slow path`);
      }
    }
    // self-check of the layout assumptions: a wrong table must fail here, loudly, not in the child
    if (get64(dv, o + uc.pc) !== fn) throw new Error(`spawn engine: ucontext layout mismatch at ${what} (pc)`);
    if (args.length && !sameWord(dv, o + uc.arg0, args[0])) {
      throw new Error(`spawn engine: ucontext layout mismatch at ${what} (first argument)`);
    }
    if (arch.makecontextWritesFrame) {
      const sp = get64(dv, o + uc.sp);
      const frameTop = stackBaseN + top;
      if (sp >= frameTop || sp < frameTop - FRAME_SLOT || (sp + 8) % 16 !== 0) {
        throw new Error(`spawn engine: frame of ${what} outside its ladder slot`);
      }
    }
  };
  const symbolN = new Map<string, number>();
  const fnAddr = (name: string) => {
    let a = symbolN.get(name);
    if (a === undefined) symbolN.set(name, (a = Number(symbol(name))));
    return a;
  };

  const verifyAt = new Set<number>([0, ctxs.findIndex((c) => c.args.length > 6)].filter((i) => i >= 0));
  let lastBuffer = 0n;
  for (let i = 0; i < n; i++) {
    const c = ctxs[i];
    const args: Word[] = c.args.map((a) => {
      if (typeof a === 'number') return a;
      if (typeof a === 'object' && 'nextPc' in a) return ucAddrN(i + 1) + uc.pc + TRIP_BYTE;
      if (typeof a === 'object' && 'recordOf' in a) return recordIov(a.recordOf, a.kind, c.args[2] === 3, lastBuffer);
      const v = materializeArg(arena, a, childFd, errnoLoc);
      if (typeof a === 'object' && 'buffer' in a) lastBuffer = v;
      return v;
    });
    const top = SHARED_STACK + (arch.makecontextWritesFrame ? (i + 1) * FRAME_SLOT : 0);
    writeContext(ucAddrN(i), fnAddr(c.fn), args, top, i + 1 < n ? ucAddrN(i + 1) : 0, c.unblocked, verifyAt.has(i), `context ${i}`);
  }
  mark('engine: contexts written');
  for (let i = 0; i + 1 < n; i++) if (ctxs[i].presetNext) arena.setU8(ucAddr(i + 1) + BigInt(uc.pc + TRIP_BYTE), 0xff);

  // the clone sequence's memory: its contexts, the context swapcontext saves ours in, and one
  // errno slot per call
  const seqBase = arena.reserve(uc.slot * SEQUENCE_MAX, 64);
  const seqAddr = (k: number) => arena.addr(seqBase + k * uc.slot);
  const savedAddr = arena.alloc(uc.slot, 64);
  const slots = arena.alloc(8 * SEQUENCE_MAX, 8);

  /**
   * Write the clone sequence for `joins`: [errno = 0; setns; errno → slot]... errno's low byte →
   * the child's start address; errno = 0; clone; errno → slot; [errno = 0; setns back; errno →
   * slot]...; then back to the saved context. Returns where each result lands.
   */
  const writeSequence = (cloneFlags: number, joins: NamespaceJoin[]) => {
    const calls: Array<{ fn: string; args: bigint[] }> = [];
    const slotOf = (k: number) => slots + BigInt(4 * k);
    let nSlots = 0;
    const checked = (fn: string, args: bigint[]): number => {
      const slot = nSlots++;
      calls.push({ fn, args });
      calls.push({ fn: 'memcpy', args: [slotOf(slot), errnoLoc, 4n] });
      return slot;
    };
    const zeroErrno = () => calls.push({ fn: 'memset', args: [errnoLoc, 0n, 4n] });
    zeroErrno();
    // errno stays 0 through successful calls: the first failure poisons the child's start address
    const enter = joins.map((j) => checked('setns', [BigInt(j.fd), BigInt(j.flag)]));
    if (joins.length) {
      const cloneIndex = calls.length + 2; // after this memcpy and the errno reset
      calls.push({ fn: 'memcpy', args: [seqAddr(cloneIndex) + BigInt(uc.arg0 + TRIP_BYTE), errnoLoc, 1n] });
      zeroErrno();
    }
    const pidSlot = nSlots++;
    const clone = checked('clone', [symbol('setcontext'), cloneStackTop, BigInt((cloneFlags | SIGCHLD | CLONE_PARENT_SETTID) >>> 0), ucAddr(0), slotOf(pidSlot)]);
    const back = joins.map((j) => {
      zeroErrno();
      return checked('setns', [BigInt(j.backFd), BigInt(j.flag)]);
    });
    if (calls.length > SEQUENCE_MAX) throw new Error(`spawn engine: a clone sequence of ${calls.length} calls (at most ${SEQUENCE_MAX})`);
    for (let k = 0; k < nSlots; k++) arena.setU32(slotOf(k), 0);
    calls.forEach((c, k) => {
      const top = sequenceLow + SEQUENCE_GAP + (k + 1) * FRAME_SLOT;
      writeContext(Number(seqAddr(k)), fnAddr(c.fn), c.args, top, Number(k + 1 < calls.length ? seqAddr(k + 1) : savedAddr), false, false, `clone sequence ${k}`);
    });
    const read = (slot: number) => dv.getInt32(arena.offsetOf(slotOf(slot)), true);
    return { enter: () => enter.map(read), clone: () => read(clone), pid: () => read(pidSlot), back: () => back.map(read) };
  };

  const built: BuiltChain = {
    steps,
    contexts: n,
    arenaBytes: arena.used(),
    childFd,
    launch(cloneFlags: number, joins: NamespaceJoin[] = []): number {
      const results = writeSequence(cloneFlags, joins);
      // Block every signal in this thread around clone(): nothing may reach the child between
      // clone() and its first setcontext (which installs the all-blocked mask), or a runtime
      // handler copied into the child would run there.
      // (Only the swap runs blocked: a thread that JavaScriptCore must suspend by a signal, e.g.
      // for its sampling profiler, would hang the runtime if it ran JS with every signal blocked.)
      const all = Buffer.alloc(128, 0xff);
      const old = Buffer.alloc(128);
      // the child needs its arena, its stack and this thread's TLS: errno, and the TCB that
      // glibc reads through the thread pointer (stack guard, cancellation state)
      const keep = [arena.base, stackBase, errnoLoc, BigInt(lc.pthreadSelf())];
      const swapped = withSmallFootprint(keep, () => {
        lc.pthreadSigmask(SIG_SETMASK, all, old);
        try {
          return lc.swapcontext(savedAddr, seqAddr(0)) as number;
        } finally {
          lc.pthreadSigmask(SIG_SETMASK, old, null);
        }
      });
      if (swapped !== 0) throw sysError('swapcontext');
      const pid = results.pid();
      const enterErrnos = results.enter();
      const backErrnos = results.back();
      const cloneErrno = results.clone();
      // The child has its own copy of the arena and the stack; ours are no longer needed. Unmapped
      // now, the child's pages are its alone, and its first write to each reuses the page instead
      // of copying it: ~100 copies fewer, charged to no cgroup (with a memory limit they were the
      // init's main charge, and how many happened after it joined its cgroup varied run to run).
      arena.release();
      lc.munmap(map, stackLen + PAGE);
      const failedJoin = enterErrnos.findIndex((e) => e !== 0);
      const failedBack = backErrnos.findIndex((e) => e !== 0);
      let childSignal: number | undefined;
      if (pid > 0 && failedJoin >= 0) {
        // poisoned: it dies of SIGSEGV at its first instruction; killed should that ever not be so
        for (let i = 0; i < 1000 && childSignal === undefined; i++) {
          const w = waitChild(pid, true);
          if (w) childSignal = w.signal ?? 0;
          else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
        }
      }
      if (pid > 0 && childSignal === undefined && (failedJoin >= 0 || failedBack >= 0)) {
        // cloned by a thread now stuck in another namespace: the runtime cannot go on with it
        lc.kill(pid, 9);
        waitChild(pid);
      }
      if (failedJoin >= 0) throw Object.assign(sysError(`setns ${joins[failedJoin].what}`, enterErrnos[failedJoin]), { childSignal });
      if (failedBack >= 0) throw sysError(`setns back to the runtime's ${joins[failedBack].what.split(' ')[0]} namespace`, backErrnos[failedBack]);
      if (pid <= 0) throw sysError('clone', cloneErrno);
      built.pid = pid;
      return pid;
    },
  };
  return built;
}

/** A 64-bit value: a number (exact below 2^53: every user address, every small argument) or a BigInt. */
type Word = number | bigint;

const TWO32 = 4294967296;

/** Little-endian 64-bit store; negative numbers are stored in two's complement. */
function put64(dv: DataView, off: number, v: Word): void {
  if (typeof v === 'bigint') {
    dv.setBigUint64(off, BigInt.asUintN(64, v), true);
    return;
  }
  dv.setUint32(off, v >>> 0, true);
  dv.setUint32(off + 4, Math.floor(v / TWO32) >>> 0, true);
}

/** Little-endian 64-bit load as a number (for addresses: below 2^53). */
function get64(dv: DataView, off: number): number {
  return dv.getUint32(off, true) + dv.getUint32(off + 4, true) * TWO32;
}

function sameWord(dv: DataView, off: number, v: Word): boolean {
  return dv.getBigUint64(off, true) === BigInt.asUintN(64, BigInt(v));
}

type Emulation = (ucOffset: number, fn: number, args: Word[], stackTop: number, link: number) => void;

/**
 * glibc's x86_64 makecontext (sysdeps/unix/sysv/linux/x86_64/makecontext.c), in JS: the frame
 * below the stack top holds the return address (__start_context), the arguments past the sixth
 * and uc_link; RBX points at uc_link; the first six arguments go to registers. Null when the
 * architecture has no emulation (the caller then calls makecontext through koffi).
 */
function makecontextEmulation(arch: ArchInfo, stackBase: bigint, stack: DataView, dv: DataView, arena: Arena): Emulation | null {
  if (arch.name !== 'x86_64' || process.env.TSRUNC_REAL_MAKECONTEXT === '1') return null;
  const lc = libc();
  // __start_context is hidden: learn its address from one real makecontext on a scratch context
  const scratch = arena.alloc(arch.ucontext.slot, 64);
  if (lc.getcontext(scratch) !== 0) throw sysError('getcontext');
  const so = arena.offsetOf(scratch);
  dv.setBigUint64(so + arch.ucontext.stackSp, stackBase, true);
  dv.setBigUint64(so + arch.ucontext.stackSize, BigInt(SHARED_STACK), true);
  lc.makecontext(scratch, symbol('getpid'), 0);
  const base = Number(stackBase);
  const startContext = get64(stack, get64(dv, so + arch.ucontext.sp) - base);
  const greg = (r: number) => 40 + 8 * r; // uc_mcontext.gregs[r]
  const ARG_REGS = [8 /* RDI */, 9 /* RSI */, 12 /* RDX */, 14 /* RCX */, 0 /* R8 */, 1 /* R9 */];
  const REG_RBX = 11;
  const REG_RSP = 15;
  const REG_RIP = 16;
  return (o, fn, args, stackTop, link) => {
    const onStack = Math.max(0, args.length - 6);
    let sp = stackTop - 8 * (onStack + 1);
    sp = sp - (sp % 16) - 8;
    const idxLink = onStack + 1;
    put64(dv, o + greg(REG_RIP), fn);
    put64(dv, o + greg(REG_RBX), sp + 8 * idxLink);
    put64(dv, o + greg(REG_RSP), sp);
    put64(stack, sp - base, startContext);
    put64(stack, sp + 8 * idxLink - base, link);
    for (let i = 0; i < args.length; i++) {
      if (i < 6) put64(dv, o + greg(ARG_REGS[i]), args[i]);
      else put64(stack, sp + 8 * (i - 5) - base, args[i]);
    }
  };
}

function argBytes(a: unknown): number {
  if (typeof a !== 'object' || a === null) return 0;
  if ('str' in a) return Buffer.byteLength((a as { str: string }).str) + 1;
  if ('strv' in a) return (a as { strv: string[] }).strv.reduce((n, s) => n + Buffer.byteLength(s) + 9, 16);
  if ('bytes' in a) return (a as { bytes: Uint8Array }).bytes.length + 16;
  if ('buffer' in a) return (a as { buffer: number }).buffer + 16;
  if ('recordOf' in a) return 64;
  if ('fdPath' in a) return 32;
  if ('fprog' in a) return (a as { fprog: Uint8Array }).fprog.length + 48;
  if ('sendFd' in a) return 160 + Buffer.byteLength((a as { data?: string }).data ?? '');
  return 0;
}

function materializeArg(arena: Arena, a: Arg, childFd: Record<string, number>, errnoLoc: bigint): bigint {
  if (typeof a === 'number') return BigInt(a);
  if (typeof a === 'bigint') return a;
  if ('str' in a) return arena.cString(a.str);
  if ('strv' in a) return arena.pointerArray(a.strv.map((s) => arena.cString(s)));
  if ('bytes' in a) return arena.bytes(a.bytes, a.align ?? 8);
  if ('slot' in a) {
    const fd = childFd[a.slot];
    if (fd === undefined) throw new Error(`spawn engine: unknown fd slot "${a.slot}"`);
    return BigInt(fd);
  }
  if ('errnoAddress' in a) return errnoLoc;
  if ('sendFd' in a) {
    // struct msghdr { name, namelen, iov, iovlen, control, controllen, flags } with one iovec
    // of one byte and a cmsghdr { len = CMSG_LEN(4), SOL_SOCKET, SCM_RIGHTS, fd }
    const payload = Buffer.from(a.data ?? '\0');
    const iov = arena.alloc(16, 8);
    arena.setU64(iov, arena.bytes(payload, 8));
    arena.setU64(iov + 8n, BigInt(payload.length));
    const control = arena.alloc(24, 8);
    arena.setU64(control, 20n);
    arena.setU32(control + 8n, 1);
    arena.setU32(control + 12n, 1);
    arena.setU32(control + 16n, a.sendFd);
    const msg = arena.alloc(56, 8);
    arena.setU64(msg + 16n, iov);
    arena.setU64(msg + 24n, 1n);
    arena.setU64(msg + 32n, control);
    arena.setU64(msg + 40n, 24n);
    return msg;
  }
  if ('fprog' in a) {
    const filter = arena.bytes(a.fprog, 8);
    const prog = arena.alloc(16, 8); // struct sock_fprog { unsigned short len; struct sock_filter *filter; }
    arena.view.setUint16(arena.offsetOf(prog), a.fprog.length / 8, true);
    arena.setU64(prog + 8n, filter);
    return prog;
  }
  if ('fdPath' in a) {
    const fd = childFd[a.fdPath];
    if (fd === undefined) throw new Error(`spawn engine: unknown fd slot "${a.fdPath}"`);
    return arena.cString(`${a.relative ? '' : '/proc/'}self/fd/${fd}`);
  }
  return arena.alloc(a.buffer, 16);
}

function roundUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

export { ARCHES };
