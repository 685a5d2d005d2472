// run: create + start, then (in the foreground) forward signals to the container's init, reap it,
// delete the container and exit with its status — 128+N when a signal N killed it, as runc.

import { killPid, prctl } from '../linux/libc';
import { PR } from '../linux/constants';
import { forwardSignals, reapUntil } from './reap';
import { status, type StateStore } from '../state/store';
import { withLock } from '../state/lock';
import { createContainer, type CreateOptions } from './create';
import { startContainer } from './start';
import { destroy } from './lifecycle';
import { mark } from '../state/timing';

export interface RunOptions extends CreateOptions {
  detach?: boolean;
  noSubreaper?: boolean;
  keep?: boolean;
}

export async function runContainer(opts: RunOptions): Promise<number> {
  const warn = opts.warn ?? (() => {});
  if (!opts.detach && !opts.noSubreaper) prctl(PR.SET_CHILD_SUBREAPER, 1);
  // a terminal without a console socket: tsrunc holds the pty master and proxies it
  const created = await createContainer({ ...opts, proxyTerminal: !opts.detach && !opts.consoleSocket });
  try {
    await startContainer({ store: opts.store, id: opts.id, warn });
  } catch (e) {
    await cleanup(opts.store, opts.id, warn);
    throw e;
  }
  if (opts.detach) return 0;

  const pid = created.pid;
  let proxy: import('./tty').TerminalProxy | undefined;
  if (created.consoleProxy !== undefined) {
    const { proxyTerminal } = require('./tty') as typeof import('./tty');
    proxy = proxyTerminal(created.consoleProxy);
  }
  const stopForwarding = forwardSignals(pid, !!proxy);
  const exit = await reapUntil(pid);
  mark('run: container exited');
  stopForwarding();
  await proxy?.finish();
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

