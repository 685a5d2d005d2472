// `tsrunc explain`: the plan for a bundle, every step the container's init will run with its
// arguments and how its failure is handled, without running anything. For learning and debugging:
// it reads the same host facts create reads, so it prints exactly what create would do.

import { loadBundle } from '../container/bundle';
import { gatherFacts } from '../container/facts';
import { cgroupJoins, compileFilter } from '../container/create';
import { containerCgroups } from '../linux/cgroups';
import { CLONE } from '../linux/constants';
import { initFactQueries, planInit } from '../plan/init';
import { describeArg, type Step } from '../spawn/program';

export function explain(opts: { bundle: string; id: string; noPivot: boolean }): string {
  const bundle = loadBundle(opts.bundle);
  const spec = bundle.spec;
  const cgroups = containerCgroups(spec.linux?.cgroupsPath, opts.id);
  const facts = gatherFacts(spec, bundle.rootfs, initFactQueries(spec), cgroups);
  const filter = compileFilter(spec);
  const { selfJoined, runtimeJoins, cloneInto } = cgroupJoins(spec, cgroups);
  const moved = runtimeJoins.filter((c) => c !== cloneInto);
  const plan = planInit({ spec, rootfs: bundle.rootfs, facts, noPivot: opts.noPivot, seccomp: filter, selfJoinCgroups: selfJoined.map((c) => c.dir) });
  const { keep, keepBase, steps } = plan.program;
  const out: string[] = [];
  out.push(`bundle ${bundle.dir}, rootfs ${bundle.rootfs}`);
  out.push(`clone flags: ${cloneFlagNames(plan.cloneFlags)}`);
  for (const [t, p] of Object.entries(plan.parentJoins)) out.push(`the runtime's thread joins the ${t} namespace ${p} around clone()`);
  if (plan.newTimens) out.push('the runtime unshares a new time namespace before clone() and writes its offsets');
  out.push(`the child keeps ${keep.map((s, i) => `${s}=${keepBase + i}`).join(', ')} and closes every other fd above 2`);
  out.push(`cgroups: ${cgroups.map((c) => c.dir).join(', ')}`);
  if (filter) out.push(`seccomp: ${filter.instructions} BPF instructions, flags 0x${filter.flags.toString(16)}`);
  for (const note of [...plan.warnings, ...plan.notes]) out.push(`note: ${note}`);
  out.push('');
  let n = 0;
  for (const s of steps) out.push(formatStep(s, ++n, keep, keepBase));
  out.push('');
  if (cloneInto) out.push(`The init is cloned into ${cloneInto.dir} (clone3, CLONE_INTO_CGROUP; should the kernel refuse, the runtime moves it there after "mapping").`);
  if (selfJoined.length) out.push(`The init moves itself into ${selfJoined.map((c) => c.dir).join(', ')} (the "join cgroup" steps).`);
  out.push(`At "mapping" the runtime writes uid_map/gid_map (new user namespace) and sets oom_score_adj${moved.length ? `; it puts the init into ${moved.map((c) => c.dir).join(', ')}` : ''}.`);
  out.push('At "hooks" it runs the prestart, createRuntime and createContainer hooks. At "ready" create records the state and exits.');
  out.push('A failed "full" step kills the child before the next step (the tripwire) and its record names the step.');
  return out.join('\n') + '\n';
}

function formatStep(s: Step, n: number, keep: string[], keepBase: number): string {
  const num = String(n).padStart(4);
  switch (s.op) {
    case 'call':
    case 'syscall': {
      const fn = s.op === 'syscall' ? `syscall(SYS_${s.name}` : `${s.fn}(`;
      const args = s.args.map((a) => describeArg(a, keep, keepBase)).join(', ');
      return `${num}  ${s.desc}\n        ${fn}${s.op === 'syscall' && args ? ', ' : ''}${args})  [${s.check}]`;
    }
    case 'checkpoint':
      return `${num}  --- ${s.desc}: wait for the runtime's go ---`;
    case 'exec':
      return `${num}  ${s.desc}\n        execve(${JSON.stringify(s.path)}, ${JSON.stringify(s.argv)}, env[${s.envp.length}])`;
    case 'exit':
      return `${num}  ${s.desc}`;
    default:
      return `${num}  (${s.desc})`;
  }
}

function cloneFlagNames(flags: number): string {
  const names = Object.entries(CLONE)
    .filter(([name, bit]) => name.startsWith('NEW') && (flags & bit) !== 0)
    .map(([name]) => `CLONE_${name}`);
  return names.length ? names.join('|') : '(none)';
}
