// Fault injection: the runtime is killed with SIGKILL (TSRUNC_FAULT=<point>, src/container/fault.ts)
// at every checkpoint of create, start and exec, and between them. Afterwards the container's
// program never runs half-made, `state` tells the truth, and `delete --force` leaves no process,
// mount, cgroup or state directory behind.

import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO, ROOTFS, Runtime, leftoverCgroups, leftoverMounts, processesWith, skipUnlessRoot, sleep, uniqueId, type Config } from '../helpers/runtime';

const NEEDS_EXEC = fs.existsSync(path.join(REPO, 'dist', 'src', 'container', 'exec.js')) ? false : 'needs exec (issue #4)';

describe('faults', { skip: skipUnlessRoot }, () => {
  const rt = new Runtime();

  /** a config with a hook and a tmpcopyup mount, so that every create checkpoint is reached */
  function bundle(marker: string, mutate: (c: Config) => void = () => {}): string {
    return rt.bundle((c) => {
      c.process.args = ['sh', '-c', `sleep 1000; : ${marker}`];
      c.hooks = { createRuntime: [{ path: '/bin/true' }] };
      c.mounts.push({ destination: '/run', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'tmpcopyup'] });
      mutate(c);
    });
  }

  async function settle(id: string, want: (s: string | undefined) => boolean): Promise<string | undefined> {
    let st: string | undefined;
    for (let i = 0; i < 200; i++) {
      st = rt.state(id)?.status as string | undefined;
      if (want(st)) return st;
      await sleep(10);
    }
    return st;
  }

  function cleanedUp(id: string, b: string, marker: string): void {
    const d = rt.run(['delete', '--force', id]);
    assert.equal(d.code, 0, d.stderr);
    assert.equal(fs.existsSync(path.join(rt.root, id)), false, 'no state directory');
    assert.deepEqual(leftoverCgroups(path.basename(b)), [], 'no cgroup');
    assert.deepEqual(leftoverMounts(ROOTFS), [], 'no mount');
    assert.deepEqual(processesWith(marker), [], 'no process');
    assert.equal(rt.state(id), null);
  }

  const CREATE_POINTS = ['claimed', 'recorded', 'cgroups', 'fifo', 'launched', 'mapping', 'after:mapping', 'copyup:/run', 'after:copyup:/run', 'hooks', 'after:hooks', 'ready', 'created'];
  for (const point of CREATE_POINTS) {
    it(`create killed at "${point}": the program never runs, state tells the truth, delete --force cleans up`, async () => {
      const id = uniqueId('fc');
      const marker = `marker-${id}`;
      const b = bundle(marker);
      const r = rt.run(['create', '--bundle', b, id], { env: { ...process.env, TSRUNC_FAULT: point } });
      assert.equal(r.signal, 'SIGKILL', `create should have been killed at ${point}: ${r.stderr}`);
      if (point === 'claimed') {
        assert.equal(rt.state(id), null, 'no state written yet: the container does not exist');
      } else if (point === 'created') {
        assert.equal(await settle(id, (s) => s === 'created'), 'created', 'the init was released: it waits for start');
      } else {
        // the init waits for a go byte that never comes (or meets EOF on its way): it dies
        assert.equal(await settle(id, (s) => s === 'stopped'), 'stopped');
      }
      await sleep(50);
      assert.deepEqual(processesWith(marker), [], 'the program never ran');
      cleanedUp(id, b, marker);
    });
  }

  for (const point of ['start:locked', 'start:opened', 'start:unlinked', 'start:executed']) {
    it(`start killed at "${point}": state tells the truth, delete --force cleans up`, async () => {
      const id = uniqueId('fs');
      const marker = `marker-${id}`;
      const b = bundle(marker);
      assert.equal(rt.run(['create', '--bundle', b, id]).code, 0);
      const r = rt.run(['start', id], { env: { ...process.env, TSRUNC_FAULT: point } });
      assert.equal(r.signal, 'SIGKILL', r.stderr);
      if (point === 'start:locked') {
        assert.equal(rt.state(id)?.status, 'created', 'nothing happened yet');
        assert.equal(rt.run(['start', id]).code, 0, 'a second start works');
        assert.equal(await settle(id, (s) => s === 'running'), 'running');
      } else if (point === 'start:executed') {
        assert.equal(await settle(id, (s) => s === 'running'), 'running', 'the program runs');
        for (let i = 0; i < 100 && processesWith(marker).length === 0; i++) await sleep(10);
        assert.equal(processesWith(marker).length, 1);
      } else {
        // the init lost the reader of its FIFO before it executed: it dies, the program never runs
        const st = await settle(id, (s) => s === 'stopped' || s === 'running');
        if (st === 'running') assert.equal(processesWith(marker).length, 1, 'running means the program runs');
        else {
          assert.equal(st, 'stopped');
          assert.deepEqual(processesWith(marker), []);
        }
      }
      cleanedUp(id, b, marker);
    });
  }

  for (const point of ['exec:launched', 'exec:joined', 'exec:after:joined', 'exec:executed']) {
    it(`exec killed at "${point}": the container is unharmed, nothing of the exec is left but a running process`, { skip: NEEDS_EXEC }, async () => {
      const id = uniqueId('fe');
      const marker = `marker-${id}`;
      const b = bundle(marker);
      assert.equal(rt.run(['run', '-d', '--bundle', b, id]).code, 0);
      const execMarker = `exec-${marker}`;
      const r = rt.run(['exec', '-d', id, 'sh', '-c', `sleep 1000; : ${execMarker}`], { env: { ...process.env, TSRUNC_FAULT: point } });
      assert.equal(r.signal, 'SIGKILL', r.stderr);
      await sleep(100);
      const left = processesWith(execMarker);
      if (point === 'exec:launched' || point === 'exec:joined') assert.deepEqual(left, [], 'a process whose runtime died before it joined never runs');
      else assert.ok(left.length <= 1, 'at most the one process, inside the container');
      assert.equal(rt.state(id)?.status, 'running', 'the container is unharmed');
      assert.equal(rt.run(['exec', id, 'true']).code, 0, 'and exec still works');
      cleanedUp(id, b, marker);
      assert.deepEqual(processesWith(execMarker), []);
    });
  }
});
