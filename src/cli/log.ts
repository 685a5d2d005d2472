// runc-compatible logging: text (logrus's key=value lines) or JSON lines {"level","msg","time"}
// to --log or stderr. containerd reads the last "error" line of --log as the failure reason.
// Output goes straight to the fds (files.ts, not even node:fs in the executable): touching
// process.stdout/stderr on a pipe makes libuv set O_NONBLOCK on it, and the container would
// inherit that.

import { files } from '../linux/files';

export type LogFormat = 'text' | 'json';
export type Level = 'debug' | 'info' | 'warning' | 'error';

export class Logger {
  private fd = 2;
  private toStderr = true;
  debugEnabled = false;

  constructor(private format: LogFormat = 'text') {}

  configure(opts: { log?: string; format?: LogFormat; debug?: boolean }): void {
    if (opts.format) this.format = opts.format;
    this.debugEnabled = !!opts.debug;
    if (opts.log) {
      this.fd = files().openSync(opts.log, 0o2101 /* O_WRONLY | O_CREAT | O_APPEND */, 0o644);
      this.toStderr = false;
    }
  }

  /** errors also reach the user's terminal when the log goes to a file (as runc's fatal does) */
  get logsToStderr(): boolean {
    return this.toStderr;
  }

  log(level: Level, msg: string): void {
    if (level === 'debug' && !this.debugEnabled) return;
    const time = `${new Date().toISOString().slice(0, 19)}Z`; // to the second, as logrus (no regex: see argv.ts)
    const line =
      this.format === 'json'
        ? JSON.stringify({ level, msg, time }) + '\n'
        : `time="${time}" level=${level} msg=${JSON.stringify(msg)}\n`;
    try {
      files().writeAll(this.fd, line);
    } catch {
      /* nowhere left to report to */
    }
  }

  debug(msg: string): void {
    this.log('debug', msg);
  }

  info(msg: string): void {
    this.log('info', msg);
  }

  warn(msg: string): void {
    this.log('warning', msg);
  }

  error(msg: string): void {
    this.log('error', msg);
  }
}

export const logger = new Logger();

export function writeOut(text: string): void {
  files().writeAll(1, text);
}

export function writeErr(text: string): void {
  try {
    files().writeAll(2, text);
  } catch {
    /* stderr closed */
  }
}
