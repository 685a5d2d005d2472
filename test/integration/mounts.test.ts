// Mounts, propagation and joined namespaces, checked from inside real containers.

import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { Runtime, ROOTFS, leftoverMounts, skipUnlessRoot, sleep, uniqueId } from '../helpers/runtime';

function mountinfoOf(text: string): Map<string, { opts: string; optional: string; type: string }> {
  const out = new Map<string, { opts: string; optional: string; type: string }>();
  for (const line of text.trim().split('\n')) {
    const f = line.split(' ');
    const sep = f.indexOf('-');
    out.set(f[4], { opts: f[5], optional: f.slice(6, sep).join(' '), type: f[sep + 1] });
  }
  return out;
}

describe('mounts', { skip: skipUnlessRoot }, () => {
  const rt = new Runtime();

  it('binds files and directories with their options, and applies recursive attributes', () => {
    const dir = fs.mkdtempSync(path.join(rt.tmp, 'src-'));
    fs.writeFileSync(path.join(dir, 'hello'), 'hello\n');
    const file = path.join(rt.tmp, 'single-file');
    fs.writeFileSync(file, 'one file\n');
    // targets that exist in the shared test rootfs: a test must not leave anything in it
    const r = rt.inside('cat /mnt/hello /etc/group; touch /mnt/x 2>&1; cat /proc/self/mountinfo', (c) => {
      c.mounts.push({ destination: '/mnt', type: 'bind', source: dir, options: ['rbind', 'ro', 'nosuid'] });
      c.mounts.push({ destination: '/etc/group', type: 'bind', source: file, options: ['bind', 'rro'] });
      c.mounts.push({ destination: '/opt', type: 'tmpfs', source: 'tmpfs', options: ['size=1m', 'mode=700', 'noexec'] });
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^hello\none file\n.*Read-only file system/s);
    const m = mountinfoOf(r.stdout.slice(r.stdout.indexOf('\n', r.stdout.indexOf('Read-only')) + 1));
    assert.ok(m.get('/mnt')?.opts.split(',').includes('ro'));
    assert.ok(m.get('/mnt')?.opts.split(',').includes('nosuid'));
    assert.ok(m.get('/etc/group')?.opts.split(',').includes('ro'), 'rro applied through mount_setattr');
    assert.equal(m.get('/opt')?.type, 'tmpfs');
    assert.ok(m.get('/opt')?.opts.split(',').includes('noexec'));
    assert.equal(fs.existsSync(path.join(dir, 'x')), false);
  });

  it('never lets a symlink in the rootfs send a mount to the host', () => {
    // a rootfs whose /evil is a symlink to a host directory: the mount must land inside the rootfs
    const rootfs = path.join(rt.tmp, 'evil-rootfs');
    fs.cpSync(ROOTFS, rootfs, { recursive: true, verbatimSymlinks: true });
    const hostDir = fs.mkdtempSync(path.join(rt.tmp, 'host-target-'));
    fs.symlinkSync(hostDir, path.join(rootfs, 'evil'));
    const r = rt.inside('grep -c " /evil " /proc/self/mountinfo; ls -d /tmp/*', (c) => {
      c.root.path = rootfs;
      c.root.readonly = false;
      c.mounts.push({ destination: '/evil', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] });
    });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(leftoverMounts(hostDir), [], 'nothing was mounted on the host directory');
    // resolved inside the rootfs: /evil → <rootfs>/<hostDir>, created there
    assert.ok(fs.existsSync(path.join(rootfs, hostDir)), 'the target was created inside the rootfs');
  });

  for (const [prop, expectTag, propagates] of [
    ['shared', /shared:\d+/, true],
    ['slave', /master:\d+/, true],
    ['private', /^$/, false],
    ['unbindable', /unbindable/, false],
  ] as const) {
    it(`rootfsPropagation ${prop}`, async () => {
      // a rootfs on its own shared mount, so that host mounts can propagate into the container
      const base = fs.mkdtempSync(path.join(rt.tmp, `prop-${prop}-`));
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', base]);
      const late = path.join(base, 'rootfs', 'mnt', 'late');
      try {
        execFileSync('mount', ['--make-shared', base]);
        const rootfs = path.join(base, 'rootfs');
        fs.cpSync(ROOTFS, rootfs, { recursive: true, verbatimSymlinks: true });
        fs.mkdirSync(late, { recursive: true });
        const id = uniqueId();
        const b = rt.bundle((c) => {
          c.root.path = rootfs;
          c.linux.rootfsPropagation = prop;
          c.process.args = ['sh', '-c', 'sleep 0.6; cat /proc/self/mountinfo'];
        });
        const child = rt.spawn(['run', '--bundle', b, id]);
        const exited = new Promise((resolve) => child.on('exit', resolve));
        let out = '';
        child.stdout.on('data', (d) => (out += d));
        for (let i = 0; i < 200 && rt.state(id)?.status !== 'running'; i++) await sleep(5);
        execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', late]);
        await exited;
        const m = mountinfoOf(out);
        assert.match(m.get('/')?.optional ?? 'missing', expectTag, out);
        assert.equal(m.has('/mnt/late'), propagates, `a host mount made after start ${propagates ? 'shows' : 'does not show'} inside`);
      } finally {
        execFileSync('umount', ['-R', '-l', base]);
      }
    });
  }

  it('copies what a tmpfs hides into it with tmpcopyup (modes, owners, symlinks)', () => {
    const rootfs = path.join(rt.tmp, 'copyup-rootfs');
    fs.cpSync(ROOTFS, rootfs, { recursive: true, verbatimSymlinks: true });
    fs.mkdirSync(path.join(rootfs, 'run', 'seed'), { recursive: true });
    fs.writeFileSync(path.join(rootfs, 'run', 'seed', 'file.txt'), 'seeded\n', { mode: 0o604 });
    fs.chownSync(path.join(rootfs, 'run', 'seed', 'file.txt'), 1000, 1000);
    fs.symlinkSync('seed/file.txt', path.join(rootfs, 'run', 'link'));
    const r = rt.inside('cat /run/link; stat -c "%a %u %g" /run/seed/file.txt; grep " /run " /proc/self/mountinfo | cut -d" " -f9; echo new > /run/new', (c) => {
      c.root.path = rootfs;
      c.mounts.push({ destination: '/run', type: 'tmpfs', source: 'tmpfs', options: ['rw', 'rprivate', 'nosuid', 'nodev', 'tmpcopyup'] });
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'seeded\n604 1000 1000\ntmpfs\n');
    assert.equal(fs.existsSync(path.join(rootfs, 'run', 'new')), false, 'writes go to the tmpfs');
  });

  it('joins namespaces by path', async () => {
    const first = uniqueId();
    assert.equal(rt.run(['run', '-d', '--bundle', rt.bundle((c) => (c.process.args = ['sleep', '1000'])), first]).code, 0);
    const pid = rt.state(first)!.pid as number;
    const r = rt.inside('readlink /proc/self/ns/net /proc/self/ns/ipc /proc/self/ns/uts 2>/dev/null || for n in net ipc uts; do readlink /proc/self/ns/$n; done; hostname', (c) => {
      c.linux.namespaces = [{ type: 'mount' }, { type: 'pid' }, { type: 'network', path: `/proc/${pid}/ns/net` }, { type: 'ipc', path: `/proc/${pid}/ns/ipc` }, { type: 'uts', path: `/proc/${pid}/ns/uts` }];
      delete c.hostname;
    });
    assert.equal(r.code, 0, r.stderr);
    for (const n of ['net', 'ipc', 'uts']) assert.match(r.stdout, new RegExp(fs.readlinkSync(`/proc/${pid}/ns/${n}`).replace(/[[\]]/g, '\\$&')), n);
    assert.match(r.stdout, /tsrunc-test/, 'the hostname of the joined uts namespace');
    assert.equal(rt.run(['delete', '--force', first]).code, 0);
  });
});
