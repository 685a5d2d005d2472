// The schemas are compiled at build time: dist/src/spec/validators.js must exist, and loading
// validate.js must load neither the ajv compiler nor any schema compilation.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

// This file runs from dist/test/unit/; the compiled sources are in dist/src/spec/.
const specDir = path.resolve(__dirname, '../../src/spec');
const validatorsFile = path.join(specDir, 'validators.js');
const validateFile = path.join(specDir, 'validate.js');

test('the build step generated dist/src/spec/validators.js', () => {
  assert.ok(existsSync(validatorsFile), `${validatorsFile} is missing: run node scripts/build-validators.js`);
  const code = readFileSync(validatorsFile, 'utf8');
  for (const name of ['validateConfigSchema', 'validateProcessSchema', 'validateStateSchema', 'validateFeaturesSchema', 'validateResourcesSchema']) {
    assert.match(code, new RegExp(`exports\\.${name} = `), `validators.js does not export ${name}`);
  }
});

test('validators.js declares no schema constant it does not use (each would be evaluated at every load)', () => {
  const code = readFileSync(validatorsFile, 'utf8');
  const declared = [...code.matchAll(/^const (schema\d+) = /gm)].map((m) => m[1]);
  assert.ok(declared.length > 0, 'the generated code still declares the schemas it uses');
  const unused = declared.filter((name) => code.match(new RegExp(`\\b${name}\\b`, 'g'))!.length === 1);
  assert.deepEqual(unused, []);
});

test('requiring validate.js loads no ajv module except the small runtime helpers', () => {
  // A fresh process, so nothing else (e.g. another test's ajv-draft-04) is in require.cache.
  const script = `
    require(${JSON.stringify(validateFile)});
    const loaded = Object.keys(require.cache).filter((f) => f.includes('/node_modules/'));
    process.stdout.write(JSON.stringify(loaded));
  `;
  const loaded = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })) as string[];
  const ajvModules = loaded.filter((f) => f.includes('/node_modules/ajv/'));
  for (const compiler of ['ajv/dist/ajv.js', 'ajv/dist/core.js', 'ajv/dist/2020.js', 'ajv/dist/compile/index.js']) {
    assert.ok(!ajvModules.some((f) => f.endsWith(compiler)), `${compiler} was loaded: ${ajvModules.join(', ')}`);
  }
  const notRuntime = ajvModules.filter((f) => !f.includes('/ajv/dist/runtime/'));
  assert.deepEqual(notRuntime, [], 'ajv modules other than ajv/dist/runtime/* were loaded');
  assert.ok(!loaded.some((f) => f.includes('/node_modules/koffi/')), 'src/spec must not load koffi');
});

test('the load check above can see ajv: requiring ajv itself is detected', () => {
  // Guards against the check passing vacuously (e.g. if require.cache paths changed shape).
  const script = `
    require('ajv');
    process.stdout.write(JSON.stringify(Object.keys(require.cache)));
  `;
  const loaded = JSON.parse(
    execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', cwd: path.resolve(__dirname, '../../..') }),
  ) as string[];
  assert.ok(loaded.some((f) => f.endsWith('/node_modules/ajv/dist/core.js')));
});

test('the generated validators work without the ajv compiler', () => {
  const { validateConfig } = require(validateFile) as typeof import('../../src/spec/validate');
  assert.deepEqual(validateConfig({ ociVersion: '1.3.0' }), []);
  assert.equal(validateConfig({}).length, 1);
});
