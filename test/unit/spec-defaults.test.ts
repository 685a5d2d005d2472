// `tsrunc spec` must write what runc 1.1.5 writes (test/fixtures/spec/runc-1.1.5/, captured from
// Debian's runc), except ociVersion.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { defaultSpec, specFileText } from '../../src/spec/defaults';
import { OCI_VERSION, type Spec } from '../../src/spec/types';
import { validateConfig } from '../../src/spec/validate';
import { REPO_ROOT, officialValidators } from '../fixtures/spec/official-schema';

const RUNC_DIR = path.join(REPO_ROOT, 'test/fixtures/spec/runc-1.1.5');
const RUNC_OCI_VERSION = '1.0.2-dev'; // what runc 1.1.5 writes

function runcOutput(file: string): string {
  return readFileSync(path.join(RUNC_DIR, file), 'utf8');
}

/** Our spec with runc's ociVersion, so the rest can be compared byte for byte. */
function asRuncWouldWriteIt(spec: Spec): string {
  assert.equal(spec.ociVersion, OCI_VERSION);
  return specFileText({ ...spec, ociVersion: RUNC_OCI_VERSION });
}

test('the runc fixtures are what runc 1.1.5 wrote', () => {
  assert.match(readFileSync(path.join(RUNC_DIR, 'README.md'), 'utf8'), /runc version 1\.1\.5/);
  assert.equal((JSON.parse(runcOutput('spec.json')) as Spec).ociVersion, RUNC_OCI_VERSION);
});

test('defaultSpec() is `runc spec` (same JSON, same key order, same bytes)', () => {
  const spec = defaultSpec();
  assert.equal(spec.ociVersion, '1.3.0');
  assert.deepEqual({ ...spec, ociVersion: RUNC_OCI_VERSION }, JSON.parse(runcOutput('spec.json')));
  assert.equal(asRuncWouldWriteIt(spec), runcOutput('spec.json'));
});

test('defaultSpec({ rootless: true }) is `runc spec --rootless` run as uid/gid 0', () => {
  const spec = defaultSpec({ rootless: true, hostUid: 0, hostGid: 0 });
  assert.deepEqual({ ...spec, ociVersion: RUNC_OCI_VERSION }, JSON.parse(runcOutput('spec-rootless.json')));
  assert.equal(asRuncWouldWriteIt(spec), runcOutput('spec-rootless.json'));
});

test('rootless mappings map the given host ids to container root', () => {
  const linux = defaultSpec({ rootless: true, hostUid: 1000, hostGid: 100 }).linux!;
  assert.deepEqual(linux.uidMappings, [{ containerID: 0, hostID: 1000, size: 1 }]);
  assert.deepEqual(linux.gidMappings, [{ containerID: 0, hostID: 100, size: 1 }]);
});

test('default specs are valid for create, by our rules and the official schema', () => {
  for (const options of [{}, { rootless: true, hostUid: 1000, hostGid: 1000 }]) {
    const spec = defaultSpec(options);
    assert.deepEqual(validateConfig(spec, { forCreate: true }), [], JSON.stringify(options));
    assert.equal(officialValidators().config(spec), true, JSON.stringify(options));
  }
});

test('each call returns a fresh object (callers may edit it)', () => {
  const a = defaultSpec();
  a.process!.capabilities!.bounding!.push('CAP_SYS_ADMIN');
  a.linux!.maskedPaths!.pop();
  a.mounts![2]!.options!.pop();
  assert.equal(asRuncWouldWriteIt(defaultSpec()), runcOutput('spec.json'));
});
