// Linux constants that are the same on every architecture tsrunc supports (x86_64, aarch64).
// Pure data: the planner imports this without loading koffi. Per-architecture numbers (syscall
// numbers, ucontext layout) live in arch.ts.

export const CLONE = {
  NEWTIME: 0x00000080,
  VM: 0x00000100,
  FS: 0x00000200,
  FILES: 0x00000400,
  SIGHAND: 0x00000800,
  PIDFD: 0x00001000,
  VFORK: 0x00004000,
  PARENT: 0x00008000,
  NEWNS: 0x00020000,
  NEWCGROUP: 0x02000000,
  NEWUTS: 0x04000000,
  NEWIPC: 0x08000000,
  NEWUSER: 0x10000000,
  NEWPID: 0x20000000,
  NEWNET: 0x40000000,
} as const;

export const SIGCHLD = 17;
export const SIGKILL = 9;
export const SIGSTOP = 19;

export const MS = {
  RDONLY: 1,
  NOSUID: 2,
  NODEV: 4,
  NOEXEC: 8,
  SYNCHRONOUS: 16,
  REMOUNT: 32,
  MANDLOCK: 64,
  DIRSYNC: 128,
  NOSYMFOLLOW: 256,
  NOATIME: 1024,
  NODIRATIME: 2048,
  BIND: 4096,
  MOVE: 8192,
  REC: 16384,
  SILENT: 32768,
  UNBINDABLE: 1 << 17,
  PRIVATE: 1 << 18,
  SLAVE: 1 << 19,
  SHARED: 1 << 20,
  RELATIME: 1 << 21,
  STRICTATIME: 1 << 24,
  LAZYTIME: 1 << 25,
} as const;

export const MNT_DETACH = 2;
export const UMOUNT_NOFOLLOW = 8;

/** mount_setattr(2) attribute bits (MOUNT_ATTR_*), used for the recursive r* mount options. */
export const MOUNT_ATTR = {
  RDONLY: 0x1,
  NOSUID: 0x2,
  NODEV: 0x4,
  NOEXEC: 0x8,
  RELATIME: 0x0,
  NOATIME: 0x10,
  STRICTATIME: 0x20,
  NODIRATIME: 0x80,
  IDMAP: 0x100000,
  NOSYMFOLLOW: 0x200000,
  _ATIME: 0x70,
} as const;
export const AT_RECURSIVE = 0x8000;
export const AT_EMPTY_PATH = 0x1000;
export const AT_FDCWD = -100;
export const AT_SYMLINK_NOFOLLOW = 0x100;

export const O = {
  RDONLY: 0,
  WRONLY: 1,
  RDWR: 2,
  CREAT: 0o100,
  EXCL: 0o200,
  NOCTTY: 0o400,
  TRUNC: 0o1000,
  NONBLOCK: 0o4000,
  DIRECTORY: 0o200000,
  NOFOLLOW: 0o400000,
  CLOEXEC: 0o2000000,
  PATH: 0o10000000,
} as const;

/** openat2(2) resolve flags */
export const RESOLVE = {
  NO_XDEV: 0x01,
  NO_MAGICLINKS: 0x02,
  NO_SYMLINKS: 0x04,
  BENEATH: 0x08,
  IN_ROOT: 0x10,
} as const;

export const F = { GETFD: 1, SETFD: 2, GETFL: 3, SETFL: 4 } as const;
export const FD_CLOEXEC = 1;
export const CLOSE_RANGE_CLOEXEC = 4;

export const S_IF = { REG: 0o100000, DIR: 0o040000, CHR: 0o020000, BLK: 0o060000, FIFO: 0o010000, LNK: 0o120000 } as const;

export const PR = {
  SET_PDEATHSIG: 1,
  GET_DUMPABLE: 3,
  SET_DUMPABLE: 4,
  SET_KEEPCAPS: 8,
  SET_NAME: 15,
  SET_SECCOMP: 22,
  CAPBSET_DROP: 24,
  SET_CHILD_SUBREAPER: 36,
  SET_NO_NEW_PRIVS: 38,
  CAP_AMBIENT: 47,
  CAP_AMBIENT_RAISE: 2,
  CAP_AMBIENT_CLEAR_ALL: 4,
} as const;

export const SECCOMP_SET_MODE_FILTER = 1;
export const LINUX_CAPABILITY_VERSION_3 = 0x20080522;

/** Capability names in kernel bit order: the spec's vocabulary, one list (src/spec/known.ts). */
export { CAPABILITIES } from '../spec/known';

export const RLIMITS: Record<string, number> = {
  RLIMIT_CPU: 0, RLIMIT_FSIZE: 1, RLIMIT_DATA: 2, RLIMIT_STACK: 3, RLIMIT_CORE: 4, RLIMIT_RSS: 5,
  RLIMIT_NPROC: 6, RLIMIT_NOFILE: 7, RLIMIT_MEMLOCK: 8, RLIMIT_AS: 9, RLIMIT_LOCKS: 10,
  RLIMIT_SIGPENDING: 11, RLIMIT_MSGQUEUE: 12, RLIMIT_NICE: 13, RLIMIT_RTPRIO: 14, RLIMIT_RTTIME: 15,
};

/** OCI namespace type → clone flag and /proc/PID/ns file name. */
export const NAMESPACES = {
  user: { flag: CLONE.NEWUSER, proc: 'user' },
  mount: { flag: CLONE.NEWNS, proc: 'mnt' },
  pid: { flag: CLONE.NEWPID, proc: 'pid' },
  network: { flag: CLONE.NEWNET, proc: 'net' },
  uts: { flag: CLONE.NEWUTS, proc: 'uts' },
  ipc: { flag: CLONE.NEWIPC, proc: 'ipc' },
  cgroup: { flag: CLONE.NEWCGROUP, proc: 'cgroup' },
  time: { flag: CLONE.NEWTIME, proc: 'time' },
} as const;

// signal numbers: their own module, which `kill` and `delete` load without this one's tables
export { SIGNALS, SIGRTMIN, SIGRTMAX } from './signals';

/** tty ioctls (the generic values, shared by x86_64 and aarch64) */
export const TIOC = {
  SCTTY: 0x540e,
  SWINSZ: 0x5414,
  GWINSZ: 0x5413,
  SPTLCK: 0x40045431,
  GPTPEER: 0x5441,
} as const;

/** statfs f_type of the filesystems the runtime verifies (linux/magic.h) */
export const FS_MAGIC = { PROC: 0x9fa0, SYSFS: 0x62656572, TMPFS: 0x01021994, DEVPTS: 0x1cd1 } as const;
