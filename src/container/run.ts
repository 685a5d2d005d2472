// run: create + start, then (in the foreground) forward signals to the container's init, reap it,
// delete the container and exit with its status — 128+N when a signal N killed it, as runc.

import { killPid, prctl, libc } from '../linux/libc';
import { PR } from '../linux/constants';
import { isAlive } from '../linux/proc';
import { status, type StateStore } from '../state/store';
import { withLock } from '../state/lock';
import { createContainer, type CreateOptions } from './create';
import { startContainer } from './start';
import { destroy } from './lifecycle';

export interface RunOptions extends CreateOptions {
  detach?: boolean;
  noSubreaper?: boolean;
  keep?: boolean;
}

/** Signals a foreground run passes on to the container (runc forwards all it can catch). */
const FORWARDED: NodeJS.Signals[] = ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGUSR2', 'SIGALRM', 'SIGCONT', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU', 'SIGVTALRM', 'SIGPROF', 'SIGWINCH', 'SIGPWR', 'SIGSYS', 'SIGIO'];

export async function runContainer(opts: RunOptions): Promise<number> {
  const warn = opts.warn ?? (() => {});
  if (!opts.detach && !opts.noSubreaper) prctl(PR.SET_CHILD_SUBREAPER, 1);
  const created = await createContainer(opts);
  try {
    await startContainer({ store: opts.store, id: opts.id, warn });
  } catch (e) {
    await cleanup(opts.store, opts.id, warn);
    throw e;
  }
  if (opts.detach) return 0;

  const pid = created.pid;
  const forward = (sig: NodeJS.Signals) => killPid(pid, require('node:os').constants.signals[sig]);
  for (const s of FORWARDED) process.on(s, forward);
  const exit = await reapUntil(pid);
  for (const s of FORWARDED) process.off(s, forward);
  if (!opts.keep) await cleanup(opts.store, opts.id, warn);
  return exit;
}

async function cleanup(store: StateStore, id: string, warn: (m: string) => void): Promise<void> {
  await withLock(store.root, id, () => {
    const rec = store.tryRead(id);
    if (!rec) return;
    if (status(store, rec) !== 'stopped') killPid(rec.pid, 9);
    destroy(store, rec, warn);
  });
}

/**
 * Reap children (as a subreaper, orphans of the container come to us too) until the init exits;
 * returns its exit code, or 128 + the signal that killed it.
 */
async function reapUntil(pid: number): Promise<number> {
  const status = [0];
  const WNOHANG = 1;
  const WALL = 0x40000000;
  for (let delay = 1; ; delay = Math.min(delay * 2, 25)) {
    for (;;) {
      const r = libc().waitpid(-1, status, WNOHANG | WALL);
      if (r < 0 && !isAlive(pid)) return 255; // not our child any more (cannot happen unless reaped elsewhere)
      if (r <= 0) break;
      if (r === pid) {
        const s = status[0];
        if ((s & 0x7f) === 0) return (s >> 8) & 0xff;
        return 128 + (s & 0x7f);
      }
    }
    await new Promise((r) => setTimeout(r, delay));
  }
}
