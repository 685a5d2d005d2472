// Concurrency: many tsrunc processes at once on one --root. 50 containers created, started and
// deleted in parallel (distinct ids), and 10 creates of the same id racing: exactly one wins, the
// others fail cleanly, and no state is ever corrupted or left behind.

import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { ROOTFS, Runtime, TSRUNC, leftoverCgroups, leftoverMounts, processesWith, skipUnlessRoot, uniqueId } from '../helpers/runtime';

describe('concurrency', { skip: skipUnlessRoot }, () => {
  const rt = new Runtime();
  let n = 0;

  /** tsrunc, asynchronously; stdout and stderr in files (a container inherits them) */
  function tsrunc(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const base = path.join(rt.tmp, `.conc-${++n}`);
    const out = fs.openSync(`${base}.out`, 'w+');
    const err = fs.openSync(`${base}.err`, 'w+');
    const child = spawn(TSRUNC, ['--root', rt.root, ...args], { stdio: ['ignore', out, err] });
    return new Promise((resolve) => {
      child.on('exit', (code) => {
        fs.closeSync(out);
        fs.closeSync(err);
        resolve({ code, stdout: fs.readFileSync(`${base}.out`, 'utf8'), stderr: fs.readFileSync(`${base}.err`, 'utf8') });
      });
    });
  }

  it('creates, starts and deletes 50 containers in parallel', { timeout: 120000 }, async () => {
    const ids = Array.from({ length: 50 }, () => uniqueId('par'));
    const marker = `marker-${process.pid}-par`;
    const bundles = ids.map((id) => rt.bundle((c) => (c.process.args = ['sh', '-c', `sleep 1000; : ${marker}`]), `b-${id}`));
    try {
      const created = await Promise.all(ids.map((id, i) => tsrunc(['create', '--bundle', bundles[i], id])));
      created.forEach((r, i) => assert.equal(r.code, 0, `create ${ids[i]}: ${r.stderr}`));
      const list = JSON.parse(rt.run(['list', '--format', 'json']).stdout) as Array<{ id: string; status: string; pid: number }>;
      assert.deepEqual(list.filter((s) => ids.includes(s.id)).map((s) => s.status), ids.map(() => 'created'));
      assert.equal(new Set(list.map((s) => s.pid)).size, list.length, 'every container has its own init');

      const started = await Promise.all(ids.map((id) => tsrunc(['start', id])));
      started.forEach((r, i) => assert.equal(r.code, 0, `start ${ids[i]}: ${r.stderr}`));
      const running = JSON.parse(rt.run(['list', '--format', 'json']).stdout) as Array<{ id: string; status: string }>;
      assert.deepEqual(running.filter((s) => ids.includes(s.id)).map((s) => s.status), ids.map(() => 'running'));
      assert.equal(processesWith(marker).length, 50);

      const deleted = await Promise.all(ids.map((id) => tsrunc(['delete', '--force', id])));
      deleted.forEach((r, i) => assert.equal(r.code, 0, `delete ${ids[i]}: ${r.stderr}`));
    } finally {
      await Promise.all(ids.map((id) => tsrunc(['delete', '--force', id])));
    }
    assert.deepEqual(JSON.parse(rt.run(['list', '--format', 'json']).stdout || '[]'), []);
    assert.deepEqual(processesWith(marker), []);
    for (const b of bundles) assert.deepEqual(leftoverCgroups(path.basename(b)), []);
    assert.deepEqual(leftoverMounts(ROOTFS), []);
    assert.deepEqual(fs.readdirSync(rt.root).filter((d) => ids.includes(d)), [], 'no state directory');
  });

  it('10 parallel creates of one id: exactly one wins, the others fail cleanly', { timeout: 120000 }, async () => {
    const id = uniqueId('same');
    const marker = `marker-${id}`;
    const bundles = Array.from({ length: 10 }, (_, i) => rt.bundle((c) => (c.process.args = ['sh', '-c', `sleep 1000; : ${marker}`]), `b-${id}-${i}`));
    try {
      const results = await Promise.all(bundles.map((b) => tsrunc(['create', '--bundle', b, id])));
      const winners = results.map((r, i) => (r.code === 0 ? i : -1)).filter((i) => i >= 0);
      assert.equal(winners.length, 1, results.map((r) => r.stderr).join('\n'));
      for (const r of results) {
        if (r.code === 0) continue;
        assert.equal(r.code, 1);
        assert.match(r.stderr, new RegExp(`container with id ${id} already exists`));
        assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      }
      // the winner's container is whole: its state, its bundle, its cgroup; the losers made none
      const st = rt.state(id)!;
      assert.equal(st.status, 'created');
      assert.equal(st.bundle, bundles[winners[0]]);
      bundles.forEach((b, i) => {
        if (i !== winners[0]) assert.deepEqual(leftoverCgroups(path.basename(b)), [], `loser ${i} left a cgroup`);
      });
      assert.equal(rt.run(['start', id]).code, 0);
      assert.equal(processesWith(marker).length, 1);
    } finally {
      assert.equal(rt.run(['delete', '--force', id]).code, 0);
    }
    for (const b of bundles) assert.deepEqual(leftoverCgroups(path.basename(b)), []);
    assert.deepEqual(processesWith(marker), []);
  });
});
