// A pseudo-terminal for tests that drive an interactive tsrunc (the user's side of `run -t`), and
// a console-socket receiver (what containerd and conmon do with --console-socket).

import * as fs from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import koffi = require('koffi');

export interface Pty {
  master: number;
  slave: number;
}

const O_RDWR = 2;
const O_NOCTTY = 0o400;
const O_CLOEXEC = 0o2000000;

export function openPty(rows = 24, cols = 80): Pty {
  // test helpers run on Node: koffi binds what the runtime itself never calls
  const lib = koffi.load('libc.so.6');
  const posixOpenpt = lib.func('int posix_openpt(int flags)');
  const grantpt = lib.func('int grantpt(int fd)');
  const unlockpt = lib.func('int unlockpt(int fd)');
  const ptsname = lib.func('const char *ptsname(int fd)');
  const master = posixOpenpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) throw new Error('posix_openpt failed');
  grantpt(master);
  unlockpt(master);
  const slave = fs.openSync(ptsname(master) as string, fs.constants.O_RDWR | O_NOCTTY);
  const ws = Buffer.alloc(8);
  ws.writeUInt16LE(rows, 0);
  ws.writeUInt16LE(cols, 2);
  lib.func('int ioctl(int fd, unsigned long req, void *arg)')(master, 0x5414, ws);
  return { master, slave };
}

/**
 * What a terminal shows, collected as it comes, so that tests can wait for text with a deadline.
 * The Screen owns the master fd from then on: close() closes it, once the read in flight (in
 * libuv's thread pool) returns. A caller that closed the fd itself would let that late close hit
 * whatever fd took the number meanwhile (the next test's master: EBADF).
 */
export class Screen {
  text = '';
  private closed = false;
  private readonly waiters = new Set<() => void>();
  private readonly stream: fs.ReadStream;

  constructor(fd: number) {
    this.stream = fs.createReadStream('', { fd, autoClose: false });
    this.stream.on('data', (d) => {
      this.text += d.toString();
      for (const w of this.waiters) w();
    });
    const end = () => {
      this.closed = true;
      for (const w of this.waiters) w();
    };
    this.stream.on('error', end);
    this.stream.on('end', end);
  }

  async waitFor(pattern: RegExp, timeoutMs = 10000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.text)) {
      if (this.closed) throw new Error(`terminal closed while waiting for ${pattern}; got ${JSON.stringify(this.text)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${pattern}; got ${JSON.stringify(this.text)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, left);
        function done() {
          clearTimeout(t);
          resolve();
        }
        this.waiters.add(done);
      });
      this.waiters.clear();
    }
    return this.text;
  }

  /** Stop reading and close the master fd (when the read in flight returns). */
  close(): void {
    this.stream.destroy();
  }
}

/**
 * Start `cmd args` in a session of its own with the pty's slave as its terminal (the slave is
 * closed here: the child holds it); the Screen reads the master.
 */
export function spawnOnPty(cmd: string, args: string[], pty: Pty): { child: ChildProcess; exited: Promise<number | null>; screen: Screen } {
  const child = spawn(cmd, args, { stdio: [pty.slave, pty.slave, pty.slave], detached: true });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  fs.closeSync(pty.slave);
  return { child, exited, screen: new Screen(pty.master) };
}
