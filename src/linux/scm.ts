// Passing file descriptors over unix sockets (SCM_RIGHTS), which Node cannot do by itself: the
// seccomp notify fd to a listener (listenerPath), and later the console's pty master to a
// --console-socket. Bound through koffi, lazily.

import type * as Koffi from 'koffi';
import { libc, sysError, lastErrno } from './libc';

const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SCM_RIGHTS = 1;
const MSG_CMSG_CLOEXEC = 0x40000000;

type Fn = (...args: any[]) => any; // koffi functions are dynamically typed
interface ScmBindings {
  sendmsg: Fn;
  recvmsg: Fn;
  socket: Fn;
  connect: Fn;
}

let bound: ScmBindings | undefined;

function bindings(): ScmBindings {
  if (bound) return bound;
  const koffi: typeof Koffi = libc().koffi;
  const lib = koffi.load('libc.so.6');
  koffi.struct('tsrunc_iovec', { base: 'void *', len: 'size_t' });
  koffi.struct('tsrunc_msghdr', { name: 'void *', namelen: 'uint32_t', iov: 'tsrunc_iovec *', iovlen: 'size_t', control: 'void *', controllen: 'size_t', flags: 'int' });
  bound = {
    sendmsg: lib.func('long sendmsg(int fd, const tsrunc_msghdr *msg, int flags)'),
    recvmsg: lib.func('long recvmsg(int fd, _Inout_ tsrunc_msghdr *msg, int flags)'),
    socket: lib.func('int socket(int domain, int type, int protocol)'),
    connect: lib.func('int connect(int fd, const void *addr, uint32_t len)'),
  };
  return bound;
}

/** CMSG_SPACE for n fds: a cmsghdr (16 bytes on 64-bit) plus the ints, padded to 8 */
function controlBuffer(fds: number[]): Buffer {
  const len = 16 + 4 * fds.length;
  const b = Buffer.alloc(Math.ceil(len / 8) * 8);
  b.writeBigUInt64LE(BigInt(len), 0);
  b.writeInt32LE(SOL_SOCKET, 8);
  b.writeInt32LE(SCM_RIGHTS, 12);
  fds.forEach((fd, i) => b.writeInt32LE(fd, 16 + 4 * i));
  return b;
}

/** Send `data` with `fds` attached, in one sendmsg. */
export function sendFds(sock: number, data: Buffer, fds: number[]): void {
  const s = bindings();
  const control = controlBuffer(fds);
  let off = 0;
  while (off < data.length || off === 0) {
    const chunk = data.subarray(off);
    const msg = { name: null, namelen: 0, iov: [{ base: chunk, len: chunk.length }], iovlen: 1, control: off === 0 ? control : null, controllen: off === 0 ? control.length : 0, flags: 0 };
    const n = Number(s.sendmsg(sock, msg, 0));
    if (n < 0) {
      const e = lastErrno();
      if (e === 4) continue; // EINTR
      throw sysError('sendmsg', e);
    }
    off += n;
    if (data.length === 0) break;
  }
}

/** Receive one message and the fds attached to it (close-on-exec). */
export function recvFds(sock: number, maxData = 65536): { data: Buffer; fds: number[] } {
  const s = bindings();
  const data = Buffer.alloc(maxData);
  const control = Buffer.alloc(128);
  const msg = { name: null, namelen: 0, iov: [{ base: data, len: data.length }], iovlen: 1, control, controllen: control.length, flags: 0 };
  let n: number;
  for (;;) {
    n = Number(s.recvmsg(sock, msg, MSG_CMSG_CLOEXEC));
    if (n >= 0) break;
    const e = lastErrno();
    if (e === 4) continue; // EINTR
    if (e === 11) {
      waitReadable(sock); // a non-blocking socket (Node's are): wait for the message
      continue;
    }
    throw sysError('recvmsg', e);
  }
  const fds: number[] = [];
  for (let off = 0; off + 16 <= msg.controllen; ) {
    const len = Number(control.readBigUInt64LE(off));
    if (len < 16) break;
    if (control.readInt32LE(off + 8) === SOL_SOCKET && control.readInt32LE(off + 12) === SCM_RIGHTS) {
      for (let p = off + 16; p + 4 <= off + len; p += 4) fds.push(control.readInt32LE(p));
    }
    off += Math.ceil(len / 8) * 8;
  }
  return { data: data.subarray(0, n), fds };
}

function waitReadable(fd: number): void {
  const pfd = Buffer.alloc(8);
  pfd.writeInt32LE(fd, 0);
  pfd.writeInt16LE(1, 4); // POLLIN
  libc().poll(pfd, 1, -1);
}

/** A connected AF_UNIX stream socket (close-on-exec). */
export function connectUnix(path: string): number {
  const s = bindings();
  const p = Buffer.from(path);
  if (p.length >= 108) throw new Error(`unix socket path too long: ${path}`);
  const addr = Buffer.alloc(110);
  addr.writeUInt16LE(AF_UNIX, 0);
  p.copy(addr, 2);
  const fd = s.socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw sysError('socket');
  if (s.connect(fd, addr, 2 + p.length + 1) !== 0) {
    const e = lastErrno();
    libc().close(fd);
    throw sysError(`connect ${path}`, e);
  }
  return fd;
}
