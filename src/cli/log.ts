// runc-compatible logging: text (logrus's key=value lines) or JSON lines {"level","msg","time"}
// to --log or stderr. containerd reads the last "error" line of --log as the failure reason.
// Output goes through fs.writeSync: touching process.stdout/stderr on a pipe makes libuv set
// O_NONBLOCK on it, and the container would inherit that.

import fs = require('node:fs');

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
      this.fd = fs.openSync(opts.log, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT | 0o2000000 /* O_CLOEXEC */, 0o644);
      this.toStderr = false;
    }
  }

  /** errors also reach the user's terminal when the log goes to a file (as runc's fatal does) */
  get logsToStderr(): boolean {
    return this.toStderr;
  }

  log(level: Level, msg: string): void {
    if (level === 'debug' && !this.debugEnabled) return;
    const time = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const line =
      this.format === 'json'
        ? JSON.stringify({ level, msg, time }) + '\n'
        : `time="${time}" level=${level} msg=${JSON.stringify(msg)}\n`;
    try {
      fs.writeSync(this.fd, line);
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
  const buf = Buffer.from(text);
  let off = 0;
  while (off < buf.length) {
    try {
      off += fs.writeSync(1, buf, off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
    }
  }
}

export function writeErr(text: string): void {
  try {
    fs.writeSync(2, text);
  } catch {
    /* stderr closed */
  }
}
