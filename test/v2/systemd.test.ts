// The systemd cgroup driver (--systemd-cgroup) against a real systemd: the cgroup v2 VM booted
// with systemd as PID 1 (CG2VM_INIT=systemd scripts/cgroup2-vm-test runs this file there; these
// machines have no systemd). Skips anywhere systemd is not the init of a cgroup v2 host.

import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { Runtime, skipUnlessRoot, uniqueId, until as pollUntil } from '../helpers/runtime';
import { cgroupMode } from '../../src/linux/cgroups';
import { systemdRunning } from '../../src/linux/cgroups/systemd';

const skip = skipUnlessRoot || (systemdRunning() && cgroupMode() === 'v2' ? false : 'needs systemd as the init of a cgroup v2 host (CG2VM_INIT=systemd scripts/cgroup2-vm-test)');
const SD = ['--systemd-cgroup'];

function systemctl(...args: string[]): string {
  return spawnSync('systemctl', ['--no-pager', ...args], { encoding: 'utf8' }).stdout.trim();
}

// the VM is slow: longer bounds, slower polling
const until = (what: string, f: () => boolean, ms = 60000) => pollUntil(what, f, ms, 50);

describe('systemd cgroup driver', { skip }, () => {
  const rt = new Runtime();
  const run = (args: string[]) => rt.run(args, { globals: SD, timeoutMs: 90000 });

  it('starts a transient scope with the resource properties; limits hold; delete stops it', async () => {
    const id = uniqueId('sd');
    const unit = `tsrunc-${id}.scope`;
    const dir = path.join('/sys/fs/cgroup/system.slice', unit);
    const out = fs.mkdtempSync('/tmp/tsrunc-sd-');
    const b = rt.bundle((c) => {
      c.process.args = ['sh', '-c', 'while [ ! -e /mnt/go ]; do sleep 0.1; done; (echo 1000 > /proc/self/oom_score_adj; head -c 200m /dev/zero | tail); echo "hog=$?" > /mnt/result.tmp; mv /mnt/result.tmp /mnt/result; sleep 1000'];
      c.mounts.push({ destination: '/mnt', type: 'bind', source: out, options: ['rbind', 'rw'] });
      c.linux.cgroupsPath = `system.slice:tsrunc:${id}`;
      c.linux.resources = { memory: { limit: 32 << 20, swap: 32 << 20 }, pids: { limit: 20 }, cpu: { shares: 512, quota: 50000, period: 100000 } };
    });
    try {
      const r = run(['run', '-d', '--bundle', b, id]);
      assert.equal(r.code, 0, r.stderr);
      const pid = rt.state(id)!.pid as number;
      assert.ok(fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').includes(String(pid)), 'the init is in the scope');
      assert.equal(systemctl('is-active', unit), 'active');
      const show = systemctl('show', unit, '-p', 'MemoryMax', '-p', 'TasksMax', '-p', 'Delegate', '-p', 'CPUWeight', '-p', 'CPUQuotaPerSecUSec', '-p', 'Slice');
      assert.match(show, /^MemoryMax=33554432$/m);
      assert.match(show, /^TasksMax=20$/m);
      assert.match(show, /^Delegate=yes$/m);
      assert.match(show, /^CPUWeight=20$/m);
      assert.match(show, /^CPUQuotaPerSecUSec=500ms$/m);
      assert.match(show, /^Slice=system.slice$/m);
      assert.equal(fs.readFileSync(path.join(dir, 'memory.max'), 'utf8').trim(), String(32 << 20));
      assert.equal(fs.readFileSync(path.join(dir, 'pids.max'), 'utf8').trim(), '20');
      assert.equal(fs.readFileSync(path.join(dir, 'cpu.max'), 'utf8').trim(), '50000 100000');
      // the limit holds
      fs.writeFileSync(path.join(out, 'go'), '');
      await until('the hog', () => fs.existsSync(path.join(out, 'result')));
      assert.equal(fs.readFileSync(path.join(out, 'result'), 'utf8').trim(), 'hog=137');
      // the other verbs work on the scope
      assert.equal(run(['pause', id]).code, 0);
      assert.equal(rt.state(id)!.status, 'paused');
      assert.equal(run(['resume', id]).code, 0);
      assert.equal(run(['update', '--pids-limit', '10', id]).code, 0);
      assert.equal(fs.readFileSync(path.join(dir, 'pids.max'), 'utf8').trim(), '10');
      assert.deepEqual(JSON.parse(run(['ps', '--format', 'json', id]).stdout), [pid]);
      const d = run(['delete', '--force', id]);
      assert.equal(d.code, 0, d.stderr);
      assert.equal(fs.existsSync(dir), false, 'the scope cgroup is gone');
      assert.notEqual(systemctl('is-active', unit), 'active');
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });

  it('uses system.slice:tsrunc:<id> by default and nests slices as systemd does', () => {
    const id = uniqueId('sdd');
    let r = run(['create', '--bundle', rt.bundle((c) => (c.linux.cgroupsPath = '')), id]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(fs.existsSync(`/sys/fs/cgroup/system.slice/tsrunc-${id}.scope`));
    assert.equal(run(['delete', '--force', id]).code, 0);
    const id2 = uniqueId('sdn');
    r = run(['create', '--bundle', rt.bundle((c) => (c.linux.cgroupsPath = `tsrunc-test.slice:t:${id2}`)), id2]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(fs.existsSync(`/sys/fs/cgroup/tsrunc.slice/tsrunc-test.slice/t-${id2}.scope`));
    assert.equal(run(['delete', '--force', id2]).code, 0);
    assert.equal(fs.existsSync(`/sys/fs/cgroup/tsrunc.slice/tsrunc-test.slice/t-${id2}.scope`), false);
    systemctl('stop', 'tsrunc-test.slice', 'tsrunc.slice');
  });

  it('refuses a path-form cgroupsPath, and a failed create leaves no scope', async () => {
    const id = uniqueId('sdbad');
    let r = run(['create', '--bundle', rt.bundle((c) => (c.linux.cgroupsPath = '/not/a/slice')), id]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /expected cgroupsPath to be of format \\?"slice:prefix:name\\?" for systemd cgroups/);
    const id2 = uniqueId('sdfail');
    r = run(['create', '--bundle', rt.bundle((c) => {
      c.linux.cgroupsPath = `system.slice:tsrunc:${id2}`;
      c.process.args = ['/no/such/program'];
    }), id2]);
    assert.equal(r.code, 1);
    await until('the scope to go', () => !fs.existsSync(`/sys/fs/cgroup/system.slice/tsrunc-${id2}.scope`));
    assert.equal(rt.state(id2), null);
  });
});
