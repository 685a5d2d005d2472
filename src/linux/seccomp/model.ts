/**
 * From an OCI linux.seccomp section to the decisions runc would install, in three layers:
 *
 * 1. validation of the profile (SeccompIssue[] with JSON pointers);
 * 2. runc's translation (libcontainer/specconv + seccomp_linux.go): one rule per syscall name, rules
 *    whose action equals the default skipped, names libseccomp does not know skipped, a rule that
 *    tests one argument twice split into one rule per condition (OR instead of AND), errnoRet
 *    defaulting to EPERM;
 * 3. libseccomp's rule database per architecture (libseccomp-db.ts), and runc's -ENOSYS stub
 *    (libcontainer/seccomp/patchbpf): syscall numbers above the highest one the profile names return
 *    ENOSYS instead of the default action, so newer syscalls make programs fall back (clone3 → clone).
 *
 * The result, SeccompModel, answers "what does the filter return for (arch, nr, args)?" exactly;
 * codegen.ts turns that answer into a small BPF program.
 */
import type { LinuxSeccomp, SeccompArg } from '../../spec/types';
import {
  archByName,
  archByOciName,
  isKnownSyscall,
  rawSyscallName,
  resolveSyscall,
  SECCOMP_ARCHITECTURES,
  type SeccompArch,
} from './architectures';
import {
  Cmp,
  ENOSYS,
  EPERM,
  OPERATOR_CODES,
  SECCOMP_ACTIONS,
  SECCOMP_FLAGS,
  SECCOMP_OPERATORS,
  SECCOMP_RET,
  SYSCALL_MAX_ARGS,
  X32_SYSCALL_BIT,
  type SeccompActionName,
  type SeccompOperatorName,
} from './constants';
import { DbError, FALLTHROUGH, FilterDb, checkAcyclic, evaluateLevel, type DbRule, type RuleArg, type SyscallEntry } from './libseccomp-db';

export interface SeccompIssue {
  pointer: string;
  rule: string;
  message: string;
}

export type NativeArch = 'x86_64' | 'aarch64';

const U64_MAX = 0xffffffffffffffffn;
const DATUM_MAX = U64_MAX;

/** runc's rule after specconv: one syscall name. */
interface RuncRule {
  name: string;
  action: number;
  args: Array<{ index: number; op: Cmp; value: bigint; valueTwo: bigint }>;
  /** JSON pointer of the OCI syscalls[] entry */
  pointer: string;
}

/** runc's -ENOSYS stub for one AUDIT_ARCH value: the highest syscall number per libseccomp arch. */
export interface EnosysSection {
  auditArch: number;
  maxByArch: Map<string, number>;
}

/** The filters of one AUDIT_ARCH value (x86_64 and x32 share AUDIT_ARCH_X86_64). */
export interface ArchGroup {
  auditArch: number;
  dbs: FilterDb[];
  enosys?: EnosysSection;
}

export interface SeccompModel {
  native: SeccompArch;
  defaultAction: number;
  /** libseccomp's default bad-architecture action (runc keeps it): SCMP_ACT_KILL_THREAD */
  badArchAction: number;
  groups: ArchGroup[];
  usesNotify: boolean;
  /** names libseccomp does not know, skipped as runc does (for `explain`/debug output) */
  skippedNames: string[];
}

const joinPointer = (base: string, ...tokens: Array<string | number>) =>
  base + tokens.map((t) => '/' + String(t).replaceAll('~', '~0').replaceAll('/', '~1')).join('');

export function nativeArchOfProcess(): NativeArch {
  return process.arch === 'arm64' ? 'aarch64' : 'x86_64';
}

/** The SECCOMP_RET value runc gives an OCI action (libcontainer/seccomp getAction). */
export function actionValue(action: SeccompActionName, errnoRet: number | undefined): number {
  const data = (errnoRet ?? EPERM) & 0xffff;
  switch (action) {
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD':
      return SECCOMP_RET.KILL_THREAD;
    case 'SCMP_ACT_KILL_PROCESS':
      return SECCOMP_RET.KILL_PROCESS;
    case 'SCMP_ACT_TRAP':
      return SECCOMP_RET.TRAP;
    case 'SCMP_ACT_ERRNO':
      return (SECCOMP_RET.ERRNO | data) >>> 0;
    case 'SCMP_ACT_TRACE':
      return (SECCOMP_RET.TRACE | data) >>> 0;
    case 'SCMP_ACT_ALLOW':
      return SECCOMP_RET.ALLOW;
    case 'SCMP_ACT_LOG':
      return SECCOMP_RET.LOG;
    case 'SCMP_ACT_NOTIFY':
      return SECCOMP_RET.USER_NOTIF;
  }
}

export const ENOSYS_ACTION = (SECCOMP_RET.ERRNO | ENOSYS) >>> 0;

const isAction = (a: unknown): a is SeccompActionName => typeof a === 'string' && (SECCOMP_ACTIONS as readonly string[]).includes(a);
const isOperator = (o: unknown): o is SeccompOperatorName => typeof o === 'string' && (SECCOMP_OPERATORS as readonly string[]).includes(o);

/** A 64-bit argument value as an exact bigint, or undefined if it is not an integer in 0..2^64-1. */
export function toU64(v: unknown): bigint | undefined {
  if (typeof v === 'bigint') return v >= 0n && v <= U64_MAX ? v : undefined;
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  return undefined;
}

function describeValueProblem(v: unknown): string {
  if (typeof v === 'number' && Number.isInteger(v) && v > Number.MAX_SAFE_INTEGER) {
    return `${v} is above 2^53 and was rounded when the JSON was parsed; pass it as a bigint to keep it exact`;
  }
  return `${JSON.stringify(v)} is not an unsigned 64-bit integer`;
}

const isErrno = (v: unknown) => v === undefined || (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffff);

/** Static checks: names, types and ranges (no rule database needed). */
function staticIssues(profile: LinuxSeccomp, base: string, native: SeccompArch): SeccompIssue[] {
  const issues: SeccompIssue[] = [];
  const add = (pointer: string, rule: string, message: string) => issues.push({ pointer, rule, message });
  const syscalls = profile.syscalls ?? [];

  if (profile.defaultAction === '' || profile.defaultAction === undefined) {
    if (syscalls.length > 0) add(joinPointer(base, 'defaultAction'), 'seccomp-action', 'defaultAction is required when syscalls are listed');
  } else if (!isAction(profile.defaultAction)) {
    add(joinPointer(base, 'defaultAction'), 'seccomp-action', `unknown action ${JSON.stringify(profile.defaultAction)} (known: ${SECCOMP_ACTIONS.join(', ')})`);
  } else if (profile.defaultAction === 'SCMP_ACT_NOTIFY') {
    add(joinPointer(base, 'defaultAction'), 'seccomp-notify', 'SCMP_ACT_NOTIFY cannot be the default action: the runtime itself could not make another syscall');
  }
  if (!isErrno(profile.defaultErrnoRet)) {
    add(joinPointer(base, 'defaultErrnoRet'), 'seccomp-errno', `defaultErrnoRet must be an integer in 0..65535, not ${JSON.stringify(profile.defaultErrnoRet)}`);
  }

  (profile.architectures ?? []).forEach((name, i) => {
    const a = archByOciName(name);
    const pointer = joinPointer(base, 'architectures', i);
    if (!a) add(pointer, 'seccomp-architecture', `unsupported architecture ${JSON.stringify(name)} (supported: ${SECCOMP_ARCHITECTURES.join(', ')})`);
    else if (a.bigEndian !== native.bigEndian) {
      add(pointer, 'seccomp-architecture', `${name} is big-endian and cannot share a filter with the little-endian native ${native.oci} (libseccomp refuses it too)`);
    }
  });

  (profile.flags ?? []).forEach((flag, i) => {
    if (!(SECCOMP_FLAGS as readonly string[]).includes(flag)) {
      add(joinPointer(base, 'flags', i), 'seccomp-flag', `unknown flag ${JSON.stringify(flag)} (known: ${SECCOMP_FLAGS.join(', ')})`);
    }
  });

  let notifies = false;
  syscalls.forEach((entry, i) => {
    const at = (...tokens: Array<string | number>) => joinPointer(base, 'syscalls', i, ...tokens);
    if (!Array.isArray(entry.names) || entry.names.some((n) => typeof n !== 'string' || n === '')) {
      add(at('names'), 'seccomp-names', 'names must be an array of non-empty syscall names');
    }
    if (!isAction(entry.action)) {
      add(at('action'), 'seccomp-action', `unknown action ${JSON.stringify(entry.action)} (known: ${SECCOMP_ACTIONS.join(', ')})`);
    } else if (entry.action === 'SCMP_ACT_NOTIFY') {
      notifies = true;
    }
    if (!isErrno(entry.errnoRet)) add(at('errnoRet'), 'seccomp-errno', `errnoRet must be an integer in 0..65535, not ${JSON.stringify(entry.errnoRet)}`);
    (entry.args ?? []).forEach((arg: SeccompArg, j) => {
      if (!(typeof arg.index === 'number' && Number.isInteger(arg.index) && arg.index >= 0 && arg.index < SYSCALL_MAX_ARGS)) {
        add(at('args', j, 'index'), 'seccomp-arg-index', `argument index must be 0..${SYSCALL_MAX_ARGS - 1}, not ${JSON.stringify(arg.index)}`);
      }
      if (!isOperator(arg.op)) {
        add(at('args', j, 'op'), 'seccomp-operator', `unknown operator ${JSON.stringify(arg.op)} (known: ${SECCOMP_OPERATORS.join(', ')})`);
      }
      if (toU64(arg.value) === undefined) add(at('args', j, 'value'), 'seccomp-arg-value', describeValueProblem(arg.value));
      if (arg.valueTwo !== undefined && toU64(arg.valueTwo) === undefined) {
        add(at('args', j, 'valueTwo'), 'seccomp-arg-value', describeValueProblem(arg.valueTwo));
      }
    });
  });
  if (notifies && !profile.listenerPath) {
    add(joinPointer(base, 'listenerPath'), 'seccomp-notify', 'SCMP_ACT_NOTIFY is used but listenerPath is not set');
  }
  return issues;
}

/** specconv + matchCall: the rules runc hands to libseccomp, in order. Assumes a profile without static issues. */
function runcRules(profile: LinuxSeccomp, base: string): { rules: RuncRule[]; all: RuncRule[] } {
  const all: RuncRule[] = [];
  (profile.syscalls ?? []).forEach((entry, i) => {
    for (const name of entry.names) {
      all.push({
        name,
        action: actionValue(entry.action as SeccompActionName, entry.errnoRet),
        args: (entry.args ?? []).map((a) => ({ index: a.index, op: OPERATOR_CODES[a.op as SeccompOperatorName], value: toU64(a.value)!, valueTwo: toU64(a.valueTwo ?? 0)! })),
        pointer: joinPointer(base, 'syscalls', i),
      });
    }
  });
  const defaultAction = actionValue(profile.defaultAction as SeccompActionName, profile.defaultErrnoRet);
  // rules equal to the default are redundant (libseccomp would refuse them with EACCES)
  const rules = all.filter((r) => r.action !== defaultAction && isKnownSyscall(r.name));
  return { rules, all };
}

/** libseccomp's scmp_arg_cmp → db_api_arg conversion (db_col_rule_add). */
function ruleArgsFor(conds: RuncRule['args']): Array<RuleArg | undefined> {
  const args: Array<RuleArg | undefined> = new Array(SYSCALL_MAX_ARGS).fill(undefined);
  for (const c of conds) {
    if (args[c.index] !== undefined) throw new DbError('EINVAL', 'two checks on the same syscall argument');
    // MASKED_EQ: value is the mask, valueTwo the expected value; others compare against value
    args[c.index] = c.op === Cmp.MASKED_EQ
      ? { arg: c.index, op: c.op, mask: c.value, datum: c.valueTwo }
      : { arg: c.index, op: c.op, mask: DATUM_MAX, datum: c.value };
  }
  return args;
}

/** runc adds a rule that tests one argument several times as one rule per condition (OR). */
function splitRule(rule: RuncRule): Array<RuncRule['args']> {
  if (rule.args.length === 0) return [[]];
  const counts = new Map<number, number>();
  for (const a of rule.args) counts.set(a.index, (counts.get(a.index) ?? 0) + 1);
  if ([...counts.values()].some((c) => c > 1)) return rule.args.map((a) => [a]);
  return [rule.args];
}

/** The filters in libseccomp's order: the native architecture first, then the profile's. */
function filterArches(profile: LinuxSeccomp, native: SeccompArch): SeccompArch[] {
  const arches = [native];
  for (const name of profile.architectures ?? []) {
    const a = archByOciName(name)!;
    if (!arches.includes(a)) arches.push(a);
  }
  return arches;
}

interface BuildResult {
  dbs: FilterDb[];
  /** rules libseccomp refused (runc would fail on the first one) */
  refused: Array<{ rule: RuncRule; error: DbError }>;
}

/** db_col_rule_add for every rule; a refused rule is rolled back on every architecture, as libseccomp's transaction does. */
function buildDatabases(arches: SeccompArch[], rules: RuncRule[]): BuildResult {
  const accepted: Array<{ rule: RuncRule; args: Array<RuleArg | undefined> }> = [];
  const refused: BuildResult['refused'] = [];
  const fresh = () => arches.map((a) => new FilterDb(a));
  let dbs = fresh();
  const native = arches[0];
  const addToAll = (target: FilterDb[], rule: RuncRule, args: Array<RuleArg | undefined>) => {
    // runc resolves the name on the native ABI; libseccomp translates that number to each other
    // ABI through the native table (arch_syscall_translate), which matters where two names share
    // a pseudo number (switch_endian and sys_debug_setcontext: the first one in the table wins)
    const nativeNum = resolveSyscall(native, rule.name)!;
    for (const db of target) {
      let syscall = nativeNum;
      if (db.arch !== native) {
        const name = rawSyscallName(native, nativeNum);
        const translated = name === undefined ? undefined : resolveSyscall(db.arch, name);
        if (translated === undefined) throw new DbError('EFAULT', `cannot translate ${rule.name} to ${db.arch.name}`);
        syscall = translated;
      }
      db.filterRuleAdd({ action: rule.action, syscall, args: [...args], strict: false } satisfies DbRule);
    }
  };
  for (const rule of rules) {
    for (const conds of splitRule(rule)) {
      let args: Array<RuleArg | undefined>;
      try {
        args = ruleArgsFor(conds);
        addToAll(dbs, rule, args);
        for (const db of dbs) {
          for (const e of db.touched) if (e.chains) checkAcyclic(e);
          db.touched.clear();
        }
        accepted.push({ rule, args });
      } catch (e) {
        if (!(e instanceof DbError)) throw e;
        refused.push({ rule, error: e });
        // libseccomp's transaction would undo the rule on every architecture
        // roll back: rebuild from the accepted rules (rare, only on refused rules)
        dbs = fresh();
        for (const a of accepted) addToAll(dbs, a.rule, a.args);
      }
    }
  }
  return { dbs, refused };
}

/** runc's findLastSyscalls: per profile architecture, the highest number any profile name resolves to. */
function enosysSections(profile: LinuxSeccomp, allRules: RuncRule[], defaultActionName: string): Map<number, EnosysSection> {
  const sections = new Map<number, EnosysSection>();
  // runc skips the stub when the default action lets syscalls through (ALLOW, LOG, TRACE)
  if (defaultActionName === 'SCMP_ACT_ALLOW' || defaultActionName === 'SCMP_ACT_LOG' || defaultActionName === 'SCMP_ACT_TRACE') return sections;
  for (const name of profile.architectures ?? []) {
    const a = archByOciName(name)!;
    let largest = 0;
    for (const r of allRules) {
      const n = resolveSyscall(a, r.name);
      if (n !== undefined && n > largest) largest = n;
    }
    if (largest === 0) continue;
    let s = sections.get(a.auditArch);
    if (!s) sections.set(a.auditArch, (s = { auditArch: a.auditArch, maxByArch: new Map() }));
    s.maxByArch.set(a.name, largest);
  }
  return sections;
}

export interface ModelResult {
  model?: SeccompModel;
  issues: SeccompIssue[];
}

/**
 * The last result, keyed by the profile's content: a container's profile is checked when the
 * bundle is loaded and compiled again when the init process is planned.
 */
let lastBuild: { key: string; result: ModelResult } | undefined;

/** Validate the profile and, if it is valid, build the model of the filter runc would install. */
export function buildModel(profile: LinuxSeccomp, nativeArch: NativeArch, base = '/linux/seccomp'): ModelResult {
  const key = `${nativeArch} ${base} ${JSON.stringify(profile, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))}`;
  if (lastBuild?.key === key) return lastBuild.result;
  const result = buildModelUncached(profile, nativeArch, base);
  lastBuild = { key, result };
  return result;
}

function buildModelUncached(profile: LinuxSeccomp, nativeArch: NativeArch, base: string): ModelResult {
  const native = archByName(nativeArch);
  const issues = staticIssues(profile, base, native);
  if (issues.length > 0) return { issues };
  const { rules, all } = runcRules(profile, base);
  const arches = filterArches(profile, native);
  const { dbs, refused } = buildDatabases(arches, rules);
  for (const { rule, error } of refused) {
    issues.push({
      pointer: rule.pointer,
      rule: error.code === 'ELOOP' ? 'seccomp-libseccomp-loop' : 'seccomp-conflicting-rules',
      message: error.code === 'EEXIST'
        ? `rule for ${rule.name} conflicts with an earlier rule: same argument comparisons, different action (libseccomp: EEXIST)`
        : error.code === 'ELOOP'
          ? `rule for ${rule.name}: ${error.message}, so runc would hang; reorder or simplify the argument rules of ${rule.name}`
          : `libseccomp refuses the rule for ${rule.name}: ${error.message} (${error.code})`,
    });
  }
  if (issues.length > 0) return { issues };

  const enosys = enosysSections(profile, all, profile.defaultAction);
  const groups: ArchGroup[] = [];
  for (const db of dbs) {
    let g = groups.find((x) => x.auditArch === db.arch.auditArch);
    if (!g) groups.push((g = { auditArch: db.arch.auditArch, dbs: [], enosys: enosys.get(db.arch.auditArch) }));
    g.dbs.push(db);
  }
  const model: SeccompModel = {
    native,
    defaultAction: actionValue(profile.defaultAction as SeccompActionName, profile.defaultErrnoRet),
    badArchAction: SECCOMP_RET.KILL_THREAD,
    groups,
    usesNotify: all.some((r) => r.action === SECCOMP_RET.USER_NOTIF),
    skippedNames: [...new Set(all.filter((r) => !isKnownSyscall(r.name)).map((r) => r.name))],
  };
  return { model, issues };
}

/** What the filter does for a syscall number before looking at arguments. */
export type NrDecision = { kind: 'action'; action: number } | { kind: 'entry'; entry: SyscallEntry; arch: SeccompArch };

const u32 = (n: number) => n >>> 0;

/** runc's -ENOSYS stub for one group: true if `nr` gets ENOSYS before the libseccomp filter runs. */
function stubSaysEnosys(section: EnosysSection, nr: number): boolean {
  const x32Call = (nr & X32_SYSCALL_BIT) !== 0;
  const entries = [...section.maxByArch];
  if (entries.length === 2) {
    // x86_64 and x32 in one AUDIT_ARCH_X86_64 section
    const max = x32Call ? section.maxByArch.get('x32')! : section.maxByArch.get('x86_64')!;
    return u32(nr) > u32(max);
  }
  const [name, max] = entries[0];
  // s390(x) route unknown syscalls through setup(2) = 0
  if ((name === 's390' || name === 's390x') && nr === 0) return true;
  if (name === 'x86_64' && x32Call) return false;
  if (name === 'x32' && !x32Call) return false;
  return u32(nr) > u32(max);
}

/** The decision for (group, nr): runc's stub, libseccomp's x32 guard, then the syscall's rules or the default. */
export function decideNr(model: SeccompModel, group: ArchGroup, nrIn: number): NrDecision {
  const nr = u32(nrIn);
  if (group.enosys && stubSaysEnosys(group.enosys, nr)) return { kind: 'action', action: ENOSYS_ACTION };
  const hasX86_64 = group.dbs.some((d) => d.arch.name === 'x86_64');
  const hasX32 = group.dbs.some((d) => d.arch.name === 'x32');
  // libseccomp's ABI check when only one of x86_64/x32 is in the filter (nr -1 is a tracer's "skip")
  if (hasX86_64 && !hasX32 && nr >= X32_SYSCALL_BIT && nr !== 0xffffffff) return { kind: 'action', action: model.badArchAction };
  if (hasX32 && !hasX86_64 && nr < X32_SYSCALL_BIT) return { kind: 'action', action: model.badArchAction };
  for (const db of group.dbs) {
    const entry = db.syscalls.find((e) => e.valid && e.signedNum >= 0 && e.num === nr);
    if (!entry) continue;
    if (entry.chains === null) return { kind: 'action', action: entry.action };
    return { kind: 'entry', entry, arch: db.arch };
  }
  return { kind: 'action', action: model.defaultAction };
}

/** The value of the 32-bit word at `offset` of struct seccomp_data for the given args (little endian). */
export function argWordLoader(args: readonly bigint[], bigEndian = false): (offset: number) => number {
  return (offset: number) => {
    const i = (offset - 16) >> 3;
    const v = args[i] ?? 0n;
    const high = ((offset - 16) & 4) !== 0 !== bigEndian;
    return Number(high ? (v >> 32n) & 0xffffffffn : v & 0xffffffffn);
  };
}

/** The full decision: what the installed filter returns for this syscall. */
export function decide(model: SeccompModel, auditArch: number, nr: number, args: readonly bigint[]): number {
  const group = model.groups.find((g) => g.auditArch === u32(auditArch));
  if (!group) return model.badArchAction;
  const d = decideNr(model, group, nr);
  if (d.kind === 'action') return d.action;
  const r = evaluateLevel(d.entry.chains!, argWordLoader(args, d.arch.bigEndian));
  return r === FALLTHROUGH ? model.defaultAction : r;
}
