// Bad input: mutated config.json and process.json files (fast-check, seeded). Each one either runs
// or fails with a clear error — never a JavaScript error (TypeError, a stack trace) — and leaves
// nothing behind. Thousands go through validation and planning in-process; a bounded number go
// through the real CLI (create, start, exec, delete). Long runs: scripts/fuzz [SEED] [RUNS].
//
// The mutations stay inside a safe envelope: the rootfs (a private copy), the cgroup path, the
// program (harmless commands) and hooks (none) are never mutated, so that no mutated config can
// touch the host; everything else — types, structure, values — is.

import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { ROOTFS, Runtime, baseConfig, leftoverCgroups, leftoverMounts, processesWith, skipUnlessRoot, uniqueId, type Config } from '../helpers/runtime';
import { loadBundle } from '../../src/container/bundle';
import { gatherFacts } from '../../src/container/facts';
import { initFactQueries, planInit } from '../../src/plan/init';

const SEED = Number(process.env.TSRUNC_FUZZ_SEED ?? 7);
const IN_PROCESS_RUNS = Number(process.env.TSRUNC_FUZZ_RUNS ?? 2000);
const CLI_RUNS = Number(process.env.TSRUNC_FUZZ_CLI_RUNS ?? 60);
const EXEC_RUNS = Number(process.env.TSRUNC_FUZZ_EXEC_RUNS ?? 30);

/** what a crash looks like on stderr, or as the message of a thrown error */
const CRASH = /\n\s+at |TypeError|ReferenceError|RangeError|SyntaxError: (?!.*JSON)|Cannot read propert|Cannot set propert|is not a function|is not iterable|is not defined|Maximum call stack|undefined \(reading|\[object Object\]/;

const NASTY_STRINGS = ['', '.', '..', '/', '//', '/..', '../../../../etc', '/proc/self/fd/3', '/proc/1/root', '/dev/null', 'a\u0000b', ' ', '\n', 'é', '💥', 'x'.repeat(5000), '-1', 'true', 'null', 'CAP_SYS_ADMIN', 'tmpfs', 'bind', 'rbind', 'ro', 'rw', 'nosuid', 'size=1m', 'mode=9999', 'tmpcopyup', 'RLIMIT_NOFILE', 'SCMP_ACT_ALLOW', 'SCMP_ACT_ERRNO'];
const NASTY_NUMBERS = [0, -1, 1, 2 ** 31, 2 ** 32, 2 ** 53, -(2 ** 53), 0.5, 1e308, 65535, 65536, 4294967295];

type Mutation = { target: number; op: number; json: unknown; str: string; num: number };

const mutationArb: fc.Arbitrary<Mutation[]> = fc.array(
  fc.record({
    target: fc.nat(),
    op: fc.nat({ max: 7 }),
    json: fc.jsonValue({ maxDepth: 2 }),
    str: fc.constantFrom(...NASTY_STRINGS),
    num: fc.constantFrom(...NASTY_NUMBERS),
  }),
  { minLength: 1, maxLength: 4 },
);

/** every path in a JSON tree (objects and arrays), except the protected ones */
function paths(v: unknown, pre: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  const key = pre.join('.');
  if (['root.path', 'linux.cgroupsPath', 'process.args', 'hooks'].some((p) => key === p || key.startsWith(p + '.'))) return out;
  out.push(pre);
  if (v && typeof v === 'object') for (const [k, c] of Object.entries(v)) paths(c, [...pre, Array.isArray(v) ? Number(k) : k], out);
  return out;
}

function mutate(doc: Record<string, unknown>, muts: Mutation[]): void {
  for (const m of muts) {
    const all = paths(doc).filter((p) => p.length > 0);
    if (all.length === 0) return;
    const p = all[m.target % all.length];
    let parent: any = doc; // eslint-disable-line @typescript-eslint/no-explicit-any
    for (const k of p.slice(0, -1)) parent = parent[k];
    const k = p[p.length - 1];
    switch (m.op) {
      case 0:
        if (Array.isArray(parent)) parent.splice(Number(k), 1);
        else delete parent[k];
        break;
      case 1:
        parent[k] = m.json;
        break;
      case 2:
        parent[k] = m.str;
        break;
      case 3:
        parent[k] = m.num;
        break;
      case 4:
        parent[k] = null;
        break;
      case 5:
        parent[k] = [parent[k]];
        break;
      case 6:
        parent[k] = Array.isArray(parent[k]) ? [...parent[k], ...parent[k]] : { value: parent[k] };
        break;
      default:
        if (typeof parent[k] === 'string') parent[k] = parent[k] + m.str;
        else if (typeof parent[k] === 'number') parent[k] = -parent[k];
        else parent[k] = m.str;
    }
  }
}

/** the fixed, safe parts: whatever the mutations did, these stay harmless */
function secure(c: Config, rootfs: string, cgroupsPath: string, args: string[]): void {
  if (!c || typeof c !== 'object' || Array.isArray(c)) return;
  if (c.root && typeof c.root === 'object') c.root.path = rootfs;
  if (c.linux && typeof c.linux === 'object' && !Array.isArray(c.linux)) c.linux.cgroupsPath = cgroupsPath;
  if (c.process && typeof c.process === 'object' && !Array.isArray(c.process)) c.process.args = args;
  delete c.hooks;
}

const PROGRAMS = [['true'], ['sh', '-c', 'exit 3'], ['/bin/echo', 'fuzz'], ['nosuchprogram']];

describe('fuzz: mutated config.json and process.json', { skip: skipUnlessRoot }, () => {
  const rt = new Runtime();
  const rootfs = path.join(rt.tmp, 'fuzz-rootfs');
  fs.cpSync(ROOTFS, rootfs, { recursive: true, verbatimSymlinks: true });

  it(`validates and plans ${IN_PROCESS_RUNS} mutated configs in-process without a JavaScript error (seed ${SEED})`, () => {
    const dir = fs.mkdtempSync(path.join(rt.tmp, 'fuzz-plan-'));
    const outcome = { planned: 0, refused: 0 };
    fc.assert(
      fc.property(mutationArb, (muts) => {
        const c = baseConfig();
        mutate(c, muts);
        secure(c, rootfs, '/tsrunc-test/fuzz-plan', ['true']);
        fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(c));
        try {
          const b = loadBundle(dir);
          const facts = gatherFacts(b.spec, b.rootfs, initFactQueries(b.spec), []);
          planInit({ spec: b.spec, rootfs: b.rootfs, facts });
          outcome.planned++;
        } catch (e) {
          outcome.refused++;
          const msg = e instanceof Error ? e.message : String(e);
          if (e instanceof TypeError || e instanceof RangeError || e instanceof ReferenceError || CRASH.test(msg)) {
            throw new Error(`a JavaScript error for ${JSON.stringify(muts).slice(0, 500)}: ${e instanceof Error ? e.stack : msg}`);
          }
          assert.ok(msg.length > 0, 'an error says something');
        }
      }),
      { seed: SEED, numRuns: IN_PROCESS_RUNS },
    );
    assert.ok(outcome.planned > 0 && outcome.refused > 0, JSON.stringify(outcome));
  });

  it(`runs ${CLI_RUNS} mutated configs through the CLI: each runs or fails clearly, and leaves nothing (seed ${SEED})`, { timeout: 600000 }, () => {
    const outcome: Record<string, number> = {};
    // sampled, not shrunk: each case is a real container (a failure prints the config it ran)
    for (const [muts, prog] of fc.sample(fc.tuple(mutationArb, fc.nat({ max: PROGRAMS.length - 1 })), { seed: SEED, numRuns: CLI_RUNS })) {
      {
        const id = uniqueId('fz');
        const name = `fz-${id}`;
        const b = rt.bundle((c) => {
          mutate(c, muts);
          secure(c, rootfs, `/tsrunc-test/${name}`, PROGRAMS[prog]);
        }, name);
        const r = rt.run(['run', '--bundle', b, id], { timeoutMs: 20000 });
        assert.equal(r.signal, null, `killed by ${r.signal}: ${r.stderr}`);
        assert.doesNotMatch(r.stderr, CRASH, `tsrunc crashed on ${fs.readFileSync(path.join(b, 'config.json'), 'utf8').slice(0, 2000)}:\n${r.stderr}`);
        if (r.code !== 0 && r.code !== 3) assert.match(r.stderr, /level=(error|fatal) msg="[^"]/, `a failure says why:\n${r.stderr}`);
        const key = r.code === 0 ? 'ran' : r.code === 3 ? 'ran (exit 3)' : 'refused';
        outcome[key] = (outcome[key] ?? 0) + 1;
        // nothing left behind
        assert.equal(rt.state(id), null, `state left for ${id}`);
        assert.equal(fs.existsSync(path.join(rt.root, id)), false);
        assert.deepEqual(leftoverCgroups(name), []);
        assert.deepEqual(leftoverMounts(rootfs), []);
        fs.rmSync(b, { recursive: true, force: true });
      }
    }
    assert.ok(Object.keys(outcome).length > 1, JSON.stringify(outcome));
  });

  it(`execs ${EXEC_RUNS} mutated process.json files: each runs or fails clearly, and leaves nothing (seed ${SEED})`, { timeout: 600000, skip: fs.existsSync(path.join(__dirname, '..', '..', 'src', 'container', 'exec.js')) ? false : 'needs exec (issue #4)' }, () => {
    const id = uniqueId('fzexec');
    const marker = `marker-${id}`;
    assert.equal(rt.run(['run', '-d', '--bundle', rt.bundle((c) => (c.process.args = ['sh', '-c', `sleep 1000; : ${marker}`])), id]).code, 0);
    const dir = fs.mkdtempSync(path.join(rt.tmp, 'fuzz-process-'));
    try {
      for (const [muts, prog] of fc.sample(fc.tuple(mutationArb, fc.nat({ max: PROGRAMS.length - 1 })), { seed: SEED, numRuns: EXEC_RUNS })) {
        {
          const p = { ...baseConfig().process, args: PROGRAMS[prog] };
          const doc = { process: p };
          mutate(doc as Record<string, unknown>, muts);
          if (doc.process && typeof doc.process === 'object' && !Array.isArray(doc.process)) (doc.process as Config).args = PROGRAMS[prog];
          const file = path.join(dir, 'process.json');
          fs.writeFileSync(file, JSON.stringify(doc.process));
          const r = rt.run(['exec', '--process', file, id], { timeoutMs: 20000 });
          assert.equal(r.signal, null, r.stderr);
          assert.doesNotMatch(r.stderr, CRASH, `tsrunc crashed on ${JSON.stringify(doc.process).slice(0, 2000)}:\n${r.stderr}`);
          if (r.code !== 0 && r.code !== 3) assert.match(r.stderr, /level=(error|fatal) msg="[^"]/, r.stderr);
          assert.equal(rt.state(id)?.status, 'running', 'the container is unharmed');
        }
      }
    } finally {
      assert.equal(rt.run(['delete', '--force', id]).code, 0);
    }
    assert.deepEqual(processesWith(marker), []);
  });
});
