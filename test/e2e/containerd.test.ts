// containerd 1.6 (ctr, containerd-shim-runc-v2) with `--runc-binary dist/tsrunc`: the ctr actions of
// /work/shared/clients/argv-summary.txt, checked by their outcome.

import { before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { CTR_RUNC_ROOT, IMG, TSRUNC, ctr, ctrBin, run, runTty, show, skipUnlessE2E, namesRemovedAfter, useClients, waitFor } from './harness';
import { ctrRemove, ctrSmoke, taskStatus } from './smoke';

const T = { timeout: 120000 };
const RB = ['--runc-binary', TSRUNC, '--runc-root', CTR_RUNC_ROOT];

describe('containerd (ctr) with tsrunc', { skip: skipUnlessE2E }, () => {
  useClients();
  const id = namesRemovedAfter('c', (ids) => ids.forEach(ctrRemove));

  describe('smoke', () => ctrSmoke(TSRUNC));

  describe('run', () => {
    it('ctr run --rm --null-io', T, () => {
      const r = ctr('run', '--rm', '--null-io', ...RB, IMG.ctr, id('null'), 'sh', '-c', 'echo lost; exit 3');
      assert.equal(r.code, 3, show(r));
      assert.equal(r.stdout, '');
    });

    it('ctr run --rm: stdin reaches the container', T, () => {
      // ctr never closes the task's stdin at EOF (with runc too): read one line, not to EOF
      const r = run([ctrBin, 'run', '--rm', ...RB, IMG.ctr, id('in'), 'sh', '-c', 'read l; echo "got $l"'], { input: 'via ctr stdin\n' });
      assert.equal(r.code, 0, show(r));
      assert.equal(r.stdout, 'got via ctr stdin\n');
    });

    it('ctr run --rm -t: a terminal', { ...T }, () => {
      const r = runTty([ctrBin, 'run', '--rm', '-t', ...RB, IMG.ctr, id('tty'), 'sh', '-c', 'tty; exit 0']);
      assert.equal(r.code, 0, show(r));
      assert.match(r.stdout, /\/dev\/pts\/\d+/, show(r));
    });

    it('ctr run --rm --read-only --seccomp --cap-drop CAP_NET_RAW', T, () => {
      const r = ctr('run', '--rm', '--read-only', '--seccomp', '--cap-drop', 'CAP_NET_RAW', ...RB, IMG.ctr, id('ro'), 'sh', '-c',
        'touch /x 2>/dev/null; echo rc=$?; grep -E "^(Seccomp|CapEff):" /proc/self/status');
      assert.equal(r.code, 0, show(r));
      const capEff = BigInt('0x' + /CapEff:\s+([0-9a-f]+)/.exec(r.stdout)![1]);
      assert.match(r.stdout, /^rc=1$/m, show(r));
      assert.match(r.stdout, /^Seccomp:\s+2$/m, show(r));
      assert.equal(capEff & (1n << 13n), 0n, 'CAP_NET_RAW (13) dropped');
      assert.notEqual(capEff & (1n << 0n), 0n, 'CAP_CHOWN (0) kept');
    });

    it('ctr run --rm --runc-root elsewhere (runc option Root)', T, () => {
      const root = fs.mkdtempSync('/run/tsrunc-e2e-root-');
      try {
        const r = ctr('run', '--rm', '--runc-binary', TSRUNC, '--runc-root', root, IMG.ctr, id('root'), 'echo', 'ok');
        assert.equal(r.code, 0, show(r));
        assert.equal(r.stdout, 'ok\n');
      } finally {
        fs.rmSync(root, { recursive: true, force: true });
      }
    });

    it('ctr run -d --memory-limit 67108864: the limit on the task\'s cgroup', T, async () => {
      // ctr's spec mounts no /sys/fs/cgroup: look from the host
      const c = id('mem');
      const r = ctr('run', '-d', '--memory-limit', '67108864', ...RB, IMG.ctr, c, 'sleep', '1000');
      assert.equal(r.code, 0, show(r));
      assert.ok(await waitFor(() => taskStatus(c) === 'RUNNING'), taskStatus(c));
      assert.equal(fs.readFileSync(`/sys/fs/cgroup/memory/tsrunc-e2e/${c}/memory.limit_in_bytes`, 'utf8').trim(), '67108864');
      ctrRemove(c);
    });
  });

  describe('a long-running task', () => {
    let main = '';
    before(async () => {
      main = id('main');
      const r = ctr('run', '-d', ...RB, IMG.ctr, main, 'sleep', '1000');
      assert.equal(r.code, 0, show(r));
      assert.ok(await waitFor(() => taskStatus(main) === 'RUNNING'), taskStatus(main));
    });

    it('is RUNNING in cgroup /tsrunc-e2e/<id>', T, () => {
      const line = ctr('task', 'ls').stdout.split('\n').find((l) => l.startsWith(main + ' '))!;
      const pid = line.trim().split(/\s+/)[1];
      assert.match(fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8'), new RegExp(`:memory:/tsrunc-e2e/${main}$`, 'm'));
    });

    it('ctr task exec (no tty): output and exit status', { ...T }, () => {
      const r = ctr('task', 'exec', '--exec-id', 'e1', main, 'sh', '-c', 'echo hi; exit 6');
      assert.equal(r.code, 6, show(r));
      assert.equal(r.stdout, 'hi\n');
    });

    it('ctr task exec -t', { ...T }, () => {
      const r = runTty([ctrBin, 'task', 'exec', '-t', '--exec-id', 'e2', main, 'tty']);
      assert.equal(r.code, 0, show(r));
      assert.match(r.stdout, /\/dev\/pts\/\d+/);
    });

    it('ctr task exec --user 1000 --cwd /tmp', { ...T }, () => {
      const r = ctr('task', 'exec', '--user', '1000', '--cwd', '/tmp', '--exec-id', 'e4', main, 'sh', '-c', 'id -u; pwd');
      assert.equal(r.code, 0, show(r));
      assert.equal(r.stdout, '1000\n/tmp\n');
    });

    it('ctr task ps', T, () => {
      const r = ctr('task', 'ps', main);
      assert.equal(r.code, 0, show(r));
      const pid = ctr('task', 'ls').stdout.split('\n').find((l) => l.startsWith(main + ' '))!.trim().split(/\s+/)[1];
      assert.match(r.stdout, new RegExp(`^${pid}\\s`, 'm'), show(r));
    });

    it('ctr task pause / resume', T, () => {
      let r = ctr('task', 'pause', main);
      assert.equal(r.code, 0, show(r));
      assert.equal(taskStatus(main), 'PAUSED');
      r = ctr('task', 'resume', main);
      assert.equal(r.code, 0, show(r));
      assert.equal(taskStatus(main), 'RUNNING');
    });

    it('ctr task kill (SIGTERM): PID 1 sleep ignores it', T, async () => {
      const r = ctr('task', 'kill', main);
      assert.equal(r.code, 0, show(r));
      await new Promise((res) => setTimeout(res, 300));
      assert.equal(taskStatus(main), 'RUNNING');
    });

    it('ctr task kill --all -s SIGKILL, task delete (exit status 137), container delete', T, async () => {
      let r = ctr('task', 'kill', '--all', '-s', 'SIGKILL', main);
      assert.equal(r.code, 0, show(r));
      assert.ok(await waitFor(() => taskStatus(main) === 'STOPPED'), taskStatus(main));
      r = ctr('task', 'delete', main);
      assert.equal(r.code, 0, show(r));
      assert.match(r.stderr, /exit code 137/, show(r));
      r = ctr('container', 'delete', main);
      assert.equal(r.code, 0, show(r));
    });
  });
});
