// The config.json that `tsrunc spec` writes: exactly what runc 1.1.5 writes (`runc spec`,
// `runc spec --rootless`), except ociVersion, which is ours. Key order matters: it is the order
// of the written file. test/fixtures/spec/runc-1.1.5/ holds runc's output for comparison.

import { OCI_VERSION, type Mount, type Spec } from './types';

export interface DefaultSpecOptions {
  /** As `runc spec --rootless`: user namespace mapping the caller to root, no network namespace,
   *  /sys bind-mounted from the host, no device cgroup rules. */
  rootless?: boolean;
  /** Host uid mapped to container root when rootless; runc uses the caller's euid. */
  hostUid?: number;
  /** Host gid mapped to container root when rootless; runc uses the caller's egid. */
  hostGid?: number;
}

/** The capabilities runc's default spec grants (in every set except inheritable). */
const DEFAULT_CAPABILITIES = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];

function defaultMounts(rootless: boolean): Mount[] {
  return [
    { destination: '/proc', type: 'proc', source: 'proc' },
    {
      destination: '/dev',
      type: 'tmpfs',
      source: 'tmpfs',
      options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'],
    },
    {
      destination: '/dev/pts',
      type: 'devpts',
      source: 'devpts',
      // An unprivileged user cannot map gid 5 (tty), so the rootless spec leaves gid= out.
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', ...(rootless ? [] : ['gid=5'])],
    },
    {
      destination: '/dev/shm',
      type: 'tmpfs',
      source: 'shm',
      options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'],
    },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    // Without a new network namespace a fresh sysfs cannot be mounted, so rootless binds the host's.
    rootless
      ? { destination: '/sys', type: 'none', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] }
      : { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    {
      destination: '/sys/fs/cgroup',
      type: 'cgroup',
      source: 'cgroup',
      options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'],
    },
  ];
}

const MASKED_PATHS = [
  '/proc/acpi',
  '/proc/asound',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/sys/firmware',
  '/proc/scsi',
];

const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/** A fresh default config.json (no shared arrays: callers may edit it). */
export function defaultSpec(options: DefaultSpecOptions = {}): Spec {
  const rootless = options.rootless ?? false;
  const linux: NonNullable<Spec['linux']> = rootless
    ? {
        uidMappings: [{ containerID: 0, hostID: options.hostUid ?? 0, size: 1 }],
        gidMappings: [{ containerID: 0, hostID: options.hostGid ?? 0, size: 1 }],
        namespaces: [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'user' }],
      }
    : {
        resources: { devices: [{ allow: false, access: 'rwm' }] },
        namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
      };
  linux.maskedPaths = [...MASKED_PATHS];
  linux.readonlyPaths = [...READONLY_PATHS];

  return {
    ociVersion: OCI_VERSION,
    process: {
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: ['sh'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: {
        bounding: [...DEFAULT_CAPABILITIES],
        effective: [...DEFAULT_CAPABILITIES],
        permitted: [...DEFAULT_CAPABILITIES],
        ambient: [...DEFAULT_CAPABILITIES],
      },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'runc',
    mounts: defaultMounts(rootless),
    linux,
  };
}

/** The text of config.json as runc writes it: tab-indented, no trailing newline. */
export function specFileText(spec: Spec): string {
  return JSON.stringify(spec, null, '\t');
}
