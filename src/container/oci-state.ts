import type { State } from '../spec/types';
import type { ContainerRecord } from '../state/store';

/** The runtime-spec state of a container, as hooks get it on stdin. */
export function ociState(rec: ContainerRecord, status: State['status']): State {
  const s: State = { ociVersion: rec.ociVersion, id: rec.id, status, bundle: rec.bundle };
  if (rec.pid > 0 && status !== 'stopped') s.pid = rec.pid;
  if (rec.annotations && Object.keys(rec.annotations).length) s.annotations = rec.annotations;
  return s;
}
