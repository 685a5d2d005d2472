// pause, resume, update, events and ps: runc's command lines for the verbs that act on a live
// container through its cgroups (src/container/cgroup-ops.ts does the work).

import { writeOut } from './log';

type Handler = (g: { root: string }, o: Record<string, unknown>, args: string[]) => Promise<number> | number;

function store(g: { root: string }) {
  const { StateStore } = require('../state/store') as typeof import('../state/store');
  return new StateStore(g.root);
}

function ops() {
  return require('../container/cgroup-ops') as typeof import('../container/cgroup-ops');
}

function oneId(args: string[], verb: string): string {
  if (args.length < 1) throw new Error(`"${verb}" requires a container id`);
  if (args.length > 1) throw new Error(`"${verb}" takes at most 1 argument`);
  return args[0];
}

export const CGROUP_VERBS: Record<string, Handler> = {
  async pause(g, _o, args) {
    await ops().pauseContainer(store(g), oneId(args, 'pause'));
    return 0;
  },
  async resume(g, _o, args) {
    await ops().resumeContainer(store(g), oneId(args, 'resume'));
    return 0;
  },
  async update(g, o, args) {
    const id = oneId(args, 'update');
    const { readFileSync } = require('node:fs') as typeof import('node:fs');
    let resources;
    if (typeof o.resources === 'string' && o.resources !== '') {
      const text = o.resources === '-' ? readFileSync(0, 'utf8') : readFileSync(o.resources, 'utf8');
      resources = ops().parseResources(text);
    } else resources = ops().resourcesFromFlags(o);
    await ops().updateContainer(store(g), id, resources);
    return 0;
  },
  async events(g, o, args) {
    const id = oneId(args, 'events');
    await ops().containerEvents({ store: store(g), id, stats: !!o.stats, intervalMs: ops().parseDuration(String(o.interval ?? '5s')), write: writeOut });
    return 0;
  },
  ps(g, o, args) {
    if (args.length < 1) throw new Error('"ps" requires a container id');
    const s = store(g);
    const id = args[0];
    const format = String(o.format ?? 'table');
    if (format !== 'table' && format !== 'json') throw new Error(`invalid format option "${format}"`);
    const pids = ops().containerPids(s, id);
    if (format === 'json') writeOut(JSON.stringify(pids) + '\n');
    else writeOut(ops().psTable(pids, args.slice(1).filter((a, i) => !(i === 0 && a === '--'))));
    return 0;
  },
};
