// The spawn engine: turns a Program into linked ucontexts and starts a child that runs them.
//
// Each call becomes one ucontext_t, written in the parent as glibc's makecontext would write it
// (ucontext.ts), and linked to the next through uc_link. The child starts with clone(fn =
// setcontext, arg = &context[0]) (or clone3, to start it in a cgroup: see writeLaunchContext);
// when a context's function returns, glibc's __start_context does setcontext(uc_link). No
// JavaScript ever runs in the child — only libc code and the kernel.
//
// Building a chain is on every container's path and runs mostly in the JS interpreter (a fresh
// process each time): contexts are written in one pass over the program, straight into an arena
// mapped before it (its size: at most 3 contexts per step, and a guess for the data), with no
// intermediate objects per context.
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
import { files } from '../linux/files';
import { libc, symbol, sysError, waitChild } from '../linux/libc';
import { Arena, ArenaFull, putWord, type Word } from './arena';
import { mark } from '../state/timing';
import { withSmallFootprint } from './footprint';
import { RECORD, type Arg, type Program, type Step } from './program';
import { contextSlot, contextWriter, FRAME_SLOT, type SharedStack } from './ucontext';

const SHARED_STACK = 256 << 10;
const PAGE = 4096;
const TRIP_BYTE = 6; // bits 48..55: zero in every user address on x86_64 and aarch64 (TBI covers only byte 7)
const O_CLOEXEC = 0o2000000;
const SIG_SETMASK = 2;
const CLOCK_MONOTONIC = 1;
const SIGCHLD = 17;
const PIPE_CAPACITY = 65536;
const CLONE_PARENT_SETTID = 0x00100000;
/** clone3's flag (bit 33) for starting the child in a cgroup v2 directory (Linux 5.7) */
const CLONE_INTO_CGROUP_HIGH = 0x2;
const SYS_CLONE3_X86_64 = 435;
/** sizeof(struct clone_args) up to its `cgroup` field */
const CLONE_ARGS_SIZE = 88;
/** where, in the shared stack, a child cloned by clone3 finds its start address (see launch) */
const LAUNCH_PAD = 4096;
/** stack room below the clone sequence's frames, for setns and clone themselves */
const SEQUENCE_GAP = 64 << 10;
/** contexts the clone sequence may use: 4 + 5 per namespace entered */
const SEQUENCE_MAX = 64;
/**
 * Arena room for strings, structs and records: a guess (a busybox container needs ~70 bytes a
 * step) that spares a pass sizing every argument; a program that needs more is laid out again in
 * an arena 8 times larger. Not too generous either: the FFI reports each view's length to the GC
 * as memory allocated, and a 4 MiB arena brought a collection (~3 ms) into every create.
 */
const DATA_ROOM_BASE = 64 << 10;
const DATA_ROOM_PER_STEP = 256;

/**
 * Whether launch() can start a child in a cgroup v2 directory (clone3's CLONE_INTO_CGROUP, Linux
 * 5.7, x86_64's syscall()); launch() still falls back to the classic clone when the kernel refuses.
 */
export function clonesIntoCgroups(arch: ArchInfo = hostArch()): boolean {
  if (arch.name !== 'x86_64') return false;
  const [major, minor] = files().readFileSync('/proc/sys/kernel/osrelease').split('.').map(Number);
  return major > 5 || (major === 5 && minor >= 7);
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
  /**
   * clone the child into `joins` (entered on this thread around clone only), and into the cgroup
   * v2 directory `cgroupFd` when the kernel can (intoCgroup says); returns its pid
   */
  launch(cloneFlags: number, joins?: NamespaceJoin[], cgroupFd?: number): number;
  /** the child started in launch()'s cgroup (clone3 with CLONE_INTO_CGROUP) */
  intoCgroup: boolean;
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
  const keepFds = program.keep.map((slot) => {
    const fd = parentFds[slot];
    if (fd === undefined) throw new Error(`spawn engine: no fd given for slot "${slot}"`);
    return fd;
  });
  // the prologue's contexts, then at most 3 per step (a call, its record, its tripwire)
  const maxContexts = 1 + 2 * keepFds.length + 4 + 3 * program.steps.length;
  const slot = contextSlot(arch);
  const uc = arch.ucontext;
  // contexts, the clone sequence's, the one swapcontext saves ours in (full size), the writer's
  // template and scratch contexts, the sequence's errno slots; then strings, structs and records
  const fixed = (maxContexts + SEQUENCE_MAX + 1) * slot + 4 * uc.slot + 8 * SEQUENCE_MAX + 4 * 64;
  // one stack for all contexts, with a PROT_NONE guard page below it; the clone sequence's frames
  // sit above the child's, past a gap its calls run in
  const sequenceLow = SHARED_STACK + maxContexts * FRAME_SLOT;
  const stackLen = roundUp(sequenceLow + SEQUENCE_GAP + SEQUENCE_MAX * FRAME_SLOT, PAGE);
  for (let room = DATA_ROOM_BASE + DATA_ROOM_PER_STEP * program.steps.length; ; room *= 8) {
    const arena = new Arena(roundUp(fixed + room, PAGE));
    let stack: (SharedStack & { map: number }) | undefined;
    const releaseStack = () => lc.munmap(stack!.map, stackLen + PAGE);
    try {
      const map = lc.mmapAnonymous(stackLen + PAGE, 3 /* PROT_READ | PROT_WRITE */);
      if (map <= 0) throw sysError('mmap chain stack');
      const base = map + PAGE;
      const view = lc.view(base, stackLen);
      stack = { map, base, u32: new Uint32Array(view), u8: new Uint8Array(view) };
      if (lc.mprotect(map, PAGE, 0) !== 0) throw sysError('mprotect guard page');
      mark('engine: arena mapped');
      return layOut(program, keepFds, arch, arena, stack, releaseStack, maxContexts, sequenceLow);
    } catch (e) {
      arena.release();
      if (stack) releaseStack();
      if (!(e instanceof ArenaFull)) throw e;
    }
  }
}

/** Write the program's contexts, and everything they point at, into `arena` and `stack`. */
function layOut(
  program: Program,
  keepFds: number[],
  arch: ArchInfo,
  arena: Arena,
  stack: SharedStack,
  releaseStack: () => void,
  maxContexts: number,
  sequenceLow: number,
): BuiltChain {
  const lc = libc();
  const uc = arch.ucontext;
  const errnoLoc = Number(lc.errnoLocation());
  // kept fds move to base..base+n-1; the base must be above every parent fd being moved so that a
  // dup3 never overwrites a kept fd that has not been moved yet
  const base = Math.max(program.keepBase, ...keepFds.map((fd) => fd + 1));
  const childFd: Record<string, number> = {};
  for (const [i, slot] of program.keep.entries()) childFd[slot] = base + i;

  const slot = contextSlot(arch);
  const ucBase = arena.reserve(slot * maxContexts, 64);
  const seqBase = arena.reserve(slot * SEQUENCE_MAX, 64);
  const savedAddr = arena.alloc(uc.slot, 64);
  const launchAddr = arena.reserve(slot, 64) + arena.base;
  const slots = arena.alloc(8 * SEQUENCE_MAX, 8);
  const writer = contextWriter(arch, arena, stack);
  const ucAddr = (i: number) => arena.base + ucBase + i * slot;
  const symbolN = new Map<string, number>();
  const fnAddr = (name: string) => {
    let a = symbolN.get(name);
    if (a === undefined) symbolN.set(name, (a = Number(symbol(name))));
    return a;
  };

  // --- contexts are written as they are listed: context i calls fn(words), then goes on with i+1 ---
  let n = 0;
  let lastFn = 0;
  let presetPending = false;
  let frameVerified = false;
  let firstArgs = 0;
  const words: Word[] = []; // one scratch array for every context's arguments
  /** Write the next context: fn(words[0..k-1]). */
  const put = (fn: number, k: number, unblocked = false): void => {
    const i = n++;
    if (i >= maxContexts) throw new Error(`spawn engine: more than the ${maxContexts} contexts planned`);
    const o = ucBase + i * slot;
    const top = SHARED_STACK + (arch.makecontextWritesFrame ? (i + 1) * FRAME_SLOT : 0);
    // the last context (_exit) never returns: its link is never followed
    const link = ucAddr(i + 1);
    // glibc's makecontext checks the emulation on the first context and on the first with
    // arguments in its frame (more than six)
    if (i === 0) firstArgs = k;
    if (i === 0 || (k > 6 && !frameVerified)) {
      frameVerified ||= k > 6;
      writer.writeVerified(o, fn, words, k, top, link, unblocked, `context ${i}`);
    } else {
      writer.write(o, fn, words, k, top, link, unblocked);
    }
    // a go byte's place starts invalid: only the parent's 0 lets the child go on
    if (presetPending) arena.u8[o + uc.pc + TRIP_BYTE] = 0xff;
    presetPending = false;
    lastFn = fn;
  };
  /** the next context's trip byte, as seen from the context about to be written */
  const nextTripByte = () => ucAddr(n + 1) + uc.pc + TRIP_BYTE;
  let lastBuffer = 0; // the latest clock_gettime buffer, which a timed record sends
  // argv and envp arrays, laid out once for all the execve attempts of a PATH search
  const strvs = new Map<readonly string[], number>();
  const call = (fn: string, args: readonly Arg[], unblocked = false) => {
    const k = args.length;
    for (let j = 0; j < k; j++) {
      const a = args[j];
      if (typeof a === 'number' || typeof a === 'bigint') words[j] = a;
      else if ('buffer' in a) words[j] = lastBuffer = arena.alloc(a.buffer, 16);
      else if ('strv' in a) {
        let v = strvs.get(a.strv);
        if (v === undefined) strvs.set(a.strv, (v = materializeArg(arena, a, childFd, errnoLoc)));
        words[j] = v;
      } else words[j] = materializeArg(arena, a, childFd, errnoLoc);
    }
    put(fnAddr(fn), k, unblocked);
  };
  // the engine's own contexts, the most frequent: their arguments need no resolving
  const MEMCPY = fnAddr('memcpy');
  const MEMSET = fnAddr('memset');
  const WRITEV = fnAddr('writev');
  const tripwire = () => {
    words[0] = nextTripByte();
    words[1] = errnoLoc;
    words[2] = 1;
    put(MEMCPY, 3);
  };
  const resetErrno = () => {
    words[0] = errnoLoc;
    words[1] = 0;
    words[2] = 4;
    put(MEMSET, 3);
  };

  const steps: StepInfo[] = [];
  let recordsFd: number | null = null;
  let channelFd: number | null = null;
  // records written to the pipe are read only at checkpoints: between two of them they must fit in it
  const pipeFd = childFd.records;
  let pipeBytes = 0;
  const resolveFd = (fd: { slot: string } | number | null): number | null => {
    if (fd === null || typeof fd === 'number') return fd;
    const n = childFd[fd.slot];
    if (n === undefined) throw new Error(`spawn engine: unknown fd slot "${fd.slot}"`);
    return n;
  };
  const record = (step: number, kind: number, fd: number, timed = false) => {
    words[0] = fd;
    words[1] = recordIov(arena, step, kind, errnoLoc, timed ? lastBuffer : 0);
    words[2] = timed ? 3 : 2;
    put(WRITEV, 3);
    if (fd === pipeFd && (pipeBytes += timed ? 24 : 8) > PIPE_CAPACITY) {
      throw new Error(`spawn engine: ${pipeBytes} bytes of records between checkpoints exceed the pipe (${program.steps.length} steps)`);
    }
  };

  // --- engine prologue: zero errno (the child's is a copy of ours), normalise fds ---
  const setup = (fn: string, args: number[], desc: string) => {
    steps.push({ index: steps.length, desc, op: 'call', check: 'trip' });
    call(fn, args);
    tripwire();
  };
  steps.push({ index: 0, desc: 'errno = 0', op: 'call', check: 'trip' });
  resetErrno();
  for (const [i, fd] of keepFds.entries()) setup('dup3', [fd, base + i, O_CLOEXEC], `dup3(${fd}, ${base + i}) keep ${program.keep[i]}`);
  setup('close_range', [3, base - 1, 0], `close_range(3, ${base - 1}): close everything inherited`);
  setup('close_range', [base + keepFds.length, 0xffffffff, 0], `close_range(${base + keepFds.length}, ~0)`);

  for (const s of program.steps) {
    const index = steps.length;
    steps.push({ index, desc: s.desc, op: s.op, check: 'check' in s ? s.check : undefined, tag: s.op === 'call' ? s.tag : undefined });
    switch (s.op) {
      case 'call':
      case 'syscall': {
        if (s.op === 'syscall') call('syscall', [arch.syscalls[s.name], ...s.args]);
        else call(s.fn, s.args);
        const check = s.check;
        if (recordsFd !== null && (check === 'full' || check === 'warn' || check === 'report')) record(index, RECORD.STEP, recordsFd);
        if (check === 'full' || check === 'trip') tripwire();
        if (check === 'warn' || check === 'report' || check === 'ignore') resetErrno();
        break;
      }
      case 'checkpoint':
        if (channelFd === null) throw new Error(`spawn engine: checkpoint "${s.name}" without a channel`);
        record(index, RECORD.CHECKPOINT, channelFd);
        words[0] = channelFd;
        words[1] = nextTripByte();
        words[2] = 1;
        put(fnAddr('read'), 3);
        presetPending = true;
        pipeBytes = 0;
        break;
      case 'records':
        recordsFd = resolveFd(s.fd);
        break;
      case 'channel':
        channelFd = resolveFd(s.fd);
        break;
      case 'timestamp':
        if (recordsFd !== null) {
          call('clock_gettime', [CLOCK_MONOTONIC, { buffer: 16 }]);
          record(index, RECORD.TIMESTAMP, recordsFd, true);
        }
        break;
      case 'exec':
        call('execve', [{ str: s.path }, { strv: s.argv }, { strv: s.envp }], true);
        if (recordsFd !== null) record(index, RECORD.EXEC, recordsFd);
        resetErrno();
        break;
      case 'exit':
        call('_exit', [s.code]);
        break;
    }
  }
  if (lastFn !== fnAddr('_exit')) {
    // falling off the chain makes __start_context call exit(), running Node's atexit code in the child
    throw new Error('spawn engine: a program must end with an exit step');
  }
  mark('engine: contexts written');

  const seqAddr = (k: number) => arena.base + seqBase + k * slot;
  /**
   * clone3 with CLONE_INTO_CGROUP, through libc's syscall(): its child returns from the syscall
   * on the stack clone_args gives it, and syscall()'s `ret` pops its start address from there
   * (setcontext, at LAUNCH_PAD), with RDI still holding syscall()'s second argument: the
   * clone_args themselves. So they are written over the first 88 bytes of a copy of context 0:
   * uc_flags, uc_link and uc_stack, which setcontext does not read, and R8-R13, of which it loads
   * R8, R9, R12 and R13 — unused by context 0 (a memset of 3 arguments) and restored by
   * __start_context's next setcontext. The child starts as setcontext(context 0) would start
   * it. (x86_64's syscall() only: on aarch64 it returns through the link register, to the
   * parent's caller.)
   */
  const writeLaunchContext = (cloneFlags: number, cgroupFd: number, pidSlot: number) => {
    if (firstArgs > 4) throw new Error('spawn engine: context 0 takes arguments in R8/R9, which clone3 launch overwrites');
    const o = launchAddr - arena.base;
    arena.u8.copyWithin(o, ucAddr(0) - arena.base, ucAddr(0) - arena.base + slot);
    arena.u8.fill(0, o, o + CLONE_ARGS_SIZE);
    arena.setU32(launchAddr, (cloneFlags | CLONE_PARENT_SETTID) >>> 0); // flags, low half
    arena.setU32(launchAddr + 4, CLONE_INTO_CGROUP_HIGH); // flags, high half
    arena.setU64(launchAddr + 24, pidSlot); // parent_tid
    arena.setU64(launchAddr + 32, SIGCHLD); // exit_signal
    arena.setU64(launchAddr + 40, stack.base); // stack
    arena.setU64(launchAddr + 48, LAUNCH_PAD); // stack_size: the child's SP is stack + size
    arena.setU64(launchAddr + 80, cgroupFd); // cgroup
    putWord(stack.u32, LAUNCH_PAD >> 2, fnAddr('setcontext'));
  };
  /**
   * Write the clone sequence for `joins`: [errno = 0; setns; errno → slot]... errno's low byte →
   * the child's start address; errno = 0; clone; errno → slot; [errno = 0; setns back; errno →
   * slot]...; then back to the saved context. Returns where each result lands.
   */
  const writeSequence = (cloneFlags: number, joins: NamespaceJoin[], cgroupFd?: number) => {
    const calls: Array<{ fn: string; args: Word[] }> = [];
    const slotOf = (k: number) => slots + 4 * k;
    let nSlots = 0;
    const checked = (fn: string, args: Word[]): number => {
      const slot = nSlots++;
      calls.push({ fn, args });
      calls.push({ fn: 'memcpy', args: [slotOf(slot), errnoLoc, 4] });
      return slot;
    };
    const zeroErrno = () => calls.push({ fn: 'memset', args: [errnoLoc, 0, 4] });
    zeroErrno();
    // errno stays 0 through successful calls: the first failure poisons the child's start address
    const enter = joins.map((j) => checked('setns', [j.fd, j.flag]));
    if (joins.length) {
      const cloneIndex = calls.length + 2; // after this memcpy and the errno reset
      const start = cgroupFd === undefined ? seqAddr(cloneIndex) + uc.arg0 : stack.base + LAUNCH_PAD;
      calls.push({ fn: 'memcpy', args: [start + TRIP_BYTE, errnoLoc, 1] });
      zeroErrno();
    }
    const pidSlot = nSlots++;
    let clone: number;
    if (cgroupFd === undefined) {
      clone = checked('clone', [fnAddr('setcontext'), stack.base + SHARED_STACK, (cloneFlags | SIGCHLD | CLONE_PARENT_SETTID) >>> 0, ucAddr(0), slotOf(pidSlot)]);
    } else {
      writeLaunchContext(cloneFlags, cgroupFd, slotOf(pidSlot));
      clone = checked('syscall', [SYS_CLONE3_X86_64, launchAddr, CLONE_ARGS_SIZE]);
    }
    const back = joins.map((j) => {
      zeroErrno();
      return checked('setns', [j.backFd, j.flag]);
    });
    if (calls.length > SEQUENCE_MAX) throw new Error(`spawn engine: a clone sequence of ${calls.length} calls (at most ${SEQUENCE_MAX})`);
    for (let k = 0; k < nSlots; k++) arena.setU32(slotOf(k), 0);
    for (const [k, c] of calls.entries()) {
      const top = sequenceLow + SEQUENCE_GAP + (k + 1) * FRAME_SLOT;
      writer.write(seqBase + k * slot, fnAddr(c.fn), c.args, c.args.length, top, k + 1 < calls.length ? seqAddr(k + 1) : savedAddr, false);
    }
    const read = (slot: number) => arena.getI32(slotOf(slot));
    return { enter: () => enter.map(read), clone: () => read(clone), pid: () => read(pidSlot), back: () => back.map(read) };
  };

  const built: BuiltChain = {
    steps,
    contexts: n,
    arenaBytes: arena.used(),
    childFd,
    intoCgroup: false,
    launch(cloneFlags: number, joins: NamespaceJoin[] = [], cgroupFd?: number): number {
      // Block every signal in this thread around clone(): nothing may reach the child between
      // clone() and its first setcontext (which installs the all-blocked mask), or a runtime
      // handler copied into the child would run there.
      // (Only the swap runs blocked: a thread that JavaScriptCore must suspend by a signal, e.g.
      // for its sampling profiler, would hang the runtime if it ran JS with every signal blocked.)
      const all = Buffer.alloc(128, 0xff);
      const old = Buffer.alloc(128);
      // the child needs its arena, its stack and this thread's TLS: errno, and the TCB that
      // glibc reads through the thread pointer (stack guard, cancellation state)
      const keep = [BigInt(arena.base), BigInt(stack.base), BigInt(errnoLoc), BigInt(lc.pthreadSelf())];
      const run = (into: number | undefined) => {
        const results = writeSequence(cloneFlags, joins, into);
        const swapped = withSmallFootprint(keep, () => {
          lc.pthreadSigmask(SIG_SETMASK, all, old);
          try {
            return lc.swapcontext(savedAddr, seqAddr(0)) as number;
          } finally {
            lc.pthreadSigmask(SIG_SETMASK, old, null);
          }
        });
        if (swapped !== 0) throw sysError('swapcontext');
        return results;
      };
      // into the cgroup with clone3 where it can be done; refused (a kernel before 5.7, a seccomp
      // filter that denies clone3, a cgroup namespace that hides our own cgroup), the classic
      // clone, and the caller moves the child itself
      let into = cgroupFd !== undefined && arch.name === 'x86_64' ? cgroupFd : undefined;
      let results = run(into);
      if (into !== undefined && results.pid() <= 0 && firstNonZero(results.enter()) < 0 && firstNonZero(results.back()) < 0) {
        into = undefined;
        results = run(into);
      }
      built.intoCgroup = into !== undefined;
      const pid = results.pid();
      const enterErrnos = results.enter();
      const backErrnos = results.back();
      const cloneErrno = results.clone();
      // The child has its own copy of the arena and the stack; ours are no longer needed. Unmapped
      // now, the child's pages are its alone, and its first write to each reuses the page instead
      // of copying it: ~100 copies fewer, charged to no cgroup (with a memory limit they were the
      // init's main charge, and how many happened after it joined its cgroup varied run to run).
      arena.release();
      releaseStack();
      const failedJoin = firstNonZero(enterErrnos);
      const failedBack = firstNonZero(backErrnos);
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

/**
 * A record's iovecs: {tag, 4}, {&errno, 4} (errno is read straight from TLS when the record is
 * written) and, with a timestamp buffer, {it, 16}; the u32 tag (kind << 24 | step) follows them.
 */
function recordIov(arena: Arena, step: number, kind: number, errnoLoc: number, timestamp: number): number {
  const iovs = timestamp ? 3 : 2;
  const iov = arena.alloc(16 * iovs + 4, 8);
  const tag = iov + 16 * iovs;
  // written into zeroed memory: the high half of a length stays 0
  const u = arena.u32;
  const w = (iov - arena.base) >> 2;
  putWord(u, w, tag);
  u[w + 2] = 4;
  putWord(u, w + 4, errnoLoc);
  u[w + 6] = 4;
  if (timestamp) {
    putWord(u, w + 8, timestamp);
    u[w + 10] = 16;
  }
  u[w + 4 * iovs] = ((kind & 0xff) << 24) | step;
  return iov;
}

function materializeArg(arena: Arena, a: Exclude<Arg, number | bigint>, childFd: Record<string, number>, errnoLoc: number): number {
  if ('str' in a) return arena.cString(a.str);
  if ('strv' in a) return arena.pointerArray(a.strv.map((s) => arena.cString(s)));
  if ('bytes' in a) return arena.bytes(a.bytes, a.align ?? 8);
  if ('slot' in a) {
    const fd = childFd[a.slot];
    if (fd === undefined) throw new Error(`spawn engine: unknown fd slot "${a.slot}"`);
    return fd;
  }
  if ('errnoAddress' in a) return errnoLoc;
  if ('sendFd' in a) {
    // struct msghdr { name, namelen, iov, iovlen, control, controllen, flags } with one iovec
    // of one byte and a cmsghdr { len = CMSG_LEN(4), SOL_SOCKET, SCM_RIGHTS, fd }
    const payload = Buffer.from(a.data ?? '\0');
    const iov = arena.alloc(16, 8);
    arena.setU64(iov, arena.bytes(payload, 8));
    arena.setU64(iov + 8, payload.length);
    const control = arena.alloc(24, 8);
    arena.setU64(control, 20);
    arena.setU32(control + 8, 1);
    arena.setU32(control + 12, 1);
    arena.setU32(control + 16, a.sendFd);
    const msg = arena.alloc(56, 8);
    arena.setU64(msg + 16, iov);
    arena.setU64(msg + 24, 1);
    arena.setU64(msg + 32, control);
    arena.setU64(msg + 40, 24);
    return msg;
  }
  if ('fprog' in a) {
    const filter = arena.bytes(a.fprog, 8);
    // struct sock_fprog { unsigned short len; struct sock_filter *filter; }: len as a u32 (its
    // padding is zero either way)
    const prog = arena.alloc(16, 8);
    arena.setU32(prog, a.fprog.length / 8);
    arena.setU64(prog + 8, filter);
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

/** The index of the first errno that is not 0, or -1. (A loop, not findIndex: create's path
 * avoids the builtins the engine compiles from JavaScript at their first use; see cli/argv.ts.) */
function firstNonZero(errnos: number[]): number {
  for (let i = 0; i < errnos.length; i++) if (errnos[i] !== 0) return i;
  return -1;
}
