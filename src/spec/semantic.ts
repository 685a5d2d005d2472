// Semantic checks: the rules of runtime-spec 1.3 (and the runc behaviour tsrunc keeps) that a JSON
// Schema cannot express. They run on documents that already passed the schema, so field types
// are as the schema says; presence still has to be checked.
//
// Every rule has a stable name, listed with its meaning in SEMANTIC_RULES; an issue's `rule` is
// always one of these names (or a schema keyword for structural errors).

import { joinPointer, type IssueSeverity, type SpecIssue } from './issues';
import { CAPABILITY_SETS, RLIMIT_TYPES, capabilityNumber } from './known';
import type { Linux, LinuxResources, NamespaceType, Process, Spec, State } from './types';

export interface RuleInfo {
  severity: IssueSeverity;
  summary: string;
}

export const SEMANTIC_RULES = {
  'root-required': { severity: 'error', summary: 'create/run need root.path' },
  'args-required': { severity: 'error', summary: 'process.args must have at least one entry on Linux' },
  'user-required': { severity: 'error', summary: 'process.user (uid, gid) is required on Linux' },
  'absolute-path': {
    severity: 'error',
    summary:
      'process.cwd, linux.maskedPaths[], linux.readonlyPaths[], linux.devices[].path, hooks.*[].path and ' +
      'linux.namespaces[].path must be absolute; a relative mounts[].destination is only a warning ' +
      '(deprecated by the spec, taken as relative to /)',
  },
  'duplicate-namespace': { severity: 'error', summary: 'each namespace type may appear once in linux.namespaces' },
  'user-namespace-required': {
    severity: 'error',
    summary: 'linux.uidMappings/gidMappings need a user namespace in linux.namespaces',
  },
  'user-mappings-required': {
    severity: 'error',
    summary: 'a new user namespace needs both linux.uidMappings and linux.gidMappings (tsrunc does not create unmapped ones)',
  },
  'time-namespace-required': { severity: 'error', summary: 'linux.timeOffsets need a time namespace' },
  'time-offsets-joined-namespace': {
    severity: 'error',
    summary: 'linux.timeOffsets cannot be applied to a time namespace joined by path (its clocks are already set)',
  },
  'uts-namespace-required': {
    severity: 'error',
    summary: 'hostname and domainname can only be set with a uts namespace (runc: new or joined)',
  },
  'mount-namespace-required': {
    severity: 'error',
    summary: 'linux.maskedPaths, linux.readonlyPaths and linux.rootfsPropagation need a mount namespace',
  },
  'sysctl-namespace-required': {
    severity: 'error',
    summary:
      'net.* sysctls need a network namespace; kernel.shm*/msg*/sem* and fs.mqueue.* need an ipc namespace; ' +
      'kernel.domainname and kernel.hostname need a uts namespace',
  },
  'sysctl-hostname': { severity: 'error', summary: 'set the hostname with the hostname field, not sysctl kernel.hostname' },
  'sysctl-not-namespaced': {
    severity: 'error',
    summary: 'only namespaced sysctls may be set: others would change the host',
  },
  'unknown-capability': { severity: 'error', summary: 'capability names must be CAP_CHOWN (0) .. CAP_CHECKPOINT_RESTORE (40)' },
  'unknown-rlimit': { severity: 'error', summary: 'rlimit types must be one of the 16 Linux RLIMIT_* resources' },
  'duplicate-rlimit': { severity: 'error', summary: 'each rlimit type may appear once' },
  'rlimit-soft-above-hard': { severity: 'error', summary: 'an rlimit soft value cannot exceed its hard value' },
  'console-size-without-terminal': {
    severity: 'warning',
    summary: 'process.consoleSize is ignored unless process.terminal is true',
  },
  'device-number-required': {
    severity: 'error',
    summary: 'linux.devices[] entries need major and minor unless type is p',
  },
  'scheduler-nice-range': { severity: 'error', summary: 'process.scheduler.nice must be within -20..19' },
  'scheduler-priority-policy': {
    severity: 'error',
    summary: 'process.scheduler.priority is only for SCHED_FIFO and SCHED_RR',
  },
  'scheduler-deadline-policy': {
    severity: 'error',
    summary: 'process.scheduler runtime/deadline/period are only for SCHED_DEADLINE',
  },
  'io-priority-range': { severity: 'error', summary: 'process.ioPriority.priority must be within 0..7' },
  'weight-device-needs-weight': {
    severity: 'error',
    summary: 'blockIO.weightDevice[] entries need weight or leafWeight',
  },
  'rdma-needs-limit': { severity: 'error', summary: 'rdma entries need hcaHandles or hcaObjects' },
  'state-pid-required': { severity: 'error', summary: 'state.pid is required when status is created or running' },
} as const satisfies Record<string, RuleInfo>;

export type SemanticRule = keyof typeof SEMANTIC_RULES;

/** Collects issues; the severity comes from the rule unless the caller overrides it. */
class IssueList {
  readonly issues: SpecIssue[] = [];

  add(pointer: string, rule: SemanticRule, message: string, severity?: IssueSeverity): void {
    this.issues.push({ pointer, rule, message, severity: severity ?? SEMANTIC_RULES[rule].severity });
  }
}

// ---------------------------------------------------------------------------------------------
// Absolute paths

/** Where the spec requires absolute paths, as JSON pointer patterns ('*' = every key/index). */
const ABSOLUTE_PATH_FIELDS: ReadonlyArray<{ pattern: string; severity: IssueSeverity; message: string }> = [
  { pattern: '/process/cwd', severity: 'error', message: 'must be an absolute path' },
  { pattern: '/linux/maskedPaths/*', severity: 'error', message: 'must be an absolute path' },
  { pattern: '/linux/readonlyPaths/*', severity: 'error', message: 'must be an absolute path' },
  { pattern: '/linux/devices/*/path', severity: 'error', message: 'must be an absolute path' },
  { pattern: '/linux/namespaces/*/path', severity: 'error', message: 'must be an absolute path' },
  { pattern: '/hooks/*/*/path', severity: 'error', message: 'must be an absolute path' },
  {
    pattern: '/mounts/*/destination',
    severity: 'warning',
    message: 'should be an absolute path (relative destinations are deprecated and taken as relative to /)',
  },
];

/**
 * Calls found(value, keys) for every value the pattern selects in the document; `keys` is the path
 * to it (valid during the call only). A plain walk: no pointer is built unless there is an issue
 * (this runs on every create, in the interpreter).
 */
function select(value: unknown, tokens: readonly string[], found: (value: unknown, keys: readonly string[]) => void, at = 0, keys: string[] = []): void {
  if (at === tokens.length) {
    found(value, keys);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  const container = value as Record<string, unknown>;
  const token = tokens[at];
  if (token !== '*') {
    if (!(token in container)) return;
    keys.push(token);
    select(container[token], tokens, found, at + 1, keys);
    keys.pop();
    return;
  }
  for (const key of Object.keys(container)) {
    keys.push(key);
    select(container[key], tokens, found, at + 1, keys);
    keys.pop();
  }
}

function checkAbsolutePaths(document: unknown, fields: typeof ABSOLUTE_PATH_FIELDS, out: IssueList): void {
  for (const field of fields) {
    select(document, field.pattern.split('/').slice(1), (value, keys) => {
      if (typeof value === 'string' && !value.startsWith('/')) {
        out.add(joinPointer('', ...keys), 'absolute-path', `${field.message}; got ${JSON.stringify(value)}`, field.severity);
      }
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Process (config.json's process, and exec's process.json)

const SCHEDULER_PRIORITY_POLICIES = new Set(['SCHED_FIFO', 'SCHED_RR']);

function checkProcess(process: Process, base: string, out: IssueList): void {
  if (process.args === undefined || process.args.length === 0) {
    out.add(joinPointer(base, 'args'), 'args-required', 'must list the program to run (at least one entry)');
  }
  if (process.user === undefined) out.add(joinPointer(base, 'user'), 'user-required', 'is required on Linux (uid and gid of the process)');

  if (process.consoleSize !== undefined && process.terminal !== true) {
    out.add(
      joinPointer(base, 'consoleSize'),
      'console-size-without-terminal',
      'is ignored because process.terminal is not true',
    );
  }

  for (const set of CAPABILITY_SETS) {
    for (const [i, name] of (process.capabilities?.[set] ?? []).entries()) {
      if (capabilityNumber(name) === undefined) {
        out.add(joinPointer(base, 'capabilities', set, i), 'unknown-capability', `unknown capability ${JSON.stringify(name)}`);
      }
    }
  }

  const firstIndexOfType = new Map<string, number>();
  for (const [i, rlimit] of (process.rlimits ?? []).entries()) {
    const pointer = joinPointer(base, 'rlimits', i);
    if (!(RLIMIT_TYPES as readonly string[]).includes(rlimit.type)) {
      out.add(joinPointer(pointer, 'type'), 'unknown-rlimit', `unknown rlimit type ${JSON.stringify(rlimit.type)}`);
    }
    const first = firstIndexOfType.get(rlimit.type);
    if (first !== undefined) {
      out.add(joinPointer(pointer, 'type'), 'duplicate-rlimit', `${rlimit.type} is already set by rlimits/${first}`);
    } else {
      firstIndexOfType.set(rlimit.type, i);
    }
    if (rlimit.soft > rlimit.hard) {
      out.add(joinPointer(pointer, 'soft'), 'rlimit-soft-above-hard', `soft limit ${rlimit.soft} exceeds hard limit ${rlimit.hard}`);
    }
  }

  const scheduler = process.scheduler;
  if (scheduler !== undefined) {
    const at = (field: string) => joinPointer(base, 'scheduler', field);
    if (scheduler.nice !== undefined && (scheduler.nice < -20 || scheduler.nice > 19)) {
      out.add(at('nice'), 'scheduler-nice-range', `must be within -20..19; got ${scheduler.nice}`);
    }
    if ((scheduler.priority ?? 0) !== 0 && !SCHEDULER_PRIORITY_POLICIES.has(scheduler.policy)) {
      out.add(at('priority'), 'scheduler-priority-policy', `is only valid with SCHED_FIFO or SCHED_RR, not ${scheduler.policy}`);
    }
    if (scheduler.policy !== 'SCHED_DEADLINE') {
      for (const field of ['runtime', 'deadline', 'period'] as const) {
        if ((scheduler[field] ?? 0) !== 0) {
          out.add(at(field), 'scheduler-deadline-policy', `is only valid with SCHED_DEADLINE, not ${scheduler.policy}`);
        }
      }
    }
  }

  const ioPriority = process.ioPriority?.priority;
  if (ioPriority !== undefined && (ioPriority < 0 || ioPriority > 7)) {
    out.add(joinPointer(base, 'ioPriority', 'priority'), 'io-priority-range', `must be within 0..7; got ${ioPriority}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Namespaces, and what depends on them

interface NamespaceInfo {
  index: number;
  path: string | undefined;
}

function namespacesByType(linux: Linux | undefined, out: IssueList): Map<NamespaceType, NamespaceInfo> {
  const byType = new Map<NamespaceType, NamespaceInfo>();
  for (const [index, ns] of (linux?.namespaces ?? []).entries()) {
    const earlier = byType.get(ns.type);
    if (earlier !== undefined) {
      out.add(
        joinPointer('/linux/namespaces', index, 'type'),
        'duplicate-namespace',
        `${ns.type} namespace is already listed at /linux/namespaces/${earlier.index}`,
      );
      continue;
    }
    byType.set(ns.type, { index, path: ns.path });
  }
  return byType;
}

/**
 * Sysctls and the namespace that makes each one private to the container (runc's list,
 * libcontainer/configs/validate). Anything not listed is not namespaced and is refused.
 */
const SYSCTL_NAMESPACES: ReadonlyArray<{ matches: (key: string) => boolean; namespace: NamespaceType }> = [
  { matches: (key) => key.startsWith('net.'), namespace: 'network' },
  { matches: (key) => /^kernel\.(shm|msg|sem)/.test(key), namespace: 'ipc' },
  { matches: (key) => key.startsWith('fs.mqueue.'), namespace: 'ipc' },
  { matches: (key) => key === 'kernel.domainname' || key === 'kernel.hostname', namespace: 'uts' },
];

/**
 * sysctl(8) accepts '/' as the separator too (net/ipv4/ip_forward); then '.' may appear inside a
 * component (an interface called eno2.100). Returns the dotted form (as runc does) for matching.
 */
export function normalizeSysctlKey(key: string): string {
  const firstSeparator = key.search(/[./]/);
  if (firstSeparator < 0 || key[firstSeparator] === '.') return key;
  return key.replace(/[./]/g, (c) => (c === '.' ? '/' : '.'));
}

function checkSysctls(linux: Linux, namespaces: Map<NamespaceType, NamespaceInfo>, out: IssueList): void {
  for (const rawKey of Object.keys(linux.sysctl ?? {})) {
    const key = normalizeSysctlKey(rawKey);
    const pointer = joinPointer('/linux/sysctl', rawKey);
    const rule = SYSCTL_NAMESPACES.find((r) => r.matches(key));
    if (rule === undefined) {
      out.add(pointer, 'sysctl-not-namespaced', `sysctl ${key} is not namespaced: setting it would change the host`);
    } else if (!namespaces.has(rule.namespace)) {
      // A namespace joined by path counts (as in runc): it may be another container's.
      out.add(pointer, 'sysctl-namespace-required', `sysctl ${key} needs a ${rule.namespace} namespace`);
    } else if (key === 'kernel.hostname') {
      out.add(pointer, 'sysctl-hostname', 'conflicts with the hostname field: set the hostname there');
    }
  }
}

function checkNamespaces(spec: Spec, out: IssueList): void {
  const linux = spec.linux;
  const namespaces = namespacesByType(linux, out);

  const user = namespaces.get('user');
  const hasUidMappings = (linux?.uidMappings?.length ?? 0) > 0;
  const hasGidMappings = (linux?.gidMappings?.length ?? 0) > 0;
  if (user === undefined) {
    for (const field of ['uidMappings', 'gidMappings'] as const) {
      if ((linux?.[field]?.length ?? 0) > 0) {
        out.add(joinPointer('/linux', field), 'user-namespace-required', 'ID mappings need a user namespace in linux.namespaces');
      }
    }
  } else if (user.path === undefined && !(hasUidMappings && hasGidMappings)) {
    const missing = [hasUidMappings ? '' : 'linux.uidMappings', hasGidMappings ? '' : 'linux.gidMappings'].filter(Boolean);
    out.add(
      joinPointer('/linux/namespaces', user.index),
      'user-mappings-required',
      `a new user namespace needs ${missing.join(' and ')}`,
    );
  }
  // A user namespace joined by path may come with mappings (they must then match the namespace's,
  // which only the runtime can check) or without (they are read from the namespace).

  if (linux?.timeOffsets !== undefined) {
    const time = namespaces.get('time');
    if (time === undefined) {
      out.add('/linux/timeOffsets', 'time-namespace-required', 'time offsets need a time namespace in linux.namespaces');
    } else if (time.path !== undefined) {
      out.add(
        '/linux/timeOffsets',
        'time-offsets-joined-namespace',
        `cannot be applied to the time namespace joined at ${time.path}`,
      );
    }
  }

  for (const field of ['hostname', 'domainname'] as const) {
    const value = spec[field];
    if (typeof value === 'string' && value !== '' && !namespaces.has('uts')) {
      out.add(`/${field}`, 'uts-namespace-required', `setting the ${field} needs a uts namespace in linux.namespaces`);
    }
  }

  if (!namespaces.has('mount')) {
    for (const field of ['maskedPaths', 'readonlyPaths'] as const) {
      if ((linux?.[field]?.length ?? 0) > 0) {
        out.add(joinPointer('/linux', field), 'mount-namespace-required', 'needs a mount namespace in linux.namespaces');
      }
    }
    if (linux?.rootfsPropagation !== undefined) {
      out.add(
        '/linux/rootfsPropagation',
        'mount-namespace-required',
        'needs a mount namespace (it would change the propagation of the host\'s mounts)',
      );
    }
  }

  if (linux !== undefined) checkSysctls(linux, namespaces, out);
}

// ---------------------------------------------------------------------------------------------
// Devices and resources

function checkDevices(linux: Linux | undefined, out: IssueList): void {
  for (const [i, device] of (linux?.devices ?? []).entries()) {
    if (device.type === 'p') continue;
    for (const field of ['major', 'minor'] as const) {
      if (device[field] === undefined) {
        out.add(joinPointer('/linux/devices', i, field), 'device-number-required', `is required for a device of type ${device.type}`);
      }
    }
  }
}

interface CheckedBlockIO {
  weightDevice?: Array<{ weight?: number; leafWeight?: number }>;
}

function checkResources(resources: LinuxResources | undefined, base: string, out: IssueList): void {
  if (resources === undefined) return;
  const blockIO = resources.blockIO as CheckedBlockIO | undefined;
  for (const [i, entry] of (blockIO?.weightDevice ?? []).entries()) {
    if (entry.weight === undefined && entry.leafWeight === undefined) {
      out.add(joinPointer(base, 'blockIO', 'weightDevice', i), 'weight-device-needs-weight', 'needs weight or leafWeight');
    }
  }
  const rdma = (resources.rdma ?? {}) as Record<string, { hcaHandles?: number; hcaObjects?: number }>;
  for (const [device, limits] of Object.entries(rdma)) {
    if (limits.hcaHandles === undefined && limits.hcaObjects === undefined) {
      out.add(joinPointer(base, 'rdma', device), 'rdma-needs-limit', 'needs hcaHandles or hcaObjects');
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Entry points (each takes a document that passed its schema)

export interface ConfigCheckOptions {
  /**
   * Checking for create/run: root is then required. process stays optional, as the spec says: a
   * container without one can be created, and `start` then fails (runtime.md "start").
   */
  forCreate?: boolean;
}

export function checkConfig(spec: Spec, options: ConfigCheckOptions = {}): SpecIssue[] {
  const out = new IssueList();
  if (options.forCreate) {
    if (spec.root === undefined) out.add('/root', 'root-required', 'is required to create a container');
  }
  checkAbsolutePaths(spec, ABSOLUTE_PATH_FIELDS, out);
  if (spec.process !== undefined) checkProcess(spec.process, '/process', out);
  checkNamespaces(spec, out);
  checkDevices(spec.linux, out);
  checkResources(spec.linux?.resources, '/linux/resources', out);
  return out.issues;
}

export function checkProcessDocument(process: Process): SpecIssue[] {
  const out = new IssueList();
  checkAbsolutePaths(process, [{ pattern: '/cwd', severity: 'error', message: 'must be an absolute path' }], out);
  checkProcess(process, '', out);
  return out.issues;
}

export function checkResourcesDocument(resources: LinuxResources): SpecIssue[] {
  const out = new IssueList();
  checkResources(resources, '', out);
  return out.issues;
}

export function checkStateDocument(state: State): SpecIssue[] {
  const out = new IssueList();
  if ((state.status === 'created' || state.status === 'running') && state.pid === undefined) {
    out.add('/pid', 'state-pid-required', `is required when status is ${state.status}`);
  }
  return out.issues;
}
