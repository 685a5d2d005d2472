// Passing file descriptors over unix sockets (SCM_RIGHTS), which Node cannot do by itself: the
// seccomp notify fd to a listener (listenerPath), and later the console's pty master to a
// --console-socket. The struct msghdr, its iovec, the data and the control message are laid out
// in one native mapping (its pointers must be addresses; JS buffers have none that stays put).

import { libc, sysError, lastErrno } from './libc';

const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SCM_RIGHTS = 1;
const MSG_CMSG_CLOEXEC = 0x40000000;

// struct msghdr (64-bit): name, namelen (+pad), iov, iovlen, control, controllen, flags (+pad)
const MSG_IOV = 16;
const MSG_IOVLEN = 24;
const MSG_CONTROL = 32;
const MSG_CONTROLLEN = 40;
const IOVEC_AT = 64; // after the 56-byte msghdr: struct iovec (base, len)
const CONTROL_AT = 80;
const CONTROL_ROOM = 128;
const DATA_AT = CONTROL_AT + CONTROL_ROOM;

/** A msghdr with one iovec of `dataLen` bytes and a control buffer, in native memory. */
class NativeMessage {
  readonly addr: number;
  readonly buf: Buffer;
  private readonly size: number;

  constructor(dataLen: number) {
    this.size = DATA_AT + Math.max(dataLen, 1);
    const lc = libc();
    const p = lc.mmapAnonymous(this.size, 3 /* PROT_READ | PROT_WRITE */);
    if (p <= 0) throw sysError('mmap');
    this.addr = p;
    this.buf = Buffer.from(lc.view(p, this.size));
    this.put(MSG_IOV, p + IOVEC_AT);
    this.put(MSG_IOVLEN, 1);
    this.put(IOVEC_AT, p + DATA_AT);
    this.put(IOVEC_AT + 8, dataLen);
  }

  put(offset: number, value: number): void {
    this.buf.writeBigUInt64LE(BigInt(value), offset);
  }

  /** the control buffer: `len` bytes (0: none) */
  control(len: number): void {
    this.put(MSG_CONTROL, len ? this.addr + CONTROL_AT : 0);
    this.put(MSG_CONTROLLEN, len);
  }

  controlLen(): number {
    return Number(this.buf.readBigUInt64LE(MSG_CONTROLLEN));
  }

  get data(): Buffer {
    return this.buf.subarray(DATA_AT);
  }

  get controlBytes(): Buffer {
    return this.buf.subarray(CONTROL_AT, CONTROL_AT + CONTROL_ROOM);
  }

  free(): void {
    libc().munmap(this.addr, this.size);
  }
}

/** Write the SCM_RIGHTS control message for `fds` (a cmsghdr, 16 bytes on 64-bit, then the ints); returns CMSG_SPACE. */
function writeRights(b: Buffer, fds: number[]): number {
  const len = 16 + 4 * fds.length;
  if (len > CONTROL_ROOM) throw new Error(`sendmsg: too many fds (${fds.length})`);
  b.writeBigUInt64LE(BigInt(len), 0);
  b.writeInt32LE(SOL_SOCKET, 8);
  b.writeInt32LE(SCM_RIGHTS, 12);
  for (const [i, fd] of fds.entries()) b.writeInt32LE(fd, 16 + 4 * i);
  return Math.ceil(len / 8) * 8;
}

/** Send `data` with `fds` attached, in one sendmsg (the fds go with the first bytes). */
export function sendFds(sock: number, data: Buffer, fds: number[]): void {
  const msg = new NativeMessage(data.length);
  try {
    data.copy(msg.data);
    msg.control(writeRights(msg.controlBytes, fds));
    let off = 0;
    while (off < data.length || off === 0) {
      const n = libc().sendmsg(sock, msg.addr, 0);
      if (n < 0) {
        const e = lastErrno();
        if (e === 4) continue; // EINTR
        throw sysError('sendmsg', e);
      }
      off += n;
      if (data.length === 0 || off >= data.length) break;
      // the rest, without the fds
      msg.put(IOVEC_AT, msg.addr + DATA_AT + off);
      msg.put(IOVEC_AT + 8, data.length - off);
      msg.control(0);
    }
  } finally {
    msg.free();
  }
}

/** Receive one message and the fds attached to it (close-on-exec). */
export function recvFds(sock: number, maxData = 65536): { data: Buffer; fds: number[] } {
  const msg = new NativeMessage(maxData);
  try {
    msg.control(CONTROL_ROOM);
    let n: number;
    for (;;) {
      n = libc().recvmsg(sock, msg.addr, MSG_CMSG_CLOEXEC);
      if (n >= 0) break;
      const e = lastErrno();
      if (e === 4) continue; // EINTR
      if (e === 11) {
        waitReadable(sock); // a non-blocking socket (Node's are): wait for the message
        continue;
      }
      throw sysError('recvmsg', e);
    }
    const control = msg.controlBytes;
    const fds: number[] = [];
    for (let off = 0, end = Math.min(msg.controlLen(), CONTROL_ROOM); off + 16 <= end; ) {
      const len = Number(control.readBigUInt64LE(off));
      if (len < 16) break;
      if (control.readInt32LE(off + 8) === SOL_SOCKET && control.readInt32LE(off + 12) === SCM_RIGHTS) {
        for (let p = off + 16; p + 4 <= off + len; p += 4) fds.push(control.readInt32LE(p));
      }
      off += Math.ceil(len / 8) * 8;
    }
    return { data: Buffer.from(msg.data.subarray(0, n)), fds };
  } finally {
    msg.free();
  }
}

function waitReadable(fd: number): void {
  const pfd = Buffer.alloc(8);
  pfd.writeInt32LE(fd, 0);
  pfd.writeInt16LE(1, 4); // POLLIN
  libc().poll(pfd, 1, -1);
}

/** A connected AF_UNIX stream socket (close-on-exec). */
export function connectUnix(path: string): number {
  const lc = libc();
  const p = Buffer.from(path);
  if (p.length >= 108) throw new Error(`unix socket path too long: ${path}`);
  const addr = Buffer.alloc(110);
  addr.writeUInt16LE(AF_UNIX, 0);
  p.copy(addr, 2);
  const fd = lc.socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw sysError('socket');
  if (lc.connect(fd, addr, 2 + p.length + 1) !== 0) {
    const e = lastErrno();
    lc.close(fd);
    throw sysError(`connect ${path}`, e);
  }
  return fd;
}
