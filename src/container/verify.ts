// Checks the runtime makes on a container's init from the outside, at a checkpoint, where a branch
// is possible (the init's chain has none): through /proc/PID/fd, which names exactly the objects
// the init holds, whatever its mount namespace and root look like.

import fs = require('node:fs');
import { FS_MAGIC } from '../linux/constants';
import type { FdCheck } from '../plan/init';
import { ContainerError } from './errors';

const O_CLOEXEC = 0o2000000;
const DEV_NULL_RDEV = (1 << 8) | 3; // makedev(1, 3)

/**
 * The fds the init resolved its masks, read-only paths and sysctls with are what they must be:
 * the procfs and sysfs it mounted itself, and the host's /dev/null (char 1:3).
 */
export function verifyInitFds(pid: number, checks: FdCheck[]): void {
  for (const c of checks) {
    const p = `/proc/${pid}/fd/${c.fd}`;
    let ok = false;
    let seen = '';
    try {
      if (c.expect === 'devnull') {
        const st = fs.statSync(p);
        ok = st.isCharacterDevice() && st.rdev === DEV_NULL_RDEV;
        seen = st.isCharacterDevice() ? `character device ${st.rdev >> 8}:${st.rdev & 0xff}` : 'not a character device';
      } else {
        const type = fs.statfsSync(p).type;
        ok = type === (c.expect === 'procfs' ? FS_MAGIC.PROC : FS_MAGIC.SYSFS);
        seen = `filesystem type 0x${type.toString(16)}`;
      }
    } catch (e) {
      seen = (e as NodeJS.ErrnoException).code ?? String(e);
    }
    if (!ok) throw new ContainerError(`container init: ${c.what} (fd ${c.fd}) is not ${c.expect === 'devnull' ? 'the character device 1:3' : c.expect}: ${seen} — refusing to go on`);
  }
}

/**
 * Every fd the init holds above the stdio and the passed fds is close-on-exec: nothing of the
 * runtime's (state directory, FIFO, sockets, namespace files) can survive into the program.
 */
export function verifyCloseOnExec(pid: number, passFds: number): void {
  let fds: string[];
  try {
    fds = fs.readdirSync(`/proc/${pid}/fd`);
  } catch (e) {
    throw new ContainerError(`container init: list its fds: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  for (const name of fds) {
    const fd = Number(name);
    if (fd < 3 + passFds) continue;
    let flags = O_CLOEXEC;
    try {
      const m = /^flags:\s*([0-7]+)/m.exec(fs.readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'));
      if (m) flags = parseInt(m[1], 8);
    } catch {
      continue; // closed meanwhile
    }
    if ((flags & O_CLOEXEC) === 0) {
      let target = '?';
      try {
        target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        /* gone */
      }
      throw new ContainerError(`container init: fd ${fd} (${target}) would survive into the container (not close-on-exec) — refusing to go on`);
    }
  }
}
