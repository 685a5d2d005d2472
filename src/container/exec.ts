// exec: a new process inside a running container. It joins every namespace of the container
// (user first), its cgroups, gets the container's seccomp profile, capabilities and no_new_privs
// unless told otherwise, and nothing of the host (the engine closes every fd; setns into the
// mount namespace gives it the container's root and cwd).

import { files } from '../linux/files';
import path = require('../linux/path');
import type { Process, Spec } from '../spec/types';
import { status, type StateStore } from '../state/store';
import { clearOnlcr, closeFd, getFdFlags, getFlFlags, socketPair } from '../linux/libc';
import type { ContainerCgroup } from '../linux/cgroups';
import { writeFileAtomic } from '../state/store';
import { ContainerError, notExist } from './errors';
import { compileFilter, listenFds } from './create';
import { spawnJoined } from './join';
import { forwardSignals, reapUntil } from './reap';
import { readJsonFile } from './bundle';
import { sendPidfd } from './pidfd';

export interface ExecOptions {
  store: StateStore;
  id: string;
  /** process.json (as containerd and conmon send) — or the flags below */
  processFile?: string;
  args: string[];
  cwd?: string;
  env?: string[];
  tty?: boolean;
  user?: string;
  additionalGids?: string[];
  caps?: string[];
  noNewPrivs?: boolean;
  apparmor?: string;
  processLabel?: string;
  preserveFds?: number;
  detach?: boolean;
  pidFile?: string;
  consoleSocket?: string;
  pidfdSocket?: string;
  cgroup?: string[];
  ignorePaused?: boolean;
  warn?: (m: string) => void;
}

/** runc's `exec` flags applied over the container's process (exec.go's getProcess). */
export function execProcess(base: Process | undefined, o: ExecOptions): Process {
  if (o.processFile) {
    const raw = readJsonFile(path.resolve(o.processFile), 'process file') as Process;
    const { validateProcess, formatIssues } = require('../spec/validate') as typeof import('../spec/validate');
    const issues = validateProcess(raw);
    if (issues.length) throw new ContainerError(formatIssues(issues, o.processFile));
    return raw;
  }
  if (!base) throw new ContainerError('the container has no process to base exec on: use --process');
  if (o.args.length === 0) throw new ContainerError('exec: process args cannot be empty');
  const p: Process = structuredClone(base);
  p.args = o.args;
  if (o.cwd) p.cwd = o.cwd;
  p.env = [...(p.env ?? []), ...(o.env ?? [])];
  p.terminal = !!o.tty;
  if (o.user) {
    const m = /^(\d+)(?::(\d+))?$/.exec(o.user);
    if (!m) throw new ContainerError(`invalid --user ${o.user}: uid and gid must be numeric (uid[:gid])`);
    p.user = { ...p.user, uid: Number(m[1]), gid: m[2] !== undefined ? Number(m[2]) : p.user.gid };
  }
  if (o.additionalGids?.length) {
    p.user.additionalGids = o.additionalGids.map((g) => {
      if (!/^\d+$/.test(g)) throw new ContainerError(`invalid --additional-gids ${g}`);
      return Number(g);
    });
  }
  if (o.caps?.length) {
    // CVE-2022-29162: --cap never grants inheritable capabilities; ambient only when the spec
    // already has an inheritable set (as runc)
    const c = (p.capabilities = { ...p.capabilities });
    for (const cap of o.caps) {
      const name = cap.toUpperCase().startsWith('CAP_') ? cap.toUpperCase() : `CAP_${cap.toUpperCase()}`;
      c.bounding = [...(c.bounding ?? []), name];
      c.effective = [...(c.effective ?? []), name];
      c.permitted = [...(c.permitted ?? []), name];
      if (c.inheritable) c.ambient = [...(c.ambient ?? []), name];
    }
  }
  if (o.noNewPrivs !== undefined) p.noNewPrivileges = o.noNewPrivs;
  if (o.apparmor) p.apparmorProfile = o.apparmor;
  if (o.processLabel) p.selinuxLabel = o.processLabel;
  return p;
}

export async function execInContainer(o: ExecOptions): Promise<number> {
  const rec = o.store.tryRead(o.id);
  if (!rec) throw notExist(o.id);
  const st = status(o.store, rec);
  if (st === 'stopped' || st === 'creating') throw new ContainerError('cannot exec in a stopped container');
  if (st === 'paused' && !o.ignorePaused) throw new ContainerError('cannot exec in a paused container (use --ignore-paused to override)');
  const spec = o.store.readSpec<Spec>(o.id);
  const proc = execProcess(spec.process, o);
  if (proc.terminal && o.detach && !o.consoleSocket) throw new ContainerError('cannot allocate tty if tsrunc will detach without setting console socket');
  if (!proc.terminal && o.consoleSocket) throw new ContainerError('cannot use console socket if tsrunc will not allocate tty');
  if (proc.selinuxLabel) throw new ContainerError('process.selinuxLabel: SELinux labels are not supported by tsrunc yet');
  if (proc.apparmorProfile && !files().existsSync('/sys/kernel/security/apparmor')) throw new ContainerError(`apparmor profile ${proc.apparmorProfile}: AppArmor is not enabled on this host`);
  // the container's profile, compiled for its create: usually in the filter cache
  const { SeccompCache } = require('./seccomp-cache') as typeof import('./seccomp-cache');
  const filter = compileFilter(spec, o.warn, new SeccompCache(o.store.root));

  const passFds = (o.preserveFds ?? 0) + listenFds();
  if (listenFds() > 0) proc.env = [...(proc.env ?? []), `LISTEN_FDS=${listenFds()}`];
  const extraFds: Record<string, number> = {};
  for (let i = 0; i < passFds; i++) extraFds[`pass${i}`] = 3 + i;
  const opened: number[] = [];
  let proxyEnd = -1;
  let proxyMaster = -1;
  try {
    if (proc.terminal) {
      if (o.consoleSocket) {
        const { connectUnix } = require('../linux/scm') as typeof import('../linux/scm');
        extraFds.console = connectUnix(o.consoleSocket);
        opened.push(extraFds.console);
      } else {
        const [mine, theirs] = socketPair();
        proxyEnd = mine;
        extraFds.console = theirs;
        opened.push(theirs);
      }
    }
    const cgroups: ContainerCgroup[] = rec.cgroups.dirs.map((dir) => ({ dir: subCgroup(dir, o.cgroup), hierarchy: { mountpoint: '', version: 1, subsystems: [], ownPath: '/' } }));
    const pid = spawnJoined({
      initPid: rec.pid,
      namespaces: (rec.namespaces ?? spec.linux?.namespaces ?? []).map((n) => n.type as never),
      process: proc,
      mode: 'container',
      stdioFacts: [0, 1, 2].map((fd) => ({ cloexec: (getFdFlags(fd) & 1) !== 0, fl: getFlFlags(fd) })) as never,
      capLastCap: Number(files().readFileSync('/proc/sys/kernel/cap_last_cap')),
      cgroups,
      seccomp: filter,
      extraFds,
      terminal: proc.terminal,
      passFds,
      apparmorProfile: proc.apparmorProfile,
      onTerminal:
        proxyEnd >= 0
          ? () => {
              // take the master before the program runs, and stop its pty translating \n twice
              const { recvFds } = require('../linux/scm') as typeof import('../linux/scm');
              proxyMaster = recvFds(proxyEnd, 64).fds[0];
              clearOnlcr(proxyMaster);
            }
          : undefined,
    });
    for (const fd of opened) closeFd(fd);
    opened.length = 0;
    if (o.pidFile) writeFileAtomic(path.resolve(o.pidFile), String(pid), 0o644);
    if (o.pidfdSocket) sendPidfd(o.pidfdSocket, pid);
    if (o.detach) return 0;

    let proxy: import('./tty').TerminalProxy | undefined;
    if (proxyMaster >= 0) {
      const { proxyTerminal } = require('./tty') as typeof import('./tty');
      proxy = proxyTerminal(proxyMaster);
    }
    const stopForwarding = forwardSignals(pid, !!proxy);
    const code = await reapUntil(pid);
    stopForwarding();
    await proxy?.finish();
    return code;
  } finally {
    for (const fd of opened) closeFd(fd);
    if (proxyEnd >= 0) closeFd(proxyEnd);
  }
}

/** runc's --cgroup: "path" for every controller, or "controller:path" for one. */
function subCgroup(dir: string, specs?: string[]): string {
  for (const s of specs ?? []) {
    const i = s.indexOf(':');
    const [ctl, sub] = i >= 0 ? [s.slice(0, i), s.slice(i + 1)] : ['', s];
    if (sub.includes('..')) throw new ContainerError(`--cgroup ${s}: must stay inside the container's cgroup`);
    if (ctl === '' || dir.split('/').includes(ctl) || dir.split('/').some((p) => p.split(',').includes(ctl))) return path.join(dir, sub);
  }
  return dir;
}

