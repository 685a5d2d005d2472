// The only module that binds libc for the runtime itself. Two kinds of access live here:
//  - `libc()`: functions the runtime (the parent) calls itself, through one of two FFIs:
//    bun:ffi in the executable (binding them all takes ~0.3 ms), koffi on Node (~2 ms in the
//    executable, ~10 on Node: loading its native module pulls in libstdc++). TSRUNC_KOFFI_ONLY=1
//    takes koffi on Bun too. Both present the same interface: callers never see which one it is.
//  - `symbol(name)`: raw addresses of libc functions and variables that the container's init
//    chain runs in the child. The child never goes through an FFI: it only executes libc code.
// Nothing here is bound until a verb really needs the kernel.

import type * as Koffi from 'koffi';
import { describeErrno } from './errno';
import { mark } from '../state/timing';

/** An address: a number (every user address fits in 53 bits) or a BigInt. */
type Addr = number | bigint;
/** A syscall() argument: an integer, an address, or JS memory the kernel reads or writes. */
export type SyscallArg = Addr | Uint8Array;

export interface Libc {
  readonly ffi: 'bun:ffi' | 'koffi';
  /** An ArrayBuffer over native memory (which must outlive it): no copy. */
  view(addr: Addr, len: number): ArrayBuffer;
  /** errno of this thread's last failed call */
  errno(): number;
  /** dlsym(RTLD_DEFAULT, name); 0n when absent */
  dlsym(name: string): bigint;
  errnoLocation(): Addr;
  getcontext(ucp: Addr): number;
  /** makecontext(ucp, fn, args.length, ...args), every argument as a 64-bit word (greg_t) */
  makecontext(ucp: Addr, fn: Addr, args: readonly Addr[]): void;
  swapcontext(oucp: Addr, ucp: Addr): number;
  waitpid(pid: number, status: Int32Array, options: number): number;
  pthreadSigmask(how: number, set: Uint8Array | null, old: Uint8Array | null): number;
  socketpair(domain: number, type: number, protocol: number, sv: Int32Array): number;
  pipe2(fds: Int32Array, flags: number): number;
  close(fd: number): number;
  /** a private anonymous mapping of len bytes; -1 on failure (errno set) */
  mmapAnonymous(len: number, prot: number): number;
  munmap(addr: Addr, len: Addr): number;
  mprotect(addr: Addr, len: number, prot: number): number;
  madvise(addr: Addr, len: Addr, advice: number): number;
  poll(fds: Uint8Array, nfds: number, timeout: number): number;
  kill(pid: number, sig: number): number;
  unshare(flags: number): number;
  fcntl(fd: number, cmd: number, arg: number): number;
  prctl(option: number, a2: number, a3: number, a4: number, a5: number): number;
  /** syscall(nr, args...), at most 6 arguments; returns the raw result (-1 and errno on failure) */
  syscall(nr: number, ...args: SyscallArg[]): number;
  ioctl(fd: number, request: number, arg: Uint8Array): number;
  mkfifo(path: string, mode: number): number;
  flock(fd: number, operation: number): number;
  socket(domain: number, type: number, protocol: number): number;
  connect(fd: number, addr: Uint8Array, len: number): number;
  /** sendmsg/recvmsg with a struct msghdr in native memory (its pointers must be native too) */
  sendmsg(fd: number, msg: Addr, flags: number): number;
  recvmsg(fd: number, msg: Addr, flags: number): number;
  /** glibc: the thread's struct pthread, i.e. its TCB (the thread pointer) */
  pthreadSelf(): bigint;
}

let cached: Libc | undefined;

export function libc(): Libc {
  if (cached) return cached;
  if (process.versions.bun && process.env.TSRUNC_KOFFI_ONLY !== '1') {
    try {
      cached = bindBunFfi();
    } catch {
      // bun:ffi compiles its trampolines: it refuses to work where the JIT is off
      // (BUN_JSC_useJIT=0, or no executable memory); koffi needs neither
    }
  }
  cached ??= bindKoffi();
  return cached;
}

const MAP_PRIVATE = 2;
const MAP_ANONYMOUS = 0x20;
const MAKECONTEXT_MAX_ARGS = 16;

interface BunFfi {
  dlopen(lib: string, fns: Record<string, { args: string[]; returns: string }>): { symbols: Record<string, (...args: any[]) => any> };
  toArrayBuffer(ptr: number, byteOffset: number, byteLength: number): ArrayBuffer;
  ptr(view: Uint8Array): number;
}

/**
 * bun:ffi's functions. `Bun.FFI` is the native object that the bun:ffi module wraps: taken
 * directly, it spares every call loading that module's JavaScript (~0.3 ms); the module itself
 * where a Bun lacks it. (The native dlopen returns its error instead of throwing it.)
 */
function bunFfi(): BunFfi {
  const native = (globalThis as { Bun?: { FFI?: BunFfi } }).Bun?.FFI;
  if (!native?.dlopen || !native.toArrayBuffer || !native.ptr) return require('bun:ffi') as BunFfi;
  return {
    dlopen(lib, fns) {
      const r = native.dlopen(lib, fns) as unknown;
      if (r instanceof Error) throw r;
      return r as ReturnType<BunFfi['dlopen']>;
    },
    toArrayBuffer: native.toArrayBuffer,
    ptr: native.ptr,
  };
}

const encoder = new TextEncoder();

/** s in UTF-8 (not a Buffer: its first use costs every call ~0.17 ms; see files.ts). */
export function utf8Bytes(s: string): Uint8Array {
  return encoder.encode(s);
}

/** A NUL-terminated copy of s, for a `const char *` argument. */
export function cString(s: string): Uint8Array {
  return utf8Bytes(s + '\0');
}

/**
 * bun:ffi does not capture errno: it is read right after the call, through a view of this
 * thread's errno (the runtime has no other JS thread, and nothing else calls libc in between).
 */
function errnoReader(ffi: BunFfi, location: bigint): () => number {
  const view = new Int32Array(ffi.toArrayBuffer(Number(location), 0, 4));
  return () => view[0];
}

/**
 * libc through bun:ffi. Every signature is fixed: the variadic functions (fcntl, prctl, syscall,
 * makecontext) are called with integer arguments only, which the x86_64 and aarch64 Linux ABIs
 * pass exactly as for a fixed prototype (extra ones are never read). errno: errnoReader.
 */
function bindBunFfi(): Libc {
  mark('libc: binding (bun:ffi)');
  const ffi = bunFfi();
  const [P, I, U, L] = ['ptr', 'i32', 'u64', 'i64'];
  const f = ffi.dlopen('libc.so.6', {
    dlsym: { args: [U, P], returns: U },
    __errno_location: { args: [], returns: U },
    getcontext: { args: [U], returns: I },
    makecontext: { args: [U, U, I, ...Array<string>(MAKECONTEXT_MAX_ARGS).fill(L)], returns: 'void' },
    swapcontext: { args: [U, U], returns: I },
    waitpid: { args: [I, P, I], returns: I },
    pthread_sigmask: { args: [I, P, P], returns: I },
    socketpair: { args: [I, I, I, P], returns: I },
    pipe2: { args: [P, I], returns: I },
    close: { args: [I], returns: I },
    mmap: { args: [U, U, I, I, I, L], returns: L },
    munmap: { args: [U, U], returns: I },
    mprotect: { args: [U, U, I], returns: I },
    madvise: { args: [U, U, I], returns: I },
    poll: { args: [P, U, I], returns: I },
    kill: { args: [I, I], returns: I },
    unshare: { args: [I], returns: I },
    fcntl: { args: [I, I, L], returns: I },
    prctl: { args: [I, U, U, U, U], returns: I },
    syscall: { args: [L, L, L, L, L, L, L], returns: L },
    ioctl: { args: [I, U, P], returns: I },
    mkfifo: { args: [P, 'u32'], returns: I },
    flock: { args: [I, I], returns: I },
    socket: { args: [I, I, I], returns: I },
    connect: { args: [I, P, 'u32'], returns: I },
    sendmsg: { args: [I, U, I], returns: L },
    recvmsg: { args: [I, U, I], returns: L },
    pthread_self: { args: [], returns: U },
  }).symbols;
  const errnoAt = f.__errno_location() as bigint;
  const errno = errnoReader(ffi, errnoAt);
  const word = (a: SyscallArg) => (typeof a === 'object' ? ffi.ptr(a) : a);
  const zeros = Array<number>(MAKECONTEXT_MAX_ARGS).fill(0);
  mark('libc: bound');
  return {
    ffi: 'bun:ffi',
    view: (addr, len) => ffi.toArrayBuffer(Number(addr), 0, len),
    errno,
    dlsym: (name) => f.dlsym(0, cString(name)) as bigint,
    errnoLocation: () => errnoAt,
    getcontext: f.getcontext,
    makecontext(ucp, fn, args) {
      if (args.length > MAKECONTEXT_MAX_ARGS) throw new Error(`makecontext: ${args.length} arguments (at most ${MAKECONTEXT_MAX_ARGS})`);
      f.makecontext(ucp, fn, args.length, ...args, ...zeros.slice(args.length));
    },
    swapcontext: f.swapcontext,
    waitpid: f.waitpid,
    pthreadSigmask: f.pthread_sigmask,
    socketpair: f.socketpair,
    pipe2: f.pipe2,
    close: f.close,
    mmapAnonymous: (len, prot) => Number(f.mmap(0, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)),
    munmap: f.munmap,
    mprotect: f.mprotect,
    madvise: f.madvise,
    poll: f.poll,
    kill: f.kill,
    unshare: f.unshare,
    fcntl: f.fcntl,
    prctl: f.prctl,
    syscall(nr, ...args) {
      if (args.length > 6) throw new Error(`syscall ${nr}: ${args.length} arguments (at most 6)`);
      const w = args.map(word);
      while (w.length < 6) w.push(0);
      return Number(f.syscall(nr, ...w));
    },
    ioctl: f.ioctl,
    mkfifo: (path, mode) => f.mkfifo(cString(path), mode),
    flock: f.flock,
    socket: f.socket,
    connect: f.connect,
    sendmsg: (fd, msg, flags) => Number(f.sendmsg(fd, msg, flags)),
    recvmsg: (fd, msg, flags) => Number(f.recvmsg(fd, msg, flags)),
    pthreadSelf: f.pthread_self,
  };
}

/**
 * The runtime's file calls (files.ts: loading node:fs takes longer than binding these), with the
 * container lock's flock and the exec FIFO's poll: bound apart from libc() so that the light
 * verbs (state, start, kill, delete) bind only these (~20 functions, ~0.3 ms). Strings are
 * NUL-terminated buffers; errno() as in Libc. null where bun:ffi is not used (files.ts then goes
 * through node:fs, which Node has loaded anyway).
 */
export interface FileLibc {
  open(path: Uint8Array, flags: number, mode: number): number;
  read(fd: number, buf: Uint8Array, len: number): number;
  write(fd: number, buf: Uint8Array, len: number): number;
  close(fd: number): number;
  access(path: Uint8Array, mode: number): number;
  mkdir(path: Uint8Array, mode: number): number;
  rmdir(path: Uint8Array): number;
  unlink(path: Uint8Array): number;
  rename(from: Uint8Array, to: Uint8Array): number;
  statx(dirfd: number, path: Uint8Array, flags: number, mask: number, buf: Uint8Array): number;
  getdents64(fd: number, buf: Uint8Array, len: number): number;
  readlink(path: Uint8Array, buf: Uint8Array, len: number): number;
  /** realpath into buf (PATH_MAX bytes); 0 on failure */
  realpath(path: Uint8Array, buf: Uint8Array): number;
  chmod(path: Uint8Array, mode: number): number;
  statfs(path: Uint8Array, buf: Uint8Array): number;
  /** the container lock and the wait on the exec FIFO, which the light verbs need too */
  flock(fd: number, operation: number): number;
  poll(fds: Uint8Array, nfds: number, timeout: number): number;
  errno(): number;
}

let fileCalls: FileLibc | null | undefined;

export function fileLibc(): FileLibc | null {
  if (fileCalls !== undefined) return fileCalls;
  fileCalls = null;
  if (process.versions.bun && process.env.TSRUNC_KOFFI_ONLY !== '1') {
    try {
      mark('files: binding (bun:ffi)');
      const ffi = bunFfi();
      const [P, I, U, L] = ['ptr', 'i32', 'u64', 'i64'];
      const f = ffi.dlopen('libc.so.6', {
        open: { args: [P, I, I], returns: I },
        read: { args: [I, P, U], returns: L },
        write: { args: [I, P, U], returns: L },
        close: { args: [I], returns: I },
        access: { args: [P, I], returns: I },
        mkdir: { args: [P, I], returns: I },
        rmdir: { args: [P], returns: I },
        unlink: { args: [P], returns: I },
        rename: { args: [P, P], returns: I },
        statx: { args: [I, P, I, 'u32', P], returns: I },
        getdents64: { args: [I, P, U], returns: L },
        readlink: { args: [P, P, U], returns: L },
        realpath: { args: [P, P], returns: U },
        chmod: { args: [P, 'u32'], returns: I },
        statfs: { args: [P, P], returns: I },
        flock: { args: [I, I], returns: I },
        poll: { args: [P, U, I], returns: I },
        __errno_location: { args: [], returns: U },
      }).symbols;
      const errno = errnoReader(ffi, f.__errno_location() as bigint);
      fileCalls = {
        open: f.open,
        read: (fd, buf, len) => Number(f.read(fd, buf, len)),
        write: (fd, buf, len) => Number(f.write(fd, buf, len)),
        close: f.close,
        access: f.access,
        mkdir: f.mkdir,
        rmdir: f.rmdir,
        unlink: f.unlink,
        rename: f.rename,
        statx: f.statx,
        getdents64: (fd, buf, len) => Number(f.getdents64(fd, buf, len)),
        readlink: (path, buf, len) => Number(f.readlink(path, buf, len)),
        realpath: (path, buf) => Number(f.realpath(path, buf)),
        chmod: f.chmod,
        statfs: f.statfs,
        flock: f.flock,
        poll: f.poll,
        errno,
      };
      mark('files: bound');
    } catch {
      fileCalls = null; // no JIT: node:fs
    }
  }
  return fileCalls;
}

/**
 * koffi's native module. Its JS loader finds the .node file at run time (by libc and
 * architecture), which a single-file executable (bun build --compile) cannot follow: there we
 * require the prebuilt module by a literal path, so that the bundler embeds it.
 */
function loadKoffi(): typeof Koffi {
  if (process.versions.bun && process.env.TSRUNC_KOFFI_JS !== '1') {
    if (process.arch === 'x64') return require('@koromix/koffi-linux-x64/linux_x64/koffi.node') as typeof Koffi;
    if (process.arch === 'arm64') return require('@koromix/koffi-linux-arm64/linux_arm64/koffi.node') as typeof Koffi;
  }
  return require('koffi') as typeof Koffi;
}

/** libc through koffi, which captures errno itself and knows variadic calls. */
function bindKoffi(): Libc {
  mark('koffi: loading');
  const koffi = loadKoffi();
  const lib = koffi.load('libc.so.6');
  mark('koffi: loaded');
  type Fn = (...args: any[]) => any; // koffi functions are dynamically typed
  const fn = (proto: string): Fn => lib.func(proto);
  const dlsym = fn('void *dlsym(void *handle, const char *name)');
  const errnoLocation = fn('void *__errno_location()');
  const makecontext = fn('void makecontext(void *ucp, void *fn, int argc, ...)');
  const mmap = fn('void *mmap(void *addr, size_t len, int prot, int flags, int fd, int64_t off)');
  const fcntl = fn('int fcntl(int fd, int cmd, ...)');
  const prctl = fn('int prctl(int option, ...)');
  const syscall = fn('long syscall(long nr, ...)');
  const sendmsg = fn('long sendmsg(int fd, void *msg, int flags)');
  const recvmsg = fn('long recvmsg(int fd, void *msg, int flags)');
  const ul = 'unsigned long';
  const l: Libc = {
    ffi: 'koffi',
    view: (addr, len) => koffi.view(addr, len) as ArrayBuffer,
    errno: () => koffi.errno(),
    dlsym: (name) => BigInt((dlsym(null, name) as bigint | null) ?? 0n),
    errnoLocation: () => BigInt(errnoLocation() as bigint),
    getcontext: fn('int getcontext(void *ucp)'),
    makecontext: (ucp, f, args) => makecontext(ucp, f, args.length, ...args.flatMap((a) => ['int64_t', BigInt.asIntN(64, BigInt(a))])),
    swapcontext: fn('int swapcontext(void *oucp, void *ucp)'),
    waitpid: fn('int waitpid(int pid, void *status, int options)'),
    pthreadSigmask: fn('int pthread_sigmask(int how, void *set, void *oldset)'),
    socketpair: fn('int socketpair(int domain, int type, int protocol, void *sv)'),
    pipe2: fn('int pipe2(void *fds, int flags)'),
    close: fn('int close(int fd)'),
    mmapAnonymous(len, prot) {
      const p = BigInt((mmap(null, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0n) as bigint | null) ?? 0n);
      return p === 0xffffffffffffffffn ? -1 : Number(p);
    },
    munmap: fn('int munmap(void *addr, size_t len)'),
    mprotect: fn('int mprotect(void *addr, size_t len, int prot)'),
    madvise: fn('int madvise(void *addr, size_t len, int advice)'),
    poll: fn('int poll(void *fds, uint64_t nfds, int timeout)'),
    kill: fn('int kill(int pid, int sig)'),
    unshare: fn('int unshare(int flags)'),
    fcntl: (fd, cmd, arg) => fcntl(fd, cmd, 'long', arg),
    prctl: (option, a2, a3, a4, a5) => prctl(option, ul, a2, ul, a3, ul, a4, ul, a5),
    syscall: (nr, ...args) => Number(syscall(nr, ...args.flatMap((a): unknown[] => (typeof a === 'object' ? ['void *', a] : ['int64_t', BigInt.asIntN(64, BigInt(a))])))),
    ioctl: fn('int ioctl(int fd, unsigned long req, void *arg)'),
    mkfifo: fn('int mkfifo(const char *path, uint32_t mode)'),
    flock: fn('int flock(int fd, int operation)'),
    socket: fn('int socket(int domain, int type, int protocol)'),
    connect: fn('int connect(int fd, const void *addr, uint32_t len)'),
    sendmsg: (fd, msg, flags) => Number(sendmsg(fd, msg, flags)),
    recvmsg: (fd, msg, flags) => Number(recvmsg(fd, msg, flags)),
    pthreadSelf: ((self: Fn) => () => BigInt(self() as bigint))(fn('uint64_t pthread_self()')),
  };
  mark('koffi: functions bound');
  return l;
}

const symbols = new Map<string, bigint>();

/** Address of a libc symbol, for the child's chain. dlsym resolves IFUNCs (memcpy...) to the chosen variant. */
export function symbol(name: string): bigint {
  let addr = symbols.get(name);
  if (addr === undefined) {
    addr = libc().dlsym(name);
    if (!addr) throw new Error(`dlsym(${name}): symbol not found in libc`);
    symbols.set(name, addr);
  }
  return addr;
}

export function lastErrno(): number {
  return libc().errno();
}

/** Error for a failed libc call made by the runtime itself: `socketpair: EMFILE (too many open files)`. */
export function sysError(what: string, errno = lastErrno()): Error & { errno: number } {
  return Object.assign(new Error(`${what}: ${describeErrno(errno)}`), { errno });
}

// --- small wrappers used by several layers -------------------------------------------------

const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_SEQPACKET = 5;
const SOCK_CLOEXEC = 0o2000000;
const O_CLOEXEC = 0o2000000;

export function socketPair(kind: 'stream' | 'seqpacket' = 'stream'): [number, number] {
  const sv = new Int32Array(2);
  const type = (kind === 'stream' ? SOCK_STREAM : SOCK_SEQPACKET) | SOCK_CLOEXEC;
  if (libc().socketpair(AF_UNIX, type, 0, sv) !== 0) throw sysError('socketpair');
  return [sv[0], sv[1]];
}

export function pipe(flags = O_CLOEXEC): [number, number] {
  const fds = new Int32Array(2);
  if (libc().pipe2(fds, flags) !== 0) throw sysError('pipe2');
  return [fds[0], fds[1]];
}

export function closeFd(fd: number): void {
  libc().close(fd);
}

export function getFdFlags(fd: number): number {
  return libc().fcntl(fd, 1 /* F_GETFD */, 0);
}

export function getFlFlags(fd: number): number {
  return libc().fcntl(fd, 3 /* F_GETFL */, 0);
}

export function setFlFlags(fd: number, flags: number): void {
  if (libc().fcntl(fd, 4 /* F_SETFL */, flags) < 0) throw sysError(`fcntl(${fd}, F_SETFL)`);
}

export function unshare(flags: number, what: string): void {
  if (libc().unshare(flags) !== 0) throw sysError(`unshare ${what}`);
}

/** kill(2); returns the errno (0 on success) so callers can map ESRCH to runc's messages. */
export function killPid(pid: number, signal: number): number {
  return libc().kill(pid, signal) === 0 ? 0 : lastErrno();
}

export interface WaitResult {
  pid: number;
  exitCode?: number;
  signal?: number;
}

const WNOHANG = 1;
const WALL = 0x40000000;

/** waitpid(2) for a child; null when nothing has changed yet (noHang) or there is no such child. */
export function waitChild(pid: number, noHang = false): WaitResult | null {
  const status = new Int32Array(1);
  const r = libc().waitpid(pid, status, (noHang ? WNOHANG : 0) | WALL);
  if (r <= 0) return null;
  const s = status[0];
  if ((s & 0x7f) === 0) return { pid: r, exitCode: (s >> 8) & 0xff };
  if ((s & 0xff) === 0x7f) return null; // stopped, not exited
  return { pid: r, signal: s & 0x7f };
}

/** prctl(PR_SET_CHILD_SUBREAPER / PR_SET_DUMPABLE / ...) with integer arguments. */
export function prctl(option: number, arg2: number): void {
  if (libc().prctl(option, arg2, 0, 0, 0) !== 0) throw sysError(`prctl(${option})`);
}

export function mkfifo(path: string, mode: number): void {
  if (libc().mkfifo(path, mode) !== 0) throw sysError(`mkfifo ${path}`);
}

/** pidfd_open(2): an fd that refers to the process `pid` (close-on-exec). */
export function pidfdOpen(pid: number): number {
  const SYS_pidfd_open = 434; // the same number on every architecture (unified syscall table)
  const fd = libc().syscall(SYS_pidfd_open, pid, 0);
  if (fd < 0) throw sysError(`pidfd_open ${pid}`);
  return fd;
}

/** Set a terminal's window size (TIOCSWINSZ). */
export function setWinsize(fd: number, rows: number, cols: number): void {
  const ws = Buffer.alloc(8);
  ws.writeUInt16LE(rows, 0);
  ws.writeUInt16LE(cols, 2);
  libc().ioctl(fd, 0x5414, ws);
}

/** Clear ONLCR in a terminal's output flags (TCGETS/TCSETS on the pty, through its master). */
export function clearOnlcr(fd: number): void {
  const termios = Buffer.alloc(64); // struct termios (kernel): iflag, oflag, cflag, lflag, line, cc[19]
  if (libc().ioctl(fd, 0x5401 /* TCGETS */, termios) !== 0) return;
  termios.writeUInt32LE(termios.readUInt32LE(4) & ~0o4 /* ONLCR */, 4);
  libc().ioctl(fd, 0x5402 /* TCSETS */, termios);
}

const LOCK_EX = 2;
const LOCK_NB = 4;

/** flock(LOCK_EX|LOCK_NB): true when taken, false when another holds it. */
export function tryFlock(fd: number): boolean {
  const l = fileLibc() ?? libc();
  if (l.flock(fd, LOCK_EX | LOCK_NB) === 0) return true;
  const e = l.errno();
  if (e === 11 /* EWOULDBLOCK */ || e === 4 /* EINTR */) return false;
  throw sysError('flock', e);
}

const POLLIN = 1;

/** poll(2) one fd for input (or hang-up); true when a read will not block. */
export function pollIn(fd: number, timeoutMs: number): boolean {
  const pfd = new Uint8Array(8); // struct pollfd: int fd, short events, short revents
  new DataView(pfd.buffer).setInt32(0, fd, true);
  pfd[4] = POLLIN;
  const l = fileLibc() ?? libc();
  const r = l.poll(pfd, 1, timeoutMs);
  if (r < 0) {
    const e = l.errno();
    if (e === 4) return false; // EINTR
    throw sysError('poll', e);
  }
  return r > 0;
}

/** CLOCK_MONOTONIC in ns, the clock the init's timestamps use (Bun's process.hrtime counts from the process's start instead). */
export function monotonicNs(): bigint {
  const { hostArch } = require('./arch') as typeof import('./arch');
  const ts = new BigInt64Array(2);
  if (libc().syscall(hostArch().syscalls.clock_gettime, 1 /* CLOCK_MONOTONIC */, new Uint8Array(ts.buffer)) !== 0) throw sysError('clock_gettime');
  return ts[0] * 1_000_000_000n + ts[1];
}

/** renameat2(RENAME_NOREPLACE): rename unless `to` exists (then EEXIST). */
export function renameNoReplace(from: string, to: string): void {
  const { hostArch } = require('./arch') as typeof import('./arch');
  const AT_FDCWD = -100;
  const RENAME_NOREPLACE = 1;
  const r = libc().syscall(hostArch().syscalls.renameat2, AT_FDCWD, cString(from), AT_FDCWD, cString(to), RENAME_NOREPLACE);
  if (r !== 0) throw sysError(`rename ${from} to ${to}`);
}
