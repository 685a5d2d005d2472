// The part of a plan that turns a prepared child into the container's process: signal dispositions,
// seccomp, capabilities, user and groups, umask, cwd, no_new_privs, the executable lookup and
// stdio. Shared by the container's init (create) and by processes that join it (exec, hooks).
// The order follows runc's finalizeNamespace: bounding set, then user, then capset and ambient.

import { AT_FDCWD, CAPABILITIES, CLOSE_RANGE_CLOEXEC, F, MS, O, PR, RESOLVE, S_IF, TIOC, LINUX_CAPABILITY_VERSION_3, SECCOMP_SET_MODE_FILTER, SIGKILL, SIGSTOP } from '../linux/constants';
import type { Process } from '../spec/types';
import { capabilityNumber as capabilityIndex } from '../spec/known';
import { ProgramBuilder, openHow, u32Array } from './builder';
import type { StdioFact } from './facts';

export interface CompiledFilter {
  program: Uint8Array;
  flags: number;
  instructions: number;
  /** some action is SCMP_ACT_NOTIFY: the listener fd goes to the runtime over the `notify` slot */
  notify?: boolean;
}

const SECCOMP_FILTER_FLAG_NEW_LISTENER = 1 << 3;

export interface ProcessSetupInput {
  process: Process;
  capLastCap: number;
  stdio: [StdioFact, StdioFact, StdioFact];
  seccomp?: CompiledFilter | null;
  /** home directory to set as HOME when the env has none (runc does this) */
  home?: string;
  /** AppArmor profile to switch to at exec (the caller checks that the host has AppArmor) */
  apparmorProfile?: string;
  /** setgroups(2) is allowed in the process's user namespace */
  setgroupsAllowed: boolean;
  /** fds passed through at 3..3+n-1 (kept slots `pass0`.. moved there by planPassFds) */
  passFds?: number;
  /** a pty for the process: its master goes out on the `console` slot */
  terminal?: { size?: { height: number; width: number }; bindConsole: boolean; checkpoint?: boolean };
}

export interface LookupPlan {
  /** program name as given (args[0]) */
  name: string;
  /** absolute (or cwd-relative) paths tried in order; each has an access() step tagged lookup:i */
  candidates: string[];
  /** true when args[0] contains a slash: no PATH search */
  direct: boolean;
}

const X_OK = 1;

export function capabilityNumber(name: string): number {
  const i = capabilityIndex(name) ?? -1;
  if (i < 0) throw new Error(`unknown capability ${name}`);
  return i;
}

/** The environment the program gets: process.env, plus HOME when missing (as runc). */
export function processEnv(process: Process, home?: string): string[] {
  const env = [...(process.env ?? [])];
  if (!env.some((e) => e.startsWith('HOME='))) env.push(`HOME=${home ?? '/'}`);
  return env;
}

/** Where execve will look for args[0]: Go's exec.LookPath rules, with the container's PATH. */
export function lookupPlan(process: Process): LookupPlan {
  const name = process.args?.[0] ?? '';
  if (name.includes('/')) return { name, candidates: [name], direct: true };
  let pathVar = '';
  for (const e of process.env ?? []) if (e.startsWith('PATH=')) pathVar = e.slice(5);
  const candidates = pathVar === '' ? [] : pathVar.split(':').map((dir) => (dir === '' ? '.' : dir).replace(/\/+$/, '') + '/' + name);
  return { name, candidates, direct: false };
}

/** Signal dispositions: reset everything (Node ignores SIGPIPE/SIGXFSZ and handles others). */
export function planSignalReset(b: ProgramBuilder): void {
  // raw rt_sigaction with a zeroed struct kernel_sigaction (SIG_DFL): glibc's sigaction() refuses
  // 32 and 33, which Node may have touched; signals stay blocked until the exec context
  const dfl = { bytes: new Uint8Array(32), label: 'sigaction{SIG_DFL}' };
  const sigs: number[] = [];
  for (let s = 1; s <= 64; s++) if (s !== SIGKILL && s !== SIGSTOP) sigs.push(s);
  for (const [i, s] of sigs.entries()) b.syscall('rt_sigaction', [s, dfl, 0, 8], `reset signal ${s} to SIG_DFL`, i === sigs.length - 1 ? 'full' : 'none');
}

export function planSeccomp(b: ProgramBuilder, filter: CompiledFilter, when: string): void {
  if (!filter.notify) {
    b.syscall('seccomp', [SECCOMP_SET_MODE_FILTER, filter.flags, { fprog: filter.program }], `install seccomp filter (${filter.instructions} instructions, ${when})`);
    return;
  }
  // with SCMP_ACT_NOTIFY, seccomp() returns the listener fd (the lowest free number): hand it to
  // the runtime, which passes it on to the listenerPath agent, and drop our copy
  const listener = b.allocFd();
  b.syscall('seccomp', [SECCOMP_SET_MODE_FILTER, filter.flags | SECCOMP_FILTER_FLAG_NEW_LISTENER, { fprog: filter.program }], `install seccomp filter (${filter.instructions} instructions, ${when}), listener fd ${listener}`);
  b.call('sendmsg', [b.keepFd('notify'), { sendFd: listener }, 0], `send the seccomp listener fd ${listener} to the runtime`);
  b.close(listener, `close the seccomp listener fd ${listener}`);
}

/**
 * Everything from the signal reset to the lookup, before the process waits for `start`
 * (init) or right before its exec (exec, hooks). Returns the lookup to interpret later.
 */
export function planProcessSetup(b: ProgramBuilder, input: ProcessSetupInput, opts: { seccompLate: boolean }): { lookup: LookupPlan; seccompInstalled: boolean; notes: string[] } {
  const p = input.process;
  const notes: string[] = [];
  // every fd the chain opens is close-on-exec already; this makes sure of it, before a seccomp
  // profile (which may not know close_range) is in force
  const firstPrivate = 3 + (input.passFds ?? 0);
  b.call('close_range', [firstPrivate, 0xffffffff, CLOSE_RANGE_CLOEXEC], `mark every fd from ${firstPrivate} close-on-exec`, 'trip');
  if (input.terminal) planTerminal(b, input.terminal);
  planSignalReset(b);

  // Without no_new_privs, installing a filter needs CAP_SYS_ADMIN: do it before capabilities go
  let seccompInstalled = false;
  let cwdFd: number | null = null;
  if (input.seccomp && !p.noNewPrivileges) {
    // a profile may not know openat2 (runtime-tools' default answers ENOSYS) or may deny getcwd
    // (runtime-tools' linux_seccomp): the cwd is resolved before the filter
    cwdFd = openCwd(b, p.cwd);
    planSeccomp(b, input.seccomp, 'before dropping capabilities: no no_new_privs');
    seccompInstalled = true;
  }

  const caps = p.capabilities;
  const set = (names?: string[]) => new Set((names ?? []).map(capabilityNumber).filter((c) => c <= input.capLastCap));
  if (caps) {
    const bounding = set(caps.bounding);
    const drops: number[] = [];
    for (let c = 0; c <= input.capLastCap; c++) if (!bounding.has(c)) drops.push(c);
    for (const [i, c] of drops.entries()) {
      b.call('prctl', [PR.CAPBSET_DROP, c, 0, 0, 0], `drop ${CAPABILITIES[c] ?? c} from the bounding set`, i === drops.length - 1 ? 'full' : 'none');
    }
  }

  const { uid, gid } = p.user;
  const gids = p.user.additionalGids ?? [];
  const switching = uid !== 0 || gid !== 0;
  // raw syscalls: glibc's wrappers broadcast to all threads of the (copied) Node process
  if (switching) b.call('prctl', [PR.SET_KEEPCAPS, 1, 0, 0, 0], 'keep capabilities across the uid change');
  if (input.setgroupsAllowed) b.syscall('setgroups', [gids.length, u32Array(gids)], `setgroups [${gids.join(', ')}]`);
  b.syscall('setresgid', [gid, gid, gid], `setresgid ${gid}`);
  b.syscall('setresuid', [uid, uid, uid], `setresuid ${uid}`);
  if (switching) b.call('prctl', [PR.SET_KEEPCAPS, 0, 0, 0, 0], 'stop keeping capabilities');

  if (caps) {
    const eff = set(caps.effective);
    const perm = set(caps.permitted);
    const inh = set(caps.inheritable);
    const header = Buffer.alloc(8);
    header.writeUInt32LE(LINUX_CAPABILITY_VERSION_3, 0);
    const data = Buffer.alloc(24);
    const word = (s: Set<number>, w: number) => {
      let bits = 0;
      for (const c of s) if (c >> 5 === w) bits = (bits | (1 << (c & 31))) >>> 0;
      return bits;
    };
    for (let w = 0; w < 2; w++) {
      data.writeUInt32LE(word(eff, w), 12 * w);
      data.writeUInt32LE(word(perm, w), 12 * w + 4);
      data.writeUInt32LE(word(inh, w), 12 * w + 8);
    }
    b.syscall('capset', [{ bytes: header, label: 'cap_header' }, { bytes: data, label: 'cap_data[2]' }], 'capset (effective, permitted, inheritable)');
    // ambient raise needs the capability in permitted and inheritable; `runc spec` lists ambient
    // capabilities without an inheritable set, and runc 1.1 ignores the failure: so do we (noted)
    for (const c of set(caps.ambient)) {
      if (inh.has(c) && perm.has(c)) b.call('prctl', [PR.CAP_AMBIENT, PR.CAP_AMBIENT_RAISE, c, 0, 0], `raise ambient ${CAPABILITIES[c]}`);
      else notes.push(`ambient ${CAPABILITIES[c]} is not raised: it is not in both the inheritable and permitted sets`);
    }
  }

  b.call('umask', [p.user.umask ?? 0o022], `umask ${(p.user.umask ?? 0o022).toString(8).padStart(4, '0')}`, 'none');
  if (cwdFd === null) planCwd(b, p.cwd);
  else {
    // resolved as root before the filter: the user's right to reach it is checked here
    b.call('access', [{ str: p.cwd }, X_OK], `check that user ${uid} may enter the cwd ${p.cwd}`);
    enterCwd(b, cwdFd, p.cwd);
  }
  if (p.noNewPrivileges) b.call('prctl', [PR.SET_NO_NEW_PRIVS, 1, 0, 0, 0], 'set no_new_privs');
  if (input.apparmorProfile) {
    const fd = b.allocFd();
    const cmd = `exec ${input.apparmorProfile}`;
    b.call('open', [{ str: '/proc/self/attr/apparmor/exec' }, O.WRONLY | O.CLOEXEC, 0], `open /proc/self/attr/apparmor/exec (fd ${fd})`);
    b.call('write', [fd, { str: cmd }, Buffer.byteLength(cmd)], `apparmor: ${cmd}`);
    b.close(fd);
  }

  const lookup = lookupPlan(p);
  for (const [i, c] of lookup.candidates.entries()) {
    b.steps.push({ op: 'call', fn: 'access', args: [{ str: c }, X_OK], desc: `look for ${c}`, check: 'report', tag: `lookup:${i}` });
  }

  // stdio: Node marks fds 0-2 close-on-exec and may leave a shared pipe O_NONBLOCK (a terminal
  // replaced them already)
  if (!input.terminal) {
    for (const [fd, s] of input.stdio.entries()) {
      if (s.cloexec) b.call('fcntl', [fd, F.SETFD, 0], `clear close-on-exec on fd ${fd}`);
      if (s.fl & O.NONBLOCK) b.call('fcntl', [fd, F.SETFL, s.fl & ~O.NONBLOCK], `clear O_NONBLOCK on fd ${fd}`);
    }
  }

  if (input.seccomp && !seccompInstalled && !opts.seccompLate) {
    planSeccomp(b, input.seccomp, 'no_new_privs set');
    seccompInstalled = true;
  }
  return { lookup, seccompInstalled, notes };
}

/**
 * chdir into the process's cwd, as its user, without ever leaving the container (CVE-2024-21626):
 * the path is resolved inside the container's root with no magic links (a cwd such as
 * /proc/self/fd/N cannot name a directory the runtime holds), and getcwd() then proves the cwd is
 * reachable from the root (glibc's getcwd fails with ENOENT for an "(unreachable)" directory).
 */
export function planCwd(b: ProgramBuilder, cwd: string): void {
  enterCwd(b, openCwd(b, cwd), cwd);
  b.call('getcwd', [{ buffer: 4096 }, 4096], 'check that the cwd is inside the container (getcwd)');
}

/** Resolve the cwd inside the container's root, no magic links; returns the O_PATH fd. */
function openCwd(b: ProgramBuilder, cwd: string): number {
  const fd = b.allocFd();
  b.syscall('openat2', [AT_FDCWD, { str: cwd }, openHow(O.PATH | O.DIRECTORY | O.CLOEXEC, 0, RESOLVE.IN_ROOT | RESOLVE.NO_MAGICLINKS), 24], `resolve the cwd ${cwd} inside the container, no magic links (fd ${fd})`);
  return fd;
}

function enterCwd(b: ProgramBuilder, fd: number, cwd: string): void {
  b.call('fchdir', [fd], `chdir ${cwd}`);
  b.close(fd);
}

/**
 * Fds passed through to the program (--preserve-fds, socket activation): the kept slots `pass<i>`
 * go to 3+i, right after the engine's prologue, before anything else can take those numbers.
 */
export function planPassFds(b: ProgramBuilder, n: number): void {
  b.reserveLow(n);
  for (let i = 0; i < n; i++) b.call('dup3', [b.keepFd(`pass${i}`), 3 + i, 0], `pass fd ${3 + i} through to the program`, 'trip');
}

/**
 * A pty in the container's devpts: open /dev/ptmx, unlock it, get the peer (the slave) without a
 * path lookup (TIOCGPTPEER), size it, send the master out on the `console` slot (the runtime
 * forwards it to --console-socket or proxies it), and make the slave the controlling terminal
 * and stdio of a new session.
 */
export function planTerminal(b: ProgramBuilder, t: NonNullable<ProcessSetupInput['terminal']>): void {
  // inside the container's root, never through a magic link (/dev/ptmx is a symlink to pts/ptmx)
  const master = b.allocFd();
  b.syscall('openat2', [AT_FDCWD, { str: '/dev/ptmx' }, openHow(O.RDWR | O.NOCTTY | O.CLOEXEC, 0, RESOLVE.IN_ROOT | RESOLVE.NO_MAGICLINKS), 24], `open /dev/ptmx (pty master, fd ${master})`);
  b.call('ioctl', [master, TIOC.SPTLCK, { bytes: new Uint8Array(4), label: 'int{0}' }], 'unlock the pty');
  const slave = b.allocFd();
  b.call('ioctl', [master, TIOC.GPTPEER, O.RDWR | O.NOCTTY], `open the pty slave (fd ${slave})`);
  if (t.size) {
    const ws = Buffer.alloc(8);
    ws.writeUInt16LE(t.size.height, 0);
    ws.writeUInt16LE(t.size.width, 2);
    b.call('ioctl', [slave, TIOC.SWINSZ, { bytes: ws, label: 'winsize' }], `set the terminal size ${t.size.width}x${t.size.height}`);
  }
  if (t.bindConsole) {
    // /dev/console is the container's terminal, as with runc. Whatever the image has there (a
    // symlink, CVE-2025-52565) is replaced, never followed: a fresh file made and reopened by fd
    // below a /dev reached without symlinks, and the pty bound onto that fd
    const dev = b.allocFd();
    b.syscall('openat2', [AT_FDCWD, { str: '/dev' }, openHow(O.PATH | O.DIRECTORY | O.CLOEXEC, 0, RESOLVE.IN_ROOT | RESOLVE.NO_SYMLINKS | RESOLVE.NO_MAGICLINKS), 24], `open /dev without following symlinks (fd ${dev})`);
    b.call('unlinkat', [dev, { str: 'console' }, 0], 'remove what the image has at /dev/console', 'ignore');
    b.call('mknodat', [dev, { str: 'console' }, S_IF.REG | 0o666, 0], 'create /dev/console afresh');
    const target = b.allocFd();
    b.syscall('openat2', [dev, { str: 'console' }, openHow(O.PATH | O.CLOEXEC, 0, RESOLVE.BENEATH | RESOLVE.NO_SYMLINKS | RESOLVE.NO_MAGICLINKS), 24], `open /dev/console by fd (fd ${target})`);
    b.call('mount', [{ str: `/proc/self/fd/${slave}` }, { str: `/proc/self/fd/${target}` }, 0, MS.BIND, 0], 'bind the pty slave on /dev/console');
    b.close(target);
    b.close(dev);
  }
  b.call('sendmsg', [b.keepFd('console'), { sendFd: master, data: '/dev/ptmx' }, 0], 'send the pty master to the runtime (console socket)');
  b.close(master, 'close the pty master');
  b.call('close', [{ slot: 'console' }], 'close the console socket', 'trip');
  b.call('setsid', [], 'start a new session', 'none');
  b.call('ioctl', [slave, TIOC.SCTTY, 0], 'make the pty the controlling terminal');
  for (const fd of [0, 1, 2]) b.call('dup3', [slave, fd, 0], `use the pty as fd ${fd}`);
  b.close(slave, 'close the pty slave');
  // the runtime proxying the pty sets it up (output flags) before the program can write
  if (t.checkpoint) b.checkpoint('terminal');
}

/** The final steps: seccomp (if still due), one execve per lookup candidate, then _exit(127). */
export function planExec(b: ProgramBuilder, input: ProcessSetupInput, lookup: LookupPlan, seccompDue: boolean): number {
  if (input.seccomp && seccompDue) planSeccomp(b, input.seccomp, 'as late as possible');
  const argv = input.process.args ?? [];
  const envp = processEnv(input.process, input.home);
  for (const c of lookup.candidates) b.exec(c, argv, envp, `execve ${c}`);
  b.exit(127, 'exit 127: no candidate could be executed');
  return lookup.candidates.length;
}
