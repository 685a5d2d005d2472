// Benchmark (not a test): tsrunc side by side with runc and crun on the same bundle.
//   - `run` of /bin/true, and create + start + (wait) + delete, in one hyperfine run each;
//   - the peak RSS of each verb (GNU time);
//   - the smallest linux.resources.memory.limit with which the container still runs /bin/true.
// Prints a table of medians and tsrunc's ratios (markdown, for docs/performance.md).
// Run by scripts/bench, which puts us in a private mount namespace without the cgroup2 mount
// (crun 1.8 refuses this hybrid host otherwise): the machine's mounts stay untouched.
'use strict';
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const runs = Number(process.argv[2] ?? 30);
// Rounds: this VM drifts by tens of percent over a minute, and hyperfine runs one command's runs
// after the other's, so a single hyperfine run can favour whichever ran in a quiet spell. The runs
// are split into rounds (each one hyperfine run of every runtime side by side, in alternating
// order) and the medians are taken over the samples of all rounds. BENCH_ROUNDS=1: one run.
const rounds = Math.max(1, Math.min(runs, Number(process.env.BENCH_ROUNDS ?? 5)));
const here = path.resolve(__dirname, '..');
const work = fs.mkdtempSync('/tmp/tsrunc-bench-');
const exe = path.join(here, 'dist', 'tsrunc');
const runtimes = [
  { name: 'tsrunc', bin: fs.existsSync(exe) ? exe : path.join(here, 'bin', 'tsrunc'), env: {} },
  { name: 'tsrunc-node', bin: path.join(here, 'bin', 'tsrunc'), env: { TSRUNC_ENGINE: 'node' } },
  { name: 'runc', bin: which('runc') },
  { name: 'crun', bin: which('crun') },
].filter((r) => r.bin);

function which(cmd) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

function bundle(name, mutate = () => {}) {
  const dir = path.join(work, name);
  fs.mkdirSync(dir);
  execFileSync(which('runc') ? 'runc' : runtimes[0].bin, ['spec', '--bundle', dir]);
  const c = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
  c.process.terminal = false;
  c.process.args = ['/bin/true'];
  c.root.path = path.join(here, 'bundles', 'busybox', 'rootfs');
  c.linux.cgroupsPath = `/tsrunc-bench/${name}`;
  mutate(c);
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(c, null, 1));
  return dir;
}

function sh(r, args) {
  const env = Object.entries(r.env ?? {}).map(([k, v]) => `${k}=${v} `).join('');
  return `${env ? `env ${env}` : ''}${r.bin} --root ${work}/root-${r.name} ${args}`;
}

function median(a) {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Medians (ms) of each command over `rounds` hyperfine runs of runs/rounds each, in alternating order. */
function hyperfine(title, commands, shell) {
  const times = Object.fromEntries(commands.map(([name]) => [name, []]));
  for (let r = 0; r < rounds; r++) {
    const json = path.join(work, `${title.replace(/\W+/g, '-')}-${r}.json`);
    const n = Math.round((runs * (r + 1)) / rounds) - Math.round((runs * r) / rounds);
    const args = ['--warmup', r === 0 ? '3' : '1', '--runs', String(n), '--export-json', json, ...(shell ? [] : ['-N'])];
    for (const [name, cmd] of r % 2 ? [...commands].reverse() : commands) args.push('-n', name, cmd);
    execFileSync('hyperfine', args, { stdio: ['ignore', 'ignore', 'inherit'] });
    for (const x of JSON.parse(fs.readFileSync(json, 'utf8')).results) times[x.command].push(...x.times);
  }
  return Object.fromEntries(Object.entries(times).map(([name, t]) => [name, median(t) * 1000]));
}

function cycleScript(r) {
  const file = path.join(work, `cycle-${r.name}.sh`);
  const env = Object.entries(r.env ?? {}).map(([k, v]) => `export ${k}=${v}\n`).join('');
  fs.writeFileSync(file, `#!/bin/sh\nset -e\n${env}r="${r.bin} --root ${work}/cycle-${r.name}"\n$r create --bundle ${bundle(`cycle-${r.name}`)} c >/dev/null\n$r start c\nuntil $r state c | grep -q '"stopped"'; do :; done\n$r delete c\n`, { mode: 0o755 });
  return file;
}

/**
 * Where a cycle's time goes: each verb's call timed alone (wall clock, spawn included), the
 * runtimes interleaved cycle by cycle; medians in ms. `state`: the first call of the wait loop.
 */
function verbTimes(verbs) {
  const t = Object.fromEntries(runtimes.map((r) => [r.name, Object.fromEntries(verbs.map((v) => [v, []]))]));
  const b = Object.fromEntries(runtimes.map((r) => [r.name, bundle(`verbs-${r.name}`)]));
  const out = path.join(work, 'verb.out');
  for (let i = 0; i < runs + 2; i++) {
    for (const r of i % 2 ? [...runtimes].reverse() : runtimes) {
      const call = (verb, args) => {
        const fd = fs.openSync(out, 'w'); // a file, not a pipe: create's init keeps its stdout open
        const start = process.hrtime.bigint();
        const res = spawnSync(r.bin, ['--root', `${work}/root-verbs-${r.name}`, ...args], { stdio: ['ignore', fd, 'inherit'], env: { ...process.env, ...(r.env ?? {}) } });
        const ms = Number(process.hrtime.bigint() - start) / 1e6;
        fs.closeSync(fd);
        if (res.status !== 0) throw new Error(`${r.name} ${args.join(' ')}: exit status ${res.status}`);
        if (i >= 2 && verb) t[r.name][verb].push(ms); // two warm-up cycles
        return fs.readFileSync(out, 'utf8');
      };
      const id = `v${i}`;
      call('create', ['create', '--bundle', b[r.name], id]);
      call('start', ['start', id]);
      for (let verb = 'state'; !call(verb, ['state', id]).includes('"stopped"'); verb = null);
      call('delete', ['delete', id]);
    }
  }
  return Object.fromEntries(runtimes.map((r) => [r.name, Object.fromEntries(verbs.map((v) => [v, median(t[r.name][v])]))]));
}

/** Peak RSS (KiB) of one call, with GNU time. */
function peakRss(r, args, env = {}) {
  const out = path.join(work, 'time.out');
  const res = spawnSync('/usr/bin/time', ['-f', '%M', '-o', out, 'sh', '-c', sh(r, args)], { env: { ...process.env, ...env }, stdio: 'ignore' });
  return res.status === 0 ? Number(fs.readFileSync(out, 'utf8').trim().split('\n').pop()) : null;
}

/**
 * The smallest memory limit (KiB, to 32 KiB) with which `run /bin/true` succeeds 3 times out of 3
 * (near the limit, what the kernel charges varies from run to run: one success proves little).
 */
function smallestLimit(r) {
  const ok = (kib) => {
    const b = bundle(`mem-${r.name}-${kib}`, (c) => (c.linux.resources = { memory: { limit: kib * 1024 } }));
    for (let i = 0; i < 3; i++) {
      const res = spawnSync('sh', ['-c', `${sh(r, `run --bundle ${b} m${kib}`)} >/dev/null 2>&1`], { timeout: 20000 });
      spawnSync('sh', ['-c', `${sh(r, `delete --force m${kib}`)} >/dev/null 2>&1`]);
      if (res.status !== 0) return false;
    }
    return true;
  };
  let hi = 64 * 1024;
  if (!ok(hi)) return null;
  let lo = 32;
  if (ok(lo)) return lo;
  while (hi - lo > 32) {
    const mid = Math.round((lo + hi) / 2 / 32) * 32;
    if (ok(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

function table(head, rows) {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

try {
  const run = bundle('run');
  const runMed = hyperfine('run', runtimes.map((r) => [r.name, sh(r, `run --bundle ${run} r`)]));
  const cycleMed = hyperfine('cycle', runtimes.map((r) => [r.name, cycleScript(r)]));
  const ratio = (m, name) => (m.runc ? ` (${(m[name] / m.runc).toFixed(2)}× runc${m.crun ? `, ${(m[name] / m.crun).toFixed(2)}× crun` : ''})` : '');
  console.log(`## tsrunc benchmark — ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} cores, ${os.release()}, ${runs} runs in ${rounds} rounds\n`);
  console.log(table(['runtime', 'run /bin/true (median ms)', 'create + start + delete (median ms)'], runtimes.map((r) => [r.name, `${runMed[r.name].toFixed(1)}${ratio(runMed, r.name)}`, `${cycleMed[r.name].toFixed(1)}${ratio(cycleMed, r.name)}`])));

  const verbs = ['create', 'start', 'state', 'delete'];
  const perVerb = verbTimes(verbs);
  const sum = (name) => verbs.reduce((a, v) => a + perVerb[name][v], 0);
  console.log('\nEach verb of the cycle timed alone (median ms, spawn included; runtimes interleaved cycle by cycle)\n');
  console.log(table(['runtime', ...verbs, 'sum'], runtimes.map((r) => [r.name, ...verbs.map((v) => perVerb[r.name][v].toFixed(1)), `${sum(r.name).toFixed(1)}${perVerb.runc ? ` (${(sum(r.name) / sum('runc')).toFixed(2)}× runc)` : ''}`])));

  // A freshly built executable sits whole in the page cache, and the faults of a call map more of
  // it at once: the same file read 4-6 MB higher than after its pages were dropped and read back.
  // Every binary is flushed and dropped from the page cache first, so all start alike.
  for (const r of runtimes) spawnSync('sh', ['-c', `f=$(readlink -f ${r.bin}); sync "$f"; dd if="$f" iflag=nocache count=0 status=none`], { stdio: 'ignore' });
  const rss = runtimes.map((r) => {
    const b = bundle(`rss-${r.name}`, (c) => (c.process.args = ['sleep', '10']));
    const row = [r.name];
    row.push(String(peakRss(r, `create --bundle ${b} s`, r.env)));
    row.push(String(peakRss(r, 'start s', r.env)));
    row.push(String(peakRss(r, 'state s', r.env)));
    spawnSync('sh', ['-c', `${sh(r, 'kill s KILL')}; sleep 0.2`]);
    row.push(String(peakRss(r, 'delete --force s', r.env)));
    return row;
  });
  console.log('\nPeak RSS of each verb (KiB)\n');
  console.log(table(['runtime', ...verbs], rss));
  console.log('\nSmallest linux.resources.memory.limit with which `run /bin/true` works 3 times out of 3\n');
  console.log(table(['runtime', 'limit'], runtimes.map((r) => [r.name, ((v) => (v === null ? 'fails even at 64 MiB' : `${v} KiB`))(smallestLimit(r))])));
} finally {
  for (const r of runtimes) for (const d of fs.readdirSync(work)) if (d.startsWith('root-') || d.startsWith('cycle-')) spawnSync('sh', ['-c', `for id in $(${r.bin} --root ${work}/${d} list -q 2>/dev/null); do ${r.bin} --root ${work}/${d} delete --force $id; done`], { stdio: 'ignore', env: { ...process.env, ...(r.env ?? {}) } });
  spawnSync('sh', ['-c', 'for d in /sys/fs/cgroup/*/tsrunc-bench; do find "$d" -depth -type d -exec rmdir {} + 2>/dev/null; done'], { stdio: 'ignore' });
  fs.rmSync(work, { recursive: true, force: true });
}
