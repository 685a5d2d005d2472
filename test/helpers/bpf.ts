/**
 * A classic-BPF interpreter with the kernel's seccomp semantics, to run both our filters and
 * libseccomp's on the same inputs. Independent of src/linux/seccomp (only the instruction decoding
 * of the byte layout is repeated here) so that it can judge the compiler.
 */

export interface BpfInsn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

/** struct seccomp_data { int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6]; } */
export interface SeccompData {
  nr: number;
  arch: number;
  instructionPointer?: bigint;
  args: readonly bigint[];
}

export interface RunResult {
  action: number;
  /** instructions executed, to compare how fast two filters decide */
  steps: number;
}

export function decode(bytes: Uint8Array): BpfInsn[] {
  if (bytes.length % 8 !== 0) throw new Error(`program length ${bytes.length} is not a multiple of 8`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: BpfInsn[] = [];
  for (let o = 0; o < bytes.length; o += 8) {
    out.push({ code: view.getUint16(o, true), jt: view.getUint8(o + 2), jf: view.getUint8(o + 3), k: view.getUint32(o + 4, true) });
  }
  return out;
}

/** The 64 bytes the kernel hands to the filter (host byte order: little endian here). */
export function seccompDataBytes(d: SeccompData): DataView {
  const view = new DataView(new ArrayBuffer(64));
  view.setInt32(0, d.nr | 0, true);
  view.setUint32(4, d.arch >>> 0, true);
  view.setBigUint64(8, d.instructionPointer ?? 0n, true);
  for (let i = 0; i < 6; i++) view.setBigUint64(16 + 8 * i, BigInt.asUintN(64, d.args[i] ?? 0n), true);
  return view;
}

/**
 * The kernel's static checks (bpf_check_classic + seccomp_check_filter), reduced to what a seccomp
 * program may contain: aligned 32-bit absolute loads inside seccomp_data, forward jumps that stay
 * inside the program, a return as the last instruction, at most 4096 instructions.
 */
export function validate(insns: readonly BpfInsn[]): void {
  if (insns.length === 0 || insns.length > 4096) throw new Error(`bad program length ${insns.length}`);
  insns.forEach((i, pc) => {
    const cls = i.code & 0x07;
    if (cls === 0x00 && (i.code & 0xe0) === 0x20) {
      if ((i.code & 0x18) !== 0x00 || i.k % 4 !== 0 || i.k >= 64) throw new Error(`pc ${pc}: bad seccomp load ${i.k}`);
    }
    if (cls === 0x05) {
      if ((i.code & 0xf0) === 0x00) {
        if (pc + 1 + i.k >= insns.length) throw new Error(`pc ${pc}: ja out of range`);
      } else if (pc + 1 + i.jt >= insns.length || pc + 1 + i.jf >= insns.length) {
        throw new Error(`pc ${pc}: jump out of range`);
      }
    }
  });
  const last = insns[insns.length - 1];
  if ((last.code & 0x07) !== 0x06) throw new Error('last instruction is not a return');
}

export function run(insns: readonly BpfInsn[], data: SeccompData | DataView): RunResult {
  const mem = data instanceof DataView ? data : seccompDataBytes(data);
  let a = 0;
  let x = 0;
  const scratch = new Uint32Array(16);
  let pc = 0;
  let steps = 0;
  for (;;) {
    if (pc >= insns.length) throw new Error(`fell off the program at ${pc}`);
    const { code, jt, jf, k } = insns[pc];
    steps++;
    pc++;
    const cls = code & 0x07;
    const src = (code & 0x08) !== 0 ? x : k;
    switch (cls) {
      case 0x00: // LD
      case 0x01: { // LDX
        const mode = code & 0xe0;
        let v: number;
        if (mode === 0x20) {
          if (k % 4 !== 0 || k + 4 > 64) throw new Error(`bad load offset ${k}`);
          v = mem.getUint32(k, true);
        } else if (mode === 0x00) v = k >>> 0;
        else if (mode === 0x60) v = scratch[k];
        else if (mode === 0x80) v = 64;
        else throw new Error(`unsupported load mode ${code.toString(16)}`);
        if (cls === 0x00) a = v;
        else x = v;
        break;
      }
      case 0x02:
        scratch[k] = a;
        break;
      case 0x03:
        scratch[k] = x;
        break;
      case 0x04: { // ALU
        const s = src >>> 0;
        switch (code & 0xf0) {
          case 0x00: a = (a + s) >>> 0; break;
          case 0x10: a = (a - s) >>> 0; break;
          case 0x20: a = Math.imul(a, s) >>> 0; break;
          case 0x30: if (s === 0) return { action: 0, steps }; a = Math.floor(a / s) >>> 0; break;
          case 0x40: a = (a | s) >>> 0; break;
          case 0x50: a = (a & s) >>> 0; break;
          case 0x60: a = s >= 32 ? 0 : (a << s) >>> 0; break;
          case 0x70: a = s >= 32 ? 0 : a >>> s; break;
          case 0x80: a = -a >>> 0; break;
          case 0x90: if (s === 0) return { action: 0, steps }; a = (a % s) >>> 0; break;
          case 0xa0: a = (a ^ s) >>> 0; break;
          default: throw new Error(`bad alu op ${code.toString(16)}`);
        }
        break;
      }
      case 0x05: { // JMP
        const s = src >>> 0;
        let taken: boolean;
        switch (code & 0xf0) {
          case 0x00:
            pc += k;
            continue;
          case 0x10: taken = a === s; break;
          case 0x20: taken = a > s; break;
          case 0x30: taken = a >= s; break;
          case 0x40: taken = (a & s) !== 0; break;
          default: throw new Error(`bad jump op ${code.toString(16)}`);
        }
        pc += taken ? jt : jf;
        break;
      }
      case 0x06: // RET
        return { action: ((code & 0x18) === 0x10 ? a : k) >>> 0, steps };
      case 0x07: // MISC
        if ((code & 0xf8) === 0x80) a = x;
        else x = a;
        break;
    }
  }
}
