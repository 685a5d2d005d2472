// The cgroup planner, pure: config → file writes for v1, v2 and hybrid hosts; Docker's zero
// values; the device rules (order, defaults, the emulator) and the cgroup v2 device program.

import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { planResources, sharesToWeight, blkioWeightToIoWeight, swapToV2, type CgroupVersion, type PlanHost } from '../../src/linux/cgroups/resources';
import { containerDeviceRules, deviceProgram, emulate, encodeProgram, parseDevicesList, permits, runDeviceProgram, specDeviceRules, v1DeviceTransition, v1DeviceWrites, DEFAULT_DEVICE_RULES } from '../../src/linux/cgroups/devices';
import { mergeResources, parseDuration, ramInBytes, resourcesFromFlags } from '../../src/container/cgroup-ops';
import { toJson } from '../../src/linux/cgroups/stats';
import type { LinuxResources } from '../../src/spec/types';

const V1: PlanHost = { version: (c) => (['memory', 'cpu', 'cpuset', 'pids', 'io', 'devices', 'freezer', 'net_cls', 'net_prio', 'hugetlb', 'rdma'].includes(c) ? 1 : undefined) };
const V2: PlanHost = { version: (c) => (['memory', 'cpu', 'cpuset', 'pids', 'io', 'hugetlb', 'rdma', 'misc', 'cgroup'].includes(c) ? 2 : undefined) };
/** these machines: v1 controllers, hugetlb only on the cgroup2 mount, no net_cls/net_prio/rdma */
const HYBRID: PlanHost = {
  version: (c): CgroupVersion | undefined => (['memory', 'cpu', 'cpuset', 'pids', 'io', 'devices', 'freezer'].includes(c) ? 1 : c === 'hugetlb' || c === 'cgroup' ? 2 : undefined),
};

const plan = (r: LinuxResources, host: PlanHost, opts = {}) => planResources(r, host, opts).writes.map((w) => `${w.controller}:${w.file}=${w.value}`);

describe('cgroup resources planner', () => {
  it('maps memory to v1 and v2 files', () => {
    const r: LinuxResources = { memory: { limit: 64 << 20, reservation: 32 << 20, swap: 128 << 20, swappiness: 10, disableOOMKiller: true } };
    assert.deepEqual(plan(r, V1), [
      'memory:memory.limit_in_bytes=67108864',
      'memory:memory.memsw.limit_in_bytes=134217728',
      'memory:memory.soft_limit_in_bytes=33554432',
      'memory:memory.swappiness=10',
      'memory:memory.oom_control=1',
    ]);
    assert.throws(() => plan(r, V2), /swappiness: cgroup v2 has no per-cgroup swappiness/);
    const r2: LinuxResources = { memory: { limit: 64 << 20, reservation: 32 << 20, swap: 128 << 20 } };
    assert.deepEqual(plan(r2, V2), ['memory:memory.max=67108864', 'memory:memory.swap.max=67108864', 'memory:memory.low=33554432']);
    assert.deepEqual(plan({ memory: { limit: -1, swap: -1 } }, V2), ['memory:memory.max=max', 'memory:memory.swap.max=max']);
    assert.deepEqual(plan({ memory: { limit: -1 } }, V1), ['memory:memory.limit_in_bytes=-1']);
  });

  it('orders v1 memory and memsw so that memsw >= limit at every step', () => {
    const current = (memsw: string): PlanHost => ({ ...V1, read: (_c, f) => (f === 'memory.memsw.limit_in_bytes' ? memsw : undefined) });
    // growing: memsw first
    assert.deepEqual(plan({ memory: { limit: 256 << 20, swap: 512 << 20 } }, current(String(128 << 20)), { update: true }), ['memory:memory.memsw.limit_in_bytes=536870912', 'memory:memory.limit_in_bytes=268435456']);
    // unlimited memory, swap unset: memory+swap unlimited too, first (runc)
    assert.deepEqual(plan({ memory: { limit: -1 } }, current(String(128 << 20)), { update: true }), ['memory:memory.memsw.limit_in_bytes=-1', 'memory:memory.limit_in_bytes=-1']);
    // shrinking: limit first
    assert.deepEqual(plan({ memory: { limit: 32 << 20, swap: 64 << 20 } }, current(String(128 << 20)), { update: true }), ['memory:memory.limit_in_bytes=33554432', 'memory:memory.memsw.limit_in_bytes=67108864']);
  });

  it('converts swap to cgroup v2 (swap alone) and refuses what cannot be expressed', () => {
    assert.equal(swapToV2(undefined, 1), undefined);
    assert.equal(swapToV2(0, 100), undefined);
    assert.equal(swapToV2(-1, 100), 'max');
    assert.equal(swapToV2(300, 100), '200');
    assert.throws(() => swapToV2(300, undefined), /without a memory limit/);
    assert.throws(() => swapToV2(50, 100), /less than the memory limit/);
    // update with --memory-swap only: the current limit counts
    assert.deepEqual(plan({ memory: { swap: 300 } }, V2, { currentMemoryLimit: 100 }), ['memory:memory.swap.max=200']);
  });

  it('refuses on v2 what only v1 has, naming the field', () => {
    assert.throws(() => plan({ memory: { kernel: 1 << 20 } }, V2), /linux\.resources\.memory\.kernel: cgroup v2 has no kernel memory limit/);
    assert.throws(() => plan({ memory: { kernelTCP: 1 << 20 } }, V2), /kernelTCP/);
    assert.throws(() => plan({ memory: { disableOOMKiller: true } }, V2), /cannot disable the OOM killer/);
    assert.throws(() => plan({ cpu: { realtimeRuntime: 1000 } }, V2), /realtimeRuntime: cgroup v2 has no realtime/);
    assert.throws(() => plan({ blockIO: { leafWeight: 100 } }, V2), /leafWeight: cgroup v2 has no leaf weights/);
    assert.throws(() => plan({ network: { classID: 0x100001 } }, V2), /net_cls.* not available|no net_cls/);
  });

  it('refuses a controller the host does not have (network on these hosts)', () => {
    assert.throws(() => plan({ network: { classID: 0x100001 } }, HYBRID), /linux\.resources\.network\.classID: the net_cls cgroup controller is not available on this host/);
    assert.throws(() => plan({ network: { priorities: [{ name: 'eth0', priority: 5 }] } }, HYBRID), /net_prio cgroup controller is not available/);
    assert.throws(() => plan({ rdma: { mlx5_0: { hcaHandles: 3 } } }, HYBRID), /rdma cgroup controller is not available/);
    assert.deepEqual(plan({ network: { classID: 0x100001, priorities: [{ name: 'eth0', priority: 5 }] } }, V1), ['net_cls:net_cls.classid=1048577', 'net_prio:net_prio.ifpriomap=eth0 5']);
    assert.deepEqual(plan({ rdma: { mlx5_0: { hcaHandles: 3 } } }, V2), ['rdma:rdma.max=mlx5_0 hca_handle=3 hca_object=max']);
  });

  it('maps cpu to v1 and v2', () => {
    const r: LinuxResources = { cpu: { shares: 512, quota: 50000, period: 100000, burst: 10000, cpus: '0', mems: '0', idle: 0 } };
    assert.deepEqual(plan(r, V1), [
      'cpuset:cpuset.mems=0',
      'cpuset:cpuset.cpus=0',
      'cpu:cpu.shares=512',
      'cpu:cpu.cfs_period_us=100000',
      'cpu:cpu.cfs_quota_us=50000',
      'cpu:cpu.cfs_burst_us=10000',
      'cpu:cpu.idle=0',
    ]);
    assert.deepEqual(plan(r, V2), ['cpuset:cpuset.mems=0', 'cpuset:cpuset.cpus=0', 'cpu:cpu.weight=20', 'cpu:cpu.max=50000 100000', 'cpu:cpu.max.burst=10000', 'cpu:cpu.idle=0']);
    assert.deepEqual(plan({ cpu: { quota: -1, period: 100000 } }, V2), ['cpu:cpu.max=max 100000']);
    assert.deepEqual(plan({ cpu: { realtimeRuntime: 950000, realtimePeriod: 1000000 } }, V1), ['cpu:cpu.rt_period_us=1000000', 'cpu:cpu.rt_runtime_us=950000']);
    assert.equal(sharesToWeight(1024), 39);
    assert.equal(sharesToWeight(2), 1);
    assert.equal(sharesToWeight(262144), 10000);
    assert.throws(() => plan({ cpu: { shares: 1 } }, V2), /out of the range/);
  });

  it('maps pids, hugetlb, block I/O', () => {
    assert.deepEqual(plan({ pids: { limit: 50 } }, V1), ['pids:pids.max=50']);
    assert.deepEqual(plan({ pids: { limit: -1 } }, V2), ['pids:pids.max=max']);
    assert.deepEqual(plan({ hugepageLimits: [{ pageSize: '2MB', limit: 4 << 20 }] }, V1), ['hugetlb:hugetlb.2MB.limit_in_bytes=4194304', 'hugetlb:hugetlb.2MB.rsvd.limit_in_bytes=4194304']);
    assert.deepEqual(plan({ hugepageLimits: [{ pageSize: '2MB', limit: 4 << 20 }] }, V2), ['hugetlb:hugetlb.2MB.max=4194304', 'hugetlb:hugetlb.2MB.rsvd.max=4194304']);
    // hybrid: hugetlb is served by the cgroup2 mount here
    assert.deepEqual(plan({ hugepageLimits: [{ pageSize: '1GB', limit: 0 }] }, HYBRID), ['hugetlb:hugetlb.1GB.max=0', 'hugetlb:hugetlb.1GB.rsvd.max=0']);
    const io: LinuxResources = {
      blockIO: {
        weight: 500,
        weightDevice: [{ major: 8, minor: 0, weight: 300 }],
        throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }],
        throttleWriteIOPSDevice: [{ major: 8, minor: 0, rate: 100 }],
      },
    };
    assert.deepEqual(plan(io, V1), ['blkio:blkio.weight=500', 'blkio:blkio.weight_device=8:0 300', 'blkio:blkio.throttle.read_bps_device=8:0 1048576', 'blkio:blkio.throttle.write_iops_device=8:0 100']);
    assert.deepEqual(plan(io, V2), ['io:io.bfq.weight=500', 'io:io.bfq.weight=8:0 300', 'io:io.max=8:0 rbps=1048576', 'io:io.max=8:0 wiops=100']);
    const alt = planResources(io, V2).writes[0].alternatives;
    assert.deepEqual(alt, [{ file: 'io.weight', value: String(blkioWeightToIoWeight(500)) }]);
    assert.equal(blkioWeightToIoWeight(10), 1);
    assert.equal(blkioWeightToIoWeight(1000), 10000);
  });

  it('treats Docker\'s zero values as unset', () => {
    // what Docker sends for a plain `docker run` and for `docker update --memory 64m`
    const docker = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'docker-resources.json'), 'utf8')) as LinuxResources[];
    assert.deepEqual(plan(docker[0], V1), []);
    assert.deepEqual(plan(docker[0], V2), []);
    assert.deepEqual(plan(docker[1], V1), ['memory:memory.limit_in_bytes=67108864', 'memory:memory.memsw.limit_in_bytes=134217728']);
    assert.deepEqual(plan(docker[1], V2), ['memory:memory.max=67108864', 'memory:memory.swap.max=67108864']);
    assert.deepEqual(plan(docker[2], V2), ['cpu:cpu.max=50000 100000', 'pids:pids.max=100']);
  });

  it('writes unified keys on cgroup v2 only (hybrid: controllers of the cgroup2 mount)', () => {
    assert.deepEqual(plan({ unified: { 'memory.high': '1000000', 'cgroup.max.descendants': '5' } }, V2), ['memory:memory.high=1000000', 'cgroup:cgroup.max.descendants=5']);
    assert.throws(() => plan({ unified: { 'memory.high': '1' } }, V1), /unified.*memory controller is on a cgroup v1 hierarchy|not available/);
    assert.throws(() => plan({ unified: { 'memory.high': '1' } }, HYBRID), /memory controller is on a cgroup v1 hierarchy on this host/);
    assert.deepEqual(plan({ unified: { 'hugetlb.2MB.max': '0', 'cgroup.max.depth': '2' } }, HYBRID), ['hugetlb:hugetlb.2MB.max=0', 'cgroup:cgroup.max.depth=2']);
    assert.throws(() => plan({ unified: { '../memory.max': '1' } }, V2), /not a cgroup v2 file name/);
    // unified comes last: it wins over the fields
    const w = plan({ memory: { limit: 100 }, unified: { 'memory.max': '200' } }, V2);
    assert.deepEqual(w, ['memory:memory.max=100', 'memory:memory.max=200']);
  });

  it('checkBeforeUpdate refuses a limit below the usage', () => {
    const host: PlanHost = { ...V2, read: (_c, f) => (f === 'memory.current' ? '5000000' : undefined) };
    assert.throws(() => plan({ memory: { limit: 1000000, checkBeforeUpdate: true } }, host, { update: true }), /below the current usage 5000000/);
    assert.deepEqual(plan({ memory: { limit: 1000000 } }, host, { update: true }), ['memory:memory.max=1000000']);
  });
});

describe('device rules', () => {
  it('starts from deny-all, keeps the config\'s order, appends runc\'s defaults', () => {
    const rules = containerDeviceRules([
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', major: 10, minor: 229, access: 'rw' },
      { allow: false, type: 'c', major: 1, minor: 9, access: 'w' },
    ]);
    const writes = v1DeviceWrites(rules).map((w) => `${w.file} ${w.value}`);
    assert.deepEqual(writes.slice(0, 4), ['devices.deny a', 'devices.deny a', 'devices.allow c 10:229 rw', 'devices.deny c 1:9 w']);
    assert.equal(writes.length, 4 + DEFAULT_DEVICE_RULES.length);
    assert.equal(writes[4], 'devices.allow c *:* m');
    assert.ok(writes.includes('devices.allow c 136:* rwm'));
  });

  it('normalises types, wildcards and access; rejects bad ones', () => {
    assert.deepEqual(specDeviceRules([{ allow: true }]), [{ allow: true, type: 'a', major: -1, minor: -1, access: 'rwm' }]);
    assert.deepEqual(specDeviceRules([{ allow: true, type: 'b', major: 8, access: 'mwr' }]), [{ allow: true, type: 'b', major: 8, minor: -1, access: 'rwm' }]);
    assert.throws(() => specDeviceRules([{ allow: true, type: 'x' }]), /type: "x" is not a, b or c/);
    assert.throws(() => specDeviceRules([{ allow: true, type: 'c', access: 'rx' }]), /access: "rx"/);
  });

  it('emulates cgroup v1: resets, exceptions, later rules win', () => {
    const st = emulate(containerDeviceRules([{ allow: true, type: 'c', major: 4, minor: -1 as never, access: 'rw' }]));
    assert.equal(st.defaultAllow, false);
    assert.equal(permits(st, 'c', 1, 3, 'r'), true, '/dev/null');
    assert.equal(permits(st, 'c', 4, 7, 'w'), true, 'the config allows c 4:* rw');
    assert.equal(permits(st, 'c', 4, 7, 'm'), true, 'mknod of any char device (runc default)');
    assert.equal(permits(st, 'b', 8, 0, 'r'), false, 'a disk');
    assert.equal(permits(st, 'c', 10, 229, 'r'), false, '/dev/fuse');
    // privileged: allow-all after the deny
    const priv = emulate(containerDeviceRules([{ allow: true, access: 'rwm' }]));
    assert.equal(priv.defaultAllow, true);
    assert.equal(permits(priv, 'b', 8, 0, 'w'), true);
    // a deny inside a wildcard allow cannot be expressed in v1: refused, as runc does
    assert.throws(() => emulate(containerDeviceRules([{ allow: true, type: 'c', major: 4, access: 'rwm' }, { allow: false, type: 'c', major: 4, minor: 1, access: 'r' }])), /cannot punch a hole/);
    // removing an exact exception works
    const rm = emulate(containerDeviceRules([{ allow: true, type: 'c', major: 4, minor: 1, access: 'rw' }, { allow: false, type: 'c', major: 4, minor: 1, access: 'w' }]));
    assert.equal(permits(rm, 'c', 4, 1, 'r'), true);
    assert.equal(permits(rm, 'c', 4, 1, 'w'), false);
  });

  it('compiles a cgroup v2 program that decides like the emulator', () => {
    const configs = [
      [],
      [{ allow: true, type: 'c', major: 4, access: 'rw' }],
      [{ allow: true, access: 'rwm' }, { allow: false, type: 'b', major: 8, minor: 0, access: 'w' }],
      [{ allow: true, type: 'b', major: 7, minor: 3, access: 'r' }, { allow: false, type: 'c', major: 1, minor: 9, access: 'rwm' }],
    ] as never[][];
    for (const cfg of configs) {
      const st = emulate(containerDeviceRules(cfg));
      const prog = deviceProgram(st);
      assert.equal(encodeProgram(prog).length, prog.length * 8);
      for (const type of ['b', 'c'] as const) {
        for (const [ma, mi] of [
          [1, 3],
          [1, 9],
          [4, 0],
          [4, 7],
          [5, 2],
          [7, 3],
          [8, 0],
          [10, 200],
          [136, 4],
        ]) {
          for (const acc of ['r', 'w', 'm'] as const) {
            const want = permits(st, type, ma, mi, acc) ? 1 : 0;
            assert.equal(runDeviceProgram(prog, type, ma, mi, acc), want, `${JSON.stringify(cfg)}: ${type} ${ma}:${mi} ${acc}`);
          }
        }
      }
    }
  });

  it('updates a live v1 devices cgroup with the smallest change (grants before revokes)', () => {
    const cur = parseDevicesList('c *:* m\nb *:* m\nc 1:3 rwm\nc 10:229 rw\n');
    assert.equal(cur.defaultAllow, false);
    assert.deepEqual([...cur.exceptions.keys()], ['c -1 -1', 'b -1 -1', 'c 1 3', 'c 10 229']);
    assert.equal(parseDevicesList('a *:* rwm\n').defaultAllow, true);
    const target = emulate(containerDeviceRules([{ allow: true, type: 'c', major: 10, minor: 229, access: 'r' }, { allow: true, type: 'b', major: 7, minor: 0, access: 'r' }]));
    const writes = v1DeviceTransition(emulate(containerDeviceRules([{ allow: true, type: 'c', major: 10, minor: 229, access: 'rw' }])), target).map((w) => `${w.file} ${w.value}`);
    assert.deepEqual(writes, ['devices.allow b 7:0 r', 'devices.deny c 10:229 w']);
    // whatever the change, applying the writes to the current state gives the target
    const configs = [[], [{ allow: true, access: 'rwm' }], [{ allow: true, type: 'c', major: 4, access: 'rw' }], [{ allow: true, access: 'rwm' }, { allow: false, type: 'b', major: 8, minor: 0, access: 'w' }]] as never[][];
    for (const a of configs) {
      for (const b of configs) {
        const from = emulate(containerDeviceRules(a));
        const shown = from.defaultAllow ? parseDevicesList('a *:* rwm') : from; // what devices.list shows
        const to = emulate(containerDeviceRules(b));
        const steps = v1DeviceTransition(shown, to).map((w) => ({ ...specDeviceRules([{ allow: w.file === 'devices.allow', type: w.value === 'a' ? 'a' : w.value[0], major: undefined, minor: undefined, access: w.value === 'a' ? 'rwm' : w.value.split(' ')[2] }])[0], major: w.value === 'a' ? -1 : Number(w.value.split(' ')[1].split(':')[0].replace('*', '-1')), minor: w.value === 'a' ? -1 : Number(w.value.split(' ')[1].split(':')[1].replace('*', '-1')) }));
        const got = emulate(steps, from);
        assert.equal(got.defaultAllow, to.defaultAllow, `${JSON.stringify(a)} → ${JSON.stringify(b)}`);
        assert.deepEqual([...got.exceptions].sort(), [...to.exceptions].sort(), `${JSON.stringify(a)} → ${JSON.stringify(b)}`);
      }
    }
  });

  it('encodes instructions as the kernel reads them', () => {
    const b = encodeProgram([{ op: 0x61, dst: 2, src: 1, off: 4, imm: 0 }, { op: 0x55, dst: 4, src: 0, off: 3, imm: 136 }]);
    assert.equal(b.toString('hex'), '6112040000000000' + '5504030088000000');
  });
});

describe('update flags and documents', () => {
  it('parses runc\'s flags with units', () => {
    assert.equal(ramInBytes('64m', 'memory'), 64 << 20);
    assert.equal(ramInBytes('1.5g', 'memory'), 1.5 * 2 ** 30);
    assert.equal(ramInBytes('1024', 'memory'), 1024);
    assert.equal(ramInBytes('-1', 'memory-swap'), -1);
    assert.throws(() => ramInBytes('lots', 'memory'), /invalid value for --memory/);
    assert.deepEqual(resourcesFromFlags({ memory: '64m', cpuQuota: '50000', cpuPeriod: '100000', pidsLimit: '30', cpusetCpus: '0' }), {
      memory: { limit: 64 << 20 },
      cpu: { quota: 50000, period: 100000, cpus: '0' },
      blockIO: {},
      pids: { limit: 30 },
    });
    assert.throws(() => resourcesFromFlags({ l3CacheSchema: 'L3:0=f' }), /Intel RDT/);
    assert.throws(() => resourcesFromFlags({ cpuQuota: 'x' }), /cpu-quota/);
  });

  it('merges an update into the recorded resources: zero means unchanged', () => {
    const cur: LinuxResources = { memory: { limit: 100, swap: 200 }, cpu: { shares: 512 }, pids: { limit: 10 } };
    const m = mergeResources(cur, { memory: { limit: 300, reservation: 0, kernel: 0 }, cpu: { shares: 0, quota: 0 }, pids: { limit: 0 }, blockIO: { weight: 0 } } as LinuxResources);
    assert.deepEqual(m, { memory: { limit: 300, swap: 200 }, cpu: { shares: 512 }, pids: { limit: 10 } });
  });

  it('parses Go durations', () => {
    assert.equal(parseDuration('5s'), 5000);
    assert.equal(parseDuration('100ms'), 100);
    assert.equal(parseDuration('1m30s'), 90000);
    assert.throws(() => parseDuration('5'), /invalid duration/);
  });

  it('prints uint64 counters exactly', () => {
    assert.equal(toJson({ a: 9223372036854771712n, b: undefined, c: [1n, 'x'], d: null }), '{"a":9223372036854771712,"c":[1,"x"],"d":null}');
  });
});

describe('systemd cgroupsPath', () => {
  it('expands slices and names the scope as runc does', async () => {
    const { expandSlice, systemdUnit } = await import('../../src/linux/cgroups/systemd');
    assert.equal(expandSlice('system.slice'), '/system.slice');
    assert.equal(expandSlice('a-b-c.slice'), '/a.slice/a-b.slice/a-b-c.slice');
    assert.equal(expandSlice('-.slice'), '/');
    assert.throws(() => expandSlice('a--b.slice'), /invalid slice name/);
    assert.throws(() => expandSlice('foo'), /invalid slice name/);
    assert.deepEqual(systemdUnit('system.slice:docker:abc', 'x'), { slice: 'system.slice', unit: 'docker-abc.scope', path: '/system.slice/docker-abc.scope' });
    assert.deepEqual(systemdUnit('machine-k8s.slice:cri-containerd:1f', 'x').path, '/machine.slice/machine-k8s.slice/cri-containerd-1f.scope');
    assert.deepEqual(systemdUnit('::', 'ctr').path, '/system.slice/ctr.scope');
    assert.deepEqual(systemdUnit('', 'ctr').path, '/system.slice/tsrunc-ctr.scope');
    assert.throws(() => systemdUnit('/docker/abc', 'x'), /slice:prefix:name/);
  });

  // regression: with the scope started after the init went on, the init's cgroup mount found no
  // scope directory, the init died, and systemd never got a pid to move (every systemd create failed)
  it('starts the scope while the init waits at "mapping"', async () => {
    const { cgroupsBeforeInitGoesOn } = await import('../../src/container/create');
    assert.equal(cgroupsBeforeInitGoesOn([{ type: 'mount' }, { type: 'pid' }], true), true);
    assert.equal(cgroupsBeforeInitGoesOn([{ type: 'mount' }, { type: 'pid' }], false), false);
    assert.equal(cgroupsBeforeInitGoesOn([{ type: 'cgroup' }], false), true);
    assert.equal(cgroupsBeforeInitGoesOn([{ type: 'cgroup', path: '/proc/1/ns/cgroup' }], false), false);
  });
});

describe('who moves the init into which cgroup', () => {
  const h1 = { mountpoint: '/sys/fs/cgroup/cpu', version: 1 as const, subsystems: ['cpu'], ownPath: '/' };
  const h2 = { mountpoint: '/sys/fs/cgroup/unified', version: 2 as const, subsystems: [], ownPath: '/' };
  const v1 = { hierarchy: h1, dir: '/sys/fs/cgroup/cpu/c' };
  const v2 = { hierarchy: h2, dir: '/sys/fs/cgroup/unified/c' };
  const spec = (namespaces: { type: string; path?: string }[]) => ({ ociVersion: '1.3.0', root: { path: 'r' }, linux: { namespaces } }) as never;

  it('clones the init into the cgroup v2 one, lets it move itself into the v1 ones, moves it into the rest', async () => {
    const { cgroupJoins } = await import('../../src/container/create');
    const { clonesIntoCgroups } = await import('../../src/spawn/launch');
    const into = clonesIntoCgroups() ? v2 : undefined;
    assert.deepEqual(cgroupJoins(spec([{ type: 'mount' }]), [v1, v2]), { selfJoined: [v1], runtimeJoins: [v2], cloneInto: into });
    // in a user namespace the init is not root over the host's cgroupfs
    assert.deepEqual(cgroupJoins(spec([{ type: 'mount' }, { type: 'user' }]), [v1, v2]), { selfJoined: [], runtimeJoins: [v1, v2], cloneInto: into });
    // systemd makes the scope with the pid: nothing else
    const scope = { ...v2, systemd: { unit: 'x.scope', slice: 's.slice', path: '/s.slice/x.scope', id: 'x' } };
    assert.deepEqual(cgroupJoins(spec([{ type: 'mount' }]), [scope]), { selfJoined: [], runtimeJoins: [scope] });
  });
});

describe('systemd driver: D-Bus messages and scope properties', () => {
  it('marshals a StartTransientUnit call as the wire format says', async () => {
    const { encodeCall, decodeMessage, messageLength, Reader, Writer } = await import('../../src/linux/dbus');
    const { scopeProperties, rangeToBits, quotaPerSecUSec, systemdUnit } = await import('../../src/linux/cgroups/systemd');
    // primitives and alignment
    const w = new Writer();
    w.write('y', 7);
    w.write('t', 5n); // aligned to 8
    w.write('s', 'ab');
    w.write('a(sv)', [['x', ['b', true]]]);
    assert.equal(w.bytes().toString('hex'), '07000000000000000500000000000000' + '0200000061620000' + '10000000' + '00000000' + '0100000078000162' + '0000000001000000');
    const r = new Reader(w.bytes());
    assert.deepEqual([r.read('y'), r.read('t'), r.read('s'), r.read('a(sv)')], [7, 5n, 'ab', [['x', ['b', true]]]]);
    // a whole call round-trips through the decoder
    const unit = systemdUnit('system.slice:tsrunc:c1', 'c1');
    const props = scopeProperties(unit, 'c1', 4242, { memory: { limit: 64 << 20, swap: -1 }, cpu: { shares: 1024, quota: 25000, period: 100000, cpus: '0-2,9' }, pids: { limit: -1 } });
    const msg = encodeCall(3, { destination: 'org.freedesktop.systemd1', path: '/org/freedesktop/systemd1', iface: 'org.freedesktop.systemd1.Manager', member: 'StartTransientUnit', signature: 'ssa(sv)a(sa(sv))', body: ['tsrunc-c1.scope', 'replace', props, []] });
    assert.equal(messageLength(msg), msg.length);
    const m = decodeMessage(msg);
    assert.equal(m.serial, 3);
    assert.equal(m.signature, 'ssa(sv)a(sa(sv))');
    const [name, mode, got] = m.body as [string, string, Array<[string, [string, unknown]]>];
    assert.equal(name, 'tsrunc-c1.scope');
    assert.equal(mode, 'replace');
    const byName = Object.fromEntries(got.map(([k, v]) => [k, v]));
    assert.deepEqual(byName.Slice, ['s', 'system.slice']);
    assert.deepEqual(byName.PIDs, ['au', [4242]]);
    assert.deepEqual(byName.Delegate, ['b', true]);
    assert.deepEqual(byName.MemoryMax, ['t', 67108864n]);
    assert.deepEqual(byName.MemorySwapMax, ['t', 18446744073709551615n]);
    assert.deepEqual(byName.CPUWeight, ['t', 39n]);
    assert.deepEqual(byName.CPUQuotaPerSecUSec, ['t', 250000n]);
    assert.deepEqual(byName.CPUQuotaPeriodUSec, ['t', 100000n]);
    assert.deepEqual(byName.AllowedCPUs, ['ay', [0b111, 0b10]]);
    assert.deepEqual(byName.TasksMax, ['t', 18446744073709551615n]);
    assert.deepEqual(rangeToBits('0'), [1]);
    assert.equal(quotaPerSecUSec(33333, 100000), 340000n, 'rounded up to 10 ms');
  });
});

describe('systemd driver: a D-Bus peer that never answers', () => {
  // regression: a call read its reply with a blocking read and no bound: a systemd that did not
  // answer hung delete --force and a failed create for good (seen in the systemd VM)
  it('fails the call after the timeout instead of waiting for ever', async () => {
    const { Connection } = await import('../../src/linux/dbus');
    const { spawn } = await import('node:child_process');
    const os = await import('node:os');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-test-dbus-'));
    const sock = path.join(dir, 'bus');
    // a peer in another process (the call blocks this one): accepts SASL, then says nothing; it
    // hangs up after 3 s, so that a client without the bound fails (connection closed) and
    // does not hang the test run
    const server = `require('node:net').createServer((c) => { c.once('data', () => c.write('OK 0123456789abcdef0123456789abcdef\\r\\n')); setTimeout(() => c.destroy(), 3000); }).listen(${JSON.stringify(sock)})`;
    const peer = spawn(process.execPath, ['-e', server], { stdio: 'ignore' });
    try {
      for (let i = 0; i < 200 && !fs.existsSync(sock); i++) await new Promise((r) => setTimeout(r, 10));
      const c = Connection.open(sock, false, 300);
      const t0 = Date.now();
      assert.throws(() => c.call({ destination: 'org.freedesktop.systemd1', path: '/org/freedesktop/systemd1', iface: 'org.freedesktop.systemd1.Manager', member: 'StopUnit', signature: 'ss', body: ['x.scope', 'replace'] }), /D-Bus: no answer on .* within 0.3 s/);
      const waited = Date.now() - t0;
      assert.ok(waited >= 250 && waited < 5000, `waited ${waited} ms`);
      c.close();
    } finally {
      peer.kill();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('cgroup removal', () => {
  it('empties the container\'s own cgroups, never a shared parent it created', async () => {
    const { removeCgroupDirs } = await import('../../src/linux/cgroups');
    const os = await import('node:os');
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-cgrm-'));
    try {
      const parent = path.join(tmp, 'tsrunc-test');
      const leaf = path.join(parent, 'mine');
      fs.mkdirSync(path.join(leaf, 'sub', 'deeper'), { recursive: true }); // made by the container
      fs.mkdirSync(path.join(parent, 'another-container'));
      const failed = removeCgroupDirs([parent, leaf]);
      assert.equal(fs.existsSync(leaf), false);
      assert.equal(fs.existsSync(path.join(parent, 'another-container')), true, 'a sibling is left alone');
      assert.equal(fs.existsSync(parent), true, 'the shared parent stays while it is in use');
      assert.match(failed.join(), /tsrunc-test: ENOTEMPTY/);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});

describe('freezerState (from the container\'s directories alone)', () => {
  it('reads the v1 freezer wherever it is mounted, and v2 cgroup.events; thawed otherwise', async () => {
    const { freezerState } = await import('../../src/linux/freezer');
    const root = fs.mkdtempSync('/tmp/tsrunc-test-freezer-');
    try {
      const dir = (name: string, files: Record<string, string>) => {
        const d = path.join(root, name);
        fs.mkdirSync(d);
        for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(d, f), text);
        return d;
      };
      const memory = dir('memory', { 'memory.limit_in_bytes': '9223372036854771712\n' });
      const unified = dir('unified', { 'cgroup.events': 'populated 1\nfrozen 0\n' });
      // a freezer co-mounted with cpu: its path says nothing of a freezer
      const v1 = dir('cpu,freezer', { 'freezer.state': 'FROZEN\n' });
      assert.equal(freezerState([memory, unified, v1]), 'frozen');
      fs.writeFileSync(path.join(v1, 'freezer.state'), 'FREEZING\n');
      assert.equal(freezerState([memory, unified, v1]), 'freezing');
      fs.writeFileSync(path.join(v1, 'freezer.state'), 'THAWED\n');
      assert.equal(freezerState([memory, unified, v1]), 'thawed');
      const v2 = dir('v2', { 'cgroup.events': 'populated 1\nfrozen 1\n' });
      assert.equal(freezerState([memory, v2]), 'frozen');
      assert.equal(freezerState([memory, path.join(root, 'gone')]), 'thawed');
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
