import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { normalizeArgv, VERBS, GLOBAL_FLAGS } from '../../src/cli/argv';

describe('Go-style argv normalisation', () => {
  it('turns -flag into --flag for long names, globally and per verb', () => {
    assert.deepEqual(normalizeArgv(['-root', '/r', '-log-format', 'json', 'run', '-no-subreaper', '-bundle', 'b', 'id']), [
      '--root', '/r', '--log-format', 'json', 'run', '--no-subreaper', '--bundle', 'b', 'id',
    ]);
  });

  it('splits --flag=value and -flag=value', () => {
    assert.deepEqual(normalizeArgv(['--root=/r', 'create', '-pid-file=/p', '--bundle=/b', 'id']), ['--root', '/r', 'create', '--pid-file', '/p', '--bundle', '/b', 'id']);
  });

  it('reads booleans written as -flag=true / -flag=false', () => {
    assert.deepEqual(normalizeArgv(['run', '-detach=true', '--keep=false', '-d=1', 'id']), ['run', '--detach', '-d', 'id']);
  });

  it('keeps short flags and leaves unknown flags for commander to report', () => {
    assert.deepEqual(normalizeArgv(['kill', '-a', 'id', 'KILL']), ['kill', '-a', 'id', 'KILL']);
    assert.deepEqual(normalizeArgv(['delete', '-bogus', 'id']), ['delete', '-bogus', 'id']);
  });

  it('never touches what follows the container id of exec, or --', () => {
    assert.deepEqual(normalizeArgv(['exec', '-tty', 'id', 'sh', '-c', 'echo -root']), ['exec', '--tty', 'id', 'sh', '-c', 'echo -root']);
    assert.deepEqual(normalizeArgv(['run', '--', '-bundle']), ['run', '--', '-bundle']);
  });

  it('declares every runc verb', () => {
    for (const v of ['create', 'start', 'run', 'state', 'kill', 'delete', 'list', 'spec', 'features', 'exec', 'ps', 'pause', 'resume', 'update', 'events']) {
      assert.ok(VERBS.some((x) => x.name === v), v);
    }
    assert.deepEqual(GLOBAL_FLAGS.map((f) => f.long).sort(), ['criu', 'debug', 'log', 'log-format', 'root', 'rootless', 'systemd-cgroup']);
  });
});
