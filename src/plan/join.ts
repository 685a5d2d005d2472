// A process that joins an existing container: `exec`, and the hooks the spec runs "in the
// container namespace" (createContainer, startContainer). It enters the container's namespaces
// (user first: it grants the rights over the others), waits at a checkpoint while the parent puts
// it into the container's cgroups it is not in yet (it was cloned into the cgroup2 one and moved
// itself into the v1 ones first, where it could), then becomes the requested process and
// executes it.

import { NAMESPACES, PR, RLIMITS } from '../linux/constants';
import type { NamespaceType, Process } from '../spec/types';
import type { Program } from '../spawn/program';
import { ProgramBuilder, joinOwnCgroupsV1, rlimit } from './builder';
import type { StdioFact } from './facts';
import { planExec, planPassFds, planProcessSetup, planSignalReset, lookupPlan, processEnv, type CompiledFilter, type LookupPlan } from './process';

export interface JoinPlanInput {
  /** namespaces to enter, by type; each gets an fd slot `ns:<type>` (pid is entered by the parent) */
  namespaces: NamespaceType[];
  process: Process;
  capLastCap: number;
  stdio: [StdioFact, StdioFact, StdioFact];
  /** kept slots to put on fds 0, 1, 2 instead of inheriting the runtime's */
  stdioSlots?: [string | null, string | null, string | null];
  seccomp?: CompiledFilter | null;
  home?: string;
  apparmorProfile?: string;
  /**
   * `container`: become the container's process (user, capabilities, seccomp, ...), as exec does;
   * `hook`: stay the namespace's root with full capabilities, only enter and execute.
   */
  mode: 'container' | 'hook';
  /** hooks: the program to execute (hook.path); its argv is process.args */
  execPath?: string;
  /** fds to pass through at 3.. (slots pass0..) */
  passFds?: number;
  /** the process gets a pty; its master goes out on the `console` slot */
  terminal?: boolean;
  /** stop at checkpoint "terminal" once the master is sent (the runtime proxies it) */
  terminalCheckpoint?: boolean;
  /**
   * cgroup v1 directories the process moves itself into (joinOwnCgroupsV1) as it starts, while it
   * still sees the host's cgroupfs and is its root: before it enters any of the container's
   * namespaces
   */
  selfJoinCgroups?: string[];
}

export interface JoinPlan {
  program: Program;
  lookup: LookupPlan;
}

const JOIN_ORDER: NamespaceType[] = ['user', 'mount', 'network', 'uts', 'ipc', 'cgroup', 'time'];

export function planJoin(input: JoinPlanInput): JoinPlan {
  const b = new ProgramBuilder();
  b.channel(b.keepFd('sync'), 'checkpoints on the sync socket');
  b.records(b.keepFd('records'), 'step records on the records pipe');
  const joins = JOIN_ORDER.filter((t) => input.namespaces.includes(t));
  for (const t of joins) b.keepFd(`ns:${t}`);
  for (const s of input.stdioSlots ?? []) if (s) b.keepFd(s);
  if (input.passFds) planPassFds(b, input.passFds);

  // inherited from the runtime already: until it executes, this process runs the runtime's code
  // and must not be reachable through /proc/PID/{exe,fd,mem} by what runs in the container
  b.call('prctl', [PR.SET_DUMPABLE, 0, 0, 0, 0], 'make the process non-dumpable (CVE-2019-5736, CVE-2016-9962)');
  joinOwnCgroupsV1(b, input.selfJoinCgroups ?? [], 'the process');
  for (const t of joins) b.call('setns', [{ slot: `ns:${t}` }, NAMESPACES[t].flag], `join the container's ${t} namespace`);
  b.checkpoint('joined');
  if (joins.includes('user')) {
    b.syscall('setresgid', [0, 0, 0], 'become root of the user namespace (gid)');
    b.syscall('setresuid', [0, 0, 0], 'become root of the user namespace (uid)');
  }
  for (const [fd, slot] of (input.stdioSlots ?? []).entries()) {
    if (slot) b.call('dup2', [{ slot }, fd], `use ${slot} as fd ${fd}`);
  }
  // a dup2'd fd is a fresh descriptor: not close-on-exec; O_NONBLOCK is the runtime's to fix
  const stdio = input.stdio.map((s, fd) => (input.stdioSlots?.[fd] ? { cloexec: false, fl: 0 } : s)) as JoinPlanInput['stdio'];

  if (input.mode === 'hook') {
    planSignalReset(b);
    b.call('chdir', [{ str: input.process.cwd }], `chdir ${input.process.cwd}`);
    for (const [fd, s] of stdio.entries()) {
      if (s.cloexec) b.call('fcntl', [fd, 2, 0], `clear close-on-exec on fd ${fd}`);
    }
    const lookup = input.execPath ? { name: input.execPath, candidates: [input.execPath], direct: true } : lookupPlan(input.process);
    for (const c of lookup.candidates) b.exec(c, input.process.args ?? [], processEnv(input.process), `execve ${c}`);
    b.exit(127, 'exit 127: the hook could not be executed');
    return { program: b.build(), lookup };
  }

  for (const r of input.process.rlimits ?? []) {
    const res = RLIMITS[r.type];
    if (res === undefined) throw new Error(`process.rlimits: unknown type ${r.type}`);
    b.call('setrlimit', [res, rlimit(r.soft, r.hard)], `setrlimit ${r.type} soft ${r.soft} hard ${r.hard}`);
  }
  const setup = {
    process: input.process,
    capLastCap: input.capLastCap,
    stdio,
    seccomp: input.seccomp ?? null,
    home: input.home,
    apparmorProfile: input.apparmorProfile,
    setgroupsAllowed: true,
    passFds: input.passFds,
    terminal: input.terminal ? { size: input.process.consoleSize, bindConsole: false, checkpoint: input.terminalCheckpoint } : undefined,
  };
  const { lookup, seccompInstalled } = planProcessSetup(b, setup, { seccompLate: true });
  planExec(b, setup, lookup, !seccompInstalled);
  return { program: b.build(), lookup };
}
