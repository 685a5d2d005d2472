// Start a program in a new child: make the sync socket and the records pipe, build the chain, and
// clone it into the namespaces that only the parent's thread can enter for the child (a pid
// namespace is entered at clone, and a multithreaded process may join pid, net, ipc, uts and
// cgroup namespaces on one thread) — the engine enters and leaves them around clone() natively.

import { files } from '../linux/files';
import { libc, pipe, prctl, socketPair, closeFd, setFlFlags, unshare } from '../linux/libc';
import { buildChain, type BuiltChain, type NamespaceJoin } from './chain';
import { Monitor } from './monitor';
import { mark } from '../state/timing';
import type { Program } from './program';

const O_NONBLOCK = 0o4000;
const CLONE_NEWTIME = 0x80;
const PR_SET_DUMPABLE = 4;

/**
 * The runtime is not dumpable, and so are the children it clones (they inherit it): while a child
 * still runs the runtime's code, no less privileged process — one in a container it is entering —
 * may open its /proc/PID/exe (the runtime's binary), fd, mem or environ, or ptrace it.
 */
export function makeNonDumpable(): void {
  prctl(PR_SET_DUMPABLE, 0);
}

export interface ThreadJoin {
  /** CLONE_NEW* flag of the namespace */
  flag: number;
  /** file of the namespace to enter (e.g. /proc/123/ns/net) */
  path: string;
  /** name under /proc/thread-self/ns of the same kind, to step back out */
  proc: string;
}

export interface LaunchRequest {
  program: Program;
  /** parent fds for the program's kept slots (the engine adds sync and records) */
  fds: Record<string, number>;
  cloneFlags: number;
  threadJoins?: ThreadJoin[];
  /** unshare a new time namespace for the child and write these offsets (timens_offsets lines) */
  timeOffsets?: string;
  /**
   * a cgroup v2 directory (an fd) to start the child in, where the kernel allows it (clone3's
   * CLONE_INTO_CGROUP): no migration afterwards, so none of the kernel's global cgroup locks
   */
  cgroupFd?: number;
}

export interface Launched {
  pid: number;
  /** the child started in req.cgroupFd's cgroup; if not, the caller moves it there */
  intoCgroup: boolean;
  chain: BuiltChain;
  monitor: Monitor;
  /** parent ends; close() releases them */
  syncFd: number;
  recordsFd: number;
  close(): void;
}

export function launch(req: LaunchRequest): Launched {
  makeNonDumpable();
  const [syncParent, syncChild] = socketPair();
  const [recordsRead, recordsWrite] = pipe();
  setFlFlags(recordsRead, O_NONBLOCK); // drained without blocking (our own open file description)
  const opened: number[] = [];
  let chain: BuiltChain;
  let pid: number;
  try {
    chain = buildChain(req.program, { ...req.fds, sync: syncChild, records: recordsWrite });
    // the namespaces are entered by the engine's clone sequence, on this thread, around clone()
    // only: here they are just opened
    const joins: NamespaceJoin[] = (req.threadJoins ?? []).map((j) => {
      const backFd = files().openSync(`/proc/thread-self/ns/${j.proc}`, 0);
      opened.push(backFd);
      const fd = files().openSync(j.path, 0);
      opened.push(fd);
      return { flag: j.flag, fd, backFd, what: `${j.proc} namespace ${j.path}` };
    });
    if (req.timeOffsets !== undefined) {
      unshare(CLONE_NEWTIME, 'time namespace');
      if (req.timeOffsets) files().writeFileSync('/proc/self/timens_offsets', req.timeOffsets);
    }
    mark('engine: built');
    pid = chain.launch(req.cloneFlags, joins, req.cgroupFd);
    mark('engine: cloned');
  } catch (e) {
    closeFd(syncParent);
    closeFd(recordsRead);
    throw e;
  } finally {
    for (const fd of opened) files().closeSync(fd);
    closeFd(syncChild);
    closeFd(recordsWrite);
  }
  const monitor = new Monitor(chain.steps, syncParent, recordsRead);
  let closed = false;
  return {
    pid,
    intoCgroup: chain.intoCgroup,
    chain,
    monitor,
    syncFd: syncParent,
    recordsFd: recordsRead,
    close() {
      if (closed) return;
      closed = true;
      closeFd(syncParent);
      closeFd(recordsRead);
    },
  };
}

export { libc };
export { clonesIntoCgroups } from './chain';
