// runc's command line is parsed by Go's flag package (through urfave/cli): a long flag may be
// written -flag or --flag, with its value as -flag value, -flag=value or --flag=value, and a
// boolean as -flag or -flag=true/false. containerd relies on this (it sends `-no-subreaper`).
// Global flags come before the verb; a verb's flags may follow its positional arguments (urfave
// reorders them), except for exec and ps, whose arguments after the id are the command's own.
// The tables below are the one source of truth: the parser and the help text (help.ts) read them.
// (A hand-written parser: loading commander, with the node:child_process and node:events it pulls
// in, cost ~4 ms of every call, and building its commands ~2 ms more.)

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

// Loops rather than map/find/filter on every call's path: those are JavaScriptCore builtins
// written in JavaScript, which the executable compiles from source at their first use (~0.1 ms
// each, in every call; a startup test keeps the light verbs free of them).

/** Flags that take a string, described by their own words (update's resource flags). */
function stringFlags(names: string[]): FlagSpec[] {
  const out: FlagSpec[] = [];
  for (const long of names) out.push({ long, kind: 'string', description: long.split('-').join(' ') });
  return out;
}

function named<T extends { name: string }>(list: T[], name: string): T | undefined {
  for (const x of list) if (x.name === name) return x;
  return undefined;
}

function flagNamed(flags: FlagSpec[], name: string): FlagSpec | undefined {
  for (const f of flags) if (f.long === name || f.short === name) return f;
  return undefined;
}

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
      ...stringFlags(['blkio-weight', 'cpu-period', 'cpu-quota', 'cpu-burst', 'cpu-rt-period', 'cpu-rt-runtime', 'cpu-share', 'cpuset-cpus', 'cpuset-mems', 'kernel-memory', 'kernel-memory-tcp', 'memory', 'memory-reservation', 'memory-swap', 'pids-limit', 'l3-cache-schema', 'mem-bw-schema']),
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

/** Bad command line: reported as `tsrunc: <message>` with exit status 1. */
export class UsageError extends Error {}

export type FlagValues = Record<string, string | boolean | string[] | undefined>;

export type ParsedArgv =
  | { kind: 'verb'; global: FlagValues; verb: VerbSpec; opts: FlagValues; args: string[] }
  /** help for one verb, or for tsrunc (no verb) */
  | { kind: 'help'; verb?: VerbSpec }
  | { kind: 'version' };

export const HELP_FLAG: FlagSpec = { long: 'help', short: 'h', kind: 'bool', description: 'show help' };
export const VERSION_FLAG: FlagSpec = { long: 'version', short: 'v', kind: 'bool', description: 'print the version' };

/** `pid-file` → `pidFile`: the key of a flag's value. (No regular expression: compiling one
 * costs every call ~0.1 ms, and every call parses its flags.) */
export function flagKey(long: string): string {
  let key = '';
  for (let i = 0; i < long.length; i++) {
    const next = long[i + 1];
    if (long[i] === '-' && next >= 'a' && next <= 'z') key += long[++i].toUpperCase();
    else key += long[i];
  }
  return key;
}

/** Parse tsrunc's argv (without the program name) as runc does. Throws UsageError. */
export function parseArgv(args: string[]): ParsedArgv {
  const global = defaults(GLOBAL_FLAGS);
  let i = 0;
  while (i < args.length && isFlag(args[i])) {
    if (args[i] === '--') {
      i++;
      break;
    }
    const f = flagAt(args, i, GLOBAL_FLAGS, [HELP_FLAG, VERSION_FLAG], global);
    if (f.spec === HELP_FLAG) return { kind: 'help' };
    if (f.spec === VERSION_FLAG) return { kind: 'version' };
    i = f.next;
  }
  if (i >= args.length) return { kind: 'help' };
  const name = args[i++];
  if (name === 'help') {
    if (i >= args.length) return { kind: 'help' };
    const topic = named(VERBS, args[i]);
    if (!topic) throw new UsageError(`no help topic for "${args[i]}"`);
    return { kind: 'help', verb: topic };
  }
  const verb = named(VERBS, name);
  if (!verb) throw new UsageError(`unknown command "${name}" (see tsrunc --help)`);
  const opts = defaults(verb.flags);
  const positional: string[] = [];
  while (i < args.length) {
    const a = args[i];
    if (a === '--') {
      positional.push(...args.slice(i + 1));
      break;
    }
    if (!isFlag(a)) {
      if (verb.stopAtPositional) {
        positional.push(...args.slice(i));
        break;
      }
      positional.push(a);
      i++;
      continue;
    }
    const f = flagAt(args, i, verb.flags, [HELP_FLAG], opts);
    if (f.spec === HELP_FLAG) return { kind: 'help', verb };
    i = f.next;
  }
  return { kind: 'verb', global, verb, opts, args: positional };
}

function isFlag(a: string): boolean {
  return a.length > 1 && a[0] === '-';
}

function defaults(flags: FlagSpec[]): FlagValues {
  const v: FlagValues = {};
  for (const f of flags) if (f.default !== undefined) v[flagKey(f.long)] = f.default;
  return v;
}

/** Read the flag at args[i] (and its value) into `into`; returns its spec and the next index. */
function flagAt(args: string[], i: number, flags: FlagSpec[], extra: FlagSpec[], into: FlagValues): { spec: FlagSpec; next: number } {
  const a = args[i];
  const body = a.startsWith('--') ? a.slice(2) : a.slice(1);
  const eq = body.indexOf('=');
  const name = eq >= 0 ? body.slice(0, eq) : body;
  const value = eq >= 0 ? body.slice(eq + 1) : undefined;
  const spec = flagNamed(flags, name) ?? flagNamed(extra, name);
  // Go's flag package's wording, which runc users see
  if (!spec || name === '') throw new UsageError(`flag provided but not defined: -${name}`);
  const key = flagKey(spec.long);
  if (spec.kind === 'bool') {
    if (value !== undefined && BOOL_WORDS[value] === undefined) throw new UsageError(`invalid boolean value "${value}" for -${name}: parse error`);
    into[key] = value === undefined || BOOL_WORDS[value];
    return { spec, next: i + 1 };
  }
  let v = value;
  let next = i + 1;
  if (v === undefined) {
    if (next >= args.length) throw new UsageError(`flag needs an argument: -${name}`);
    v = args[next++];
  }
  if (spec.kind === 'strings') {
    const prev = into[key];
    into[key] = Array.isArray(prev) ? [...prev, v] : [v];
  } else into[key] = v;
  return { spec, next };
}
