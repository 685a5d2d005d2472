// Moving a process between cgroups through cgroup.procs takes the kernel's global
// cgroup_threadgroup_rwsem for writing, whose first taking waits for an RCU grace period: 5-8 ms
// on these VMs when idle, 10-15 ms while both CPUs are busy with a create; takings in the next
// ~20 ms are fast. The init is cloned into its cgroup2 directory and moves itself into its v1
// ones, neither of which takes the global lock (docs/cgroups.md, "Joining"); the joins left to
// the runtime (the v1 ones in a user namespace, the cgroup2 one when the kernel refuses the
// clone) would pay that wait. So, while create plans and builds the chain, one background no-op
// migration (our own pid into the cgroup we are already in) starts the grace period early, and
// the runtime's joins wait for what is left of it, if anything, while the init does its mounts.
// Not before the cgroup directories are made: the write holds cgroup_mutex while it waits, and
// every mkdir (and every other cgroup migration) waits with it.

import path = require('../path');
import { hierarchies } from './index';

export function warmMigrationLock(): void {
  const h = hierarchies()[0];
  if (!h) return;
  // asynchronous on purpose: a thread of the runtime's pool blocks in write(2), ours goes on.
  // node:fs/promises, not node:fs, which nothing else on create's path loads (files.ts)
  const { writeFile } = require('node:fs/promises') as typeof import('node:fs/promises');
  writeFile(path.join(h.mountpoint, h.ownPath, 'cgroup.procs'), String(process.pid)).catch(() => {});
}
