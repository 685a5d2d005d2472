/**
 * The architectures libseccomp 2.5.4 knows, and how it turns a syscall name into the number a filter
 * compares for each of them (arch-*.c and syscalls.c of libseccomp).
 */
import { X32_SYSCALL_BIT } from './constants';
import { SYSCALL_TABLES, type SyscallTableName } from './syscall-tables';
import { PSEUDO_SYSCALLS, SYSCALL_NAMES } from './syscalls-pseudo';

export interface SeccompArch {
  /** OCI name, e.g. SCMP_ARCH_X86_64 */
  oci: string;
  /** libseccomp's name, e.g. x86_64 */
  name: string;
  /** libseccomp's SCMP_ARCH_* token (equal to the audit value except for x32) */
  token: number;
  /** AUDIT_ARCH_* value the kernel puts in seccomp_data.arch */
  auditArch: number;
  table: SyscallTableName;
  bits: 32 | 64;
  bigEndian: boolean;
  /** added to every real syscall number of this ABI (x32's bit 30, MIPS' 4000/5000/6000) */
  nrBase: number;
  /** socketcall(2)/ipc(2) numbers on ABIs where libseccomp also filters the multiplexed form */
  multiplexer?: { socketcall: number; ipc: number };
}

// <linux/elf-em.h> machine numbers and <linux/audit.h> convention bits.
const EM = { I386: 3, MIPS: 8, PARISC: 15, PPC: 20, PPC64: 21, S390: 22, ARM: 40, X86_64: 62, AARCH64: 183, RISCV: 243 };
const AUDIT_64BIT = 0x80000000;
const AUDIT_LE = 0x40000000;
const AUDIT_MIPS64_N32 = 0x20000000;
const audit = (em: number, ...bits: number[]) => bits.reduce((v, b) => (v | b) >>> 0, em);

const ABI_MUX = { socketcall: 102, ipc: 117 };
const MIPS_O32_BASE = 4000;

function arch(a: Omit<SeccompArch, 'token' | 'nrBase'> & { token?: number; nrBase?: number }): SeccompArch {
  return { ...a, token: a.token ?? a.auditArch, nrBase: a.nrBase ?? 0 };
}

/** Indexed by OCI name. Order is the runtime spec's order. */
export const SECCOMP_ARCHS: readonly SeccompArch[] = [
  arch({ oci: 'SCMP_ARCH_X86', name: 'x86', auditArch: audit(EM.I386, AUDIT_LE), table: 'x86', bits: 32, bigEndian: false, multiplexer: ABI_MUX }),
  arch({ oci: 'SCMP_ARCH_X86_64', name: 'x86_64', auditArch: audit(EM.X86_64, AUDIT_64BIT, AUDIT_LE), table: 'x86_64', bits: 64, bigEndian: false }),
  // x32 has its own libseccomp token but the kernel reports AUDIT_ARCH_X86_64 with bit 30 in the number.
  arch({ oci: 'SCMP_ARCH_X32', name: 'x32', token: audit(EM.X86_64, AUDIT_LE), auditArch: audit(EM.X86_64, AUDIT_64BIT, AUDIT_LE), table: 'x32', bits: 32, bigEndian: false, nrBase: X32_SYSCALL_BIT }),
  arch({ oci: 'SCMP_ARCH_ARM', name: 'arm', auditArch: audit(EM.ARM, AUDIT_LE), table: 'arm', bits: 32, bigEndian: false }),
  arch({ oci: 'SCMP_ARCH_AARCH64', name: 'aarch64', auditArch: audit(EM.AARCH64, AUDIT_64BIT, AUDIT_LE), table: 'aarch64', bits: 64, bigEndian: false }),
  arch({ oci: 'SCMP_ARCH_MIPS', name: 'mips', auditArch: audit(EM.MIPS), table: 'mips', bits: 32, bigEndian: true, nrBase: MIPS_O32_BASE, multiplexer: { socketcall: MIPS_O32_BASE + 102, ipc: MIPS_O32_BASE + 117 } }),
  arch({ oci: 'SCMP_ARCH_MIPS64', name: 'mips64', auditArch: audit(EM.MIPS, AUDIT_64BIT), table: 'mips64', bits: 64, bigEndian: true, nrBase: 5000 }),
  arch({ oci: 'SCMP_ARCH_MIPS64N32', name: 'mips64n32', auditArch: audit(EM.MIPS, AUDIT_64BIT, AUDIT_MIPS64_N32), table: 'mips64n32', bits: 32, bigEndian: true, nrBase: 6000 }),
  arch({ oci: 'SCMP_ARCH_MIPSEL', name: 'mipsel', auditArch: audit(EM.MIPS, AUDIT_LE), table: 'mips', bits: 32, bigEndian: false, nrBase: MIPS_O32_BASE, multiplexer: { socketcall: MIPS_O32_BASE + 102, ipc: MIPS_O32_BASE + 117 } }),
  arch({ oci: 'SCMP_ARCH_MIPSEL64', name: 'mipsel64', auditArch: audit(EM.MIPS, AUDIT_64BIT, AUDIT_LE), table: 'mips64', bits: 64, bigEndian: false, nrBase: 5000 }),
  arch({ oci: 'SCMP_ARCH_MIPSEL64N32', name: 'mipsel64n32', auditArch: audit(EM.MIPS, AUDIT_64BIT, AUDIT_LE, AUDIT_MIPS64_N32), table: 'mips64n32', bits: 32, bigEndian: false, nrBase: 6000 }),
  arch({ oci: 'SCMP_ARCH_PPC', name: 'ppc', auditArch: audit(EM.PPC), table: 'ppc', bits: 32, bigEndian: true, multiplexer: ABI_MUX }),
  arch({ oci: 'SCMP_ARCH_PPC64', name: 'ppc64', auditArch: audit(EM.PPC64, AUDIT_64BIT), table: 'ppc64', bits: 64, bigEndian: true, multiplexer: ABI_MUX }),
  arch({ oci: 'SCMP_ARCH_PPC64LE', name: 'ppc64le', auditArch: audit(EM.PPC64, AUDIT_64BIT, AUDIT_LE), table: 'ppc64', bits: 64, bigEndian: false, multiplexer: ABI_MUX }),
  arch({ oci: 'SCMP_ARCH_S390', name: 's390', auditArch: audit(EM.S390), table: 's390', bits: 32, bigEndian: true, multiplexer: ABI_MUX }),
  arch({ oci: 'SCMP_ARCH_S390X', name: 's390x', auditArch: audit(EM.S390, AUDIT_64BIT), table: 's390x', bits: 64, bigEndian: true, multiplexer: ABI_MUX }),
  arch({ oci: 'SCMP_ARCH_PARISC', name: 'parisc', auditArch: audit(EM.PARISC), table: 'parisc', bits: 32, bigEndian: true }),
  arch({ oci: 'SCMP_ARCH_PARISC64', name: 'parisc64', auditArch: audit(EM.PARISC, AUDIT_64BIT), table: 'parisc64', bits: 64, bigEndian: true }),
  arch({ oci: 'SCMP_ARCH_RISCV64', name: 'riscv64', auditArch: audit(EM.RISCV, AUDIT_64BIT, AUDIT_LE), table: 'riscv64', bits: 64, bigEndian: false }),
];

/** The OCI architecture names tsrunc accepts (libseccomp 2.5.4 has no table for LOONGARCH64, M68K, SH, SHEB). */
export const SECCOMP_ARCHITECTURES: readonly string[] = SECCOMP_ARCHS.map((a) => a.oci);

const BY_OCI = new Map(SECCOMP_ARCHS.map((a) => [a.oci, a]));
const BY_NAME = new Map(SECCOMP_ARCHS.map((a) => [a.name, a]));

export function archByOciName(oci: string): SeccompArch | undefined {
  return BY_OCI.get(oci);
}

export function archByName(name: string): SeccompArch {
  const a = BY_NAME.get(name);
  if (!a) throw new Error(`unknown seccomp architecture ${name}`);
  return a;
}

const KNOWN_NAMES = new Set(SYSCALL_NAMES);

/** True if libseccomp knows the name at all (runc silently skips names it does not). */
export function isKnownSyscall(name: string): boolean {
  return KNOWN_NAMES.has(name);
}

/** libseccomp's pseudo number for a name absent on an architecture (__PNR_*). */
function pseudoNumber(name: string): number {
  const pnr = PSEUDO_SYSCALLS[name];
  if (pnr === undefined) throw new Error(`syscall ${name} has no pseudo number`);
  return pnr;
}

const isSocketPseudo = (n: number) => n <= -100 && n >= -120;
const isIpcPseudo = (n: number) => n <= -200 && n >= -224;

/** Names that socketcall(2) or ipc(2) multiplex (the __PNR_ ranges -100..-120 and -200..-224). */
export function multiplexedKind(name: string): 'socket' | 'ipc' | undefined {
  const pnr = PSEUDO_SYSCALLS[name];
  if (pnr === undefined) return undefined;
  if (isSocketPseudo(pnr)) return 'socket';
  if (isIpcPseudo(pnr)) return 'ipc';
  return undefined;
}

/**
 * The "raw" number of a name on an ABI: the table's number plus the ABI base, or the pseudo
 * number when the syscall does not exist there (libseccomp's syscall_resolve_name_raw).
 */
export function rawSyscallNumber(a: SeccompArch, name: string): number {
  const n = SYSCALL_TABLES[a.table][name];
  return n === undefined ? pseudoNumber(name) : n + a.nrBase;
}

const rawNameCache = new Map<SeccompArch, Map<number, string>>();

/** Inverse of rawSyscallNumber (libseccomp's syscall_resolve_num_raw). */
export function rawSyscallName(a: SeccompArch, num: number): string | undefined {
  let byNum = rawNameCache.get(a);
  if (!byNum) {
    byNum = new Map();
    for (const name of SYSCALL_NAMES) {
      const n = rawSyscallNumber(a, name);
      if (!byNum.has(n)) byNum.set(n, name);
    }
    rawNameCache.set(a, byNum);
  }
  return byNum.get(num);
}

/**
 * The number libseccomp uses for `name` on `a` when a rule is added (arch_syscall_resolve_name):
 * on ABIs with socketcall/ipc multiplexing the socket and SysV IPC names resolve to their pseudo
 * numbers, so that the rule can be added both ways. Negative results mean "not on this ABI".
 * Returns undefined when libseccomp does not know the name.
 */
export function resolveSyscall(a: SeccompArch, name: string): number | undefined {
  if (!KNOWN_NAMES.has(name)) return undefined;
  if (a.multiplexer && multiplexedKind(name)) return pseudoNumber(name);
  return rawSyscallNumber(a, name);
}

/** Real (non-negative) syscall number of `name` on `a`, or undefined. */
export function syscallNumber(a: SeccompArch, name: string): number | undefined {
  if (!KNOWN_NAMES.has(name)) return undefined;
  const n = SYSCALL_TABLES[a.table][name];
  return n === undefined ? undefined : n + a.nrBase;
}

/** Byte offset of the low / high 32-bit word of syscall argument `arg` in struct seccomp_data. */
export function argOffsetLow(a: SeccompArch, arg: number): number {
  return 16 + 8 * arg + (a.bigEndian ? 4 : 0);
}
export function argOffsetHigh(a: SeccompArch, arg: number): number {
  return 16 + 8 * arg + (a.bigEndian ? 0 : 4);
}
