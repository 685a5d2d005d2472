/**
 * OCI linux.seccomp → classic BPF, deciding every syscall exactly as runc (libseccomp 2.5.4 +
 * runc's -ENOSYS patch) would. Pure code: no I/O, no koffi. See docs/seccomp.md.
 *
 *   checkSeccomp(profile)            validation issues (JSON pointers), [] if the profile is usable
 *   compileSeccomp(profile, opts)    the program, its flags and whether it needs a notify listener
 *   explainSeccomp(compiled)         one line of disassembly per instruction
 *   deniedChainSyscalls(profile, a)  which syscalls the spawn chain still makes after the filter is
 *                                    installed would not simply be allowed
 */
import type { LinuxSeccomp } from '../../spec/types';
import { SECCOMP_ARCHS, archByName, syscallNumber } from './architectures';
import { decodeProgram, encodeProgram, formatInsn, type BpfInsn } from './bpf';
import { generateProgram } from './codegen';
import { SECCOMP_FILTER_FLAG, SECCOMP_RET, X32_SYSCALL_BIT, actionToString, type SeccompFlagName } from './constants';
import { treeActions } from './libseccomp-db';
import { SYSCALL_NAMES } from './syscalls-pseudo';
import { buildModel, decideNr, nativeArchOfProcess, type NativeArch, type SeccompIssue } from './model';

export type { SeccompIssue, NativeArch, SeccompModel } from './model';
export { buildModel, decide, toU64 } from './model';
export {
  SECCOMP_ACTIONS,
  SECCOMP_FLAGS,
  SECCOMP_OPERATORS,
  SECCOMP_FILTER_FLAG,
  SECCOMP_RET,
  actionToString,
} from './constants';
export { SECCOMP_ARCHITECTURES } from './architectures';
export { SYSCALL_TABLE_SOURCE } from './syscall-tables';
export { decodeProgram, encodeProgram, type BpfInsn } from './bpf';

export interface CompiledSeccomp {
  /** struct sock_filter[] exactly as the kernel reads it (little-endian host order, 8 bytes each) */
  program: Uint8Array;
  instructions: number;
  /** SECCOMP_FILTER_FLAG_* bits to pass to seccomp(SECCOMP_SET_MODE_FILTER, flags, &prog) */
  flags: number;
  /** some rule is SCMP_ACT_NOTIFY → the caller must add SECCOMP_FILTER_FLAG_NEW_LISTENER and handle listenerPath */
  usesNotify: boolean;
}

export interface CompileOptions {
  nativeArch: NativeArch;
  /**
   * Filter flags the running kernel supports, by name (SECCOMP_FILTER_FLAG_LOG, ..._SPEC_ALLOW,
   * ..._WAIT_KILLABLE_RECV, ..._TSYNC_ESRCH). Undefined = assume a current kernel (all of them).
   */
  kernelFlags?: Set<string>;
}

/** A profile that checkSeccomp rejects, or flags the kernel lacks. */
export class SeccompError extends Error {
  constructor(readonly issues: SeccompIssue[]) {
    super(issues.map((i) => `${i.pointer}: ${i.message} (${i.rule})`).join('\n'));
    this.name = 'SeccompError';
  }
}

/**
 * Validate a linux.seccomp section. Reports unknown actions, operators, architectures and flags,
 * bad argument indexes and values, notify misuse, and rules libseccomp would refuse (two rules with
 * the same comparisons and different actions). `nativeArch` defaults to this machine's.
 */
export function checkSeccomp(profile: LinuxSeccomp, pointerBase = '/linux/seccomp', nativeArch: NativeArch = nativeArchOfProcess()): SeccompIssue[] {
  return [...buildModel(profile, nativeArch, pointerBase).issues];
}

/** True when runc would install no filter at all: no default action and no syscalls. */
export function isSeccompDisabled(profile: LinuxSeccomp): boolean {
  return !profile.defaultAction && (profile.syscalls ?? []).length === 0;
}

const FLAG_BITS: Record<SeccompFlagName, number> = {
  SECCOMP_FILTER_FLAG_TSYNC: SECCOMP_FILTER_FLAG.TSYNC,
  SECCOMP_FILTER_FLAG_LOG: SECCOMP_FILTER_FLAG.LOG,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: SECCOMP_FILTER_FLAG.SPEC_ALLOW,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: SECCOMP_FILTER_FLAG.WAIT_KILLABLE_RECV,
};

/**
 * The flags to load the filter with. As runc: no `flags` key at all means SPEC_ALLOW (when the
 * kernel has it); TSYNC is harmless for our single-threaded init, but the kernel refuses it next to
 * NEW_LISTENER unless TSYNC_ESRCH is added; WAIT_KILLABLE_RECV is only valid with NEW_LISTENER.
 */
function filterFlags(profile: LinuxSeccomp, usesNotify: boolean, kernelFlags: Set<string> | undefined): number {
  const kernelHas = (name: string) => kernelFlags === undefined || kernelFlags.has(name);
  const requested = (profile.flags ?? (kernelHas('SECCOMP_FILTER_FLAG_SPEC_ALLOW') ? ['SECCOMP_FILTER_FLAG_SPEC_ALLOW'] : [])) as SeccompFlagName[];
  const missing: SeccompIssue[] = [];
  let flags = 0;
  requested.forEach((name, i) => {
    if (name !== 'SECCOMP_FILTER_FLAG_TSYNC' && !kernelHas(name)) {
      missing.push({ pointer: `/linux/seccomp/flags/${i}`, rule: 'seccomp-flag', message: `${name} is not supported by this kernel` });
      return;
    }
    if (name === 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV' && !usesNotify) return;
    if (name === 'SECCOMP_FILTER_FLAG_TSYNC' && usesNotify) {
      if (!kernelHas('SECCOMP_FILTER_FLAG_TSYNC_ESRCH')) return;
      flags |= SECCOMP_FILTER_FLAG.TSYNC_ESRCH;
    }
    flags |= FLAG_BITS[name];
  });
  if (missing.length) throw new SeccompError(missing);
  return flags;
}

/** Compile a profile; throws SeccompError when checkSeccomp finds issues. */
export function compileSeccomp(profile: LinuxSeccomp, opts: CompileOptions): CompiledSeccomp {
  const { model, issues } = buildModel(profile, opts.nativeArch);
  if (!model) throw new SeccompError(issues);
  const insns = generateProgram(model);
  return {
    program: encodeProgram(insns),
    instructions: insns.length,
    flags: filterFlags(profile, model.usesNotify, opts.kernelFlags),
    usesNotify: model.usesNotify,
  };
}

/** Syscalls the spawn chain makes after installing the filter (pitfalls 4 and 14 of the prototype). */
export const CHAIN_SYSCALLS = ['rt_sigprocmask', 'writev', 'execve', 'execveat', 'exit_group', 'exit'] as const;

const passes = (action: number) => action === SECCOMP_RET.ALLOW || action === SECCOMP_RET.LOG;

/**
 * Which of CHAIN_SYSCALLS the profile would not simply allow on `arch` (for some argument values
 * or always): ERRNO, KILL, TRAP, TRACE (ENOSYS without a tracer) and NOTIFY (blocks until an agent
 * answers) all count. Nothing is added to the profile: the caller warns or documents.
 */
export function deniedChainSyscalls(profile: LinuxSeccomp, arch: NativeArch): string[] {
  const { model } = buildModel(profile, arch);
  if (!model) return [];
  const native = archByName(arch);
  const group = model.groups.find((g) => g.auditArch === native.auditArch)!;
  return CHAIN_SYSCALLS.filter((name) => {
    const nr = syscallNumber(native, name);
    if (nr === undefined) return false;
    const d = decideNr(model, group, nr);
    if (d.kind === 'action') return !passes(d.action);
    const actions = treeActions(d.entry.chains!);
    actions.add(model.defaultAction); // a chain can always fall through to the default
    return [...actions].some((a) => !passes(a));
  });
}

/** Annotation of what the accumulator holds, tracked forward through the program. */
interface FlowState {
  /** offset of the last load, or -1 if unknown */
  load: number;
  /** AUDIT_ARCH value known on this path, or -1 */
  arch: number;
}

function describeLoad(offset: number): string {
  if (offset === 0) return 'syscall number';
  if (offset === 4) return 'architecture';
  if (offset >= 8 && offset < 16) return 'instruction pointer';
  const arg = (offset - 16) >> 3;
  return `args[${arg}] ${(offset - 16) & 4 ? 'high' : 'low'} word`;
}

function syscallName(auditArch: number, nr: number): string | undefined {
  for (const a of SECCOMP_ARCHS) {
    if (a.auditArch !== auditArch || a.bigEndian) continue;
    if (a.name === 'x86_64' && nr >= X32_SYSCALL_BIT) continue;
    if (a.name === 'x32' && nr < X32_SYSCALL_BIT) continue;
    for (const name of SYSCALL_NAMES) if (syscallNumber(a, name) === nr) return `${a.name} ${name}`;
  }
  return undefined;
}

/** Disassembly of a compiled filter, one line per instruction, with what each constant means. */
export function explainSeccomp(c: CompiledSeccomp): string[] {
  const insns: BpfInsn[] = decodeProgram(c.program);
  const states: Array<FlowState | undefined> = new Array(insns.length).fill(undefined);
  const merge = (pc: number, s: FlowState) => {
    if (pc >= insns.length) return;
    const cur = states[pc];
    states[pc] = cur === undefined ? { ...s } : { load: cur.load === s.load ? s.load : -1, arch: cur.arch === s.arch ? s.arch : -1 };
  };
  states[0] = { load: -1, arch: -1 };
  const lines: string[] = [];
  const archNames = new Map(SECCOMP_ARCHS.map((a) => [a.auditArch, a.name === 'x32' ? 'x86_64/x32' : a.name]));
  archNames.set(archByName('x86_64').auditArch, 'x86_64/x32');
  insns.forEach((insn, pc) => {
    const s = states[pc] ?? { load: -1, arch: -1 };
    let note = '';
    const cls = insn.code & 0x07;
    let after: FlowState = s;
    if (insn.code === 0x20) {
      after = { ...s, load: insn.k };
      note = describeLoad(insn.k);
    } else if (cls === 0x06) {
      note = actionToString(insn.k);
    } else if (cls === 0x05 && (insn.code & 0xf0) !== 0) {
      if (s.load === 4) note = archNames.get(insn.k >>> 0) ?? '';
      else if (s.load === 0 && s.arch !== -1) {
        const name = syscallName(s.arch, insn.k >>> 0);
        const relation = { 0x10: '', 0x20: '> ', 0x30: '>= ' }[insn.code & 0xf0];
        if (name && relation !== undefined) note = relation + name;
      }
    }
    if (cls === 0x05) {
      if ((insn.code & 0xf0) === 0) merge(pc + 1 + insn.k, after);
      else {
        const isArchEq = (insn.code & 0xf0) === 0x10 && s.load === 4;
        merge(pc + 1 + insn.jt, isArchEq ? { ...after, arch: insn.k >>> 0 } : after);
        merge(pc + 1 + insn.jf, after);
      }
    } else if (cls !== 0x06) {
      merge(pc + 1, after);
    }
    const text = `${String(pc).padStart(4, '0')}: ${formatInsn(insn, pc)}`;
    lines.push(note ? `${text.padEnd(40)} ; ${note}` : text);
  });
  return lines;
}
