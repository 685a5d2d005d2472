// Checks the runtime makes on a container's init from the outside, at a checkpoint, where a branch
// is possible (the init's chain has none): through /proc/PID/fd, which names exactly the objects
// the init holds, whatever its mount namespace and root look like.

import { files } from '../linux/files';
import { FS_MAGIC } from '../linux/constants';
import type { FdCheck } from '../plan/init';
import { ContainerError } from './errors';

const O_CLOEXEC = 0o2000000;

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
        const st = files().stat(p);
        ok = st?.kind === 'char' && st.rdevMajor === 1 && st.rdevMinor === 3;
        seen = !st ? 'ENOENT' : st.kind === 'char' ? `character device ${st.rdevMajor}:${st.rdevMinor}` : 'not a character device';
      } else {
        const type = files().statfsType(p);
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
    fds = files().readdirSync(`/proc/${pid}/fd`);
  } catch (e) {
    throw new ContainerError(`container init: list its fds: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  for (const name of fds) {
    const fd = Number(name);
    if (fd < 3 + passFds) continue;
    let flags = O_CLOEXEC;
    try {
      const m = /^flags:\s*([0-7]+)/m.exec(files().readFileSync(`/proc/${pid}/fdinfo/${fd}`));
      if (m) flags = parseInt(m[1], 8);
    } catch {
      continue; // closed meanwhile
    }
    if ((flags & O_CLOEXEC) === 0) {
      let target = '?';
      try {
        target = files().readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        /* gone */
      }
      throw new ContainerError(`container init: fd ${fd} (${target}) would survive into the container (not close-on-exec) — refusing to go on`);
    }
  }
}
