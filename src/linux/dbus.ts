// A minimal, synchronous D-Bus client: enough to call systemd's manager (StartTransientUnit,
// StopUnit) from the middle of `create`, whose checkpoints are synchronous. It speaks the wire
// protocol (little endian, version 1) over a unix socket connected through libc (scm.ts), with
// SASL EXTERNAL authentication: systemd's private socket (/run/systemd/private, peer to peer, root
// only) or the system bus (then Hello first).

import fs = require('node:fs');
import { pollIn } from './libc';

export type Value = unknown;

// --- marshalling ------------------------------------------------------------------------------

const ALIGN: Record<string, number> = { y: 1, b: 4, n: 2, q: 2, i: 4, u: 4, x: 8, t: 8, d: 8, h: 4, s: 4, o: 4, g: 1, v: 1, a: 4, '(': 8, '{': 8 };

/** End index (exclusive) of the single complete type starting at sig[i]. */
export function typeEnd(sig: string, i: number): number {
  const c = sig[i];
  if (c === 'a') return typeEnd(sig, i + 1);
  if (c === '(' || c === '{') {
    const close = c === '(' ? ')' : '}';
    let j = i + 1;
    while (sig[j] !== close) {
      if (j >= sig.length) throw new Error(`bad D-Bus signature ${sig}`);
      j = typeEnd(sig, j);
    }
    return j + 1;
  }
  if (!(c in ALIGN)) throw new Error(`bad D-Bus signature ${sig}`);
  return i + 1;
}

export function splitSignature(sig: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < sig.length; ) {
    const e = typeEnd(sig, i);
    out.push(sig.slice(i, e));
    i = e;
  }
  return out;
}

export class Writer {
  private buf = Buffer.alloc(256);
  len = 0;

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const b = Buffer.alloc(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(b, 0, 0, this.len);
    this.buf = b;
  }

  align(n: number): void {
    const pad = (n - (this.len % n)) % n;
    this.ensure(pad);
    this.buf.fill(0, this.len, this.len + pad);
    this.len += pad;
  }

  private u32At(off: number, v: number): void {
    this.buf.writeUInt32LE(v, off);
  }

  write(sig: string, v: Value): void {
    const c = sig[0];
    this.align(ALIGN[c]);
    switch (c) {
      case 'y':
        this.ensure(1);
        this.buf.writeUInt8(Number(v), this.len);
        this.len += 1;
        return;
      case 'b':
      case 'u':
      case 'h':
        this.ensure(4);
        this.buf.writeUInt32LE(c === 'b' ? (v ? 1 : 0) : Number(v), this.len);
        this.len += 4;
        return;
      case 'i':
        this.ensure(4);
        this.buf.writeInt32LE(Number(v), this.len);
        this.len += 4;
        return;
      case 'n':
      case 'q':
        this.ensure(2);
        if (c === 'n') this.buf.writeInt16LE(Number(v), this.len);
        else this.buf.writeUInt16LE(Number(v), this.len);
        this.len += 2;
        return;
      case 'x':
      case 't':
        this.ensure(8);
        if (c === 'x') this.buf.writeBigInt64LE(BigInt(v as number | bigint), this.len);
        else this.buf.writeBigUInt64LE(BigInt(v as number | bigint), this.len);
        this.len += 8;
        return;
      case 'd':
        this.ensure(8);
        this.buf.writeDoubleLE(Number(v), this.len);
        this.len += 8;
        return;
      case 's':
      case 'o': {
        const b = Buffer.from(String(v), 'utf8');
        this.ensure(4 + b.length + 1);
        this.u32At(this.len, b.length);
        b.copy(this.buf, this.len + 4);
        this.buf.writeUInt8(0, this.len + 4 + b.length);
        this.len += 4 + b.length + 1;
        return;
      }
      case 'g': {
        const b = Buffer.from(String(v), 'ascii');
        this.ensure(1 + b.length + 1);
        this.buf.writeUInt8(b.length, this.len);
        b.copy(this.buf, this.len + 1);
        this.buf.writeUInt8(0, this.len + 1 + b.length);
        this.len += 1 + b.length + 1;
        return;
      }
      case 'v': {
        const [vs, vv] = v as [string, Value];
        this.write('g', vs);
        this.write(vs, vv);
        return;
      }
      case 'a': {
        const elem = sig.slice(1);
        this.ensure(4);
        const lenAt = this.len;
        this.len += 4;
        this.align(ALIGN[elem[0]]);
        const start = this.len;
        for (const e of v as Value[]) this.write(elem, e);
        this.u32At(lenAt, this.len - start);
        return;
      }
      case '(':
      case '{': {
        const fields = splitSignature(sig.slice(1, -1));
        const vals = v as Value[];
        fields.forEach((f, i) => this.write(f, vals[i]));
        return;
      }
    }
    throw new Error(`cannot marshal D-Bus type ${sig}`);
  }

  bytes(): Buffer {
    return this.buf.subarray(0, this.len);
  }
}

export class Reader {
  off = 0;
  constructor(private readonly buf: Buffer) {}

  align(n: number): void {
    this.off += (n - (this.off % n)) % n;
  }

  read(sig: string): Value {
    const c = sig[0];
    this.align(ALIGN[c]);
    const b = this.buf;
    switch (c) {
      case 'y':
        return b.readUInt8(this.off++);
      case 'b':
      case 'u':
      case 'h': {
        const v = b.readUInt32LE(this.off);
        this.off += 4;
        return c === 'b' ? v !== 0 : v;
      }
      case 'i': {
        const v = b.readInt32LE(this.off);
        this.off += 4;
        return v;
      }
      case 'n':
      case 'q': {
        const v = c === 'n' ? b.readInt16LE(this.off) : b.readUInt16LE(this.off);
        this.off += 2;
        return v;
      }
      case 'x':
      case 't': {
        const v = c === 'x' ? b.readBigInt64LE(this.off) : b.readBigUInt64LE(this.off);
        this.off += 8;
        return v;
      }
      case 'd': {
        const v = b.readDoubleLE(this.off);
        this.off += 8;
        return v;
      }
      case 's':
      case 'o': {
        const n = b.readUInt32LE(this.off);
        const s = b.toString('utf8', this.off + 4, this.off + 4 + n);
        this.off += 4 + n + 1;
        return s;
      }
      case 'g': {
        const n = b.readUInt8(this.off);
        const s = b.toString('ascii', this.off + 1, this.off + 1 + n);
        this.off += 1 + n + 1;
        return s;
      }
      case 'v': {
        const vs = this.read('g') as string;
        return [vs, this.read(vs)];
      }
      case 'a': {
        const n = b.readUInt32LE(this.off);
        this.off += 4;
        const elem = sig.slice(1);
        this.align(ALIGN[elem[0]]);
        const end = this.off + n;
        const out: Value[] = [];
        while (this.off < end) out.push(this.read(elem));
        return out;
      }
      case '(':
      case '{':
        return splitSignature(sig.slice(1, -1)).map((f) => this.read(f));
    }
    throw new Error(`cannot unmarshal D-Bus type ${sig}`);
  }
}

// --- messages ---------------------------------------------------------------------------------

export const MSG = { METHOD_CALL: 1, METHOD_RETURN: 2, ERROR: 3, SIGNAL: 4 } as const;
const FIELD = { PATH: 1, INTERFACE: 2, MEMBER: 3, ERROR_NAME: 4, REPLY_SERIAL: 5, DESTINATION: 6, SENDER: 7, SIGNATURE: 8 } as const;

export interface Call {
  destination?: string;
  path: string;
  iface: string;
  member: string;
  signature?: string;
  body?: Value[];
}

export function encodeCall(serial: number, call: Call): Buffer {
  const body = new Writer();
  const sigs = splitSignature(call.signature ?? '');
  sigs.forEach((s, i) => body.write(s, call.body![i]));
  const fields: Array<[number, [string, Value]]> = [
    [FIELD.PATH, ['o', call.path]],
    [FIELD.INTERFACE, ['s', call.iface]],
    [FIELD.MEMBER, ['s', call.member]],
  ];
  if (call.destination) fields.push([FIELD.DESTINATION, ['s', call.destination]]);
  if (call.signature) fields.push([FIELD.SIGNATURE, ['g', call.signature]]);
  const h = new Writer();
  h.write('y', 'l'.charCodeAt(0));
  h.write('y', MSG.METHOD_CALL);
  h.write('y', 0);
  h.write('y', 1);
  h.write('u', body.len);
  h.write('u', serial);
  h.write('a(yv)', fields);
  h.align(8);
  return Buffer.concat([h.bytes(), body.bytes()]);
}

export interface Message {
  type: number;
  serial: number;
  replySerial?: number;
  errorName?: string;
  signature: string;
  body: Value[];
}

/** Length of the message at the start of buf, or 0 when more bytes are needed. */
export function messageLength(buf: Buffer): number {
  if (buf.length < 16) return 0;
  if (buf[0] !== 'l'.charCodeAt(0)) throw new Error('D-Bus: only little-endian messages are supported');
  const bodyLen = buf.readUInt32LE(4);
  const fieldsLen = buf.readUInt32LE(12);
  const headerLen = 16 + fieldsLen + ((8 - ((16 + fieldsLen) % 8)) % 8);
  return headerLen + bodyLen;
}

export function decodeMessage(buf: Buffer): Message {
  const r = new Reader(buf);
  r.off = 1;
  const type = r.read('y') as number;
  r.off = 8;
  const serial = r.read('u') as number;
  const fields = r.read('a(yv)') as Array<[number, [string, Value]]>;
  r.align(8);
  const get = (code: number) => fields.find((f) => f[0] === code)?.[1][1];
  const signature = (get(FIELD.SIGNATURE) as string | undefined) ?? '';
  const bodyReader = new Reader(buf.subarray(r.off));
  const body = splitSignature(signature).map((s) => bodyReader.read(s));
  return { type, serial, replySerial: get(FIELD.REPLY_SERIAL) as number | undefined, errorName: get(FIELD.ERROR_NAME) as string | undefined, signature, body };
}

// --- the connection -------------------------------------------------------------------------

export class DBusError extends Error {
  constructor(
    readonly errorName: string,
    message: string,
  ) {
    super(`${errorName}: ${message}`);
  }
}

/** How long one call may wait for its answer: a peer that never answers must not hang the runtime. */
const ANSWER_TIMEOUT_MS = 25000;

export class Connection {
  private serial = 0;
  private pending = Buffer.alloc(0);
  private deadline = 0;

  private constructor(
    private readonly fd: number,
    private readonly path: string,
    private readonly timeoutMs: number,
  ) {}

  /**
   * Connect and authenticate (SASL EXTERNAL with our uid); `bus`: say Hello as a bus client must.
   * Each answer (authentication, a call's reply) is awaited at most `timeoutMs`.
   */
  static open(path: string, bus: boolean, timeoutMs = ANSWER_TIMEOUT_MS): Connection {
    const { connectUnix } = require('./scm') as typeof import('./scm');
    const fd = connectUnix(path);
    const c = new Connection(fd, path, timeoutMs);
    try {
      c.deadline = Date.now() + timeoutMs;
      const uid = Buffer.from(String(process.getuid?.() ?? 0)).toString('hex');
      c.send(Buffer.from(`\0AUTH EXTERNAL ${uid}\r\n`));
      const line = c.readLine();
      if (!line.startsWith('OK ')) throw new Error(`D-Bus authentication on ${path} refused: ${line}`);
      c.send(Buffer.from('BEGIN\r\n'));
      if (bus) c.call({ destination: 'org.freedesktop.DBus', path: '/org/freedesktop/DBus', iface: 'org.freedesktop.DBus', member: 'Hello' });
      return c;
    } catch (e) {
      c.close();
      throw e;
    }
  }

  private send(b: Buffer): void {
    for (let off = 0; off < b.length; ) off += fs.writeSync(this.fd, b, off, b.length - off);
  }

  private fill(): void {
    for (;;) {
      const left = this.deadline - Date.now();
      if (left <= 0) throw new Error(`D-Bus: no answer on ${this.path} within ${this.timeoutMs / 1000} s`);
      if (pollIn(this.fd, Math.min(left, 1000))) break;
    }
    const chunk = Buffer.alloc(65536);
    const n = fs.readSync(this.fd, chunk, 0, chunk.length, null);
    if (n <= 0) throw new Error('D-Bus: connection closed');
    this.pending = Buffer.concat([this.pending, chunk.subarray(0, n)]);
  }

  private readLine(): string {
    for (;;) {
      const i = this.pending.indexOf('\r\n');
      if (i >= 0) {
        const line = this.pending.toString('ascii', 0, i);
        this.pending = this.pending.subarray(i + 2);
        return line;
      }
      this.fill();
    }
  }

  private readMessage(): Message {
    for (;;) {
      const n = messageLength(this.pending);
      if (n && this.pending.length >= n) {
        const m = decodeMessage(this.pending.subarray(0, n));
        this.pending = this.pending.subarray(n);
        return m;
      }
      this.fill();
    }
  }

  /** Call a method and wait for its reply (signals meanwhile are dropped); errors throw DBusError. */
  call(call: Call): Value[] {
    const serial = ++this.serial;
    this.send(encodeCall(serial, call));
    this.deadline = Date.now() + this.timeoutMs;
    for (;;) {
      const m = this.readMessage();
      if (m.replySerial !== serial) continue;
      if (m.type === MSG.ERROR) throw new DBusError(m.errorName ?? 'org.freedesktop.DBus.Error.Failed', String(m.body[0] ?? ''));
      return m.body;
    }
  }

  close(): void {
    try {
      fs.closeSync(this.fd);
    } catch {
      /* closed */
    }
  }
}
