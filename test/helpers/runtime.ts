// Helpers for integration tests: run the real tsrunc CLI (bin/tsrunc, as users and clients do)
// against a temporary --root, make bundles on the shared busybox rootfs, and clean up everything
// a test made — containers, cgroups, state — whether it passed or failed.

import { spawnSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after } from 'node:test';

export const REPO = path.resolve(__dirname, '..', '..', '..');
export const TSRUNC = path.join(REPO, 'bin', 'tsrunc');
export const ROOTFS = path.join(REPO, 'bundles', 'busybox', 'rootfs');
/** ../shared beside the repo: client configs, the official schemas */
export const SHARED = process.env.TSRUNC_SHARED ?? path.resolve(REPO, '..', 'shared');
export const CGROUP_PREFIX = '/tsrunc-test';

export const isRoot = process.getuid?.() === 0;
export const skipUnlessRoot = isRoot ? false : 'integration tests need root';

export interface Result {
  code: number;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

let counter = 0;
/** A unique container id (tests run in parallel processes: include our pid). */
export function uniqueId(prefix = 't'): string {
  return `${prefix}-${process.pid}-${++counter}`;
}

/** The top level and /etc of the shared rootfs, where stray mount targets would show. */
function rootfsListing(): string {
  return [...fs.readdirSync(ROOTFS).sort(), ...fs.readdirSync(path.join(ROOTFS, 'etc')).sort().map((e) => `etc/${e}`)].join(' ');
}

export function ensureRootfs(): void {
  if (fs.existsSync(path.join(ROOTFS, 'bin', 'busybox'))) return;
  const r = spawnSync(path.join(REPO, 'scripts', 'mkrootfs.sh'), [ROOTFS], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mkrootfs failed: ${r.stderr}`);
}

/** A temporary state root, removed (with every container in it) after the test file. */
export class Runtime {
  readonly root: string;
  readonly tmp: string;

  private readonly rootfsBefore: string;

  constructor() {
    ensureRootfs();
    this.tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-test-'));
    this.root = path.join(this.tmp, 'state');
    this.rootfsBefore = rootfsListing();
    after(() => this.cleanup());
    // a suite whose tests are all filtered out (--test-name-pattern) never runs its after hook:
    // no container ran then, but the suite may have built files there (the fuzz rootfs)
    process.once('exit', () => {
      if (!this.cleanedUp) fs.rmSync(this.tmp, { recursive: true, force: true });
    });
  }

  /**
   * Run tsrunc and collect its output. stdout and stderr are files, not pipes: a container created
   * (or run -d) inherits them and keeps them open, as it does with containerd's pipes, and a pipe
   * would make us wait for the container's end.
   */
  run(args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; globals?: string[]; cwd?: string } = {}): Result {
    const out = path.join(this.tmp, `.out-${process.pid}-${++counter}`);
    const err = `${out}.err`;
    const outFd = fs.openSync(out, 'w+');
    const errFd = fs.openSync(err, 'w+');
    try {
      const r = spawnSync(TSRUNC, ['--root', this.root, ...(opts.globals ?? []), ...args], {
        input: opts.input,
        stdio: [opts.input === undefined ? 'ignore' : 'pipe', outFd, errFd],
        env: opts.env ?? process.env,
        timeout: opts.timeoutMs ?? 30000,
        cwd: opts.cwd,
      });
      if (r.error) throw r.error;
      return { code: r.status ?? -1, signal: r.signal, stdout: fs.readFileSync(out, 'utf8'), stderr: fs.readFileSync(err, 'utf8') };
    } finally {
      fs.closeSync(outFd);
      fs.closeSync(errFd);
      fs.rmSync(out, { force: true });
      fs.rmSync(err, { force: true });
    }
  }

  /** Start a command without waiting (for foreground run tests). */
  spawn(args: string[], env?: NodeJS.ProcessEnv) {
    return spawn(TSRUNC, ['--root', this.root, ...args], { env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  }

  state(id: string): Record<string, unknown> | null {
    const r = this.run(['state', id]);
    return r.code === 0 ? (JSON.parse(r.stdout) as Record<string, unknown>) : null;
  }

  /** A bundle on the shared rootfs: the default spec, changed by `mutate`. */
  bundle(mutate: (c: Config) => void = () => {}, name = uniqueId('b')): string {
    const dir = path.join(this.tmp, name);
    fs.mkdirSync(dir, { recursive: true });
    const c = baseConfig();
    c.linux.cgroupsPath = `${CGROUP_PREFIX}/${name}`;
    mutate(c);
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(c, null, 2));
    return dir;
  }

  /** Run a container in the foreground and return its output (the usual way to check from inside). */
  inside(script: string, mutate: (c: Config) => void = () => {}, id = uniqueId('in')): Result & { bundle: string } {
    const b = this.bundle((c) => {
      c.process.args = ['sh', '-c', script];
      mutate(c);
    });
    return { ...this.run(['run', '--bundle', b, id]), bundle: b };
  }

  private cleanedUp = false;

  cleanup(): void {
    this.cleanedUp = true;
    const list = this.run(['list', '--format', 'json']);
    if (list.code === 0) {
      for (const s of JSON.parse(list.stdout || '[]') as Array<{ id: string }>) this.run(['delete', '--force', s.id]);
    }
    fs.rmSync(this.tmp, { recursive: true, force: true });
    // the tests' parent cgroup: whichever test file finishes last removes it (others still use it)
    // v1/hybrid: one directory per hierarchy; pure cgroup v2: /sys/fs/cgroup itself ('')
    for (const h of ['', ...fs.readdirSync('/sys/fs/cgroup')]) {
      try {
        fs.rmdirSync(path.join('/sys/fs/cgroup', h, CGROUP_PREFIX.slice(1)));
      } catch {
        /* in use by another test file, or not there */
      }
    }
    // the busybox rootfs is shared by every test: mount targets made in it would pile up
    const now = rootfsListing();
    if (now !== this.rootfsBefore) throw new Error(`a test left files in the shared rootfs ${ROOTFS}:\nbefore: ${this.rootfsBefore}\nafter:  ${now}`);
  }
}

// --- the config tests start from (runc spec defaults, no terminal, a test cgroup) ------------

export type Config = any; // eslint-disable-line @typescript-eslint/no-explicit-any

export function baseConfig(): Config {
  return {
    ociVersion: '1.3.0',
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args: ['true'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: {
        bounding: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
        effective: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
        permitted: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
      },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: ROOTFS, readonly: true },
    hostname: 'tsrunc-test',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
    ],
    linux: {
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
      maskedPaths: ['/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/sys/firmware', '/proc/scsi'],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}

/** Directories under the test cgroup prefix in any hierarchy (should be none after cleanup). */
export function leftoverCgroups(id: string): string[] {
  const out: string[] = [];
  for (const h of ['', ...fs.readdirSync('/sys/fs/cgroup')]) {
    const d = path.join('/sys/fs/cgroup', h, CGROUP_PREFIX.slice(1), id);
    if (fs.existsSync(d)) out.push(d);
  }
  return out;
}

/** Mounts anywhere below `dir` in the host's mount table. */
export function leftoverMounts(dir: string): string[] {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((mp) => mp && (mp === dir || mp.startsWith(dir + '/')));
}

/** Processes whose command line contains `marker` (each test container runs a unique marker). */
/**
 * The live processes whose command line holds `marker`, counting a process once with its forks: a
 * shell that forks (`sh -c "sleep 1000; : marker"`) shows its command line in the child too, until
 * the child executes, so a child with its parent's very command line is not counted. (The parallel
 * test once saw 52 of 50 containers: two shells were between fork and exec.)
 */
export function processesWith(marker: string): number[] {
  const seen = new Map<number, { cmd: string; ppid: number }>();
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8');
      if (!cmd.includes(marker)) continue;
      // comm may hold spaces and parentheses: the fields start after the last ')'
      const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (state !== 'Z') seen.set(Number(p), { cmd, ppid: Number(ppid) });
    } catch {
      /* gone */
    }
  }
  const out: number[] = [];
  for (const [pid, { cmd, ppid }] of seen) if (seen.get(ppid)?.cmd !== cmd) out.push(pid);
  return out;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Poll `f` until it holds; `ms` only bounds a hang (it is not a benchmark). */
export async function until(what: string, f: () => boolean, ms = 5000, stepMs = 20): Promise<void> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(stepMs);
  }
}
