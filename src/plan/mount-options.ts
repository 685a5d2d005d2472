// OCI mount options (runtime-spec config-linux "Mount Options" table) → mount(2) flags,
// propagation, mount_setattr(2) attributes and filesystem data.

import { MS, MOUNT_ATTR } from '../linux/constants';

const MS_I_VERSION = 1 << 23;

/** option → [flag, set (true) or clear (false)] */
const FLAGS: Record<string, [number, boolean]> = {
  async: [MS.SYNCHRONOUS, false],
  atime: [MS.NOATIME, false],
  bind: [MS.BIND, true],
  defaults: [0, false],
  dev: [MS.NODEV, false],
  diratime: [MS.NODIRATIME, false],
  dirsync: [MS.DIRSYNC, true],
  exec: [MS.NOEXEC, false],
  iversion: [MS_I_VERSION, true],
  lazytime: [MS.LAZYTIME, true],
  loud: [MS.SILENT, false],
  mand: [MS.MANDLOCK, true],
  noatime: [MS.NOATIME, true],
  nodev: [MS.NODEV, true],
  nodiratime: [MS.NODIRATIME, true],
  noexec: [MS.NOEXEC, true],
  noiversion: [MS_I_VERSION, false],
  nolazytime: [MS.LAZYTIME, false],
  nomand: [MS.MANDLOCK, false],
  norelatime: [MS.RELATIME, false],
  nostrictatime: [MS.STRICTATIME, false],
  nosuid: [MS.NOSUID, true],
  nosymfollow: [MS.NOSYMFOLLOW, true],
  rbind: [MS.BIND | MS.REC, true],
  relatime: [MS.RELATIME, true],
  remount: [MS.REMOUNT, true],
  ro: [MS.RDONLY, true],
  rw: [MS.RDONLY, false],
  silent: [MS.SILENT, true],
  strictatime: [MS.STRICTATIME, true],
  suid: [MS.NOSUID, false],
  sync: [MS.SYNCHRONOUS, true],
  symfollow: [MS.NOSYMFOLLOW, false],
};

const PROPAGATION: Record<string, number> = {
  private: MS.PRIVATE,
  rprivate: MS.PRIVATE | MS.REC,
  shared: MS.SHARED,
  rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE,
  rslave: MS.SLAVE | MS.REC,
  unbindable: MS.UNBINDABLE,
  runbindable: MS.UNBINDABLE | MS.REC,
};

/** recursive options: applied to the whole mount tree with mount_setattr(AT_RECURSIVE) */
const RECURSIVE: Record<string, { set?: number; clear?: number; atime?: number }> = {
  rro: { set: MOUNT_ATTR.RDONLY },
  rrw: { clear: MOUNT_ATTR.RDONLY },
  rnosuid: { set: MOUNT_ATTR.NOSUID },
  rsuid: { clear: MOUNT_ATTR.NOSUID },
  rnodev: { set: MOUNT_ATTR.NODEV },
  rdev: { clear: MOUNT_ATTR.NODEV },
  rnoexec: { set: MOUNT_ATTR.NOEXEC },
  rexec: { clear: MOUNT_ATTR.NOEXEC },
  rnodiratime: { set: MOUNT_ATTR.NODIRATIME },
  rdiratime: { clear: MOUNT_ATTR.NODIRATIME },
  rrelatime: { atime: MOUNT_ATTR.RELATIME },
  rnorelatime: { clear: MOUNT_ATTR._ATIME },
  rnoatime: { atime: MOUNT_ATTR.NOATIME },
  ratime: { clear: MOUNT_ATTR._ATIME },
  rstrictatime: { atime: MOUNT_ATTR.STRICTATIME },
  rnostrictatime: { clear: MOUNT_ATTR._ATIME },
  rnosymfollow: { set: MOUNT_ATTR.NOSYMFOLLOW },
  rsymfollow: { clear: MOUNT_ATTR.NOSYMFOLLOW },
};

export interface ParsedMountOptions {
  flags: number;
  /** flags explicitly cleared (e.g. `rw`, `suid`): matter when a bind mount inherits locked flags */
  cleared: number;
  propagation: number[];
  attrSet: number;
  attrClear: number;
  /** mount_setattr propagation, when a recursive atime mode was given */
  hasRecursive: boolean;
  data: string;
  tmpcopyup: boolean;
  idmap: boolean;
}

export function parseMountOptions(options: readonly string[] = []): ParsedMountOptions {
  const out: ParsedMountOptions = { flags: 0, cleared: 0, propagation: [], attrSet: 0, attrClear: 0, hasRecursive: false, data: '', tmpcopyup: false, idmap: false };
  const data: string[] = [];
  for (const o of options) {
    const f = FLAGS[o];
    if (f) {
      if (f[1]) out.flags |= f[0];
      else {
        out.flags &= ~f[0];
        out.cleared |= f[0];
      }
      continue;
    }
    if (o in PROPAGATION) {
      out.propagation.push(PROPAGATION[o]);
      continue;
    }
    const r = RECURSIVE[o];
    if (r) {
      out.hasRecursive = true;
      if (r.set) out.attrSet |= r.set;
      if (r.clear) out.attrClear |= r.clear;
      if (r.atime !== undefined) {
        out.attrClear |= MOUNT_ATTR._ATIME;
        out.attrSet |= r.atime;
      }
      continue;
    }
    if (o === 'tmpcopyup') out.tmpcopyup = true;
    else if (o === 'idmap' || o === 'ridmap') out.idmap = true;
    else data.push(o);
  }
  out.data = data.join(',');
  return out;
}

/** Every option name tsrunc understands (for the features document). */
export function knownMountOptions(): string[] {
  return [...Object.keys(FLAGS), ...Object.keys(PROPAGATION), ...Object.keys(RECURSIVE), 'tmpcopyup'].sort();
}

/** Flags of a mount that a user namespace locks (they must be kept on a remount). */
export const LOCKED_FLAGS = MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC | MS.NOATIME | MS.NODIRATIME | MS.RELATIME | MS.STRICTATIME;

/** mountinfo option words → MS_* flags (per-mount options only). */
export function mountinfoFlags(opts: string): number {
  let flags = 0;
  for (const o of opts.split(',')) {
    if (o === 'ro') flags |= MS.RDONLY;
    else if (o === 'nosuid') flags |= MS.NOSUID;
    else if (o === 'nodev') flags |= MS.NODEV;
    else if (o === 'noexec') flags |= MS.NOEXEC;
    else if (o === 'noatime') flags |= MS.NOATIME;
    else if (o === 'nodiratime') flags |= MS.NODIRATIME;
    else if (o === 'relatime') flags |= MS.RELATIME;
    else if (o === 'nosymfollow') flags |= MS.NOSYMFOLLOW;
  }
  return flags;
}
