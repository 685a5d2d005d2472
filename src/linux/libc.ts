// The only module that talks to koffi. Two kinds of libc access live here:
//  - `libc()`: koffi-bound functions the runtime (Node, the parent) calls itself;
//  - `symbol(name)`: raw addresses of libc functions and variables that the container's init
//    chain runs in the child. The child never goes through koffi: it only executes libc code.
// Loading koffi costs ~2 ms in the executable (~10 ms on Node), so nothing here is touched until
// a verb really needs the kernel; the container lock of the light verbs (start, kill, delete)
// and the wait on the exec FIFO go through Bun's own FFI instead, when there is one (see light()).

import type * as Koffi from 'koffi';
import { describeErrno } from './errno';
import { mark } from '../state/timing';

type Fn = (...args: any[]) => any; // koffi functions are dynamically typed

export interface Libc {
  koffi: typeof Koffi;
  dlsym: Fn;
  errnoLocation: () => bigint;
  getcontext: Fn;
  makecontext: Fn;
  swapcontext: Fn;
  waitpid: Fn;
  pthreadSigmask: Fn;
  socketpair: Fn;
  pipe2: Fn;
  close: Fn;
  mmap: Fn;
  munmap: Fn;
  mprotect: Fn;
  poll: Fn;
  kill: Fn;
  unshare: Fn;
  fcntl: Fn;
  prctl: Fn;
  syscall: Fn;
  read: Fn;
  write: Fn;
  getpid: Fn;
  mkfifo: Fn;
  flock: Fn;
  madvise: Fn;
  pthreadSelf: Fn;
}

let cached: Libc | undefined;

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

export function libc(): Libc {
  if (cached) return cached;
  mark('koffi: loading');
  const koffi = loadKoffi();
  const lib = koffi.load('libc.so.6');
  mark('koffi: loaded');
  cached = {
    koffi,
    dlsym: lib.func('void *dlsym(void *handle, const char *name)'),
    errnoLocation: lib.func('void *__errno_location()'),
    getcontext: lib.func('int getcontext(void *ucp)'),
    // makecontext is variadic; every argument is passed as int64_t: glibc reads greg_t (64-bit)
    makecontext: lib.func('void makecontext(void *ucp, void *fn, int argc, ...)'),
    swapcontext: lib.func('int swapcontext(void *oucp, void *ucp)'),
    waitpid: lib.func('int waitpid(int pid, _Out_ int *status, int options)'),
    pthreadSigmask: lib.func('int pthread_sigmask(int how, void *set, void *oldset)'),
    socketpair: lib.func('int socketpair(int domain, int type, int protocol, _Out_ int *sv)'),
    pipe2: lib.func('int pipe2(_Out_ int *fds, int flags)'),
    close: lib.func('int close(int fd)'),
    mmap: lib.func('void *mmap(void *addr, size_t len, int prot, int flags, int fd, int64_t off)'),
    munmap: lib.func('int munmap(void *addr, size_t len)'),
    mprotect: lib.func('int mprotect(void *addr, size_t len, int prot)'),
    poll: lib.func('int poll(void *fds, uint64_t nfds, int timeout)'),
    kill: lib.func('int kill(int pid, int sig)'),
    unshare: lib.func('int unshare(int flags)'),
    fcntl: lib.func('int fcntl(int fd, int cmd, ...)'),
    prctl: lib.func('int prctl(int option, ...)'),
    syscall: lib.func('long syscall(long nr, ...)'),
    read: lib.func('long read(int fd, void *buf, size_t count)'),
    write: lib.func('long write(int fd, const void *buf, size_t count)'),
    getpid: lib.func('int getpid()'),
    mkfifo: lib.func('int mkfifo(const char *path, uint32_t mode)'),
    flock: lib.func('int flock(int fd, int operation)'),
    madvise: lib.func('int madvise(void *addr, size_t len, int advice)'),
    // glibc: the thread's struct pthread, i.e. its TCB (the thread pointer)
    pthreadSelf: lib.func('uint64_t pthread_self()'),
  };
  mark('koffi: functions bound');
  return cached;
}

const symbols = new Map<string, bigint>();

/** Address of a libc symbol, for the child's chain. dlsym resolves IFUNCs (memcpy...) to the chosen variant. */
export function symbol(name: string): bigint {
  let addr = symbols.get(name);
  if (addr === undefined) {
    const a = libc().dlsym(null, name) as bigint | null;
    if (!a) throw new Error(`dlsym(${name}): symbol not found in libc`);
    addr = BigInt(a);
    symbols.set(name, addr);
  }
  return addr;
}

export function lastErrno(): number {
  return libc().koffi.errno();
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
  const sv = [0, 0];
  const type = (kind === 'stream' ? SOCK_STREAM : SOCK_SEQPACKET) | SOCK_CLOEXEC;
  if (libc().socketpair(AF_UNIX, type, 0, sv) !== 0) throw sysError('socketpair');
  return [sv[0], sv[1]];
}

export function pipe(flags = O_CLOEXEC): [number, number] {
  const fds = [0, 0];
  if (libc().pipe2(fds, flags) !== 0) throw sysError('pipe2');
  return [fds[0], fds[1]];
}

export function closeFd(fd: number): void {
  libc().close(fd);
}

export function getFdFlags(fd: number): number {
  return libc().fcntl(fd, 1 /* F_GETFD */, 'int', 0);
}

export function getFlFlags(fd: number): number {
  return libc().fcntl(fd, 3 /* F_GETFL */, 'int', 0);
}

export function setFlFlags(fd: number, flags: number): void {
  if (libc().fcntl(fd, 4 /* F_SETFL */, 'int', flags) < 0) throw sysError(`fcntl(${fd}, F_SETFL)`);
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
  const status = [0];
  const r = libc().waitpid(pid, status, (noHang ? WNOHANG : 0) | WALL);
  if (r <= 0) return null;
  const s = status[0];
  if ((s & 0x7f) === 0) return { pid: r, exitCode: (s >> 8) & 0xff };
  if ((s & 0xff) === 0x7f) return null; // stopped, not exited
  return { pid: r, signal: s & 0x7f };
}

/** prctl(PR_SET_CHILD_SUBREAPER / PR_SET_DUMPABLE / ...) with integer arguments. */
export function prctl(option: number, arg2: number): void {
  if (libc().prctl(option, 'unsigned long', arg2, 'unsigned long', 0, 'unsigned long', 0, 'unsigned long', 0) !== 0) {
    throw sysError(`prctl(${option})`);
  }
}

export function mkfifo(path: string, mode: number): void {
  if (libc().mkfifo(path, mode) !== 0) throw sysError(`mkfifo ${path}`);
}

/** pidfd_open(2): an fd that refers to the process `pid` (close-on-exec). */
export function pidfdOpen(pid: number): number {
  const SYS_pidfd_open = 434; // the same number on every architecture (unified syscall table)
  const fd = Number(libc().syscall(SYS_pidfd_open, 'int', pid, 'unsigned int', 0));
  if (fd < 0) throw sysError(`pidfd_open ${pid}`);
  return fd;
}

/** Set a terminal's window size (TIOCSWINSZ). */
export function setWinsize(fd: number, rows: number, cols: number): void {
  const ws = Buffer.alloc(8);
  ws.writeUInt16LE(rows, 0);
  ws.writeUInt16LE(cols, 2);
  const ioctl = libc().koffi.load('libc.so.6').func('int ioctl(int fd, unsigned long req, void *arg)');
  ioctl(fd, 0x5414, ws);
}

/** Clear ONLCR in a terminal's output flags (TCGETS/TCSETS on the pty, through its master). */
export function clearOnlcr(fd: number): void {
  const ioctl = libc().koffi.load('libc.so.6').func('int ioctl(int fd, unsigned long req, void *arg)');
  const termios = Buffer.alloc(64); // struct termios (kernel): iflag, oflag, cflag, lflag, line, cc[19]
  if (ioctl(fd, 0x5401 /* TCGETS */, termios) !== 0) return;
  termios.writeUInt32LE(termios.readUInt32LE(4) & ~0o4 /* ONLCR */, 4);
  ioctl(fd, 0x5402 /* TCSETS */, termios);
}

const LOCK_EX = 2;
const LOCK_NB = 4;

/** flock(LOCK_EX|LOCK_NB): true when taken, false when another holds it. */
export function tryFlock(fd: number): boolean {
  if (light()?.flock(fd, LOCK_EX | LOCK_NB) === 0) return true;
  if (libc().flock(fd, LOCK_EX | LOCK_NB) === 0) return true;
  const e = lastErrno();
  if (e === 11 /* EWOULDBLOCK */ || e === 4 /* EINTR */) return false;
  throw sysError('flock', e);
}

interface BunFfi {
  dlopen(lib: string, fns: Record<string, { args: string[]; returns: string }>): { symbols: LightLibc };
}

interface LightLibc {
  flock(fd: number, op: number): number;
  poll(fds: Uint8Array, nfds: number, timeout: number): number;
}

let lightBound: LightLibc | null | undefined;

/**
 * The calls of the light verbs (start, kill, delete: the container lock, the wait on the exec
 * FIFO) bound through bun:ffi when running on Bun and koffi is not loaded yet: it binds them in
 * ~0.3 ms where loading koffi takes ~2 ms of an ~8 ms call. bun:ffi cannot read errno reliably,
 * so a call that fails is made again through koffi (loaded only then). null: use koffi.
 */
function light(): LightLibc | null {
  if (cached) return null;
  if (lightBound === undefined) {
    lightBound = null;
    if (process.versions.bun && process.env.TSRUNC_KOFFI_ONLY !== '1') {
      const ffi = require('bun:ffi') as BunFfi;
      lightBound = ffi.dlopen('libc.so.6', {
        flock: { args: ['i32', 'i32'], returns: 'i32' },
        poll: { args: ['ptr', 'u64', 'i32'], returns: 'i32' },
      }).symbols;
    }
  }
  return lightBound;
}

const POLLIN = 1;

/** poll(2) one fd for input (or hang-up); true when a read will not block. */
export function pollIn(fd: number, timeoutMs: number): boolean {
  const pfd = Buffer.alloc(8);
  pfd.writeInt32LE(fd, 0);
  pfd.writeInt16LE(POLLIN, 4);
  const fast = light()?.poll(pfd, 1, timeoutMs);
  if (fast !== undefined && fast >= 0) return fast > 0;
  const r = libc().poll(pfd, 1, timeoutMs);
  if (r < 0) {
    const e = lastErrno();
    if (e === 4) return false; // EINTR
    throw sysError('poll', e);
  }
  return r > 0;
}

/** renameat2(RENAME_NOREPLACE): rename unless `to` exists (then EEXIST). */
export function renameNoReplace(from: string, to: string): void {
  const { hostArch } = require('./arch') as typeof import('./arch');
  const AT_FDCWD = -100;
  const RENAME_NOREPLACE = 1;
  const r = Number(libc().syscall(hostArch().syscalls.renameat2, 'int', AT_FDCWD, 'const char *', from, 'int', AT_FDCWD, 'const char *', to, 'unsigned int', RENAME_NOREPLACE));
  if (r !== 0) throw sysError(`rename ${from} to ${to}`);
}
