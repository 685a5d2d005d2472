// The parent's side of a running chain: read records, answer checkpoints, name failures.
//
// Checkpoint records arrive on the channel (a socket the child blocks on); ordinary step records go
// to a separate pipe that is drained only when something happens on the channel (a checkpoint or
// EOF), so that they never wake the parent up.

import { files } from '../linux/files';
import { pollIn } from '../linux/libc';
import { describeErrno } from '../linux/errno';
import { RECORD } from './program';
import type { StepInfo } from './chain';

export interface Record_ {
  kind: number;
  step: number;
  errno: number;
  /** CLOCK_MONOTONIC ns, for timestamp records */
  ns?: bigint;
}

export interface StepFailure {
  step: number;
  desc: string;
  errno: number;
  message: string;
}

export type MonitorResult =
  | { kind: 'checkpoint'; name: string }
  | { kind: 'eof' }
  | { kind: 'failed'; failure: StepFailure };

export interface MonitorOptions {
  /** called at each checkpoint before the go byte is sent; throwing aborts (no go byte) */
  onCheckpoint?: (name: string) => void;
  /** return at this checkpoint without sending the go byte */
  stopAt?: string;
  timeoutMs?: number;
  /** polled while waiting: false when the child is gone (EOF is the normal signal; this is a safety net) */
  alive?: () => boolean;
  onWarning?: (message: string) => void;
  onRecord?: (r: Record_) => void;
  /** called right after the go byte of a checkpoint was sent (the child runs on) */
  onResumed?: (name: string) => void;
}


export class Monitor {
  /** last step index covered by a record: a failure is blamed on the steps after it */
  private lastChecked = -1;
  // (Uint8Array, not Buffer: `start` loads this module, and a Buffer's first use costs ~0.17 ms)
  private pending = new Uint8Array(0);
  private readonly buf = new Uint8Array(65536);
  readonly timestamps: { label: string; ns: bigint }[] = [];
  readonly records: Record_[] = [];

  constructor(
    private readonly steps: StepInfo[],
    private readonly channel: number,
    private readonly recordsFd: number | null,
    private readonly labels: (step: number) => string = (i) => steps[i]?.desc ?? `step ${i}`,
  ) {}

  /** Consume records until a checkpoint (handled, then go), EOF, or a failure. */
  run(opts: MonitorOptions = {}): MonitorResult {
    const timeout = opts.timeoutMs ?? 30000;
    for (;;) {
      // the time limit is per wait: work done at a checkpoint (hooks) does not count
      const deadline = Date.now() + timeout;
      const rec = this.readRecord(this.channel, deadline, opts.alive);
      for (const r of this.drainRecordsPipe()) {
        const res = this.handle(r, opts);
        if (res) return res;
      }
      if (rec === null) return { kind: 'eof' };
      const res = this.handle(rec, opts);
      if (res) return res;
    }
  }

  /** Skip the records before `step` (they were consumed by an earlier process, e.g. create). */
  resumeAfter(step: number): void {
    this.lastChecked = step;
  }

  go(): void {
    files().writeAll(this.channel, new Uint8Array(1));
  }

  private handle(r: Record_, opts: MonitorOptions): MonitorResult | null {
    this.records.push(r);
    opts.onRecord?.(r);
    if (r.kind === RECORD.TIMESTAMP) {
      this.timestamps.push({ label: this.labels(r.step), ns: r.ns ?? 0n });
      return null;
    }
    const step = this.steps[r.step];
    if (r.kind === RECORD.EXEC) return null; // exec attempts: interpreted by the caller from `records`
    if (r.errno !== 0 && (step?.check === 'warn')) {
      opts.onWarning?.(`${step.desc}: ${describeErrno(r.errno)}`);
      this.lastChecked = r.step;
      return null;
    }
    if (r.errno !== 0 && step?.check !== 'report') {
      const desc = this.blame(r);
      this.lastChecked = r.step;
      return { kind: 'failed', failure: { step: r.step, desc, errno: r.errno, message: `${desc}: ${describeErrno(r.errno)}` } };
    }
    this.lastChecked = r.step;
    if (r.kind === RECORD.CHECKPOINT) {
      const name = step?.desc.replace(/^checkpoint: /, '') ?? String(r.step);
      if (opts.stopAt && name === opts.stopAt) return { kind: 'checkpoint', name };
      opts.onCheckpoint?.(name);
      this.go();
      opts.onResumed?.(name);
    }
    return null;
  }

  /** Which step failed: the recorded one, or the unchecked steps since the last record. */
  private blame(r: Record_): string {
    // errno may come from this step or from unchecked ('none') steps before it, back to the last
    // step that recorded, tripped or cleared errno
    const candidates: StepInfo[] = [];
    const current = this.steps[r.step];
    if (current && (current.op === 'call' || current.op === 'syscall')) candidates.push(current);
    for (let i = r.step - 1; i > this.lastChecked; i--) {
      const s = this.steps[i];
      if (s.op !== 'call' && s.op !== 'syscall') continue;
      if (s.check !== 'none') break;
      candidates.unshift(s);
    }
    if (candidates.length === 1) return candidates[0].desc;
    if (candidates.length === 0) return current?.desc ?? `step ${r.step}`;
    return `one of [${candidates.map((s) => s.desc).join('; ')}]`;
  }

  private readRecord(fd: number, deadline: number, alive?: () => boolean): Record_ | null {
    const head = this.readExact(fd, 8, deadline, alive);
    if (head === null) return null;
    const h = new DataView(head.buffer);
    const tag = h.getUint32(0, true);
    const rec: Record_ = { kind: tag >>> 24, step: tag & 0xffffff, errno: h.getInt32(4, true) };
    if (rec.kind === RECORD.TIMESTAMP) {
      const ts = this.readExact(fd, 16, deadline, alive);
      if (ts) rec.ns = timespecNs(new DataView(ts.buffer), 0);
    }
    return rec;
  }

  private readExact(fd: number, n: number, deadline: number, alive?: () => boolean): Uint8Array | null {
    const out = new Uint8Array(n);
    let got = 0;
    while (got < n) {
      const left = deadline - Date.now();
      if (left <= 0) throw Object.assign(new Error('timed out waiting for the container process'), { code: 'ETIMEDOUT' });
      if (!pollIn(fd, Math.min(left, 200))) {
        if (alive && !alive()) {
          // the child is gone but a copy of the channel may still be open somewhere: treat as EOF
          if (got === 0) return null;
          throw new Error('short record from the container process');
        }
        continue;
      }
      let r: number;
      try {
        r = files().readSync(fd, out, got, n - got);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EAGAIN') continue;
        throw e;
      }
      if (r === 0) {
        if (got === 0) return null;
        throw new Error('short record from the container process');
      }
      got += r;
    }
    return out;
  }

  private drainRecordsPipe(): Record_[] {
    if (this.recordsFd === null) return [];
    let data = this.pending;
    for (;;) {
      let r: number;
      try {
        r = files().readSync(this.recordsFd, this.buf, 0, this.buf.length);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EAGAIN') break;
        throw e;
      }
      if (r === 0) break;
      const joined = new Uint8Array(data.length + r);
      joined.set(data);
      joined.set(this.buf.subarray(0, r), data.length);
      data = joined;
    }
    const out: Record_[] = [];
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    let o = 0;
    while (data.length - o >= 8) {
      const tag = view.getUint32(o, true);
      const kind = tag >>> 24;
      const len = kind === RECORD.TIMESTAMP ? 24 : 8;
      if (data.length - o < len) break;
      const rec: Record_ = { kind, step: tag & 0xffffff, errno: view.getInt32(o + 4, true) };
      if (kind === RECORD.TIMESTAMP) rec.ns = timespecNs(view, o + 8);
      out.push(rec);
      o += len;
    }
    this.pending = data.subarray(o);
    return out;
  }
}

/** A struct timespec (tv_sec, tv_nsec: two 64-bit words) in ns. */
function timespecNs(v: DataView, o: number): bigint {
  return v.getBigInt64(o, true) * 1000000000n + v.getBigInt64(o + 8, true);
}
