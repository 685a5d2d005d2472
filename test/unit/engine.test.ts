// The spawn engine on the real kernel, without namespaces (no root needed): chains of libc calls in
// a cloned child, the tripwire, checkpoints and the go byte, records naming a failed step, fd
// normalisation and the signal mask at exec.

import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { launch } from '../../src/spawn/launch';
import { RECORD, type Program, type Step } from '../../src/spawn/program';
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

  it('refuses a program that does not end with exit', () => {
    assert.throws(() => launch({ program: program([{ op: 'call', fn: 'getpid', args: [], desc: 'x', check: 'none' }]), fds: {}, cloneFlags: 0 }), /must end with an exit step/);
  });
});
