// Failure paths: each one says what failed, and leaves no process, mount, cgroup or state behind.

import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Runtime, leftoverCgroups, leftoverMounts, processesWith, skipUnlessRoot, sleep, uniqueId, ROOTFS, type Config } from '../helpers/runtime';

describe('failures', { skip: skipUnlessRoot }, () => {
  const rt = new Runtime();

  /** create must fail with `message`, and nothing of the container may remain */
  function failsCleanly(mutate: (c: Config) => void, message: RegExp): string {
    const id = uniqueId('fail');
    const marker = `marker-${id}`;
    const b = rt.bundle((c) => {
      c.process.args = ['sh', '-c', `sleep 1000; : ${marker}`];
      mutate(c);
    });
    const r = rt.run(['create', '--bundle', b, id]);
    assert.equal(r.code, 1, `create should fail: ${r.stderr}`);
    assert.match(r.stderr.replace(/\\"/g, '"'), message); // logrus's text format escapes quotes
    assert.equal(rt.state(id), null, 'no state');
    assert.equal(fs.existsSync(path.join(rt.root, id)), false, 'no state directory');
    assert.deepEqual(processesWith(marker), [], 'no process');
    assert.deepEqual(leftoverCgroups(path.basename(b)), [], 'no cgroup');
    assert.deepEqual(leftoverMounts(ROOTFS), [], 'no mount');
    return r.stderr;
  }

  it('a mount that fails', () => {
    failsCleanly((c) => c.mounts.push({ destination: '/mnt', type: 'nosuchfs', source: 'none' }), /mount nosuchfs on \/mnt: ENODEV \(no such device\)/);
  });

  it('a bind mount whose source is missing', () => {
    failsCleanly((c) => c.mounts.push({ destination: '/mnt', type: 'bind', source: '/nonexistent/src', options: ['bind'] }), /mount \/mnt: bind source \/nonexistent\/src does not exist/);
  });

  it('a missing executable', () => {
    failsCleanly((c) => (c.process.args = ['nosuchcmd']), /exec: "nosuchcmd": executable file not found in \$PATH/);
    failsCleanly((c) => (c.process.args = ['/bin/nosuchcmd']), /exec: "\/bin\/nosuchcmd": stat \/bin\/nosuchcmd: ENOENT/);
  });

  it('an executable the user may not execute', () => {
    failsCleanly((c) => {
      c.process.args = ['/etc/passwd'];
    }, /exec: "\/etc\/passwd": stat \/etc\/passwd: EACCES/);
  });

  it('a failing step names itself and its errno', () => {
    failsCleanly((c) => (c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 1 << 30, hard: 1 << 30 }]), /setrlimit RLIMIT_NOFILE soft 1073741824 hard 1073741824: EPERM/);
  });

  it('invalid configs, with the field and the rule', () => {
    failsCleanly((c) => (c.linux.namespaces = [{ type: 'mount' }, { type: 'bogus' }]), /\/linux\/namespaces\/1\/type: .*\(enum\)/);
    failsCleanly((c) => (c.process.cwd = 'relative'), /\/process\/cwd: must be an absolute path/);
    failsCleanly((c) => (c.process.capabilities.bounding = ['CAP_NOPE']), /\/process\/capabilities\/bounding\/0/);
    failsCleanly((c) => {
      c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== 'uts');
    }, /hostname/);
    failsCleanly((c) => (c.root.path = '/nonexistent/rootfs'), /rootfs \(\/nonexistent\/rootfs\) does not exist/);
  });

  it('a config that is not JSON', () => {
    const b = rt.bundle();
    fs.writeFileSync(path.join(b, 'config.json'), '{"ociVersion": ');
    const r = rt.run(['create', '--bundle', b, uniqueId()]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /config.json: invalid JSON/);
    assert.deepEqual(fs.existsSync(rt.root) ? fs.readdirSync(rt.root).filter((d) => d.startsWith('fail')) : [], []);
  });

  it('an exec that fails at start is reported by start', async () => {
    const out = fs.mkdtempSync(path.join(rt.tmp, 'exec-'));
    fs.writeFileSync(path.join(out, 'notabinary'), 'this is not an executable\n', { mode: 0o755 });
    const id = uniqueId();
    const b = rt.bundle((c) => {
      c.process.args = ['/mnt/notabinary'];
      c.mounts.push({ destination: '/mnt', type: 'bind', source: out, options: ['rbind', 'ro'] });
    });
    assert.equal(rt.run(['create', '--bundle', b, id]).code, 0, 'the file exists and is executable: create succeeds');
    const r = rt.run(['start', id]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /exec: \\?"\/mnt\/notabinary\\?": ENOEXEC/);
    for (let i = 0; i < 100 && rt.state(id)?.status !== 'stopped'; i++) await sleep(10);
    assert.equal(rt.state(id)?.status, 'stopped');
    assert.equal(rt.run(['delete', id]).code, 0);
  });

  for (const checkpoint of ['mapping', 'ready']) {
    it(`a create killed at "${checkpoint}" never runs the program, and delete --force cleans up`, async () => {
      const id = uniqueId('killed');
      const marker = `marker-${id}`;
      const b = rt.bundle((c) => (c.process.args = ['sh', '-c', `sleep 1000; : ${marker}`]));
      const r = rt.run(['create', '--bundle', b, id], { env: { ...process.env, TSRUNC_FAULT: checkpoint } });
      assert.equal(r.signal, 'SIGKILL');
      // the init waits for a go byte that never comes: it dies at its checkpoint
      for (let i = 0; i < 100 && rt.state(id)?.status !== 'stopped'; i++) await sleep(10);
      assert.equal(rt.state(id)?.status, 'stopped', 'state tells the truth');
      await sleep(100);
      assert.deepEqual(processesWith(marker), [], 'the program never ran');
      const d = rt.run(['delete', '--force', id]);
      assert.equal(d.code, 0, d.stderr);
      assert.equal(fs.existsSync(path.join(rt.root, id)), false);
      assert.deepEqual(leftoverCgroups(path.basename(b)), []);
    });
  }
});
