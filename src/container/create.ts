// create: everything up to the point where the container's init waits for `start`.
//
// Order matters for "nothing half-created": the state directory is claimed first (atomically, so
// two creates of one id cannot both win) and records everything made from then on (cgroups, the
// FIFO, the init's pid), so that a failure here rolls it all back, and a create killed midway
// leaves a record that `delete --force` can clean up. The init itself cannot outlive a dead
// create: it waits for the parent's go byte at every checkpoint and dies on EOF.

import type * as NodeFs from 'node:fs';
import { files } from '../linux/files';
import path = require('../linux/path');
import { applyResources, containerCgroups, createCgroups, enterCgroups, missingCgroupDirs, removeCgroupDirs, usesSystemd, type ContainerCgroup } from '../linux/cgroups';
import { NAMESPACES, O } from '../linux/constants';
import { clearOnlcr, closeFd, killPid, mkfifo, socketPair, waitChild } from '../linux/libc';
import { isAlive, procStat } from '../linux/proc';
import { hostArch } from '../linux/arch';
import { initFactQueries, initJoinsOwnCgroups, planInit, type InitPlan } from '../plan/init';
import type { CompiledFilter } from '../plan/process';
import type { HostFacts } from '../plan/facts';
import { clonesIntoCgroups, launch, makeNonDumpable, type Launched, type ThreadJoin } from '../spawn/launch';
import { RECORD } from '../spawn/program';
import { STATE_VERSION, StateStore, nowNs, rfc3339Nano, validateId, writeFileAtomic, type ContainerRecord } from '../state/store';
import { withLock } from '../state/lock';
import { warmMigrationLock } from '../linux/cgroups/warm';
import type { NamespaceType, Spec } from '../spec/types';
import { loadBundle, type Bundle } from './bundle';
import { ContainerError, errorMessage } from './errors';
import { gatherFacts } from './facts';
import { ociState } from './oci-state';
import { mark, markInitTimestamps } from '../state/timing';
import { runContainerHooks, runRuntimeHooks } from './hooks';
import { describeErrno } from '../linux/errno';
import { faultPoint } from './fault';
import { verifyCloseOnExec, verifyInitFds } from './verify';
import { SeccompCache } from './seccomp-cache';

export interface CreateOptions {
  store: StateStore;
  id: string;
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  noPivot?: boolean;
  preserveFds?: number;
  /** --systemd-cgroup: the cgroup is a transient systemd scope (cgroupsPath slice:prefix:name) */
  systemdCgroup?: boolean;
  pidfdSocket?: string;
  /** run in the foreground with a terminal and no console socket: keep the pty master */
  proxyTerminal?: boolean;
  warn?: (msg: string) => void;
  debug?: (msg: string) => void;
}

export interface Created {
  rec: ContainerRecord;
  spec: Spec;
  /** the init is our child until we exit (run waits for it) */
  pid: number;
  /** the pty master, when proxyTerminal asked for it */
  consoleProxy?: number;
}

export function compileFilter(spec: Spec, warn?: (m: string) => void, cache?: SeccompCache): CompiledFilter | null {
  const profile = spec.linux?.seccomp;
  if (!profile) return null;
  let f = cache?.lookup(profile) ?? null;
  if (!f) {
    const { compileSeccomp, deniedChainSyscalls } = require('../linux/seccomp') as typeof import('../linux/seccomp');
    const c = compileSeccomp(profile, { nativeArch: hostArch().name });
    // the init keeps running libc code after installing the filter (docs/seccomp.md)
    const denied = deniedChainSyscalls(profile, hostArch().name);
    f = { program: c.program, flags: c.flags, instructions: c.instructions, notify: c.usesNotify, denied };
    if (!denied.includes('rt_sigprocmask')) cache?.keep(profile, f);
  }
  if (f.denied.includes('rt_sigprocmask')) throw new ContainerError('linux.seccomp: the profile denies rt_sigprocmask, which the container\'s init needs between its last steps (after the filter is installed)');
  if (f.denied.length) warn?.(`linux.seccomp: the profile does not allow ${f.denied.join(', ')}, which the container's init may still call after installing the filter`);
  return { program: f.program, flags: f.flags, instructions: f.instructions, notify: f.notify };
}

/**
 * How the init gets into each cgroup, none of it through the kernel's global cgroup locks when it
 * can be helped (docs/cgroups.md, "Joining"): it is cloned into the cgroup v2 one (`cloneInto`,
 * clone3's CLONE_INTO_CGROUP) and moves itself into the v1 ones (`selfJoined`, plan/init.ts);
 * this process moves it into the rest (`runtimeJoins`: systemd's scope, the v1 ones when the init
 * cannot, the v2 one when the kernel refuses the clone).
 */
export function cgroupJoins(spec: Spec, cgroups: ContainerCgroup[]): { selfJoined: ContainerCgroup[]; runtimeJoins: ContainerCgroup[]; cloneInto?: ContainerCgroup } {
  if (usesSystemd(cgroups)) return { selfJoined: [], runtimeJoins: cgroups };
  const selfJoined = initJoinsOwnCgroups(spec) ? cgroups.filter((c) => c.hierarchy.version === 1) : [];
  const v2 = cgroups.find((c) => c.hierarchy.version === 2);
  const cloneInto = v2 && clonesIntoCgroups() ? v2 : undefined;
  return { selfJoined, cloneInto, runtimeJoins: cgroups.filter((c) => !selfJoined.includes(c)) };
}

/** Checks that need the host, before anything is made. */
function checkHostSupport(spec: Spec, facts: Pick<HostFacts, 'apparmor' | 'selinux'>, warn?: (m: string) => void): void {
  // a mount label only means something to SELinux: without it there is nothing to label (as crun)
  if (spec.linux?.mountLabel && !facts.selinux) warn?.(`linux.mountLabel ${spec.linux.mountLabel} ignored: SELinux is not enabled on this host`);
  const p = spec.process;
  if (!p) return;
  if (p.apparmorProfile && !facts.apparmor) throw new ContainerError(`process.apparmorProfile ${p.apparmorProfile}: AppArmor is not enabled on this host`);
  if (p.selinuxLabel && !facts.selinux) throw new ContainerError(`process.selinuxLabel ${p.selinuxLabel}: SELinux is not enabled on this host`);
  if (p.selinuxLabel && facts.selinux) throw new ContainerError('process.selinuxLabel: SELinux labels are not supported by tsrunc yet');
}

export async function createContainer(opts: CreateOptions): Promise<Created> {
  makeNonDumpable(); // from the start: the init is cloned from this process and inherits it
  validateId(opts.id);
  mark('create: start');
  // a profile seen before (every Docker container has the same) is neither checked nor compiled again
  const seccompCache = new SeccompCache(opts.store.root);
  const bundle = loadBundle(opts.bundle, opts.warn, (profile) => seccompCache.lookup(profile) !== null);
  mark('bundle read and validated');
  checkHostSupport(bundle.spec, { apparmor: files().existsSync('/sys/kernel/security/apparmor'), selinux: files().existsSync('/sys/fs/selinux/enforce') }, opts.warn);
  const filter = compileFilter(bundle.spec, opts.warn, seccompCache);
  mark('seccomp compiled');
  const terminal = !!bundle.spec.process?.terminal;
  if (terminal && !opts.consoleSocket && !opts.proxyTerminal) throw new ContainerError('cannot allocate tty if tsrunc will detach without setting console socket');
  if (!terminal && opts.consoleSocket) throw new ContainerError('cannot use console socket if tsrunc will not allocate tty');
  return withLock(opts.store.root, opts.id, () => createLocked(opts, bundle, filter));
}

function createLocked(opts: CreateOptions, bundle: Bundle, filter: CompiledFilter | null): Created {
  const { store, id } = opts;
  const spec = bundle.spec;
  const unlock = store.claim(id);
  faultPoint('claimed');
  const self = procStat(process.pid);
  const rec: ContainerRecord = {
    version: STATE_VERSION,
    id,
    ociVersion: spec.ociVersion,
    bundle: bundle.dir,
    rootfs: bundle.rootfs,
    pid: 0,
    created: rfc3339Nano(nowNs()),
    owner: '',
    annotations: spec.annotations,
    creating: { pid: process.pid, startTime: self?.startTime ?? '' },
    cgroups: { dirs: [], created: [] },
    namespaces: (spec.linux?.namespaces ?? []).map((n) => ({ ...n })),
    later: {
      hooks: (['startContainer', 'poststart', 'poststop'] as const).filter((k) => (spec.hooks?.[k]?.length ?? 0) > 0),
      process: !!spec.process,
    },
  };
  let child: Launched | undefined;
  let fifoFd = -1;
  let notify: [number, number] | undefined;
  let hostProcFd = -1;
  let cgroupFd = -1;
  let consoleFd = -1;
  let proxyEnd = -1;
  let consoleProxy: number | undefined;
  const openedNs: number[] = [];
  try {
    const cgroups = containerCgroups(spec.linux?.cgroupsPath, id, opts.systemdCgroup);
    rec.cgroups.dirs = cgroups.map((c) => c.dir);
    if (usesSystemd(cgroups)) rec.cgroups.systemdUnit = cgroups[0].systemd!.unit;
    // the directories about to be made are recorded first: a create killed while making them (or
    // before the next write) leaves delete --force a list that covers them (removing one that is
    // not there is fine). Each write replaces state.json by rename, which on a disk filesystem
    // costs up to ~3 ms (ext4 flushes the new file): the record is written only when it must be.
    rec.cgroups.created = missingCgroupDirs(cgroups);
    store.write(rec);
    store.writeSpec(id, spec);
    faultPoint('recorded');
    rec.cgroups.created = createCgroups(cgroups);
    mark('cgroups created');
    const joins = cgroupJoins(spec, cgroups);
    const { selfJoined, cloneInto } = joins;
    let runtimeJoins = joins.runtimeJoins;
    // not before the directories: while the warm-up waits for its grace period it holds
    // cgroup_mutex, and every mkdir in any hierarchy waits with it (~6 ms instead of ~1.5)
    if (runtimeJoins.some((c) => c !== cloneInto) && !usesSystemd(cgroups)) warmMigrationLock();
    faultPoint('cgroups');
    // limits and device rules hold before the init joins (systemd: once it made the scope, at "mapping")
    if (!usesSystemd(cgroups)) applyResources(cgroups, spec.linux?.resources);

    const fifo = store.fifoPath(id);
    mkfifo(fifo, 0o622);
    files().chmodSync(fifo, 0o622); // mkfifo honours our umask
    fifoFd = files().openSync(fifo, O.PATH);
    faultPoint('fifo');

    const facts = gatherFacts(spec, bundle.rootfs, initFactQueries(spec), cgroups);
    mark('host facts gathered');
    const passFds = (opts.preserveFds ?? 0) + listenFds();
    if (listenFds() > 0 && spec.process) spec.process.env = [...(spec.process.env ?? []), `LISTEN_FDS=${listenFds()}`];
    const terminal = !!spec.process?.terminal;
    const plan = planInit({ spec, rootfs: bundle.rootfs, facts, noPivot: opts.noPivot, seccomp: filter, passFds, terminal, selfJoinCgroups: selfJoined.map((c) => c.dir) });
    mark(`planned (${plan.program.steps.length} steps)`);
    for (const w of plan.warnings) opts.warn?.(w);
    for (const n of plan.notes) opts.debug?.(n);
    const fds: Record<string, number> = { fifo: fifoFd };
    if (plan.needsHostProc) {
      hostProcFd = files().openSync('/proc', O.PATH | O.DIRECTORY);
      fds.hostproc = hostProcFd;
    }
    if (filter?.notify) {
      notify = socketPair();
      fds.notify = notify[1];
    }
    for (let i = 0; i < passFds; i++) fds[`pass${i}`] = 3 + i;
    if (terminal) {
      if (opts.consoleSocket) {
        const { connectUnix } = require('../linux/scm') as typeof import('../linux/scm');
        try {
          consoleFd = connectUnix(opts.consoleSocket);
        } catch (e) {
          throw new ContainerError(`--console-socket: ${errorMessage(e)}`);
        }
      } else {
        [proxyEnd, consoleFd] = socketPair();
      }
      fds.console = consoleFd;
    }
    for (const [slot, p] of Object.entries(plan.childJoins)) {
      const fd = openNamespace(p, slot.slice(3) as NamespaceType);
      openedNs.push(fd);
      fds[slot] = fd;
    }
    const threadJoins: ThreadJoin[] = Object.entries(plan.parentJoins).map(([t, p]) => ({
      flag: NAMESPACES[t as NamespaceType].flag,
      path: p!,
      proc: t === 'pid' ? 'pid_for_children' : NAMESPACES[t as NamespaceType].proc,
    }));
    for (const j of threadJoins) checkNamespaceFile(j.path);
    if (cloneInto) cgroupFd = files().openSync(cloneInto.dir, O.PATH | O.DIRECTORY);
    child = launch({ program: plan.program, fds, cloneFlags: plan.cloneFlags, threadJoins, timeOffsets: plan.newTimens ? timeOffsets(spec) : undefined, cgroupFd: cgroupFd >= 0 ? cgroupFd : undefined });
    if (child.intoCgroup) runtimeJoins = runtimeJoins.filter((c) => c !== cloneInto);
    mark(`chain built and cloned (${child.chain.contexts} contexts)`);
    const initPid = child.pid;
    faultPoint('launched');
    opts.debug?.(`init pid ${initPid}: ${plan.program.steps.length} steps, ${child.chain.contexts} contexts`);
    rec.pid = initPid;
    store.write(rec); // a create killed from here on leaves the init's pid for delete --force
    let joinAfterGo = false;
    const res = child.monitor.run({
      stopAt: 'ready',
      alive: () => isAlive(initPid),
      onWarning: (m) => opts.warn?.(m),
      onCheckpoint: (name) => {
        faultPoint(name);
        mark(`checkpoint ${name}`);
        if (name === 'mapping') {
          joinAfterGo = atMapping(spec, plan, initPid, runtimeJoins);
          mark('ids mapped');
        }
        if (name === 'hooks') atHooks(spec, rec, facts, initPid);
        else if (name.startsWith('copyup:')) copyUp(bundle.rootfs, name.slice(7), initPid);
      },
      onResumed: (name) => {
        if (name === 'mapping' && joinAfterGo && runtimeJoins.length) {
          enterCgroups(runtimeJoins, initPid, spec.linux?.resources);
          mark('cgroups joined (the init runs on)');
        }
        faultPoint(`after:${name}`);
      },
    });
    if (res.kind === 'failed') throw new ContainerError(`unable to start container process: ${res.failure.message}`);
    faultPoint('ready');
    if (res.kind === 'eof') throw new ContainerError(`unable to start container process: init ${describeWait(waitChild(initPid))} before it was ready`);
    // the init is about to be released into the container: check what it holds, from outside
    verifyInitFds(initPid, plan.verify);
    verifyCloseOnExec(initPid, passFds);
    if (spec.process) checkLookup(plan, child);
    if (notify) sendSeccompListener(spec, rec, notify[0]);
    if (proxyEnd >= 0) {
      const { recvFds } = require('../linux/scm') as typeof import('../linux/scm');
      consoleProxy = recvFds(proxyEnd, 64).fds[0];
      // the user's terminal translates \n to \r\n already: the container's must not do it too (as runc)
      clearOnlcr(consoleProxy);
    }

    // records after the FIFO opens are read by `start`: keep what it needs to name a failure
    // the last steps: searched from the end (a findIndex over ~350 steps costs ~0.3 ms in the interpreter)
    let started = child.chain.steps.length - 1;
    while (started >= 0 && child.chain.steps[started].desc !== 'timestamp: started') started--;
    rec.startFrom = started;
    rec.startSteps = child.chain.steps.slice(started).map((s) => ({ index: s.index, desc: s.desc, op: s.op, check: s.check }));
    rec.execAttempts = plan.lookup.candidates.length;
    rec.pidStartTime = procStat(initPid)?.startTime;
    delete rec.creating;
    store.write(rec);
    if (opts.pidFile) writeFileAtomic(path.resolve(opts.pidFile), String(initPid), 0o644);
    if (opts.pidfdSocket) {
      const { sendPidfd } = require('./pidfd') as typeof import('./pidfd');
      sendPidfd(opts.pidfdSocket, initPid);
    }
    markInitTimestamps(child.monitor.timestamps);
    mark('ready: state written');
    child.monitor.go(); // the init closes its sync socket and blocks opening the exec FIFO
    faultPoint('created');
    return { rec, spec, pid: initPid, consoleProxy };
  } catch (e) {
    if (child) {
      killPid(child.pid, 9);
      waitChild(child.pid);
    }
    if (rec.cgroups.systemdUnit) {
      // StartTransientUnit may have made the scope (and its cgroup) before the create failed
      const { stopUnit } = require('../linux/cgroups/systemd') as typeof import('../linux/cgroups/systemd');
      if (!stopUnit(rec.cgroups.systemdUnit, rec.cgroups.dirs[0])) opts.warn?.(`cgroups left behind: systemd kept ${rec.cgroups.dirs[0]} (${rec.cgroups.systemdUnit})`);
    }
    // (a parent it made that other containers use now stays, unreported, as delete does)
    const leaf = new Set(rec.cgroups.dirs);
    const left = removeCgroupDirs(rec.cgroups.created).filter((f) => leaf.has(f.slice(0, f.lastIndexOf(':'))));
    store.remove(id);
    if (opts.pidFile && rec.pid) removeIfPid(opts.pidFile, rec.pid);
    if (left.length) opts.warn?.(`cgroups left behind: ${left.join(', ')}`);
    throw e instanceof ContainerError ? e : new ContainerError(errorMessage(e));
  } finally {
    unlock();
    child?.close();
    if (fifoFd >= 0) closeFd(fifoFd);
    if (hostProcFd >= 0) closeFd(hostProcFd);
    if (cgroupFd >= 0) closeFd(cgroupFd);
    if (notify) for (const fd of notify) closeFd(fd);
    if (consoleFd >= 0) closeFd(consoleFd);
    if (proxyEnd >= 0) closeFd(proxyEnd);
    for (const fd of openedNs) files().closeSync(fd);
  }
}

/**
 * At "mapping" the init waits in its new namespaces for its ids and OOM score. It also needs the
 * cgroups this process puts it into (`cgroups`: those it neither was cloned into nor joins
 * itself) before it goes on when it makes a cgroup namespace (whose root is the cgroup it is in),
 * and with systemd, whose scope does not exist until it is started (the init's cgroup mount binds
 * it); otherwise they are joined right after "mapping", while the init mounts its rootfs.
 */
function atMapping(spec: Spec, plan: InitPlan, pid: number, cgroups: ContainerCgroup[]): boolean {
  const linux = spec.linux ?? {};
  if (plan.newUserns) {
    const map = (m: { containerID: number; hostID: number; size: number }[]) => m.map((x) => `${x.containerID} ${x.hostID} ${x.size}\n`).join('');
    writeProc(`/proc/${pid}/uid_map`, map(linux.uidMappings ?? []), 'write uid_map');
    writeProc(`/proc/${pid}/gid_map`, map(linux.gidMappings ?? []), 'write gid_map');
  }
  const adj = spec.process?.oomScoreAdj;
  if (adj !== undefined) writeProc(`/proc/${pid}/oom_score_adj`, String(adj), 'set oom_score_adj');
  const now = cgroupsBeforeInitGoesOn(linux.namespaces ?? [], usesSystemd(cgroups));
  if (now) enterCgroups(cgroups, pid, linux.resources);
  return !now;
}

/** See atMapping: whether the init must be in its cgroups before it leaves "mapping". */
export function cgroupsBeforeInitGoesOn(namespaces: { type: string; path?: string }[], systemd: boolean): boolean {
  return systemd || namespaces.some((n) => n.type === 'cgroup' && !n.path);
}

function writeProc(file: string, data: string, what: string): void {
  try {
    files().writeFileSync(file, data);
  } catch (e) {
    const errno = (e as NodeJS.ErrnoException).errno;
    throw new ContainerError(`${what} ${JSON.stringify(data.trim())}: ${errno ? describeErrno(-errno) : errorMessage(e)}`);
  }
}

/** At "hooks" the namespaces and mounts exist but pivot_root has not happened. */
function atHooks(spec: Spec, rec: ContainerRecord, facts: HostFacts, pid: number): void {
  // runtime.md: "creating" is step 2 of the lifecycle only; these hooks (steps 3-5) see "created"
  const state = ociState({ ...rec, pid }, 'created');
  runRuntimeHooks('prestart', spec.hooks?.prestart, state);
  runRuntimeHooks('createRuntime', spec.hooks?.createRuntime, state);
  runContainerHooks('createContainer', spec.hooks?.createContainer, state, (hook, stdin, out, timeoutMs) => {
    const { spawnJoined, waitWithTimeout } = require('./join') as typeof import('./join'); // hooks only
    const hpid = spawnJoined({
      initPid: pid,
      namespaces: (spec.linux?.namespaces ?? []).map((n) => n.type),
      process: { args: hook.args ?? [hook.path], env: hook.env ?? [], cwd: '/', user: { uid: 0, gid: 0 } },
      mode: 'hook',
      execPath: hook.path,
      stdio: [stdin, out, out],
      stdioFacts: facts.stdio,
      capLastCap: facts.capLastCap,
    });
    return waitWithTimeout(hpid, timeoutMs);
  });
}

/**
 * tmpcopyup: the init has just mounted a tmpfs at `dest`; copy what it hides (the rootfs's
 * directory, as the host still sees it) into it, through the init's root (/proc/PID/root), with
 * modes and owners. Symlinks are copied as symlinks, never followed.
 */
function copyUp(rootfs: string, dest: string, pid: number): void {
  const fs = require('node:fs') as typeof NodeFs; // only for tmpcopyup mounts (files.ts has no copying)
  const from = path.join(rootfs, dest);
  const to = path.join(`/proc/${pid}/root`, rootfs, dest);
  const copy = (src: string, dst: string, top: boolean): void => {
    const st = fs.lstatSync(src);
    if (st.isDirectory()) {
      if (!top) fs.mkdirSync(dst);
      for (const e of fs.readdirSync(src)) copy(path.join(src, e), path.join(dst, e), false);
    } else if (st.isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(src), dst);
    else if (st.isFile()) fs.copyFileSync(src, dst, fs.constants.COPYFILE_EXCL);
    else return; // devices, sockets and fifos are not copied
    fs.lchownSync(dst, st.uid, st.gid);
    if (!st.isSymbolicLink()) fs.chmodSync(dst, st.mode & 0o7777);
  };
  try {
    if (fs.lstatSync(from, { throwIfNoEntry: false })?.isDirectory()) copy(from, to, true);
  } catch (e) {
    throw new ContainerError(`tmpcopyup ${dest}: ${errorMessage(e)}`);
  }
}

/** The lookup ran as the container's user: name the executable that is missing, as runc does. */
function checkLookup(plan: InitPlan, child: Launched): void {
  const results = new Map<number, number>();
  for (const r of child.monitor.records) {
    const tag = child.chain.steps[r.step]?.tag;
    if (r.kind === RECORD.STEP && tag?.startsWith('lookup:')) results.set(Number(tag.slice(7)), r.errno);
  }
  const { lookup } = plan;
  if (lookup.direct) {
    const errno = results.get(0) ?? 2;
    if (errno !== 0) throw new ContainerError(`unable to start container process: exec: "${lookup.name}": stat ${lookup.name}: ${describeErrno(errno)}`);
    return;
  }
  if (!lookup.candidates.some((_, i) => results.get(i) === 0)) {
    throw new ContainerError(`unable to start container process: exec: "${lookup.name}": executable file not found in $PATH`);
  }
}

/**
 * The init sent us its seccomp listener fd: pass it on to the agent at listenerPath, with the
 * container process state (runtime.md "Container process state"), as SCM_RIGHTS.
 */
function sendSeccompListener(spec: Spec, rec: ContainerRecord, sock: number): void {
  const { recvFds, sendFds, connectUnix } = require('../linux/scm') as typeof import('../linux/scm');
  const { fds } = recvFds(sock, 16);
  if (fds.length !== 1) throw new ContainerError(`seccomp notify: expected the listener fd from the container init, got ${fds.length} fds`);
  const listenerPath = spec.linux?.seccomp?.listenerPath ?? '';
  try {
    const conn = connectUnix(listenerPath);
    try {
      const state = { ociVersion: spec.ociVersion, fds: ['seccompFd'], pid: rec.pid, metadata: spec.linux?.seccomp?.listenerMetadata ?? '', state: ociState(rec, 'creating') };
      sendFds(conn, Buffer.from(JSON.stringify(state)), fds);
    } finally {
      closeFd(conn);
    }
  } catch (e) {
    throw new ContainerError(`seccomp notify: send the listener fd to ${listenerPath}: ${errorMessage(e)}`);
  } finally {
    closeFd(fds[0]);
  }
}

function describeWait(w: ReturnType<typeof waitChild>): string {
  if (!w) return 'died';
  return w.signal !== undefined ? `was killed by signal ${w.signal}` : `exited with status ${w.exitCode}`;
}

function openNamespace(p: string, type: NamespaceType): number {
  checkNamespaceFile(p);
  try {
    return files().openSync(p, 0);
  } catch (e) {
    throw new ContainerError(`linux.namespaces: ${type} namespace ${p}: ${(e as NodeJS.ErrnoException).code}`);
  }
}

function checkNamespaceFile(p: string): void {
  if (!files().existsSync(p)) throw new ContainerError(`linux.namespaces: namespace path ${p} does not exist`);
}

function timeOffsets(spec: Spec): string {
  const lines: string[] = [];
  for (const [clock, o] of Object.entries(spec.linux?.timeOffsets ?? {})) lines.push(`${clock} ${o.secs ?? 0} ${o.nanosecs ?? 0}`);
  return lines.join('\n');
}

/** Socket activation (sd_listen_fds): fds 3.. that tsrunc itself was given are passed on. */
export function listenFds(): number {
  const n = Number(process.env.LISTEN_FDS ?? 0);
  if (!n || process.env.LISTEN_PID !== String(process.pid)) return 0;
  return n;
}

function removeIfPid(file: string, pid: number): void {
  try {
    if (files().readFileSync(file) === String(pid)) files().unlinkSync(file);
  } catch {
    /* not ours or gone */
  }
}
