// The hybrid side of these hosts: the cgroup2 mount (/sys/fs/cgroup/unified) serves what no v1
// hierarchy has (hugetlb here) and takes unified keys; and the cgroup v2 device program (eBPF,
// loaded with bpf() through koffi) is enforced by this kernel on any cgroup2 directory, so it is
// checked here too, not only in the v2 VM.

import { describe, it, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { CGROUP_PREFIX, Runtime, leftoverCgroups, skipUnlessRoot, uniqueId } from '../helpers/runtime';
import { containerDeviceRules, deviceProgram, emulate, encodeProgram } from '../../src/linux/cgroups/devices';
import { attachDeviceProgram, deviceProgramCount } from '../../src/linux/cgroups/bpf';
import { cgroupMode } from '../../src/linux/cgroups';

const UNIFIED = '/sys/fs/cgroup/unified';
const hybrid = fs.existsSync(path.join(UNIFIED, 'cgroup.controllers')) && cgroupMode() === 'hybrid';
const skip = skipUnlessRoot || (hybrid ? false : 'needs a hybrid host (v1 controllers and a cgroup2 mount at /sys/fs/cgroup/unified)');

describe('cgroups (hybrid: the cgroup2 mount)', { skip }, () => {
  it('enforces the eBPF device program on this kernel: allowed devices open, others get EPERM', () => {
    const dir = path.join(UNIFIED, `tsrunc-bpf-${process.pid}`);
    fs.mkdirSync(dir);
    try {
      const prog = (devices: Parameters<typeof containerDeviceRules>[0]) => encodeProgram(deviceProgram(emulate(containerDeviceRules(devices))));
      // runc's defaults plus read-only /dev/kmsg; /dev/fuse is not allowed
      attachDeviceProgram(dir, prog([{ allow: true, type: 'c', major: 1, minor: 11, access: 'r' }]));
      assert.equal(deviceProgramCount(dir), 1);
      const probe = () =>
        spawnSync('sh', ['-c', `echo $$ > ${dir}/cgroup.procs; for d in null zero kmsg fuse; do (exec 3</dev/$d) 2>/dev/null && echo "$d r ok" || echo "$d r denied"; done; (exec 3>/dev/kmsg) 2>/dev/null && echo "kmsg w ok" || echo "kmsg w denied"`], { encoding: 'utf8' }).stdout;
      assert.equal(probe(), 'null r ok\nzero r ok\nkmsg r ok\nfuse r denied\nkmsg w denied\n');
      // an update replaces the program (attach the new one, then detach the old)
      attachDeviceProgram(dir, prog([{ allow: true, type: 'c', major: 10, minor: 229, access: 'rw' }]));
      assert.equal(deviceProgramCount(dir), 1);
      assert.equal(probe(), 'null r ok\nzero r ok\nkmsg r denied\nfuse r ok\nkmsg w denied\n');
    } finally {
      fs.rmdirSync(dir);
    }
  });

  describe('through the CLI', () => {
    const rt = new Runtime();
    const rootControl = path.join(UNIFIED, 'cgroup.subtree_control');
    const hadHugetlb = fs.readFileSync(rootControl, 'utf8').includes('hugetlb');
    after(() => {
      // leave the host's cgroup2 root as it was: hugetlb was enabled for our cgroups only
      if (hadHugetlb) return;
      for (const d of [path.join(UNIFIED, CGROUP_PREFIX.slice(1)), UNIFIED]) {
        try {
          fs.writeFileSync(path.join(d, 'cgroup.subtree_control'), '-hugetlb');
        } catch {
          /* gone already, or another test file's cgroups still use it */
        }
      }
    });

    it('applies hugepage limits and unified keys through the cgroup2 mount', () => {
      const sizes = fs.readdirSync('/sys/kernel/mm/hugepages');
      const b = rt.bundle((c) => {
        c.process.args = ['true'];
        c.linux.resources = {
          hugepageLimits: sizes.includes('hugepages-2048kB') ? [{ pageSize: '2MB', limit: 4 << 20 }] : [],
          unified: { 'cgroup.max.descendants': '3' },
        };
      });
      const name = path.basename(b);
      const id = uniqueId('hyb');
      const r = rt.run(['create', '--bundle', b, id]);
      assert.equal(r.code, 0, r.stderr);
      const dir = path.join(UNIFIED, CGROUP_PREFIX.slice(1), name);
      assert.equal(fs.readFileSync(path.join(dir, 'cgroup.max.descendants'), 'utf8').trim(), '3');
      if (sizes.includes('hugepages-2048kB')) assert.equal(fs.readFileSync(path.join(dir, 'hugetlb.2MB.max'), 'utf8').trim(), String(4 << 20));
      // stats read hugetlb from there too
      const ev = JSON.parse(rt.run(['events', '--stats', id]).stdout);
      assert.ok(ev.data.hugetlb['2MB'] !== undefined);
      assert.equal(rt.run(['delete', '--force', id]).code, 0);
      assert.deepEqual(leftoverCgroups(name), []);
      assert.equal(fs.existsSync(dir), false);
    });
  });
});
