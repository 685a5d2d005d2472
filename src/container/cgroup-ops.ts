// The verbs that act on a live container through its cgroups: pause, resume, update, events, ps.
// They read state.json's cgroup directories (no koffi: only the cgroup v2 device program needs it,
// and update never changes devices).

import { applyResources, cgroupPids, cgroupsFromDirs, setFrozen } from '../linux/cgroups';
import { status, type StateStore } from '../state/store';
import { withLock } from '../state/lock';
import type { LinuxResources, Spec } from '../spec/types';
import { ContainerError } from './errors';
import { readRecord } from './oci-state';

export async function pauseContainer(store: StateStore, id: string): Promise<void> {
  await withLock(store.root, id, () => {
    const rec = readRecord(store, id);
    const st = status(store, rec);
    if (st === 'paused') return; // runc: pausing a paused container is not an error
    if (st !== 'running' && st !== 'created') throw new ContainerError('container not running');
    setFrozen(cgroupsFromDirs(rec.cgroups.dirs), true);
  });
}

export async function resumeContainer(store: StateStore, id: string): Promise<void> {
  await withLock(store.root, id, () => {
    const rec = readRecord(store, id);
    const st = status(store, rec);
    if (st !== 'paused') throw new ContainerError('container not paused');
    setFrozen(cgroupsFromDirs(rec.cgroups.dirs), false);
  });
}

// --- update --------------------------------------------------------------------------------

/** docker/go-units RAMInBytes: "64m", "1.5g", "512k", "1024" (binary multiples); "-1" is unlimited. */
export function ramInBytes(s: string, flag: string): number {
  if (s.trim() === '-1') return -1;
  const m = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(s.trim());
  if (!m) throw new ContainerError(`invalid value for --${flag}: ${s}`);
  const mult: Record<string, number> = { k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50 };
  return Math.floor(Number(m[1]) * (m[2] ? mult[m[2].toLowerCase()] : 1));
}

function intValue(s: string, flag: string, signed: boolean): number {
  if (!(signed ? /^-?\d+$/ : /^\d+$/).test(s.trim())) throw new ContainerError(`invalid value "${s}" for flag --${flag}: parse error`);
  return Number(s);
}

/** runc's individual update flags → a resources document (unset flags stay out). */
export function resourcesFromFlags(o: Record<string, unknown>): LinuxResources {
  const s = (k: string) => (typeof o[k] === 'string' && o[k] !== '' ? (o[k] as string) : undefined);
  const r: { memory: Record<string, number>; cpu: Record<string, number | string>; blockIO: Record<string, number>; pids?: { limit: number } } = { memory: {}, cpu: {}, blockIO: {} };
  const mem: Array<[string, string]> = [
    ['memory', 'limit'],
    ['memoryReservation', 'reservation'],
    ['memorySwap', 'swap'],
    ['kernelMemory', 'kernel'],
    ['kernelMemoryTcp', 'kernelTCP'],
  ];
  for (const [k, field] of mem) {
    const v = s(k);
    if (v !== undefined) r.memory[field] = ramInBytes(v, k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase()));
  }
  const ints: Array<[string, string, string, boolean]> = [
    ['cpuPeriod', 'period', 'cpu-period', false],
    ['cpuQuota', 'quota', 'cpu-quota', true],
    ['cpuBurst', 'burst', 'cpu-burst', false],
    ['cpuShare', 'shares', 'cpu-share', false],
    ['cpuRtPeriod', 'realtimePeriod', 'cpu-rt-period', false],
    ['cpuRtRuntime', 'realtimeRuntime', 'cpu-rt-runtime', true],
  ];
  for (const [k, field, flag, signed] of ints) {
    const v = s(k);
    if (v !== undefined) r.cpu[field] = intValue(v, flag, signed);
  }
  if (s('cpusetCpus') !== undefined) r.cpu.cpus = s('cpusetCpus')!;
  if (s('cpusetMems') !== undefined) r.cpu.mems = s('cpusetMems')!;
  if (s('blkioWeight') !== undefined) r.blockIO.weight = intValue(s('blkioWeight')!, 'blkio-weight', false);
  if (s('pidsLimit') !== undefined) r.pids = { limit: intValue(s('pidsLimit')!, 'pids-limit', true) };
  if (s('l3CacheSchema') !== undefined || s('memBwSchema') !== undefined) throw new ContainerError('Intel RDT (--l3-cache-schema, --mem-bw-schema) is not supported by tsrunc');
  return r as LinuxResources;
}

/** Parse and validate a resources document (runtime-spec's schema). */
export function parseResources(text: string): LinuxResources {
  const { parseDocument, formatIssues, isError } = require('../spec/validate') as typeof import('../spec/validate');
  const parsed = parseDocument('resources', text);
  if (!parsed.document) throw new ContainerError(formatIssues(parsed.issues.filter(isError), 'resources'));
  return parsed.document;
}

/** Set a value unless it is a zero value that means "unchanged" (pointer fields: always). */
function merge(into: Record<string, unknown>, from: Record<string, unknown> | undefined, always: string[] = []): void {
  for (const [k, v] of Object.entries(from ?? {})) {
    if (v === undefined || v === null) continue;
    if (!always.includes(k) && (v === 0 || v === '' || v === false || (Array.isArray(v) && v.length === 0))) continue;
    into[k] = v;
  }
}

/** The resources after the update, as the container's config copy records them. */
export function mergeResources(cur: LinuxResources, upd: LinuxResources): LinuxResources {
  const out = JSON.parse(JSON.stringify(cur ?? {})) as Record<string, Record<string, unknown>>;
  const u = upd as Record<string, unknown>;
  for (const k of ['memory', 'cpu', 'blockIO', 'pids', 'network'] as const) {
    if (u[k] === undefined) continue;
    const target = (out[k] ??= {});
    merge(target, u[k] as Record<string, unknown>, k === 'memory' ? ['swappiness', 'checkBeforeUpdate'] : k === 'cpu' ? ['burst', 'idle'] : []);
    if (Object.keys(target).length === 0) delete out[k];
  }
  if (upd.devices?.length) out.devices = upd.devices as never;
  if (upd.hugepageLimits?.length) out.hugepageLimits = upd.hugepageLimits as never;
  if (upd.rdma && Object.keys(upd.rdma).length) out.rdma = { ...(out.rdma ?? {}), ...upd.rdma } as never;
  if (upd.unified && Object.keys(upd.unified).length) out.unified = { ...(out.unified ?? {}), ...upd.unified } as never;
  return out as LinuxResources;
}

export async function updateContainer(store: StateStore, id: string, upd: LinuxResources): Promise<void> {
  await withLock(store.root, id, () => {
    const rec = readRecord(store, id);
    const st = status(store, rec);
    if (st === 'stopped') throw new ContainerError(`container ${id} is stopped: cannot update it`);
    const spec = store.readSpec<Spec>(id);
    const cur = spec.linux?.resources ?? {};
    const merged = mergeResources(cur, upd);
    const cgroups = cgroupsFromDirs(rec.cgroups.dirs);
    try {
      applyResources(cgroups, upd, { update: true, currentMemoryLimit: (cur.memory as { limit?: number } | undefined)?.limit });
    } catch (e) {
      throw new ContainerError(`unable to update container ${id}: ${(e as Error).message}`);
    }
    spec.linux = { ...(spec.linux ?? {}), resources: merged };
    store.writeSpec(id, spec);
  });
}

// --- events --------------------------------------------------------------------------------

/** Go's time.ParseDuration for what `--interval` takes: "5s", "100ms", "1m30s", "1.5s". */
export function parseDuration(s: string): number {
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60000, h: 3600000 };
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let ms = 0;
  let m: RegExpExecArray | null;
  let pos = 0;
  while ((m = re.exec(s))) {
    ms += Number(m[1]) * units[m[2]];
    pos = re.lastIndex;
  }
  if (!s || pos !== s.length) throw new ContainerError(`invalid duration "${s}"`);
  if (ms <= 0) throw new ContainerError('duration interval must be greater than 0');
  return ms;
}

export interface EventsOptions {
  store: StateStore;
  id: string;
  stats: boolean;
  intervalMs: number;
  write: (line: string) => void;
  /** how often OOM counters are polled (ms) */
  oomPollMs?: number;
}

/**
 * `events --stats`: one stats event. Otherwise a stats event every interval and an `oom` event
 * whenever the OOM killer acts in the container, until the container stops.
 */
export async function containerEvents(o: EventsOptions): Promise<void> {
  const { containerStats, oomKills, toJson } = require('../linux/cgroups/stats') as typeof import('../linux/cgroups/stats');
  const rec = readRecord(o.store, o.id);
  if (status(o.store, rec) === 'stopped') throw new ContainerError(`container with id ${o.id} is not running`);
  const cgroups = cgroupsFromDirs(rec.cgroups.dirs);
  const stats = () => o.write(`${toJson({ type: 'stats', id: o.id, data: containerStats(cgroups) })}\n`);
  if (o.stats) {
    stats();
    return;
  }
  let ooms = oomKills(cgroups);
  const checkOom = () => {
    const now = oomKills(cgroups);
    if (now > ooms) o.write(`${toJson({ type: 'oom', id: o.id })}\n`);
    ooms = now;
  };
  const poll = Math.min(o.oomPollMs ?? 100, o.intervalMs);
  let next = Date.now() + o.intervalMs;
  stats();
  for (;;) {
    await new Promise((r) => setTimeout(r, poll));
    checkOom();
    const cur = o.store.tryRead(o.id);
    if (!cur || status(o.store, cur) === 'stopped') return;
    if (Date.now() >= next) {
      stats();
      next += o.intervalMs;
    }
  }
}

// --- ps ------------------------------------------------------------------------------------

export function containerPids(store: StateStore, id: string): number[] {
  const rec = readRecord(store, id);
  return cgroupPids(rec.cgroups.dirs).sort((a, b) => a - b);
}

/** runc's ps table: ps(1)'s output (default `-ef`), the header and the lines of the container's pids. */
export function psTable(pids: number[], psArgs: string[]): string {
  const { spawnSync } = require('node:child_process') as typeof import('node:child_process');
  const r = spawnSync('ps', psArgs.length ? psArgs : ['-ef'], { encoding: 'utf8' });
  if (r.error) throw new ContainerError(`ps: ${r.error.message}`);
  if (r.status !== 0) throw new ContainerError(`ps: ${(r.stderr || r.stdout).trim()}`);
  const lines = r.stdout.split('\n');
  const header = lines[0] ?? '';
  const pidIndex = header.trim().split(/\s+/).indexOf('PID');
  if (pidIndex < 0) throw new ContainerError("couldn't find PID field in ps output");
  const want = new Set(pids);
  const out = [header];
  for (const line of lines.slice(1)) {
    if (!line) continue;
    const p = Number(line.trim().split(/\s+/)[pidIndex]);
    if (want.has(p)) out.push(line);
  }
  return out.join('\n') + '\n';
}
