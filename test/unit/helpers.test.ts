// The test helpers that decide what integration tests assert: they must count what the tests mean.

import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { spawn } from 'node:child_process';
import { processesWith, until } from '../helpers/runtime';

/** every live process whose command line holds `marker`, forks included */
function everyProcessWith(marker: string): number[] {
  const out: number[] = [];
  for (const p of fs.readdirSync('/proc')) {
    try {
      if (fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(marker)) out.push(Number(p));
    } catch {
      /* gone, or not a process */
    }
  }
  return out;
}

describe('test helpers', () => {
  it('processesWith counts a shell once though its fork shows its command line', async () => {
    const marker = `helper-marker-${process.pid}`;
    // the subshell forks sleep and waits: it shows sh's command line for as long as sleep runs.
    // Its own process group, so that the whole tree can be killed.
    const sh = spawn('/bin/sh', ['-c', `(sleep 1000; true); : ${marker}`], { stdio: 'ignore', detached: true });
    try {
      await until('the subshell to fork', () => everyProcessWith(marker).length === 2);
      assert.deepEqual(processesWith(marker), [sh.pid]);
    } finally {
      process.kill(-sh.pid!, 'SIGKILL');
    }
  });
});
