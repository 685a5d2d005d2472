// Our schemas (schemas/*.json, as compiled by scripts/build-validators.js) must give the same
// valid/invalid verdict as the official runtime-spec 1.3.0 schemas, on:
//   - every fixture of the official schema/test/<schema>/{good,bad}/ folders,
//   - every config/process/resources document captured from docker, containerd and podman,
//   - systematic mutations (wrong types, out-of-range numbers, removed fields) of those documents.
// Each compared file is one subtest named after it, so the run lists them all.

import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import {
  validateConfigSchema,
  validateFeaturesSchema,
  validateProcessSchema,
  validateResourcesSchema,
  validateStateSchema,
  type SchemaValidator,
} from '../../src/spec/validators';
import {
  CLIENT_CONFIGS_DIR,
  OFFICIAL_SCHEMA_DIR,
  REPO_ROOT,
  officialValidators,
  readJsonOrUndefined,
  type OfficialValidators,
} from '../fixtures/spec/official-schema';

type Kind = keyof OfficialValidators;

const OURS: Record<Kind, SchemaValidator> = {
  config: validateConfigSchema,
  process: validateProcessSchema,
  resources: validateResourcesSchema,
  state: validateStateSchema,
  features: validateFeaturesSchema,
};

interface Verdict {
  valid: boolean;
  detail: string;
}

function verdicts(kind: Kind, file: string): { ours: Verdict; official: Verdict } {
  const parsed = readJsonOrUndefined(file);
  if (parsed === undefined) {
    const notJson = { valid: false, detail: 'not valid JSON' };
    return { ours: notJson, official: notJson };
  }
  return verdictsFor(kind, parsed.value);
}

function verdictsFor(kind: Kind, value: unknown): { ours: Verdict; official: Verdict } {
  const ours = OURS[kind];
  const official = officialValidators()[kind];
  const oursValid = ours(value);
  const officialValid = official(value) as boolean;
  return {
    ours: { valid: oursValid, detail: JSON.stringify(ours.errors ?? []) },
    official: { valid: officialValid, detail: JSON.stringify(official.errors ?? []) },
  };
}

function assertSameVerdict(file: string, kind: Kind, result: { ours: Verdict; official: Verdict }): void {
  const say = (v: Verdict) => (v.valid ? 'valid' : `invalid ${v.detail}`);
  assert.equal(
    result.ours.valid,
    result.official.valid,
    `${file} (${kind}): ours says ${say(result.ours)}, official says ${say(result.official)}`,
  );
}

// --- The official fixtures: schema/test/<config|state|features>/<good|bad>/*.json ----------

const FIXTURE_KINDS: Record<string, Kind> = { config: 'config', state: 'state', features: 'features' };
const fixtureDir = path.join(OFFICIAL_SCHEMA_DIR, 'test');

interface Fixture {
  name: string;
  file: string;
  kind: Kind;
  expectValid: boolean;
}

function officialFixtures(): Fixture[] {
  const fixtures: Fixture[] = [];
  for (const schemaName of readdirSync(fixtureDir).sort()) {
    const kind = FIXTURE_KINDS[schemaName];
    assert.ok(kind, `unexpected fixture folder ${schemaName} in ${fixtureDir}: which schema does it test?`);
    for (const folder of ['good', 'bad']) {
      let files: string[];
      try {
        files = readdirSync(path.join(fixtureDir, schemaName, folder));
      } catch {
        continue;
      }
      for (const name of files.filter((f) => f.endsWith('.json')).sort()) {
        fixtures.push({
          name: `${schemaName}/${folder}/${name}`,
          file: path.join(fixtureDir, schemaName, folder, name),
          kind,
          expectValid: folder === 'good',
        });
      }
    }
  }
  return fixtures;
}

const fixtures = officialFixtures();

test('official fixtures are found (config, state and features; good and bad)', () => {
  for (const kind of ['config', 'state', 'features'] as const) {
    assert.ok(fixtures.some((f) => f.kind === kind && f.expectValid), `no good ${kind} fixture`);
    assert.ok(fixtures.some((f) => f.kind === kind && !f.expectValid), `no bad ${kind} fixture`);
  }
});

for (const fixture of fixtures) {
  test(`official fixture ${fixture.name}`, () => {
    const result = verdicts(fixture.kind, fixture.file);
    // The oracle itself must agree with the folder the fixture is in.
    assert.equal(result.official.valid, fixture.expectValid, `${fixture.name}: official schema verdict vs its folder`);
    assertSameVerdict(fixture.name, fixture.kind, result);
  });
}

// --- Documents captured from real clients ------------------------------------------------

const CLIENT_SUFFIXES: Array<[string, Kind]> = [
  ['.config.json', 'config'],
  ['.process.json', 'process'],
  ['.resources.json', 'resources'],
];

function clientKind(name: string): Kind | undefined {
  return CLIENT_SUFFIXES.find(([suffix]) => name.endsWith(suffix))?.[1];
}

const clientFiles = readdirSync(CLIENT_CONFIGS_DIR).sort();

test('client documents are found, and each is a config, process or resources document', () => {
  for (const [suffix] of CLIENT_SUFFIXES) {
    assert.ok(clientFiles.some((f) => f.endsWith(suffix)), `no *${suffix} in ${CLIENT_CONFIGS_DIR}`);
  }
  const unknown = clientFiles.filter((f) => clientKind(f) === undefined);
  assert.deepEqual(unknown, [], 'files whose kind is unknown (not compared)');
});

for (const name of clientFiles) {
  const kind = clientKind(name);
  if (kind === undefined) continue;
  test(`client ${kind} ${name}`, () => {
    const result = verdicts(kind, path.join(CLIENT_CONFIGS_DIR, name));
    assertSameVerdict(name, kind, result);
  });
}

// --- Mutations: the fixtures say little about each field, so break every field in turn ----

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Values of other types, and numbers just outside the usual integer ranges. */
function replacementsFor(value: Json): Json[] {
  const wrongTypes: Json[] = ['text', 7, true, [], {}, null];
  const numbers: Json[] = [-1, 1.5, 128, 256, 512, 65536, 2147483648, 4294967296, -2147483649, 1e20, -1e20];
  const strings: Json[] = ['', 'x', 'RLIMIT_x', '64kB', '2MB', 'CAP_x', 'disable', 'SCMP_ACT_BAD', 'relative/path'];
  const pick = typeof value === 'number' ? numbers : typeof value === 'string' ? strings : [];
  return [...wrongTypes.filter((w) => typeof w !== typeof value || Array.isArray(w) !== Array.isArray(value)), ...pick];
}

/** Every document obtained by replacing or deleting one value of `doc`. */
function* mutations(doc: Json): Generator<{ where: string; doc: Json }> {
  function* walk(node: Json, pointer: string, rebuild: (replacement: Json | undefined) => Json): Generator<{ where: string; doc: Json }> {
    for (const replacement of replacementsFor(node)) {
      yield { where: `${pointer} = ${JSON.stringify(replacement)}`, doc: rebuild(replacement) };
    }
    if (pointer !== '') yield { where: `delete ${pointer}`, doc: rebuild(undefined) };
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        yield* walk(node[i]!, `${pointer}/${i}`, (r) => {
          const copy = [...node];
          if (r === undefined) copy.splice(i, 1);
          else copy[i] = r;
          return rebuild(copy);
        });
      }
    } else if (node !== null && typeof node === 'object') {
      for (const key of Object.keys(node)) {
        yield* walk(node[key]!, `${pointer}/${key}`, (r) => {
          const copy = { ...node };
          if (r === undefined) delete copy[key];
          else copy[key] = r;
          return rebuild(copy);
        });
      }
    }
  }
  yield* walk(doc, '', (r) => (r === undefined ? null : r));
}

interface MutationSource {
  name: string;
  kind: Kind;
  value: unknown;
}

const PARITY_DIR = path.join(REPO_ROOT, 'test/fixtures/spec/parity');
const PARITY_SUFFIXES: Array<[string, Kind]> = [
  ['.config.json', 'config'],
  ['.features.json', 'features'],
];

/** Documents that together use every schema field: the good official fixtures, our parity
 *  documents (test/fixtures/spec/parity), their process and resources parts, and the largest
 *  client document of each kind. */
function mutationSources(): MutationSource[] {
  const read = (file: string): unknown => {
    const parsed = readJsonOrUndefined(file);
    assert.ok(parsed, `${file} is not JSON`);
    return parsed.value;
  };
  const sources: MutationSource[] = fixtures
    .filter((f) => f.expectValid)
    .map((f) => ({ name: f.name, kind: f.kind, value: read(f.file) }));
  for (const name of readdirSync(PARITY_DIR).sort()) {
    const kind = PARITY_SUFFIXES.find(([suffix]) => name.endsWith(suffix))?.[1];
    if (kind === undefined) continue;
    const value = read(path.join(PARITY_DIR, name));
    sources.push({ name: `parity/${name}`, kind, value });
    const linux = (value as { linux?: { resources?: unknown } }).linux;
    const process = (value as { process?: unknown }).process;
    if (kind === 'config' && process !== undefined) sources.push({ name: `parity/${name} process`, kind: 'process', value: process });
    if (kind === 'config' && linux?.resources !== undefined) {
      sources.push({ name: `parity/${name} linux.resources`, kind: 'resources', value: linux.resources });
    }
  }
  for (const [suffix, kind] of CLIENT_SUFFIXES) {
    const largest = clientFiles
      .filter((f) => f.endsWith(suffix))
      .map((f) => ({ f, value: read(path.join(CLIENT_CONFIGS_DIR, f)) }))
      .sort((a, b) => JSON.stringify(b.value).length - JSON.stringify(a.value).length)[0];
    if (largest) sources.push({ name: largest.f, kind, value: largest.value });
  }
  return sources;
}

for (const source of mutationSources()) {
  test(`mutations of ${source.name} get the official verdict`, (t) => {
    // The unmutated document must be valid, or its mutations say little.
    assert.equal(verdictsFor(source.kind, source.value).official.valid, true, `${source.name} is not valid by the official schema`);
    const mismatches: string[] = [];
    let compared = 0;
    let invalidSeen = 0;
    for (const mutation of mutations(source.value as Json)) {
      const result = verdictsFor(source.kind, mutation.doc);
      compared++;
      if (!result.official.valid) invalidSeen++;
      if (result.ours.valid !== result.official.valid) {
        mismatches.push(`${mutation.where}: ours ${result.ours.valid ? 'valid' : 'invalid'}, official ${result.official.valid ? 'valid' : 'invalid'}`);
      }
    }
    t.diagnostic(`${compared} variants, ${invalidSeen} of them invalid`);
    assert.ok(invalidSeen > 0, 'no mutation was invalid: the mutation generator is broken');
    assert.deepEqual(mismatches.slice(0, 20), [], `${mismatches.length} of ${compared} mutations of ${source.name} differ`);
  });
}

// --- Deliberate differences, pinned so that they stay deliberate --------------------------

test('deliberate difference: state status "paused" (runc reports it) is valid for us, not for the official schema', () => {
  const paused = { ociVersion: '1.3.0', id: 'c1', status: 'paused', pid: 42, bundle: '/b' };
  const result = verdictsFor('state', paused);
  assert.equal(result.official.valid, false);
  assert.equal(result.ours.valid, true);
  // Any other unknown status is still rejected by both.
  const bogus = verdictsFor('state', { ...paused, status: 'sleeping' });
  assert.equal(bogus.official.valid, false);
  assert.equal(bogus.ours.valid, false);
});
