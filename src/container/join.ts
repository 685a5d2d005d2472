// Start a process inside a running (or being created) container: it is cloned into the
// container's cgroup v2 directory, moves itself into the v1 ones, enters the init's namespaces,
// is put into what is left at its checkpoint, and executes. Used by the hooks that run in the
// container namespace, and by exec.

import { files } from '../linux/files';
import { NAMESPACES, O } from '../linux/constants';
import { joinCgroups, type ContainerCgroup } from '../linux/cgroups';
import { killPid, waitChild, type WaitResult } from '../linux/libc';
import { isAlive } from '../linux/proc';
import { describeErrno } from '../linux/errno';
import { planJoin } from '../plan/join';
import type { StdioFact } from '../plan/facts';
import type { CompiledFilter } from '../plan/process';
import { clonesIntoCgroups, launch, type ThreadJoin } from '../spawn/launch';
import { RECORD } from '../spawn/program';
import type { NamespaceType, Process } from '../spec/types';
import { ContainerError } from './errors';
import { faultPoint } from './fault';

export interface JoinRequest {
  initPid: number;
  /** the container's namespace types (joined-by-path ones included: /proc/<init>/ns has them) */
  namespaces: NamespaceType[];
  process: Process;
  mode: 'container' | 'hook';
  /** hooks: the program to execute (hook.path) */
  execPath?: string;
  /** parent fds for the process's 0, 1, 2 (null: inherit the runtime's) */
  stdio?: [number | null, number | null, number | null];
  stdioFacts: [StdioFact, StdioFact, StdioFact];
  capLastCap: number;
  cgroups?: ContainerCgroup[];
  seccomp?: CompiledFilter | null;
  home?: string;
  /** more parent fds for kept slots: `console` (with terminal), `pass0`.. (with passFds) */
  extraFds?: Record<string, number>;
  terminal?: boolean;
  passFds?: number;
  apparmorProfile?: string;
  /** called at the "terminal" checkpoint (the pty master was sent, the program has not run) */
  onTerminal?: () => void;
}

/** Start the process; returns its pid once it has executed (or throws, with nothing left running). */
export function spawnJoined(req: JoinRequest): number {
  const own = (t: NamespaceType) => nsId(`/proc/self/ns/${NAMESPACES[t].proc}`);
  const target = (t: NamespaceType) => `/proc/${req.initPid}/ns/${NAMESPACES[t].proc}`;
  // only enter namespaces the container does not share with us (setns to our own is pointless,
  // and for the mount namespace it would reset our root)
  const types = req.namespaces.filter((t) => t !== 'pid' && own(t) !== nsId(target(t)));
  const pidJoin: ThreadJoin[] = req.namespaces.includes('pid') && own('pid') !== nsId(target('pid'))
    ? [{ flag: NAMESPACES.pid.flag, path: target('pid'), proc: 'pid_for_children' }]
    : [];
  const stdioSlots = (req.stdio ?? [null, null, null]).map((fd, i) => (fd === null ? null : `stdio${i}`)) as [string | null, string | null, string | null];
  // none through the kernel's global cgroup locks when it can be helped (docs/cgroups.md,
  // "Joining"): the process moves itself into the v1 directories (they have `tasks`) and is
  // cloned into the cgroup v2 one; this process moves it into what is left at its checkpoint
  const selfJoined = (req.cgroups ?? []).filter((c) => files().existsSync(`${c.dir}/tasks`));
  let runtimeJoins = (req.cgroups ?? []).filter((c) => !selfJoined.includes(c));
  const v2 = runtimeJoins.filter((c) => files().existsSync(`${c.dir}/cgroup.controllers`));
  const cloneInto = v2.length === 1 && clonesIntoCgroups() ? v2[0] : undefined;
  const plan = planJoin({
    namespaces: types,
    process: req.process,
    capLastCap: req.capLastCap,
    stdio: req.stdioFacts,
    stdioSlots,
    seccomp: req.seccomp,
    home: req.home,
    mode: req.mode,
    execPath: req.execPath,
    terminal: req.terminal,
    terminalCheckpoint: !!req.onTerminal,
    passFds: req.passFds,
    apparmorProfile: req.apparmorProfile,
    selfJoinCgroups: selfJoined.map((c) => c.dir),
  });
  const fds: Record<string, number> = { ...req.extraFds };
  const opened: number[] = [];
  try {
    for (const t of types) {
      const fd = files().openSync(target(t), 0);
      opened.push(fd);
      fds[`ns:${t}`] = fd;
    }
    for (const [i, fd] of (req.stdio ?? []).entries()) if (fd !== null) fds[`stdio${i}`] = fd;
    if (plan.lookup.candidates.length === 0) throw new ContainerError(`exec: "${plan.lookup.name}": executable file not found in $PATH`);
    const lookupError = (): ContainerError | null => {
      // the lookup ran as the process's user: name a missing executable as runc does
      const results = new Map<number, number>();
      for (const r of child.monitor.records) {
        const tag = child.chain.steps[r.step]?.tag;
        if (r.kind === RECORD.STEP && tag?.startsWith('lookup:')) results.set(Number(tag.slice(7)), r.errno);
      }
      if (results.size === 0 || [...results.values()].some((e) => e === 0)) return null;
      const name = plan.lookup.name;
      if (plan.lookup.direct) return new ContainerError(`exec: "${name}": stat ${name}: ${describeErrno(results.get(0) ?? 2)}`);
      return new ContainerError(`exec: "${name}": executable file not found in $PATH`);
    };
    const cgroupFd = cloneInto ? files().openSync(cloneInto.dir, O.PATH | O.DIRECTORY) : undefined;
    if (cgroupFd !== undefined) opened.push(cgroupFd);
    const child = launch({ program: plan.program, fds, cloneFlags: 0, threadJoins: pidJoin, cgroupFd });
    if (child.intoCgroup) runtimeJoins = runtimeJoins.filter((c) => c !== cloneInto);
    const fault = req.mode === 'hook' ? 'hook' : 'exec';
    faultPoint(`${fault}:launched`);
    try {
      const res = child.monitor.run({
        onCheckpoint: (name) => {
          faultPoint(`${fault}:${name}`);
          if (name === 'terminal') req.onTerminal?.();
          else joinCgroups(runtimeJoins, child.pid);
        },
        onResumed: (name) => faultPoint(`${fault}:after:${name}`),
        alive: () => isAlive(child.pid),
      });
      if (res.kind === 'failed') throw new ContainerError(res.failure.message);
      // EOF: the process executed, or it died; exec records tell which attempt failed and why
      const execFails = child.monitor.records.filter((r) => r.kind === RECORD.EXEC);
      if (execFails.length === plan.lookup.candidates.length) {
        const notFound = lookupError();
        if (notFound) throw notFound;
        const errno = execFails.some((r) => r.errno === 13) ? 13 : execFails[execFails.length - 1].errno;
        throw new ContainerError(`exec: "${plan.lookup.name}": ${describeErrno(errno)}`);
      }
      faultPoint(`${fault}:executed`);
      return child.pid;
    } catch (e) {
      killPid(child.pid, 9);
      waitChild(child.pid);
      throw e;
    } finally {
      child.close();
    }
  } finally {
    for (const fd of opened) files().closeSync(fd);
  }
}

function nsId(p: string): string {
  try {
    return files().readlinkSync(p);
  } catch {
    return p;
  }
}

/** Wait for a child we started, up to timeoutMs (0: no limit); kill it when the time is up. */
export function waitWithTimeout(pid: number, timeoutMs: number): WaitResult & { timedOut?: boolean } {
  const deadline = timeoutMs > 0 ? Date.now() + timeoutMs : Infinity;
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  for (let delay = 1; ; delay = Math.min(delay * 2, 20)) {
    const r = waitChild(pid, true);
    if (r) return r;
    if (Date.now() > deadline) {
      killPid(pid, 9);
      return { ...(waitChild(pid) ?? { pid }), timedOut: true };
    }
    Atomics.wait(sleeper, 0, 0, delay);
  }
}
