// OCI hooks: when they run, in which namespaces, with which state on stdin, and what their
// failures do (runtime-spec config.md "POSIX-platform Hooks" and runtime.md "Lifecycle").

import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Runtime, leftoverCgroups, processesWith, skipUnlessRoot, sleep, uniqueId } from '../helpers/runtime';

interface HookRecord {
  state: Record<string, unknown>;
  ns: string;
  args: string;
  env: string;
  exe?: string;
}

describe('hooks', { skip: skipUnlessRoot }, () => {
  const rt = new Runtime();
  // a host-side hook: records its stdin (the state), mount namespace, arguments and env
  const hostHook = path.join(rt.tmp, 'hook.sh');
  fs.writeFileSync(
    hostHook,
    '#!/bin/sh\nout="$1"; shift\nstate=$(cat)\npid=$(echo "$state" | sed -n \'s/.*"pid":\\([0-9]*\\).*/\\1/p\')\n' +
      'exe=""; [ -n "$pid" ] && exe=$(readlink /proc/$pid/exe)\n' +
      'printf \'{"state":%s,"ns":"%s","args":"%s","env":"%s","exe":"%s"}\\n\' "$state" "$(readlink /proc/self/ns/mnt)" "$*" "$HOOKVAR" "$exe" > "$out"\n',
    { mode: 0o755 },
  );
  const read = (dir: string, kind: string) => JSON.parse(fs.readFileSync(path.join(dir, `${kind}.json`), 'utf8')) as HookRecord;
  const hostMnt = fs.readlinkSync('/proc/self/ns/mnt');

  it('runs every kind at its point of the lifecycle, with the state the spec gives', async () => {
    const out = fs.mkdtempSync(path.join(rt.tmp, 'hooks-'));
    const h = (kind: string) => ({ path: hostHook, args: ['hook', path.join(out, `${kind}.json`), 'extra-arg'], env: [`HOOKVAR=${kind}-env`] });
    // startContainer resolves in the container: a shell of the rootfs, writing into a bind mount
    const startContainer = { path: '/bin/sh', args: ['sh', '-c', 'cat > /mnt/startContainer.json; readlink /proc/self/ns/mnt > /mnt/startContainer.ns'] };
    const id = uniqueId();
    const b = rt.bundle((c) => {
      c.process.args = ['sleep', '1000'];
      c.mounts.push({ destination: '/mnt', type: 'bind', source: out, options: ['rbind', 'rw'] });
      c.hooks = { prestart: [h('prestart')], createRuntime: [h('createRuntime')], createContainer: [h('createContainer')], startContainer: [startContainer], poststart: [h('poststart')], poststop: [h('poststop')] };
    });
    assert.equal(rt.run(['create', '--bundle', b, id]).code, 0);
    const pid = rt.state(id)!.pid;
    for (const kind of ['prestart', 'createRuntime', 'createContainer']) {
      const rec = read(out, kind);
      assert.equal(rec.state.status, 'created', kind); // runtime.md: "creating" is step 2 only
      assert.equal(rec.state.pid, pid, kind);
      assert.equal(rec.state.id, id, kind);
      assert.equal(rec.state.bundle, b, kind);
      assert.equal(rec.args, 'extra-arg', kind); // the script shifts its first argument away
      assert.equal(rec.env, `${kind}-env`, kind);
    }
    assert.equal(read(out, 'prestart').ns, hostMnt, 'prestart runs in the runtime namespace');
    assert.equal(read(out, 'createRuntime').ns, hostMnt, 'createRuntime runs in the runtime namespace');
    const containerMnt = fs.readlinkSync(`/proc/${pid}/ns/mnt`);
    assert.equal(read(out, 'createContainer').ns, containerMnt, 'createContainer runs in the container namespace');
    assert.equal(fs.existsSync(path.join(out, 'startContainer.json')), false);

    assert.equal(rt.run(['start', id]).code, 0);
    const sc = JSON.parse(fs.readFileSync(path.join(out, 'startContainer.json'), 'utf8'));
    assert.equal(sc.status, 'created');
    assert.equal(fs.readFileSync(path.join(out, 'startContainer.ns'), 'utf8').trim(), containerMnt, 'startContainer runs in the container namespace');
    const ps = read(out, 'poststart');
    assert.equal(ps.state.status, 'running');
    assert.equal(ps.ns, hostMnt);
    assert.match(ps.exe ?? '', /busybox$/, 'poststart runs after the user program has started');

    assert.equal(rt.run(['kill', id, 'KILL']).code, 0);
    for (let i = 0; i < 100 && rt.state(id)?.status !== 'stopped'; i++) await sleep(10);
    assert.equal(fs.existsSync(path.join(out, 'poststop.json')), false);
    assert.equal(rt.run(['delete', id]).code, 0);
    const stop = read(out, 'poststop');
    assert.equal(stop.state.status, 'stopped');
    assert.equal(stop.state.id, id);
  });

  it('a failing createRuntime hook fails create and leaves nothing behind', () => {
    const id = uniqueId();
    const marker = `hookfail-${id}`;
    const b = rt.bundle((c) => {
      c.process.args = ['sh', '-c', `sleep 1000; : ${marker}`];
      c.hooks = { createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', 'echo broken >&2; exit 3'] }] };
    });
    const r = rt.run(['create', '--bundle', b, id]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /error running createRuntime hook #0 \(\/bin\/sh\): exit status 3, stdout: , stderr: broken/);
    assert.equal(rt.state(id), null);
    assert.deepEqual(processesWith(marker), []);
    assert.deepEqual(leftoverCgroups(path.basename(b)), []);
  });

  it('kills a hook that outlives its timeout', () => {
    const id = uniqueId();
    const b = rt.bundle((c) => (c.hooks = { prestart: [{ path: '/bin/sleep', args: ['sleep', '30'], timeout: 1 }] }));
    const t0 = Date.now();
    const r = rt.run(['create', '--bundle', b, id]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /prestart hook #0 .* timed out after 1s/);
    assert.ok(Date.now() - t0 < 10000);
    assert.equal(rt.state(id), null);
  });

  it('a failing poststop hook only warns', async () => {
    const id = uniqueId();
    const b = rt.bundle((c) => (c.hooks = { poststop: [{ path: '/bin/false' }] }));
    assert.equal(rt.run(['run', '-d', '--bundle', b, id]).code, 0);
    for (let i = 0; i < 100 && rt.state(id)?.status !== 'stopped'; i++) await sleep(10);
    const r = rt.run(['delete', id]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /level=warning.*poststop hook #0/);
    assert.equal(rt.state(id), null);
  });

  it('a failing poststart hook warns and the container keeps running', () => {
    const id = uniqueId();
    const b = rt.bundle((c) => {
      c.process.args = ['sleep', '1000'];
      c.hooks = { poststart: [{ path: '/bin/false' }] };
    });
    assert.equal(rt.run(['create', '--bundle', b, id]).code, 0);
    const r = rt.run(['start', id]);
    assert.equal(r.code, 0);
    assert.match(r.stderr, /level=warning.*poststart hook #0/);
    assert.equal(rt.state(id)?.status, 'running');
    assert.equal(rt.run(['delete', '--force', id]).code, 0);
  });
});
