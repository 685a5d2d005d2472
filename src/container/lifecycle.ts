// kill, delete, state and list: the verbs that only look at the state directory and the kernel.
// They must stay cheap (no koffi, no validators): they run on every container stop.

import { cgroupKill, cgroupPids, cgroupsFromDirs, removeCgroupDirs, setFrozen, signalAll } from '../linux/cgroups';
import { freezerState } from '../linux/freezer';
import { SIGNALS, SIGRTMIN, SIGRTMAX } from '../linux/signals';
import { isAlive } from '../linux/proc';
import { errnoMessage } from '../linux/errno';
import { specNeeded, status, type ContainerRecord, type StateStore, type Status } from '../state/store';
import { withLock } from '../state/lock';
import type { Spec } from '../spec/types';
import { ContainerError, notExist } from './errors';
import { ociState, readRecord } from './oci-state';
import { runRuntimeHooks } from './hooks';
import { mark } from '../state/timing';

/**
 * KILL, SIGKILL, 9, RTMIN+3 → signal number; runc's error for an unknown name. A number is taken
 * as it is, as runc does: 0 asks only whether the init is alive, and the kernel refuses numbers
 * that are no signal (EINVAL).
 */
export function parseSignal(s: string): number {
  if (isDigits(s) && Number(s) <= 0x7fffffff) return Number(s);
  const name = s.toUpperCase().startsWith('SIG') ? s.toUpperCase() : `SIG${s.toUpperCase()}`;
  if (SIGNALS[name] !== undefined) return SIGNALS[name];
  const rt = /^SIGRTMIN(?:\+(\d+))?$/.exec(name) ?? /^SIGRTMAX-(\d+)$/.exec(name);
  if (rt) {
    const n = name.startsWith('SIGRTMAX') ? SIGRTMAX - Number(rt[1]) : SIGRTMIN + Number(rt[1] ?? 0);
    if (n >= SIGRTMIN && n <= SIGRTMAX) return n;
  }
  throw new ContainerError(`unknown signal "${s}"`);
}

/** (not a regular expression: compiling one costs ~0.05 ms of a `kill`, which Docker makes for every stop) */
function isDigits(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) < 48 || s.charCodeAt(i) > 57) return false;
  return true;
}

function signalPid(pid: number, sig: number): void {
  try {
    process.kill(pid, sig);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ESRCH') throw new ContainerError('no such process');
    // runc's words: "unable to signal init: invalid argument" (Node's errno is negative, Bun's not)
    throw new ContainerError(`unable to signal init: ${typeof err.errno === 'number' ? errnoMessage(Math.abs(err.errno)) : err.code}`);
  }
}

export async function killContainer(store: StateStore, id: string, signal: string, all: boolean): Promise<void> {
  const sig = parseSignal(signal);
  const rec = readRecord(store, id);
  const st = status(store, rec);
  if (st !== 'created' && st !== 'running' && st !== 'paused') throw new ContainerError('container not running');
  if (all) {
    // every process, through the cgroup (cgroup.kill for SIGKILL where there is one)
    signalAll(cgroupsFromDirs(rec.cgroups.dirs), sig);
    if (st === 'paused' && sig === 9) thaw(rec);
    return;
  }
  signalPid(rec.pid, sig);
}

/** Thaw a frozen container; the hierarchies (mountinfo parsed) are looked up only then. */
function thaw(rec: ContainerRecord): void {
  if (freezerState(rec.cgroups.dirs) === 'thawed') return;
  setFrozen(cgroupsFromDirs(rec.cgroups.dirs), false);
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** The init (or a create's runtime) and every process left in the container's cgroup, if alive. */
function liveProcesses(rec: ContainerRecord): number[] {
  const pids = cgroupPids(rec.cgroups.dirs);
  if (rec.pid > 0 && isAlive(rec.pid, rec.pidStartTime)) pids.push(rec.pid);
  if (rec.creating && isAlive(rec.creating.pid, rec.creating.startTime)) pids.push(rec.creating.pid);
  const live: number[] = [];
  for (const p of pids) if (isAlive(p)) live.push(p); // (not filter: see argv.ts)
  return live;
}

/** SIGKILL the init and everything left in the container's cgroup, and wait until they are gone. */
function killEverything(rec: ContainerRecord): void {
  // the usual delete: everything is gone already (the init exited, and its pid namespace with
  // it). Then there is nothing to thaw or kill, and no cgroup file to look for in every
  // hierarchy (~25 lookups on a cgroup v1 host)
  let live = liveProcesses(rec);
  if (live.length === 0) return;
  thawIfFrozen(rec);
  cgroupKill(rec.cgroups.dirs); // everything at once where cgroup v2 can; the loop below checks
  for (let round = 0; live.length > 0; round++) {
    if (round === 400) throw new ContainerError(`processes of container ${rec.id} survive SIGKILL`);
    for (const p of live) {
      try {
        process.kill(p, 9);
      } catch {
        /* gone */
      }
    }
    sleep(Math.min(1 + round, 10));
    live = liveProcesses(rec);
  }
}

function thawIfFrozen(rec: ContainerRecord): void {
  try {
    thaw(rec);
  } catch {
    /* no freezer */
  }
}

export async function deleteContainer(store: StateStore, id: string, force: boolean, warn: (m: string) => void): Promise<void> {
  mark('delete: loaded');
  await withLock(store.root, id, () => {
    mark('delete: locked');
    const rec = store.tryRead(id);
    if (!rec) {
      // a create that died before writing its state can leave an empty directory behind
      if (store.exists(id)) {
        store.remove(id);
        return;
      }
      if (force) return;
      throw notExist(id);
    }
    const st: Status = status(store, rec);
    if (st !== 'stopped' && !force) throw new ContainerError(`cannot delete container ${id} that is not stopped: ${st}`);
    killEverything(rec);
    destroy(store, rec, warn);
  });
}

/** Remove what create made: cgroups (those it created), the state directory; then poststop hooks. */
export function destroy(store: StateStore, rec: ContainerRecord, warn: (m: string) => void): void {
  let spec: Spec | undefined;
  try {
    // only for poststop hooks: config.json is not read when the record says there are none
    if (specNeeded(rec, 'delete')) spec = store.readSpec<Spec>(rec.id);
  } catch {
    /* a create that died early */
  }
  if (rec.cgroups.systemdUnit) {
    // the scope is systemd's: stop it (its processes are gone by now) and let systemd remove it
    const { stopUnit } = require('../linux/cgroups/systemd') as typeof import('../linux/cgroups/systemd');
    if (!stopUnit(rec.cgroups.systemdUnit, rec.cgroups.dirs[0])) warn(`could not remove cgroups: systemd kept ${rec.cgroups.dirs[0]} (${rec.cgroups.systemdUnit})`);
  }
  mark('delete: no process left, spec read');
  const leaf = new Set(rec.cgroups.dirs);
  const failed: string[] = [];
  for (const f of removeCgroupDirs(rec.cgroups.created)) if (leaf.has(f.slice(0, f.lastIndexOf(':')))) failed.push(f);
  if (failed.length) warn(`could not remove cgroups: ${failed.join(', ')}`);
  mark('delete: cgroups removed');
  store.remove(rec.id);
  mark('delete: state removed');
  // the spec: poststop failures are warnings; the container is gone either way
  runRuntimeHooks('poststop', spec?.hooks?.poststop, ociState(rec, 'stopped'), warn);
}

