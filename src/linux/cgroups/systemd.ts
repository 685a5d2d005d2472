// --systemd-cgroup's cgroupsPath, `slice:prefix:name`, as runc's systemd driver reads it: the unit
// is `<prefix>-<name>.scope` (or the slice `<name>` when it ends in .slice) in `slice` (default
// system.slice), and its cgroup is the slice's path, expanded as systemd nests slices
// (`a-b.slice` → `/a.slice/a-b.slice`), plus the unit.
//
// The driver (cgroup v2 hosts): at the "mapping" checkpoint, a transient scope through systemd's
// D-Bus API (StartTransientUnit with the init's pid, Delegate and the resource properties systemd
// knows), then tsrunc writes every resource itself into the delegated cgroup, as runc does.

import fs = require('node:fs');
import path = require('../path');
import type { LinuxResources } from '../../spec/types';
import type { Value } from '../dbus';
import { isAlive } from '../proc';

export interface SystemdUnit {
  slice: string;
  unit: string;
  /** the unit's cgroup, relative to the hierarchy's root */
  path: string;
}

/** runc's ExpandSlice. */
export function expandSlice(slice: string): string {
  const suffix = '.slice';
  if (slice.length <= suffix.length || !slice.endsWith(suffix) || slice.includes('/')) throw new Error(`invalid slice name: ${slice}`);
  const name = slice.slice(0, -suffix.length);
  if (name === '-') return '/';
  let out = '';
  let prefix = '';
  for (const component of name.split('-')) {
    if (component === '') throw new Error(`invalid slice name: ${slice}`);
    out += `/${prefix}${component}${suffix}`;
    prefix += `${component}-`;
  }
  return out;
}

export function systemdUnit(cgroupsPath: string, id: string): SystemdUnit {
  // runc's default with systemd: system.slice:runc:<id>; ours is named after tsrunc
  const parts = cgroupsPath === '' ? ['', 'tsrunc', id] : cgroupsPath.split(':');
  if (parts.length !== 3) throw new Error(`expected cgroupsPath to be of format "slice:prefix:name" for systemd cgroups, got "${cgroupsPath}" instead`);
  const slice = parts[0] || 'system.slice';
  const name = parts[2] || id;
  const unit = name.endsWith('.slice') ? name : parts[1] ? `${parts[1]}-${name}.scope` : `${name}.scope`;
  const base = expandSlice(slice);
  return { slice, unit, path: unit.endsWith('.slice') ? expandSlice(unit) : `${base === '/' ? '' : base}/${unit}` };
}

// --- the driver: a transient scope through systemd's D-Bus API --------------------------------


const INFINITY = 18446744073709551615n;

/** runc's IsRunningSystemd: systemd is the host's init. */
export function systemdRunning(): boolean {
  try {
    return fs.lstatSync('/run/systemd/system').isDirectory();
  } catch {
    return false;
  }
}

/** "0-3,5" → systemd's AllowedCPUs bitmask (byte 0 holds CPUs 0-7), as runc's RangeToBits. */
export function rangeToBits(list: string): number[] {
  const bytes: number[] = [];
  for (const part of list.split(',')) {
    if (!part.trim()) continue;
    const m = /^\s*(\d+)(?:-(\d+))?\s*$/.exec(part);
    if (!m) throw new Error(`invalid cpu/mem list "${list}"`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) throw new Error(`invalid cpu/mem list "${list}"`);
    for (let i = a; i <= b; i++) {
      while (bytes.length <= i >> 3) bytes.push(0);
      bytes[i >> 3] |= 1 << (i & 7);
    }
  }
  return bytes;
}

/** runc's CPUQuotaPerSecUSec: quota per second, rounded up to whole 10 ms (systemd's granularity). */
export function quotaPerSecUSec(quota: number, period: number): bigint {
  let v = (BigInt(quota) * 1000000n) / BigInt(period);
  if (v % 10000n !== 0n) v = (v / 10000n + 1n) * 10000n;
  return v;
}

/**
 * The transient scope's properties (cgroup v2 names), as runc's systemd driver sends them: the
 * unit's basics, Delegate (tsrunc then writes the rest of the resources itself, and attaches the
 * device program), and the limits systemd itself knows, so that it keeps them on a reload.
 */
export function scopeProperties(unit: SystemdUnit, id: string, pid: number, res: LinuxResources | undefined): Array<[string, [string, Value]]> {
  const { sharesToWeight, swapToV2 } = require('./resources') as typeof import('./resources');
  const p: Array<[string, [string, Value]]> = [
    ['Description', ['s', `tsrunc container ${id}`]],
    ['PIDs', ['au', [pid]]],
    ['Delegate', ['b', true]],
    ['DefaultDependencies', ['b', false]],
    ['MemoryAccounting', ['b', true]],
    ['CPUAccounting', ['b', true]],
    ['IOAccounting', ['b', true]],
    ['TasksAccounting', ['b', true]],
  ];
  if (unit.unit.endsWith('.scope')) p.splice(1, 0, ['Slice', ['s', unit.slice]]);
  const mem = (res?.memory ?? {}) as { limit?: number; reservation?: number; swap?: number };
  const cpu = (res?.cpu ?? {}) as { shares?: number; quota?: number; period?: number; cpus?: string; mems?: string };
  const t = (v: number) => (v < 0 ? INFINITY : BigInt(v));
  if (mem.limit) p.push(['MemoryMax', ['t', t(mem.limit)]]);
  if (mem.reservation) p.push(['MemoryLow', ['t', t(mem.reservation)]]);
  const swap = swapToV2(mem.swap, mem.limit);
  if (swap !== undefined) p.push(['MemorySwapMax', ['t', swap === 'max' ? INFINITY : BigInt(swap)]]);
  if (cpu.shares) p.push(['CPUWeight', ['t', BigInt(sharesToWeight(cpu.shares))]]);
  if (cpu.period) p.push(['CPUQuotaPeriodUSec', ['t', BigInt(cpu.period)]]);
  if (cpu.quota && cpu.quota > 0) p.push(['CPUQuotaPerSecUSec', ['t', quotaPerSecUSec(cpu.quota, cpu.period || 100000)]]);
  if (cpu.cpus) p.push(['AllowedCPUs', ['ay', rangeToBits(cpu.cpus)]]);
  if (cpu.mems) p.push(['AllowedMemoryNodes', ['ay', rangeToBits(cpu.mems)]]);
  const pids = res?.pids?.limit;
  if (pids) p.push(['TasksMax', ['t', t(pids)]]);
  return p;
}

const MANAGER = { destination: 'org.freedesktop.systemd1', path: '/org/freedesktop/systemd1', iface: 'org.freedesktop.systemd1.Manager' };

function connect() {
  const { Connection } = require('../dbus') as typeof import('../dbus');
  // root talks to systemd directly (as go-systemd's NewSystemdConnection); others go through the bus
  if (process.getuid?.() === 0 && fs.existsSync('/run/systemd/private')) return Connection.open('/run/systemd/private', false);
  return Connection.open(process.env.DBUS_SYSTEM_BUS_ADDRESS?.replace(/^unix:path=/, '') || '/run/dbus/system_bus_socket', true);
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * StartTransientUnit of the container's scope with the init's pid, then wait until systemd has
 * made the cgroup and moved the init into it.
 */
export function startScope(unit: SystemdUnit, id: string, pid: number, res: LinuxResources | undefined, dir: string, timeoutMs = 30000): void {
  const c = connect();
  try {
    c.call({ ...MANAGER, member: 'StartTransientUnit', signature: 'ssa(sv)a(sa(sv))', body: [unit.unit, 'replace', scopeProperties(unit, id, pid, res), []] });
    const end = Date.now() + timeoutMs;
    for (;;) {
      try {
        if (fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').includes(String(pid))) return;
      } catch {
        /* not made yet */
      }
      // systemd cannot move a process that died: say so now rather than after the timeout
      if (!isAlive(pid)) throw new Error(`pid ${pid} exited before systemd moved it into ${dir}`);
      if (Date.now() > end) throw new Error(`systemd did not start ${unit.unit} (no ${dir} holding pid ${pid} after ${timeoutMs / 1000} s)`);
      sleepMs(10);
    }
  } catch (e) {
    throw new Error(`--systemd-cgroup: start the transient unit ${unit.unit}: ${(e as Error).message}`);
  } finally {
    c.close();
  }
}

/** StopUnit, then wait (bounded) until its cgroup is gone; false when it stays. */
export function stopUnit(unitName: string, dir: string, timeoutMs = 10000): boolean {
  try {
    const c = connect();
    try {
      c.call({ ...MANAGER, member: 'StopUnit', signature: 'ss', body: [unitName, 'replace'] });
    } finally {
      c.close();
    }
  } catch {
    /* already gone (NoSuchUnit), or systemd unreachable: the directory check says */
  }
  const end = Date.now() + timeoutMs;
  while (fs.existsSync(dir)) {
    if (Date.now() > end) return false;
    sleepMs(10);
  }
  return true;
}
