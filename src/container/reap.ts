// Supervising a foreground process (run, exec): forward signals to it, reap children until it
// exits, and turn its wait status into an exit code: its own, or 128+N when signal N killed it.

import { SIGNALS } from '../linux/signals';
import { killPid, libc } from '../linux/libc';
import { isAlive } from '../linux/proc';

/** Signals a foreground run/exec passes on (runc forwards all it can catch). */
const FORWARDED: NodeJS.Signals[] = ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGUSR2', 'SIGALRM', 'SIGCONT', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU', 'SIGVTALRM', 'SIGPROF', 'SIGPWR', 'SIGSYS', 'SIGIO'];

/** Forward signals to `pid`; SIGWINCH too unless a terminal proxy handles it. Returns the undo. */
export function forwardSignals(pid: number, terminalProxy: boolean): () => void {
  const signals = terminalProxy ? FORWARDED : [...FORWARDED, 'SIGWINCH' as NodeJS.Signals];
  // our own table: node:os (os.constants.signals) took ~1.3 ms to load in the executable
  const forward = (sig: NodeJS.Signals) => killPid(pid, SIGNALS[sig]);
  for (const s of signals) process.on(s, forward);
  return () => {
    for (const s of signals) process.off(s, forward);
  };
}

/**
 * Reap children (as a subreaper, orphans come to us too) until `pid` exits; returns its exit
 * code, or 128 + the signal that killed it. Waits in the event loop (signal forwarding, a terminal
 * proxy keep running): woken by SIGCHLD, with a polling fallback should SIGCHLD be blocked or
 * missed. (Polling alone, backing off to 25 ms, noticed an exit up to 25 ms late.)
 */
export async function reapUntil(pid: number): Promise<number> {
  const status = new Int32Array(1);
  const WNOHANG = 1;
  const WALL = 0x40000000;
  let wake: (() => void) | null = null;
  let pending = false;
  const onChild = () => {
    pending = true;
    wake?.();
  };
  process.on('SIGCHLD', onChild);
  try {
    for (let delay = 1; ; delay = Math.min(delay * 2, 100)) {
      pending = false;
      for (;;) {
        const r = libc().waitpid(-1, status, WNOHANG | WALL);
        if (r < 0 && !isAlive(pid)) return 255; // not our child any more (reaped elsewhere)
        if (r <= 0) break;
        if (r === pid) {
          const s = status[0];
          if ((s & 0x7f) === 0) return (s >> 8) & 0xff;
          return 128 + (s & 0x7f);
        }
      }
      if (pending) continue; // a SIGCHLD came while we were reaping: look again at once
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, delay);
        function done(): void {
          clearTimeout(timer);
          wake = null;
          resolve();
        }
        wake = done;
      });
    }
  } finally {
    process.off('SIGCHLD', onChild);
  }
}
