// Moving a task between cgroups takes the kernel's cgroup_threadgroup_rwsem for writing, whose
// first taking waits for an RCU grace period (~5-10 ms here); takings right after it are fast.
// So, while create plans and builds the chain, one background no-op migration (our own pid into
// the cgroup we are already in) pays that wait, and the init's real joins then take ~0.1 ms each.

import path = require('node:path');
import { hierarchies } from './index';

export function warmMigrationLock(): void {
  const h = hierarchies()[0];
  if (!h) return;
  // asynchronous on purpose: a thread of the runtime's pool blocks in write(2), ours goes on.
  // node:fs/promises, not node:fs, which nothing else on create's path loads (files.ts)
  const { writeFile } = require('node:fs/promises') as typeof import('node:fs/promises');
  writeFile(path.join(h.mountpoint, h.ownPath, 'cgroup.procs'), String(process.pid)).catch(() => {});
}
