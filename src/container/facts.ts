// Gather the host facts a plan depends on (see src/plan/facts.ts). Read-only I/O: `explain`
// gathers them too, so that the plan it prints is exactly the one create would run.

import { files, type FileStat } from '../linux/files';
import path = require('../linux/path');
import { hostArch } from '../linux/arch';
import { getFdFlags, getFlFlags } from '../linux/libc';
import { mountContaining, readMountinfo, type MountInfo } from '../linux/proc';
import type { ContainerCgroup } from '../linux/cgroups';
import { mountinfoFlags } from '../plan/mount-options';
import type { CgroupMountFact, FactQueries, HostFacts, PathKind } from '../plan/facts';
import type { Spec } from '../spec/types';

function kindOf(st: FileStat | undefined): PathKind {
  if (!st) return 'missing';
  return st.kind === 'symlink' || st.kind === 'dir' || st.kind === 'file' ? st.kind : 'other';
}

// most paths asked about do not exist: no exception (and its stack trace) for those
function lstat(p: string): FileStat | undefined {
  try {
    return files().lstat(p);
  } catch {
    return undefined; // EACCES...
  }
}

/** lstat, each path once per call of gatherFacts: the same directories come up for many queries */
type Lstat = (p: string) => FileStat | undefined;

function memoLstat(): Lstat {
  const seen = new Map<string, FileStat | undefined>();
  return (p) => {
    if (seen.has(p)) return seen.get(p);
    const st = lstat(p);
    seen.set(p, st);
    return st;
  };
}

function stat(p: string): FileStat | undefined {
  try {
    return files().stat(p);
  } catch {
    return undefined;
  }
}

/**
 * Kinds of container paths in the rootfs. A path below a symlink is reported 'missing' (unknown):
 * lstat on the host would follow that symlink out of the rootfs, and the chain resolves it inside
 * the rootfs instead.
 */
function rootfsPathKinds(rootfs: string, paths: string[], lst: Lstat): Record<string, PathKind> {
  const out: Record<string, PathKind> = {};
  const sorted = [...new Set(paths)].sort((a, b) => a.length - b.length);
  for (const p of sorted) {
    const parent = p.slice(0, p.lastIndexOf('/')) || '/';
    if (parent !== '/' && out[parent] !== undefined && out[parent] !== 'dir') {
      out[p] = 'missing';
      continue;
    }
    out[p] = kindOf(lst(path.join(rootfs, p)));
  }
  return out;
}

/**
 * Resolve a container path inside the rootfs the way openat2(RESOLVE_IN_ROOT) does: symlinks are
 * followed with the rootfs as /, and ".." never climbs above it. Missing components are kept.
 */
function resolveInRoot(rootfs: string, p: string, lst: Lstat): string {
  let parts = p.split('/').filter((s) => s && s !== '.');
  const done: string[] = [];
  for (let links = 0; parts.length > 0; ) {
    const part = parts.shift()!;
    if (part === '..') {
      done.pop();
      continue;
    }
    const host = path.join(rootfs, ...done, part);
    const st = lst(host);
    if (st?.kind === 'symlink') {
      if (++links > 40) return '/' + [...done, part, ...parts].join('/'); // ELOOP: leave it to the kernel
      const target = files().readlinkSync(host);
      if (target.startsWith('/')) done.length = 0;
      parts = [...target.split('/').filter((s) => s && s !== '.'), ...parts];
      continue;
    }
    done.push(part);
  }
  return '/' + done.join('/');
}

export function gatherFacts(spec: Spec, rootfs: string, queries: FactQueries, cgroups: ContainerCgroup[], mounts: MountInfo[] = readMountinfo()): HostFacts {
  const stdio = [0, 1, 2].map((fd) => ({ cloexec: (getFdFlags(fd) & 1) !== 0, fl: getFlFlags(fd) })) as HostFacts['stdio'];
  const hostPaths: Record<string, PathKind> = {};
  for (const p of queries.hostPaths) hostPaths[p] = kindOf(lstat(p));
  const bindSources: HostFacts['bindSources'] = {};
  for (const src of queries.bindSources) {
    const st = stat(src);
    let flags = 0;
    if (st) {
      try {
        flags = mountinfoFlags(mountContaining(mounts, files().realpathSync(src))?.options ?? '');
      } catch {
        /* vanished meanwhile: the mount step will say so */
      }
    }
    bindSources[src] = { kind: st ? (st.kind === 'dir' ? 'dir' : 'file') : 'missing', mountFlags: flags };
  }
  const rootMount = mountContaining(mounts, rootfs);
  const lst = memoLstat();
  const resolved: Record<string, string> = {};
  const rootfsQueries = new Set(queries.rootfsPaths);
  for (const p of queries.rootfsPaths) {
    const r = resolveInRoot(rootfs, p, lst);
    if (r === p) continue;
    resolved[p] = r;
    let prefix = '';
    for (const part of r.split('/').filter(Boolean)) rootfsQueries.add((prefix += '/' + part));
  }
  return {
    arch: hostArch().name,
    capLastCap: Number(files().readFileSync('/proc/sys/kernel/cap_last_cap')),
    stdio,
    rootfsPaths: rootfsPathKinds(rootfs, [...rootfsQueries], lst),
    resolved,
    hostPaths,
    bindSources,
    rootfsMount: { mountpoint: rootMount?.mountpoint ?? '/', flags: mountinfoFlags(rootMount?.options ?? '') },
    cgroupMounts: cgroupMountFacts(cgroups),
    hasKcore: files().existsSync('/proc/kcore'),
    home: homeOf(rootfs, spec.process?.user.uid ?? 0),
    apparmor: apparmorEnabled(),
    selinux: files().existsSync('/sys/fs/selinux/enforce'),
  };
}

function cgroupMountFacts(cgroups: ContainerCgroup[]): CgroupMountFact[] {
  return cgroups.map((cg) => ({
    name: path.basename(cg.hierarchy.mountpoint),
    fsType: cg.hierarchy.version === 2 ? 'cgroup2' : 'cgroup',
    data: cg.hierarchy.subsystems.join(','),
    hostPath: cg.dir,
  }));
}

/** HOME from the rootfs's /etc/passwd, read only if neither /etc nor /etc/passwd is a symlink. */
function homeOf(rootfs: string, uid: number): string | undefined {
  const etc = path.join(rootfs, 'etc');
  const passwd = path.join(etc, 'passwd');
  if (kindOf(lstat(etc)) !== 'dir' || kindOf(lstat(passwd)) !== 'file') return undefined;
  try {
    for (const line of files().readFileSync(passwd).split('\n')) {
      const f = line.split(':');
      if (f.length >= 6 && Number(f[2]) === uid && f[2] !== '') return f[5] || '/';
    }
  } catch {
    /* unreadable: no HOME from it */
  }
  return undefined;
}

function apparmorEnabled(): boolean {
  try {
    return files().readFileSync('/sys/module/apparmor/parameters/enabled').trim() === 'Y' && files().existsSync('/sys/kernel/security/apparmor');
  } catch {
    return false;
  }
}
