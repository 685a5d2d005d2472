// The container's cgroups, minimal for now: find the hierarchies (cgroup v1, v2, or the hybrid of
// both that these hosts run), create the container's directory in each, put a process in them,
// signal what is inside, and remove what we created. Resource limits come later.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { readMountinfo } from './proc';

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
}

let cachedHierarchies: Hierarchy[] | undefined;

export function hierarchies(): Hierarchy[] {
  if (cachedHierarchies) return cachedHierarchies;
  const own = new Map<string, string>(); // subsystem list ('' for v2) → path
  for (const line of fs.readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
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
  return a.length === b.length && a.every((x) => b.includes(x));
}

/** Clean a cgroupsPath; relative paths (and the default, the id) nest under the runtime's own cgroup, as runc does. */
export function containerCgroups(cgroupsPath: string | undefined, id: string): ContainerCgroup[] {
  const inner = cgroupsPath && cgroupsPath.length > 0 ? cgroupsPath : id;
  return hierarchies().map((h) => {
    const rel = path.isAbsolute(inner) ? path.normalize(inner) : path.join(h.ownPath, inner);
    const dir = path.join(h.mountpoint, rel);
    if (dir !== h.mountpoint && !dir.startsWith(h.mountpoint + '/')) throw new Error(`cgroupsPath ${cgroupsPath} leaves the cgroup hierarchy`);
    return { hierarchy: h, dir };
  });
}

/**
 * Create the container's cgroup in every hierarchy. Returns the directories this call created,
 * in creation order (parents first): delete removes exactly those, and nothing it did not make.
 */
export function createCgroups(cgroups: ContainerCgroup[]): string[] {
  const created: string[] = [];
  try {
    for (const cg of cgroups) {
      const missing: string[] = [];
      for (let d = cg.dir; d !== cg.hierarchy.mountpoint && !fs.existsSync(d); d = path.dirname(d)) missing.unshift(d);
      for (const d of missing) {
        try {
          fs.mkdirSync(d);
          created.push(d);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        }
        if (cg.hierarchy.subsystems.includes('cpuset')) inheritCpuset(d);
      }
    }
  } catch (e) {
    removeCgroupDirs(created);
    throw new Error(`create cgroup: ${(e as Error).message}`);
  }
  return created;
}

/** A new v1 cpuset cgroup starts with no cpus and mems: a task cannot join it until they are set. */
function inheritCpuset(dir: string): void {
  for (const f of ['cpuset.cpus', 'cpuset.mems']) {
    const own = path.join(dir, f);
    if (fs.readFileSync(own, 'utf8').trim() === '') fs.writeFileSync(own, fs.readFileSync(path.join(path.dirname(dir), f), 'utf8').trim());
  }
}

/** Put a process into every cgroup of the container. */
export function joinCgroups(cgroups: ContainerCgroup[], pid: number): void {
  for (const cg of cgroups) {
    try {
      fs.writeFileSync(path.join(cg.dir, 'cgroup.procs'), String(pid));
    } catch (e) {
      throw new Error(`join cgroup ${cg.dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
}

/** Pids in the container's cgroup directories (read from the first hierarchy that answers). */
export function cgroupPids(dirs: string[]): number[] {
  // the pids or freezer hierarchy is the most reliable witness; any will do
  const score = (d: string) => (d.includes('/pids/') ? 3 : d.includes('/freezer/') ? 2 : 1);
  for (const d of [...dirs].sort((a, b) => score(b) - score(a))) {
    try {
      return fs
        .readFileSync(path.join(d, 'cgroup.procs'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map(Number);
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
      fs.rmdirSync(d);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') failed.push(`${d}: ${code}`);
    }
  }
  return failed;
}
