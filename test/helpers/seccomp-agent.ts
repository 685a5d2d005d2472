// A seccomp notify agent for the tests: listens on a unix socket (the container's listenerPath),
// receives the listener fd and the container process state from tsrunc, records the state, and
// answers every notification with a distinctive errno, so the test can tell the agent answered.
//   node seccomp-agent.js SOCKET STATE_OUT ERRNO

import * as fs from 'node:fs';
import * as net from 'node:net';
import { recvFds } from '../../src/linux/scm';
import { libc } from '../../src/linux/libc';

const [socketPath, stateOut, errnoArg] = process.argv.slice(2);
const answerErrno = Number(errnoArg);
const SECCOMP_IOCTL_NOTIF_RECV = 0xc0502100;
const SECCOMP_IOCTL_NOTIF_SEND = 0xc0182101;

const server = net.createServer((conn) => {
  // the connection's fd, to receive SCM_RIGHTS through recvmsg (Node cannot)
  const fd = (conn as unknown as { _handle: { fd: number } })._handle.fd;
  conn.pause();
  const { data, fds } = recvFds(fd);
  fs.writeFileSync(stateOut, JSON.stringify({ message: JSON.parse(data.toString()), fds: fds.length }));
  conn.destroy();
  server.close();
  answer(fds[0]);
});
server.listen(socketPath, () => fs.writeFileSync(`${stateOut}.ready`, ''));

function answer(listener: number): void {
  const lc = libc();
  const ioctl = (fd: number, req: number, arg: Buffer) => lc.ioctl(fd, req, arg);
  const notif = Buffer.alloc(80); // struct seccomp_notif { u64 id; u32 pid; u32 flags; struct seccomp_data data; }
  for (;;) {
    notif.fill(0);
    if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, notif) !== 0) break; // the container is gone
    const resp = Buffer.alloc(24); // struct seccomp_notif_resp { u64 id; s64 val; s32 error; u32 flags; }
    notif.copy(resp, 0, 0, 8);
    resp.writeInt32LE(-answerErrno, 16);
    fs.appendFileSync(stateOut + '.calls', `${notif.readInt32LE(16)}\n`); // seccomp_data.nr
    ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, resp);
  }
  process.exit(0);
}
