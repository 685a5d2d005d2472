// tsrunc's command line: runc's verbs and flags (see argv.ts), runc's output and error strings,
// runc's log format. Each verb loads only the modules it needs: `state`, `kill`, `delete` and
// `start` never load koffi's bindings for nothing, and nothing compiles schemas at run time.

import { UsageError, parseArgv, type FlagValues } from './argv';
import { logger, writeErr, writeOut, type LogFormat } from './log';
import { mark, reportTiming } from '../state/timing';

interface GlobalOptions {
  debug?: boolean;
  log?: string;
  logFormat?: string;
  root: string;
  criu?: string;
  systemdCgroup?: boolean;
  rootless?: string;
}

type VerbOptions = FlagValues;

function store(g: GlobalOptions) {
  const { StateStore } = require('../state/store') as typeof import('../state/store');
  return new StateStore(g.root);
}

function oneId(args: string[], verb: string, max = 1): string {
  if (args.length < 1) throw new UsageError(`"${verb}" requires a container id`);
  if (args.length > max) throw new UsageError(`"${verb}" takes at most ${max} argument${max > 1 ? 's' : ''}`);
  return args[0];
}

const warn = (m: string) => logger.warn(m);
const debug = (m: string) => logger.debug(m);

/** Each verb: returns the exit code. */
const HANDLERS: Record<string, (g: GlobalOptions, o: VerbOptions, args: string[]) => Promise<number> | number> = {
  async create(g, o, args) {
    const id = oneId(args, 'create');
    const { createContainer } = require('../container/create') as typeof import('../container/create');
    await createContainer({ store: store(g), id, bundle: (o.bundle as string) ?? '.', pidFile: o.pidFile as string, consoleSocket: o.consoleSocket as string, pidfdSocket: o.pidfdSocket as string, noPivot: !!o.noPivot, preserveFds: intFlag(o.preserveFds, 'preserve-fds'), systemdCgroup: !!g.systemdCgroup, warn, debug });
    return 0;
  },
  async start(g, _o, args) {
    const id = oneId(args, 'start');
    const { startContainer } = require('../container/start') as typeof import('../container/start');
    await startContainer({ store: store(g), id, warn });
    return 0;
  },
  async run(g, o, args) {
    const id = oneId(args, 'run');
    mark('run: loading');
    const { runContainer } = require('../container/run') as typeof import('../container/run');
    mark('run: loaded');
    return runContainer({
      store: store(g),
      id,
      bundle: (o.bundle as string) ?? '.',
      pidFile: o.pidFile as string,
      consoleSocket: o.consoleSocket as string,
      pidfdSocket: o.pidfdSocket as string,
      noPivot: !!o.noPivot,
      preserveFds: intFlag(o.preserveFds, 'preserve-fds'),
      detach: !!o.detach,
      keep: !!o.keep,
      systemdCgroup: !!g.systemdCgroup,
      noSubreaper: !!o.noSubreaper,
      warn,
      debug,
    });
  },
  state(g, _o, args) {
    const id = oneId(args, 'state');
    const { containerState } = require('../container/oci-state') as typeof import('../container/oci-state');
    writeOut(JSON.stringify(containerState(store(g), id), null, '  ') + '\n');
    return 0;
  },
  async kill(g, o, args) {
    const id = oneId(args, 'kill', 2);
    const { killContainer } = require('../container/lifecycle') as typeof import('../container/lifecycle');
    await killContainer(store(g), id, args[1] ?? 'SIGTERM', !!o.all);
    return 0;
  },
  async delete(g, o, args) {
    if (args.length < 1) throw new UsageError('"delete" requires at least one container id');
    const s = store(g);
    let code = 0;
    for (const id of args) {
      try {
        // a container that is gone (Docker's shim deletes again with --force after its delete)
        // needs none of lifecycle's modules: the same answer, ~0.5 ms sooner
        if (!s.exists(id)) {
          if (o.force) continue;
          throw (require('../container/errors') as typeof import('../container/errors')).notExist(id);
        }
        const { deleteContainer } = require('../container/lifecycle') as typeof import('../container/lifecycle');
        await deleteContainer(s, id, !!o.force, warn);
      } catch (e) {
        if (args.length === 1) throw e;
        reportError(e);
        code = 1;
      }
    }
    return code;
  },
  list(g, o) {
    const { listContainers } = require('../container/oci-state') as typeof import('../container/oci-state');
    const all = listContainers(store(g));
    // (loops, not map: see argv.ts)
    if (o.quiet) {
      let ids = '';
      for (const s of all) ids += `${s.id}\n`;
      writeOut(ids);
    } else if (o.format === 'json') writeOut(JSON.stringify(all) + '\n');
    else if (o.format === 'table') {
      const rows: string[][] = [];
      for (const s of all) rows.push([String(s.id), String(s.pid), String(s.status), String(s.bundle), String(s.created), s.owner === '' ? 'root' : String(s.owner)]);
      writeOut(table(['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER'], rows));
    }
    else throw new UsageError(`invalid format option "${o.format}"`);
    return 0;
  },
  spec(_g, o) {
    const fs = require('node:fs') as typeof import('node:fs');
    const path = require('../linux/path') as typeof import('../linux/path');
    const { defaultSpec, specFileText } = require('../spec/defaults') as typeof import('../spec/defaults');
    const file = path.join((o.bundle as string) ?? '.', 'config.json');
    if (fs.existsSync(file)) throw new Error('File config.json exists. Remove it first');
    const spec = defaultSpec({ rootless: !!o.rootless, hostUid: process.geteuid?.() ?? 0, hostGid: process.getegid?.() ?? 0 });
    fs.writeFileSync(file, specFileText(spec), { mode: 0o666 });
    return 0;
  },
  features() {
    const { runtimeFeatures } = require('./features') as typeof import('./features');
    writeOut(JSON.stringify(runtimeFeatures(), null, '    ') + '\n');
    return 0;
  },
  explain(g, o) {
    const { explain } = require('./explain') as typeof import('./explain');
    writeOut(explain({ bundle: (o.bundle as string) ?? '.', id: (o.id as string) ?? 'explain', noPivot: !!o.noPivot }));
    void g;
    return 0;
  },
};

HANDLERS.exec = async (g, o, args) => {
  if (args.length < 1) throw new UsageError('"exec" requires a container id');
  const { execInContainer } = require('../container/exec') as typeof import('../container/exec');
  return execInContainer({
    store: store(g),
    id: args[0],
    args: args.slice(1),
    processFile: o.process as string,
    cwd: o.cwd as string,
    env: o.env as string[],
    tty: !!o.tty,
    user: o.user as string,
    additionalGids: o.additionalGids as string[],
    caps: o.cap as string[],
    noNewPrivs: o.noNewPrivs ? true : undefined,
    apparmor: o.apparmor as string,
    processLabel: o.processLabel as string,
    preserveFds: intFlag(o.preserveFds, 'preserve-fds'),
    detach: !!o.detach,
    pidFile: o.pidFile as string,
    consoleSocket: o.consoleSocket as string,
    pidfdSocket: o.pidfdSocket as string,
    cgroup: o.cgroup as string[],
    ignorePaused: !!o.ignorePaused,
    warn,
  });
};

function intFlag(v: unknown, name: string): number {
  if (v === undefined || v === '') return 0;
  if (!/^\d+$/.test(String(v))) throw new UsageError(`invalid value "${String(v)}" for flag --${name}: must be a non-negative integer`);
  return Number(v);
}

for (const verb of ['ps', 'pause', 'resume', 'update', 'events']) {
  HANDLERS[verb] = () => {
    throw new Error(`"${verb}" is not supported by tsrunc yet`);
  };
}

// pause, resume, update, events, ps: the cgroup verbs (loaded only when one of them runs)
for (const verb of ['ps', 'pause', 'resume', 'update', 'events']) {
  HANDLERS[verb] = (g, o, args) => (require('./cgroup-verbs') as typeof import('./cgroup-verbs')).CGROUP_VERBS[verb](g, o, args);
}

function table(head: string[], rows: string[][]): string {
  const widths: number[] = [];
  for (let i = 0; i < head.length; i++) {
    widths.push(head[i].length);
    for (const r of rows) widths[i] = Math.max(widths[i], r[i].length);
  }
  const line = (r: string[]) => {
    let text = '';
    for (let i = 0; i < r.length; i++) text += i === r.length - 1 ? r[i] : r[i].padEnd(widths[i] + 3);
    return `${text}\n`;
  };
  let out = line(head);
  for (const r of rows) out += line(r);
  return out;
}

function reportError(e: unknown): void {
  const msg = e instanceof Error ? e.message : String(e);
  logger.error(msg);
  if (!logger.logsToStderr) writeErr(msg + '\n');
  if (logger.debugEnabled && e instanceof Error && e.stack) writeErr(e.stack + '\n');
}

function version(): string {
  const info = (require('../state/build-info') as typeof import('../state/build-info')).buildInfo();
  return `tsrunc version ${info.version}\ncommit: ${info.commit}\nspec: 1.3.0\n${process.versions.bun ? `bun: ${process.versions.bun}` : `node: ${process.version}`}\n`;
}

export async function main(argv: string[]): Promise<number> {
  mark('main');
  let parsed;
  try {
    parsed = parseArgv(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    writeErr(`tsrunc: ${e.message}\n`);
    return 1;
  }
  if (parsed.kind === 'version') {
    writeOut(version());
    return 0;
  }
  if (parsed.kind === 'help') {
    writeOut((require('./help') as typeof import('./help')).helpText(parsed.verb));
    return 0;
  }
  mark('argv parsed');
  const g = parsed.global as unknown as GlobalOptions;
  try {
    // global options configure the logger before any verb runs
    const format = g.logFormat as LogFormat;
    if (format !== 'text' && format !== 'json') throw new UsageError(`invalid log-format: ${g.logFormat}`);
    logger.configure({ log: g.log, format, debug: g.debug });
    const code = await HANDLERS[parsed.verb.name](g, parsed.opts, parsed.args);
    mark('done');
    reportTiming(parsed.verb.name);
    return code;
  } catch (e) {
    reportError(e);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      reportError(e);
      process.exit(1);
    },
  );
}
