/**
 * Names and numbers of the seccomp vocabulary: OCI strings, kernel return values and filter flags.
 * These lists are exported so the `features` document can say what tsrunc supports.
 */

// The OCI names (every action and operator of runtime-spec 1.3, all supported) are the spec's
// vocabulary: one list, in src/spec/known.ts.
import { SECCOMP_ACTIONS, SECCOMP_OPERATORS, type SeccompAction, type SeccompOperator } from '../../spec/known';
export { SECCOMP_ACTIONS, SECCOMP_OPERATORS };
export type SeccompActionName = SeccompAction;
export type SeccompOperatorName = SeccompOperator;

/** libseccomp's `enum scmp_compare` values; the rule database orders nodes by them. */
export const Cmp = { NE: 1, LT: 2, LE: 3, EQ: 4, GE: 5, GT: 6, MASKED_EQ: 7 } as const;
export type Cmp = (typeof Cmp)[keyof typeof Cmp];

export const OPERATOR_CODES: Readonly<Record<SeccompOperatorName, Cmp>> = {
  SCMP_CMP_NE: Cmp.NE,
  SCMP_CMP_LT: Cmp.LT,
  SCMP_CMP_LE: Cmp.LE,
  SCMP_CMP_EQ: Cmp.EQ,
  SCMP_CMP_GE: Cmp.GE,
  SCMP_CMP_GT: Cmp.GT,
  SCMP_CMP_MASKED_EQ: Cmp.MASKED_EQ,
};

/** Filter flags of the runtime spec. */
export const SECCOMP_FLAGS = [
  'SECCOMP_FILTER_FLAG_TSYNC',
  'SECCOMP_FILTER_FLAG_LOG',
  'SECCOMP_FILTER_FLAG_SPEC_ALLOW',
  'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV',
] as const;
export type SeccompFlagName = (typeof SECCOMP_FLAGS)[number];

/** SECCOMP_FILTER_FLAG_* bits of seccomp(SECCOMP_SET_MODE_FILTER, flags, prog) (linux/seccomp.h). */
export const SECCOMP_FILTER_FLAG = {
  TSYNC: 1 << 0,
  LOG: 1 << 1,
  SPEC_ALLOW: 1 << 2,
  NEW_LISTENER: 1 << 3,
  TSYNC_ESRCH: 1 << 4,
  WAIT_KILLABLE_RECV: 1 << 5,
} as const;

/** SECCOMP_RET_* action values a filter returns (the low 16 bits carry errno / trace data). */
export const SECCOMP_RET = {
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0x00000000,
  TRAP: 0x00030000,
  ERRNO: 0x00050000,
  USER_NOTIF: 0x7fc00000,
  TRACE: 0x7ff00000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
} as const;
export const SECCOMP_RET_ACTION_FULL = 0xffff0000;
export const SECCOMP_RET_DATA = 0x0000ffff;

export const EPERM = 1;
export const ENOSYS = 38;

/** x32 syscalls are AUDIT_ARCH_X86_64 syscalls with this bit set in the number. */
export const X32_SYSCALL_BIT = 0x40000000;

/** Offsets in struct seccomp_data { int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6]; }. */
export const SECCOMP_DATA_NR = 0;
export const SECCOMP_DATA_ARCH = 4;
export const SECCOMP_DATA_ARGS = 16;

/** The kernel refuses programs longer than this (BPF_MAXINSNS). */
export const BPF_MAXINSNS = 4096;

/** Syscalls are limited to 6 arguments. */
export const SYSCALL_MAX_ARGS = 6;

/** Human name of a SECCOMP_RET_* value, e.g. "ERRNO(1)", used by explain and error messages. */
export function actionToString(action: number): string {
  const a = action >>> 0;
  const data = a & SECCOMP_RET_DATA;
  switch ((a & SECCOMP_RET_ACTION_FULL) >>> 0) {
    case SECCOMP_RET.KILL_PROCESS: return 'KILL_PROCESS';
    case SECCOMP_RET.KILL_THREAD: return data ? `KILL_THREAD(${data})` : 'KILL_THREAD';
    case SECCOMP_RET.TRAP: return data ? `TRAP(${data})` : 'TRAP';
    case SECCOMP_RET.ERRNO: return `ERRNO(${data})`;
    case SECCOMP_RET.USER_NOTIF: return 'NOTIFY';
    case SECCOMP_RET.TRACE: return `TRACE(${data})`;
    case SECCOMP_RET.LOG: return 'LOG';
    case SECCOMP_RET.ALLOW: return 'ALLOW';
    default: return `0x${a.toString(16).padStart(8, '0')}`;
  }
}
