// --pidfd-socket: send a pidfd of the new process over a unix socket (SCM_RIGHTS), so that a
// supervisor can wait for it and signal it without pid reuse races.

import { closeFd, killPid, pidfdOpen } from '../linux/libc';
import { ContainerError, errorMessage } from './errors';

export function sendPidfd(socketPath: string, pid: number): void {
  const { connectUnix, sendFds } = require('../linux/scm') as typeof import('../linux/scm');
  let pidfd = -1;
  let sock = -1;
  try {
    pidfd = pidfdOpen(pid);
    sock = connectUnix(socketPath);
    sendFds(sock, Buffer.from('pidfd'), [pidfd]);
  } catch (e) {
    killPid(pid, 9);
    throw new ContainerError(`--pidfd-socket ${socketPath}: ${errorMessage(e)}`);
  } finally {
    if (pidfd >= 0) closeFd(pidfd);
    if (sock >= 0) closeFd(sock);
  }
}
