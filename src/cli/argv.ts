// runc's command line is parsed by Go's flag package (through urfave/cli): a long flag may be
// written -flag or --flag, with its value as -flag value, -flag=value or --flag=value, and a
// boolean as -flag=true/false. containerd relies on this (it sends `-no-subreaper`). Commander
// only knows the --flag forms, so argv is normalised here first, with the table of every verb's
// flags — which is also what the CLI declares to commander (one source of truth).

export type FlagKind = 'bool' | 'string' | 'strings';

export interface FlagSpec {
  long: string;
  short?: string;
  kind: FlagKind;
  description: string;
  /** default shown in help (strings only) */
  default?: string;
}

export interface VerbSpec {
  name: string;
  usage: string;
  description: string;
  flags: FlagSpec[];
  /** stop parsing flags at the first positional (exec: what follows the id is the command) */
  stopAtPositional?: boolean;
}

const bundle: FlagSpec = { long: 'bundle', short: 'b', kind: 'string', description: 'path to the root of the bundle directory, defaults to the current directory' };
const consoleSocket: FlagSpec = { long: 'console-socket', kind: 'string', description: 'path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console\'s pseudoterminal' };
const pidFile: FlagSpec = { long: 'pid-file', kind: 'string', description: 'specify the file to write the process id to' };
const noPivot: FlagSpec = { long: 'no-pivot', kind: 'bool', description: 'do not use pivot root to jail process inside rootfs (MS_MOVE + chroot instead)' };
const noNewKeyring: FlagSpec = { long: 'no-new-keyring', kind: 'bool', description: 'do not create a new session keyring for the container' };
const preserveFds: FlagSpec = { long: 'preserve-fds', kind: 'string', description: 'pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total)', default: '0' };
const pidfdSocket: FlagSpec = { long: 'pidfd-socket', kind: 'string', description: 'path to an AF_UNIX socket which will receive the pidfd of the process' };

export const GLOBAL_FLAGS: FlagSpec[] = [
  { long: 'debug', kind: 'bool', description: 'enable debug logging' },
  { long: 'log', kind: 'string', description: 'set the log file to write tsrunc logs to (default is stderr)' },
  { long: 'log-format', kind: 'string', description: 'set the log format ("text" or "json")', default: 'text' },
  { long: 'root', kind: 'string', description: 'root directory for storage of container state (this should be located in tmpfs)', default: '/run/tsrunc' },
  { long: 'criu', kind: 'string', description: 'path to the criu binary used for checkpoint and restore (accepted, not used)' },
  { long: 'systemd-cgroup', kind: 'bool', description: 'enable systemd cgroup support (cgroupsPath is slice:prefix:name)' },
  { long: 'rootless', kind: 'string', description: 'ignore cgroup permission errors ("true", "false", or "auto")', default: 'auto' },
];

export const VERBS: VerbSpec[] = [
  { name: 'create', usage: '<container-id>', description: 'create a container', flags: [bundle, consoleSocket, pidfdSocket, pidFile, noPivot, noNewKeyring, preserveFds] },
  { name: 'start', usage: '<container-id>', description: 'executes the user defined process in a created container', flags: [] },
  {
    name: 'run',
    usage: '<container-id>',
    description: 'create and run a container',
    flags: [
      bundle,
      consoleSocket,
      pidfdSocket,
      { long: 'detach', short: 'd', kind: 'bool', description: 'detach from the container\'s process' },
      { long: 'keep', kind: 'bool', description: 'do not delete the container after it exits' },
      pidFile,
      { long: 'no-subreaper', kind: 'bool', description: 'disable the use of the subreaper used to reap reparented processes' },
      noPivot,
      noNewKeyring,
      preserveFds,
    ],
  },
  { name: 'state', usage: '<container-id>', description: 'output the state of a container', flags: [] },
  {
    name: 'kill',
    usage: '<container-id> [signal]',
    description: 'kill sends the specified signal (default: SIGTERM) to the container\'s init process',
    flags: [{ long: 'all', short: 'a', kind: 'bool', description: 'send the specified signal to all processes inside the container' }],
  },
  {
    name: 'delete',
    usage: '<container-id>',
    description: 'delete any resources held by the container',
    flags: [{ long: 'force', short: 'f', kind: 'bool', description: 'forcibly delete the container if it is still running (uses SIGKILL)' }],
  },
  {
    name: 'list',
    usage: '',
    description: 'lists containers started by tsrunc with the given root',
    flags: [
      { long: 'format', short: 'f', kind: 'string', description: 'select one of: table or json', default: 'table' },
      { long: 'quiet', short: 'q', kind: 'bool', description: 'display only container IDs' },
    ],
  },
  {
    name: 'spec',
    usage: '',
    description: 'create a new specification file (config.json)',
    flags: [bundle, { long: 'rootless', kind: 'bool', description: 'generate a configuration for a rootless container' }],
  },
  { name: 'features', usage: '', description: 'show the enabled features', flags: [] },
  {
    name: 'explain',
    usage: '',
    description: 'print every step the container\'s init would run, with its arguments, without running anything',
    flags: [bundle, { long: 'id', kind: 'string', description: 'container id to plan for (cgroup paths)', default: 'explain' }, noPivot],
  },
  {
    name: 'exec',
    usage: '<container-id> <command> [command options]  ||  -p process.json <container-id>',
    description: 'execute new process inside the container',
    stopAtPositional: true,
    flags: [
      consoleSocket,
      pidfdSocket,
      { long: 'cwd', kind: 'string', description: 'current working directory in the container' },
      { long: 'env', short: 'e', kind: 'strings', description: 'set environment variables' },
      { long: 'tty', short: 't', kind: 'bool', description: 'allocate a pseudo-TTY' },
      { long: 'user', short: 'u', kind: 'string', description: 'UID (format: <uid>[:<gid>])' },
      { long: 'additional-gids', short: 'g', kind: 'strings', description: 'additional gids' },
      { long: 'process', short: 'p', kind: 'string', description: 'path to the process.json' },
      { long: 'detach', short: 'd', kind: 'bool', description: 'detach from the container\'s process' },
      pidFile,
      { long: 'process-label', kind: 'string', description: 'set the asm process label for the process commonly used with selinux' },
      { long: 'apparmor', kind: 'string', description: 'set the apparmor profile for the process' },
      { long: 'no-new-privs', kind: 'bool', description: 'set the no new privileges value for the process' },
      { long: 'cap', short: 'c', kind: 'strings', description: 'add a capability to the bounding set for the process' },
      preserveFds,
      { long: 'cgroup', kind: 'strings', description: 'run the process in an (existing) sub-cgroup(s)' },
      { long: 'ignore-paused', kind: 'bool', description: 'allow exec in a paused container' },
    ],
  },
  { name: 'ps', usage: '<container-id> [ps options]', description: 'ps displays the processes running inside a container', stopAtPositional: true, flags: [{ long: 'format', short: 'f', kind: 'string', description: 'select one of: table or json', default: 'table' }] },
  { name: 'pause', usage: '<container-id>', description: 'pause suspends all processes inside the container', flags: [] },
  { name: 'resume', usage: '<container-id>', description: 'resumes all processes that have been previously paused', flags: [] },
  {
    name: 'update',
    usage: '<container-id>',
    description: 'update container resource constraints',
    flags: [
      { long: 'resources', short: 'r', kind: 'string', description: 'path to a file containing the resources to update or \'-\' to read from the standard input' },
      ...['blkio-weight', 'cpu-period', 'cpu-quota', 'cpu-burst', 'cpu-rt-period', 'cpu-rt-runtime', 'cpu-share', 'cpuset-cpus', 'cpuset-mems', 'kernel-memory', 'kernel-memory-tcp', 'memory', 'memory-reservation', 'memory-swap', 'pids-limit', 'l3-cache-schema', 'mem-bw-schema'].map(
        (long): FlagSpec => ({ long, kind: 'string', description: long.replace(/-/g, ' ') }),
      ),
    ],
  },
  {
    name: 'events',
    usage: '<container-id>',
    description: 'display container events such as OOM notifications, cpu, memory, and IO usage statistics',
    flags: [
      { long: 'interval', kind: 'string', description: 'set the stats collection interval', default: '5s' },
      { long: 'stats', kind: 'bool', description: 'display the container\'s stats then exit' },
    ],
  },
];

const BOOL_WORDS: Record<string, boolean> = { true: true, false: false, '1': true, '0': false, t: true, f: false, TRUE: true, FALSE: false, True: true, False: false };

/**
 * Rewrite Go-style flags into the forms commander accepts. Unknown flags are left alone (commander
 * reports them); `--` and, for exec, everything after the first positional are never touched.
 */
export function normalizeArgv(args: string[]): string[] {
  const out: string[] = [];
  let i = 0;
  const globalKinds = kinds(GLOBAL_FLAGS);
  // global flags, up to the verb
  while (i < args.length && args[i].startsWith('-') && args[i] !== '--') {
    i = rewrite(args, i, globalKinds, out);
  }
  if (i >= args.length) return out;
  const verb = VERBS.find((v) => v.name === args[i]);
  out.push(args[i++]);
  if (!verb) return out.concat(args.slice(i));
  const verbKinds = kinds(verb.flags);
  while (i < args.length) {
    const a = args[i];
    if (a === '--') return out.concat(args.slice(i));
    if (!a.startsWith('-') || a === '-') {
      if (verb.stopAtPositional) return out.concat(args.slice(i));
      out.push(a);
      i++;
      continue;
    }
    i = rewrite(args, i, verbKinds, out);
  }
  return out;
}

function kinds(flags: FlagSpec[]): Map<string, FlagKind> {
  const m = new Map<string, FlagKind>();
  for (const f of flags) {
    m.set(f.long, f.kind);
    if (f.short) m.set(f.short, f.kind);
  }
  m.set('help', 'bool');
  m.set('h', 'bool');
  return m;
}

/** Rewrite the flag at args[i] (and its value) into out; returns the next index. */
function rewrite(args: string[], i: number, known: Map<string, FlagKind>, out: string[]): number {
  const a = args[i];
  const body = a.replace(/^--?/, '');
  const eq = body.indexOf('=');
  const name = eq >= 0 ? body.slice(0, eq) : body;
  const value = eq >= 0 ? body.slice(eq + 1) : undefined;
  const kind = known.get(name);
  if (!kind) {
    out.push(a);
    return i + 1;
  }
  const dash = name.length === 1 ? '-' : '--';
  if (kind === 'bool') {
    if (value === undefined) out.push(dash + name);
    else if (BOOL_WORDS[value] === undefined) out.push(a); // let commander complain
    else if (BOOL_WORDS[value]) out.push(dash + name);
    return i + 1;
  }
  if (value !== undefined) {
    out.push(dash + name, value);
    return i + 1;
  }
  out.push(dash + name);
  if (i + 1 < args.length) out.push(args[i + 1]);
  return i + 2;
}

/** The verb of a normalised argv (the first word that is not a global flag or its value). */
export function verbOf(args: string[]): string | undefined {
  const valued = new Set(GLOBAL_FLAGS.filter((f) => f.kind !== 'bool').map((f) => `--${f.long}`));
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') return undefined;
    if (!a.startsWith('-')) return a;
    if (valued.has(a)) i++;
  }
  return undefined;
}
