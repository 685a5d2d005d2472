// TSRUNC_TIMING=1: print how long each phase of a verb took (ms since the process started), to
// stderr, for benchmarks and for finding where the time goes. Costs nothing when unset.

const enabled = process.env.TSRUNC_TIMING === '1';
const marks: Array<[string, number]> = [];

export function mark(label: string): void {
  if (enabled) marks.push([label, performance.now()]);
}

/** A mark from a CLOCK_MONOTONIC timestamp (the container init's own, sent with its records). */
export function markMonotonic(label: string, ns: bigint): void {
  if (!enabled) return;
  // the same clock as the init's: Bun's process.hrtime counts from the process's start
  const nowNs = (require('../linux/libc') as typeof import('../linux/libc')).monotonicNs();
  marks.push([label, performance.now() - Number(nowNs - ns) / 1e6]);
}

/** The init's own timestamps (a Monitor's, labelled "timestamp: <what>") as marks. */
export function markInitTimestamps(timestamps: readonly { label: string; ns: bigint }[]): void {
  if (!enabled) return;
  // (no regular expression: start runs this; see cli/argv.ts)
  for (const t of timestamps) markMonotonic(`  init: ${t.label.startsWith('timestamp: ') ? t.label.slice(11) : t.label}`, t.ns);
}

export function reportTiming(verb: string): void {
  if (!enabled || marks.length === 0) return;
  marks.sort((a, b) => a[1] - b[1]);
  let prev = 0;
  const lines = marks.map(([label, t]) => {
    const line = `  ${t.toFixed(1).padStart(7)} ms  (+${(t - prev).toFixed(1).padStart(5)})  ${label}`;
    prev = t;
    return line;
  });
  const { files } = require('../linux/files') as typeof import('../linux/files');
  files().writeAll(2, `tsrunc ${verb} timing:\n${lines.join('\n')}\n`);
}
