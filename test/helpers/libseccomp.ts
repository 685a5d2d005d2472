/**
 * The reference for the differential tests: what runc (libcontainer/seccomp + patchbpf) installs
 * for an OCI profile, built with the real libseccomp2 through koffi. It deliberately uses nothing
 * from src/linux/seccomp: names are resolved by libseccomp, the -ENOSYS stub is a port of runc's
 * generateEnosysStub, and the result is the BPF program runc would hand to seccomp(2).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as koffi from 'koffi';
import type { LinuxSeccomp } from '../../src/spec/types';
import type { BpfInsn } from './bpf';
import { decode } from './bpf';

export interface Libseccomp {
  version: string;
  init(defaultAction: number): unknown;
  release(ctx: unknown): void;
  archAdd(ctx: unknown, token: number): number;
  archResolveName(name: string): number;
  attrSet(ctx: unknown, attr: number, value: number): number;
  ruleAdd(ctx: unknown, action: number, syscall: number, conds: Array<{ arg: number; op: number; datum_a: bigint; datum_b: bigint }>): number;
  exportBpf(ctx: unknown): Uint8Array;
  /** libseccomp's "pseudo filter code": its rule database printed as nested ifs (no BPF generation involved) */
  exportPfc(ctx: unknown): string;
  resolveName(name: string): number;
  resolveNameArch(token: number, name: string): number;
}

let cached: Libseccomp | null | undefined;

/** libseccomp.so.2 through koffi, or null (with the reason in `loadError`) when it is absent. */
export let loadError = '';
export function loadLibseccomp(): Libseccomp | null {
  if (cached !== undefined) return cached;
  let lib: koffi.LibraryHandle;
  let libc: koffi.LibraryHandle;
  try {
    lib = koffi.load('libseccomp.so.2');
    libc = koffi.load('libc.so.6');
  } catch (e) {
    loadError = (e as Error).message;
    cached = null;
    return null;
  }
  koffi.struct('tsrunc_scmp_arg_cmp', { arg: 'uint', op: 'int', datum_a: 'uint64_t', datum_b: 'uint64_t' });
  koffi.struct('tsrunc_scmp_version', { major: 'uint', minor: 'uint', micro: 'uint' });
  const init = lib.func('void *seccomp_init(uint32_t def_action)');
  const release = lib.func('void seccomp_release(void *ctx)');
  const archAdd = lib.func('int seccomp_arch_add(void *ctx, uint32_t arch)');
  const archResolveName = lib.func('uint32_t seccomp_arch_resolve_name(const char *name)');
  const attrSet = lib.func('int seccomp_attr_set(void *ctx, int attr, uint32_t value)');
  const ruleAdd = lib.func('int seccomp_rule_add_array(void *ctx, uint32_t action, int syscall, unsigned int arg_cnt, const tsrunc_scmp_arg_cmp *arg_array)');
  const exportBpf = lib.func('int seccomp_export_bpf(void *ctx, int fd)');
  const exportPfc = lib.func('int seccomp_export_pfc(void *ctx, int fd)');
  const resolveName = lib.func('int seccomp_syscall_resolve_name(const char *name)');
  const resolveNameArch = lib.func('int seccomp_syscall_resolve_name_arch(uint32_t arch, const char *name)');
  const version = lib.func('const void *seccomp_version()');
  const memfdCreate = libc.func('int memfd_create(const char *name, unsigned int flags)');
  const v = koffi.decode(version(), 'tsrunc_scmp_version') as { major: number; minor: number; micro: number };
  /** seccomp_export_* write to an fd: give them a memfd and read it back */
  const exportToMemfd = (write: (fd: number) => number): Buffer => {
    const fd = memfdCreate('tsrunc-seccomp-export', 1 /* MFD_CLOEXEC */);
    if (fd < 0) throw new Error('memfd_create failed');
    try {
      const rc = write(fd);
      if (rc !== 0) throw new Error(`seccomp_export: ${rc}`);
      const size = fs.fstatSync(fd).size;
      const buf = Buffer.alloc(size);
      fs.readSync(fd, buf, 0, size, 0);
      return buf;
    } finally {
      fs.closeSync(fd);
    }
  };
  cached = {
    version: `${v.major}.${v.minor}.${v.micro}`,
    init: (a) => init(a >>> 0),
    release: (ctx) => release(ctx),
    archAdd: (ctx, token) => archAdd(ctx, token >>> 0),
    archResolveName: (name) => archResolveName(name),
    attrSet: (ctx, attr, value) => attrSet(ctx, attr, value),
    ruleAdd: (ctx, action, syscall, conds) => ruleAdd(ctx, action >>> 0, syscall, conds.length, conds.length ? conds : null),
    exportBpf: (ctx) => new Uint8Array(exportToMemfd((fd) => exportBpf(ctx, fd))),
    exportPfc: (ctx) => exportToMemfd((fd) => exportPfc(ctx, fd)).toString('utf8'),
    resolveName: (name) => resolveName(name),
    resolveNameArch: (token, name) => resolveNameArch(token >>> 0, name),
  };
  return cached;
}

// ---- runc's translation (libcontainer/seccomp, written again here on purpose) ----

const ACTIONS: Record<string, (errnoRet?: number) => number> = {
  SCMP_ACT_KILL: () => 0,
  SCMP_ACT_KILL_THREAD: () => 0,
  SCMP_ACT_KILL_PROCESS: () => 0x80000000,
  SCMP_ACT_TRAP: () => 0x00030000,
  SCMP_ACT_ERRNO: (e) => (0x00050000 | ((e ?? 1) & 0xffff)) >>> 0,
  SCMP_ACT_TRACE: (e) => (0x7ff00000 | ((e ?? 1) & 0xffff)) >>> 0,
  SCMP_ACT_ALLOW: () => 0x7fff0000,
  SCMP_ACT_LOG: () => 0x7ffc0000,
  SCMP_ACT_NOTIFY: () => 0x7fc00000,
};
const OPERATORS: Record<string, number> = {
  SCMP_CMP_NE: 1, SCMP_CMP_LT: 2, SCMP_CMP_LE: 3, SCMP_CMP_EQ: 4, SCMP_CMP_GE: 5, SCMP_CMP_GT: 6, SCMP_CMP_MASKED_EQ: 7,
};
const SCMP_FLTATR_CTL_OPTIMIZE = 8;
const ENOSYS_RET = 0x00050026;
const AUDIT_ARCH_X86_64 = 0xc000003e;

/** OCI SCMP_ARCH_X86_64 → libseccomp's "x86_64" (runc goes through Go names; same tokens). */
const libseccompArchName = (oci: string) => oci.replace(/^SCMP_ARCH_/, '').toLowerCase();

export interface RuncReference {
  /** the full program runc loads: its -ENOSYS stub followed by libseccomp's filter */
  program: BpfInsn[];
  libseccompInstructions: number;
  stubInstructions: number;
  /** libseccomp's rule database as parsed from its PFC export */
  pfc: PfcFilter;
  /** the PFC export itself */
  pfcText: string;
}

/** Everything runc would do up to seccomp(2), or the error runc would fail with. */
export function runcReference(lib: Libseccomp, profile: LinuxSeccomp, opts: { optimize?: 1 | 2 } = {}): RuncReference | { error: string } {
  const syscalls = profile.syscalls ?? [];
  const defaultOf = ACTIONS[profile.defaultAction];
  if (!defaultOf) return { error: `invalid default action ${profile.defaultAction}` };
  const defaultAction = defaultOf(profile.defaultErrnoRet);
  if (profile.defaultAction === 'SCMP_ACT_NOTIFY') return { error: 'SCMP_ACT_NOTIFY cannot be used as default action' };

  // specconv: one rule per name
  const rules: Array<{ name: string; action: number; args: NonNullable<(typeof syscalls)[number]['args']> }> = [];
  for (const entry of syscalls) {
    const actionOf = ACTIONS[entry.action];
    if (!actionOf) return { error: `invalid action ${entry.action}` };
    for (const arg of entry.args ?? []) if (!(arg.op in OPERATORS)) return { error: `invalid operator ${arg.op}` };
    for (const name of entry.names) rules.push({ name, action: actionOf(entry.errnoRet), args: entry.args ?? [] });
  }

  const ctx = lib.init(defaultAction);
  if (!ctx) return { error: 'seccomp_init failed' };
  try {
    const tokens: number[] = [];
    for (const oci of profile.architectures ?? []) {
      const token = lib.archResolveName(libseccompArchName(oci));
      if (!token) return { error: `unknown architecture ${oci}` };
      const rc = lib.archAdd(ctx, token);
      if (rc !== 0 && rc !== -17 /* EEXIST */) return { error: `seccomp_arch_add(${oci}): ${rc}` };
      tokens.push(token);
    }
    // runc: binary tree optimisation for more than 32 rules
    const optimize = opts.optimize ?? (rules.length > 32 ? 2 : 1);
    if (optimize === 2 && lib.attrSet(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2) !== 0) return { error: 'cannot set optimize' };

    for (const rule of rules) {
      if (rule.action === defaultAction) continue;
      const nr = lib.resolveName(rule.name);
      if (nr === -1) continue; // unknown to libseccomp: runc skips it
      const conds = [];
      const counts = new Map<number, number>();
      for (const a of rule.args) {
        if (!(Number.isInteger(a.index) && a.index >= 0 && a.index <= 5)) return { error: `argument index ${a.index} out of range` };
        counts.set(a.index, (counts.get(a.index) ?? 0) + 1);
        conds.push({ arg: a.index, op: OPERATORS[a.op], datum_a: BigInt(a.value), datum_b: BigInt(a.valueTwo ?? 0) });
      }
      const groups = [...counts.values()].some((c) => c > 1) ? conds.map((c) => [c]) : [conds];
      for (const g of groups) {
        const rc = lib.ruleAdd(ctx, rule.action, nr, g);
        if (rc !== 0) return { error: `seccomp_rule_add(${rule.name}): ${rc}` };
      }
    }
    const filter = decode(lib.exportBpf(ctx));
    // the PFC is printed from the same database; optimize=2 only reshapes it into a binary tree
    lib.attrSet(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 1);
    const pfcText = lib.exportPfc(ctx);
    const pfc = parsePfc(pfcText);
    const stub = enosysStub(lib, profile, rules.map((r) => r.name), tokens);
    return { program: [...stub, ...filter], libseccompInstructions: filter.length, stubInstructions: stub.length, pfc, pfcText };
  } finally {
    lib.release(ctx);
  }
}

// ---- runc's patchbpf.generateEnosysStub, ported (golang.org/x/net/bpf instructions as raw BPF) ----

type StubInsn =
  | { op: 'ld'; off: number }
  | { op: 'ja'; skip: number }
  | { op: 'ret'; val: number }
  | { op: 'jeq' | 'jne' | 'jgt' | 'jle' | 'jset' | 'jnset'; val: number; skipTrue: number; skipFalse?: number };

function assemble(i: StubInsn): BpfInsn {
  switch (i.op) {
    case 'ld': return { code: 0x20, jt: 0, jf: 0, k: i.off };
    case 'ja': return { code: 0x05, jt: 0, jf: 0, k: i.skip };
    case 'ret': return { code: 0x06, jt: 0, jf: 0, k: i.val >>> 0 };
    // x/net/bpf encodes the negated conditions by swapping the branches
    case 'jeq': return { code: 0x15, jt: i.skipTrue, jf: i.skipFalse ?? 0, k: i.val >>> 0 };
    case 'jne': return { code: 0x15, jt: i.skipFalse ?? 0, jf: i.skipTrue, k: i.val >>> 0 };
    case 'jgt': return { code: 0x25, jt: i.skipTrue, jf: i.skipFalse ?? 0, k: i.val >>> 0 };
    case 'jle': return { code: 0x25, jt: i.skipFalse ?? 0, jf: i.skipTrue, k: i.val >>> 0 };
    case 'jset': return { code: 0x45, jt: i.skipTrue, jf: i.skipFalse ?? 0, k: i.val >>> 0 };
    case 'jnset': return { code: 0x45, jt: i.skipFalse ?? 0, jf: i.skipTrue, k: i.val >>> 0 };
  }
}

function enosysStub(lib: Libseccomp, profile: LinuxSeccomp, names: string[], _tokens: number[]): BpfInsn[] {
  const def = profile.defaultAction;
  if (def === 'SCMP_ACT_ALLOW' || def === 'SCMP_ACT_LOG' || def === 'SCMP_ACT_TRACE') return [];
  // findLastSyscalls: per AUDIT arch, per libseccomp arch, the largest number
  const last = new Map<number, Map<string, number>>();
  for (const oci of profile.architectures ?? []) {
    const name = libseccompArchName(oci);
    const token = lib.archResolveName(name);
    const audit = name === 'x32' ? AUDIT_ARCH_X86_64 : token;
    if (!last.has(audit)) last.set(audit, new Map());
    if (last.get(audit)!.has(name)) continue;
    let largest = 0;
    for (const n of names) {
      const nr = lib.resolveNameArch(token, n);
      if (nr > largest) largest = nr;
    }
    if (largest !== 0) last.get(audit)!.set(name, largest);
  }

  let tail: StubInsn[] = [{ op: 'ja', skip: 1 }, { op: 'ret', val: ENOSYS_RET }];
  const jumpTable = new Map<number, number>();
  for (const [audit, maxes] of last) {
    const baseJumpEnosys = tail.length - 1;
    const baseJumpFilter = baseJumpEnosys + 1;
    let section: StubInsn[] = [{ op: 'ld', off: 0 }];
    if (maxes.size === 0) continue;
    if (maxes.size === 1) {
      const [[archName, sysno]] = [...maxes];
      if (archName === 's390' || archName === 's390x') {
        section.push({ op: 'jne', val: 0, skipTrue: 1 }, { op: 'ret', val: ENOSYS_RET });
      }
      let sectionTail: StubInsn[] = baseJumpEnosys + 1 <= 255
        ? [{ op: 'jgt', val: sysno, skipTrue: baseJumpEnosys + 1 }, { op: 'ja', skip: baseJumpFilter }]
        : [{ op: 'jle', val: sysno, skipTrue: 1 }, { op: 'ret', val: ENOSYS_RET }, { op: 'ja', skip: baseJumpFilter }];
      if (audit === AUDIT_ARCH_X86_64) {
        if (archName === 'x86_64') sectionTail = [{ op: 'jset', val: 1 << 30, skipTrue: sectionTail.length - 1 }, ...sectionTail];
        else sectionTail = [{ op: 'jnset', val: 1 << 30, skipTrue: sectionTail.length - 1 }, ...sectionTail];
      }
      section = [...section, ...sectionTail];
    } else {
      const x32 = maxes.get('x32')!;
      const x86 = maxes.get('x86_64')!;
      if (baseJumpEnosys + 2 <= 255) {
        section.push(
          { op: 'jset', val: 1 << 30, skipTrue: 1 },
          { op: 'jgt', val: x86, skipTrue: baseJumpEnosys + 2, skipFalse: 1 },
          { op: 'jgt', val: x32, skipTrue: baseJumpEnosys + 1 },
          { op: 'ja', skip: baseJumpFilter },
        );
      } else {
        section.push(
          { op: 'jset', val: 1 << 30, skipTrue: 1 },
          { op: 'jgt', val: x86, skipTrue: 1, skipFalse: 2 },
          { op: 'jle', val: x32, skipTrue: 1 },
          { op: 'ret', val: ENOSYS_RET },
          { op: 'ja', skip: baseJumpFilter },
        );
      }
    }
    tail = [...section, ...tail];
    jumpTable.set(audit, tail.length);
  }
  tail = [{ op: 'ja', skip: tail.length }, ...tail];
  for (const audit of last.keys()) {
    if (!jumpTable.has(audit)) continue;
    const jump = tail.length - jumpTable.get(audit)!;
    tail = jump <= 255
      ? [{ op: 'jeq', val: audit, skipTrue: jump }, ...tail]
      : [{ op: 'jne', val: audit, skipTrue: 1 }, { op: 'ja', skip: jump }, ...tail];
  }
  tail = [{ op: 'ld', off: 4 }, ...tail];
  return tail.map(assemble);
}

// ---- libseccomp's PFC export, parsed and evaluated ----

type PfcBody = { kind: 'action'; action: number } | { kind: 'level'; nodes: PfcNode[] };
interface PfcNode {
  arg: number;
  /** which 32-bit half: hi/lo of a 64-bit ABI, or the only word of a 32-bit ABI */
  half: 'hi' | 'lo' | 'only';
  op: '==' | '>=' | '>' | '&==';
  mask: number;
  datum: number;
  onTrue?: PfcBody;
  onFalse?: PfcBody;
}
export interface PfcArch {
  name: string;
  auditArch: number;
  syscalls: Map<number, PfcBody>;
}
export interface PfcFilter {
  arches: PfcArch[];
}

function pfcAction(text: string): number {
  const m = /^action (\w+)(?:\((\d+)\))?;$/.exec(text.trim());
  if (!m) throw new Error(`bad PFC action ${text}`);
  const data = Number(m[2] ?? 0);
  switch (m[1]) {
    case 'KILL_PROCESS': return 0x80000000;
    case 'KILL': return 0;
    case 'TRAP': return 0x00030000;
    case 'ERRNO': return (0x00050000 | data) >>> 0;
    case 'TRACE': return (0x7ff00000 | data) >>> 0;
    case 'LOG': return 0x7ffc0000;
    case 'ALLOW': return 0x7fff0000;
    default: return Number(m[1]) >>> 0;
  }
}

export function parsePfc(text: string): PfcFilter {
  const lines = text.split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('#') || /^\s*# filter for arch /.test(l));
  const indentOf = (l: string) => (l.length - l.trimStart().length) / 2;
  let i = 0;
  // body at `indent`: either one action line or a sequence of if-nodes
  const parseBody = (indent: number): PfcBody | undefined => {
    if (i >= lines.length || indentOf(lines[i]) !== indent) return undefined;
    if (lines[i].trim().startsWith('action ')) return { kind: 'action', action: pfcAction(lines[i++]) };
    const nodes: PfcNode[] = [];
    while (i < lines.length && indentOf(lines[i]) === indent && lines[i].trim().startsWith('if ($a')) {
      const m = /^if \(\$a(\d)(?:\.(hi32|lo32))? (?:& 0x([0-9a-f]+) )?(==|>=|>) (\d+)\)$/.exec(lines[i].trim());
      if (!m) throw new Error(`bad PFC line ${lines[i]}`);
      i++;
      const node: PfcNode = {
        arg: Number(m[1]),
        half: m[2] === 'hi32' ? 'hi' : m[2] === 'lo32' ? 'lo' : 'only',
        op: m[3] !== undefined ? '&==' : (m[4] as PfcNode['op']),
        mask: m[3] !== undefined ? parseInt(m[3], 16) : 0xffffffff,
        datum: Number(m[5]),
      };
      node.onTrue = parseBody(indent + 1);
      if (i < lines.length && indentOf(lines[i]) === indent && lines[i].trim() === 'else') {
        i++;
        node.onFalse = parseBody(indent + 1);
      }
      nodes.push(node);
    }
    return { kind: 'level', nodes };
  };
  const arches: PfcArch[] = [];
  while (i < lines.length) {
    const archLine = /^# filter for arch (\w+) \((\d+)\)$/.exec(lines[i].trim());
    if (!archLine) {
      i++;
      continue;
    }
    const arch: PfcArch = { name: archLine[1], auditArch: Number(archLine[2]), syscalls: new Map() };
    arches.push(arch);
    i += 2; // the comment and "if ($arch == N)"
    while (i < lines.length && indentOf(lines[i]) === 1 && lines[i].trim().startsWith('if ($syscall == ')) {
      const nr = Number(/\d+/.exec(lines[i].trim())![0]);
      i++;
      const body = parseBody(2);
      if (body) arch.syscalls.set(nr, body);
    }
    // "action <default>;" of this arch
    if (i < lines.length && indentOf(lines[i]) === 1) i++;
  }
  return { arches };
}

const FALL = Symbol('fall');

function evalPfcBody(body: PfcBody, word: (arg: number, half: PfcNode['half']) => number): number | typeof FALL {
  if (body.kind === 'action') return body.action;
  for (const n of body.nodes) {
    const v = (word(n.arg, n.half) & n.mask) >>> 0;
    const hit = n.op === '>' ? v > n.datum : n.op === '>=' ? v >= n.datum : v === n.datum;
    const next = hit ? n.onTrue : n.onFalse;
    if (!next) continue;
    const r = evalPfcBody(next, word);
    if (r !== FALL) return r;
  }
  return FALL;
}

/**
 * libseccomp's own decision for a syscall that has argument rules, from its rule database (PFC)
 * rather than its BPF: undefined when no architecture of `auditArch` has rules for `nr`.
 */
export function pfcDecision(pfc: PfcFilter, auditArch: number, nr: number, args: readonly bigint[], defaultAction: number): number | undefined {
  if (nr >= 0x80000000) return undefined; // pseudo syscalls never reach the filter
  for (const arch of pfc.arches) {
    if (arch.auditArch !== auditArch >>> 0) continue;
    const body = arch.syscalls.get(nr >>> 0);
    if (!body) continue;
    const r = evalPfcBody(body, (arg, half) => {
      const v = BigInt.asUintN(64, args[arg] ?? 0n);
      return Number(half === 'hi' ? v >> 32n : v & 0xffffffffn);
    });
    return r === FALL ? defaultAction : r;
  }
  return undefined;
}

/**
 * True if building the reference makes libseccomp loop forever (checked in a child process that is
 * killed after `timeoutMs`), for profiles tsrunc refuses because libseccomp's rule tree turns cyclic.
 */
export function referenceHangs(profile: LinuxSeccomp, timeoutMs = 5000): boolean {
  const json = JSON.stringify(profile, (_k, v) => (typeof v === 'bigint' ? { $bigint: v.toString() } : v));
  const script = `
    const h = require(${JSON.stringify(__filename)});
    const p = JSON.parse(process.argv[1], (_k, v) => (v && typeof v === 'object' && '$bigint' in v ? BigInt(v.$bigint) : v));
    h.runcReference(h.loadLibseccomp(), p);`;
  const r = spawnSync(process.execPath, ['-e', script, json], { timeout: timeoutMs, stdio: 'ignore' });
  return r.error !== undefined && (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT';
}

/** The PFC text of every syscall of every architecture: "arch nr" → its body lines (indentation kept). */
export function pfcBodies(pfcText: string): Map<string, string> {
  const out = new Map<string, string>();
  let arch = '';
  let key = '';
  let body: string[] = [];
  const flush = () => {
    if (key) out.set(key, body.join('\n'));
    key = '';
    body = [];
  };
  for (const line of pfcText.split('\n')) {
    const a = /^# filter for arch (\w+) /.exec(line);
    if (a) {
      flush();
      arch = a[1];
      continue;
    }
    const s = /^ {2}if \(\$syscall == (\d+)\)$/.exec(line);
    if (s) {
      flush();
      key = `${arch} ${s[1]}`;
      continue;
    }
    if (key && line.startsWith('    ')) body.push(line);
    else if (key && !line.trimStart().startsWith('#')) flush();
  }
  flush();
  return out;
}
