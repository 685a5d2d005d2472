// Every semantic rule of src/spec/semantic.ts, with a document that passes it and one that breaks
// it (checking the pointer, the rule and the severity), plus how schema errors are reported.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultSpec } from '../../src/spec/defaults';
import { escapePointerToken } from '../../src/spec/issues';
import { issuesFromSchemaErrors } from '../../src/spec/schema-errors';
import { normalizeSysctlKey } from '../../src/spec/semantic';
import type { Spec } from '../../src/spec/types';
import {
  SEMANTIC_RULES,
  formatIssues,
  hasErrors,
  parseDocument,
  validateConfig,
  validateFeatures,
  validateProcess,
  validateResources,
  validateState,
  type IssueSeverity,
  type SemanticRule,
  type SpecIssue,
} from '../../src/spec/validate';

// --- Fixtures ------------------------------------------------------------------------------

/** runc's default config: valid, with pid, network, ipc, uts and mount namespaces. */
function base(): Spec {
  return defaultSpec();
}

/** runc's rootless config: user namespace with mappings, no network namespace. */
function rootless(): Spec {
  return defaultSpec({ rootless: true, hostUid: 1000, hostGid: 1000 });
}

function withoutNamespace(spec: Spec, type: string): Spec {
  spec.linux!.namespaces = spec.linux!.namespaces!.filter((ns) => ns.type !== type);
  return spec;
}

type Kind = 'config' | 'create' | 'process' | 'resources' | 'state';

/** Validation with warnings included (the rules' own severities are under test). */
function validate(kind: Kind, document: unknown): SpecIssue[] {
  const includeWarnings = true;
  switch (kind) {
    case 'config':
      return validateConfig(document, { includeWarnings });
    case 'create':
      return validateConfig(document, { forCreate: true, includeWarnings });
    case 'process':
      return validateProcess(document, { includeWarnings });
    case 'resources':
      return validateResources(document, { includeWarnings });
    case 'state':
      return validateState(document, { includeWarnings });
  }
}

interface Broken {
  what: string;
  document: unknown;
  pointer: string;
  severity?: IssueSeverity;
}

interface RuleCase {
  rule: SemanticRule;
  kind: Kind;
  /** Documents that obey the rule (and every other one): they must give no issue at all. */
  valid: Array<{ what: string; document: unknown }>;
  /** Documents that break only this rule. */
  invalid: Broken[];
}

function mutate(start: Spec, change: (spec: Spec) => void): Spec {
  change(start);
  return start;
}

const CASES: RuleCase[] = [
  {
    rule: 'root-required',
    kind: 'create',
    valid: [{ what: 'default spec', document: base() }],
    invalid: [{ what: 'no root', document: mutate(base(), (s) => delete s.root), pointer: '/root' }],
  },
  {
    rule: 'args-required',
    kind: 'config',
    valid: [{ what: 'args [sh]', document: base() }],
    invalid: [
      { what: 'empty args', document: mutate(base(), (s) => (s.process!.args = [])), pointer: '/process/args' },
      { what: 'no args', document: mutate(base(), (s) => delete s.process!.args), pointer: '/process/args' },
    ],
  },
  {
    rule: 'user-required',
    kind: 'config',
    valid: [{ what: 'user 0:0', document: base() }],
    invalid: [{ what: 'no user (found by the fuzzer: it crashed the planner)', document: mutate(base(), (s) => delete (s.process as { user?: unknown }).user), pointer: '/process/user' }],
  },
  {
    rule: 'absolute-path',
    kind: 'config',
    valid: [
      {
        what: 'absolute paths everywhere',
        document: mutate(base(), (s) => {
          s.process!.cwd = '/home';
          s.hooks = { prestart: [{ path: '/bin/true' }] };
          s.linux!.devices = [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229 }];
          s.linux!.namespaces![1] = { type: 'network', path: '/run/netns/n1' };
        }),
      },
    ],
    invalid: [
      { what: 'relative cwd', document: mutate(base(), (s) => (s.process!.cwd = 'home')), pointer: '/process/cwd' },
      {
        what: 'relative masked path',
        document: mutate(base(), (s) => (s.linux!.maskedPaths![2] = 'proc/kcore')),
        pointer: '/linux/maskedPaths/2',
      },
      {
        what: 'relative readonly path',
        document: mutate(base(), (s) => (s.linux!.readonlyPaths![0] = 'proc/bus')),
        pointer: '/linux/readonlyPaths/0',
      },
      {
        what: 'relative device path',
        document: mutate(base(), (s) => (s.linux!.devices = [{ path: 'dev/fuse', type: 'c', major: 10, minor: 229 }])),
        pointer: '/linux/devices/0/path',
      },
      {
        what: 'relative namespace path',
        document: mutate(base(), (s) => (s.linux!.namespaces![1] = { type: 'network', path: 'run/netns/n1' })),
        pointer: '/linux/namespaces/1/path',
      },
      {
        what: 'relative hook path',
        document: mutate(base(), (s) => (s.hooks = { poststop: [{ path: '/bin/true' }, { path: 'true' }] })),
        pointer: '/hooks/poststop/1/path',
      },
      {
        what: 'relative mount destination (deprecated: a warning only)',
        document: mutate(base(), (s) => (s.mounts![3]!.destination = 'dev/shm')),
        pointer: '/mounts/3/destination',
        severity: 'warning',
      },
    ],
  },
  {
    rule: 'duplicate-namespace',
    kind: 'config',
    valid: [{ what: 'each type once', document: base() }],
    invalid: [
      {
        what: 'pid twice',
        document: mutate(base(), (s) => s.linux!.namespaces!.push({ type: 'pid', path: '/proc/1/ns/pid' })),
        pointer: '/linux/namespaces/5/type',
      },
    ],
  },
  {
    rule: 'user-namespace-required',
    kind: 'config',
    valid: [{ what: 'mappings with a user namespace', document: rootless() }],
    invalid: [
      {
        what: 'uidMappings without a user namespace',
        document: mutate(base(), (s) => (s.linux!.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }])),
        pointer: '/linux/uidMappings',
      },
      {
        what: 'gidMappings without a user namespace',
        document: withoutNamespace(rootless(), 'user'),
        pointer: '/linux/gidMappings',
      },
    ],
  },
  {
    rule: 'user-mappings-required',
    kind: 'config',
    valid: [
      { what: 'new user namespace with mappings', document: rootless() },
      {
        what: 'user namespace joined by path, no mappings',
        document: mutate(base(), (s) => s.linux!.namespaces!.push({ type: 'user', path: '/proc/1/ns/user' })),
      },
    ],
    invalid: [
      {
        what: 'new user namespace, no mappings',
        document: mutate(base(), (s) => s.linux!.namespaces!.push({ type: 'user' })),
        pointer: '/linux/namespaces/5',
      },
      {
        what: 'new user namespace, uid mappings only',
        document: mutate(rootless(), (s) => delete s.linux!.gidMappings),
        pointer: '/linux/namespaces/4',
      },
    ],
  },
  {
    rule: 'time-namespace-required',
    kind: 'config',
    valid: [
      {
        what: 'offsets with a new time namespace',
        document: mutate(base(), (s) => {
          s.linux!.namespaces!.push({ type: 'time' });
          s.linux!.timeOffsets = { monotonic: { secs: 10 } };
        }),
      },
    ],
    invalid: [
      {
        what: 'offsets without a time namespace',
        document: mutate(base(), (s) => (s.linux!.timeOffsets = { boottime: { secs: 10 } })),
        pointer: '/linux/timeOffsets',
      },
    ],
  },
  {
    rule: 'time-offsets-joined-namespace',
    kind: 'config',
    valid: [
      {
        what: 'time namespace joined by path, no offsets',
        document: mutate(base(), (s) => s.linux!.namespaces!.push({ type: 'time', path: '/proc/1/ns/time' })),
      },
    ],
    invalid: [
      {
        what: 'offsets for a joined time namespace',
        document: mutate(base(), (s) => {
          s.linux!.namespaces!.push({ type: 'time', path: '/proc/1/ns/time' });
          s.linux!.timeOffsets = { monotonic: { secs: 10 } };
        }),
        pointer: '/linux/timeOffsets',
      },
    ],
  },
  {
    rule: 'uts-namespace-required',
    kind: 'config',
    valid: [
      { what: 'hostname with a uts namespace', document: base() },
      { what: 'no uts namespace, no hostname', document: mutate(withoutNamespace(base(), 'uts'), (s) => delete s.hostname) },
      { what: 'no uts namespace, empty hostname', document: mutate(withoutNamespace(base(), 'uts'), (s) => (s.hostname = '')) },
    ],
    invalid: [
      { what: 'hostname without a uts namespace', document: withoutNamespace(base(), 'uts'), pointer: '/hostname' },
      {
        what: 'domainname without a uts namespace',
        document: mutate(withoutNamespace(base(), 'uts'), (s) => {
          delete s.hostname;
          s.domainname = 'example.org';
        }),
        pointer: '/domainname',
      },
    ],
  },
  {
    rule: 'mount-namespace-required',
    kind: 'config',
    valid: [
      { what: 'masked paths with a mount namespace', document: base() },
      {
        what: 'no mount namespace, no masked/readonly paths',
        document: mutate(withoutNamespace(base(), 'mount'), (s) => {
          delete s.linux!.maskedPaths;
          delete s.linux!.readonlyPaths;
        }),
      },
    ],
    invalid: [
      {
        what: 'masked paths without a mount namespace',
        document: mutate(withoutNamespace(base(), 'mount'), (s) => delete s.linux!.readonlyPaths),
        pointer: '/linux/maskedPaths',
      },
      {
        what: 'readonly paths without a mount namespace',
        document: mutate(withoutNamespace(base(), 'mount'), (s) => delete s.linux!.maskedPaths),
        pointer: '/linux/readonlyPaths',
      },
      {
        what: 'rootfsPropagation without a mount namespace',
        document: mutate(withoutNamespace(base(), 'mount'), (s) => {
          delete s.linux!.maskedPaths;
          delete s.linux!.readonlyPaths;
          s.linux!.rootfsPropagation = 'slave';
        }),
        pointer: '/linux/rootfsPropagation',
      },
    ],
  },
  {
    rule: 'sysctl-namespace-required',
    kind: 'config',
    valid: [
      {
        what: 'namespaced sysctls with their namespaces',
        document: mutate(base(), (s) => {
          s.linux!.sysctl = {
            'net.ipv4.ip_forward': '1',
            'net/ipv4/conf/eno2.100/rp_filter': '1',
            'kernel.shmmax': '1',
            'kernel.msgmnb': '1',
            'kernel.sem': '1 2 3 4',
            'kernel.shm_rmid_forced': '1',
            'fs.mqueue.msg_max': '10',
            'kernel.domainname': 'example.org',
          };
        }),
      },
      {
        what: 'net sysctl with a network namespace joined by path',
        document: mutate(base(), (s) => {
          s.linux!.namespaces![1] = { type: 'network', path: '/run/netns/n1' };
          s.linux!.sysctl = { 'net.core.somaxconn': '256' };
        }),
      },
    ],
    invalid: [
      {
        what: 'net sysctl without a network namespace',
        document: mutate(rootless(), (s) => (s.linux!.sysctl = { 'net.ipv4.ip_forward': '1' })),
        pointer: '/linux/sysctl/net.ipv4.ip_forward',
      },
      {
        what: 'net sysctl with / separators without a network namespace',
        document: mutate(rootless(), (s) => (s.linux!.sysctl = { 'net/ipv4/ip_forward': '1' })),
        pointer: '/linux/sysctl/net~1ipv4~1ip_forward',
      },
      {
        what: 'ipc sysctl without an ipc namespace',
        document: mutate(withoutNamespace(base(), 'ipc'), (s) => (s.linux!.sysctl = { 'kernel.shmmax': '1' })),
        pointer: '/linux/sysctl/kernel.shmmax',
      },
      {
        what: 'mqueue sysctl without an ipc namespace',
        document: mutate(withoutNamespace(base(), 'ipc'), (s) => (s.linux!.sysctl = { 'fs.mqueue.msg_max': '10' })),
        pointer: '/linux/sysctl/fs.mqueue.msg_max',
      },
      {
        what: 'kernel.domainname without a uts namespace',
        document: mutate(withoutNamespace(base(), 'uts'), (s) => {
          delete s.hostname;
          s.linux!.sysctl = { 'kernel.domainname': 'example.org' };
        }),
        pointer: '/linux/sysctl/kernel.domainname',
      },
    ],
  },
  {
    rule: 'sysctl-hostname',
    kind: 'config',
    valid: [{ what: 'hostname field', document: base() }],
    invalid: [
      {
        what: 'kernel.hostname sysctl',
        document: mutate(base(), (s) => (s.linux!.sysctl = { 'kernel.hostname': 'other' })),
        pointer: '/linux/sysctl/kernel.hostname',
      },
    ],
  },
  {
    rule: 'sysctl-not-namespaced',
    kind: 'config',
    valid: [{ what: 'namespaced sysctl', document: mutate(base(), (s) => (s.linux!.sysctl = { 'net.core.somaxconn': '256' })) }],
    invalid: [
      {
        what: 'vm.swappiness',
        document: mutate(base(), (s) => (s.linux!.sysctl = { 'vm.swappiness': '10' })),
        pointer: '/linux/sysctl/vm.swappiness',
      },
      {
        what: 'kernel.pid_max',
        document: mutate(base(), (s) => (s.linux!.sysctl = { 'kernel.pid_max': '10' })),
        pointer: '/linux/sysctl/kernel.pid_max',
      },
    ],
  },
  {
    rule: 'unknown-capability',
    kind: 'config',
    valid: [
      {
        what: 'CAP_CHOWN and CAP_CHECKPOINT_RESTORE (0 and 40)',
        document: mutate(base(), (s) => s.process!.capabilities!.bounding!.push('CAP_CHOWN', 'CAP_CHECKPOINT_RESTORE')),
      },
    ],
    invalid: [
      {
        what: 'CAP_FOO in bounding',
        document: mutate(base(), (s) => s.process!.capabilities!.bounding!.push('CAP_FOO')),
        pointer: '/process/capabilities/bounding/3',
      },
      {
        what: 'lower-case name in ambient',
        document: mutate(base(), (s) => (s.process!.capabilities!.ambient = ['cap_kill'])),
        pointer: '/process/capabilities/ambient/0',
      },
      {
        what: 'capability 41 in inheritable',
        document: mutate(base(), (s) => (s.process!.capabilities!.inheritable = ['CAP_41'])),
        pointer: '/process/capabilities/inheritable/0',
      },
    ],
  },
  {
    rule: 'unknown-rlimit',
    kind: 'config',
    valid: [{ what: 'RLIMIT_NOFILE', document: base() }],
    invalid: [
      {
        what: 'RLIMIT_FOO',
        document: mutate(base(), (s) => s.process!.rlimits!.push({ type: 'RLIMIT_FOO', soft: 1, hard: 1 })),
        pointer: '/process/rlimits/1/type',
      },
    ],
  },
  {
    rule: 'duplicate-rlimit',
    kind: 'config',
    valid: [
      {
        what: 'two different rlimits',
        document: mutate(base(), (s) => s.process!.rlimits!.push({ type: 'RLIMIT_CORE', soft: 0, hard: 0 })),
      },
    ],
    invalid: [
      {
        what: 'RLIMIT_NOFILE twice',
        document: mutate(base(), (s) => s.process!.rlimits!.push({ type: 'RLIMIT_NOFILE', soft: 10, hard: 10 })),
        pointer: '/process/rlimits/1/type',
      },
    ],
  },
  {
    rule: 'rlimit-soft-above-hard',
    kind: 'config',
    valid: [{ what: 'soft = hard', document: base() }],
    invalid: [
      {
        what: 'soft 2048 > hard 1024',
        document: mutate(base(), (s) => (s.process!.rlimits![0]!.soft = 2048)),
        pointer: '/process/rlimits/0/soft',
      },
    ],
  },
  {
    rule: 'console-size-without-terminal',
    kind: 'config',
    valid: [
      { what: 'console size with a terminal', document: mutate(base(), (s) => (s.process!.consoleSize = { height: 25, width: 80 })) },
    ],
    invalid: [
      {
        what: 'console size without a terminal',
        document: mutate(base(), (s) => {
          s.process!.terminal = false;
          s.process!.consoleSize = { height: 25, width: 80 };
        }),
        pointer: '/process/consoleSize',
        severity: 'warning',
      },
    ],
  },
  {
    rule: 'device-number-required',
    kind: 'config',
    valid: [
      { what: 'a fifo without numbers', document: mutate(base(), (s) => (s.linux!.devices = [{ path: '/dev/fifo', type: 'p' }])) },
    ],
    invalid: [
      {
        what: 'a char device without major',
        document: mutate(base(), (s) => (s.linux!.devices = [{ path: '/dev/fuse', type: 'c', minor: 229 }])),
        pointer: '/linux/devices/0/major',
      },
    ],
  },
  {
    rule: 'scheduler-nice-range',
    kind: 'config',
    valid: [{ what: 'nice 19', document: mutate(base(), (s) => (s.process!.scheduler = { policy: 'SCHED_OTHER', nice: 19 })) }],
    invalid: [
      {
        what: 'nice 20',
        document: mutate(base(), (s) => (s.process!.scheduler = { policy: 'SCHED_OTHER', nice: 20 })),
        pointer: '/process/scheduler/nice',
      },
    ],
  },
  {
    rule: 'scheduler-priority-policy',
    kind: 'config',
    valid: [{ what: 'SCHED_RR priority', document: mutate(base(), (s) => (s.process!.scheduler = { policy: 'SCHED_RR', priority: 5 })) }],
    invalid: [
      {
        what: 'SCHED_BATCH priority',
        document: mutate(base(), (s) => (s.process!.scheduler = { policy: 'SCHED_BATCH', priority: 5 })),
        pointer: '/process/scheduler/priority',
      },
    ],
  },
  {
    rule: 'scheduler-deadline-policy',
    kind: 'config',
    valid: [
      {
        what: 'SCHED_DEADLINE runtime',
        document: mutate(base(), (s) => (s.process!.scheduler = { policy: 'SCHED_DEADLINE', runtime: 1000, deadline: 2000, period: 3000 })),
      },
    ],
    invalid: [
      {
        what: 'SCHED_OTHER deadline',
        document: mutate(base(), (s) => (s.process!.scheduler = { policy: 'SCHED_OTHER', deadline: 2000 })),
        pointer: '/process/scheduler/deadline',
      },
    ],
  },
  {
    rule: 'io-priority-range',
    kind: 'config',
    valid: [{ what: 'priority 7', document: mutate(base(), (s) => (s.process!.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 7 })) }],
    invalid: [
      {
        what: 'priority 8',
        document: mutate(base(), (s) => (s.process!.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 8 })),
        pointer: '/process/ioPriority/priority',
      },
    ],
  },
  {
    rule: 'weight-device-needs-weight',
    kind: 'resources',
    valid: [{ what: 'entry with leafWeight', document: { blockIO: { weightDevice: [{ major: 8, minor: 0, leafWeight: 10 }] } } }],
    invalid: [
      {
        what: 'entry with neither weight',
        document: { blockIO: { weightDevice: [{ major: 8, minor: 0, weight: 10 }, { major: 8, minor: 16 }] } },
        pointer: '/blockIO/weightDevice/1',
      },
    ],
  },
  {
    rule: 'rdma-needs-limit',
    kind: 'config',
    valid: [
      { what: 'entry with hcaObjects', document: mutate(base(), (s) => (s.linux!.resources!.rdma = { mlx5_1: { hcaObjects: 10 } })) },
    ],
    invalid: [
      {
        what: 'entry with no limit',
        document: mutate(base(), (s) => (s.linux!.resources!.rdma = { 'mlx5/1': {} })),
        pointer: '/linux/resources/rdma/mlx5~11',
      },
    ],
  },
  {
    rule: 'state-pid-required',
    kind: 'state',
    valid: [
      { what: 'running with a pid', document: { ociVersion: '1.3.0', id: 'c', status: 'running', pid: 42, bundle: '/b' } },
      { what: 'stopped without a pid', document: { ociVersion: '1.3.0', id: 'c', status: 'stopped', bundle: '/b' } },
    ],
    invalid: [
      {
        what: 'created without a pid',
        document: { ociVersion: '1.3.0', id: 'c', status: 'created', bundle: '/b' },
        pointer: '/pid',
      },
    ],
  },
];

test('every semantic rule has cases, and every case names a known rule', () => {
  const covered = new Set(CASES.map((c) => c.rule));
  const missing = Object.keys(SEMANTIC_RULES).filter((rule) => !covered.has(rule as SemanticRule));
  assert.deepEqual(missing, [], 'rules without a test case');
  for (const c of CASES) {
    assert.ok(c.valid.length > 0 && c.invalid.length > 0, `${c.rule}: needs a valid and an invalid case`);
  }
});

for (const c of CASES) {
  for (const ok of c.valid) {
    test(`${c.rule}: accepts ${ok.what}`, () => {
      assert.deepEqual(validate(c.kind, ok.document), []);
    });
  }
  for (const bad of c.invalid) {
    test(`${c.rule}: rejects ${bad.what} at ${bad.pointer}`, () => {
      const issues = validate(c.kind, bad.document);
      const expected = bad.severity ?? SEMANTIC_RULES[c.rule].severity;
      assert.ok(
        issues.some((i) => i.rule === c.rule && i.pointer === bad.pointer && i.severity === expected),
        `expected ${c.rule} (${expected}) at ${bad.pointer}, got ${JSON.stringify(issues)}`,
      );
      assert.deepEqual(
        issues.filter((i) => i.rule !== c.rule),
        [],
        'the document should break only this rule',
      );
    });
  }
}

test('warnings are returned only on request; hasErrors ignores them', () => {
  const spec = mutate(base(), (s) => {
    s.mounts![0]!.destination = 'proc';
    s.process!.terminal = false;
    s.process!.consoleSize = { height: 1, width: 1 };
  });
  assert.deepEqual(validateConfig(spec, { forCreate: true }), []);
  const all = validateConfig(spec, { forCreate: true, includeWarnings: true });
  assert.deepEqual(all.map((i) => `${i.severity} ${i.rule}`), ['warning absolute-path', 'warning console-size-without-terminal']);
  assert.equal(hasErrors(all), false);
  assert.equal(hasErrors([...all, { pointer: '/x', rule: 'y', message: 'z' }]), true, 'no severity means error');
});

// --- The same rules on exec's process.json -------------------------------------------------

test('validateProcess: pointers are relative to the process document', () => {
  const process = base().process!;
  assert.deepEqual(validateProcess(process), []);
  const issues = validateProcess({ ...process, cwd: 'tmp', args: [], capabilities: { bounding: ['CAP_NOPE'] } });
  assert.deepEqual(
    issues.map((i) => `${i.pointer} ${i.rule}`),
    ['/cwd absolute-path', '/args args-required', '/capabilities/bounding/0 unknown-capability'],
  );
});

test('validateConfig without forCreate: process and root may be absent (spec-valid); create needs root only', () => {
  assert.deepEqual(validateConfig({ ociVersion: '1.3.0' }), []);
  assert.deepEqual(
    validateConfig({ ociVersion: '1.3.0' }, { forCreate: true }).map((i) => i.rule),
    ['root-required'],
  );
});

test('normalizeSysctlKey converts / separated keys as runc does', () => {
  assert.equal(normalizeSysctlKey('net.ipv4.ip_forward'), 'net.ipv4.ip_forward');
  assert.equal(normalizeSysctlKey('net/ipv4/ip_forward'), 'net.ipv4.ip_forward');
  assert.equal(normalizeSysctlKey('net/ipv4/conf/eno2.100/rp_filter'), 'net.ipv4.conf.eno2/100.rp_filter');
  assert.equal(normalizeSysctlKey('net.ipv4.conf.eno2/100.rp_filter'), 'net.ipv4.conf.eno2/100.rp_filter');
  assert.equal(normalizeSysctlKey(''), '');
});

// --- Schema errors ---------------------------------------------------------------------------

function only(issues: SpecIssue[]): SpecIssue {
  assert.equal(issues.length, 1, `expected one issue, got ${JSON.stringify(issues)}`);
  return issues[0]!;
}

test('schema errors: type, named by pointer, with the value found', () => {
  assert.deepEqual(only(validateConfig({ ociVersion: 1 })), {
    pointer: '/ociVersion',
    rule: 'type',
    message: 'must be a string; got 1',
    severity: 'error',
  });
  const issue = only(validateConfig({ ociVersion: '1.3.0', process: { cwd: '/', terminal: 'yes', args: ['sh'] } }));
  assert.equal(issue.pointer, '/process/terminal');
  assert.equal(issue.message, 'must be a boolean; got "yes"');
});

test('schema errors: required points at the missing field', () => {
  const issue = only(validateConfig({ ociVersion: '1.3.0', root: {} }));
  assert.equal(issue.pointer, '/root/path');
  assert.equal(issue.rule, 'required');
  assert.equal(issue.message, 'is required');
  assert.equal(only(validateConfig({})).pointer, '/ociVersion');
});

test('schema errors: enum lists the allowed values', () => {
  const issue = only(validateConfig({ ociVersion: '1.3.0', linux: { namespaces: [{ type: 'pid' }, { type: 'net' }] } }));
  assert.equal(issue.pointer, '/linux/namespaces/1/type');
  assert.equal(issue.rule, 'enum');
  assert.match(issue.message, /^must be one of "mount", "pid", "network", .*; got "net"$/);
  const propagation = only(validateConfig({ ociVersion: '1.3.0', linux: { rootfsPropagation: 'rprivate' } }));
  assert.equal(propagation.pointer, '/linux/rootfsPropagation');
  assert.equal(propagation.rule, 'enum');
});

test('schema errors: pattern, minimum, maximum and minItems', () => {
  const hugepage = only(validateResources({ hugepageLimits: [{ pageSize: '64kB', limit: 1 }] }));
  assert.equal(hugepage.pointer, '/hugepageLimits/0/pageSize');
  assert.equal(hugepage.rule, 'pattern');
  assert.match(hugepage.message, /page size such as 64KB/);

  const uid = only(validateProcess({ cwd: '/', args: ['sh'], user: { uid: -1, gid: 0 } }));
  assert.deepEqual([uid.pointer, uid.rule, uid.message], ['/user/uid', 'minimum', 'must be >= 0; got -1']);

  const gid = only(validateProcess({ cwd: '/', args: ['sh'], user: { uid: 0, gid: 4294967296 } }));
  assert.deepEqual([gid.pointer, gid.rule], ['/user/gid', 'maximum']);

  const names = only(
    validateConfig({ ociVersion: '1.3.0', linux: { seccomp: { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: [], action: 'SCMP_ACT_ERRNO' }] } } }),
  );
  assert.deepEqual([names.pointer, names.rule], ['/linux/seccomp/syscalls/0/names', 'minItems']);
});

test('schema errors: all of them are reported, and semantic checks wait for a valid structure', () => {
  const issues = validateConfig({ ociVersion: 1, process: { cwd: 'relative', args: 'sh' } });
  assert.deepEqual(
    issues.map((i) => `${i.pointer} ${i.rule}`),
    ['/ociVersion type', '/process/args type'],
  );
});

test('anyOf/oneOf: only the errors of the branch that got furthest are kept', () => {
  // As ajv reports them: branch 0 fails at the top (wrong type), branch 1 deep inside.
  const document = { thing: { inner: { count: 'x' } } };
  const issues = issuesFromSchemaErrors(
    [
      { instancePath: '/thing', schemaPath: '#/anyOf/0/type', keyword: 'type', params: { type: 'string' } },
      { instancePath: '/thing/inner/count', schemaPath: '#/anyOf/1/type', keyword: 'type', params: { type: 'integer' } },
      { instancePath: '/thing', schemaPath: '#/anyOf', keyword: 'anyOf', params: {} },
    ],
    document,
  );
  assert.deepEqual(issues, [
    { pointer: '/thing/inner/count', rule: 'type', message: 'must be an integer; got "x"', severity: 'error' },
  ]);
  // An anyOf error with no branch error left (nothing more specific to say) is kept.
  const alone = issuesFromSchemaErrors([{ instancePath: '/a', schemaPath: '#/oneOf', keyword: 'oneOf', params: {} }], { a: 1 });
  assert.deepEqual(alone.map((i) => `${i.pointer} ${i.rule}`), ['/a oneOf']);
});

test('escapePointerToken follows RFC 6901', () => {
  assert.equal(escapePointerToken('a/b~c'), 'a~1b~0c');
});

// --- Output and parsing ----------------------------------------------------------------------

test('formatIssues: one line per issue, file, pointer, message and rule', () => {
  const text = formatIssues(
    [
      { pointer: '/process/cwd', rule: 'absolute-path', message: 'must be an absolute path', severity: 'error' },
      { pointer: '/process/consoleSize', rule: 'console-size-without-terminal', message: 'is ignored', severity: 'warning' },
      { pointer: '', rule: 'json-syntax', message: 'is not valid JSON', severity: 'error' },
    ],
    'config.json',
  );
  assert.equal(
    text,
    [
      'config.json: /process/cwd: must be an absolute path (absolute-path)',
      'config.json: warning: /process/consoleSize: is ignored (console-size-without-terminal)',
      'config.json: (document): is not valid JSON (json-syntax)',
    ].join('\n'),
  );
  assert.equal(formatIssues([], 'config.json'), '');
});

test('parseDocument: JSON syntax errors, errors, warnings', () => {
  const broken = parseDocument('config', '{"ociVersion": ');
  assert.equal(broken.document, undefined);
  assert.deepEqual(broken.issues.map((i) => `${i.pointer}|${i.rule}`), ['|json-syntax']);

  const invalid = parseDocument('config', JSON.stringify({ ociVersion: '1.3.0' }), { forCreate: true });
  assert.equal(invalid.document, undefined);
  assert.ok(hasErrors(invalid.issues));

  const warned = base();
  warned.mounts![0]!.destination = 'proc';
  const withWarning = parseDocument('config', JSON.stringify(warned), { forCreate: true });
  assert.equal(hasErrors(withWarning.issues), false);
  assert.equal(withWarning.issues.length, 1);
  assert.equal(withWarning.document?.mounts?.[0]?.destination, 'proc');

  assert.deepEqual(parseDocument('process', JSON.stringify(base().process)).issues, []);
});

test('validateFeatures and validateState check their documents', () => {
  assert.deepEqual(validateFeatures({ ociVersionMin: '1.0.0', ociVersionMax: '1.3.0' }), []);
  assert.equal(only(validateFeatures({ ociVersionMin: '1.0.0' })).pointer, '/ociVersionMax');
  assert.equal(only(validateFeatures({ ociVersionMin: '1.0.0', ociVersionMax: '1.3.0', linux: { namespaces: ['net'] } })).rule, 'enum');
  assert.equal(only(validateState({ ociVersion: '1.3.0', id: 'c', status: 'running', pid: -1, bundle: '/b' })).rule, 'minimum');
});
