// The device cgroup, pure: linux.resources.devices plus runc's default rules → what to write to a
// cgroup v1 devices hierarchy, or the eBPF program (BPF_PROG_TYPE_CGROUP_DEVICE) for cgroup v2.
//
// Semantics are cgroup v1's, which the spec refers to: rules apply in the listed order; a rule of
// type "a" (or without type) resets the whole list to allow-all or deny-all; otherwise an allow
// rule adds an exception to a deny-all list (or removes one from an allow-all list) and a deny
// rule the reverse. The container starts from deny-all, and runc's default rules (/dev/null,
// /dev/zero, ..., /dev/pts/*, mknod of anything) come after the config's, as runc appends them.
// The emulator (after runc's) gives the final list for the v2 program, and refuses, as runc does,
// to "punch a hole" in a wildcard rule, which cgroup v1 would silently ignore.

import type { LinuxDeviceCgroup } from '../../spec/types';
import { ResourceError } from './resources';

export interface DeviceRule {
  allow: boolean;
  /** 'a' | 'b' | 'c' */
  type: string;
  /** -1: any */
  major: number;
  minor: number;
  /** subset of "rwm" */
  access: string;
}

/** runc's AllowedDevices (libcontainer/specconv), appended after the config's rules. */
export const DEFAULT_DEVICE_RULES: DeviceRule[] = [
  { allow: true, type: 'c', major: -1, minor: -1, access: 'm' },
  { allow: true, type: 'b', major: -1, minor: -1, access: 'm' },
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }, // /dev/null
  { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' }, // /dev/random
  { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm' }, // /dev/full
  { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' }, // /dev/tty
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' }, // /dev/zero
  { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' }, // /dev/urandom
  { allow: true, type: 'c', major: 136, minor: -1, access: 'rwm' }, // /dev/pts/*
  { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' }, // /dev/ptmx
  { allow: true, type: 'c', major: 10, minor: 200, access: 'rwm' }, // /dev/net/tun
];

function normAccess(access: string | undefined, field: string): string {
  const a = access === undefined || access === '' ? 'rwm' : access;
  if (!/^[rwm]+$/.test(a)) throw new ResourceError(`${field}.access: "${access}" is not a combination of r, w and m`);
  return ['r', 'w', 'm'].filter((c) => a.includes(c)).join('');
}

/** The config's rules in spec form → normalised rules (type "a" when missing, -1 for "any"). */
export function specDeviceRules(devices: LinuxDeviceCgroup[] | undefined): DeviceRule[] {
  return (devices ?? []).map((d, i) => {
    const field = `linux.resources.devices[${i}]`;
    const type = d.type === undefined || d.type === '' ? 'a' : d.type;
    if (!['a', 'b', 'c'].includes(type)) throw new ResourceError(`${field}.type: "${d.type}" is not a, b or c`);
    return { allow: d.allow, type, major: d.major ?? -1, minor: d.minor ?? -1, access: normAccess(d.access, field) };
  });
}

/** Every rule the container gets, in order: deny-all, the config's, runc's defaults. */
export function containerDeviceRules(devices: LinuxDeviceCgroup[] | undefined): DeviceRule[] {
  return [{ allow: false, type: 'a', major: -1, minor: -1, access: 'rwm' }, ...specDeviceRules(devices), ...DEFAULT_DEVICE_RULES];
}

export function ruleString(r: DeviceRule): string {
  if (r.type === 'a') return 'a';
  const n = (x: number) => (x < 0 ? '*' : String(x));
  return `${r.type} ${n(r.major)}:${n(r.minor)} ${r.access}`;
}

/** cgroup v1: the writes, in the listed order (the kernel applies them as the spec says). */
export function v1DeviceWrites(rules: DeviceRule[]): Array<{ file: 'devices.allow' | 'devices.deny'; value: string }> {
  return rules.map((r) => ({ file: r.allow ? 'devices.allow' : 'devices.deny', value: ruleString(r) }));
}

// --- the emulator ------------------------------------------------------------------------

export interface DeviceState {
  defaultAllow: boolean;
  /** exceptions to the default: key "type major minor" → access */
  exceptions: Map<string, string>;
}

const key = (t: string, ma: number, mi: number) => `${t} ${ma} ${mi}`;

/** Apply rules in order, as the v1 kernel would (refusing what it would silently ignore). */
export function emulate(rules: DeviceRule[], start: DeviceState = { defaultAllow: true, exceptions: new Map() }): DeviceState {
  const st: DeviceState = { defaultAllow: start.defaultAllow, exceptions: new Map(start.exceptions) };
  for (const r of rules) {
    if (r.type === 'a') {
      st.defaultAllow = r.allow;
      st.exceptions.clear();
      continue;
    }
    const k = key(r.type, r.major, r.minor);
    const adding = st.defaultAllow ? !r.allow : r.allow;
    if (adding) {
      st.exceptions.set(k, union(st.exceptions.get(k) ?? '', r.access));
      continue;
    }
    for (const [ma, mi] of [
      [-1, r.minor],
      [r.major, -1],
      [-1, -1],
    ]) {
      if (ma === r.major && mi === r.minor) continue;
      const wide = st.exceptions.get(key(r.type, ma, mi));
      if (wide && intersect(wide, r.access)) {
        throw new ResourceError(`linux.resources.devices: rule ${ruleString(r)} (${r.allow ? 'allow' : 'deny'}) cannot punch a hole in the wider rule ${ruleString({ ...r, major: ma, minor: mi, access: wide })}: cgroup v1 would ignore it`);
      }
    }
    const left = minus(st.exceptions.get(k) ?? '', r.access);
    if (left) st.exceptions.set(k, left);
    else st.exceptions.delete(k);
  }
  return st;
}

const union = (a: string, b: string) => ['r', 'w', 'm'].filter((c) => a.includes(c) || b.includes(c)).join('');
const intersect = (a: string, b: string) => ['r', 'w', 'm'].some((c) => a.includes(c) && b.includes(c));
const minus = (a: string, b: string) => ['r', 'w', 'm'].filter((c) => a.includes(c) && !b.includes(c)).join('');

/** The exceptions as rules (allow rules on a deny-all list, deny rules on an allow-all one). */
export function stateRules(st: DeviceState): DeviceRule[] {
  return [...st.exceptions].map(([k, access]) => {
    const [type, ma, mi] = k.split(' ');
    return { allow: !st.defaultAllow, type, major: Number(ma), minor: Number(mi), access };
  });
}

/** Would the device cgroup let this through? (for tests and the program's own check) */
export function permits(st: DeviceState, type: 'b' | 'c', major: number, minor: number, access: 'r' | 'w' | 'm'): boolean {
  for (const [k, acc] of st.exceptions) {
    const [t, ma, mi] = k.split(' ');
    if (t !== type) continue;
    if (Number(ma) !== -1 && Number(ma) !== major) continue;
    if (Number(mi) !== -1 && Number(mi) !== minor) continue;
    if (acc.includes(access)) return !st.defaultAllow;
  }
  return st.defaultAllow;
}

// --- the cgroup v2 program -----------------------------------------------------------------

/*
 * struct bpf_cgroup_dev_ctx { __u32 access_type; (access << 16) | type; __u32 major; __u32 minor; }
 * type: BPF_DEVCG_DEV_BLOCK 1, BPF_DEVCG_DEV_CHAR 2; access: MKNOD 1, READ 2, WRITE 4.
 * The program returns 1 to allow, 0 to deny (EPERM).
 */
const DEV_TYPE: Record<string, number> = { b: 1, c: 2 };
const ACC: Record<string, number> = { m: 1, r: 2, w: 4 };

export interface BpfInsn {
  op: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

export const OP = {
  LDXW: 0x61, // r_dst = *(u32 *)(r_src + off)
  AND32_K: 0x54,
  RSH32_K: 0x74,
  MOV32_K: 0xb4,
  MOV32_X: 0xbc,
  JNE_K: 0x55,
  JNE_X: 0x5d,
  EXIT: 0x95,
} as const;

/** The device program for a final state (runc's devicefilter layout): one block per exception, then the default. */
export function deviceProgram(st: DeviceState): BpfInsn[] {
  const p: BpfInsn[] = [
    { op: OP.LDXW, dst: 2, src: 1, off: 0, imm: 0 },
    { op: OP.AND32_K, dst: 2, src: 0, off: 0, imm: 0xffff }, // r2 = type
    { op: OP.LDXW, dst: 3, src: 1, off: 0, imm: 0 },
    { op: OP.RSH32_K, dst: 3, src: 0, off: 0, imm: 16 }, // r3 = access
    { op: OP.LDXW, dst: 4, src: 1, off: 4, imm: 0 }, // r4 = major
    { op: OP.LDXW, dst: 5, src: 1, off: 8, imm: 0 }, // r5 = minor
  ];
  for (const r of stateRules(st)) {
    const block: Array<BpfInsn & { skip?: true }> = [];
    block.push({ op: OP.JNE_K, dst: 2, src: 0, off: 0, imm: DEV_TYPE[r.type], skip: true });
    if (r.access !== 'rwm') {
      let bits = 0;
      for (const c of r.access) bits |= ACC[c];
      // (access & allowed) != access → the request asks for more than the rule covers
      block.push({ op: OP.MOV32_X, dst: 1, src: 3, off: 0, imm: 0 });
      block.push({ op: OP.AND32_K, dst: 1, src: 0, off: 0, imm: bits });
      block.push({ op: OP.JNE_X, dst: 1, src: 3, off: 0, imm: 0, skip: true });
    }
    if (r.major >= 0) block.push({ op: OP.JNE_K, dst: 4, src: 0, off: 0, imm: r.major, skip: true });
    if (r.minor >= 0) block.push({ op: OP.JNE_K, dst: 5, src: 0, off: 0, imm: r.minor, skip: true });
    block.push({ op: OP.MOV32_K, dst: 0, src: 0, off: 0, imm: r.allow ? 1 : 0 });
    block.push({ op: OP.EXIT, dst: 0, src: 0, off: 0, imm: 0 });
    for (const [i, ins] of block.entries()) {
      if (ins.skip) ins.off = block.length - i - 1; // to the first instruction after the block
      delete ins.skip;
      p.push(ins);
    }
  }
  p.push({ op: OP.MOV32_K, dst: 0, src: 0, off: 0, imm: st.defaultAllow ? 1 : 0 });
  p.push({ op: OP.EXIT, dst: 0, src: 0, off: 0, imm: 0 });
  return p;
}

export function encodeProgram(p: BpfInsn[]): Buffer {
  const b = Buffer.alloc(p.length * 8);
  for (const [i, ins] of p.entries()) {
    b.writeUInt8(ins.op, i * 8);
    b.writeUInt8(((ins.src & 0xf) << 4) | (ins.dst & 0xf), i * 8 + 1);
    b.writeInt16LE(ins.off, i * 8 + 2);
    b.writeInt32LE(ins.imm | 0, i * 8 + 4);
  }
  return b;
}

/** Run the device program on one request (a tiny interpreter for the opcodes above; unit tests). */
export function runDeviceProgram(p: BpfInsn[], type: 'b' | 'c', major: number, minor: number, access: 'r' | 'w' | 'm'): number {
  const ctx = [((ACC[access] << 16) | DEV_TYPE[type]) >>> 0, major >>> 0, minor >>> 0];
  const r = new Array<number>(11).fill(0);
  let pc = 0;
  for (let steps = 0; steps < 4096; steps++) {
    const i = p[pc++];
    switch (i.op) {
      case OP.LDXW:
        if (i.src !== 1 || r[1] !== 0 || i.off % 4) throw new Error('ctx load from a clobbered r1');
        r[i.dst] = ctx[i.off / 4];
        break;
      case OP.AND32_K:
        r[i.dst] = (r[i.dst] & i.imm) >>> 0;
        break;
      case OP.RSH32_K:
        r[i.dst] = r[i.dst] >>> i.imm;
        break;
      case OP.MOV32_K:
        r[i.dst] = i.imm >>> 0;
        break;
      case OP.MOV32_X:
        r[i.dst] = r[i.src];
        break;
      case OP.JNE_K:
        if (r[i.dst] !== i.imm >>> 0) pc += i.off;
        break;
      case OP.JNE_X:
        if (r[i.dst] !== r[i.src]) pc += i.off;
        break;
      case OP.EXIT:
        return r[0];
      default:
        throw new Error(`opcode 0x${i.op.toString(16)}`);
    }
  }
  throw new Error('program did not exit');
}

/** cgroup v1 devices.list → the state it shows (an allow-all list hides its deny exceptions). */
export function parseDevicesList(text: string): DeviceState {
  const st: DeviceState = { defaultAllow: false, exceptions: new Map() };
  for (const line of text.split('\n')) {
    const m = /^([abc]) (\*|\d+):(\*|\d+) ([rwm]+)$/.exec(line.trim());
    if (!m) continue;
    if (m[1] === 'a') return { defaultAllow: true, exceptions: new Map() };
    const n = (x: string) => (x === '*' ? -1 : Number(x));
    st.exceptions.set(`${m[1]} ${n(m[2])} ${n(m[3])}`, m[4]);
  }
  return st;
}

/**
 * cgroup v1 writes that take a live devices cgroup from `cur` to `target` (update): with the same
 * default, the new exceptions first, then the removed ones, so that nothing still allowed is
 * denied for a moment; a different default needs the reset first (as runc does).
 */
export function v1DeviceTransition(cur: DeviceState, target: DeviceState): Array<{ file: 'devices.allow' | 'devices.deny'; value: string }> {
  const out: Array<{ file: 'devices.allow' | 'devices.deny'; value: string }> = [];
  const rule = (k: string, access: string, allow: boolean): DeviceRule => {
    const [type, ma, mi] = k.split(' ');
    return { allow, type, major: Number(ma), minor: Number(mi), access };
  };
  const grant = target.defaultAllow ? 'devices.deny' : 'devices.allow'; // adds an exception
  const revoke = target.defaultAllow ? 'devices.allow' : 'devices.deny'; // removes one
  let from = cur;
  if (cur.defaultAllow !== target.defaultAllow || target.defaultAllow) {
    // an allow-all list does not show its exceptions: start over from the default
    out.push({ file: target.defaultAllow ? 'devices.allow' : 'devices.deny', value: 'a' });
    from = { defaultAllow: target.defaultAllow, exceptions: new Map() };
  }
  for (const [k, acc] of target.exceptions) {
    const add = minus(acc, from.exceptions.get(k) ?? '');
    if (add) out.push({ file: grant, value: ruleString(rule(k, add, true)) });
  }
  for (const [k, acc] of from.exceptions) {
    const drop = minus(acc, target.exceptions.get(k) ?? '');
    if (drop) out.push({ file: revoke, value: ruleString(rule(k, drop, false)) });
  }
  return out;
}
