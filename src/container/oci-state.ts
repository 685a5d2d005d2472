// The state documents: what hooks get on stdin, and what `state` and `list` print. Kept apart
// from lifecycle.ts (cgroups, signals, hooks) so that `state` and `list` load only this and the store.

import type { State } from '../spec/types';
import { status, type ContainerRecord, type StateStore } from '../state/store';
import { notExist } from './errors';

/** The runtime-spec state of a container, as hooks get it on stdin. */
export function ociState(rec: ContainerRecord, status: State['status']): State {
  const s: State = { ociVersion: rec.ociVersion, id: rec.id, status, bundle: rec.bundle };
  if (rec.pid > 0 && status !== 'stopped') s.pid = rec.pid;
  if (rec.annotations && Object.keys(rec.annotations).length) s.annotations = rec.annotations;
  return s;
}

/** The state as `tsrunc state` prints it: the runtime-spec state plus runc's rootfs/created/owner. */
export function stateOf(store: StateStore, rec: ContainerRecord): Record<string, unknown> {
  const st = status(store, rec);
  const out: Record<string, unknown> = {
    ociVersion: rec.ociVersion,
    id: rec.id,
    pid: st === 'stopped' ? 0 : rec.pid,
    status: st === 'creating' ? 'creating' : st,
    bundle: rec.bundle,
    rootfs: rec.rootfs,
    created: rec.created,
    owner: rec.owner,
  };
  if (rec.annotations && Object.keys(rec.annotations).length) out.annotations = rec.annotations;
  return out;
}

/** The container's record; runc's "does not exist" error when there is none. */
export function readRecord(store: StateStore, id: string): ContainerRecord {
  const rec = store.tryRead(id);
  if (!rec) throw notExist(id);
  return rec;
}

export function containerState(store: StateStore, id: string): Record<string, unknown> {
  return stateOf(store, readRecord(store, id));
}

export function listContainers(store: StateStore): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const id of store.list()) {
    const rec = store.tryRead(id);
    if (rec) out.push(stateOf(store, rec));
  }
  return out;
}
