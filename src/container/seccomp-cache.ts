// Compiled seccomp filters, kept in the state root by the hash of the profile: Docker and podman
// give every container the same profile, and checking and compiling Docker's costs ~40 ms of each
// create in this runtime's interpreter. An entry is written only for a profile that passed every
// check and compiled; it is keyed by this very build of tsrunc (build-info.json's `build`) and the
// architecture, so a new build never reads an older build's filters.

import { files } from '../linux/files';
import path = require('../linux/path');
import { hostArch } from '../linux/arch';
import { buildInfo } from '../state/build-info';
import type { LinuxSeccomp } from '../spec/types';
import type { CompiledFilter } from '../plan/process';

export interface CachedFilter extends CompiledFilter {
  /** the chain's syscalls the profile does not simply allow (create warns about them) */
  denied: string[];
}

export class SeccompCache {
  private readonly dir: string;
  /** what this process read or wrote, per profile: create looks a profile up twice */
  private readonly seen = new WeakMap<LinuxSeccomp, CachedFilter | null>();

  constructor(stateRoot: string) {
    this.dir = path.join(stateRoot, '.seccomp-cache');
  }

  lookup(profile: LinuxSeccomp): CachedFilter | null {
    if (this.seen.has(profile)) return this.seen.get(profile)!;
    const key = cacheKey(profile);
    const found = key === null ? null : this.read(key);
    this.seen.set(profile, found);
    return found;
  }

  /** Best effort: a cache that cannot be written only costs the next create its time. */
  keep(profile: LinuxSeccomp, f: CachedFilter): void {
    this.seen.set(profile, f);
    const key = cacheKey(profile);
    if (key === null) return;
    try {
      files().mkdirSync(this.dir, 0o700, true);
      const file = path.join(this.dir, `${key}.json`);
      const tmp = `${file}.${process.pid}.tmp`;
      const entry = { key, program: Buffer.from(f.program).toString('base64'), flags: f.flags, instructions: f.instructions, notify: !!f.notify, denied: f.denied };
      files().writeFileSync(tmp, JSON.stringify(entry), 0o600);
      files().renameSync(tmp, file);
    } catch {
      /* read-only or full: no cache */
    }
  }

  private read(key: string): CachedFilter | null {
    let text: string;
    try {
      text = files().readFileSync(path.join(this.dir, `${key}.json`));
    } catch {
      return null;
    }
    try {
      const e = JSON.parse(text) as { key: string; program: string; flags: number; instructions: number; notify: boolean; denied: string[] };
      if (e.key !== key) return null;
      const program = new Uint8Array(Buffer.from(e.program, 'base64'));
      if (program.length !== e.instructions * 8) return null;
      return { program, flags: e.flags, instructions: e.instructions, notify: e.notify, denied: e.denied };
    } catch {
      return null; // torn or foreign: compiled again (and rewritten)
    }
  }
}

/** null when this build has no build id: nothing may then be shared between processes. */
function cacheKey(profile: LinuxSeccomp): string | null {
  const { version, commit, build } = buildInfo();
  if (!build) return null;
  return sha256Hex(`${version} ${commit} ${build}\0${hostArch().name}\0${JSON.stringify(profile)}`);
}

interface BunHasher {
  update(data: string): BunHasher;
  digest(encoding: 'hex'): string;
}

/** Bun's own hasher when there is one: loading node:crypto costs Bun 2-3 ms. */
function sha256Hex(text: string): string {
  const Hasher = (globalThis as { Bun?: { CryptoHasher: new (algorithm: string) => BunHasher } }).Bun?.CryptoHasher;
  if (Hasher) return new Hasher('sha256').update(text).digest('hex');
  const { createHash } = require('node:crypto') as typeof import('node:crypto');
  return createHash('sha256').update(text).digest('hex');
}
