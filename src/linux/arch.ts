// Everything that differs between CPU architectures, in one table: the raw syscall numbers the
// container's init chain calls through libc's syscall(), and the glibc ucontext_t layout the spawn
// engine writes into. Adding an architecture means adding one entry here (and verifying it: the
// engine re-checks the layout after every makecontext and refuses an unverified entry).

export type ArchName = 'x86_64' | 'aarch64';

/** Syscalls the chain issues raw (glibc has no wrapper, or its wrapper must be avoided). */
export type RawSyscall =
  | 'rt_sigaction' | 'setgroups' | 'setresuid' | 'setresgid' | 'capset' | 'pivot_root' | 'seccomp'
  | 'openat2' | 'mount_setattr' | 'close_range' | 'open_tree' | 'move_mount' | 'personality' | 'renameat2'
  | 'clock_gettime';

export interface UcontextLayout {
  size: number;
  /** bytes reserved per context in the arena (>= size, keeps contexts cache-line aligned) */
  slot: number;
  link: number;
  stackSp: number;
  stackFlags: number;
  stackSize: number;
  sigmask: number;
  /** saved program counter (RIP / pc) */
  pc: number;
  /** saved first-argument register (RDI / x0) */
  arg0: number;
  /** saved stack pointer (RSP / sp) */
  sp: number;
  /** x86_64 only: uc_mcontext.fpregs points into the context itself */
  fpregsPtr?: number;
  fpregsMem?: number;
  /**
   * x86_64 only: the MXCSR in __fpregs_mem, which setcontext loads from the context itself (the
   * x87 environment it loads through the fpregs pointer)
   */
  mxcsr?: number;
  /**
   * Bytes per context when every context's fpregs points at one shared block: all that glibc's
   * setcontext then reads lies below this (sysdeps/unix/sysv/linux/x86_64/setcontext.S: the
   * registers, the fpregs pointer, uc_sigmask, MXCSR). Not with a shadow stack (it reads __ssp).
   */
  compactSlot?: number;
}

export interface ArchInfo {
  name: ArchName;
  /** node's process.arch for this architecture */
  nodeArch: string;
  /** AUDIT_ARCH_* value of the native ABI, as seccomp_data.arch reports it */
  auditArch: number;
  syscalls: Record<RawSyscall, number>;
  ucontext: UcontextLayout;
  /**
   * Does makecontext write a frame (return address, uc_link, stack args) at the top of the
   * context's stack? On x86_64 yes, so contexts sharing one stack get a ladder of frame slots.
   */
  makecontextWritesFrame: boolean;
  /** set once the layout has been run on real hardware */
  verified: boolean;
}

export const ARCHES: Record<ArchName, ArchInfo> = {
  x86_64: {
    name: 'x86_64',
    nodeArch: 'x64',
    auditArch: 0xc000003e,
    syscalls: {
      rt_sigaction: 13, setgroups: 116, setresuid: 117, setresgid: 119, capset: 126, pivot_root: 155,
      seccomp: 317, openat2: 437, mount_setattr: 442, close_range: 436, open_tree: 428, move_mount: 429,
      personality: 135, renameat2: 316, clock_gettime: 228,
    },
    // glibc 2.36 sys/ucontext.h, checked with offsetof()
    ucontext: {
      size: 968, slot: 1024, link: 8, stackSp: 16, stackFlags: 24, stackSize: 32, sigmask: 296,
      pc: 40 + 16 * 8, arg0: 40 + 8 * 8, sp: 40 + 15 * 8, fpregsPtr: 224, fpregsMem: 424, mxcsr: 424 + 24,
      compactSlot: 512,
    },
    makecontextWritesFrame: true,
    verified: true,
  },
  aarch64: {
    name: 'aarch64',
    nodeArch: 'arm64',
    auditArch: 0xc00000b7,
    syscalls: {
      rt_sigaction: 134, setgroups: 159, setresuid: 147, setresgid: 149, capset: 91, pivot_root: 41,
      seccomp: 277, openat2: 437, mount_setattr: 442, close_range: 436, open_tree: 428, move_mount: 429,
      personality: 92, renameat2: 276, clock_gettime: 113,
    },
    // read from glibc's sysdeps/unix/sysv/linux/aarch64/sys/ucontext.h (uc_mcontext at 176:
    // fault_address, regs[31], sp, pc, pstate, __reserved[4096] aligned 16); not yet run
    ucontext: { size: 4560, slot: 4608, link: 8, stackSp: 16, stackFlags: 24, stackSize: 32, sigmask: 40, pc: 440, arg0: 184, sp: 432 },
    makecontextWritesFrame: false,
    verified: false,
  },
};

export function hostArch(): ArchInfo {
  for (const a of Object.values(ARCHES)) if (a.nodeArch === process.arch) return a;
  throw new Error(`unsupported architecture ${process.arch}`);
}
