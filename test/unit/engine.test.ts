// The spawn engine on the real kernel, without namespaces (no root needed): chains of libc calls in
// a cloned child, the tripwire, checkpoints and the go byte, records naming a failed step, fd
// normalisation and the signal mask at exec.

import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { clonesIntoCgroups, launch } from '../../src/spawn/launch';
import { buildChain } from '../../src/spawn/chain';
import { RECORD, type Program, type Step } from '../../src/spawn/program';
import { hostArch } from '../../src/linux/arch';
import { waitChild } from '../../src/linux/libc';

function program(steps: Step[]): Program {
  return { keep: ['sync', 'records'], keepBase: 64, steps: [{ op: 'channel', fd: { slot: 'sync' }, desc: 'channel' }, { op: 'records', fd: { slot: 'records' }, desc: 'records' }, ...steps] };
}

function shell(script: string, out: string): Step[] {
  return [
    { op: 'exec', path: '/bin/sh', argv: ["sh", "-c", `{ ${script}; } > ${out} 2>&1`], envp: ['PATH=/bin:/usr/bin'], desc: 'execve /bin/sh' },
    { op: 'exit', code: 127, desc: 'exit 127' },
  ];
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-engine-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

/** Run one checked call, given the child's fd of a fresh file; returns what it wrote there. */
function runCallWritingTo(name: string, call: (out: { slot: string }) => Step): Buffer {
  const out = path.join(tmp, name);
  const fd = fs.openSync(out, 'w');
  const child = launch({
    program: { ...program([call({ slot: 'out' }), { op: 'exit', code: 0, desc: 'exit 0' }]), keep: ['sync', 'records', 'out'] },
    fds: { out: fd },
    cloneFlags: 0,
  });
  fs.closeSync(fd);
  assert.equal(child.monitor.run().kind, 'eof');
  child.close();
  assert.equal(waitChild(child.pid)?.exitCode, 0);
  return fs.readFileSync(out);
}

describe('spawn engine', () => {
  it('runs the steps, answers checkpoints, and the child executes with only fds 0-2 and no blocked signals', () => {
    const out = path.join(tmp, 'ok');
    const extra = fs.openSync(os.devNull, 'r'); // an inherited fd that must not reach the child
    const child = launch({
      program: program([
        { op: 'checkpoint', name: 'one', desc: 'checkpoint: one' },
        { op: 'call', fn: 'umask', args: [0o027], desc: 'umask 027', check: 'none' },
        { op: 'checkpoint', name: 'two', desc: 'checkpoint: two' },
        ...shell('umask; ls /proc/self/fd; grep -E "SigBlk" /proc/self/status', out),
      ]),
      fds: {},
      cloneFlags: 0,
    });
    const seen: string[] = [];
    const res = child.monitor.run({ onCheckpoint: (n) => seen.push(n) });
    child.close();
    fs.closeSync(extra);
    assert.equal(res.kind, 'eof');
    assert.deepEqual(seen, ['one', 'two']);
    assert.deepEqual(waitChild(child.pid), { pid: child.pid, exitCode: 0 });
    const text = fs.readFileSync(out, 'utf8');
    assert.match(text, /^0027\n/);
    assert.match(text, /^0\n1\n2\n(3\n)?SigBlk/m, 'only 0, 1, 2 (and the fd ls reads the directory with)');
    assert.match(text, /SigBlk:\s+0000000000000000/);
  });

  it('stops at a failed step (tripwire) and names it with its errno', () => {
    const child = launch({
      program: program([
        { op: 'call', fn: 'chdir', args: [{ str: '/nonexistent/dir' }], desc: 'chdir /nonexistent/dir', check: 'full' },
        { op: 'call', fn: 'umask', args: [0], desc: 'never reached', check: 'full' },
        { op: 'exit', code: 0, desc: 'exit 0' },
      ]),
      fds: {},
      cloneFlags: 0,
    });
    const res = child.monitor.run();
    child.close();
    assert.equal(res.kind, 'failed');
    assert.equal(res.kind === 'failed' && res.failure.message, 'chdir /nonexistent/dir: ENOENT (no such file or directory)');
    assert.equal(waitChild(child.pid)?.signal, 11, 'the tripwire kills the child with SIGSEGV');
  });

  it('blames the unchecked steps before a checked one as a range', () => {
    const child = launch({
      program: program([
        { op: 'call', fn: 'chdir', args: [{ str: '/nonexistent' }], desc: 'first', check: 'none' },
        { op: 'call', fn: 'umask', args: [0], desc: 'second', check: 'none' },
        { op: 'call', fn: 'getpid', args: [], desc: 'third', check: 'full' },
        { op: 'exit', code: 0, desc: 'exit 0' },
      ]),
      fds: {},
      cloneFlags: 0,
    });
    const res = child.monitor.run();
    child.close();
    waitChild(child.pid);
    assert.equal(res.kind === 'failed' && res.failure.desc, 'one of [first; second; third]');
  });

  it('a child whose parent goes away at a checkpoint never continues', () => {
    const marker = path.join(tmp, 'must-not-exist');
    const child = launch({ program: program([{ op: 'checkpoint', name: 'wait', desc: 'checkpoint: wait' }, ...shell(`touch ${marker}`, '/dev/null')]), fds: {}, cloneFlags: 0 });
    const res = child.monitor.run({ stopAt: 'wait' });
    assert.equal(res.kind, 'checkpoint');
    child.close(); // EOF instead of the go byte
    const w = waitChild(child.pid);
    assert.equal(w?.signal, 11);
    assert.equal(fs.existsSync(marker), false);
  });

  it('reports exec attempts, and tolerates an expected failure (ignore)', () => {
    const out = path.join(tmp, 'exec');
    const child = launch({
      program: program([
        { op: 'call', fn: 'mkdir', args: [{ str: tmp }, 0o755], desc: 'mkdir (exists)', check: 'ignore' },
        { op: 'exec', path: '/nonexistent/sh', argv: ['sh'], envp: [], desc: 'execve /nonexistent/sh' },
        ...shell('echo second', out),
      ]),
      fds: {},
      cloneFlags: 0,
    });
    const res = child.monitor.run();
    child.close();
    assert.equal(res.kind, 'eof');
    assert.deepEqual(child.monitor.records.filter((r) => r.kind === RECORD.EXEC).map((r) => r.errno), [2]);
    assert.equal(waitChild(child.pid)?.exitCode, 0);
    assert.equal(fs.readFileSync(out, 'utf8'), 'second\n');
  });

  it('clones into the namespaces it is given, and the runtime\'s thread steps back out', (t) => {
    if (process.getuid?.() !== 0) return t.skip('needs root');
    // a process in a new pid and net namespace to join
    const holder = spawnSync('sh', ['-c', 'unshare --pid --net --fork sleep 30 >/dev/null 2>&1 & echo $!'], { encoding: 'utf8' });
    const unsharePid = Number(holder.stdout.trim());
    let inner = 0;
    for (let i = 0; i < 200 && !inner; i++) {
      inner = Number(fs.readFileSync(`/proc/${unsharePid}/task/${unsharePid}/children`, 'utf8').trim()) || 0;
      if (!inner) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
    try {
      assert.ok(inner > 0, 'the namespace holder started');
      const ours = ['pid', 'pid_for_children', 'net'].map((n) => fs.readlinkSync(`/proc/thread-self/ns/${n}`));
      const out = path.join(tmp, 'joined');
      const child = launch({
        program: program(shell('readlink /proc/self/ns/pid /proc/self/ns/net; echo pid=$$', out)),
        fds: {},
        cloneFlags: 0,
        threadJoins: [
          { flag: 0x20000000, path: `/proc/${inner}/ns/pid`, proc: 'pid_for_children' },
          { flag: 0x40000000, path: `/proc/${inner}/ns/net`, proc: 'net' },
        ],
      });
      assert.deepEqual(['pid', 'pid_for_children', 'net'].map((n) => fs.readlinkSync(`/proc/thread-self/ns/${n}`)), ours, 'back in our own namespaces');
      child.monitor.run();
      child.close();
      assert.equal(waitChild(child.pid)?.exitCode, 0);
      const [pidNs, netNs, pidLine] = fs.readFileSync(out, 'utf8').trim().split('\n');
      assert.equal(pidNs, fs.readlinkSync(`/proc/${inner}/ns/pid`));
      assert.equal(netNs, fs.readlinkSync(`/proc/${inner}/ns/net`));
      assert.equal(pidLine, 'pid=2', 'the second process of that pid namespace (sleep is 1)');
    } finally {
      process.kill(unsharePid, 'SIGKILL');
      if (inner) process.kill(inner, 'SIGKILL');
    }
  });

  it('a namespace it cannot enter fails the launch, and the child never runs', (t) => {
    if (process.getuid?.() !== 0) return t.skip('needs root');
    const marker = path.join(tmp, 'poisoned-child-ran');
    const before = fs.readlinkSync('/proc/thread-self/ns/pid_for_children');
    // a net namespace file given as a pid namespace: setns fails with EINVAL
    assert.throws(
      () => launch({ program: program(shell(`touch ${marker}`, '/dev/null')), fds: {}, cloneFlags: 0, threadJoins: [{ flag: 0x20000000, path: '/proc/self/ns/net', proc: 'pid_for_children' }] }),
      (e: Error & { childSignal?: number }) => {
        assert.match(e.message, /^setns pid_for_children namespace \/proc\/self\/ns\/net: EINVAL/);
        assert.equal(e.childSignal, 11, 'the poisoned child died of SIGSEGV at its first instruction');
        return true;
      },
    );
    assert.equal(fs.readlinkSync('/proc/thread-self/ns/pid_for_children'), before);
    assert.equal(fs.existsSync(marker), false);
  });

  it('starts the child in a cgroup v2 directory (clone3, CLONE_INTO_CGROUP), or clones it classically when the kernel refuses', (t) => {
    if (process.getuid?.() !== 0) return t.skip('needs root');
    const mount = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')).find((f) => f[f.indexOf('-') + 1] === 'cgroup2')?.[4];
    if (!mount || !clonesIntoCgroups()) return t.skip('no cgroup2 mount, or a kernel before 5.7');
    const dir = path.join(mount, `tsrunc-engine-${process.pid}`);
    fs.mkdirSync(dir);
    try {
      const start = (cgroupFd: number, out: string) => {
        const child = launch({ program: program(shell('grep ^0:: /proc/self/cgroup', out)), fds: {}, cloneFlags: 0, cgroupFd });
        child.monitor.run();
        child.close();
        assert.equal(waitChild(child.pid)?.exitCode, 0);
        return { into: child.intoCgroup, line: fs.readFileSync(out, 'utf8').trim() };
      };
      const cg = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
      const notCgroup = fs.openSync(tmp, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
      try {
        assert.deepEqual(start(cg, path.join(tmp, 'into')), { into: true, line: `0::/${path.basename(dir)}` });
        const own = fs.readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.startsWith('0::'));
        assert.deepEqual(start(notCgroup, path.join(tmp, 'classic')), { into: false, line: own }, 'refused (not a cgroup): the classic clone, in our own cgroup');
        // a namespace it cannot enter still poisons the child's start address (here, the launch pad)
        const marker = path.join(tmp, 'poisoned-clone3-child-ran');
        assert.throws(
          () => launch({ program: program(shell(`touch ${marker}`, '/dev/null')), fds: {}, cloneFlags: 0, cgroupFd: cg, threadJoins: [{ flag: 0x20000000, path: '/proc/self/ns/net', proc: 'pid_for_children' }] }),
          (e: Error & { childSignal?: number }) => e.childSignal === 11,
        );
        assert.equal(fs.existsSync(marker), false);
      } finally {
        fs.closeSync(cg);
        fs.closeSync(notCgroup);
      }
    } finally {
      fs.rmdirSync(dir);
    }
  });

  it('keeps every signal blocked while the chain runs', () => {
    const child = launch({ program: program([{ op: 'checkpoint', name: 'wait', desc: 'checkpoint: wait' }, { op: 'exit', code: 0, desc: 'exit 0' }]), fds: {}, cloneFlags: 0 });
    assert.equal(child.monitor.run({ stopAt: 'wait' }).kind, 'checkpoint');
    const blocked = /^SigBlk:\s+([0-9a-f]+)$/m.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1];
    child.monitor.go();
    child.monitor.run();
    child.close();
    assert.equal(waitChild(child.pid)?.exitCode, 0);
    // all but SIGKILL and SIGSTOP, which the kernel never blocks
    assert.equal(blocked, 'fffffffffffbfeff');
  });

  it('passes the arguments past the sixth in the frame', () => {
    const written = runCallWritingTo('args', (out) => ({ op: 'call', fn: 'dprintf', args: [out, { str: '%d %d %d %d %d %d %s' }, 1, 2, 3, 4, -5, 6, { str: 'seven' }], desc: 'dprintf', check: 'full' }));
    assert.equal(written.toString('utf8'), '1 2 3 4 -5 6 seven');
  });

  it('sends timestamps with their records', () => {
    const before = process.hrtime.bigint();
    const child = launch({ program: program([{ op: 'timestamp', label: 'one', desc: 'timestamp: one' }, { op: 'exit', code: 0, desc: 'exit 0' }]), fds: {}, cloneFlags: 0 });
    assert.equal(child.monitor.run().kind, 'eof');
    child.close();
    waitChild(child.pid);
    const after = process.hrtime.bigint();
    assert.equal(child.monitor.timestamps.length, 1);
    const { label, ns } = child.monitor.timestamps[0];
    assert.equal(label, 'timestamp: one');
    assert.ok(ns > before && ns < after, `${ns} between ${before} and ${after}`);
  });

  it('lays out a program that outgrows the arena guessed for it', () => {
    const big = Buffer.alloc(6 << 20); // far past the data room first guessed for 4 steps: laid out again, twice
    for (let i = 0; i < big.length; i += 4096) big.write(`page ${i / 4096}`, i);
    const written = runCallWritingTo('big', (out) => ({ op: 'call', fn: 'write', args: [out, { bytes: big }, big.length], desc: 'write 6 MiB', check: 'full' }));
    assert.ok(written.equals(big));
  });

  it('runs the same with glibc\'s makecontext for every context (TSRUNC_REAL_MAKECONTEXT=1)', () => {
    const out = path.join(tmp, 'real');
    process.env.TSRUNC_REAL_MAKECONTEXT = '1';
    let child;
    try {
      child = launch({ program: program([{ op: 'checkpoint', name: 'one', desc: 'checkpoint: one' }, ...shell('grep SigBlk /proc/self/status', out)]), fds: {}, cloneFlags: 0 });
    } finally {
      delete process.env.TSRUNC_REAL_MAKECONTEXT;
    }
    const emulated = buildChain(program([{ op: 'checkpoint', name: 'one', desc: 'checkpoint: one' }, ...shell('grep SigBlk /proc/self/status', out)]), { sync: 0, records: 1 });
    assert.ok(child.chain.arenaBytes > emulated.arenaBytes, 'full-size contexts (the emulation writes compact ones)');
    assert.equal(child.monitor.run().kind, 'eof');
    child.close();
    assert.equal(waitChild(child.pid)?.exitCode, 0);
    assert.match(fs.readFileSync(out, 'utf8'), /SigBlk:\s+0000000000000000/);
  });

  it('checks its makecontext emulation against glibc\'s: a wrong ucontext table is refused', (t) => {
    const arch = hostArch();
    if (arch.name !== 'x86_64') return t.skip('the emulation is x86_64 only');
    // uc_link at a wrong offset: glibc's makecontext reads the real one and writes another frame
    const wrong = { ...arch, ucontext: { ...arch.ucontext, link: 0 } };
    const steps: Step[] = [{ op: 'exit', code: 0, desc: 'exit 0' }];
    assert.throws(() => buildChain({ keep: [], keepBase: 64, steps }, {}, wrong), /makecontext emulation differs from glibc's/);
    const badPc = { ...arch, ucontext: { ...arch.ucontext, pc: arch.ucontext.pc + 8 } };
    assert.throws(() => buildChain({ keep: [], keepBase: 64, steps }, {}, badPc), /disagrees with the makecontext emulation/);
    assert.equal(buildChain({ keep: [], keepBase: 64, steps }, {}, arch).contexts, 6);
  });

  it('refuses a program that does not end with exit', () => {
    assert.throws(() => launch({ program: program([{ op: 'call', fn: 'getpid', args: [], desc: 'x', check: 'none' }]), fds: {}, cloneFlags: 0 }), /must end with an exit step/);
  });
});
