// The runtime features document (`tsrunc features`, runtime-spec features.md), built only from
// lists the caller passes in, so tsrunc claims exactly what its code implements. An omitted list
// or flag is left out of the document ("unknown" in the spec's terms); an empty list says
// "none supported".
//
// Lists are put in a canonical order (the one runc 1.1.5 prints), so the output is stable:
// hooks in lifecycle order, capabilities in kernel number order, everything else sorted.

import {
  CAPABILITIES,
  HOOK_NAMES,
  type CapabilityName,
  type HookName,
  type SeccompAction,
  type SeccompArch,
  type SeccompFlag,
  type SeccompOperator,
} from './known';
import { OCI_VERSION, type Features, type LinuxFeatures, type NamespaceType } from './types';

export interface RuntimeImplementation {
  /** Oldest runtime-spec version accepted; default 1.0.0. */
  ociVersionMin?: string;
  /** Newest runtime-spec version implemented; default OCI_VERSION. */
  ociVersionMax?: string;
  hooks?: readonly HookName[];
  /** Mount options the runtime understands (others become filesystem data). */
  mountOptions?: readonly string[];
  /** Implementation details, e.g. { 'org.tsrunc.version': '0.1.0' }. */
  annotations?: Readonly<Record<string, string>>;
  potentiallyUnsafeConfigAnnotations?: readonly string[];
  linux?: LinuxImplementation;
}

export interface LinuxImplementation {
  namespaces?: readonly NamespaceType[];
  capabilities?: readonly CapabilityName[];
  cgroup?: { v1?: boolean; v2?: boolean; systemd?: boolean; systemdUser?: boolean; rdma?: boolean };
  seccomp?: {
    enabled: boolean;
    actions?: readonly SeccompAction[];
    operators?: readonly SeccompOperator[];
    archs?: readonly SeccompArch[];
    /** Flags the runtime knows of. */
    knownFlags?: readonly SeccompFlag[];
    /** Flags the runtime knows of and this kernel/libseccomp supports. */
    supportedFlags?: readonly SeccompFlag[];
  };
  apparmor?: boolean;
  selinux?: boolean;
  intelRdt?: boolean;
  /** Idmapped mounts (mounts[].uidMappings/gidMappings). */
  idmapMounts?: boolean;
  netDevices?: boolean;
}

function sorted<T extends string>(list: readonly T[] | undefined): T[] | undefined {
  return list === undefined ? undefined : [...new Set(list)].sort();
}

/** Keeps `list` entries, in the order they have in `canonical`. */
function inOrderOf<T extends string>(canonical: readonly T[], list: readonly T[] | undefined): T[] | undefined {
  return list === undefined ? undefined : canonical.filter((name) => list.includes(name));
}

function enabled(flag: boolean | undefined): { enabled: boolean } | undefined {
  return flag === undefined ? undefined : { enabled: flag };
}

/** Drops keys whose value is undefined, so they are absent from the JSON (not null). */
function compact<T extends object>(object: T): T {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined)) as T;
}

function linuxFeatures(linux: LinuxImplementation): LinuxFeatures {
  const seccomp = linux.seccomp;
  return compact<LinuxFeatures>({
    namespaces: sorted(linux.namespaces),
    capabilities: inOrderOf(CAPABILITIES, linux.capabilities),
    cgroup:
      linux.cgroup === undefined
        ? undefined
        : compact({
            v1: linux.cgroup.v1,
            v2: linux.cgroup.v2,
            systemd: linux.cgroup.systemd,
            systemdUser: linux.cgroup.systemdUser,
            rdma: linux.cgroup.rdma,
          }),
    seccomp:
      seccomp === undefined
        ? undefined
        : compact({
            enabled: seccomp.enabled,
            actions: sorted(seccomp.actions),
            operators: sorted(seccomp.operators),
            archs: sorted(seccomp.archs),
            knownFlags: sorted(seccomp.knownFlags),
            supportedFlags: sorted(seccomp.supportedFlags),
          }),
    apparmor: enabled(linux.apparmor),
    selinux: enabled(linux.selinux),
    intelRdt: enabled(linux.intelRdt),
    mountExtensions: linux.idmapMounts === undefined ? undefined : { idmap: { enabled: linux.idmapMounts } },
    netDevices: enabled(linux.netDevices),
  });
}

export function featuresDocument(impl: RuntimeImplementation): Features {
  const annotations =
    impl.annotations === undefined
      ? undefined
      : Object.fromEntries(Object.entries(impl.annotations).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return compact<Features>({
    ociVersionMin: impl.ociVersionMin ?? '1.0.0',
    ociVersionMax: impl.ociVersionMax ?? OCI_VERSION,
    hooks: inOrderOf(HOOK_NAMES, impl.hooks),
    mountOptions: sorted(impl.mountOptions),
    linux: impl.linux === undefined ? undefined : linuxFeatures(impl.linux),
    annotations,
    potentiallyUnsafeConfigAnnotations: sorted(impl.potentiallyUnsafeConfigAnnotations),
  });
}

/** The text `features` prints (runc's layout: 4-space indent, final newline). */
export function featuresText(features: Features): string {
  return JSON.stringify(features, null, 4) + '\n';
}
