// The features document: valid by both schemas, reproduces runc 1.1.5's from runc's lists, and
// claims nothing that was not passed in.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { featuresDocument, featuresText, type RuntimeImplementation } from '../../src/spec/features';
import {
  CAPABILITIES,
  HOOK_NAMES,
  NAMESPACE_TYPES,
  RLIMIT_TYPES,
  SECCOMP_ACTIONS,
  SECCOMP_ARCHS,
  SECCOMP_FLAGS,
  SECCOMP_OPERATORS,
  capabilityNumber,
} from '../../src/spec/known';
import type { Features } from '../../src/spec/types';
import { validateFeatures } from '../../src/spec/validate';
import { OFFICIAL_SCHEMA_DIR, REPO_ROOT, officialValidators } from '../fixtures/spec/official-schema';

const runcFeatures = JSON.parse(
  readFileSync(path.join(REPO_ROOT, 'test/fixtures/spec/runc-1.1.5/features.json'), 'utf8'),
) as Features;

/** Everything tsrunc could possibly claim: every list full, every flag on. */
const EVERYTHING: RuntimeImplementation = {
  hooks: HOOK_NAMES,
  mountOptions: ['ro', 'rw', 'bind', 'rbind', 'nosuid'],
  annotations: { 'org.tsrunc.version': '0.1.0' },
  potentiallyUnsafeConfigAnnotations: ['org.tsrunc.unsafe'],
  linux: {
    namespaces: NAMESPACE_TYPES,
    capabilities: CAPABILITIES,
    cgroup: { v1: true, v2: true, systemd: false, systemdUser: false, rdma: false },
    seccomp: {
      enabled: true,
      actions: SECCOMP_ACTIONS,
      operators: SECCOMP_OPERATORS,
      archs: SECCOMP_ARCHS,
      knownFlags: SECCOMP_FLAGS,
      supportedFlags: SECCOMP_FLAGS,
    },
    apparmor: false,
    selinux: false,
    intelRdt: false,
    idmapMounts: true,
    netDevices: false,
  },
};

function assertValidByBothSchemas(doc: Features): void {
  assert.deepEqual(validateFeatures(doc), []);
  const official = officialValidators().features;
  assert.equal(official(doc), true, JSON.stringify(official.errors));
}

test('a full features document is valid by our schema and the official one', () => {
  const doc = featuresDocument(EVERYTHING);
  assert.equal(doc.ociVersionMax, '1.3.0');
  assert.equal(doc.ociVersionMin, '1.0.0');
  assertValidByBothSchemas(doc);
});

test('a minimal features document claims nothing', () => {
  const doc = featuresDocument({});
  assert.deepEqual(doc, { ociVersionMin: '1.0.0', ociVersionMax: '1.3.0' });
  assertValidByBothSchemas(doc);
});

test('empty lists mean "none supported" and are kept; omitted ones are left out', () => {
  const doc = featuresDocument({ hooks: [], linux: { namespaces: [], seccomp: { enabled: false } } });
  assert.deepEqual(doc.hooks, []);
  assert.deepEqual(doc.linux, { namespaces: [], seccomp: { enabled: false } });
  assert.equal('mountOptions' in doc, false);
  assertValidByBothSchemas(doc);
});

test('runc 1.1.5 lists in, runc 1.1.5 `features` output out (same order, same bytes)', () => {
  const linux = runcFeatures.linux!;
  const seccomp = linux.seccomp!;
  // Shuffle the inputs: the output order must come from featuresDocument, not from the caller.
  const reversed = <T>(list: readonly T[] | undefined): T[] => [...(list ?? [])].reverse();
  const doc = featuresDocument({
    ociVersionMin: runcFeatures.ociVersionMin,
    ociVersionMax: runcFeatures.ociVersionMax,
    hooks: reversed(runcFeatures.hooks) as RuntimeImplementation['hooks'],
    mountOptions: reversed(runcFeatures.mountOptions),
    annotations: Object.fromEntries(Object.entries(runcFeatures.annotations ?? {}).reverse()),
    linux: {
      namespaces: reversed(linux.namespaces),
      capabilities: reversed(linux.capabilities) as (typeof CAPABILITIES)[number][],
      cgroup: linux.cgroup!,
      seccomp: {
        enabled: seccomp.enabled!,
        actions: reversed(seccomp.actions) as (typeof SECCOMP_ACTIONS)[number][],
        operators: reversed(seccomp.operators) as (typeof SECCOMP_OPERATORS)[number][],
        archs: reversed(seccomp.archs) as (typeof SECCOMP_ARCHS)[number][],
      },
      apparmor: linux.apparmor!.enabled!,
      selinux: linux.selinux!.enabled!,
    },
  });
  assert.deepEqual(doc, runcFeatures);
  assert.equal(featuresText(doc), readFileSync(path.join(REPO_ROOT, 'test/fixtures/spec/runc-1.1.5/features.json'), 'utf8'));
});

test('capabilities come out in kernel number order, duplicates dropped', () => {
  const doc = featuresDocument({ linux: { capabilities: ['CAP_BPF', 'CAP_CHOWN', 'CAP_KILL', 'CAP_CHOWN'] } });
  assert.deepEqual(doc.linux!.capabilities, ['CAP_CHOWN', 'CAP_KILL', 'CAP_BPF']);
});

test('runc 1.1.5 knows exactly our capability list, 0..40', () => {
  assert.deepEqual(runcFeatures.linux!.capabilities, [...CAPABILITIES]);
  assert.equal(CAPABILITIES.length, 41);
  assert.equal(capabilityNumber('CAP_CHECKPOINT_RESTORE'), 40);
  assert.equal(capabilityNumber('CAP_SYS_ADMIN'), 21);
  assert.equal(capabilityNumber('CAP_NOPE'), undefined);
  assert.equal(RLIMIT_TYPES.length, 16);
});

// The lists in known.ts must be the enums of the schemas (ours and the official one).
test('known.ts lists equal the schema enums', () => {
  const officialLinux = JSON.parse(readFileSync(path.join(OFFICIAL_SCHEMA_DIR, 'defs-linux.json'), 'utf8')) as {
    definitions: Record<string, { enum?: string[] }>;
  };
  const ours = JSON.parse(readFileSync(path.join(REPO_ROOT, 'schemas/linux.json'), 'utf8')) as {
    $defs: Record<string, { enum?: string[] }>;
  };
  const pairs: Array<[string, readonly string[]]> = [
    ['SeccompAction', SECCOMP_ACTIONS],
    ['SeccompOperators', SECCOMP_OPERATORS],
    ['SeccompArch', SECCOMP_ARCHS],
    ['SeccompFlag', SECCOMP_FLAGS],
  ];
  for (const [name, list] of pairs) {
    assert.deepEqual([...list], officialLinux.definitions[name]!.enum, `official ${name}`);
    assert.deepEqual([...list], ours.$defs[name]!.enum, `our ${name}`);
  }
  assert.deepEqual([...NAMESPACE_TYPES].sort(), [...officialLinux.definitions['NamespaceType']!.enum!].sort());
});
