// A per-container lock that the kernel releases when its holder dies: flock(2) on the container's
// state directory. A kill -9 never leaves a stale lock behind (unlike a lock file), and nothing
// heavy is loaded for it (the abstract-socket lock it replaces cost ~8 ms of module loading).
// create makes the directory already locked (StateStore.claim): no other command can see a
// container that is being created without waiting for its lock.

import path = require('../linux/path');
import { files } from '../linux/files';
import { tryFlock } from '../linux/libc';

/**
 * Lock `dir`; returns the release, or null when there is no such directory (nothing to lock: the
 * caller finds out that the container does not exist). Waits up to timeoutMs for another holder.
 */
export function lockDir(dir: string, timeoutMs = 30000, what = path.basename(dir)): (() => void) | null {
  let fd: number;
  try {
    fd = files().openDirectory(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  const deadline = Date.now() + timeoutMs;
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  for (let delay = 1; !tryFlock(fd); delay = Math.min(delay * 2, 20)) {
    if (Date.now() > deadline) {
      files().closeSync(fd);
      throw new Error(`lock container ${what}: another tsrunc command holds it`);
    }
    Atomics.wait(sleeper, 0, 0, delay);
  }
  // the holder may have removed the container meanwhile: then there is nothing to lock
  if (files().linkCount(fd) === 0) {
    files().closeSync(fd);
    return null;
  }
  return () => files().closeSync(fd);
}

export async function withLock<T>(root: string, id: string, fn: () => Promise<T> | T, timeoutMs = 30000): Promise<T> {
  const release = lockDir(path.join(root, id), timeoutMs, id);
  try {
    return await fn();
  } finally {
    release?.();
  }
}
