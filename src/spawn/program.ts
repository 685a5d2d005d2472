// The spawn engine's input: a straight-line program of libc calls for a child process, as plain
// data. The planner (src/plan) produces it from an OCI config; `tsrunc explain` prints it; the
// engine (chain.ts) lays it out as linked ucontexts and runs it in a cloned child. Nothing here
// knows about OCI: a program is calls, checkpoints and an exec.

import type { RawSyscall } from '../linux/arch';

/**
 * What happens after a call:
 * - `full`: record {step, errno} on the report fd, then the tripwire: a failure kills the child
 *   (SIGSEGV) before the next context runs, and the parent names the step from the record;
 * - `trip`: tripwire only (no record): for steps before a report fd exists;
 * - `none`: nothing; a failure stays in errno and the next checked step reports it (as a range);
 * - `warn`: record, then clear errno: the parent prints a warning and the chain goes on;
 * - `ignore`: clear errno: the failure is expected and harmless (mkdir of an existing directory);
 * - `report`: record, then clear errno: the parent interprets the result (e.g. a PATH lookup).
 */
export type Check = 'full' | 'trip' | 'none' | 'warn' | 'ignore' | 'report';

/** A NUL-terminated string placed in the arena; the argument is its address. */
export interface StrArg { str: string }
/** Raw bytes (a struct) placed in the arena; the argument is its address. */
export interface BytesArg { bytes: Uint8Array; align?: number; label?: string }
/** A NULL-terminated char*[] (argv, envp). */
export interface StrvArg { strv: string[] }
/** The child's number of a kept fd (see Program.keep). */
export interface SlotArg { slot: string }
/** The address of the calling thread's errno. */
export interface ErrnoArg { errnoAddress: true }
/** A pointer to a fresh zeroed buffer of n bytes (for out-parameters). */
export interface BufferArg { buffer: number }
/**
 * The string "/proc/self/fd/N" for a kept fd: reopens it (e.g. an O_PATH fd of a FIFO). With
 * `relative`, "self/fd/N": for an openat() relative to an fd of a procfs.
 */
export interface FdPathArg { fdPath: string; relative?: boolean }

/** A struct sock_fprog pointing at this classic BPF program (struct sock_filter[]). */
export interface FprogArg { fprog: Uint8Array }

/** A struct msghdr carrying `data` (default one byte) and this fd as SCM_RIGHTS (for sendmsg). */
export interface SendFdArg { sendFd: number; data?: string }

export type Arg = number | bigint | StrArg | BytesArg | StrvArg | SlotArg | ErrnoArg | BufferArg | FdPathArg | FprogArg | SendFdArg;

export interface CallStep {
  op: 'call';
  /** libc function name */
  fn: string;
  args: Arg[];
  desc: string;
  check: Check;
  /** lets the caller find this step's record (e.g. `lookup:0`) */
  tag?: string;
}

export interface SyscallStep {
  op: 'syscall';
  /** raw syscall through libc's syscall(); the number comes from the architecture table */
  name: RawSyscall;
  args: Arg[];
  desc: string;
  check: Check;
}

/** Tell the parent where we are (record on the channel) and wait for its go byte. */
export interface CheckpointStep {
  op: 'checkpoint';
  name: string;
  desc: string;
}

/** From here on, records go to this fd (a kept slot or a literal fd number), or nowhere. */
export interface RecordsStep {
  op: 'records';
  fd: SlotArg | number | null;
  desc: string;
}

/** From here on, checkpoints use this fd (a socket), or none. */
export interface ChannelStep {
  op: 'channel';
  fd: SlotArg | number | null;
  desc: string;
}

/**
 * execve(path, argv, envp) with signals unblocked. If it returns, a record with its errno is
 * written and the program goes on (the next attempt of a PATH search, or the final exit).
 */
export interface ExecStep {
  op: 'exec';
  path: string;
  argv: string[];
  envp: string[];
  desc: string;
}

/** clock_gettime(CLOCK_MONOTONIC) sent with a record (for --debug timings). */
export interface TimestampStep {
  op: 'timestamp';
  label: string;
  desc: string;
}

export interface ExitStep {
  op: 'exit';
  code: number;
  desc: string;
}

export type Step = CallStep | SyscallStep | CheckpointStep | RecordsStep | ChannelStep | ExecStep | TimestampStep | ExitStep;

export interface Program {
  /**
   * Parent fds the child keeps, by name. The engine's first steps move them to fixed numbers at
   * `keepBase + index`, and close every other fd above 2 — so the child holds nothing of the
   * runtime's, and the fd number each later open() returns is known in advance (the lowest free).
   */
  keep: string[];
  /** first child fd number for the kept fds (>= 3 + the most fds the program opens at once) */
  keepBase: number;
  steps: Step[];
}

/** Record kinds on the wire: u32 tag = kind << 24 | step index, then i32 errno (timestamps add 16 bytes). */
export const RECORD = { STEP: 1, CHECKPOINT: 2, TIMESTAMP: 3, EXEC: 4 } as const;

export function describeArg(a: Arg, keep?: string[], keepBase?: number): string {
  if (typeof a === 'number') return a < 0 || a < 4096 ? String(a) : `0x${a.toString(16)}`;
  if (typeof a === 'bigint') return `0x${a.toString(16)}`;
  if ('str' in a) return JSON.stringify(a.str);
  if ('strv' in a) return `[${a.strv.map((s) => JSON.stringify(s)).join(', ')}]`;
  if ('slot' in a) {
    const i = keep ? keep.indexOf(a.slot) : -1;
    return i >= 0 && keepBase !== undefined ? `${keepBase + i} (${a.slot})` : `fd(${a.slot})`;
  }
  if ('errnoAddress' in a) return '&errno';
  if ('buffer' in a) return `buf[${a.buffer}]`;
  if ('fprog' in a) return `&sock_fprog{${a.fprog.length / 8} instructions}`;
  if ('sendFd' in a) return `&msghdr{SCM_RIGHTS fd ${a.sendFd}}`;
  if ('fdPath' in a) {
    const i = keep ? keep.indexOf(a.fdPath) : -1;
    const pre = a.relative ? '' : '/proc/';
    return i >= 0 && keepBase !== undefined ? `"${pre}self/fd/${keepBase + i}" (${a.fdPath})` : `"${pre}self/fd/N" (${a.fdPath})`;
  }
  return `${a.label ?? 'bytes'}[${a.bytes.length}]`;
}
