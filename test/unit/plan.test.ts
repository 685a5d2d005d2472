// The planner is pure: these tests build plans from configs and facts, without root or koffi.

import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { planInit, initFactQueries, initJoinsOwnCgroups } from '../../src/plan/init';
import { planJoin } from '../../src/plan/join';
import { emptyFacts, type HostFacts } from '../../src/plan/facts';
import { lookupPlan, processEnv } from '../../src/plan/process';
import { parseMountOptions } from '../../src/plan/mount-options';
import { makedev, rlimit } from '../../src/plan/builder';
import { CLONE, MS } from '../../src/linux/constants';
import type { Spec } from '../../src/spec/types';
import type { Step } from '../../src/spawn/program';

function spec(mutate: (s: Spec) => void = () => {}): Spec {
  const s: Spec = {
    ociVersion: '1.3.0',
    process: { user: { uid: 0, gid: 0 }, args: ['sh'], env: ['PATH=/usr/bin:/bin'], cwd: '/', noNewPrivileges: true, capabilities: { bounding: ['CAP_KILL'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'] } },
    root: { path: 'rootfs' },
    hostname: 'h',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'mode=755'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['newinstance'] },
    ],
    linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'uts' }, { type: 'network' }], maskedPaths: ['/proc/kcore', '/proc/acpi'], readonlyPaths: ['/proc/sys'] },
  };
  mutate(s);
  return s;
}

function facts(mutate: (f: HostFacts) => void = () => {}): HostFacts {
  const f = emptyFacts('x86_64');
  f.rootfsPaths = { '/proc': 'dir', '/dev': 'dir', '/dev/pts': 'dir' };
  f.hostPaths = { '/proc/kcore': 'file', '/proc/acpi': 'dir', '/proc/sys': 'dir' };
  mutate(f);
  return f;
}

const descs = (steps: Step[]) => steps.map((s) => s.desc);
const indexOf = (steps: Step[], re: RegExp) => steps.findIndex((s) => re.test(s.desc));

describe('init plan', () => {
  it('moves the init into its v1 cgroups itself: 0 to tasks, after the mounts and before the hooks', () => {
    const dirs = ['/sys/fs/cgroup/cpu/c', '/sys/fs/cgroup/memory/c'];
    const withHooks = spec((s) => (s.hooks = { prestart: [{ path: '/bin/true' }] }));
    const steps = planInit({ spec: withHooks, rootfs: '/b/rootfs', facts: facts(), selfJoinCgroups: dirs }).program.steps;
    const joins = steps.filter((s) => s.op === 'call' && s.fn === 'write' && /^join cgroup/.test(s.desc));
    assert.deepEqual(joins.map((s) => s.desc), dirs.map((d) => `join cgroup ${d} (0 to tasks: the init moves itself)`));
    assert.ok(steps.some((s) => s.op === 'call' && s.fn === 'open' && s.desc.startsWith(`open ${dirs[0]}/tasks`)));
    const mountProc = indexOf(steps, /^mount proc on \/proc/);
    const hooks = indexOf(steps, /checkpoint: hooks/);
    assert.ok(mountProc > 0 && steps.indexOf(joins[0]) > mountProc, 'after the mounts');
    assert.ok(hooks > 0 && steps.indexOf(joins[1]) < hooks, 'before the hooks');
    assert.equal(planInit({ spec: spec(), rootfs: '/b/rootfs', facts: facts() }).program.steps.filter((s) => /^join cgroup/.test(s.desc)).length, 0, 'none unless asked');
  });

  it('joins its v1 cgroups before "mapping" when it makes a cgroup namespace (rooted where it is then)', () => {
    const steps = planInit({ spec: spec((s) => s.linux!.namespaces!.push({ type: 'cgroup' })), rootfs: '/b/rootfs', facts: facts(), selfJoinCgroups: ['/sys/fs/cgroup/pids/c'] }).program.steps;
    const join = indexOf(steps, /^join cgroup \/sys\/fs\/cgroup\/pids\/c/);
    const mapping = indexOf(steps, /checkpoint: mapping/);
    assert.ok(join >= 0 && join < mapping);
    assert.ok(indexOf(steps, /unshare a new cgroup namespace/) > mapping);
  });

  it('leaves the cgroup joins to the runtime with a user namespace, or a mount or cgroup namespace joined by path', () => {
    assert.equal(initJoinsOwnCgroups(spec()), true);
    assert.equal(initJoinsOwnCgroups(spec((s) => s.linux!.namespaces!.push({ type: 'cgroup' }))), true);
    assert.equal(initJoinsOwnCgroups(spec((s) => s.linux!.namespaces!.push({ type: 'user' }))), false, 'not root over the host cgroupfs');
    assert.equal(initJoinsOwnCgroups(spec((s) => (s.linux!.namespaces = [{ type: 'pid' }, { type: 'mount', path: '/proc/1/ns/mnt' }]))), false, 'another mount table');
    assert.equal(initJoinsOwnCgroups(spec((s) => s.linux!.namespaces!.push({ type: 'cgroup', path: '/proc/1/ns/cgroup' }))), false);
    assert.equal(initJoinsOwnCgroups(spec((s) => s.linux!.namespaces!.push({ type: 'network', path: '/proc/1/ns/net' }))), true);
  });

  it('clones the new namespaces and orders the phases: mapping, mounts, pivot_root, setup, ready, FIFO, exec', () => {
    const p = planInit({ spec: spec(), rootfs: '/b/rootfs', facts: facts() });
    assert.equal(p.cloneFlags, CLONE.NEWPID | CLONE.NEWNS | CLONE.NEWUTS | CLONE.NEWNET);
    const s = p.program.steps;
    const order = [/checkpoint: mapping/, /make \/ rslave/, /mount proc on \/proc/, /mask \/proc\/kcore/, /pivot_root/, /sethostname h/, /capset/, /checkpoint: ready/, /open the exec FIFO/, /execve \/usr\/bin\/sh/];
    const at = order.map((re) => indexOf(s, re));
    assert.ok(at.every((i) => i >= 0), `missing: ${order.filter((_, i) => at[i] < 0).join(', ')}`);
    assert.deepEqual([...at].sort((a, b) => a - b), at, `out of order: ${at}`);
    assert.equal(s[s.length - 1].op, 'exit');
    assert.deepEqual(p.checkpoints, ['mapping', 'ready']);
  });

  it('resolves every mount target inside the rootfs with openat2 and mounts through /proc/self/fd', () => {
    const p = planInit({ spec: spec(), rootfs: '/b/rootfs', facts: facts() });
    const s = p.program.steps;
    const i = indexOf(s, /mount proc on \/proc/);
    const open = s[i - 1];
    assert.equal(open.op === 'syscall' && open.name, 'openat2');
    assert.match(open.desc, /resolve \/proc inside the rootfs, a directory reached without any symlink \(fd 4\)/);
    const mount = s[i];
    assert.ok(mount.op === 'call' && JSON.stringify(mount.args[1]) === JSON.stringify({ str: '/proc/self/fd/4' }));
  });

  it('creates a target under a mount the chain made, and skips one the rootfs has', () => {
    const p = planInit({ spec: spec(), rootfs: '/b/rootfs', facts: facts() });
    const d = descs(p.program.steps);
    assert.ok(d.includes('mkdir /dev/pts'), '/dev/pts is under the new /dev tmpfs');
    assert.ok(!d.includes('mkdir /proc'), '/proc exists in the rootfs');
  });

  it('masks files with /dev/null and directories with a read-only tmpfs; skips missing paths', () => {
    const p = planInit({ spec: spec((s) => s.linux!.maskedPaths!.push('/proc/nope')), rootfs: '/r', facts: facts() });
    const d = descs(p.program.steps);
    assert.ok(d.includes('mask /proc/kcore (/dev/null)'));
    assert.ok(d.includes('mask /proc/acpi (read-only tmpfs)'));
    assert.ok(!d.some((x) => x.includes('/proc/nope')));
  });

  it('installs seccomp as late as possible with no_new_privs, before dropping capabilities without it', () => {
    const filter = { program: new Uint8Array(8), flags: 0, instructions: 1 };
    const late = planInit({ spec: spec(), rootfs: '/r', facts: facts(), seccomp: filter }).program.steps;
    const early = planInit({ spec: spec((s) => (s.process!.noNewPrivileges = false)), rootfs: '/r', facts: facts(), seccomp: filter }).program.steps;
    assert.ok(indexOf(late, /install seccomp/) > indexOf(late, /open the exec FIFO/));
    assert.ok(indexOf(late, /install seccomp/) < indexOf(late, /execve/));
    assert.ok(indexOf(early, /install seccomp/) < indexOf(early, /drop CAP_/));
    for (const steps of [late, early]) assert.ok(indexOf(steps, /close-on-exec/) < indexOf(steps, /install seccomp/), 'close_range runs before the filter');
  });

  it('makes a new cgroup namespace only after the parent put the init in its cgroups', () => {
    const p = planInit({ spec: spec((s) => s.linux!.namespaces!.push({ type: 'cgroup' })), rootfs: '/r', facts: facts() });
    assert.equal(p.cloneFlags & CLONE.NEWCGROUP, 0);
    assert.ok(indexOf(p.program.steps, /unshare a new cgroup namespace/) > indexOf(p.program.steps, /checkpoint: mapping/));
  });

  it('joins namespaces by path: the parent thread for net/ipc/uts/pid, the child for user and time', () => {
    const p = planInit({
      spec: spec((s) => {
        s.linux!.namespaces = [{ type: 'mount' }, { type: 'pid', path: '/proc/1/ns/pid' }, { type: 'network', path: '/n' }, { type: 'user' }];
        s.linux!.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
      }),
      rootfs: '/r',
      facts: facts(),
    });
    assert.deepEqual(p.parentJoins, { pid: '/proc/1/ns/pid', network: '/n' });
    assert.equal(p.cloneFlags, CLONE.NEWNS | CLONE.NEWUSER);
    assert.ok(p.newUserns);
    const j = planInit({ spec: spec((s) => (s.linux!.namespaces = [{ type: 'mount' }, { type: 'user', path: '/u' }, { type: 'uts' }])), rootfs: '/r', facts: facts() });
    assert.deepEqual(j.childJoins, { 'ns:user': '/u' });
    assert.equal(j.cloneFlags, 0, 'new namespaces are unshared after joining the user namespace');
    assert.ok(indexOf(j.program.steps, /join user namespace/) < indexOf(j.program.steps, /unshare new namespaces/));
  });

  it('refuses what it cannot do, clearly', () => {
    assert.throws(() => planInit({ spec: spec((s) => s.mounts!.push({ destination: '/x', type: 'bind', source: '/s', options: ['bind', 'tmpcopyup'] })), rootfs: '/r', facts: facts((f) => (f.bindSources['/s'] = { kind: 'dir', mountFlags: 0 })) }), /tmpcopyup applies to tmpfs mounts only/);
    assert.throws(() => planInit({ spec: spec((s) => s.mounts!.push({ destination: '/x', type: 'bind', source: '/missing' })), rootfs: '/r', facts: facts() }), /bind source \/missing does not exist/);
  });

  it('binds host devices in a user namespace instead of mknod', () => {
    const p = planInit({
      spec: spec((s) => {
        s.linux!.namespaces!.push({ type: 'user' });
        s.linux!.uidMappings = s.linux!.gidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
      }),
      rootfs: '/r',
      facts: facts(),
    });
    const d = descs(p.program.steps);
    assert.ok(d.includes("bind the host's /dev/null on /dev/null"));
    assert.ok(!d.some((x) => x.startsWith('mknod /dev/null')));
    const q = planInit({ spec: spec(), rootfs: '/r', facts: facts() });
    assert.ok(descs(q.program.steps).includes('mknod /dev/null c 1:3'));
  });

  it('follows the rootfs\'s symlinks (resolved by the facts) when creating targets', () => {
    const p = planInit({
      spec: spec((s) => s.mounts!.push({ destination: '/link/sub', type: 'tmpfs', source: 'tmpfs' })),
      rootfs: '/r',
      facts: facts((f) => {
        f.resolved = { '/link/sub': '/real/sub' };
        f.rootfsPaths['/real'] = 'dir';
      }),
    });
    const d = descs(p.program.steps);
    assert.ok(d.includes('mkdir /real/sub'));
    assert.ok(d.includes('mount tmpfs on /real/sub'));
  });

  it('asks the fact gatherer for every path it decides on', () => {
    const q = initFactQueries(spec((s) => s.mounts!.push({ destination: '/a/b', type: 'bind', source: '/src', options: ['bind'] })));
    for (const p of ['/a', '/a/b', '/dev/null', '/proc']) assert.ok(q.rootfsPaths.includes(p), p);
    assert.deepEqual(q.bindSources, ['/src']);
    assert.ok(q.hostPaths.includes('/proc/kcore'));
  });

  it('without a mount namespace, mounts nothing, chroots, and says so', () => {
    const p = planInit({ spec: spec((s) => (s.linux!.namespaces = [{ type: 'pid' }])), rootfs: '/r', facts: facts() });
    assert.ok(!descs(p.program.steps).some((d) => /^pivot_root|mount proc|^mask /.test(d)));
    assert.ok(descs(p.program.steps).some((d) => d.startsWith('chroot /r')));
    assert.match(p.warnings.join('\n'), /no mount namespace/);
    // regression: the FIFO was reopened by its name in the state directory, which `run` unlinks
    // as soon as it has opened the read end: an init that got there later (a loaded machine, 1
    // run in 10) found no FIFO and died. It goes through the runtime's procfs fd instead.
    const s = p.program.steps;
    const fifo = s[indexOf(s, /open the exec FIFO/)];
    assert.ok(fifo.op === 'call' && fifo.fn === 'openat', fifo.desc);
    assert.deepEqual(fifo.args.slice(0, 2), [{ slot: 'hostproc' }, { fdPath: 'fifo', relative: true }]);
    assert.ok(p.needsHostProc && p.program.keep.includes('hostproc'));
    assert.ok(indexOf(s, /close the runtime's procfs fd/) > indexOf(s, /open the exec FIFO/));
    assert.ok(indexOf(s, /chroot \/r/) < indexOf(s, /open the exec FIFO/));
  });

  it('without a process, creates the container and exits at start', () => {
    const p = planInit({ spec: spec((s) => delete s.process), rootfs: '/r', facts: facts() });
    const last = p.program.steps[p.program.steps.length - 1];
    assert.equal(last.op === 'exit' && last.code, 1);
    assert.ok(!p.program.steps.some((s) => s.op === 'exec'));
  });

  it('skips masked paths below a directory masked already', () => {
    const p = planInit({ spec: spec((s) => (s.linux!.maskedPaths = ['/proc/acpi', '/proc/acpi/x'])), rootfs: '/r', facts: facts((f) => (f.hostPaths['/proc/acpi/x'] = 'file')) });
    assert.ok(!descs(p.program.steps).some((d) => d.includes('/proc/acpi/x')));
  });

  it('refuses proc and sysfs on a symlink, and mounts them only on a directory reached without symlinks', () => {
    const f = facts((x) => {
      x.rootfsPaths['/proc'] = 'symlink';
      x.resolved['/proc'] = '/fakeproc';
    });
    assert.throws(() => planInit({ spec: spec(), rootfs: '/r', facts: f }), /mount \/proc: filesystem "proc" must be mounted on an ordinary directory \(it is a symlink to \/fakeproc/);
    const g = facts((x) => (x.rootfsPaths['/proc'] = 'file'));
    assert.throws(() => planInit({ spec: spec(), rootfs: '/r', facts: g }), /must be mounted on an ordinary directory \(it is a file/);
    const s = planInit({ spec: spec(), rootfs: '/r', facts: facts() }).program.steps;
    const open = s[indexOf(s, /mount proc on \/proc/) - 1];
    assert.ok(open.op === 'syscall' && open.name === 'openat2');
    const how = Buffer.from((open.args[2] as { bytes: Uint8Array }).bytes);
    assert.equal(how.readBigUInt64LE(16), 0x10n | 0x04n | 0x02n, 'RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS');
  });

  it('masks, read-only paths and sysctls below /proc go through the procfs the init mounted, before pivot_root', () => {
    const p = planInit({ spec: spec((x) => (x.linux!.sysctl = { 'net.ipv4.ip_forward': '1' })), rootfs: '/r', facts: facts() });
    const s = p.program.steps;
    const d = descs(s);
    const procFd = Number(/fd (\d+)/.exec(d[indexOf(s, /mount proc on/) + 2])![1]);
    const mask = indexOf(s, /mask \/proc\/kcore/);
    assert.match(d[mask - 1], /resolve \/proc\/kcore inside the proc mounted at \/proc/);
    const maskOpen = s[mask - 1];
    assert.ok(maskOpen.op === 'syscall' && maskOpen.args[0] === procFd && JSON.stringify(maskOpen.args[1]) === '{"str":"kcore"}');
    assert.match(d[indexOf(s, /sysctl net.ipv4.ip_forward=1/) - 1], /open \/proc\/sys\/net\/ipv4\/ip_forward in the container's procfs/);
    assert.ok(indexOf(s, /sysctl net/) < indexOf(s, /bind \/proc\/sys on itself/));
    assert.ok(indexOf(s, /bind \/proc\/sys on itself/) < mask && mask < indexOf(s, /pivot_root/));
    // the host's /dev/null is the source of file masks, and the parent checks both fds at "ready"
    assert.ok(d.some((x) => /^open the host's \/dev\/null/.test(x)));
    assert.deepEqual(p.verify.map((v) => v.expect).sort(), ['devnull', 'procfs']);
    assert.ok(indexOf(s, /close the host's \/dev\/null/) > indexOf(s, /checkpoint: ready/));
    // the FIFO is reopened through that procfs, never through the container's /proc path
    const fifo = s[indexOf(s, /open the exec FIFO/)];
    assert.ok(fifo.op === 'call' && fifo.fn === 'openat' && fifo.args[0] === procFd, fifo.desc);
    assert.ok(indexOf(s, /close the procfs fd/) > indexOf(s, /open the exec FIFO/));
    assert.throws(() => planInit({ spec: spec((x) => { x.linux!.sysctl = { 'net.ipv4.ip_forward': '1' }; x.mounts = x.mounts!.filter((m) => m.type !== 'proc'); }), rootfs: '/r', facts: facts() }), /needs a proc mount at \/proc/);
  });

  it('resolves the cwd inside the container without magic links and checks it with getcwd', () => {
    const s = planInit({ spec: spec((x) => (x.process!.cwd = '/proc/self/fd/7')), rootfs: '/r', facts: facts() }).program.steps;
    const i = indexOf(s, /resolve the cwd \/proc\/self\/fd\/7 inside the container, no magic links/);
    assert.ok(i > 0);
    const how = Buffer.from(((s[i] as { args: unknown[] }).args[2] as { bytes: Uint8Array }).bytes);
    assert.equal(how.readBigUInt64LE(16), 0x10n | 0x02n, 'RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS');
    assert.match(s[i + 1].desc, /^chdir /);
    assert.match(s[i + 3].desc, /getcwd/);
    assert.ok((s[i + 3] as { check: string }).check === 'full');
  });

  it('under a filter installed early (no no_new_privs) resolves the cwd before it, and needs no getcwd after it', () => {
    const seccomp = { program: new Uint8Array(8), flags: 0, instructions: 1 };
    const spec1 = spec((x) => {
      x.process!.cwd = '/tmp';
      x.process!.noNewPrivileges = false;
      x.process!.user = { uid: 1000, gid: 1000 };
    });
    const s = planInit({ spec: spec1, rootfs: '/r', facts: facts(), seccomp }).program.steps;
    const resolve = indexOf(s, /resolve the cwd \/tmp inside the container/);
    const filter = indexOf(s, /install seccomp/);
    const uid = indexOf(s, /setresuid 1000/);
    const access = indexOf(s, /check that user 1000 may enter the cwd \/tmp/);
    const chdir = indexOf(s, /^chdir \/tmp$/);
    assert.ok(resolve > 0 && resolve < filter && filter < uid && uid < access && access < chdir, `${resolve} ${filter} ${uid} ${access} ${chdir}`);
    assert.ok(s[chdir].op === 'call' && s[chdir].fn === 'fchdir');
    assert.equal(s.findIndex((x) => /getcwd/.test(x.desc)), -1, 'a profile may deny getcwd');
  });

  it('makes the init and every joining process non-dumpable', () => {
    const p = planInit({ spec: spec(), rootfs: '/r', facts: facts() });
    assert.ok(indexOf(p.program.steps, /non-dumpable/) < indexOf(p.program.steps, /checkpoint: mapping/));
    const j = planJoin({ namespaces: ['mount'], process: { args: ['sh'], env: ['PATH=/bin'], cwd: '/', user: { uid: 0, gid: 0 } }, capLastCap: 40, stdio: emptyFacts('x86_64').stdio, mode: 'container' });
    assert.ok(indexOf(j.program.steps, /non-dumpable/) < indexOf(j.program.steps, /join the container's mount namespace/));
  });

  it('keeps the chain\'s fds above everything it opens', () => {
    const p = planInit({ spec: spec(), rootfs: '/r', facts: facts() });
    assert.deepEqual(p.program.keep, ['sync', 'records', 'fifo']);
    assert.ok(p.program.keepBase >= 64);
  });
});

describe('process plan pieces', () => {
  it('looks args[0] up in the container\'s PATH, as Go\'s LookPath', () => {
    assert.deepEqual(lookupPlan({ args: ['sh'], env: ['PATH=/a:/b/:'], cwd: '/', user: { uid: 0, gid: 0 } }).candidates, ['/a/sh', '/b/sh', './sh']);
    assert.deepEqual(lookupPlan({ args: ['./x'], env: [], cwd: '/', user: { uid: 0, gid: 0 } }), { name: './x', candidates: ['./x'], direct: true });
    assert.deepEqual(lookupPlan({ args: ['sh'], env: [], cwd: '/', user: { uid: 0, gid: 0 } }).candidates, [], 'no PATH: not found');
  });

  it('adds HOME when the env has none', () => {
    assert.deepEqual(processEnv({ env: ['A=1'], cwd: '/', user: { uid: 0, gid: 0 } }, '/root'), ['A=1', 'HOME=/root']);
    assert.deepEqual(processEnv({ env: ['HOME=/x'], cwd: '/', user: { uid: 0, gid: 0 } }, '/root'), ['HOME=/x']);
  });

  it('an exec moves itself into its v1 cgroups before it enters the container\'s namespaces', () => {
    const steps = planJoin({ namespaces: ['user', 'mount'], process: { user: { uid: 0, gid: 0 }, args: ['sh'], cwd: '/' }, capLastCap: 40, stdio: emptyFacts('x86_64').stdio, mode: 'container', selfJoinCgroups: ['/sys/fs/cgroup/cpu/c'] }).program.steps;
    const join = indexOf(steps, /^join cgroup \/sys\/fs\/cgroup\/cpu\/c \(0 to tasks/);
    const setns = indexOf(steps, /join the container's user namespace/);
    assert.ok(join > 0 && setns > join, descs(steps).slice(0, 8).join('\n'));
  });

  it('plans a hook that joins the container and executes the hook path', () => {
    const p = planJoin({ namespaces: ['user', 'mount', 'network'], process: { args: ['hook', 'a'], cwd: '/', user: { uid: 0, gid: 0 } }, capLastCap: 40, stdio: emptyFacts('x86_64').stdio, mode: 'hook', execPath: '/usr/bin/hook' });
    const d = descs(p.program.steps);
    assert.ok(d.indexOf("join the container's user namespace") < d.indexOf("join the container's mount namespace"));
    assert.ok(d.includes('execve /usr/bin/hook'));
  });
});

describe('encodings', () => {
  it('mount options: flags, cleared flags, propagation, recursive attributes, data', () => {
    const o = parseMountOptions(['ro', 'nosuid', 'rw', 'rprivate', 'rnoexec', 'size=1m', 'mode=755']);
    assert.equal(o.flags, MS.NOSUID);
    assert.equal(o.cleared, MS.RDONLY);
    assert.deepEqual(o.propagation, [MS.PRIVATE | MS.REC]);
    assert.ok(o.hasRecursive);
    assert.equal(o.data, 'size=1m,mode=755');
  });

  it('rlimits clamp to RLIM_INFINITY; makedev matches glibc', () => {
    const b = Buffer.from(rlimit(18446744073709551615, 5).bytes);
    assert.equal(b.readBigUInt64LE(0), (1n << 64n) - 1n);
    assert.equal(b.readBigUInt64LE(8), 5n);
    assert.equal(makedev(1, 3), 0x103n);
    assert.equal(makedev(259, 65536), 0x10010300n);
  });
});
