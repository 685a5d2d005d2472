// The smoke subset every runtime must pass through each client: a foreground run with its output
// and exit status, a missing executable, a detached container stopped, killed and force-removed.
// Registered with tsrunc by the client files, and with runc by runc-harness.test.ts to prove the
// harness itself.

import { it } from 'node:test';
import * as assert from 'node:assert/strict';
import { CTR_RUNC_ROOT, IMG, Result, ctr, docker, podman, show, namesRemovedAfter, waitFor } from './harness';

const T = { timeout: 120000 };

/** docker run --runtime RUNTIME ... */
export function dockerSmoke(runtime: string): void {
  const name = namesRemovedAfter('d', (names) => docker('rm', '-f', ...names));
  const state = (n: string) => docker('inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', n).stdout.trim();

  it(`docker run --rm (foreground): output and exit 0 [${runtime}]`, T, () => {
    const r = docker('run', '--rm', '--runtime', runtime, IMG.docker, 'echo', 'hello from busybox');
    assert.equal(r.code, 0, show(r));
    assert.equal(r.stdout, 'hello from busybox\n', show(r));
  });

  it(`docker run --rm: exit code 7 [${runtime}]`, T, () => {
    const r = docker('run', '--rm', '--runtime', runtime, IMG.docker, 'sh', '-c', 'exit 7');
    assert.equal(r.code, 7, show(r));
  });

  it(`docker run --rm nosuchcmd: 127 and a message naming the missing executable [${runtime}]`, T, () => {
    const r = docker('run', '--rm', '--runtime', runtime, IMG.docker, 'nosuchcmd');
    assert.equal(r.code, 127, show(r));
    assert.match(r.stderr, /exec: "nosuchcmd": executable file not found in \$PATH/, show(r));
  });

  it(`docker run -d, stop -t 2 (PID 1 ignores TERM: KILL after 2s), start, kill, rm -f [${runtime}]`, T, async () => {
    const n = name('stop');
    let r = docker('run', '-d', '--runtime', runtime, '--name', n, IMG.docker, 'sleep', '1000');
    assert.equal(r.code, 0, show(r));
    assert.equal(state(n), 'running 0');
    r = docker('stop', '-t', '2', n);
    assert.equal(r.code, 0, show(r));
    assert.equal(state(n), 'exited 137');
    r = docker('start', n);
    assert.equal(r.code, 0, show(r));
    assert.equal(state(n), 'running 0');
    r = docker('kill', n);
    assert.equal(r.code, 0, show(r));
    assert.ok(await waitFor(() => state(n) === 'exited 137'), `after kill: ${state(n)}`);
    r = docker('rm', '-f', n);
    assert.equal(r.code, 0, show(r));
    assert.notEqual(docker('inspect', n).code, 0, 'the container is gone');
  });

  it(`docker rm -f of a running container [${runtime}]`, T, () => {
    const n = name('rmf');
    let r = docker('run', '-d', '--runtime', runtime, '--name', n, IMG.docker, 'sleep', '1000');
    assert.equal(r.code, 0, show(r));
    r = docker('rm', '-f', n);
    assert.equal(r.code, 0, show(r));
    assert.notEqual(docker('inspect', n).code, 0, 'the container is gone');
  });
}

/** ctr run --runc-binary BINARY (or containerd's default runc when BINARY is null) */
export function ctrSmoke(binary: string | null): void {
  const label = binary ? 'tsrunc' : 'runc';
  const rb = [...(binary ? ['--runc-binary', binary] : []), '--runc-root', CTR_RUNC_ROOT];
  const id = namesRemovedAfter('c', (ids) => ids.forEach(ctrRemove));

  it(`ctr run --rm (foreground): output and exit 0 [${label}]`, T, () => {
    const r = ctr('run', '--rm', ...rb, IMG.ctr, id('fg'), 'echo', 'hello from ctr');
    assert.equal(r.code, 0, show(r));
    assert.equal(r.stdout, 'hello from ctr\n', show(r));
  });

  it(`ctr run --rm: exit code 7 [${label}]`, T, () => {
    const r = ctr('run', '--rm', ...rb, IMG.ctr, id('x7'), 'sh', '-c', 'exit 7');
    assert.equal(r.code, 7, show(r));
  });

  it(`ctr run nosuchcmd: the error names the missing executable [${label}]`, T, () => {
    const r = ctr('run', '--rm', ...rb, IMG.ctr, id('nx'), 'nosuchcmd');
    assert.notEqual(r.code, 0, show(r));
    assert.match(r.stderr, /exec: "nosuchcmd": executable file not found in \$PATH/, show(r));
  });

  it(`ctr run -d, task kill -a -s SIGKILL, task delete -f [${label}]`, T, async () => {
    const c = id('d');
    const forced = id('f');
    let r = ctr('run', '-d', ...rb, IMG.ctr, c, 'sleep', '1000');
    assert.equal(r.code, 0, show(r));
    assert.equal(taskStatus(c), 'RUNNING');
    r = ctr('task', 'kill', '-a', '-s', 'SIGKILL', c);
    assert.equal(r.code, 0, show(r));
    assert.ok(await waitFor(() => taskStatus(c) === 'STOPPED'), `status ${taskStatus(c)}`);
    r = ctr('task', 'delete', c);
    assert.equal(r.code, 0, show(r));
    r = ctr('run', '-d', ...rb, IMG.ctr, forced, 'sleep', '1000');
    assert.equal(r.code, 0, show(r));
    r = ctr('task', 'delete', '-f', forced);
    assert.equal(r.code, 0, show(r));
    assert.equal(taskStatus(forced), '', 'the task is gone');
  });
}

/** The status column of `ctr task ls` for ID ('' when there is no task). */
export function taskStatus(id: string): string {
  const line = ctr('task', 'ls').stdout.split('\n').find((l) => l.split(/\s+/)[0] === id);
  return line ? line.trim().split(/\s+/)[2] : '';
}

export function ctrRemove(id: string): void {
  ctr('task', 'kill', '-a', '-s', 'SIGKILL', id);
  ctr('task', 'delete', '-f', id);
  ctr('container', 'delete', id);
}

/** podman --runtime RUNTIME ... */
export function podmanSmoke(runtime: string): void {
  const p = (...args: string[]): Result => podman('--runtime', runtime, ...args);
  const name = namesRemovedAfter('p', (names) => podman('rm', '-f', '-i', '-t', '0', ...names));
  const label = runtime.includes('/') ? `path ${runtime.split('/').pop()}` : runtime;

  it(`podman run --rm (foreground): output and exit 0 [${label}]`, T, () => {
    const r = p('run', '--rm', IMG.podman, 'echo', 'hello from podman');
    assert.equal(r.code, 0, show(r));
    assert.equal(r.stdout, 'hello from podman\n', show(r));
  });

  it(`podman run --rm: exit code 7 [${label}]`, T, () => {
    const r = p('run', '--rm', IMG.podman, 'sh', '-c', 'exit 7');
    assert.equal(r.code, 7, show(r));
  });

  it(`podman run nosuchcmd: 127 and a message naming the missing executable [${label}]`, T, () => {
    const r = p('run', '--rm', IMG.podman, 'nosuchcmd');
    assert.equal(r.code, 127, show(r));
    assert.match(r.stderr, /nosuchcmd.*(executable file not found|not found)/, show(r));
  });

  it(`podman run -d, stop -t 2, rm -f [${label}]`, T, () => {
    const n = name('stop');
    const forced = name('f');
    let r = p('run', '-d', '--name', n, IMG.podman, 'sleep', '1000');
    assert.equal(r.code, 0, show(r));
    r = p('stop', '-t', '2', n);
    assert.equal(r.code, 0, show(r));
    assert.equal(podman('inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', n).stdout.trim(), 'exited 137');
    r = p('run', '-d', '--name', forced, IMG.podman, 'sleep', '1000');
    assert.equal(r.code, 0, show(r));
    r = p('rm', '-f', '-t', '0', forced);
    assert.equal(r.code, 0, show(r));
    assert.notEqual(podman('inspect', forced).code, 0, 'the container is gone');
  });
}
