// The state directory under --root: one folder per container holding state.json (written
// atomically: temp file + rename), the exec FIFO while the container waits for `start`, and a copy
// of the config the later verbs need (hooks, exec defaults). Status is derived, never trusted:
// see status().

import { files } from '../linux/files';
import path = require('../linux/path');
import { freezerState } from '../linux/freezer';
import { isAlive, liveStat } from '../linux/proc';

export const STATE_VERSION = 1;

export interface ContainerRecord {
  version: number;
  id: string;
  ociVersion: string;
  bundle: string;
  rootfs: string;
  /** host pid of the container's init (0 while creating) */
  pid: number;
  /** its start time (/proc/PID/stat field 22): a reused pid is never mistaken for the init */
  pidStartTime?: string;
  /** RFC 3339 with nanoseconds, UTC */
  created: string;
  owner: string;
  annotations?: Record<string, string>;
  /** set while `create` is running; the creator's pid and start time tell whether it still is */
  creating?: { pid: number; startTime: string };
  /** the container's cgroup directories, and the ones create made (delete removes only those) */
  cgroups: { dirs: string[]; created: string[]; systemdUnit?: string };
  /** the init's records after the "ready" checkpoint: start names a failing step with them */
  startSteps?: Array<{ index: number; desc: string; op: string; check?: string; tag?: string }>;
  /** index of the "started" step: start's records begin after it */
  startFrom?: number;
  /** how many exec attempts the init makes (one per PATH candidate) */
  execAttempts?: number;
  /** stopped: the container's init failed to exec during start (a record of why) */
  startError?: string;
  /** the namespaces the container uses, as config.json lists them (exec and hooks join them) */
  namespaces?: Array<{ type: string; path?: string }>;
  /**
   * What start and delete need of config.json, so that they read and parse it (~0.3 ms for
   * Docker's) only when it matters: the hook kinds it lists after create, and whether it has a
   * process. Absent in records of earlier versions: then they read it.
   */
  later?: { hooks: Array<'startContainer' | 'poststart' | 'poststop'>; process: boolean };
}

/** config.json, if start or delete needs it for `what` (always, for a record without `later`). */
export function specNeeded(rec: ContainerRecord, what: 'start' | 'delete'): boolean {
  if (!rec.later) return true;
  if (what === 'delete') return rec.later.hooks.includes('poststop');
  return !rec.later.process || rec.later.hooks.includes('startContainer') || rec.later.hooks.includes('poststart');
}

export type Status = 'creating' | 'created' | 'running' | 'paused' | 'stopped';

export const DEFAULT_ROOT = '/run/tsrunc';

/** the command name of a container's init until it executes the program (set by its chain) */
export const INIT_COMM = 'tsrunc:[init]';

const ID_RE = /^[\w+\-.]+$/;

export function validateId(id: string): void {
  if (!id || !ID_RE.test(id) || id === '.' || id === '..') throw new Error(`invalid container id "${id}": use letters, digits and _+-.`);
}

export class StateStore {
  constructor(readonly root: string) {}

  dir(id: string): string {
    return path.join(this.root, id);
  }

  fifoPath(id: string): string {
    return path.join(this.dir(id), 'exec.fifo');
  }

  specPath(id: string): string {
    return path.join(this.dir(id), 'config.json');
  }

  exists(id: string): boolean {
    return files().existsSync(path.join(this.dir(id), 'state.json')) || files().existsSync(this.dir(id));
  }

  /**
   * Claim the id: the directory is made under a temporary name, locked, and renamed into place
   * with RENAME_NOREPLACE — so of two creates of one id exactly one wins, and no other command
   * ever sees the new container unlocked. Returns the lock's release.
   */
  claim(id: string): () => void {
    files().mkdirSync(this.root, 0o711, true);
    const { lockDir } = require('./lock') as typeof import('./lock');
    const { renameNoReplace } = require('../linux/libc') as typeof import('../linux/libc');
    const tmp = path.join(this.root, `.${id}.${process.pid}.new`);
    files().mkdirSync(tmp, 0o711);
    const release = lockDir(tmp)!;
    try {
      renameNoReplace(tmp, this.dir(id));
    } catch (e) {
      release();
      files().rmdirSync(tmp);
      if ((e as { errno?: number }).errno === 17) throw new Error(`container with id ${id} already exists`);
      throw e;
    }
    return release;
  }

  read(id: string): ContainerRecord {
    let text: string;
    try {
      text = files().readFileSync(path.join(this.dir(id), 'state.json'));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        throw Object.assign(new Error(`container ${id} does not exist`), { code: 'ENOTFOUND' });
      }
      throw e;
    }
    return JSON.parse(text) as ContainerRecord;
  }

  tryRead(id: string): ContainerRecord | null {
    try {
      return this.read(id);
    } catch {
      return null;
    }
  }

  write(rec: ContainerRecord): void {
    writeFileAtomic(path.join(this.dir(rec.id), 'state.json'), JSON.stringify(rec));
  }

  writeSpec(id: string, spec: unknown): void {
    writeFileAtomic(this.specPath(id), JSON.stringify(spec));
  }

  readSpec<T>(id: string): T {
    return JSON.parse(files().readFileSync(this.specPath(id))) as T;
  }

  remove(id: string): void {
    files().removeTree(this.dir(id));
  }

  list(): string[] {
    try {
      const ids: string[] = [];
      for (const name of files().directoriesIn(this.root)) if (!name.startsWith('.')) ids.push(name); // (not filter: see argv.ts)
      return ids.sort();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
  }
}

/** Write via a temp file in the same directory and rename(2): readers see the old or the new file, never half of one. */
export function writeFileAtomic(file: string, data: string, mode = 0o600): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  files().writeFileSync(tmp, data, mode);
  files().renameSync(tmp, file);
}

/**
 * The status, derived from the kernel: the init's pid must be alive and the same process (start
 * time) — else stopped; alive with the exec FIFO still there → created (waiting for start);
 * frozen → paused; otherwise running.
 */
export function status(store: StateStore, rec: ContainerRecord): Status {
  if (rec.creating) return isAlive(rec.creating.pid, rec.creating.startTime) ? 'creating' : 'stopped';
  const init = liveStat(rec.pid, rec.pidStartTime); // (one read of its stat for both questions)
  if (!init) return 'stopped';
  // created: waiting for start, still the runtime's chain (its name says so until it executes
  // the program); a FIFO left by a start that was killed does not make a running program "created"
  if (files().existsSync(store.fifoPath(rec.id)) && init.comm === INIT_COMM) return 'created';
  if (freezerState(rec.cgroups.dirs) === 'frozen') return 'paused';
  return 'running';
}

/** RFC 3339 with nanoseconds in UTC, as Go's time.RFC3339Nano formats it (trailing zeros trimmed). */
export function rfc3339Nano(epochNs: bigint): string {
  const ms = Number(epochNs / 1000000n);
  const iso = new Date(ms).toISOString(); // 2026-11-22T07:38:55.123Z
  const frac = (epochNs % 1000000000n).toString().padStart(9, '0').replace(/0+$/, '');
  return `${iso.slice(0, 19)}${frac ? '.' + frac : ''}Z`;
}

export function nowNs(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
}
