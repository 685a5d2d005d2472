// files.ts has two implementations, node:fs (Node) and libc through bun:ffi (the executable): the
// same checks run on both, and both must give node:fs's answers.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { checkFiles } from '../helpers/files-check';

const expected = {
  mkdirExisting: 'EEXIST -17 node-like message',
  bigRoundTrip: true,
  truncated: 'short',
  procStat: true,
  missing: 'ENOENT -2 node-like message',
  exists: [true, false],
  readdir: ['b', 'big', 'renamed'],
  directories: ['b'],
  rmdirNotEmpty: 'ENOTEMPTY -39 node-like message',
  linkCount: true,
  appended: 'one\ntwo\n',
  readSync: [3, 'one', 5, 0],
  unlinkMissing: 'ENOENT -2 node-like message',
  removed: false,
  devNull: ['char', 1, 3],
  lstatLink: 'symlink',
  statLink: 'dir',
  statMissing: [true, true],
  realpath: true,
  readlink: 'b',
  chmod: ['4751', true],
  procfs: '9fa0',
};

const bun = path.resolve(__dirname, '../../../node_modules/@oven/bun-linux-x64/bin/bun');

function inTemp(fn: (dir: string) => void): void {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tsrunc-test-files-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('files.ts through node:fs', () => {
  inTemp((dir) => assert.deepEqual(checkFiles(dir), { via: 'node:fs', ...expected }));
});

test('files.ts through libc (bun:ffi), as in the executable', { skip: !existsSync(bun) && 'no Bun in node_modules' }, () => {
  inTemp((dir) => {
    const out = execFileSync(bun, [path.join(__dirname, '../helpers/files-check.js'), dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    assert.deepEqual(JSON.parse(out), { via: 'libc', ...expected });
  });
});
