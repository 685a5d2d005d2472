// What the planner needs to know about the host, gathered by the container layer before planning
// (the planner itself does no I/O). A chain has no branches, so every decision that depends on the
// machine — is this masked path a directory, which stdio fds did Node mark close-on-exec, which
// flags does the mount under a bind source have — is made here, in advance, from these facts.

import type { ArchName } from '../linux/arch';

export type PathKind = 'dir' | 'file' | 'symlink' | 'other' | 'missing';

export interface StdioFact {
  /** FD_CLOEXEC is set (Node sets it on the low fds it inherits) */
  cloexec: boolean;
  /** the F_GETFL flags (libuv may have put a shared pipe into O_NONBLOCK) */
  fl: number;
}

export interface CgroupMountFact {
  /** directory name under /sys/fs/cgroup in the container (e.g. "memory", "cpu,cpuacct", "unified") */
  name: string;
  /** v1 subsystem list for a cgroup-typed mount, or "cgroup2" */
  fsType: 'cgroup' | 'cgroup2';
  /** mount data for a fresh cgroup mount (in a cgroup namespace), e.g. "memory" or "none,name=systemd" */
  data: string;
  /** the container's cgroup directory on the host in this hierarchy (bind source without cgroupns) */
  hostPath: string;
}

export interface HostFacts {
  arch: ArchName;
  /** /proc/sys/kernel/cap_last_cap */
  capLastCap: number;
  /** the runtime's fds 0, 1, 2 as the child will inherit them */
  stdio: [StdioFact, StdioFact, StdioFact];
  /** kind of container paths as they are in the rootfs before the container starts (lstat, no following) */
  rootfsPaths: Record<string, PathKind>;
  /**
   * Container paths with the rootfs's symlinks resolved inside the rootfs (as the kernel's
   * RESOLVE_IN_ROOT would), so that missing targets behind a symlink are created where the
   * symlink leads. Only a plan aid: the chain still resolves every target with openat2.
   */
  resolved: Record<string, string>;
  /** kind of /proc and /sys paths on the host (same kernel as the container's) */
  hostPaths: Record<string, PathKind>;
  /** bind mount sources: what they are and the flags of the host mount they live on */
  bindSources: Record<string, { kind: PathKind; mountFlags: number }>;
  /** the host mount point that contains the rootfs, and its flags */
  rootfsMount: { mountpoint: string; flags: number };
  /** cgroup hierarchies to show at the cgroup mount's destination */
  cgroupMounts: CgroupMountFact[];
  /** /proc/kcore exists (runc links /dev/core to it) */
  hasKcore: boolean;
  /** the process user's home directory from the rootfs's /etc/passwd (HOME when env has none) */
  home?: string;
  /** AppArmor / SELinux are enabled on the host */
  apparmor: boolean;
  selinux: boolean;
}

/** Everything the gatherer must look up for a spec (so the planner and the gatherer agree). */
export interface FactQueries {
  rootfsPaths: string[];
  hostPaths: string[];
  bindSources: string[];
}

export function emptyFacts(arch: ArchName): HostFacts {
  return {
    arch,
    capLastCap: 40,
    stdio: [
      { cloexec: false, fl: 0 },
      { cloexec: false, fl: 1 },
      { cloexec: false, fl: 1 },
    ],
    rootfsPaths: {},
    resolved: {},
    hostPaths: {},
    bindSources: {},
    rootfsMount: { mountpoint: '/', flags: 0 },
    cgroupMounts: [],
    hasKcore: true,
    apparmor: false,
    selinux: false,
  };
}

/** All proper prefixes and the path itself: /a/b/c → /a, /a/b, /a/b/c */
export function pathPrefixes(p: string): string[] {
  const parts = p.split('/').filter((s) => s && s !== '.');
  const out: string[] = [];
  for (let i = 1; i <= parts.length; i++) out.push('/' + parts.slice(0, i).join('/'));
  return out;
}
