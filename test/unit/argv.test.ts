import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { flagKey, parseArgv, UsageError, VERBS, GLOBAL_FLAGS, type ParsedArgv } from '../../src/cli/argv';
import { helpText } from '../../src/cli/help';

function verb(args: string[]) {
  const p = parseArgv(args);
  assert.equal(p.kind, 'verb', `${args.join(' ')} parses as a verb`);
  return p as Extract<ParsedArgv, { kind: 'verb' }>;
}

function refused(args: string[], message: RegExp) {
  assert.throws(() => parseArgv(args), (e: unknown) => e instanceof UsageError && message.test(e.message));
}

describe('argv parsing (Go flag package forms, as runc)', () => {
  it('reads -flag and --flag for long names, globally and per verb', () => {
    const p = verb(['-root', '/r', '-log-format', 'json', 'run', '-no-subreaper', '-bundle', 'b', 'id']);
    assert.equal(p.verb.name, 'run');
    assert.equal(p.global.root, '/r');
    assert.equal(p.global.logFormat, 'json');
    assert.equal(p.opts.noSubreaper, true);
    assert.equal(p.opts.bundle, 'b');
    assert.deepEqual(p.args, ['id']);
  });

  it('reads --flag=value and -flag=value', () => {
    const p = verb(['--root=/r', 'create', '-pid-file=/p', '--bundle=/b=c', 'id']);
    assert.equal(p.global.root, '/r');
    assert.equal(p.opts.pidFile, '/p');
    assert.equal(p.opts.bundle, '/b=c');
  });

  it('reads booleans written as -flag, -flag=true / -flag=false, and refuses other words', () => {
    const p = verb(['run', '-detach=true', '--keep=false', '-no-pivot', 'id']);
    assert.equal(p.opts.detach, true);
    assert.equal(p.opts.keep, false);
    assert.equal(p.opts.noPivot, true);
    assert.equal(verb(['run', '-d=0', 'id']).opts.detach, false);
    refused(['run', '-d=maybe', 'id'], /invalid boolean value "maybe" for -d/);
  });

  it('takes the next word as a value, even one starting with a dash', () => {
    assert.equal(verb(['create', '--bundle', '-x', 'id']).opts.bundle, '-x');
    assert.deepEqual(verb(['update', '-r', '-', 'id']).opts.resources, '-');
    refused(['create', 'id', '--bundle'], /flag needs an argument: -bundle/);
  });

  it('fills in defaults and leaves unset flags out', () => {
    const p = verb(['create', 'id']);
    assert.equal(p.global.root, '/run/tsrunc');
    assert.equal(p.global.logFormat, 'text');
    assert.equal(p.opts.preserveFds, '0');
    assert.equal(p.opts.bundle, undefined);
    assert.equal(verb(['list']).opts.format, 'table');
  });

  it('lets verb flags follow the positional arguments, short or long', () => {
    const p = verb(['kill', 'id', 'KILL', '-a']);
    assert.deepEqual(p.args, ['id', 'KILL']);
    assert.equal(p.opts.all, true);
    assert.equal(verb(['delete', 'a', '--force', 'b']).opts.force, true);
    assert.deepEqual(verb(['delete', 'a', '--force', 'b']).args, ['a', 'b']);
  });

  it('collects repeated list flags in order', () => {
    assert.deepEqual(verb(['exec', '-e', 'A=1', '--env=B=2', '-env', 'C', 'id', 'sh']).opts.env, ['A=1', 'B=2', 'C']);
  });

  it('never reads flags after the container id of exec and ps, or after --', () => {
    const p = verb(['exec', '-tty', 'id', 'sh', '-c', 'echo -root']);
    assert.equal(p.opts.tty, true);
    assert.deepEqual(p.args, ['id', 'sh', '-c', 'echo -root']);
    assert.deepEqual(verb(['ps', '-f', 'json', 'id', '-ef']).args, ['id', '-ef']);
    assert.deepEqual(verb(['run', '--', '-bundle']).args, ['-bundle']);
    assert.deepEqual(verb(['delete', '-', 'x']).args, ['-', 'x']);
  });

  it('refuses unknown flags and commands with runc\'s wording', () => {
    refused(['delete', '-bogus', 'id'], /^flag provided but not defined: -bogus$/);
    refused(['--bogus', 'state', 'id'], /^flag provided but not defined: -bogus$/);
    refused(['state', '--bundle', 'b', 'id'], /flag provided but not defined: -bundle/);
    refused(['frobnicate', 'id'], /unknown command "frobnicate"/);
    // short flags are not combined, as in runc (cli.md)
    refused(['exec', '-it', 'id', 'sh'], /^flag provided but not defined: -it$/);
    refused(['help', 'frobnicate'], /no help topic for "frobnicate"/);
  });

  it('answers help and version', () => {
    assert.deepEqual(parseArgv([]), { kind: 'help' });
    assert.deepEqual(parseArgv(['--help']), { kind: 'help' });
    assert.deepEqual(parseArgv(['--root', '/r', '-h']), { kind: 'help' });
    assert.deepEqual(parseArgv(['-v']), { kind: 'version' });
    assert.deepEqual(parseArgv(['--version', 'state', 'x']), { kind: 'version' });
    const run = VERBS.find((v) => v.name === 'run');
    assert.deepEqual(parseArgv(['help', 'run']), { kind: 'help', verb: run });
    assert.deepEqual(parseArgv(['run', 'id', '--help']), { kind: 'help', verb: run });
  });

  it('keys every flag as its camel-cased name (without a regular expression, as the regex did)', () => {
    const camel = (long: string) => long.replace(/-([a-z])/g, (_, ch: string) => ch.toUpperCase());
    const names = [...GLOBAL_FLAGS, ...VERBS.flatMap((v) => v.flags)].map((f) => f.long);
    for (const long of [...names, 'a--b', 'x-3y', '-lead', 'trail-', 'l3-cache-schema']) assert.equal(flagKey(long), camel(long), long);
    assert.equal(flagKey('pid-file'), 'pidFile');
    assert.equal(flagKey('kernel-memory-tcp'), 'kernelMemoryTcp');
  });

  it('declares every runc verb', () => {
    for (const v of ['create', 'start', 'run', 'state', 'kill', 'delete', 'list', 'spec', 'features', 'exec', 'ps', 'pause', 'resume', 'update', 'events']) {
      assert.ok(VERBS.some((x) => x.name === v), v);
    }
    assert.deepEqual(GLOBAL_FLAGS.map((f) => f.long).sort(), ['criu', 'debug', 'log', 'log-format', 'root', 'rootless', 'systemd-cgroup']);
  });
});

describe('help text', () => {
  it('lists every verb and every global flag', () => {
    const text = helpText();
    for (const v of VERBS) assert.match(text, new RegExp(`^   ${v.name} +${v.description.slice(0, 20).replace(/[()]/g, '.')}`, 'm'));
    for (const f of GLOBAL_FLAGS) assert.ok(text.includes(`--${f.long}`), f.long);
    assert.match(text, /--root value +root directory .*\(default: "\/run\/tsrunc"\)/);
  });

  it('shows a verb\'s usage and each of its flags with its short name', () => {
    const text = helpText(VERBS.find((v) => v.name === 'exec'));
    assert.match(text, /^   tsrunc exec \[command options\] <container-id> <command>/m);
    assert.match(text, /^   --env value, -e value +set environment variables$/m);
    assert.match(text, /^   --tty, -t +allocate a pseudo-TTY$/m);
  });
});
