// `tsrunc features`: the runtime-spec features document for what tsrunc really implements.
// Lists come from the code that implements them (mount options, seccomp tables), not from a
// hand-kept copy; anything not done yet is left out or reported disabled.

import type { Features } from '../spec/types';
import { featuresDocument } from '../spec/features';
import { CAPABILITIES } from '../spec/known';
import { knownMountOptions } from '../plan/mount-options';
import { buildInfo } from '../state/build-info';

export function runtimeFeatures(): Features {
  const seccomp = require('../linux/seccomp') as typeof import('../linux/seccomp');
  const info = buildInfo();
  return featuresDocument({
    ociVersionMin: '1.0.0',
    ociVersionMax: '1.3.0',
    hooks: ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'],
    // idmapped mounts are refused with a clear error for now
    mountOptions: knownMountOptions(),
    annotations: { 'io.github.tsrunc.version': info.version, 'io.github.tsrunc.commit': info.commit },
    linux: {
      namespaces: ['cgroup', 'ipc', 'mount', 'network', 'pid', 'time', 'user', 'uts'],
      capabilities: [...CAPABILITIES],
      cgroup: { v1: true, v2: true, systemd: true, systemdUser: false, rdma: true },
      seccomp: {
        enabled: true,
        actions: [...seccomp.SECCOMP_ACTIONS],
        operators: [...seccomp.SECCOMP_OPERATORS],
        archs: [...seccomp.SECCOMP_ARCHITECTURES] as import('../spec/known').SeccompArch[],
        knownFlags: [...seccomp.SECCOMP_FLAGS],
        supportedFlags: [...seccomp.SECCOMP_FLAGS],
      },
      apparmor: false,
      selinux: false,
      intelRdt: false,
      idmapMounts: false,
      netDevices: false,
    },
  });
}
