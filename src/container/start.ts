// start: release the init waiting on the exec FIFO, and report how its exec went.
//
// The init's remaining records (seccomp, exec attempts) arrive through the FIFO; EOF means the
// FIFO closed, which happens on a successful execve (it is close-on-exec) or when the init died.

import { files } from '../linux/files';
import { describeErrno } from '../linux/errno';
import { isAlive } from '../linux/proc';
import { Monitor } from '../spawn/monitor';
import { RECORD, type Step } from '../spawn/program';
import type { StepInfo } from '../spawn/chain';
import { specNeeded, status, type ContainerRecord, type StateStore } from '../state/store';
import { withLock } from '../state/lock';
import type { Spec } from '../spec/types';
import { ContainerError, notExist } from './errors';
import { ociState } from './oci-state';
import { runContainerHooks, runRuntimeHooks } from './hooks';
import { getFdFlags, getFlFlags } from '../linux/libc';
import { mark, markInitTimestamps } from '../state/timing';
import { faultPoint } from './fault';

export interface StartOptions {
  store: StateStore;
  id: string;
  warn?: (msg: string) => void;
}

const O_RDONLY = 0;
const O_NONBLOCK = 0o4000;

export async function startContainer(opts: StartOptions): Promise<ContainerRecord> {
  // (not made non-dumpable here: start enters no namespace of the container, and loading koffi
  // for it cost ~2 ms of every start; a startContainer hook is joined through launch(), which is)
  return withLock(opts.store.root, opts.id, () => startLocked(opts));
}

export function startLocked(opts: StartOptions): ContainerRecord {
  const { store, id } = opts;
  const rec = store.tryRead(id);
  if (!rec) throw notExist(id);
  const st = status(store, rec);
  if (st === 'stopped') throw new ContainerError('cannot start a container that has stopped');
  if (st === 'running' || st === 'paused') throw new ContainerError('cannot start an already running container');
  if (st !== 'created') throw new ContainerError(`cannot start a container in the ${st} state`);
  faultPoint('start:locked');
  // config.json only when this start needs something of it (the record says; ~0.3 ms for Docker's)
  const spec = specNeeded(rec, 'start') ? store.readSpec<Spec>(id) : undefined;
  if (spec && !spec.process) {
    // runtime.md "start": without a process, start MUST generate an error; the init goes away
    try {
      process.kill(rec.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
    throw new ContainerError('cannot start a container without a process: config.json has none');
  }

  if (spec?.hooks?.startContainer?.length) {
    faultPoint('start:hooks');
    try {
      runStartContainerHooks(spec, rec);
    } catch (e) {
      // the spec: a failing startContainer hook stops the container
      try {
        process.kill(rec.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
      throw e;
    }
  }

  let fd: number;
  try {
    fd = files().openSync(store.fifoPath(id), O_RDONLY | O_NONBLOCK);
  } catch (e) {
    throw new ContainerError(`open exec fifo: ${(e as NodeJS.ErrnoException).code}`);
  }
  faultPoint('start:opened');
  // the init is released now: from here on the container is running (or stopped, if its exec
  // fails). The FIFO goes at once, so that a start killed from now on cannot leave a running
  // program behind a state that says "created" (the FIFO we hold open stays usable)
  try {
    files().unlinkSync(store.fifoPath(id));
  } catch {
    /* already removed */
  }
  faultPoint('start:unlinked');
  let monitor: Monitor;
  try {
    const steps: StepInfo[] = [];
    for (const s of rec.startSteps ?? []) steps[s.index] = { ...s, op: s.op as Step['op'] };
    monitor = new Monitor(steps, fd, null);
    monitor.resumeAfter(rec.startFrom ?? -1);
    const res = monitor.run({ alive: () => isAlive(rec.pid, rec.pidStartTime), timeoutMs: 60000, onWarning: opts.warn });
    if (res.kind === 'failed') throw new ContainerError(`unable to start container process: ${res.failure.message}`);
    const execFails: typeof monitor.records = [];
    for (const r of monitor.records) if (r.kind === RECORD.EXEC) execFails.push(r); // (not filter: see argv.ts)
    if (execFails.length > 0 && execFails.length >= (rec.execAttempts ?? 1)) {
      const errno = execFails.some((r) => r.errno === 13) ? 13 : execFails[execFails.length - 1].errno;
      const program = (spec ?? store.readSpec<Spec>(id)).process?.args?.[0];
      throw new ContainerError(`unable to start container process: exec: "${program}": ${describeErrno(errno)}`);
    }
    if (monitor.records.length === 0 && !isAlive(rec.pid, rec.pidStartTime)) {
      throw new ContainerError('unable to start container process: the container init died before start');
    }
  } finally {
    files().closeSync(fd);
  }
  faultPoint('start:executed');
  mark('start: program executed');
  markInitTimestamps(monitor.timestamps);
  // the spec: a failing poststart hook is logged as a warning, and the lifecycle goes on
  runRuntimeHooks('poststart', spec?.hooks?.poststart, ociState(rec, 'running'), opts.warn ?? (() => {}));
  return rec;
}

function runStartContainerHooks(spec: Spec, rec: ContainerRecord): void {
  // the engine and the planner load only for these hooks: a plain start never needs them
  const { spawnJoined, waitWithTimeout } = require('./join') as typeof import('./join');
  const capLastCap = Number(files().readFileSync('/proc/sys/kernel/cap_last_cap'));
  const stdioFacts = [0, 1, 2].map((fd) => ({ cloexec: (getFdFlags(fd) & 1) !== 0, fl: getFlFlags(fd) })) as [never, never, never];
  runContainerHooks('startContainer', spec.hooks?.startContainer, ociState(rec, 'created'), (hook, stdin, out, timeoutMs) => {
    const pid = spawnJoined({
      initPid: rec.pid,
      namespaces: (spec.linux?.namespaces ?? []).map((n) => n.type),
      process: { args: hook.args ?? [hook.path], env: hook.env ?? [], cwd: '/', user: { uid: 0, gid: 0 } },
      mode: 'hook',
      execPath: hook.path,
      stdio: [stdin, out, out],
      stdioFacts,
      capLastCap,
    });
    return waitWithTimeout(pid, timeoutMs);
  });
}
