// The container's init, planned from its config: namespaces, the rootfs and its mounts, /dev,
// pivot_root, masked and read-only paths, hostname, sysctls, rlimits, then the process setup
// (process.ts), a wait for `start` on the exec FIFO, and the exec.
//
// Phases, as the child runs them:
//   A. (engine) fd normalisation → checkpoint "mapping": the parent writes uid/gid maps, joins
//      the cgroups and sets oom_score_adj while the child waits;
//   B. become root of the user namespace, mounts (every target resolved inside the rootfs with
//      openat2(RESOLVE_IN_ROOT) and mounted through /proc/self/fd, so a symlink in the rootfs can
//      never send a mount to the host), /dev → checkpoint "hooks" (prestart, createRuntime,
//      createContainer) → pivot_root, masks, read-only paths, hostname, sysctls, rlimits, process
//      setup → checkpoint "ready": create records the state and exits;
//   C. open the exec FIFO (blocks until `start` opens it for reading); records now go into the
//      FIFO, which `start` reads until EOF (the FIFO is close-on-exec: EOF means execve worked).

import { CLONE, MS, MNT_DETACH, NAMESPACES, O, PR, RESOLVE, RLIMITS, S_IF, AT_EMPTY_PATH, AT_FDCWD, AT_RECURSIVE } from '../linux/constants';
import type { Hooks, LinuxDevice, Mount, NamespaceType, Spec } from '../spec/types';
import type { Program } from '../spawn/program';
import { ProgramBuilder, joinOwnCgroupsV1, makedev, mountAttr, openHow, rlimit } from './builder';
import { pathPrefixes, type FactQueries, type HostFacts, type PathKind } from './facts';
import { LOCKED_FLAGS, parseMountOptions } from './mount-options';
import { planExec, planPassFds, planProcessSetup, type CompiledFilter, type LookupPlan } from './process';

export interface InitPlanInput {
  spec: Spec;
  /** absolute host path of the rootfs */
  rootfs: string;
  facts: HostFacts;
  noPivot?: boolean;
  seccomp?: CompiledFilter | null;
  /** fds to pass through at 3.. (slots pass0..) */
  passFds?: number;
  /** the process gets a pty (process.terminal); its master goes out on the `console` slot */
  terminal?: boolean;
  /**
   * cgroup v1 directories the init moves itself into, with no global lock (joinOwnCgroupsV1):
   * after its mounts and before the hooks, or before "mapping" when it makes a cgroup namespace.
   * Only for a spec that initJoinsOwnCgroups() allows.
   */
  selfJoinCgroups?: string[];
}

/**
 * Whether the init may move itself into its cgroup v1 directories (selfJoinCgroups): it must see
 * the host's cgroupfs at the host's paths (a new mount namespace is a copy of the runtime's, one
 * joined by path is not) and be root over it (no user namespace); a cgroup namespace joined by
 * path is left to the runtime too.
 */
export function initJoinsOwnCgroups(spec: Spec): boolean {
  return !(spec.linux?.namespaces ?? []).some((n) => n.type === 'user' || (n.path && (n.type === 'mount' || n.type === 'cgroup')));
}

export interface InitPlan {
  program: Program;
  /** flags for clone() */
  cloneFlags: number;
  /**
   * the program keeps a `hostproc` slot (the runtime's /proc, O_PATH) to reopen the FIFO through:
   * chrooted without a mount namespace, the init has no /proc of its own
   */
  needsHostProc: boolean;
  /** a new user namespace is created: the parent writes the id maps at "mapping" */
  newUserns: boolean;
  /** namespaces joined by path by the child: slot → path (the caller opens them, passes the fds) */
  childJoins: Record<string, string>;
  /** namespaces joined by path by the parent's thread around clone(), so the child starts in them */
  parentJoins: Partial<Record<NamespaceType, string>>;
  /** a new time namespace: the parent unshares it before clone and writes the offsets */
  newTimens: boolean;
  lookup: LookupPlan;
  /** checkpoint names the program stops at, in order */
  checkpoints: string[];
  /** tmpfs mounts with tmpcopyup: at checkpoint "copyup:<dest>" the parent copies <rootfs><dest> in */
  copyups: string[];
  warnings: string[];
  /** things worth knowing that are not problems (shown with --debug and by explain) */
  notes: string[];
  /**
   * fds the init still holds at checkpoint "ready" that the parent must verify through
   * /proc/PID/fd/N before it lets the init go on: the procfs and sysfs the masks were resolved in
   * really are procfs and sysfs, and the mask source really is the character device 1:3.
   */
  verify: FdCheck[];
}

export interface FdCheck {
  fd: number;
  expect: 'procfs' | 'sysfs' | 'devnull';
  what: string;
}

const DEFAULT_DEVICES: Array<{ path: string; major: number; minor: number }> = [
  { path: '/dev/null', major: 1, minor: 3 },
  { path: '/dev/zero', major: 1, minor: 5 },
  { path: '/dev/full', major: 1, minor: 7 },
  { path: '/dev/random', major: 1, minor: 8 },
  { path: '/dev/urandom', major: 1, minor: 9 },
  { path: '/dev/tty', major: 5, minor: 0 },
];

const DEV_SYMLINKS: Array<[string, string]> = [
  ['/proc/self/fd', '/dev/fd'],
  ['/proc/self/fd/0', '/dev/stdin'],
  ['/proc/self/fd/1', '/dev/stdout'],
  ['/proc/self/fd/2', '/dev/stderr'],
];

const TARGET_OPEN = O.PATH | O.CLOEXEC;
const RESOLVE_SAFE = RESOLVE.IN_ROOT | RESOLVE.NO_MAGICLINKS;
/** proc and sysfs are mounted only on a real directory: no symlink anywhere on the way (runc's rule) */
const RESOLVE_NO_LINKS = RESOLVE.IN_ROOT | RESOLVE.NO_SYMLINKS | RESOLVE.NO_MAGICLINKS;
/** a path below a mount the init made itself never leaves that mount's tree */
const RESOLVE_BELOW = RESOLVE.BENEATH | RESOLVE.NO_SYMLINKS | RESOLVE.NO_MAGICLINKS;

/** The mount-related host facts this spec needs. */
export function initFactQueries(spec: Spec): FactQueries {
  const rootfsPaths = new Set<string>();
  const hostPaths = new Set<string>();
  const bindSources = new Set<string>();
  for (const m of spec.mounts ?? []) {
    for (const p of pathPrefixes(m.destination)) rootfsPaths.add(p);
    if (isBindMount(m) && m.source) bindSources.add(m.source);
  }
  for (const d of [...DEFAULT_DEVICES.map((d) => d.path), ...(spec.linux?.devices ?? []).map((d) => d.path)]) {
    for (const p of pathPrefixes(d)) rootfsPaths.add(p);
  }
  for (const p of [...(spec.linux?.maskedPaths ?? []), ...(spec.linux?.readonlyPaths ?? [])]) {
    if (p.startsWith('/proc/') || p.startsWith('/sys/')) hostPaths.add(p);
    else rootfsPaths.add(p);
  }
  for (const p of pathPrefixes(spec.process?.cwd ?? '/')) rootfsPaths.add(p);
  return { rootfsPaths: [...rootfsPaths], hostPaths: [...hostPaths], bindSources: [...bindSources] };
}

export function isBindMount(m: Mount): boolean {
  return m.type === 'bind' || (m.options ?? []).some((o) => o === 'bind' || o === 'rbind');
}

function clean(p: string): string {
  const parts: string[] = [];
  for (const s of p.split('/')) {
    if (!s || s === '.') continue;
    if (s === '..') parts.pop();
    else parts.push(s);
  }
  return '/' + parts.join('/');
}

/** container path → path relative to the rootfs fd ("." for the root) */
function rel(p: string): string {
  const c = clean(p);
  return c === '/' ? '.' : c.slice(1);
}

export function planInit(input: InitPlanInput): InitPlan {
  const { spec, facts } = input;
  const linux = spec.linux ?? {};
  const process = spec.process;
  const b = new ProgramBuilder();
  const warnings: string[] = [];
  const checkpoints: string[] = [];

  // ---- namespaces ----------------------------------------------------------------------
  const nss = linux.namespaces ?? [];
  const has = (t: NamespaceType) => nss.some((n) => n.type === t);
  const joinedUser = nss.find((n) => n.type === 'user' && n.path);
  const newUserns = nss.some((n) => n.type === 'user' && !n.path);
  const userns = newUserns || !!joinedUser;
  // without a mount namespace of its own the container shares the runtime's mount table: nothing
  // is mounted, masked or pivoted (it would happen on the host); the process is chrooted
  const mountNs = nss.find((n) => n.type === 'mount');
  if (!mountNs) warnings.push('no mount namespace: mounts, devices, masked and read-only paths are not set up (they would change the host); the process is only chrooted into the rootfs');
  let cloneFlags = 0;
  let unshareFlags = 0;
  const childJoins: Record<string, string> = {};
  const parentJoins: Partial<Record<NamespaceType, string>> = {};
  let newTimens = false;
  let newCgroupns = false;
  for (const ns of nss) {
    const flag = NAMESPACES[ns.type].flag;
    if (ns.type === 'time') {
      if (ns.path) childJoins[`ns:time`] = ns.path; // setns(time) needs a single-threaded caller: the child
      else newTimens = true; // unshare(CLONE_NEWTIME) affects children only: the parent does it
      continue;
    }
    if (ns.path) {
      // user and mount can only be joined by a single-threaded process (the child); the others
      // are joined by the parent's thread around clone() when the child makes a new user
      // namespace (from inside it, it would lack the privileges over them)
      // (a multithreaded process may not join user or mount namespaces: the child does those)
      if (joinedUser || ns.type === 'user' || ns.type === 'mount') childJoins[`ns:${ns.type}`] = ns.path;
      else parentJoins[ns.type] = ns.path;
      continue;
    }
    // a new cgroup namespace must be made after the parent put us into our cgroups, or its root
    // would be the runtime's cgroup: unshared right after the "mapping" checkpoint
    if (ns.type === 'cgroup') newCgroupns = true;
    else if (joinedUser && ns.type !== 'pid') unshareFlags |= flag;
    else cloneFlags |= flag;
  }
  if (joinedUser && has('pid') && !nss.find((n) => n.type === 'pid')?.path) {
    throw new Error('linux.namespaces: a new pid namespace together with a user namespace joined by path is not supported');
  }
  if (joinedUser && parentJoins.pid === undefined && childJoins['ns:pid']) {
    // pid namespaces are entered at clone: the parent's thread always joins them
    parentJoins.pid = childJoins['ns:pid'];
    delete childJoins['ns:pid'];
  }

  b.channel(b.keepFd('sync'), 'checkpoints on the sync socket');
  b.records(b.keepFd('records'), 'step records on the records pipe');
  b.keepFd('fifo');
  for (const slot of Object.keys(childJoins)) b.keepFd(slot);
  b.timestamp('child started');
  // inherited from the runtime already (it is non-dumpable before clone): while the init runs
  // the runtime's code, nothing in the container may open /proc/<init>/exe, fd, mem, environ
  b.call('prctl', [PR.SET_DUMPABLE, 0, 0, 0, 0], 'make the init non-dumpable: no container process can open /proc/<init>/exe, fd, mem (CVE-2019-5736, CVE-2024-21626)');
  if (input.passFds) planPassFds(b, input.passFds);
  b.call('prctl', [PR.SET_NAME, { str: 'tsrunc:[init]' }, 0, 0, 0], 'name the process tsrunc:[init] (ps shows it while it waits)', 'none');

  // join (user first: it grants the rights over the others), then create what is new
  const joinOrder: NamespaceType[] = ['user', 'mount', 'network', 'uts', 'ipc', 'cgroup', 'pid', 'time'];
  for (const t of joinOrder) {
    const slot = `ns:${t}`;
    if (childJoins[slot]) b.call('setns', [{ slot }, NAMESPACES[t].flag], `join ${t} namespace ${childJoins[slot]}`);
  }
  if (unshareFlags) b.call('unshare', [unshareFlags], `unshare new namespaces inside the joined user namespace`);

  // The init's own cgroup joins (selfJoinCgroups) come after its mounts: a migration by the
  // runtime (the joins left to it, if any) or its warm-up holds cgroup_mutex while the kernel
  // waits for a grace period, and the joins would wait for it too. Before the hooks, which see
  // the init in its cgroups; before "mapping" when it makes a cgroup namespace (whose root is
  // the cgroup it is in then).
  const joinOwnCgroups = () => joinOwnCgroupsV1(b, input.selfJoinCgroups ?? [], 'the init');
  if (newCgroupns) joinOwnCgroups();
  b.checkpoint('mapping');
  checkpoints.push('mapping');
  b.timestamp('mapped');
  if (newCgroupns) b.call('unshare', [CLONE.NEWCGROUP], 'unshare a new cgroup namespace (rooted at the container\'s cgroup)');

  if (userns) {
    // after uid_map is written our uid (host root) is unmapped here: become the namespace's root
    b.syscall('setresgid', [0, 0, 0], 'become root of the user namespace (gid)');
    b.syscall('setresuid', [0, 0, 0], 'become root of the user namespace (uid)');
  }
  b.call('umask', [0], 'umask 0 while creating files and devices', 'none');

  const rootProp = propagationFlags(linux.rootfsPropagation);
  const mp = mountNs ? planRootfs(b, input, userns) : null;
  if (!newCgroupns) joinOwnCgroups();
  const hooks: Hooks = spec.hooks ?? {};
  if ((hooks.prestart?.length ?? 0) + (hooks.createRuntime?.length ?? 0) + (hooks.createContainer?.length ?? 0) > 0) {
    b.checkpoint('hooks');
    checkpoints.push('hooks');
  }
  if (mp) {
    // as runc: sysctls first (they write /proc/sys), then read-only paths, then masks. All before
    // pivot_root, by fd: a /proc or /sys path is resolved inside the procfs or sysfs the init
    // mounted itself, never through a path the image controls (CVE-2025-31133, CVE-2025-52881)
    for (const [key, value] of Object.entries(linux.sysctl ?? {})) mp.sysctl(key, value);
    for (const p of linux.readonlyPaths ?? []) mp.readonly(clean(p));
    for (const p of linux.maskedPaths ?? []) mp.mask(clean(p));
    planPivot(b, input, userns, mp.root);
  } else {
    b.call('chroot', [{ str: input.rootfs }], `chroot ${input.rootfs} (no mount namespace: no pivot_root)`);
    b.call('chdir', [{ str: '/' }], 'chdir /');
    for (const [key, value] of Object.entries(linux.sysctl ?? {})) {
      const file = `/proc/sys/${sysctlPath(key)}`;
      const fd = b.allocFd();
      b.call('open', [{ str: file }, O.WRONLY | O.CLOEXEC | O.NOFOLLOW, 0], `open ${file} (sysctl ${key})`);
      b.call('write', [fd, { str: value }, Buffer.byteLength(value)], `sysctl ${key}=${value}`);
      b.close(fd);
    }
  }
  // ---- uts, rlimits, personality ----------------------------------------------------------------
  if (spec.hostname !== undefined && has('uts')) b.call('sethostname', [{ str: spec.hostname }, Buffer.byteLength(spec.hostname)], `sethostname ${spec.hostname}`);
  if (spec.domainname !== undefined && has('uts')) b.call('setdomainname', [{ str: spec.domainname }, Buffer.byteLength(spec.domainname)], `setdomainname ${spec.domainname}`);
  // last of the mount work: an unbindable tree refuses the binds above
  if (mp && rootProp) b.call('mount', [0, { str: '/' }, 0, rootProp, 0], `make / ${linux.rootfsPropagation}`);
  for (const r of process?.rlimits ?? []) {
    const res = RLIMITS[r.type];
    if (res === undefined) throw new Error(`process.rlimits: unknown type ${r.type}`);
    b.call('setrlimit', [res, rlimit(r.soft, r.hard)], `setrlimit ${r.type} soft ${r.soft} hard ${r.hard}`);
  }
  if (linux.personality) {
    const domain = linux.personality.domain === 'LINUX32' ? 0x0008 : 0;
    b.syscall('personality', [domain], `personality ${linux.personality.domain}`, 'none');
  }

  // ---- the process ------------------------------------------------------------------------
  const setup = process && {
    process,
    capLastCap: facts.capLastCap,
    stdio: facts.stdio,
    seccomp: input.seccomp ?? null,
    home: facts.home,
    apparmorProfile: process.apparmorProfile,
    setgroupsAllowed: true,
    passFds: input.passFds,
    terminal: input.terminal ? { size: process.consoleSize, bindConsole: !!mountNs } : undefined,
  };
  // a notify listener fd must reach the runtime before "ready": no late filter then
  const planned = setup ? planProcessSetup(b, setup, { seccompLate: !input.seccomp?.notify }) : null;
  const lookup: LookupPlan = planned?.lookup ?? { name: '', candidates: [], direct: false };
  b.timestamp('ready');
  b.checkpoint('ready');
  checkpoints.push('ready');

  // ---- phase C: wait for start ------------------------------------------------------------
  b.records(null, 'the records pipe is done');
  b.channel(null, 'the sync socket is done');
  b.call('close', [{ slot: 'sync' }], 'close the sync socket', 'trip');
  b.call('close', [{ slot: 'records' }], 'close the records pipe', 'trip');
  const verify = mp?.held() ?? [];
  // the FIFO is reopened through the procfs the init mounted and the runtime verified, not
  // through whatever /proc names in the container by now
  const proc = mp?.procFd();
  for (const v of verify) if (v.fd !== proc) b.close(v.fd, `close ${v.what} (fd ${v.fd}), verified by the runtime at "ready"`);
  const fifoFd = b.allocFd();
  if (proc !== undefined) {
    b.call('openat', [proc, { fdPath: 'fifo', relative: true }, O.WRONLY | O.CLOEXEC, 0], `open the exec FIFO through the container's procfs (fd ${fifoFd}): blocks until start`, 'trip');
    b.close(proc, 'close the procfs fd');
  } else if (mountNs) {
    b.call('open', [{ fdPath: 'fifo' }, O.WRONLY | O.CLOEXEC, 0], `open the exec FIFO (fd ${fifoFd}): blocks until start`, 'trip');
  } else {
    // chrooted without a /proc of our own: through the runtime's. Not by name in the state
    // directory: `run` may start (and unlink the name) before the init gets to its open
    const hostProc = b.keepFd('hostproc');
    b.call('openat', [hostProc, { fdPath: 'fifo', relative: true }, O.WRONLY | O.CLOEXEC, 0], `open the exec FIFO through the runtime's procfs (fd ${fifoFd}): blocks until start`, 'trip');
    b.call('close', [hostProc], "close the runtime's procfs fd", 'trip');
  }
  b.records(fifoFd, 'records now go to start through the exec FIFO');
  b.timestamp('started');
  if (setup && planned) planExec(b, setup, lookup, !planned.seccompInstalled);
  else b.exit(1, 'exit 1: the config has no process to run (start reports it)');
  const notes = planned?.notes ?? [];

  return {
    program: b.build(),
    cloneFlags,
    needsHostProc: !mountNs,
    newUserns,
    childJoins,
    parentJoins,
    newTimens,
    lookup,
    checkpoints: [...checkpoints.slice(0, 1), ...(mp?.copyups ?? []).map((d) => `copyup:${d}`), ...checkpoints.slice(1)],
    copyups: mp?.copyups ?? [],
    warnings,
    notes,
    verify,
  };
}

/** A sysctl key as a path below /proc/sys: dots separate, unless the key uses '/' (sysctl(8)). */
export function sysctlPath(key: string): string {
  const first = key.search(/[./]/);
  return first >= 0 && key[first] === '/' ? key : key.replace(/\./g, '/');
}

/** The rootfs and its mounts, before pivot_root (needs the container's own mount namespace). */
function planRootfs(b: ProgramBuilder, input: InitPlanInput, userns: boolean): MountPlanner {
  const { spec, facts } = input;
  const linux = spec.linux ?? {};
  // rslave first, so that nothing done here propagates to the host (and nothing is shared, which
  // pivot_root refuses); linux.rootfsPropagation is applied to the new / after pivot_root
  b.call('mount', [0, { str: '/' }, 0, MS.SLAVE | MS.REC, 0], 'make / rslave so nothing propagates to the host');
  b.call('mount', [{ str: input.rootfs }, { str: input.rootfs }, 0, MS.BIND | MS.REC, 0], `bind the rootfs ${input.rootfs} on itself`);
  // fd 3 unless fds are passed through (--preserve-fds): they hold 3.. already
  const rootFd = b.allocFd();
  b.call('open', [{ str: input.rootfs }, O.PATH | O.DIRECTORY | O.CLOEXEC, 0], `open the rootfs (fd ${rootFd})`);

  const mp = new MountPlanner(b, facts, userns, rootFd);
  for (const m of spec.mounts ?? []) mp.mount(m);
  if (!mp.devIsBind()) mp.setupDev(linux.devices ?? [], userns);
  else for (const d of linux.devices ?? []) mp.device(d, userns);
  if (spec.process) mp.ensureDir(spec.process.cwd);
  b.timestamp('mounts done');
  return mp;
}

/** pivot_root (or MS_MOVE + chroot), then the read-only root. */
function planPivot(b: ProgramBuilder, input: InitPlanInput, userns: boolean, rootFd: number): void {
  const { spec, facts } = input;
  b.call('fchdir', [rootFd], 'chdir into the rootfs');
  b.close(rootFd, 'close the rootfs fd');
  if (input.noPivot) {
    b.call('mount', [{ str: input.rootfs }, { str: '/' }, 0, MS.MOVE, 0], 'move the rootfs onto / (--no-pivot)');
    b.call('chroot', [{ str: '.' }], 'chroot .');
  } else {
    b.syscall('pivot_root', [{ str: '.' }, { str: '.' }], 'pivot_root(".", ".")');
    // the old root is stacked on "." now: detach it, without letting the unmount propagate
    b.call('mount', [0, { str: '.' }, 0, MS.SLAVE | MS.REC, 0], 'make the old root rslave');
    b.call('umount2', [{ str: '.' }, MNT_DETACH], 'unmount the old root');
  }
  b.call('chdir', [{ str: '/' }], 'chdir /');
  if (spec.root?.readonly) {
    const locked = userns ? facts.rootfsMount.flags & LOCKED_FLAGS : 0;
    b.call('mount', [0, { str: '/' }, 0, MS.BIND | MS.REMOUNT | MS.RDONLY | locked, 0], 'remount / read-only');
  }
}

function propagationFlags(p?: string): number {
  switch (p) {
    case undefined:
    case '':
      return 0;
    case 'shared':
      return MS.SHARED | MS.REC;
    case 'slave':
      return MS.SLAVE | MS.REC;
    case 'private':
      return MS.PRIVATE | MS.REC;
    case 'unbindable':
      return MS.UNBINDABLE | MS.REC;
    default:
      throw new Error(`linux.rootfsPropagation: unknown value ${p}`);
  }
}

/**
 * Plans the mounts. Paths the parent saw in the rootfs (facts) are trusted to exist only when no
 * earlier mount covers them; below a mount the chain made, everything is created by the chain.
 */
class MountPlanner {
  /** destinations mounted so far, in order */
  private readonly mounted: Array<{ dest: string; flags: number; bind: boolean }> = [];
  private readonly maskedDirs: string[] = [];
  /** proc and sysfs mounts the init made, with an fd of each (kept open until "ready") */
  private readonly special: Array<{ dest: string; fd: number; type: 'proc' | 'sysfs' }> = [];
  /** fds the parent verifies at "ready" (then the init closes them) */
  private readonly checks: FdCheck[] = [];
  /** the host's /dev/null, opened once: the source of every file mask */
  private devNull = -1;
  /** tmpcopyup destinations, in order (each has a checkpoint "copyup:<dest>") */
  readonly copyups: string[] = [];

  constructor(
    private readonly b: ProgramBuilder,
    private readonly facts: HostFacts,
    private readonly userns: boolean,
    /** the fd of the rootfs (O_PATH): every path of the container is resolved from it */
    readonly root: number,
  ) {}

  devIsBind(): boolean {
    return this.mounted.some((m) => m.dest === '/dev' && m.bind);
  }

  private covered(p: string): boolean {
    return this.mounted.some((m) => p !== m.dest && (m.dest === '/' || p.startsWith(m.dest + '/')));
  }

  private kind(p: string): PathKind {
    if (this.covered(p)) return 'missing';
    return this.facts.rootfsPaths[p] ?? 'missing';
  }

  /** Create the directory (and its parents) inside the rootfs, never leaving it. */
  ensureDir(path: string): void {
    for (const prefix of pathPrefixes(this.resolve(path))) this.ensureEntry(prefix, 'dir');
  }

  private ensureEntry(p: string, want: 'dir' | 'file'): void {
    const k = this.kind(p);
    if (k === 'dir' && want === 'dir') return;
    if (k === 'file' && want === 'file') return;
    const parent = p.slice(0, p.lastIndexOf('/')) || '/';
    const name = p.slice(p.lastIndexOf('/') + 1);
    let dirFd = this.root;
    if (parent !== '/') {
      dirFd = this.b.allocFd();
      this.b.syscall('openat2', [this.root, { str: rel(parent) }, openHow(O.PATH | O.DIRECTORY | O.CLOEXEC, 0, RESOLVE_SAFE), 24], `resolve ${parent} inside the rootfs (fd ${dirFd})`);
    }
    // EEXIST is fine (a symlink there stays a symlink and is resolved inside the rootfs later)
    if (want === 'dir') this.b.call('mkdirat', [dirFd, { str: name }, 0o755], `mkdir ${p}`, 'ignore');
    else this.b.call('mknodat', [dirFd, { str: name }, S_IF.REG | 0o644, 0], `create file ${p}`, 'ignore');
    if (dirFd !== this.root) this.b.close(dirFd);
  }

  /** Open a mount target inside the rootfs: returns the fd (its /proc/self/fd path is the target). */
  private openTarget(dest: string, noSymlinks = false): number {
    const fd = this.b.allocFd();
    if (noSymlinks) {
      this.b.syscall('openat2', [this.root, { str: rel(dest) }, openHow(TARGET_OPEN | O.DIRECTORY, 0, RESOLVE_NO_LINKS), 24], `resolve ${dest} inside the rootfs, a directory reached without any symlink (fd ${fd})`);
    } else {
      this.b.syscall('openat2', [this.root, { str: rel(dest) }, openHow(TARGET_OPEN, 0, RESOLVE_SAFE), 24], `resolve ${dest} inside the rootfs (fd ${fd})`);
    }
    return fd;
  }

  /** A mount at `dest` hides the proc/sysfs mounts at or below it: their fds no longer name what the container sees. */
  private uncover(dest: string): void {
    for (let i = this.special.length - 1; i >= 0; i--) {
      const s = this.special[i];
      if (dest === '/' || s.dest === dest || s.dest.startsWith(dest + '/')) {
        this.b.close(s.fd, `close the fd of the ${s.type} at ${s.dest} (covered by the mount at ${dest})`);
        for (let c = 0; c < this.checks.length; c++) {
          if (this.checks[c].fd !== s.fd) continue;
          this.checks.splice(c, 1);
          break;
        }
        this.special.splice(i, 1);
      }
    }
  }

  /** The proc or sysfs mount made by the init that holds container path `p` (the deepest one). */
  private specialFor(p: string): { dest: string; fd: number; type: 'proc' | 'sysfs' } | undefined {
    let best: { dest: string; fd: number; type: 'proc' | 'sysfs' } | undefined;
    for (const s of this.special) if ((p === s.dest || p.startsWith(s.dest + '/')) && (!best || s.dest.length > best.dest.length)) best = s;
    return best;
  }

  /**
   * Open a masked or read-only path: below a proc/sysfs mount the init made, relative to that
   * mount's fd (so it is that procfs or sysfs, whatever the image did with /proc or /sys);
   * elsewhere inside the rootfs. Symlinks never lead out of either.
   */
  private openInContainer(p: string): number {
    const sp = this.specialFor(p);
    const fd = this.b.allocFd();
    if (sp) {
      const sub = p === sp.dest ? '.' : p.slice(sp.dest.length + 1);
      this.b.syscall('openat2', [sp.fd, { str: sub }, openHow(TARGET_OPEN, 0, RESOLVE_SAFE), 24], `resolve ${p} inside the ${sp.type} mounted at ${sp.dest} (fd ${fd})`);
    } else {
      this.b.syscall('openat2', [this.root, { str: rel(p) }, openHow(TARGET_OPEN, 0, RESOLVE_SAFE), 24], `resolve ${p} inside the rootfs (fd ${fd})`);
    }
    return fd;
  }

  /** The fd of the procfs the init mounted at /proc, if it did. */
  procFd(): number | undefined {
    return this.special.find((s) => s.dest === '/proc' && s.type === 'proc')?.fd;
  }

  /** fds the parent verifies at "ready"; the init closes them after that checkpoint. */
  held(): FdCheck[] {
    return [...this.checks];
  }

  /** the container path with the rootfs's symlinks resolved inside it (see HostFacts.resolved) */
  private resolve(p: string): string {
    const c = clean(p);
    return this.facts.resolved[c] ?? c;
  }

  mount(m: Mount): void {
    const dest = this.resolve(m.destination);
    const opts = parseMountOptions(m.options);
    if (opts.tmpcopyup && (isBindMount(m) || m.type !== 'tmpfs')) throw new Error(`mount ${dest}: tmpcopyup applies to tmpfs mounts only`);
    if (opts.tmpcopyup && this.covered(dest)) throw new Error(`mount ${dest}: tmpcopyup below another mount is not supported`);
    if (opts.idmap || m.uidMappings || m.gidMappings) throw new Error(`mount ${dest}: idmapped mounts are not supported yet`);
    const bind = isBindMount(m);
    this.uncover(dest);
    if (m.type === 'cgroup' || m.type === 'cgroup2') {
      this.cgroupMount(dest, m, opts.flags);
      return;
    }
    // proc and sysfs only on a real directory (runc's rule): /proc as a symlink to a tmpfs or a
    // directory of the image's would make masks and sysctls land on whatever it points to
    const special = !bind && (m.type === 'proc' || m.type === 'sysfs') ? m.type : null;
    if (special) {
      const given = clean(m.destination);
      if (dest !== given) throw new Error(`mount ${given}: filesystem "${special}" must be mounted on an ordinary directory (it is a symlink to ${dest} in the rootfs)`);
      const k = this.kind(dest);
      if (k !== 'dir' && k !== 'missing') throw new Error(`mount ${given}: filesystem "${special}" must be mounted on an ordinary directory (it is a ${k} in the rootfs)`);
    }
    let srcKind: PathKind = 'dir';
    if (bind) {
      const src = this.facts.bindSources[m.source ?? ''];
      if (!src || src.kind === 'missing') throw new Error(`mount ${dest}: bind source ${m.source} does not exist`);
      srcKind = src.kind === 'dir' ? 'dir' : 'file';
    }
    // parents are directories; the target itself matches the source (file binds need a file)
    const prefixes = pathPrefixes(dest);
    for (const p of prefixes.slice(0, -1)) this.ensureEntry(p, 'dir');
    if (dest !== '/') this.ensureEntry(dest, srcKind === 'dir' ? 'dir' : 'file');

    const fd = this.openTarget(dest, !!special);
    const target = { str: `/proc/self/fd/${fd}` };
    const what = `${dest}${m.source ? ` from ${m.source}` : ''}`;
    const flagsNoProp = opts.flags & ~(MS.BIND | MS.REC | MS.REMOUNT);
    let lockedFlags = 0;
    if (bind) {
      this.b.call('mount', [{ str: m.source ?? '' }, target, 0, MS.BIND | (opts.flags & MS.REC), 0], `bind mount ${what}`);
      // in a user namespace a bind mount inherits the source mount's locked flags: keep them
      // unless the options clear them (which then fails, as it must)
      if (this.userns) lockedFlags = (this.facts.bindSources[m.source ?? '']?.mountFlags ?? 0) & LOCKED_FLAGS & ~opts.cleared;
    } else {
      const type = m.type ?? 'none';
      const data = opts.data ? { str: opts.data } : 0;
      this.b.call('mount', [{ str: m.source ?? type }, target, { str: type }, flagsNoProp, data], `mount ${type} on ${dest}${opts.data ? ` (${opts.data})` : ''}`);
    }
    this.b.close(fd);
    this.mounted.push({ dest, flags: opts.flags, bind });
    if (special) {
      // the new mount's root, kept: masks, read-only paths and sysctls below it are resolved from it
      const top = this.openTarget(dest, true);
      this.special.push({ dest, fd: top, type: special });
      this.checks.push({ fd: top, expect: special === 'proc' ? 'procfs' : 'sysfs', what: `the ${special} mounted at ${dest}` });
    }
    if (opts.tmpcopyup) {
      // the parent copies what the tmpfs now hides into it, before anything is mounted below
      this.b.checkpoint(`copyup:${dest}`);
      this.copyups.push(dest);
    }

    const needsRemount = bind && (flagsNoProp | lockedFlags) !== 0;
    if (needsRemount || opts.propagation.length || opts.hasRecursive) {
      // reopen: the fd opened before mounting names the covered directory, not the new mount
      const top = this.openTarget(dest);
      const topPath = { str: `/proc/self/fd/${top}` };
      if (needsRemount) {
        this.b.call('mount', [0, topPath, 0, MS.BIND | MS.REMOUNT | flagsNoProp | lockedFlags, 0], `remount ${dest} (${(m.options ?? []).join(',')})`);
      }
      for (const prop of opts.propagation) this.b.call('mount', [0, topPath, 0, prop, 0], `set propagation of ${dest}`);
      if (opts.hasRecursive) {
        this.b.syscall('mount_setattr', [top, { str: '' }, AT_EMPTY_PATH | AT_RECURSIVE, mountAttr(opts.attrSet, opts.attrClear), 32], `set recursive attributes of ${dest}`);
      }
      this.b.close(top);
    }
  }

  /**
   * cgroup v1 (and hybrid) as runc shows it: a tmpfs at the destination and one directory per
   * hierarchy holding the container's own cgroup (bind mounted from the host), read-only if asked.
   */
  private cgroupMount(dest: string, m: Mount, flags: number): void {
    const base = flags & (MS.NOSUID | MS.NODEV | MS.NOEXEC);
    for (const p of pathPrefixes(dest)) this.ensureEntry(p, 'dir');
    const only = this.facts.cgroupMounts.length === 1 ? this.facts.cgroupMounts[0] : undefined;
    if (only?.fsType === 'cgroup2') {
      // pure cgroup v2: the container's own cgroup directly at the destination, as runc shows it
      const fd = this.openTarget(dest);
      this.b.call('mount', [{ str: only.hostPath }, { str: `/proc/self/fd/${fd}` }, 0, MS.BIND | MS.REC, 0], `bind the container's cgroup (v2) on ${dest}`);
      this.b.close(fd);
      const top = this.openTarget(dest);
      this.b.call('mount', [0, { str: `/proc/self/fd/${top}` }, 0, MS.BIND | MS.REMOUNT | (flags & (MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC)), 0], `remount ${dest} (${(m.options ?? []).join(',')})`);
      this.b.close(top);
      this.mounted.push({ dest, flags, bind: true });
      return;
    }
    const fd = this.openTarget(dest);
    this.b.call('mount', [{ str: 'tmpfs' }, { str: `/proc/self/fd/${fd}` }, { str: 'tmpfs' }, base, { str: 'mode=755' }], `mount tmpfs on ${dest} for the cgroup hierarchies`);
    this.b.close(fd);
    this.mounted.push({ dest, flags, bind: false });
    for (const cg of this.facts.cgroupMounts) {
      const sub = `${dest}/${cg.name}`;
      this.ensureEntry(sub, 'dir');
      const t = this.openTarget(sub);
      const tp = { str: `/proc/self/fd/${t}` };
      this.b.call('mount', [{ str: cg.hostPath }, tp, 0, MS.BIND | MS.REC, 0], `bind the container's ${cg.name} cgroup on ${sub}`);
      this.b.close(t);
      const top = this.openTarget(sub);
      this.b.call('mount', [0, { str: `/proc/self/fd/${top}` }, 0, MS.BIND | MS.REMOUNT | (flags & (MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC)), 0], `remount ${sub} (${(m.options ?? []).join(',')})`);
      this.b.close(top);
      this.mounted.push({ dest: sub, flags, bind: true });
    }
    if (flags & MS.RDONLY) {
      const top = this.openTarget(dest);
      this.b.call('mount', [0, { str: `/proc/self/fd/${top}` }, 0, MS.REMOUNT | MS.RDONLY | base, 0], `remount ${dest} read-only`);
      this.b.close(top);
    }
  }

  /** /dev as runc makes it: default devices, linux.devices, the standard symlinks, ptmx. */
  setupDev(devices: LinuxDevice[], userns: boolean): void {
    this.ensureDir('/dev');
    for (const d of DEFAULT_DEVICES) this.device({ path: d.path, type: 'c', major: d.major, minor: d.minor, fileMode: 0o666, uid: 0, gid: 0 }, userns);
    for (const d of devices) this.device(d, userns);
    const devFd = this.b.allocFd();
    this.b.syscall('openat2', [this.root, { str: 'dev' }, openHow(O.PATH | O.DIRECTORY | O.CLOEXEC, 0, RESOLVE_SAFE), 24], `resolve /dev inside the rootfs (fd ${devFd})`);
    const links = [...DEV_SYMLINKS];
    if (this.facts.hasKcore) links.push(['/proc/kcore', '/dev/core']);
    for (const [target, link] of links) {
      this.b.call('symlinkat', [{ str: target }, devFd, { str: link.slice(5) }], `symlink ${link} -> ${target}`, 'ignore');
    }
    // /dev/ptmx must be the devpts instance's: replace whatever is there by a symlink
    this.b.call('unlinkat', [devFd, { str: 'ptmx' }, 0], 'remove /dev/ptmx', 'ignore');
    this.b.call('symlinkat', [{ str: 'pts/ptmx' }, devFd, { str: 'ptmx' }], 'symlink /dev/ptmx -> pts/ptmx');
    this.b.close(devFd);
  }

  /** One device node: mknod, or (in a user namespace, where mknod is refused) a bind of the host's. */
  device(d: LinuxDevice, userns: boolean): void {
    // where the node goes: its directory with the rootfs's symlinks resolved inside it, and the
    // name itself replaced, never followed (an image's /dev/null may be a symlink to a /proc
    // file: CVE-2025-31133). The host device bound in a user namespace is the config's own path.
    const hostPath = clean(d.path);
    const name = hostPath.slice(hostPath.lastIndexOf('/') + 1);
    const parent = this.resolve(hostPath.slice(0, hostPath.lastIndexOf('/')) || '/');
    const path = `${parent === '/' ? '' : parent}/${name}`;
    this.ensureDir(parent);
    const dirFd = this.b.allocFd();
    this.b.syscall('openat2', [this.root, { str: rel(parent) }, openHow(O.PATH | O.DIRECTORY | O.CLOEXEC, 0, RESOLVE_SAFE), 24], `resolve ${parent} inside the rootfs (fd ${dirFd})`);
    if (userns) {
      // whatever the image has there (a symlink to a /proc file, CVE-2025-31133) is replaced by
      // a fresh empty file, opened without following anything
      this.b.call('unlinkat', [dirFd, { str: name }, 0], `remove an existing ${path}`, 'ignore');
      this.b.call('mknodat', [dirFd, { str: name }, S_IF.REG | 0o644, 0], `create ${path} to bind the host device on`);
      const t = this.b.allocFd();
      this.b.syscall('openat2', [dirFd, { str: name }, openHow(TARGET_OPEN, 0, RESOLVE_BELOW), 24], `open ${path}, not following symlinks (fd ${t})`);
      this.b.close(dirFd);
      this.b.call('mount', [{ str: hostPath }, { str: `/proc/self/fd/${t}` }, 0, MS.BIND, 0], `bind the host's ${hostPath} on ${path}`);
      this.b.close(t);
      return;
    }
    const typeBits = d.type === 'b' ? S_IF.BLK : d.type === 'p' ? S_IF.FIFO : S_IF.CHR;
    const mode = (d.fileMode ?? 0o666) & 0o7777;
    // an existing node is replaced, so that it is exactly what the config asks for
    this.b.call('unlinkat', [dirFd, { str: name }, 0], `remove an existing ${path}`, 'ignore');
    this.b.call('mknodat', [dirFd, { str: name }, typeBits | mode, makedev(d.major ?? 0, d.minor ?? 0)], `mknod ${path} ${d.type} ${d.major ?? 0}:${d.minor ?? 0}`);
    this.b.call('fchownat', [dirFd, { str: name }, d.uid ?? 0, d.gid ?? 0, 0x100 /* AT_SYMLINK_NOFOLLOW */], `chown ${path} ${d.uid ?? 0}:${d.gid ?? 0}`);
    this.b.close(dirFd);
  }

  private enclosingFlags(p: string): number {
    let best: { dest: string; flags: number } | undefined;
    for (const m of this.mounted) if ((p === m.dest || p.startsWith(m.dest + '/')) && (!best || m.dest.length > best.dest.length)) best = m;
    return best ? best.flags : 0;
  }

  private runtimeKind(p: string): PathKind {
    if (p.startsWith('/proc/') || p.startsWith('/sys/')) return this.facts.hostPaths[p] ?? 'missing';
    return this.facts.rootfsPaths[p] ?? 'missing';
  }

  /**
   * maskedPaths (before pivot_root, by fd): a read-only tmpfs over directories, the host's
   * /dev/null over files. The source is never the container's /dev/null, which the image or a
   * race could make a symlink to a /proc file (CVE-2025-31133).
   */
  mask(p: string): void {
    const k = this.runtimeKind(p);
    if (k === 'missing') return;
    // below a directory masked already, the path is gone (under an empty tmpfs): nothing to hide
    if (this.maskedDirs.some((d) => p.startsWith(d + '/'))) return;
    if (k === 'dir') this.maskedDirs.push(p);
    if (k !== 'dir' && this.devNull < 0) {
      // opened in our mount namespace before pivot_root: the host's, not the image's; the
      // parent checks at "ready" that it is the character device 1:3
      this.devNull = this.b.allocFd();
      this.b.syscall('openat2', [AT_FDCWD, { str: '/dev/null' }, openHow(O.PATH | O.CLOEXEC, 0, RESOLVE.NO_SYMLINKS | RESOLVE.NO_MAGICLINKS), 24], `open the host's /dev/null, the source of file masks (fd ${this.devNull})`);
      this.checks.push({ fd: this.devNull, expect: 'devnull', what: "the host's /dev/null" });
    }
    const t = this.openInContainer(p);
    const target = { str: `/proc/self/fd/${t}` };
    if (k === 'dir') this.b.call('mount', [{ str: 'tmpfs' }, target, { str: 'tmpfs' }, MS.RDONLY, 0], `mask ${p} (read-only tmpfs)`);
    else this.b.call('mount', [{ str: `/proc/self/fd/${this.devNull}` }, target, 0, MS.BIND, 0], `mask ${p} (/dev/null)`);
    this.b.close(t);
  }

  /** readonlyPaths (before pivot_root, by fd): bind on itself, remount read-only keeping locked flags. */
  readonly(p: string): void {
    if (this.runtimeKind(p) === 'missing') return;
    const locked = this.enclosingFlags(p) & (MS.NOSUID | MS.NODEV | MS.NOEXEC);
    const t = this.openInContainer(p);
    const self = { str: `/proc/self/fd/${t}` };
    this.b.call('mount', [self, self, 0, MS.BIND | MS.REC, 0], `bind ${p} on itself`);
    this.b.close(t);
    // reopen: the fd above names what the bind now covers
    const top = this.openInContainer(p);
    this.b.call('mount', [0, { str: `/proc/self/fd/${top}` }, 0, MS.BIND | MS.REMOUNT | MS.RDONLY | MS.REC | locked, 0], `remount ${p} read-only`);
    this.b.close(top);
  }

  /** A sysctl, written below /proc/sys of the procfs the init mounted at /proc, never leaving it. */
  sysctl(key: string, value: string): void {
    const proc = this.special.find((s) => s.dest === '/proc' && s.type === 'proc');
    if (!proc) throw new Error(`linux.sysctl ${key}: needs a proc mount at /proc`);
    const sub = `sys/${sysctlPath(key)}`;
    const fd = this.b.allocFd();
    this.b.syscall('openat2', [proc.fd, { str: sub }, openHow(O.WRONLY | O.CLOEXEC | O.NOFOLLOW, 0, RESOLVE_BELOW), 24], `open /proc/${sub} in the container's procfs (sysctl ${key}, fd ${fd})`);
    this.b.call('write', [fd, { str: value }, Buffer.byteLength(value)], `sysctl ${key}=${value}`);
    this.b.close(fd);
  }
}

export { CLONE };
