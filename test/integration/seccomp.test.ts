// Seccomp profiles in real containers: errno actions, errnoRet, kill, argument filters, Docker's
// default profile, and bad profiles refused before anything is created.

import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Runtime, SHARED, skipUnlessRoot, uniqueId, type Config } from '../helpers/runtime';


function profile(syscalls: unknown[], defaultAction = 'SCMP_ACT_ALLOW') {
  return (c: Config) => {
    c.linux.seccomp = { defaultAction, architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'], syscalls };
  };
}

describe('seccomp', { skip: skipUnlessRoot }, () => {
  const rt = new Runtime();

  for (const nnp of [true, false]) {
    it(`denies mkdir with EPERM (no_new_privs ${nnp})`, () => {
      const r = rt.inside('mkdir /tmp/denied; echo status=$?; grep Seccomp: /proc/self/status', (c) => {
        profile([{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }])(c);
        c.process.noNewPrivileges = nnp;
        c.root.readonly = false;
      });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /Operation not permitted/);
      assert.match(r.stdout, /status=1\nSeccomp:\s+2/);
    });
  }

  it('runs under a profile installed early that knows no openat2 or denies getcwd (regression: runtime-tools)', () => {
    // without no_new_privs the filter goes in before the user and the cwd are set: the cwd is
    // resolved before it, and nothing after it needs openat2 (runtime-tools' default profile
    // answers ENOSYS) or getcwd (denied by runtime-tools' linux_seccomp)
    for (const names of [['openat2'], ['getcwd']]) {
      const r = rt.inside('cd /tmp && echo ok', (c) => {
        profile([{ names, action: 'SCMP_ACT_ERRNO', errnoRet: 38 }])(c);
        c.process.noNewPrivileges = false;
        c.process.cwd = '/tmp';
      });
      assert.equal(r.code, 0, `${names}: ${r.stderr}`);
      assert.equal(r.stdout, 'ok\n');
    }
  });

  it('refuses a cwd the user may not enter, with or without a filter installed early', () => {
    for (const early of [false, true]) {
      const r = rt.inside('echo entered', (c) => {
        if (early) profile([{ names: ['getcwd'], action: 'SCMP_ACT_ERRNO' }])(c);
        c.process.noNewPrivileges = !early;
        c.process.user = { uid: 1000, gid: 1000 };
        // the user may enter /mnt/inner itself but not search /mnt on the way
        c.mounts.push({ destination: '/mnt', type: 'tmpfs', source: 'tmpfs', options: ['mode=700'] }, { destination: '/mnt/inner', type: 'tmpfs', source: 'tmpfs', options: ['mode=755'] });
        c.process.cwd = '/mnt/inner';
      });
      assert.equal(r.code, 1, `early ${early}: ${r.stdout} ${r.stderr}`);
      assert.match(r.stderr, /cwd \/mnt\/inner.*: EACCES/, `early ${early}`);
    }
  });

  it('returns errnoRet', () => {
    const r = rt.inside('/bin/pwd', profile([{ names: ['getcwd'], action: 'SCMP_ACT_ERRNO', errnoRet: 99 }]));
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Cannot assign requested address|Address not available/);
  });

  it('kills the process on a forbidden syscall', () => {
    const r = rt.inside('', (c) => {
      profile([{ names: ['uname'], action: 'SCMP_ACT_KILL_PROCESS' }])(c);
      c.process.args = ['uname', '-a'];
    });
    assert.equal(r.code, 128 + 31, 'SIGSYS');
  });

  it('filters on arguments: personality only with PER_LINUX', () => {
    const r = rt.inside('linux64 echo allowed; linux32 echo denied; echo status=$?', profile([{ names: ['personality'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 0, op: 'SCMP_CMP_NE' }] }]));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^allowed\nstatus=1$/m);
    assert.match(r.stderr, /Operation not permitted/);
  });

  it('runs a busybox shell normally under Docker\'s default profile', () => {
    const docker = JSON.parse(fs.readFileSync(path.join(SHARED, 'clients', 'sample-docker-config.json'), 'utf8'));
    const r = rt.inside('echo $((6*7)); ls /bin | wc -l; cat /etc/passwd | grep -c root; sleep 0.01 && echo slept; grep Seccomp: /proc/self/status', (c) => {
      c.linux.seccomp = docker.linux.seccomp;
      c.process.noNewPrivileges = false;
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^42\n\d+\n1\nslept\nSeccomp:\s+2\n$/);
  });

  it('keeps a compiled profile in the state root and uses it for the next containers', () => {
    const cacheDir = path.join(rt.root, '.seccomp-cache');
    const TMPFS_MNT = { destination: '/mnt', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev'] };
    const allowAll = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'], syscalls: [{ names: ['getppid'], action: 'SCMP_ACT_ERRNO' }] };
    const before = fs.existsSync(cacheDir) ? fs.readdirSync(cacheDir) : [];
    const first = rt.inside('mkdir /mnt/made && echo made', (c) => {
      c.linux.seccomp = allowAll;
      c.mounts.push(TMPFS_MNT);
    });
    assert.equal(first.code, 0, first.stderr);
    const added = fs.readdirSync(cacheDir).filter((f) => !before.includes(f));
    assert.equal(added.length, 1, 'one entry for the new profile');
    // the entry is what the next container with this profile gets: swap in the program of a
    // profile that denies mkdir, and the next container is refused mkdir without compiling
    const file = path.join(cacheDir, added[0]);
    const denyMkdir = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'], syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] };
    const r = rt.inside('true', (c) => (c.linux.seccomp = denyMkdir));
    assert.equal(r.code, 0, r.stderr);
    const denyEntry = fs.readdirSync(cacheDir).find((f) => !before.includes(f) && f !== added[0])!;
    const swapped = JSON.parse(fs.readFileSync(path.join(cacheDir, denyEntry), 'utf8'));
    const entry = JSON.parse(fs.readFileSync(file, 'utf8'));
    fs.writeFileSync(file, JSON.stringify({ ...swapped, key: entry.key }));
    const second = rt.inside('mkdir /mnt/made; echo status=$?', (c) => {
      c.linux.seccomp = allowAll;
      c.mounts.push(TMPFS_MNT);
    });
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /status=1/, 'the cached program ran');
    // a damaged entry is compiled again
    fs.writeFileSync(file, '{"key":');
    const third = rt.inside('mkdir /mnt/made && echo made', (c) => {
      c.linux.seccomp = allowAll;
      c.mounts.push(TMPFS_MNT);
    });
    assert.equal(third.code, 0, third.stderr);
    assert.equal(JSON.parse(fs.readFileSync(file, 'utf8')).key, entry.key, 'rewritten');
  });

  it('refuses bad profiles, naming the entry, and creates nothing', () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ defaultAction: 'SCMP_ACT_NOPE' }, /\/linux\/seccomp\/defaultAction/],
      [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 1, op: 'SCMP_CMP_BOGUS' }] }] }, /\/linux\/seccomp\/syscalls\/0\/args\/0\/op/],
      [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', args: [{ index: 7, value: 1, op: 'SCMP_CMP_EQ' }] }] }, /\/linux\/seccomp\/syscalls\/0\/args\/0\/index/],
      // the init still switches contexts after installing the filter
      [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['rt_sigprocmask'], action: 'SCMP_ACT_ERRNO' }] }, /denies rt_sigprocmask/],
    ];
    for (const [seccomp, message] of cases) {
      const id = uniqueId('bad');
      const b = rt.bundle((c) => (c.linux.seccomp = seccomp));
      const r = rt.run(['create', '--bundle', b, id]);
      assert.equal(r.code, 1, JSON.stringify(seccomp));
      assert.match(r.stderr, message);
      assert.equal(fs.existsSync(path.join(rt.root, id)), false);
    }
    // and none of them is kept in the filter cache
    const cacheDir = path.join(rt.root, '.seccomp-cache');
    const keys = fs.existsSync(cacheDir) ? fs.readdirSync(cacheDir).map((f) => JSON.parse(fs.readFileSync(path.join(cacheDir, f), 'utf8'))) : [];
    assert.ok(keys.every((e) => e.denied === undefined || !e.denied.includes('rt_sigprocmask')));
  });
});

describe('seccomp notify', { skip: skipUnlessRoot }, () => {
  const rt = new Runtime();

  it('sends the listener fd and the container process state to listenerPath; the agent answers', async () => {
    const { spawn } = await import('node:child_process');
    const sock = path.join(rt.tmp, 'agent.sock');
    const out = path.join(rt.tmp, 'agent.json');
    const ENOTEMPTY = 39;
    const agent = spawn(process.execPath, [path.join(__dirname, '..', 'helpers', 'seccomp-agent.js'), sock, out, String(ENOTEMPTY)], { stdio: 'inherit' });
    try {
      for (let i = 0; i < 200 && !fs.existsSync(`${out}.ready`); i++) await new Promise((r) => setTimeout(r, 10));
      const id = uniqueId('notify');
      const r = rt.inside('mkdir /tmp/by-agent; echo status=$?; test -d /tmp/by-agent || echo absent', (c) => {
        c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: sock, listenerMetadata: 'test-metadata', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' }] };
        c.root.readonly = false;
      }, id);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /Directory not empty/, 'the agent\'s errno came back');
      assert.match(r.stdout, /status=1\nabsent/);
      const got = JSON.parse(fs.readFileSync(out, 'utf8'));
      assert.equal(got.fds, 1);
      assert.deepEqual(got.message.fds, ['seccompFd']);
      assert.equal(got.message.metadata, 'test-metadata');
      assert.equal(got.message.state.id, id);
      assert.equal(got.message.pid, got.message.state.pid);
      assert.ok(got.message.pid > 0);
      assert.ok(fs.readFileSync(`${out}.calls`, 'utf8').trim().split('\n').every((nr) => nr === '83' || nr === '258'), 'mkdir or mkdirat');
    } finally {
      agent.kill('SIGKILL');
    }
  });
});
