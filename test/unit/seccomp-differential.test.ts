/**
 * Differential test: our compiled filter against what runc + libseccomp2 would install, run by the
 * same BPF interpreter on many (arch, syscall nr, args) inputs; every action must be the same.
 *
 * Profiles: the captured Docker and Podman profiles, then generated random ones. Inputs are drawn
 * around everything the profile mentions (its syscall numbers ±1, its comparison values and their
 * 32-bit halves ±1, masks) plus random and boundary values. Seeded: the seed is printed and
 * TSRUNC_SECCOMP_SEED=<n> replays a run (TSRUNC_SECCOMP_PROFILES=<n> changes the number of random
 * profiles). Needs libseccomp.so.2 (apt-get install libseccomp2); no root.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import type { LinuxSeccomp, SeccompSyscall } from '../../src/spec/types';
import { checkSeccomp, compileSeccomp, actionToString } from '../../src/linux/seccomp';
import { SECCOMP_ARCHS, syscallNumber } from '../../src/linux/seccomp/architectures';
import { SYSCALL_NAMES } from '../../src/linux/seccomp/syscalls-pseudo';
import { decode, run, validate, type BpfInsn } from '../helpers/bpf';
import { loadLibseccomp, loadError, pfcBodies, pfcDecision, referenceHangs, runcReference } from '../helpers/libseccomp';
import { buildModel } from '../../src/linux/seccomp/model';
import type { ChainNode } from '../../src/linux/seccomp/libseccomp-db';

const lib = loadLibseccomp();
const skip = lib ? false : `libseccomp.so.2 not found (${loadError}); install it with apt-get install libseccomp2`;

const SEED = process.env.TSRUNC_SECCOMP_SEED !== undefined ? Number(process.env.TSRUNC_SECCOMP_SEED) >>> 0 : 0x5ecc0;
const RANDOM_PROFILES = Number(process.env.TSRUNC_SECCOMP_PROFILES ?? 300);

/** mulberry32: small, fast, good enough for test inputs */
function prng(seed: number) {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const u32 = () => (next() * 4294967296) >>> 0;
  return {
    next,
    int,
    u32,
    u64: () => (BigInt(u32()) << 32n) | BigInt(u32()),
    pick: <T>(xs: readonly T[]): T => xs[int(xs.length)],
    chance: (p: number) => next() < p,
  };
}
type Rng = ReturnType<typeof prng>;

const repoRoot = path.resolve(__dirname, '..', '..', '..');
function sharedProfile(file: string): LinuxSeccomp | undefined {
  const p = path.join(repoRoot, '..', 'shared', 'clients', file);
  if (!fs.existsSync(p)) return undefined;
  return JSON.parse(fs.readFileSync(p, 'utf8')).linux?.seccomp;
}

/** A captured Docker-like profile with NE and several errno values (kept inline so the test does not depend on shared/). */
const EXTRA_PROFILE: LinuxSeccomp = {
  defaultAction: 'SCMP_ACT_ERRNO',
  defaultErrnoRet: 38,
  architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
  syscalls: [
    { names: ['read', 'write', 'openat', 'close', 'exit_group', 'rt_sigprocmask', 'writev', 'execve'], action: 'SCMP_ACT_ALLOW' },
    { names: ['socket'], action: 'SCMP_ACT_ERRNO', errnoRet: 22, args: [{ index: 0, value: 16, op: 'SCMP_CMP_EQ' }, { index: 2, value: 9, op: 'SCMP_CMP_EQ' }] },
    { names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [{ index: 2, value: 9, op: 'SCMP_CMP_NE' }] },
    { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0xffffffff, op: 'SCMP_CMP_EQ' }] },
    { names: ['mkdir', 'unlink'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 },
  ],
};

/**
 * Every known name, actions cycling, argument rules on every seventh name, all little-endian ABIs:
 * a program of a few thousand instructions, so long jumps and trampolines get exercised.
 */
function largeProfile(r: Rng): LinuxSeccomp {
  const actions = ['SCMP_ACT_ALLOW', 'SCMP_ACT_ERRNO', 'SCMP_ACT_ALLOW', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_LOG', 'SCMP_ACT_TRAP'];
  const syscalls: SeccompSyscall[] = SYSCALL_NAMES.map((name, i) => {
    const entry: SeccompSyscall = { names: [name], action: actions[i % actions.length], errnoRet: i % 97 };
    if (i % 7 === 0) entry.args = [{ index: i % 6, value: Number(interestingValue(r) & 0xffffffffn), op: OPERATORS[i % OPERATORS.length] }];
    return entry;
  });
  return { defaultAction: 'SCMP_ACT_ERRNO', architectures: LE_ARCHES.slice(0, 6), syscalls };
}

// ---- random profiles ----

const LE_ARCHES = ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32', 'SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM', 'SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64', 'SCMP_ARCH_MIPSEL64N32', 'SCMP_ARCH_PPC64LE', 'SCMP_ARCH_RISCV64'];
const ACTIONS = ['SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_TRAP', 'SCMP_ACT_ERRNO', 'SCMP_ACT_TRACE', 'SCMP_ACT_ALLOW', 'SCMP_ACT_LOG', 'SCMP_ACT_NOTIFY'];
const OPERATORS = ['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ'];
/** names that exercise special cases: socketcall/ipc multiplexing, x86-only, new, unknown */
const INTERESTING_NAMES = [
  'read', 'write', 'openat', 'personality', 'clone', 'clone3', 'socket', 'accept', 'accept4', 'connect', 'recv', 'send',
  'semop', 'semget', 'shmat', 'msgrcv', 'ipc', 'socketcall', 'arch_prctl', 'mmap', 'mmap2', 'ioctl', 'prctl', 'futex',
  'cachestat', 'futex_requeue', 'map_shadow_stack', 'rt_sigprocmask', 'writev', 'execve', 'execveat', 'exit_group',
  'exit', 'restart_syscall', 'no_such_syscall', 'mseal', '_llseek', 'cacheflush', 'set_tls', 'breakpoint',
];

function interestingValue(r: Rng): bigint {
  switch (r.int(10)) {
    case 0: return BigInt(r.int(4));
    case 1: return BigInt(r.int(64));
    case 2: return 0xffffffffn - BigInt(r.int(3));
    case 3: return 0x100000000n + BigInt(r.int(3)) - 1n;
    case 4: return (BigInt(r.int(4)) << 32n) | BigInt(r.int(8));
    case 5: return 0xffffffffffffffffn - BigInt(r.int(2));
    case 6: return BigInt(r.u32());
    case 7: return r.u64();
    case 8: return 1n << BigInt(r.int(64));
    default: return BigInt(r.int(1 << 20));
  }
}

function randomProfile(r: Rng): LinuxSeccomp {
  const namePool = Array.from({ length: 2 + r.int(6) }, () => (r.chance(0.7) ? r.pick(INTERESTING_NAMES) : r.pick(SYSCALL_NAMES)));
  const defaultAction = r.pick(ACTIONS.filter((a) => a !== 'SCMP_ACT_NOTIFY'));
  const profile: LinuxSeccomp = { defaultAction, listenerPath: '/run/agent.sock', syscalls: [] };
  if (r.chance(0.3)) profile.defaultErrnoRet = r.pick([1, 13, 38, r.int(4096)]);
  if (r.chance(0.85)) {
    const arches = LE_ARCHES.filter(() => r.chance(0.35));
    if (r.chance(0.5) && !arches.includes('SCMP_ARCH_X86_64')) arches.unshift('SCMP_ARCH_X86_64');
    profile.architectures = arches;
  }
  const entries = 1 + r.int(14);
  for (let i = 0; i < entries; i++) {
    const names = Array.from({ length: 1 + r.int(3) }, () => r.pick(namePool));
    const entry: SeccompSyscall = { names, action: r.pick(ACTIONS) };
    if (r.chance(0.3)) entry.errnoRet = r.pick([1, 22, 38, r.int(200)]);
    if (r.chance(0.6)) {
      entry.args = Array.from({ length: 1 + r.int(3) }, () => {
        const op = r.pick(OPERATORS);
        const arg = { index: r.chance(0.8) ? r.int(3) : r.int(6), op, value: 0 as number | bigint, valueTwo: undefined as number | bigint | undefined };
        arg.value = interestingValue(r);
        if (op === 'SCMP_CMP_MASKED_EQ' || r.chance(0.1)) arg.valueTwo = r.chance(0.5) ? arg.value & interestingValue(r) : interestingValue(r);
        return arg as unknown as NonNullable<SeccompSyscall['args']>[number];
      });
    }
    profile.syscalls!.push(entry);
  }
  return profile;
}

// ---- inputs ----

function actionValueOf(profile: LinuxSeccomp): number {
  const e = (profile.defaultErrnoRet ?? 1) & 0xffff;
  const values: Record<string, number> = {
    SCMP_ACT_KILL: 0, SCMP_ACT_KILL_THREAD: 0, SCMP_ACT_KILL_PROCESS: 0x80000000, SCMP_ACT_TRAP: 0x30000,
    SCMP_ACT_ERRNO: 0x50000 | e, SCMP_ACT_TRACE: (0x7ff00000 | e) >>> 0, SCMP_ACT_ALLOW: 0x7fff0000, SCMP_ACT_LOG: 0x7ffc0000,
  };
  return values[profile.defaultAction] >>> 0;
}

const AUDIT = Object.fromEntries(SECCOMP_ARCHS.map((a) => [a.name, a.auditArch]));
const TEST_ARCHES = ['x86_64', 'x32', 'x86', 'aarch64', 'arm', 'mipsel', 'mipsel64', 'mipsel64n32', 'ppc64le', 'riscv64'];
const BOUNDARY_NRS = [0, 1, 0x3fffffff, 0x40000000, 0x40000001, 0x7fffffff, 0x80000000, 0xbfffffff, 0xc0000000, 0xfffffffe, 0xffffffff];

interface Input {
  arch: number;
  nr: number;
  args: bigint[];
}

function valuesOf(profile: LinuxSeccomp): bigint[] {
  const out = [0n, 1n, 0xffffffffn, 0x100000000n, 0xffffffffffffffffn];
  for (const s of profile.syscalls ?? []) {
    for (const a of s.args ?? []) {
      for (const v of [a.value, a.valueTwo ?? 0]) {
        const b = BigInt.asUintN(64, BigInt(v));
        const lo = b & 0xffffffffn;
        const hi = b >> 32n;
        out.push(b, b + 1n, b - 1n, lo, hi << 32n, lo + 1n, lo - 1n, ((hi + 1n) << 32n) | lo, ((hi - 1n) << 32n) | lo, b ^ 0xffffffffn);
      }
    }
  }
  return out.map((v) => BigInt.asUintN(64, v));
}

function inputsFor(profile: LinuxSeccomp, r: Rng, count: number): Input[] {
  const names = [...new Set((profile.syscalls ?? []).flatMap((s) => s.names))];
  const values = valuesOf(profile);
  const inputs: Input[] = [];
  const nrCandidates = (archName: string): number[] => {
    const a = SECCOMP_ARCHS.find((x) => x.name === archName)!;
    const out = [...BOUNDARY_NRS];
    for (const name of [...names, 'socketcall', 'ipc', 'read', 'clone3']) {
      const n = syscallNumber(a, name);
      if (n !== undefined) out.push(n, n + 1, n - 1);
    }
    out.push(a.nrBase + r.int(600), a.nrBase + 400 + r.int(200), r.u32());
    return out.map((n) => n >>> 0);
  };
  const candidates = new Map(TEST_ARCHES.map((a) => [a, nrCandidates(a)]));
  for (let i = 0; i < count; i++) {
    const archName = r.chance(0.4) ? 'x86_64' : r.pick(TEST_ARCHES);
    const arch = r.chance(0.02) ? r.u32() : AUDIT[archName];
    const nr = r.chance(0.9) ? r.pick(candidates.get(archName)!) : r.u32();
    const args = Array.from({ length: 6 }, () => (r.chance(0.8) ? r.pick(values) : r.u64()));
    inputs.push({ arch, nr, args });
  }
  return inputs;
}

// ---- our rule database printed like libseccomp's PFC (gen_pfc.c), to compare the trees themselves ----

function pfcActionText(a: number): string {
  const t = (a & 0xffff0000) >>> 0;
  const d = a & 0xffff;
  if (t === 0x80000000) return 'KILL_PROCESS';
  if (t === 0) return 'KILL';
  if (t === 0x30000) return 'TRAP';
  if (t === 0x50000) return `ERRNO(${d})`;
  if (t === 0x7ff00000) return `TRACE(${d})`;
  if (t === 0x7ffc0000) return 'LOG';
  if (t === 0x7fff0000) return 'ALLOW';
  return `0x${(a >>> 0).toString(16)}`;
}

function pfcChain(bits: number, node: ChainNode, lvl: number, out: string[]): void {
  const pad = (n: number) => '  '.repeat(n);
  let c: ChainNode | null = node;
  while (c.lvlPrv) c = c.lvlPrv;
  for (; c; c = c.lvlNxt) {
    const arg = bits === 64 ? `$a${c.arg}.${c.argHigh ? 'hi32' : 'lo32'}` : `$a${c.arg}`;
    const op = c.op === 4 ? ' == ' : c.op === 5 ? ' >= ' : c.op === 6 ? ' > ' : c.op === 7 ? ` & 0x${c.mask.toString(16).padStart(8, '0')} == ` : ' ??? ';
    out.push(`${pad(lvl)}if (${arg}${op}${c.datum})`);
    if (c.actTFlag) out.push(`${pad(lvl + 1)}action ${pfcActionText(c.actT)};`);
    else if (c.nxtT) pfcChain(bits, c.nxtT, lvl + 1, out);
    if (c.actFFlag) out.push(`${pad(lvl)}else`, `${pad(lvl + 1)}action ${pfcActionText(c.actF)};`);
    else if (c.nxtF) {
      out.push(`${pad(lvl)}else`);
      pfcChain(bits, c.nxtF, lvl + 1, out);
    }
  }
}

/** Every syscall entry of every architecture must have exactly libseccomp's tree (as its PFC prints it). */
function assertSameDatabase(profile: LinuxSeccomp, pfcText: string, describe: () => string): number {
  const { model } = buildModel(profile, 'x86_64');
  const theirs = pfcBodies(pfcText);
  const ours = new Map<string, string>();
  for (const group of model!.groups) {
    for (const db of group.dbs) {
      for (const e of db.syscalls) {
        if (!e.valid) continue;
        const lines: string[] = [];
        if (e.chains) pfcChain(db.arch.bits, e.chains, 2, lines);
        else lines.push(`    action ${pfcActionText(e.action)};`);
        ours.set(`${db.arch.name} ${e.num}`, lines.join('\n'));
      }
    }
  }
  assert.deepEqual([...ours.keys()].sort(), [...theirs.keys()].sort(), `same syscall entries as libseccomp\n${describe()}`);
  for (const [key, text] of ours) assert.equal(text, theirs.get(key), `rule tree of ${key} differs from libseccomp's\n${describe()}`);
  return ours.size;
}

interface Totals {
  /** syscall entries whose rule tree was compared node by node with libseccomp's */
  trees: number;
  /** inputs where libseccomp's BPF disagrees with libseccomp's own rule database (its PFC) and we follow the database */
  libseccompCodegenDeviations: number;
  firstDeviation?: string;
  /** profiles on which libseccomp (and so runc) would hang; tsrunc refuses them */
  libseccompLoops: number;
  profiles: number;
  rejected: number;
  cases: number;
  oursSteps: number;
  refSteps: number;
}

function compare(name: string, profile: LinuxSeccomp, r: Rng, cases: number, totals: Totals): void {
  // TSRUNC_SECCOMP_TRACE=1 prints each profile before it is compared (to find one that hangs or crashes)
  if (process.env.TSRUNC_SECCOMP_TRACE) console.error(`${name}: ${JSON.stringify(profile, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))}`);
  const issues = checkSeccomp(profile, '/linux/seccomp', 'x86_64');
  const describe = () => `${name}: ${JSON.stringify(profile, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))}`;
  if (issues.some((i) => i.rule === 'seccomp-libseccomp-loop')) {
    // libseccomp itself would never return: confirm it in a child process instead of hanging here
    assert.ok(referenceHangs(profile), `tsrunc says libseccomp loops forever, but it returned\n${describe()}`);
    totals.rejected++;
    totals.libseccompLoops++;
    return;
  }
  const reference = runcReference(lib!, profile);
  if ('error' in reference) {
    assert.notEqual(issues.length, 0, `runc/libseccomp reject the profile (${reference.error}) but checkSeccomp accepts it\n${describe()}`);
    totals.rejected++;
    return;
  }
  assert.deepEqual(issues, [], `checkSeccomp rejects a profile runc/libseccomp accept\n${describe()}`);
  totals.trees += assertSameDatabase(profile, reference.pfcText, describe);
  const ours: BpfInsn[] = decode(compileSeccomp(profile, { nativeArch: 'x86_64' }).program);
  validate(ours);
  validate(reference.program);
  totals.profiles++;
  for (const input of inputsFor(profile, r, cases)) {
    const a = run(ours, input);
    const b = run(reference.program, input);
    totals.cases++;
    totals.oursSteps += a.steps;
    totals.refSteps += b.steps;
    if (a.action === b.action) continue;
    // libseccomp 2.5.4's BPF generator sometimes compares a stale accumulator (a word loaded for an
    // earlier node): its BPF then disagrees with its own rule database. We follow the database.
    const intended = pfcDecision(reference.pfc, input.arch, input.nr, input.args, actionValueOf(profile));
    if (intended !== undefined && a.action === intended && b.action !== intended) {
      totals.libseccompCodegenDeviations++;
      totals.firstDeviation ??= `arch=0x${input.arch.toString(16)} nr=${input.nr} args=[${input.args.map((x) => '0x' + x.toString(16)).join(', ')}]: ` +
        `libseccomp's rule database and tsrunc say ${actionToString(a.action)}, libseccomp's BPF says ${actionToString(b.action)}\n${describe()}`;
      continue;
    }
    {
      assert.fail(
        `different action for arch=0x${input.arch.toString(16)} nr=${input.nr} args=[${input.args.map((x) => '0x' + x.toString(16)).join(', ')}]: ` +
          `ours ${actionToString(a.action)}, runc+libseccomp ${actionToString(b.action)} (seed ${SEED})\n${describe()}`,
      );
    }
  }
}

test(`seccomp differential vs runc + libseccomp (seed ${SEED}; TSRUNC_SECCOMP_SEED overrides)`, { skip }, () => {
  const r = prng(SEED);
  const totals: Totals = { trees: 0, libseccompLoops: 0, libseccompCodegenDeviations: 0, profiles: 0, rejected: 0, cases: 0, oursSteps: 0, refSteps: 0 };
  const fixed: Array<[string, LinuxSeccomp | undefined]> = [
    ['docker', sharedProfile('sample-docker-config.json')],
    ['podman', sharedProfile('sample-podman-config.json')],
    ['extra', EXTRA_PROFILE],
  ];
  for (const [name, profile] of fixed) if (profile) compare(name, profile, r, 4000, totals);
  compare('large', largeProfile(r), r, 4000, totals);
  for (let i = 0; i < RANDOM_PROFILES; i++) compare(`random #${i}`, randomProfile(r), r, 300, totals);
  console.log(
    `seccomp differential: seed ${SEED}, libseccomp ${lib!.version}, ${totals.profiles} profiles compared (${totals.rejected} rejected by both, of which ${totals.libseccompLoops} make libseccomp loop forever), ` +
      `${totals.trees} rule trees identical to libseccomp's, ${totals.cases} cases, mean instructions executed: ours ${(totals.oursSteps / totals.cases).toFixed(1)}, runc+libseccomp ${(totals.refSteps / totals.cases).toFixed(1)}`,
  );
  if (totals.libseccompCodegenDeviations > 0) {
    console.log(
      `${totals.libseccompCodegenDeviations} inputs where libseccomp's BPF contradicts its own rule database ` +
        `(stale accumulator in libseccomp 2.5.4's code generator; tsrunc follows the database). First one:\n${totals.firstDeviation}`,
    );
  }
  assert.ok(totals.cases >= 10000, 'expected thousands of cases');
});
