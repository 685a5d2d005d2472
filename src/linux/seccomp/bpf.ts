/**
 * Classic BPF as seccomp uses it: struct sock_filter { __u16 code; __u8 jt; __u8 jf; __u32 k; },
 * 8 bytes each in host (little-endian) byte order, plus a disassembler for `tsrunc explain`.
 */

export interface BpfInsn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

// Opcode pieces (linux/bpf_common.h)
export const BPF = {
  LD: 0x00, LDX: 0x01, ST: 0x02, STX: 0x03, ALU: 0x04, JMP: 0x05, RET: 0x06, MISC: 0x07,
  W: 0x00, H: 0x08, B: 0x10,
  IMM: 0x00, ABS: 0x20, IND: 0x40, MEM: 0x60, LEN: 0x80, MSH: 0xa0,
  ADD: 0x00, SUB: 0x10, MUL: 0x20, DIV: 0x30, OR: 0x40, AND: 0x50, LSH: 0x60, RSH: 0x70, NEG: 0x80, MOD: 0x90, XOR: 0xa0,
  JA: 0x00, JEQ: 0x10, JGT: 0x20, JGE: 0x30, JSET: 0x40,
  K: 0x00, X: 0x08, A: 0x10,
  TAX: 0x00, TXA: 0x80,
} as const;

/** The opcodes the compiler emits. */
export const OP = {
  LD_ABS: BPF.LD | BPF.W | BPF.ABS,
  AND_K: BPF.ALU | BPF.AND | BPF.K,
  JA: BPF.JMP | BPF.JA,
  JEQ_K: BPF.JMP | BPF.JEQ | BPF.K,
  JGT_K: BPF.JMP | BPF.JGT | BPF.K,
  JGE_K: BPF.JMP | BPF.JGE | BPF.K,
  JSET_K: BPF.JMP | BPF.JSET | BPF.K,
  RET_K: BPF.RET | BPF.K,
} as const;

export const INSN_SIZE = 8;

export function encodeProgram(insns: readonly BpfInsn[]): Uint8Array {
  const bytes = new Uint8Array(insns.length * INSN_SIZE);
  const view = new DataView(bytes.buffer);
  insns.forEach((insn, i) => {
    const o = i * INSN_SIZE;
    view.setUint16(o, insn.code, true);
    view.setUint8(o + 2, insn.jt);
    view.setUint8(o + 3, insn.jf);
    view.setUint32(o + 4, insn.k >>> 0, true);
  });
  return bytes;
}

export function decodeProgram(bytes: Uint8Array): BpfInsn[] {
  if (bytes.length % INSN_SIZE !== 0) throw new Error(`BPF program of ${bytes.length} bytes is not a whole number of instructions`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: BpfInsn[] = [];
  for (let o = 0; o < bytes.length; o += INSN_SIZE) {
    out.push({ code: view.getUint16(o, true), jt: view.getUint8(o + 2), jf: view.getUint8(o + 3), k: view.getUint32(o + 4, true) });
  }
  return out;
}

const hex = (v: number) => '0x' + (v >>> 0).toString(16);

/** Mnemonic and operands of one instruction, in the style of bpf_dbg / libseccomp's pfc output. */
export function formatInsn(insn: BpfInsn, pc: number): string {
  const { code, jt, jf, k } = insn;
  const cls = code & 0x07;
  const size = ['w', 'h', 'b', '?'][(code >> 3) & 3];
  const mode = code & 0xe0;
  switch (cls) {
    case BPF.LD:
    case BPF.LDX: {
      const reg = cls === BPF.LD ? 'ld' : 'ldx';
      if (mode === BPF.ABS) return `${reg}${size === 'w' ? '' : size} [${k}]`;
      if (mode === BPF.IND) return `${reg}${size === 'w' ? '' : size} [x+${k}]`;
      if (mode === BPF.IMM) return `${reg} #${hex(k)}`;
      if (mode === BPF.MEM) return `${reg} M[${k}]`;
      if (mode === BPF.LEN) return `${reg} #len`;
      if (mode === BPF.MSH) return `ldxb 4*([${k}]&0xf)`;
      return `.word ${hex(code)}`;
    }
    case BPF.ST:
      return `st M[${k}]`;
    case BPF.STX:
      return `stx M[${k}]`;
    case BPF.ALU: {
      const names: Record<number, string> = { 0x00: 'add', 0x10: 'sub', 0x20: 'mul', 0x30: 'div', 0x40: 'or', 0x50: 'and', 0x60: 'lsh', 0x70: 'rsh', 0x80: 'neg', 0x90: 'mod', 0xa0: 'xor' };
      const op = names[code & 0xf0] ?? '?';
      if ((code & 0xf0) === BPF.NEG) return 'neg';
      return (code & 0x08) === BPF.X ? `${op} x` : `${op} #${hex(k)}`;
    }
    case BPF.JMP: {
      const op = code & 0xf0;
      if (op === BPF.JA) return `ja ${pc + 1 + k}`;
      const names: Record<number, string> = { 0x10: 'jeq', 0x20: 'jgt', 0x30: 'jge', 0x40: 'jset' };
      const operand = (code & 0x08) === BPF.X ? 'x' : `#${hex(k)}`;
      return `${names[op] ?? 'j?'} ${operand}, ${pc + 1 + jt}, ${pc + 1 + jf}`;
    }
    case BPF.RET:
      return (code & 0x18) === BPF.A ? 'ret a' : `ret #${hex(k)}`;
    case BPF.MISC:
      return (code & 0xf8) === BPF.TXA ? 'txa' : 'tax';
  }
  return `.word ${hex(code)}`;
}
