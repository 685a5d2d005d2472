// What a process sees from inside a container tsrunc made: identity, namespaces, mounts, masks,
// capabilities, limits, fds, signals, environment. Each check runs a real container.

import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { ROOTFS, Runtime, skipUnlessRoot, uniqueId } from '../helpers/runtime';

describe('inside a container', { skip: skipUnlessRoot }, () => {
  const rt = new Runtime();

  it('runs as pid 1 with the configured hostname, domainname, uid, gid, groups, umask and OOM score', () => {
    const r = rt.inside('echo pid=$$; hostname; cat /proc/sys/kernel/domainname; id; umask; cat /proc/self/oom_score_adj', (c) => {
      c.process.user = { uid: 1000, gid: 1000, additionalGids: [5, 100], umask: 0o027 };
      c.hostname = 'box-one';
      c.domainname = 'example.org';
      c.process.oomScoreAdj = 123;
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^pid=1$/m);
    assert.match(r.stdout, /^box-one\nexample\.org$/m);
    assert.match(r.stdout, /uid=1000\(user\) gid=1000\(user\) groups=5\(tty\),100/);
    assert.match(r.stdout, /^0027\n123$/m);
  });

  it('has its own namespaces, and shares the ones the config does not ask for', () => {
    const r = rt.inside('for n in pid net ipc uts mnt cgroup user; do echo $n $(readlink /proc/self/ns/$n); done');
    assert.equal(r.code, 0, r.stderr);
    const inside = Object.fromEntries(r.stdout.trim().split('\n').map((l) => l.split(' ')));
    for (const n of ['pid', 'net', 'ipc', 'uts', 'mnt']) assert.notEqual(inside[n], fs.readlinkSync(`/proc/self/ns/${n}`), `${n} should be new`);
    for (const n of ['cgroup', 'user']) assert.equal(inside[n], fs.readlinkSync(`/proc/self/ns/${n}`), `${n} should be the host's`);
  });

  it('mounts what the config lists, with their flags', () => {
    const r = rt.inside('cat /proc/self/mountinfo');
    assert.equal(r.code, 0, r.stderr);
    const mounts = new Map<string, { opts: string; type: string; superOpts: string }>();
    for (const line of r.stdout.trim().split('\n')) {
      const f = line.split(' ');
      const sep = f.indexOf('-');
      mounts.set(f[4], { opts: f[5], type: f[sep + 1], superOpts: f[sep + 3] });
    }
    const flags = (mp: string) => new Set(mounts.get(mp)?.opts.split(','));
    assert.equal(mounts.get('/')?.opts.split(',')[0], 'ro', 'root.readonly');
    assert.equal(mounts.get('/proc')?.type, 'proc');
    assert.equal(mounts.get('/dev')?.type, 'tmpfs');
    assert.ok(flags('/dev').has('nosuid'));
    assert.equal(mounts.get('/dev/pts')?.type, 'devpts');
    assert.ok(flags('/dev/pts').has('noexec'));
    assert.equal(mounts.get('/dev/shm')?.type, 'tmpfs');
    assert.ok(['nosuid', 'nodev', 'noexec'].every((f) => flags('/dev/shm').has(f)));
    assert.equal(mounts.get('/dev/mqueue')?.type, 'mqueue');
    assert.equal(mounts.get('/sys')?.type, 'sysfs');
    assert.ok(flags('/sys').has('ro'));
    assert.equal(mounts.get('/sys/fs/cgroup')?.type, 'tmpfs');
    assert.ok(flags('/sys/fs/cgroup/memory').has('ro'), 'cgroup hierarchies are read-only');
    assert.ok(flags('/proc/sys').has('ro'), 'readonlyPaths');
    assert.ok(flags('/proc/sys').has('nosuid'), 'a read-only path keeps the flags of its mount');
  });

  it('masks and write-protects paths', () => {
    // masked: a file (/dev/null over it) and a directory (an empty read-only tmpfs over it)
    assert.ok(fs.statSync('/proc/timer_list').isFile() && fs.readdirSync('/sys/firmware').length > 0, 'host has the paths');
    const r = rt.inside('wc -c < /proc/timer_list; ls /sys/firmware | wc -l; touch /sys/firmware/x 2>/dev/null || echo masked-ro; echo x > /proc/sys/kernel/domainname && echo writable || echo ro');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), ['0', '0', 'masked-ro', 'ro']);
    assert.match(r.stderr, /Read-only file system/);
  });

  it('has the capabilities, no_new_privs and signal dispositions asked for', () => {
    // no shell: busybox sh ignores SIGQUIT itself
    const r = rt.inside('', (c) => (c.process.args = ['grep', '-E', '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|SigIgn|SigBlk)', '/proc/self/status']));
    assert.equal(r.code, 0, r.stderr);
    const st = Object.fromEntries(r.stdout.trim().split('\n').map((l) => l.split(/:\s+/)));
    // CAP_KILL (5), CAP_NET_BIND_SERVICE (10), CAP_AUDIT_WRITE (29)
    const want = ((1 << 5) | (1 << 10) | (1 << 29)).toString(16).padStart(16, '0');
    assert.equal(st.CapEff, want);
    assert.equal(st.CapPrm, want);
    assert.equal(st.CapBnd, want);
    assert.equal(st.CapInh, '0000000000000000');
    assert.equal(st.CapAmb, '0000000000000000');
    assert.equal(st.NoNewPrivs, '1');
    assert.equal(st.SigIgn, '0000000000000000', 'SIGPIPE and SIGXFSZ are not left ignored by Node');
    assert.equal(st.SigBlk, '0000000000000000');
  });

  it('raises ambient capabilities when inheritable and permitted allow it', () => {
    const r = rt.inside('grep CapAmb /proc/self/status', (c) => {
      c.process.user = { uid: 1000, gid: 1000 };
      c.process.capabilities.inheritable = ['CAP_KILL'];
      c.process.capabilities.ambient = ['CAP_KILL'];
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /CapAmb:\s+0000000000000020/);
  });

  it('applies rlimits and sysctls', () => {
    const r = rt.inside('ulimit -n; ulimit -Hn; cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/msgmax', (c) => {
      c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 321, hard: 654 }];
      c.linux.sysctl = { 'net.ipv4.ip_forward': '1', 'kernel.msgmax': '12345' };
    });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), ['321', '654', '1', '12345']);
  });

  it('leaves only fds 0, 1 and 2 open', () => {
    // ls itself holds the fd of the directory it lists
    const r = rt.inside('exec ls /proc/self/fd');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split(/\s+/), ['0', '1', '2', '3']);
  });

  it('gets the env and cwd asked for, with HOME from /etc/passwd', () => {
    const r = rt.inside('pwd; echo "$FOO|$HOME|$PATH"', (c) => {
      c.process.env = ['PATH=/bin', 'FOO=bar baz'];
      c.process.cwd = '/tmp';
      c.process.user = { uid: 1000, gid: 1000 };
    });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), ['/tmp', 'bar baz|/home/user|/bin']);
  });

  it('creates a missing cwd inside the rootfs', () => {
    const dir = `/tmp/cwd-${uniqueId()}`;
    const r = rt.inside('pwd', (c) => {
      c.process.cwd = dir;
      c.root.readonly = false;
    });
    fs.rmdirSync(`${ROOTFS}${dir}`); // it was made in the shared test rootfs
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), dir);
  });

  it('makes the default devices and the standard /dev links', () => {
    const r = rt.inside('ls -l /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty /dev/mydev; for l in fd stdin stdout stderr ptmx; do readlink /dev/$l; done; echo hi > /dev/null && echo ok', (c) => {
      c.linux.devices = [{ path: '/dev/mydev', type: 'c', major: 1, minor: 3, fileMode: 0o600, uid: 1000, gid: 1000 }];
    });
    assert.equal(r.code, 0, r.stderr);
    for (const [name, major, minor] of [['null', 1, 3], ['zero', 1, 5], ['full', 1, 7], ['random', 1, 8], ['urandom', 1, 9], ['tty', 5, 0]]) {
      assert.match(r.stdout, new RegExp(`^crw-rw-rw-\\s+1 root\\s+root\\s+${major},\\s+${minor} .* /dev/${name}$`, 'm'));
    }
    assert.match(r.stdout, /^crw-------\s+1 user\s+user\s+1,\s+3 .* \/dev\/mydev$/m);
    assert.match(r.stdout, /\/proc\/self\/fd\n\/proc\/self\/fd\/0\n\/proc\/self\/fd\/1\n\/proc\/self\/fd\/2\npts\/ptmx\nok/);
    const ls = fs.existsSync('/dev/mydev');
    assert.equal(ls, false, 'nothing created on the host');
  });

  it('supports a user namespace with id mappings', () => {
    const r = rt.inside('id; cat /proc/self/uid_map /proc/self/gid_map; stat -c %u /bin/busybox', (c) => {
      c.linux.namespaces.push({ type: 'user' });
      c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      c.mounts = c.mounts.filter((m: { type: string }) => m.type !== 'cgroup');
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /uid=0\(root\) gid=0\(root\)/);
    assert.match(r.stdout, /^\s*0\s+100000\s+65536$/m);
    assert.match(r.stdout, /^65534$/m, 'host root files are unmapped (nobody) inside');
  });

  it('applies a time namespace with its offsets', () => {
    const r = rt.inside('cut -d. -f1 /proc/uptime', (c) => {
      c.linux.namespaces.push({ type: 'time' });
      c.linux.timeOffsets = { boottime: { secs: 86400 * 365, nanosecs: 0 }, monotonic: { secs: 86400 * 365, nanosecs: 0 } };
    });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(Number(r.stdout.trim()) >= 86400 * 365, `uptime ${r.stdout}`);
  });

  it('resolves the program through the container\'s PATH', () => {
    const r = rt.inside('', (c) => {
      c.process.args = ['echo', 'found'];
      c.process.env = ['PATH=/nonexistent:/bin'];
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'found\n');
  });

  it('runs with --no-pivot', () => {
    const b = rt.bundle((c) => (c.process.args = ['sh', '-c', 'ls /']));
    const r = rt.run(['run', '--no-pivot', '--bundle', b, uniqueId()]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), fs.readdirSync(ROOTFS).sort(), 'the rootfs is /');
  });
});
