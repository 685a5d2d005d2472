// Docker (dockerd 20.10 + containerd-shim-runc-v2) with `--runtime tsrunc`: every client action of
// /work/shared/clients/argv-summary.txt, checked by its outcome (output, exit codes, state).

import { before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { B, IMG, TSRUNC, VERSION_RE, docker, dockerBin, hostPid1Comm, run, runTty, show, skipUnlessE2E, tempDir, namesRemovedAfter, useClients, waitFor } from './harness';
import { dockerSmoke } from './smoke';

const T = { timeout: 120000 };
const RT = ['--runtime', 'tsrunc'];
const drun = (...args: string[]) => docker('run', '--rm', ...RT, ...args);
const state = (n: string, fmt = '{{.State.Status}} {{.State.ExitCode}}') => docker('inspect', '-f', fmt, n).stdout.trim();

describe('docker with tsrunc', { skip: skipUnlessE2E }, () => {
  useClients();
  const name = namesRemovedAfter('d', (names) => docker('rm', '-f', ...names));

  describe('smoke', () => dockerSmoke('tsrunc'));

  describe('the runtime as dockerd sees it', () => {
    it('docker info lists tsrunc with its path', T, () => {
      const r = docker('info', '--format', '{{json .Runtimes}}');
      assert.equal(r.code, 0, show(r));
      const rts = JSON.parse(r.stdout) as Record<string, { path: string }>;
      assert.equal(rts.tsrunc?.path, TSRUNC);
    });

    it('as the default runtime, docker info shows tsrunc\'s commit (it parses tsrunc --version)', T, async () => {
      const file = path.join(B, 'docker', 'daemon.json');
      const saved = fs.readFileSync(file, 'utf8');
      const pid = Number(fs.readFileSync(path.join(B, 'run', 'dockerd.pid'), 'utf8'));
      const info = () => docker('info', '--format', '{{.DefaultRuntime}} {{.RuncCommit.ID}} {{.RuncCommit.Expected}}').stdout.trim();
      try {
        fs.writeFileSync(file, JSON.stringify({ ...JSON.parse(saved), 'default-runtime': 'tsrunc' }, null, 2));
        process.kill(pid, 'SIGHUP'); // dockerd reloads runtimes and the default runtime
        assert.ok(await waitFor(() => info().startsWith('tsrunc ')), info());
        const commit = /^commit: (\S+)$/m.exec(run([TSRUNC, '--version']).stdout)![1];
        assert.equal(info(), `tsrunc ${commit} ${commit}`);
      } finally {
        fs.writeFileSync(file, saved); // "default-runtime": "runc"
        process.kill(pid, 'SIGHUP');
        assert.ok(await waitFor(() => info().startsWith('runc ')), info());
      }
    });

    it('tsrunc --version parses as runc\'s does (NAME version X / commit: / spec:)', T, () => {
      const r = run([TSRUNC, '--version']);
      assert.equal(r.code, 0, show(r));
      assert.match(r.stdout, VERSION_RE);
    });

    it('tsrunc features prints the features document', T, () => {
      const r = run([TSRUNC, 'features']);
      assert.equal(r.code, 0, show(r));
      const f = JSON.parse(r.stdout) as { ociVersionMin?: string; ociVersionMax?: string };
      assert.ok(f.ociVersionMin && f.ociVersionMax, r.stdout);
    });
  });

  describe('run', () => {
    it('run --rm -d (detached) exits by itself and is removed', T, async () => {
      const n = name('det');
      const r = docker('run', '--rm', '-d', ...RT, '--name', n, IMG.docker, 'sleep', '1');
      assert.equal(r.code, 0, show(r));
      const w = docker('wait', n);
      assert.ok(w.code !== 0 || w.stdout.trim() === '0', show(w)); // may already be gone
      assert.ok(await waitFor(() => docker('inspect', n).code !== 0), 'removed after its exit');
    });

    it('run --rm -i: stdin reaches the container', T, () => {
      const r = run([dockerBin, 'run', '--rm', '-i', ...RT, IMG.docker, 'sh', '-c', 'cat; echo done'], { input: 'from stdin\n' });
      assert.equal(r.code, 0, show(r));
      assert.equal(r.stdout, 'from stdin\ndone\n');
    });

    it('run --rm -it: a terminal, exit code 3', { ...T }, () => {
      const r = runTty([dockerBin, 'run', '--rm', '-it', ...RT, IMG.docker, 'sh', '-c', 'tty; exit 3']);
      assert.equal(r.code, 3, show(r));
      assert.match(r.stdout, /\/dev\/pts\/\d+/, show(r));
    });

    it('run -e/-w/--hostname/--entrypoint', T, () => {
      const r = drun('-e', 'FOO=bar', '-w', '/tmp', '--hostname', 'boxname', '--entrypoint', 'sh', IMG.docker, '-c', 'echo $FOO $(pwd) $(hostname)');
      assert.equal(r.code, 0, show(r));
      assert.equal(r.stdout, 'bar /tmp boxname\n');
    });

    it('run --init: PID 1 is docker-init, the command its child', T, () => {
      const r = drun('--init', IMG.docker, 'ps', '-o', 'pid,comm');
      assert.equal(r.code, 0, show(r));
      assert.match(r.stdout, /^\s*1\s+docker-init\s*$/m, show(r));
      assert.match(r.stdout, /^\s*\d+\s+ps\s*$/m, show(r));
    });

    it('run --user 1000', T, () => {
      const r = drun('--user', '1000', IMG.docker, 'id');
      assert.equal(r.code, 0, show(r));
      assert.equal(r.stdout, 'uid=1000(user) gid=1000(user) groups=1000(user)\n', show(r)); // docker takes the group from /etc/passwd
    });

    it('run --user 1000:1000 --group-add 5', T, () => {
      const r = drun('--user', '1000:1000', '--group-add', '5', IMG.docker, 'id');
      assert.equal(r.code, 0, show(r));
      assert.match(r.stdout, /^uid=1000\(user\) gid=1000\(user\) groups=.*5\(tty\)/, show(r));
    });

    it('run --read-only: the root filesystem refuses writes, /tmp is not special', T, () => {
      const r = drun('--read-only', IMG.docker, 'sh', '-c', 'touch /x 2>&1; echo rc=$?');
      assert.equal(r.code, 0, show(r));
      assert.match(r.stdout, /Read-only file system\nrc=1\n$/, show(r));
    });

    it('run --cap-drop ALL: no capabilities', T, () => {
      const r = drun('--cap-drop', 'ALL', IMG.docker, 'grep', '-E', '^Cap(Prm|Eff|Bnd):', '/proc/self/status');
      assert.equal(r.code, 0, show(r));
      assert.match(r.stdout, /^CapPrm:\s+0+$/m);
      assert.match(r.stdout, /^CapEff:\s+0+$/m);
      assert.match(r.stdout, /^CapBnd:\s+0+$/m);
    });

    it('run: docker\'s default seccomp profile is in force (Seccomp: 2)', T, () => {
      const r = drun(IMG.docker, 'grep', '^Seccomp:', '/proc/self/status');
      assert.equal(r.code, 0, show(r));
      assert.match(r.stdout, /^Seccomp:\s+2$/m, show(r));
    });

    it('run --security-opt seccomp=unconfined (Seccomp: 0)', T, () => {
      const r = drun('--security-opt', 'seccomp=unconfined', IMG.docker, 'grep', '^Seccomp:', '/proc/self/status');
      assert.equal(r.code, 0, show(r));
      assert.match(r.stdout, /^Seccomp:\s+0$/m, show(r));
    });

    it('run --security-opt no-new-privileges', T, () => {
      const r = drun('--security-opt', 'no-new-privileges', IMG.docker, 'grep', '^NoNewPrivs:', '/proc/self/status');
      assert.equal(r.code, 0, show(r));
      assert.match(r.stdout, /^NoNewPrivs:\s+1$/m, show(r));
    });

    it('run --pid host --ipc host --uts host: the host\'s PID 1 and hostname', T, () => {
      const r = drun('--pid', 'host', '--ipc', 'host', '--uts', 'host', IMG.docker, 'sh', '-c', 'cat /proc/1/comm; hostname');
      assert.equal(r.code, 0, show(r));
      assert.equal(r.stdout, `${hostPid1Comm()}\n${fs.readFileSync('/proc/sys/kernel/hostname', 'utf8').trim()}\n`);
    });

    it('run --network none: only lo', T, () => {
      const r = drun('--network', 'none', IMG.docker, 'ls', '/sys/class/net');
      assert.equal(r.code, 0, show(r));
      assert.equal(r.stdout.trim(), 'lo');
    });

    it('run on the bridge network: eth0 with an address (libnetwork prestart hook)', T, () => {
      const r = drun(IMG.docker, 'ip', '-4', '-o', 'addr', 'show', 'eth0');
      if (fs.readFileSync(path.join(B, 'docker', 'daemon.json'), 'utf8').includes('"bridge": "none"')) return; // no bridge here
      assert.equal(r.code, 0, show(r));
      assert.match(r.stdout, /inet \d+\.\d+\.\d+\.\d+/, show(r));
    });

    it('run -v bind (read and write) + --tmpfs', T, () => {
      const dir = tempDir();
      fs.writeFileSync(path.join(dir, 'in'), 'from host\n');
      const r = drun('-v', `${dir}:/data`, '--tmpfs', '/scratch:size=1m', IMG.docker, 'sh', '-c', 'cat /data/in; echo from container > /data/out; grep " /scratch " /proc/mounts');
      assert.equal(r.code, 0, show(r));
      assert.match(r.stdout, /^from host\ntmpfs \/scratch tmpfs rw,/, show(r));
      assert.equal(fs.readFileSync(path.join(dir, 'out'), 'utf8'), 'from container\n');
    });

    it('run --sysctl --ulimit --shm-size', T, () => {
      const r = drun('--sysctl', 'net.ipv4.ip_forward=1', '--ulimit', 'nofile=1024:2048', '--shm-size', '8m', IMG.docker, 'sh', '-c',
        'cat /proc/sys/net/ipv4/ip_forward; ulimit -n; ulimit -Hn; df -k /dev/shm | tail -1');
      assert.equal(r.code, 0, show(r));
      const [fwd, soft, hard, shm] = r.stdout.trim().split('\n');
      assert.deepEqual([fwd, soft, hard], ['1', '1024', '2048']);
      assert.match(shm, /^shm\s+8192\s/, show(r));
    });

    it('run --memory 64m --cpus 0.5 --pids-limit 50: limits in the container\'s cgroups', T, () => {
      const r = drun('--memory', '64m', '--cpus', '0.5', '--pids-limit', '50', IMG.docker, 'sh', '-c',
        'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/pids/pids.max');
      assert.equal(r.code, 0, show(r));
      assert.equal(r.stdout, '67108864\n50000\n50\n');
    });
  });

  describe('a long-running container', () => {
    let main = '';
    let id = '';
    before(() => {
      main = name('main');
      const r = docker('run', '-d', ...RT, '--name', main, IMG.docker, 'sleep', '1000');
      assert.equal(r.code, 0, show(r));
      id = r.stdout.trim();
    });
    const running = () => state(main, '{{.State.Running}} {{.State.Paused}}');

    it('is running, in its cgroup under docker\'s cgroup parent', T, () => {
      assert.equal(running(), 'true false');
      const pid = state(main, '{{.State.Pid}}');
      const cg = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8');
      assert.match(cg, new RegExp(`:memory:/tsrunc-clients-docker/${id}$`, 'm'), cg);
    });

    it('docker exec (no tty)', { ...T }, () => {
      const r = docker('exec', main, 'sh', '-c', 'echo hi; exit 4');
      assert.equal(r.code, 4, show(r));
      assert.equal(r.stdout, 'hi\n');
    });

    it('docker exec -i', { ...T }, () => {
      const r = run([dockerBin, 'exec', '-i', main, 'cat'], { input: 'via exec\n' });
      assert.equal(r.code, 0, show(r));
      assert.equal(r.stdout, 'via exec\n');
    });

    it('docker exec -t', { ...T }, () => {
      const r = runTty([dockerBin, 'exec', '-t', main, 'tty']);
      assert.equal(r.code, 0, show(r));
      assert.match(r.stdout, /\/dev\/pts\/\d+/);
    });

    it('docker exec -it', { ...T }, () => {
      const r = runTty([dockerBin, 'exec', '-it', main, 'sh', '-c', 'tty; exit 5']);
      assert.equal(r.code, 5, show(r));
      assert.match(r.stdout, /\/dev\/pts\/\d+/);
    });

    it('docker exec -d', { ...T }, async () => {
      const r = docker('exec', '-d', main, 'sh', '-c', 'echo detached > /tmp/exec-d');
      assert.equal(r.code, 0, show(r));
      assert.ok(await waitFor(() => docker('exec', main, 'cat', '/tmp/exec-d').stdout === 'detached\n'));
    });

    it('docker exec --user 1000 -w /tmp -e FOO=bar', { ...T }, () => {
      const r = docker('exec', '--user', '1000', '-w', '/tmp', '-e', 'FOO=bar', main, 'sh', '-c', 'id -u; pwd; echo $FOO');
      assert.equal(r.code, 0, show(r));
      assert.equal(r.stdout, '1000\n/tmp\nbar\n');
    });

    it('docker exec nosuchcmd: 126 (as with runc: docker 20.10 maps exec failures to 126) and a message naming it', { ...T }, () => {
      const r = docker('exec', main, 'nosuchcmd');
      assert.equal(r.code, 126, show(r));
      assert.match(r.stdout + r.stderr, /exec: "nosuchcmd": executable file not found in \$PATH/, show(r));
    });

    it('docker top', T, () => {
      const r = docker('top', main);
      assert.equal(r.code, 0, show(r));
      assert.match(r.stdout, /sleep 1000/, show(r));
    });

    it('docker stats --no-stream (the shim reads the container\'s cgroups)', T, () => {
      const r = docker('stats', '--no-stream', '--format', '{{.Name}} {{.MemUsage}} {{.PIDs}}', main);
      assert.equal(r.code, 0, show(r));
      assert.match(r.stdout, new RegExp(`^${main} [1-9][\\d.]*\\w+ / .* 1$`, 'm'), show(r));
    });

    it('docker pause / unpause', T, () => {
      let r = docker('pause', main);
      assert.equal(r.code, 0, show(r));
      assert.equal(running(), 'true true');
      r = docker('unpause', main);
      assert.equal(r.code, 0, show(r));
      assert.equal(running(), 'true false');
    });

    it('docker update --memory 64m --memory-swap 128m', T, () => {
      const r = docker('update', '--memory', '64m', '--memory-swap', '128m', main);
      assert.equal(r.code, 0, show(r));
      assert.equal(fs.readFileSync(`/sys/fs/cgroup/memory/tsrunc-clients-docker/${id}/memory.limit_in_bytes`, 'utf8').trim(), '67108864');
    });

    it('docker kill -s HUP: PID 1 ignores it and keeps running', T, async () => {
      const r = docker('kill', '-s', 'HUP', main);
      assert.equal(r.code, 0, show(r));
      await new Promise((res) => setTimeout(res, 300));
      assert.equal(running().split(' ')[0], 'true');
    });

    it('docker restart -t 0: running again, with a new PID', T, () => {
      const before = state(main, '{{.State.Pid}}');
      const r = docker('restart', '-t', '0', main);
      assert.equal(r.code, 0, show(r));
      assert.equal(running().split(' ')[0], 'true');
      assert.notEqual(state(main, '{{.State.Pid}}'), before);
    });

    it('docker stop (sh traps TERM and exits 5)', T, () => {
      const n = name('trap');
      let r = docker('run', '-d', ...RT, '--name', n, IMG.docker, 'sh', '-c', 'trap "exit 5" TERM; while :; do sleep 0.1; done');
      assert.equal(r.code, 0, show(r));
      r = docker('stop', '-t', '20', n);
      assert.equal(r.code, 0, show(r));
      assert.equal(state(n), 'exited 5');
    });

    it('docker kill (SIGKILL): exited 137; docker rm', T, async () => {
      let r = docker('kill', main);
      assert.equal(r.code, 0, show(r));
      assert.ok(await waitFor(() => state(main) === 'exited 137'), state(main));
      r = docker('rm', main);
      assert.equal(r.code, 0, show(r));
    });
  });
});
