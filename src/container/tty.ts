// Foreground `run` and `exec` with a terminal and no --console-socket: tsrunc holds the pty
// master itself and proxies the user's terminal to it, as runc does — raw mode, both directions,
// and window size changes (SIGWINCH).

import fs = require('node:fs');
import { setWinsize } from '../linux/libc';

export interface TerminalProxy {
  /** wait for the remaining output (after the process exited), then restore the user's terminal */
  finish(): Promise<void>;
}

export function proxyTerminal(master: number): TerminalProxy {
  const stdinIsTty = process.stdin.isTTY === true;
  if (stdinIsTty) process.stdin.setRawMode(true);
  const resize = () => {
    if (process.stdout.isTTY) setWinsize(master, process.stdout.rows, process.stdout.columns);
  };
  resize();
  process.on('SIGWINCH', resize);
  const onInput = (d: Buffer) => {
    try {
      fs.writeSync(master, d);
    } catch {
      /* the process is gone */
    }
  };
  process.stdin.on('data', onInput);
  process.stdin.resume();

  // output: the master reads EIO once every slave fd is closed, which is our end of stream
  const out = fs.createReadStream('', { fd: master, autoClose: false, highWaterMark: 16384 });
  const ended = new Promise<void>((resolve) => {
    out.on('data', (d) => {
      let off = 0;
      const buf = d as Buffer;
      while (off < buf.length) {
        try {
          off += fs.writeSync(1, buf, off);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') return resolve();
        }
      }
    });
    out.on('error', () => resolve());
    out.on('end', () => resolve());
    out.on('close', () => resolve());
  });

  return {
    async finish() {
      await Promise.race([ended, new Promise((r) => setTimeout(r, 500))]);
      process.off('SIGWINCH', resize);
      process.stdin.off('data', onInput);
      process.stdin.pause();
      if (stdinIsTty) process.stdin.setRawMode(false);
      // the stream closes the master itself once destroyed (autoClose or not), when its read in
      // flight in the thread pool is back: closing it here as well once let that late close hit
      // the fd the next open got, the container lock's (EBADF at its release). Until then the
      // master keeps its number, so nothing else can get it.
      out.destroy();
    },
  };
}
