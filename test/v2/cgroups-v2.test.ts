// The cgroup v2 suite: the same enforcement checks as the host's (test/integration/cgroups*.ts),
// on a pure cgroup v2 kernel. These machines are v1 hybrids, so it runs in the QEMU VM of
// scripts/cgroup2-vm (scripts/cgroup2-vm-test builds it and runs this file there); on any other
// host it skips. Slow under TCG: one container per check, no more than needed.

import { describe, it, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { CGROUP_PREFIX, Runtime, TSRUNC, leftoverCgroups, skipUnlessRoot, sleep, uniqueId, until as pollUntil, type Config } from '../helpers/runtime';
import { cgroupMode } from '../../src/linux/cgroups';

const CG = '/sys/fs/cgroup';
const v2 = fs.existsSync(`${CG}/cgroup.controllers`) && cgroupMode() === 'v2';
const skip = skipUnlessRoot || (v2 ? false : 'needs a pure cgroup v2 host (run scripts/cgroup2-vm-test)');

function dir(name: string): string {
  return path.join(CG, CGROUP_PREFIX.slice(1), name);
}

function readCg(name: string, file: string): string {
  return fs.readFileSync(path.join(dir(name), file), 'utf8').trim();
}

function keyed(name: string, file: string): Record<string, number> {
  return Object.fromEntries(
    readCg(name, file)
      .split('\n')
      .map((l) => l.split(' '))
      .map(([k, v]) => [k, Number(v)]),
  );
}

// the VM is slow: longer bounds, slower polling
const until = (what: string, f: () => boolean, ms = 90000) => pollUntil(what, f, ms, 50);

describe('cgroups (pure cgroup v2)', { skip }, () => {
  const rt = new Runtime();
  const outDir = fs.mkdtempSync('/tmp/tsrunc-cg2-');
  after(() => fs.rmSync(outDir, { recursive: true, force: true }));
  const T = 60000; // TCG: everything is 5-25x slower

  function bundle(script: string, mutate: (c: Config) => void = () => {}): { b: string; name: string; out: string } {
    const out = fs.mkdtempSync(path.join(outDir, 'o-'));
    const b = rt.bundle((c) => {
      c.process.args = ['sh', '-c', script];
      c.mounts.push({ destination: '/mnt', type: 'bind', source: out, options: ['rbind', 'rw'] });
      c.linux.resources = {};
      mutate(c);
    });
    return { b, name: path.basename(b), out };
  }

  function run(args: string[], input?: string) {
    return rt.run(args, { input, timeoutMs: T });
  }

  it('OOM-kills a memory hog at memory.max; events reports oom; update raises the limit and it holds', async () => {
    const limit = 32 << 20;
    const { b, name, out } = bundle(
      'while [ ! -e /mnt/go ]; do sleep 0.1; done; (echo 1000 > /proc/self/oom_score_adj; head -c 200m /dev/zero | tail); echo "hog=$?" > /mnt/result.tmp; mv /mnt/result.tmp /mnt/result; ' +
        'while [ ! -e /mnt/go2 ]; do sleep 0.1; done; head -c 40m /dev/zero | tail; echo "second=$?" > /mnt/result2.tmp; mv /mnt/result2.tmp /mnt/result2; sleep 1000',
      (c) => {
        c.linux.resources.memory = { limit, swap: limit };
      },
    );
    const id = uniqueId('oom');
    let r = run(['run', '-d', '--bundle', b, id]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readCg(name, 'memory.max'), String(limit));
    assert.equal(readCg(name, 'memory.swap.max'), '0', 'spec swap is memory+swap');
    const events = spawn(TSRUNC, ['--root', rt.root, 'events', '--interval', '30s', id], { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    events.stdout.on('data', (d) => (text += d));
    try {
      await until('the first stats event', () => text.includes('"type":"stats"'));
      fs.writeFileSync(path.join(out, 'go'), '');
      await until('the hog to end', () => fs.existsSync(path.join(out, 'result'))).catch((e) => {
        throw new Error(`${e.message}: memory.events ${readCg(name, 'memory.events').replace(/\n/g, ', ')}; processes ${readCg(name, 'cgroup.procs').replace(/\n/g, ' ')}; state ${rt.state(id)?.status}; events said ${text.length} bytes`);
      });
      assert.equal(fs.readFileSync(path.join(out, 'result'), 'utf8').trim(), 'hog=137');
      await until('an oom event', () => text.includes(`{"type":"oom","id":"${id}"}`));
      assert.ok(keyed(name, 'memory.events').oom_kill >= 1);
    } finally {
      events.kill();
    }
    // update -r - (containerd): 256 MiB, and a 40 MiB hog (more than the old limit) now fits
    r = run(['update', '--resources', '-', id], JSON.stringify({ memory: { limit: 256 << 20, swap: 256 << 20, reservation: 0, kernel: 0 }, cpu: { shares: 0 } }));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readCg(name, 'memory.max'), String(256 << 20));
    fs.writeFileSync(path.join(out, 'go2'), '');
    await until('the second hog', () => fs.existsSync(path.join(out, 'result2')));
    assert.equal(fs.readFileSync(path.join(out, 'result2'), 'utf8').trim(), 'second=0');
    const ev = JSON.parse(run(['events', '--stats', id]).stdout);
    assert.equal(ev.data.memory.usage.limit, 256 << 20);
    assert.ok(ev.data.cpu.usage.total > 0);
    assert.equal(run(['delete', '--force', id]).code, 0);
    assert.deepEqual(leftoverCgroups(name), []);
  });

  it('stops a fork bomb at pids.max; update lowers it; kill --all uses cgroup.kill', async () => {
    const { b, name, out } = bundle('(i=0; while [ $i -lt 40 ]; do sleep 1000 & i=$((i+1)); done) 2>/mnt/errors; echo done > /mnt/result.tmp; mv /mnt/result.tmp /mnt/result; sleep 1000', (c) => {
      c.linux.resources.pids = { limit: 10 };
    });
    const id = uniqueId('pids');
    assert.equal(run(['run', '-d', '--bundle', b, id]).code, 0);
    await until('the forks', () => fs.existsSync(path.join(out, 'result')));
    assert.equal(readCg(name, 'pids.max'), '10');
    assert.ok(keyed(name, 'pids.events').max >= 1, 'forks were refused at the limit');
    await until('the last helper process (mv) to be reaped', () => readCg(name, 'pids.current') === '9');
    assert.match(fs.readFileSync(path.join(out, 'errors'), 'utf8'), /can't fork/);
    assert.equal(run(['update', '--pids-limit', '5', id]).code, 0);
    assert.equal(readCg(name, 'pids.max'), '5');
    assert.ok(fs.existsSync(path.join(dir(name), 'cgroup.kill')));
    const pids = JSON.parse(run(['ps', '--format', 'json', id]).stdout) as number[];
    assert.equal(pids.length, 9);
    assert.equal(run(['kill', '--all', id, 'KILL']).code, 0);
    await until('populated 0', () => /^populated 0$/m.test(readCg(name, 'cgroup.events')));
    await until('stopped', () => rt.state(id)?.status === 'stopped');
    assert.equal(run(['delete', id]).code, 0);
    assert.deepEqual(leftoverCgroups(name), []);
  });

  it('caps measured CPU use at cpu.max', async () => {
    const { b, name } = bundle('while :; do :; done', (c) => {
      c.linux.resources.cpu = { quota: 20000, period: 100000, shares: 1024 };
    });
    const id = uniqueId('cpu');
    assert.equal(run(['run', '-d', '--bundle', b, id]).code, 0);
    assert.equal(readCg(name, 'cpu.max'), '20000 100000');
    assert.equal(readCg(name, 'cpu.weight'), '39');
    await sleep(500);
    const u0 = keyed(name, 'cpu.stat').usage_usec;
    const t0 = Date.now();
    await sleep(3000);
    const used = (keyed(name, 'cpu.stat').usage_usec - u0) / 1000 / (Date.now() - t0);
    assert.ok(used < 0.3, `a busy loop got ${used.toFixed(2)} CPUs with a 0.2 CPU quota`);
    assert.ok(used > 0.05, `a busy loop got only ${used.toFixed(2)} CPUs`);
    assert.ok(keyed(name, 'cpu.stat').nr_throttled > 0);
    assert.equal(run(['delete', '--force', id]).code, 0);
    assert.deepEqual(leftoverCgroups(name), []);
  });

  it('denies devices through the eBPF program, allows the listed ones', () => {
    // /dev/kmsg opened write-only needs no capability: only the device cgroup decides
    const script = 'for d in null zero full urandom; do (exec 3<>/dev/$d) 2>/dev/null && echo "$d ok" || echo "$d denied"; done; (exec 3>/dev/kmsg) 2>/dev/null && echo "kmsg ok" || echo "kmsg denied"';
    const kmsg = { path: '/dev/kmsg', type: 'c', major: 1, minor: 11, fileMode: 0o666, uid: 0, gid: 0 };
    let r = rt.inside(script, (c) => (c.linux.devices = [kmsg]));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'null ok\nzero ok\nfull ok\nurandom ok\nkmsg denied\n');
    r = rt.inside(script, (c) => {
      c.linux.devices = [kmsg];
      c.linux.resources = { devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 11, access: 'w' }] };
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'null ok\nzero ok\nfull ok\nurandom ok\nkmsg ok\n');
  });

  it('throttles reads with io.max', async (t) => {
    spawnSync('modprobe', ['loop']);
    const img = path.join(outDir, 'disk.img');
    fs.writeFileSync(img, Buffer.alloc(4 << 20, 1));
    const lo = spawnSync('losetup', ['--find', '--show', img], { encoding: 'utf8' });
    if (lo.status !== 0) return t.skip(`losetup: ${lo.stderr.trim()}`);
    const dev = lo.stdout.trim();
    try {
      const rdev = Number(fs.statSync(dev).rdev);
      const major = (rdev >> 8) & 0xfff;
      const minor = (rdev & 0xff) | ((rdev >> 12) & 0xfff00);
      const t0 = Date.now();
      const r = rt.inside('dd if=/dev/disk of=/dev/null bs=64k count=48', (c) => {
        c.linux.devices = [{ path: '/dev/disk', type: 'b', major, minor, fileMode: 0o600, uid: 0, gid: 0 }];
        c.linux.resources = { devices: [{ allow: true, type: 'b', major, minor, access: 'r' }], blockIO: { throttleReadBpsDevice: [{ major, minor, rate: 1 << 20 }] } };
      });
      const ms = Date.now() - t0;
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /48\+0 records in/);
      assert.ok(ms >= 1500, `3 MiB read in ${ms} ms at 1 MiB/s`);
    } finally {
      spawnSync('losetup', ['-d', dev]);
    }
  });

  it('update changes the device rules of a live container (as containerd sends them)', async () => {
    const { b, out } = bundle('while [ ! -e /mnt/go1 ]; do sleep 0.05; done; { (exec 3>/dev/kmsg) 2>/dev/null && echo kmsg-ok || echo kmsg-denied; (exec 3<>/dev/null) && echo null-ok; } > /mnt/r1.tmp; mv /mnt/r1.tmp /mnt/r1; while [ ! -e /mnt/go2 ]; do sleep 0.05; done; { (exec 3>/dev/kmsg) 2>/dev/null && echo kmsg-ok || echo kmsg-denied; (exec 3<>/dev/null) && echo null-ok; } > /mnt/r2.tmp; mv /mnt/r2.tmp /mnt/r2; while [ ! -e /mnt/go3 ]; do sleep 0.05; done; { (exec 3>/dev/kmsg) 2>/dev/null && echo kmsg-ok || echo kmsg-denied; (exec 3<>/dev/null) && echo null-ok; } > /mnt/r3.tmp; mv /mnt/r3.tmp /mnt/r3; sleep 1000', (c) => {
      c.linux.devices = [{ path: '/dev/kmsg', type: 'c', major: 1, minor: 11, fileMode: 0o666, uid: 0, gid: 0 }];
    });
    const id = uniqueId('devupd');
    assert.equal(run(['run', '-d', '--bundle', b, id]).code, 0);
    const phase = async (n: number) => {
      fs.writeFileSync(path.join(out, `go${n}`), '');
      await until(`phase ${n}`, () => fs.existsSync(path.join(out, `r${n}`)));
      return fs.readFileSync(path.join(out, `r${n}`), 'utf8');
    };
    assert.equal(await phase(1), 'kmsg-denied\nnull-ok\n');
    const allow = { devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 11, access: 'w' }], memory: { limit: 0 }, cpu: { shares: 0 } };
    let r = run(['update', '--resources', '-', id], JSON.stringify(allow));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await phase(2), 'kmsg-ok\nnull-ok\n');
    r = run(['update', '--resources', '-', id], JSON.stringify({ devices: [{ allow: false, access: 'rwm' }] }));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await phase(3), 'kmsg-denied\nnull-ok\n', 'revoked again; the defaults stay');
    assert.equal(run(['delete', '--force', id]).code, 0);
  });

  it('pause freezes (cgroup.freeze), resume continues; state says paused', async () => {
    const { b, name, out } = bundle('i=0; while :; do i=$((i+1)); echo $i > /mnt/count; sleep 0.05; done');
    const id = uniqueId('pause');
    assert.equal(run(['run', '-d', '--bundle', b, id]).code, 0);
    const count = () => Number(fs.readFileSync(path.join(out, 'count'), 'utf8') || 0);
    await until('the counter', () => fs.existsSync(path.join(out, 'count')) && count() > 2);
    assert.equal(run(['pause', id]).code, 0);
    assert.equal(rt.state(id)!.status, 'paused');
    assert.equal(readCg(name, 'cgroup.freeze'), '1');
    const frozenAt = count();
    await sleep(1000);
    assert.equal(count(), frozenAt, 'the counter stopped');
    assert.equal(run(['resume', id]).code, 0);
    assert.equal(rt.state(id)!.status, 'running');
    await until('the counter to move again', () => count() > frozenAt + 2);
    assert.equal(run(['delete', '--force', id]).code, 0);
    assert.deepEqual(leftoverCgroups(name), []);
  });

  it('holds hugepage limits (hugetlb.2MB.max): the second huge page is refused', () => {
    const nr = '/proc/sys/vm/nr_hugepages';
    const before = fs.readFileSync(nr, 'utf8').trim();
    fs.writeFileSync(nr, '8'); // this VM's own pool (the VM is thrown away; restored anyway)
    try {
      const r = rt.inside('fallocate -l 2097152 /mnt/a && echo one-ok; fallocate -l 4194304 /mnt/b 2>/dev/null && echo two-ok || echo two-refused; cat /sys/fs/cgroup/hugetlb.2MB.events', (c) => {
        c.mounts.push({ destination: '/mnt', type: 'hugetlbfs', source: 'none', options: ['pagesize=2M'] });
        c.linux.resources = { hugepageLimits: [{ pageSize: '2MB', limit: 2 << 20 }] };
      });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^one-ok\ntwo-refused\nmax [1-9]/);
    } finally {
      fs.writeFileSync(nr, before);
    }
  });

  it('shows the container its own cgroup at /sys/fs/cgroup (cgroup2, read-only)', () => {
    for (const cgroupns of [false, true]) {
      const r = rt.inside('cat /sys/fs/cgroup/pids.max; grep " /sys/fs/cgroup " /proc/self/mountinfo; echo 1 > /sys/fs/cgroup/pids.max || echo ro', (c) => {
        c.linux.resources = { pids: { limit: 77 } };
        if (cgroupns) c.linux.namespaces.push({ type: 'cgroup' });
      });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^77\n.* \/sys\/fs\/cgroup ro,.* - cgroup2 /, `cgroupns ${cgroupns}`);
      assert.match(r.stdout, /ro\n$/);
    }
  });

  it('applies unified keys, hugetlb, io and cpuset; refuses what v2 cannot do', () => {
    const b = rt.bundle((c) => {
      c.process.args = ['true'];
      c.linux.resources = {
        memory: { limit: 64 << 20, reservation: 16 << 20 },
        cpu: { cpus: '0', mems: '0', burst: 1000, quota: 50000, period: 100000, idle: 0 },
        hugepageLimits: [{ pageSize: '2MB', limit: 4 << 20 }],
        unified: { 'memory.high': String(48 << 20), 'pids.max': '42' },
      };
    });
    const name = path.basename(b);
    const id = uniqueId('fields');
    const r = run(['create', '--bundle', b, id]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readCg(name, 'memory.low'), String(16 << 20));
    assert.equal(readCg(name, 'memory.high'), String(48 << 20));
    assert.equal(readCg(name, 'pids.max'), '42');
    assert.equal(readCg(name, 'cpuset.cpus'), '0');
    assert.equal(readCg(name, 'cpu.max.burst'), '1000');
    assert.equal(readCg(name, 'hugetlb.2MB.max'), String(4 << 20));
    assert.equal(run(['delete', '--force', id]).code, 0);
    assert.deepEqual(leftoverCgroups(name), []);
    const cases: Array<[(c: Config) => void, RegExp]> = [
      [(c) => (c.linux.resources = { memory: { swappiness: 10 } }), /linux\.resources\.memory\.swappiness: cgroup v2 has no per-cgroup swappiness/],
      [(c) => (c.linux.resources = { memory: { kernel: 1 << 20 } }), /linux\.resources\.memory\.kernel: cgroup v2 has no kernel memory limit/],
      [(c) => (c.linux.resources = { cpu: { realtimeRuntime: 1000 } }), /realtimeRuntime: cgroup v2 has no realtime/],
      [(c) => (c.linux.resources = { network: { classID: 1 } }), /network\.classID: the net_cls cgroup controller is not available/],
      [(c) => (c.linux.resources = { memory: { swap: 1 << 20 } }), /cannot limit swap without a memory limit/],
    ];
    for (const [mutate, msg] of cases) {
      const bb = rt.bundle(mutate);
      const rid = uniqueId('refuse');
      const rr = run(['create', '--bundle', bb, rid]);
      assert.equal(rr.code, 1, `${msg}: ${rr.stderr}`);
      assert.match(rr.stderr, msg);
      assert.deepEqual(leftoverCgroups(path.basename(bb)), []);
    }
  });
});
