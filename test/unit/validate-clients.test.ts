// Every document real clients (docker, containerd, podman) gave runc must pass our full
// validation too (schema and semantic rules): tsrunc must not refuse what runc accepts.

import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { formatIssues, hasErrors, validateConfig, validateProcess, validateResources } from '../../src/spec/validate';
import { CLIENT_CONFIGS_DIR } from '../fixtures/spec/official-schema';

const includeWarnings = true;
const VALIDATE: Array<[string, (doc: unknown) => ReturnType<typeof validateConfig>]> = [
  ['.config.json', (doc) => validateConfig(doc, { forCreate: true, includeWarnings })],
  ['.process.json', (doc) => validateProcess(doc, { includeWarnings })],
  ['.resources.json', (doc) => validateResources(doc, { includeWarnings })],
];

const files = readdirSync(CLIENT_CONFIGS_DIR).sort();

test('there are client documents to check', () => {
  assert.ok(files.length > 0, `no files in ${CLIENT_CONFIGS_DIR}`);
});

for (const name of files) {
  const validate = VALIDATE.find(([suffix]) => name.endsWith(suffix))?.[1];
  if (validate === undefined) continue;
  test(`client document ${name} is accepted`, () => {
    const issues = validate(JSON.parse(readFileSync(path.join(CLIENT_CONFIGS_DIR, name), 'utf8')));
    assert.ok(!hasErrors(issues), formatIssues(issues, name));
    assert.deepEqual(issues, [], 'not even a warning expected');
  });
}
