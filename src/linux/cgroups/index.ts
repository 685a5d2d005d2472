// The container's cgroups: find the hierarchies (cgroup v1, v2, or the hybrid of both that these
// hosts run), create the container's directory in each, apply linux.resources (resources.ts plans
// the writes, devices.ts the device rules), put processes in, freeze and thaw, signal or kill
// what is inside, and remove what we created. See docs/cgroups.md.
//
// Everything here is plain file I/O (files.ts): only the cgroup v2 device program (bpf.ts) needs
// libc's own calls, and binds them only then.

import { files } from '../files';
import path = require('../path');
import { freezerState } from '../freezer';
import { readMountinfo } from '../proc';
import type { LinuxResources } from '../../spec/types';

export interface Hierarchy {
  /** where it is mounted on the host */
  mountpoint: string;
  version: 1 | 2;
  /** v1: controllers or name=..., as in /proc/self/cgroup; v2: [] */
  subsystems: string[];
  /** the runtime's own cgroup in this hierarchy (relative cgroupsPath nests under it) */
  ownPath: string;
}

export interface ContainerCgroup {
  hierarchy: Hierarchy;
  /** absolute directory of the container's cgroup */
  dir: string;
  /** --systemd-cgroup: the transient unit systemd makes (the directory is systemd's) */
  systemd?: { unit: string; slice: string; path: string; id: string };
}

let cachedHierarchies: Hierarchy[] | undefined;

export function hierarchies(): Hierarchy[] {
  if (cachedHierarchies) return cachedHierarchies;
  const own = new Map<string, string>(); // subsystem list ('' for v2) → path
  for (const line of files().readFileSync('/proc/self/cgroup').split('\n')) {
    if (!line) continue;
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    own.set(line.slice(first + 1, second), line.slice(second + 1));
  }
  const seen = new Set<string>();
  const out: Hierarchy[] = [];
  for (const m of readMountinfo()) {
    if (m.fstype !== 'cgroup' && m.fstype !== 'cgroup2') continue;
    if (m.fstype === 'cgroup2') {
      if (seen.has('')) continue;
      seen.add('');
      out.push({ mountpoint: m.mountpoint, version: 2, subsystems: [], ownPath: own.get('') ?? '/' });
      continue;
    }
    const subs = m.superOptions.split(',').filter((o) => o !== 'rw' && o !== 'ro' && o !== 'clone_children' && !o.startsWith('release_agent') && o !== 'noprefix' && o !== 'xattr' && o !== 'none');
    const key = subs.join(',');
    if (seen.has(key)) continue;
    seen.add(key);
    // /proc/self/cgroup lists the subsystems in the kernel's order; match as a set
    let ownPath = '/';
    for (const [k, v] of own) if (k && sameSet(k.split(','), subs)) ownPath = v;
    out.push({ mountpoint: m.mountpoint, version: 1, subsystems: subs, ownPath });
  }
  cachedHierarchies = out;
  return out;
}

function sameSet(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  for (const x of a) if (!b.includes(x)) return false;
  return true;
}

/** Clean a cgroupsPath; relative paths (and the default, the id) nest under the runtime's own cgroup, as runc does. */
export function containerCgroups(cgroupsPath: string | undefined, id: string, systemd = false): ContainerCgroup[] {
  if (systemd) return systemdCgroups(cgroupsPath, id);
  const inner = cgroupsPath && cgroupsPath.length > 0 ? cgroupsPath : id;
  return hierarchies().map((h) => {
    const rel = path.isAbsolute(inner) ? path.normalize(inner) : path.join(h.ownPath, inner);
    const dir = path.join(h.mountpoint, rel);
    if (dir !== h.mountpoint && !dir.startsWith(h.mountpoint + '/')) throw new Error(`cgroupsPath ${cgroupsPath} leaves the cgroup hierarchy`);
    return { hierarchy: h, dir };
  });
}

/** --systemd-cgroup: `slice:prefix:name`, a scope systemd makes at the "mapping" checkpoint (cgroup v2 hosts). */
function systemdCgroups(cgroupsPath: string | undefined, id: string): ContainerCgroup[] {
  const { systemdRunning, systemdUnit } = require('./systemd') as typeof import('./systemd');
  if (!systemdRunning()) throw new Error('--systemd-cgroup: systemd is not running on this host (no /run/systemd/system)');
  if (cgroupMode() !== 'v2') throw new Error(`--systemd-cgroup: the systemd driver of tsrunc needs a cgroup v2 host (this one is ${cgroupMode()})`);
  const unit = systemdUnit(cgroupsPath ?? '', id);
  const h = hierarchies().find((x) => x.version === 2)!;
  return [{ hierarchy: h, dir: path.join(h.mountpoint, unit.path), systemd: { ...unit, id } }];
}

export function usesSystemd(cgroups: ContainerCgroup[]): boolean {
  return cgroups.some((c) => c.systemd);
}

/**
 * Put the container's init into its cgroups: cgroupfs, write cgroup.procs; systemd, start the
 * transient scope with the init's pid, then apply the resources in the delegated cgroup (the
 * init is still waiting at its checkpoint: its program never runs without them).
 */
export function enterCgroups(cgroups: ContainerCgroup[], pid: number, res: LinuxResources | undefined): void {
  const sd = cgroups.find((c) => c.systemd);
  if (!sd) return joinCgroups(cgroups, pid);
  const { startScope } = require('./systemd') as typeof import('./systemd');
  startScope(sd.systemd!, sd.systemd!.id, pid, res, sd.dir);
  applyResources(cgroups, res);
}

/**
 * Create the container's cgroup in every hierarchy. Returns the directories this call created,
 * in creation order (parents first): delete removes exactly those, and nothing it did not make.
 */
export function createCgroups(cgroups: ContainerCgroup[]): string[] {
  const created: string[] = [];
  if (usesSystemd(cgroups)) return created; // systemd makes the scope (enterCgroups)
  try {
    for (const cg of cgroups) {
      for (const d of missingDirs(cg)) {
        try {
          files().mkdirSync(d);
          created.push(d);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        }
        if (cg.hierarchy.subsystems.includes('cpuset')) inheritCpuset(d, cg.hierarchy.mountpoint);
      }
      // pure cgroup v2: every controller the parents have, as runc (limits, stats, update later)
      if (cg.hierarchy.version === 2 && cgroupMode() === 'v2') enableV2Controllers(cg, 'all');
    }
  } catch (e) {
    removeCgroupDirs(created);
    throw new Error(`create cgroup: ${(e as Error).message}`);
  }
  return created;
}

/**
 * The directories createCgroups will make (those that do not exist yet), parents first; create
 * records them before making them. None with systemd (it makes the scope).
 */
export function missingCgroupDirs(cgroups: ContainerCgroup[]): string[] {
  const dirs: string[] = [];
  if (!usesSystemd(cgroups)) for (const cg of cgroups) dirs.push(...missingDirs(cg));
  return dirs;
}

function missingDirs(cg: ContainerCgroup): string[] {
  const missing: string[] = [];
  for (let d = cg.dir; d !== cg.hierarchy.mountpoint && d !== '/' && !files().existsSync(d); d = path.dirname(d)) missing.unshift(d);
  return missing;
}

/**
 * A new v1 cpuset cgroup starts with no cpus and mems: a task cannot join it until they are set
 * (ENOSPC). Each empty one takes its parent's, the parent first: a parent that another create
 * has just made (after a delete removed the one that was there) may be empty still.
 */
function inheritCpuset(dir: string, root: string): void {
  for (const f of ['cpuset.cpus', 'cpuset.mems']) cpusetValue(dir, f, root);
}

function cpusetValue(dir: string, file: string, root: string): string {
  const own = files().readFileSync(path.join(dir, file)).trim();
  if (own !== '' || dir === root || !dir.startsWith(root + '/')) return own;
  const inherited = cpusetValue(path.dirname(dir), file, root);
  files().writeFileSync(path.join(dir, file), inherited);
  return inherited;
}

/** Put a process into every cgroup of the container. */
export function joinCgroups(cgroups: ContainerCgroup[], pid: number): void {
  for (const cg of cgroups) {
    try {
      files().writeFileSync(path.join(cg.dir, 'cgroup.procs'), String(pid));
    } catch (e) {
      throw new Error(`join cgroup ${cg.dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
}

/**
 * Pids in the container's cgroup, its sub-cgroups included (read from the first hierarchy that
 * answers: the pids, freezer or cgroup v2 one is the most reliable witness; any will do).
 */
export function cgroupPids(dirs: string[]): number[] {
  // every hierarchy lists every process of the container; the pids and freezer ones first, as the
  // likeliest to be there (ranked by name: a stat of each directory cost ~20 lookups per delete)
  const rank = (d: string) => (d.includes('/pids/') ? 0 : d.includes('/freezer/') ? 1 : 2);
  for (const d of [...dirs].sort((a, b) => rank(a) - rank(b))) {
    try {
      const out: number[] = [];
      const walk = (dir: string) => {
        for (const l of files().readFileSync(path.join(dir, 'cgroup.procs')).split('\n')) if (l) out.push(Number(l));
        for (const name of files().directoriesIn(dir)) walk(path.join(dir, name));
      };
      walk(d);
      return [...new Set(out)];
    } catch {
      /* try the next hierarchy */
    }
  }
  return [];
}

/** rmdir the given directories, deepest first; a busy or non-empty one stays (and is reported). */
export function removeCgroupDirs(dirs: string[]): string[] {
  const failed: string[] = [];
  for (const d of [...dirs].sort((a, b) => b.length - a.length)) {
    try {
      files().rmdirSync(d); // the common case, without listing the directory first
      continue;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') continue;
      // a parent create made is shared with other containers: removed when empty, never emptied,
      // and not waited for (busy means in use: retrying it cost ~1 s per hierarchy)
      if (dirs.some((x) => x.startsWith(d + '/'))) {
        failed.push(`${d}: ${code}`);
        continue;
      }
    }
    // the container's own cgroup may hold sub-cgroups it made (nested runtimes, systemd), and
    // may be busy for a moment after its last process died
    removeChildren(d);
    try {
      rmdirRetry(d);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') failed.push(`${d}: ${code}`);
    }
  }
  return failed;
}

/** Sub-cgroups the container made itself (nested runtimes, systemd): removed deepest first. */
function removeChildren(dir: string): void {
  let entries: string[];
  try {
    entries = files().directoriesIn(dir);
  } catch {
    return;
  }
  for (const name of entries) {
    const sub = path.join(dir, name);
    removeChildren(sub);
    try {
      rmdirRetry(sub);
    } catch {
      /* reported when the parent cannot go */
    }
  }
}

/** rmdir of a cgroup whose last process has just died can meet EBUSY for a moment. */
function rmdirRetry(dir: string): void {
  for (let i = 0; ; i++) {
    try {
      files().rmdirSync(dir);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EBUSY' || i >= 20) throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5 + i * 5);
    }
  }
}

// --- the host: which controller lives where ------------------------------------------------

export type CgroupMode = 'v1' | 'v2' | 'hybrid';

/** v1 only, v2 only (the unified hierarchy with controllers), or the hybrid of both. */
export function cgroupMode(hs: Hierarchy[] = hierarchies()): CgroupMode {
  const v1 = hs.some((h) => h.version === 1 && h.subsystems.some((s) => !s.startsWith('name=')));
  const v2 = hs.some((h) => h.version === 2);
  return v1 && v2 ? 'hybrid' : v1 ? 'v1' : 'v2';
}

function v2Controllers(h: Hierarchy): Set<string> {
  try {
    return new Set(files().readFileSync(path.join(h.mountpoint, 'cgroup.controllers')).trim().split(/\s+/).filter(Boolean));
  } catch {
    return new Set();
  }
}

/** The v1 name of a controller ('io' is 'blkio' there). */
const V1_NAME: Record<string, string> = { io: 'blkio' };

/**
 * Where the host serves a controller: a v1 hierarchy that has it, else the cgroup2 mount if its
 * root lists it (hybrid hosts put some controllers there: hugetlb on these machines).
 * 'cgroup' stands for cgroup v2's core files (cgroup.freeze, cgroup.kill, ...).
 */
export function controllerHierarchy(controller: string, hs: Hierarchy[] = hierarchies()): Hierarchy | undefined {
  const v1name = V1_NAME[controller] ?? controller;
  const v1 = hs.find((h) => h.version === 1 && h.subsystems.includes(v1name));
  if (v1) return v1;
  const v2 = hs.find((h) => h.version === 2);
  if (!v2) return undefined;
  if (controller === 'cgroup') return v2;
  if (controller === 'blkio') return v2Controllers(v2).has('io') ? v2 : undefined;
  return v2Controllers(v2).has(controller) ? v2 : undefined;
}

/** The container's cgroups from the directories state.json records (later verbs). */
export function cgroupsFromDirs(dirs: string[]): ContainerCgroup[] {
  const hs = hierarchies();
  const out: ContainerCgroup[] = [];
  for (const dir of dirs) {
    const h = hs.filter((x) => dir === x.mountpoint || dir.startsWith(x.mountpoint + '/')).sort((a, b) => b.mountpoint.length - a.mountpoint.length)[0];
    if (h) out.push({ hierarchy: h, dir });
  }
  return out;
}

/** The container's directory for a controller. */
export function dirFor(cgroups: ContainerCgroup[], controller: string): ContainerCgroup | undefined {
  const h = controllerHierarchy(controller, cgroups.map((c) => c.hierarchy));
  return h ? cgroups.find((c) => c.hierarchy === h) : undefined;
}

function v2Of(cgroups: ContainerCgroup[]): ContainerCgroup | undefined {
  return cgroups.find((c) => c.hierarchy.version === 2);
}

/**
 * cgroup v2: a controller is usable in a cgroup only when every ancestor enables it in
 * cgroup.subtree_control. 'all' (pure v2 hosts, as runc) enables what each parent has, ignoring
 * refusals; a list (hybrid hosts: only what the resources need) fails on a refusal.
 */
export function enableV2Controllers(cg: ContainerCgroup, wanted: string[] | 'all'): void {
  const chain: string[] = [];
  for (let d = path.dirname(cg.dir); d.length >= cg.hierarchy.mountpoint.length; d = path.dirname(d)) {
    chain.unshift(d);
    if (d === cg.hierarchy.mountpoint) break;
  }
  for (const d of chain) {
    const available = files().readFileSync(path.join(d, 'cgroup.controllers')).trim().split(/\s+/).filter(Boolean);
    const enabled = new Set(files().readFileSync(path.join(d, 'cgroup.subtree_control')).trim().split(/\s+/).filter(Boolean));
    for (const c of wanted === 'all' ? available : wanted) {
      if (enabled.has(c)) continue;
      try {
        files().writeFileSync(path.join(d, 'cgroup.subtree_control'), `+${c}`);
      } catch (e) {
        if (wanted === 'all') continue;
        throw new Error(`enable the ${c} controller in ${d}/cgroup.subtree_control: ${errnoText(e)}`);
      }
    }
  }
}

export function errnoText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (typeof err.errno === 'number') {
    const { describeErrno } = require('../errno') as typeof import('../errno');
    return describeErrno(-err.errno);
  }
  return err.message ?? String(e);
}

// --- resources -------------------------------------------------------------------------------

export interface ApplyOptions {
  /** update of a running container (devices cannot change; checkBeforeUpdate; current limits) */
  update?: boolean;
  /** the container's memory limit before this update (cgroup v2 swap needs it) */
  currentMemoryLimit?: number;
}

/**
 * Apply linux.resources to the container's cgroups: the planned writes, then (at create) the
 * device rules. Throws a ResourceError naming the field on the first failure.
 */
export function applyResources(cgroups: ContainerCgroup[], res: LinuxResources | undefined, opts: ApplyOptions = {}): void {
  const { planResources, ResourceError } = require('./resources') as typeof import('./resources');
  const hs = cgroups.map((c) => c.hierarchy);
  const resources = res ?? {};
  const plan = planResources(
    resources,
    {
      version: (c) => controllerHierarchy(c, hs)?.version,
      read: (c, file) => {
        const cg = dirFor(cgroups, c);
        try {
          return cg ? files().readFileSync(path.join(cg.dir, file)).trim() : undefined;
        } catch {
          return undefined;
        }
      },
    },
    { update: opts.update, currentMemoryLimit: opts.currentMemoryLimit },
  );
  const v2 = v2Of(cgroups);
  if (v2) {
    const onV2 = plan.controllers.filter((c) => controllerHierarchy(c, hs)?.version === 2);
    if (onV2.length) {
      try {
        enableV2Controllers(v2, onV2);
      } catch (e) {
        throw new ResourceError(`linux.resources: ${(e as Error).message}`);
      }
    }
  }
  for (const w of plan.writes) {
    const cg = dirFor(cgroups, w.controller);
    if (!cg) throw new ResourceError(`${w.field}: the ${w.controller} cgroup controller is not available on this host`);
    let file = w.file;
    let value = w.value;
    if (!files().existsSync(path.join(cg.dir, file))) {
      const alt = w.alternatives?.find((a) => files().existsSync(path.join(cg.dir, a.file)));
      if (alt) ({ file, value } = alt);
      else if (w.optional) continue;
      else throw new ResourceError(`${w.field}: this host's kernel has no ${[w.file, ...(w.alternatives ?? []).map((a) => a.file)].join(' or ')} (cgroup ${cg.hierarchy.version === 1 ? 'v1' : 'v2'}${missingReason(w.file)})`);
    }
    try {
      files().writeFileSync(path.join(cg.dir, file), value);
    } catch (e) {
      const hint = file === 'cpu.rt_runtime_us' ? ' (the parent cgroups need a realtime budget at least this large in their cpu.rt_runtime_us)' : '';
      throw new ResourceError(`${w.field}: write ${JSON.stringify(value)} to ${file}: ${errnoText(e)}${hint}`);
    }
    if (file === 'memory.kmem.limit_in_bytes' && Number(value) >= 0) {
      // Linux 5.16+ accepts the write and ignores it (kernel memory limits are gone): say so
      const got = Number(files().readFileSync(path.join(cg.dir, file)).trim());
      if (got !== Math.floor(Number(value) / 4096) * 4096) throw new ResourceError(`${w.field}: this kernel ignores kernel memory limits (memory.kmem.limit_in_bytes stays ${got} after writing ${value})`);
    }
    if (file === 'cpu.shares') {
      // the kernel clamps out-of-range shares silently: say so, as runc does
      const got = files().readFileSync(path.join(cg.dir, file)).trim();
      if (got !== value) throw new ResourceError(`${w.field}: the kernel set cpu.shares to ${got}, not ${value} (the range is 2-262144)`);
    }
  }
  // update: device rules only when given (containerd sends the container's list again)
  if (opts.update && !(resources.devices ?? []).length) return;
  applyDevices(cgroups, resources, !!opts.update);
}

function missingReason(file: string): string {
  if (file.startsWith('memory.kmem')) return ': kernel memory accounting is not in this kernel';
  if (file.startsWith('memory.memsw')) return ': swap accounting is off (swapaccount=1)';
  if (file.startsWith('cpu.rt_')) return ': the kernel has no CONFIG_RT_GROUP_SCHED';
  if (file.startsWith('blkio.weight') || file.startsWith('blkio.leaf') || file.startsWith('io.') && file.includes('weight')) return ': no I/O scheduler with weights (CFQ or BFQ) here';
  if (file.startsWith('hugetlb.')) return ': no such huge page size';
  return '';
}

function applyDevices(cgroups: ContainerCgroup[], resources: LinuxResources, update: boolean): void {
  const { containerDeviceRules, v1DeviceWrites, v1DeviceTransition, parseDevicesList, emulate, deviceProgram, encodeProgram } = require('./devices') as typeof import('./devices');
  const { ResourceError } = require('./resources') as typeof import('./resources');
  const rules = containerDeviceRules(resources.devices);
  const state = emulate(rules); // refuses rules cgroup v1 would ignore, on every host
  const v1 = cgroups.find((c) => c.hierarchy.version === 1 && c.hierarchy.subsystems.includes('devices'));
  if (v1) {
    // create: the rules as listed; update: the smallest change from what the cgroup has now
    const writes = update ? v1DeviceTransition(parseDevicesList(files().readFileSync(path.join(v1.dir, 'devices.list'))), state) : v1DeviceWrites(rules);
    for (const w of writes) {
      try {
        files().writeFileSync(path.join(v1.dir, w.file), w.value);
      } catch (e) {
        throw new ResourceError(`linux.resources.devices: write "${w.value}" to ${w.file}: ${errnoText(e)}`);
      }
    }
    return;
  }
  const v2 = v2Of(cgroups);
  if (!v2) throw new ResourceError('linux.resources.devices: this host has no devices cgroup (neither a v1 devices hierarchy nor cgroup v2)');
  const { attachDeviceProgram } = require('./bpf') as typeof import('./bpf');
  try {
    attachDeviceProgram(v2.dir, encodeProgram(deviceProgram(state)));
  } catch (e) {
    throw new ResourceError(`linux.resources.devices: ${(e as Error).message}`);
  }
}

// --- freezer, kill --------------------------------------------------------------------------

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Freeze or thaw every process of the container (v1 freezer, else cgroup v2's cgroup.freeze); waits until done. */
export function setFrozen(cgroups: ContainerCgroup[], frozen: boolean): void {
  const v1 = cgroups.find((c) => c.hierarchy.version === 1 && c.hierarchy.subsystems.includes('freezer'));
  if (v1) {
    const file = path.join(v1.dir, 'freezer.state');
    const want = frozen ? 'FROZEN' : 'THAWED';
    for (let i = 0; i < 1000; i++) {
      // FREEZING can stall on a task in an uninterruptible sleep: write again, as runc does
      if (i % 50 === 0) files().writeFileSync(file, want);
      if (files().readFileSync(file).trim() === want) return;
      sleepMs(i < 10 ? 1 : 10);
    }
    if (frozen) files().writeFileSync(file, 'THAWED');
    throw new Error(`unable to ${frozen ? 'freeze' : 'thaw'} the container: ${file} stays ${files().readFileSync(file).trim()}`);
  }
  const v2 = v2Of(cgroups);
  if (!v2 || !files().existsSync(path.join(v2.dir, 'cgroup.freeze'))) throw new Error('the freezer is not available on this host (no v1 freezer hierarchy, no cgroup.freeze)');
  files().writeFileSync(path.join(v2.dir, 'cgroup.freeze'), frozen ? '1' : '0');
  for (let i = 0; i < 1000; i++) {
    if (new RegExp(`^frozen ${frozen ? 1 : 0}$`, 'm').test(files().readFileSync(path.join(v2.dir, 'cgroup.events')))) return;
    sleepMs(i < 10 ? 1 : 10);
  }
  if (frozen) files().writeFileSync(path.join(v2.dir, 'cgroup.freeze'), '0');
  throw new Error(`unable to ${frozen ? 'freeze' : 'thaw'} the container: ${v2.dir}/cgroup.events does not report it`);
}

/**
 * cgroup.kill (Linux 5.14) SIGKILLs everything in a v2 cgroup and its descendants at once: written
 * in the first of the directories that has it (a v2 one); false when none does.
 */
export function cgroupKill(dirs: readonly string[]): boolean {
  for (const d of dirs) {
    const file = path.join(d, 'cgroup.kill');
    if (!files().existsSync(file)) continue;
    try {
      files().writeFileSync(file, '1');
      return true;
    } catch {
      return false;
    }
  }
  return false;
}

/**
 * Signal every process of the container. SIGKILL goes through cgroup.kill where there is one;
 * other signals are sent with the container frozen (when it can be), so that nothing forks past
 * the signal, as runc does.
 */
export function signalAll(cgroups: ContainerCgroup[], sig: number): void {
  if (sig === 9 && cgroupKill(cgroups.map((c) => c.dir))) return;
  let froze = false;
  if (freezerState(cgroups.map((c) => c.dir)) === 'thawed') {
    try {
      setFrozen(cgroups, true);
      froze = true;
    } catch {
      /* no freezer: signal as we go */
    }
  }
  try {
    for (const pid of cgroupPids(cgroups.map((c) => c.dir))) {
      try {
        process.kill(pid, sig);
      } catch {
        /* exited meanwhile */
      }
    }
  } finally {
    if (froze) setFrozen(cgroups, false);
  }
}
