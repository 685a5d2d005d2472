// Every tsrunc call pays for its start-up, so the light verbs must load little: these tests watch
// what the compiled CLI requires in a fresh process.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

// This file runs from dist/test/unit/; the compiled sources are in dist/src/.
const distSrc = path.resolve(__dirname, '../../src');
const mainFile = path.join(distSrc, 'cli/main.js');

/**
 * Run main.js with `args` in a fresh Node and return every module it required (names as written),
 * each as `request` and as `requester -> request` (the requester relative to dist/src).
 */
function requiredBy(args: string[]): string[] {
  const script = `
    const Module = require('node:module');
    const path = require('node:path');
    const seen = [];
    const load = Module._load;
    Module._load = function (request, parent, isMain) {
      seen.push(request);
      if (parent && parent.filename) seen.push(path.relative(${JSON.stringify(distSrc)}, parent.filename) + ' -> ' + request);
      return load.call(this, request, parent, isMain);
    };
    require(${JSON.stringify(mainFile)}).main(${JSON.stringify(args)}).then(() => process.stdout.write('\\n@@' + JSON.stringify(seen)));
  `;
  const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return JSON.parse(out.slice(out.lastIndexOf('\n@@') + 3)) as string[];
}

test('state, list, kill, delete and start load neither koffi, the validators, node:child_process, node:path nor (but through files.ts) node:fs; state and list not even the cgroup code', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'tsrunc-test-startup-'));
  try {
    for (const args of [['state', 'nosuch'], ['list'], ['kill', 'nosuch'], ['delete', 'nosuch'], ['start', 'nosuch']]) {
      const seen = requiredBy(['--root', root, ...args]);
      assert.ok(seen.some((r) => r.includes('store')), `the check sees our own modules (${args[0]}: ${seen.join(' ')})`);
      // node:path too: ~0.4 ms to load in the executable (src/linux/path.ts does the same)
      for (const heavy of ['koffi', 'node:child_process', 'commander', 'node:path']) {
        assert.ok(!seen.includes(heavy), `${args[0]} loaded ${heavy}`);
      }
      assert.ok(!seen.some((r) => r.includes('validat')), `${args[0]} loaded the validators`);
      // in the executable, loading node:fs alone takes ~1.2 ms: the light verbs go through files.ts
      const fsUsers = seen.filter((r) => r.endsWith(' -> node:fs') && !r.startsWith('linux/files.js'));
      assert.deepEqual(fsUsers, [], `${args[0]}: only linux/files.ts may load node:fs`);
      // the signal table has its own module: constants.ts and the spec's tables it re-exports cost ~0.2 ms
      assert.ok(!seen.some((r) => r.endsWith('/constants') || r.endsWith('spec/known')), `${args[0]} loaded constants.ts or spec/known.ts`);
      // errno's table of names and messages (~0.08 ms in the executable) is for errors only
      assert.ok(!seen.some((r) => r.endsWith('/errno-table')), `${args[0]} loaded errno-table.ts`);
      if (args[0] === 'state' || args[0] === 'list') {
        for (const heavy of ['cgroups', 'hooks', 'lifecycle']) assert.ok(!seen.some((r) => r.includes(heavy)), `${args[0]} loaded ${heavy}`);
      }
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('delete --force of a container that is gone loads none of lifecycle\'s modules (Docker\'s shim does it after every delete)', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'tsrunc-test-startup-'));
  try {
    const seen = requiredBy(['--root', root, 'delete', '--force', 'nosuch']);
    assert.ok(seen.some((r) => r.includes('store')), `the check sees our own modules (${seen.join(' ')})`);
    for (const heavy of ['lifecycle', 'cgroups', 'hooks']) assert.ok(!seen.some((r) => r.includes(heavy)), `delete --force loaded ${heavy}`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

// regression: reap.ts loaded node:os for os.constants.signals, ~1.3 ms of every run and exec
test('run, create and exec load neither node:os, node:child_process nor node:path', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'tsrunc-test-startup-'));
  try {
    for (const args of [['run', '--bundle', '/nonexistent', 'x'], ['create', '--bundle', '/nonexistent', 'x'], ['exec', 'nosuch', 'true']]) {
      const seen = requiredBy(['--root', root, ...args]);
      assert.ok(seen.some((r) => r.includes(args[0] === 'exec' ? 'container/exec' : 'container/create')), `the check sees the ${args[0]} modules (${seen.join(' ')})`);
      for (const heavy of ['node:os', 'node:child_process']) assert.ok(!seen.includes(heavy), `${args[0]} loaded ${heavy}`);
      // (on Node, koffi loads node:path itself; the executable binds libc through bun:ffi)
      const pathUsers = seen.filter((r) => r.endsWith(' -> node:path') && !r.includes('node_modules'));
      assert.deepEqual(pathUsers, [], `${args[0]} loaded node:path`);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('no compiled module imports another wholesale (tsc\'s __importStar copies every export: ~1 ms for node:fs)', () => {
  const offenders: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.js') && readFileSync(p, 'utf8').includes('__importStar(')) offenders.push(path.relative(distSrc, p));
    }
  };
  walk(distSrc);
  assert.deepEqual(offenders, [], 'use `import fs = require(\'node:fs\')` or named imports, not `import * as`');
});
