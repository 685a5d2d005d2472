// End-to-end harness: drive the real clients (Docker, containerd's ctr, podman) set up by
// scripts/clients-setup.sh with tsrunc (and runc, to prove the harness itself). Off unless
// TSRUNC_E2E=1, so that `npm test` stays fast; `npm run test:e2e` (scripts/e2e) turns it on, sets
// the clients up once, runs every e2e file and tears the clients down.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before } from 'node:test';

export const REPO = path.resolve(__dirname, '..', '..', '..');
// the shipped executable, by path, as clients are told to call it (README); the launcher only
// for the sources on Node (it costs every call ~1.5 ms of /bin/sh). As clients-setup.sh registers it.
const EXE = path.join(REPO, 'dist', 'tsrunc');
export const TSRUNC = process.env.TSRUNC_ENGINE !== 'node' && fs.existsSync(EXE) ? EXE : path.join(REPO, 'bin', 'tsrunc');
export const B = process.env.TSRUNC_CLIENTS_DIR ?? '/var/tmp/tsrunc-clients';
export const IMG = { docker: 'busybox:tsrunc', ctr: 'docker.io/library/busybox:tsrunc', podman: 'localhost/busybox:tsrunc' };
export const CTR_RUNC_ROOT = path.join(B, 'ctr-runc');

const isRoot = process.getuid?.() === 0;
export const skipUnlessE2E: string | false =
  process.env.TSRUNC_E2E !== '1'
    ? 'end-to-end client tests are off: TSRUNC_E2E=1 (npm run test:e2e) drives docker, containerd and podman with tsrunc'
    : !isRoot
      ? 'end-to-end client tests need root'
      : false;

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
  /** the command line, for assertion messages */
  cmd: string;
}

let counter = 0;
/** A unique, client-friendly name: tsrunc-e2e-<pid>-<n>. */
export function uniqueName(tag = 'c'): string {
  return `e2e-${tag}-${process.pid}-${++counter}`;
}

/** A namer for one suite's containers (uniqueName(prefix + tag)): `remove` gets them all after it. */
export function namesRemovedAfter(prefix: string, remove: (names: string[]) => void): (tag: string) => string {
  const names: string[] = [];
  after(() => {
    if (names.length) remove(names);
  });
  return (tag) => {
    const n = uniqueName(prefix + tag);
    names.push(n);
    return n;
  };
}

/**
 * Run a command to completion. stdout and stderr are files, not pipes: a detached container or a
 * conmon/shim may inherit them and keep them open long after the client returned.
 */
export function run(argv: string[], opts: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Result {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-e2e-out-'));
  const out = fs.openSync(path.join(tmp, 'out'), 'w+');
  const err = fs.openSync(path.join(tmp, 'err'), 'w+');
  try {
    const r = spawnSync(argv[0], argv.slice(1), {
      input: opts.input,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', out, err],
      env: opts.env ?? process.env,
      timeout: opts.timeoutMs ?? 60000,
      killSignal: 'SIGKILL',
    });
    const cmd = argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
    if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
    return {
      code: r.status ?? 128 + (r.signal ? os.constants.signals[r.signal] : 0),
      stdout: fs.readFileSync(path.join(tmp, 'out'), 'utf8'),
      stderr: fs.readFileSync(path.join(tmp, 'err'), 'utf8'),
      cmd,
    };
  } finally {
    fs.closeSync(out);
    fs.closeSync(err);
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** Run a command on a pseudo-terminal (docker -it, ctr -t need one), with util-linux's script. */
export function runTty(argv: string[], timeoutMs = 60000, opts: { stdinOpenSeconds?: number } = {}): Result {
  const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;
  const line = argv.map(quote).join(' ');
  if (!opts.stdinOpenSeconds) return run(['script', '-qec', line, '/dev/null'], { timeoutMs });
  // the user's side of the terminal stays open (no EOF) for that long, as a person's would
  return run(['sh', '-c', `sleep ${opts.stdinOpenSeconds} | script -qec ${quote(line)} /dev/null`], { timeoutMs });
}

export const docker = (...args: string[]): Result => run([path.join(B, 'bin', 'docker'), ...args]);
export const ctr = (...args: string[]): Result => run([path.join(B, 'bin', 'ctr'), ...args]);
export const podman = (...args: string[]): Result => run([path.join(B, 'bin', 'podman'), ...args]);
export const dockerBin = path.join(B, 'bin', 'docker');
export const ctrBin = path.join(B, 'bin', 'ctr');
export const podmanBin = path.join(B, 'bin', 'podman');

/** A message for assert: the command, its status and output. */
export function show(r: Result): string {
  return `${r.cmd}\n  exit ${r.code}\n  stdout: ${r.stdout.trim()}\n  stderr: ${r.stderr.trim()}`;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Poll `fn` until it returns true (or the time is up); returns its last answer. */
export async function waitFor(fn: () => boolean, timeoutMs = 15000, stepMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (fn()) return true;
    if (Date.now() > deadline) return false;
    await sleep(stepMs);
  }
}

/**
 * Make sure the clients are up (scripts/clients-setup.sh is idempotent and takes a second or two
 * when they are). When this file is run on its own (not from scripts/e2e) and it had to set them
 * up, it tears them down again after its tests.
 */
export function useClients(): void {
  let ownSetup = false;
  before(() => {
    const existed = fs.existsSync(path.join(B, 'env.sh'));
    const r = run([path.join(REPO, 'scripts', 'clients-setup.sh')], { timeoutMs: 15 * 60000 });
    if (r.code !== 0) throw new Error(`clients-setup.sh failed:\n${r.stdout}\n${r.stderr}`);
    ownSetup = !existed && process.env.TSRUNC_E2E_RUNNER !== '1';
  });
  after(() => {
    if (ownSetup) run([path.join(REPO, 'scripts', 'clients-teardown.sh')], { timeoutMs: 5 * 60000 });
  });
}

/** Temporary directories for bind mounts, removed after the file. */
export function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-e2e-'));
  after(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

/** The host's PID 1 command name (for --pid host). */
export function hostPid1Comm(): string {
  return fs.readFileSync('/proc/1/comm', 'utf8').trim();
}

/** runc's `--version` shape, as dockerd and containerd parse it: `NAME version X`, `commit: C`, `spec: S`. */
export const VERSION_RE = /^(\S+) version (\S+)\ncommit: (\S+)\nspec: (\S+)/;
