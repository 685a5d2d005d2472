// OCI hooks. Each gets the container's state JSON on stdin, its args (args[0] is argv[0]), env and
// timeout. prestart, createRuntime, poststart and poststop run in the runtime's namespaces;
// createContainer and startContainer in the container's (a process joins the init's namespaces,
// see plan/join.ts). A failing hook is an error (the caller tears the container down), except
// poststop, whose failures only warn — all as the spec says.

import type * as NodeFs from 'node:fs';
import type * as NodeOs from 'node:os';
import path = require('../linux/path');
import type { Hook, State } from '../spec/types';
import { ContainerError } from './errors';

export type HookKind = 'prestart' | 'createRuntime' | 'createContainer' | 'startContainer' | 'poststart' | 'poststop';

function describeExit(status: number | null, signal: string | null): string {
  return signal ? `killed by ${signal}` : `exit status ${status}`;
}

/**
 * Run hooks in the runtime's namespaces, in order. The first failure throws — except with `warn`
 * (poststart, poststop): then every hook runs and each failure is only reported.
 */
export function runRuntimeHooks(kind: HookKind, hooks: Hook[] | undefined, state: State, warn?: (msg: string) => void): void {
  if (!hooks?.length) return;
  // the state goes in through a file, not a pipe: a hook that does not read it must not fail with EPIPE
  withStateFile(state, (stdin) => {
    hooks.forEach((h, i) => {
      if (warn) {
        try {
          runOne(h, i);
        } catch (e) {
          warn((e as Error).message);
        }
      } else runOne(h, i);
    });
    function runOne(h: Hook, i: number): void {
      // loaded only when a hook runs: node:child_process costs ~3 ms to load in Bun
      const { spawnSync } = require('node:child_process') as typeof import('node:child_process');
      const res = spawnSync(h.path, (h.args ?? [h.path]).slice(1), {
        argv0: h.args?.[0] ?? h.path,
        env: envObject(h.env),
        stdio: [stdin, 'pipe', 'pipe'],
        timeout: h.timeout ? h.timeout * 1000 : undefined,
        killSignal: 'SIGKILL',
        maxBuffer: 1 << 20,
      });
      if (res.error && (res.error as NodeJS.ErrnoException).code === 'ETIMEDOUT') {
        throw new ContainerError(`error running ${kind} hook #${i} (${h.path}): timed out after ${h.timeout}s`);
      }
      if (res.error) throw new ContainerError(`error running ${kind} hook #${i} (${h.path}): ${res.error.message}`);
      if (res.status !== 0) {
        throw new ContainerError(
          `error running ${kind} hook #${i} (${h.path}): ${describeExit(res.status, res.signal)}, stdout: ${res.stdout.toString().trim()}, stderr: ${res.stderr.toString().trim()}`,
        );
      }
    }
  });
}

// node:fs and node:os only once a hook runs: every start and delete loads this module, and in
// the executable node:fs takes ~0.5 ms to load
const nodeFs = () => require('node:fs') as typeof NodeFs;
const nodeOs = () => require('node:os') as typeof NodeOs;

function withStateFile<T>(state: State, fn: (fd: number) => T): T {
  const fs = nodeFs();
  const os = nodeOs();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-hook-'));
  const file = path.join(dir, 'state.json');
  fs.writeFileSync(file, JSON.stringify(state));
  const fd = fs.openSync(file, 'r');
  try {
    return fn(fd);
  } finally {
    fs.closeSync(fd);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function envObject(env?: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of env ?? []) {
    const i = e.indexOf('=');
    if (i > 0) out[e.slice(0, i)] = e.slice(i + 1);
  }
  return out;
}

/**
 * Run hooks inside the container's namespaces: `spawnInContainer` starts the hook process joined
 * to the init's namespaces (the caller owns the spawn engine); we provide stdin and capture output.
 */
export function runContainerHooks(kind: HookKind, hooks: Hook[] | undefined, state: State, spawnInContainer: (hook: Hook, stdin: number, out: number, timeoutMs: number) => { exitCode?: number; signal?: number; timedOut?: boolean }): void {
  (hooks ?? []).forEach((h, i) => {
    const fs = nodeFs();
    const os = nodeOs();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-hook-'));
    try {
      const inFile = path.join(dir, 'state.json');
      fs.writeFileSync(inFile, JSON.stringify(state));
      const stdin = fs.openSync(inFile, 'r');
      const out = fs.openSync(path.join(dir, 'out'), 'w+');
      try {
        const r = spawnInContainer(h, stdin, out, h.timeout ? h.timeout * 1000 : 0);
        const output = fs.readFileSync(path.join(dir, 'out'), 'utf8').trim();
        if (r.timedOut) throw new ContainerError(`error running ${kind} hook #${i} (${h.path}): timed out after ${h.timeout}s`);
        if (r.signal !== undefined || r.exitCode !== 0) {
          const how = r.signal !== undefined ? `killed by signal ${r.signal}` : `exit status ${r.exitCode}`;
          throw new ContainerError(`error running ${kind} hook #${i} (${h.path}): ${how}, output: ${output}`);
        }
      } finally {
        fs.closeSync(stdin);
        fs.closeSync(out);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}
