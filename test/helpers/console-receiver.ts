// A --console-socket receiver, as containerd and conmon run one: listens on a unix socket, takes
// the pty master tsrunc sends (SCM_RIGHTS), types `input` into it, and writes everything the
// terminal shows to OUT until the terminal closes.
//   node console-receiver.js SOCKET OUT INPUT

import * as fs from 'node:fs';
import * as net from 'node:net';
import { recvFds } from '../../src/linux/scm';

const [socketPath, out, input] = process.argv.slice(2);
const server = net.createServer((conn) => {
  const fd = (conn as unknown as { _handle: { fd: number } })._handle.fd;
  conn.pause();
  const { data, fds } = recvFds(fd);
  fs.writeFileSync(`${out}.name`, data.toString());
  server.close();
  const master = fds[0];
  fs.writeSync(master, input.replace(/\\n/g, '\n'));
  const buf = Buffer.alloc(4096);
  const read = () =>
    fs.read(master, buf, 0, buf.length, null, (err, n) => {
      if (err || n === 0) process.exit(0);
      fs.appendFileSync(out, buf.subarray(0, n));
      read();
    });
  read();
});
server.listen(socketPath, () => fs.writeFileSync(`${out}.ready`, ''));
