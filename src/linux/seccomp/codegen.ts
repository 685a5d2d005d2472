/**
 * BPF code generation from a SeccompModel.
 *
 * libseccomp emits one `jeq nr` per rule and architecture (optionally arranged as a binary tree).
 * We instead compute, per architecture, the action for every syscall number as a list of ranges
 * ("0..3 ALLOW, 4 ERRNO, 5..16 ALLOW, ...", runc's -ENOSYS stub and the x32 guard included) and
 * emit a balanced binary search over the range boundaries. Ranges that only need argument checks
 * jump into the compiled comparison tree of that syscall. The decisions are the model's, so they
 * are libseccomp's; only the shape of the program differs.
 *
 * Code is emitted backwards (last instruction first): every jump goes forward in BPF, so when a
 * jump is emitted all its targets already have an address and the 8-bit jt/jf offsets can be
 * checked right away. A target further than 255 instructions gets a trampoline (a `ja`, or a copy
 * of the `ret` when the target is a return).
 */
import { BPF_MAXINSNS, Cmp, SECCOMP_DATA_ARCH, SECCOMP_DATA_NR, X32_SYSCALL_BIT } from './constants';
import { OP, type BpfInsn } from './bpf';
import type { ChainNode, SyscallEntry } from './libseccomp-db';
import { decideNr, type ArchGroup, type SeccompModel } from './model';

const MAX_JUMP = 255;
const FULL_MASK = 0xffffffff;

/** Where a jump can go: a return of an action, or a block of code. */
type Target = { kind: 'ret'; action: number } | { kind: 'code'; block: Block };

/**
 * An emitted block. A comparison block (ld word; and mask; jcmp) has three entry points so that a
 * jump from a block that already left the right value in the accumulator can skip the load.
 */
interface Block {
  entry: number;
  word?: { offset: number; mask: number; afterLoad: number; afterMask: number };
}

/** What the accumulator holds after an instruction: the word at `offset` ANDed with `mask`. */
interface AccState {
  offset: number;
  mask: number;
}

/** A range of syscall numbers with one decision. */
interface Segment {
  lo: number;
  hi: number;
  decision: { kind: 'action'; action: number } | { kind: 'entry'; entry: SyscallEntry };
}

class ReverseEmitter {
  /** rev[i] is the i-th instruction counted from the end of the program; addresses are these indices */
  readonly rev: BpfInsn[] = [];
  /** for each action, the address of the `ret` closest to the code being emitted */
  private readonly nearestRet = new Map<number, number>();

  get next(): number {
    return this.rev.length;
  }

  push(insn: BpfInsn): number {
    this.rev.push(insn);
    return this.rev.length - 1;
  }

  ret(action: number): number {
    const addr = this.push({ code: OP.RET_K, jt: 0, jf: 0, k: action >>> 0 });
    this.nearestRet.set(action >>> 0, addr);
    return addr;
  }

  /** Address to jump to for `target`, given what the accumulator holds at the jump. */
  private address(target: Target, acc: AccState | null): number {
    if (target.kind === 'ret') {
      const known = this.nearestRet.get(target.action >>> 0);
      return known ?? this.ret(target.action);
    }
    const { block } = target;
    if (block.word && acc && acc.offset === block.word.offset) {
      if (acc.mask === block.word.mask) return block.word.afterMask;
      if (acc.mask === FULL_MASK) return block.word.afterLoad;
    }
    return block.entry;
  }

  /** An address within reach of a conditional jump about to be emitted (adds a trampoline if needed). */
  private reachable(target: Target, acc: AccState | null, slack: number): number {
    const addr = this.address(target, acc);
    // the jump lands at this.next + slack at the latest (slack = trampolines that may still follow)
    if (this.next + slack - addr - 1 <= MAX_JUMP) return addr;
    if (target.kind === 'ret') return this.ret(target.action);
    const at = this.next;
    return this.push({ code: OP.JA, jt: 0, jf: 0, k: at - addr - 1 });
  }

  /** Emit `code k` jumping to onTrue / onFalse; `acc` is the accumulator state the targets see. */
  cond(code: number, k: number, onTrue: Target, onFalse: Target, acc: AccState | null): number {
    const t = this.reachable(onTrue, acc, 2);
    const f = this.reachable(onFalse, acc, 1);
    const at = this.next;
    if (at - t - 1 > MAX_JUMP || at - f - 1 > MAX_JUMP) throw new Error('internal error: jump out of range');
    return this.push({ code, jt: at - t - 1, jf: at - f - 1, k: k >>> 0 });
  }

  /** Make `target` the instruction that follows (jumping or returning if it is not already next). */
  fallInto(target: Target, acc: AccState | null): void {
    if (target.kind === 'code' && this.address(target, acc) === this.next - 1) return;
    if (target.kind === 'ret') {
      this.ret(target.action);
      return;
    }
    const addr = this.address(target, acc);
    const at = this.next;
    this.push({ code: OP.JA, jt: 0, jf: 0, k: at - addr - 1 });
  }

  program(): BpfInsn[] {
    return [...this.rev].reverse();
  }
}

const ret = (action: number): Target => ({ kind: 'ret', action: action >>> 0 });
const code = (block: Block): Target => ({ kind: 'code', block });
const targetKey = (t: Target) => (t.kind === 'ret' ? `r${t.action}` : `c${t.block.entry}`);

/** Per-group syscall-number ranges with their decisions (adjacent equal actions merged). */
function segmentsFor(model: SeccompModel, group: ArchGroup): Segment[] {
  const points = new Set<number>([0, X32_SYSCALL_BIT, 0x80000000, 0xc0000000, 0xffffffff]);
  const addPoint = (n: number) => {
    if (n >= 0 && n <= 0xffffffff) points.add(n);
  };
  for (const db of group.dbs) {
    for (const e of db.syscalls) {
      if (!e.valid || e.signedNum < 0) continue;
      addPoint(e.num);
      addPoint(e.num + 1);
    }
  }
  for (const max of group.enosys?.maxByArch.values() ?? []) addPoint((max >>> 0) + 1);
  addPoint(1); // s390's setup(2) = 0 check
  const sorted = [...points].sort((a, b) => a - b);
  const segments: Segment[] = [];
  sorted.forEach((lo, i) => {
    const hi = i + 1 < sorted.length ? sorted[i + 1] - 1 : 0xffffffff;
    const d = decideNr(model, group, lo);
    const decision = d.kind === 'action' ? { kind: 'action' as const, action: d.action >>> 0 } : { kind: 'entry' as const, entry: d.entry };
    const last = segments[segments.length - 1];
    if (last && decision.kind === 'action' && last.decision.kind === 'action' && last.decision.action === decision.action) last.hi = hi;
    else segments.push({ lo, hi, decision });
  });
  return segments;
}

const NR_ACC: AccState = { offset: SECCOMP_DATA_NR, mask: FULL_MASK };

class Generator {
  private readonly e = new ReverseEmitter();
  private readonly levelMemo = new Map<string, Target>();

  constructor(private readonly model: SeccompModel) {}

  generate(): BpfInsn[] {
    const { e, model } = this;
    // The program must end in a return; the bad-arch return also closes the arch dispatch.
    e.ret(model.badArchAction);
    e.ret(model.defaultAction);
    // Native architecture first in the dispatch: it is the one almost every syscall comes from.
    const groups = [...model.groups].sort((a, b) => Number(b.auditArch === model.native.auditArch) - Number(a.auditArch === model.native.auditArch));
    const sections = new Map<ArchGroup, Target>();
    for (const g of [...groups].reverse()) sections.set(g, this.section(g));
    let onOtherArch: Target = ret(model.badArchAction);
    const archAcc: AccState = { offset: SECCOMP_DATA_ARCH, mask: FULL_MASK };
    for (const g of [...groups].reverse()) {
      const addr = e.cond(OP.JEQ_K, g.auditArch, sections.get(g)!, onOtherArch, archAcc);
      onOtherArch = code({ entry: addr });
    }
    e.fallInto(onOtherArch, archAcc);
    e.push({ code: OP.LD_ABS, jt: 0, jf: 0, k: SECCOMP_DATA_ARCH });
    const program = removeUnreachable(e.program());
    if (program.length > BPF_MAXINSNS) throw new Error(`seccomp filter needs ${program.length} instructions, the kernel allows ${BPF_MAXINSNS}`);
    return program;
  }

  /** `ld nr` followed by the search over this architecture's syscall ranges. */
  private section(group: ArchGroup): Target {
    const root = this.search(segmentsFor(this.model, group));
    this.e.fallInto(root, NR_ACC);
    const entry = this.e.push({ code: OP.LD_ABS, jt: 0, jf: 0, k: SECCOMP_DATA_NR });
    return code({ entry });
  }

  private leaf(s: Segment): Target {
    return s.decision.kind === 'action' ? ret(s.decision.action) : this.chains(s.decision.entry);
  }

  /** Balanced binary search over sorted, contiguous segments (the accumulator holds nr throughout). */
  private search(segs: Segment[]): Target {
    if (segs.length === 1) return this.leaf(segs[0]);
    // one syscall with its own decision inside a run of another action: a single jeq
    if (segs.length === 3 && segs[1].lo === segs[1].hi && segs[0].decision.kind === 'action' && segs[2].decision.kind === 'action' && segs[0].decision.action === segs[2].decision.action) {
      const inside = this.leaf(segs[1]);
      return code({ entry: this.e.cond(OP.JEQ_K, segs[1].lo, inside, ret(segs[0].decision.action), NR_ACC) });
    }
    const mid = segs.length >> 1;
    const upper = this.search(segs.slice(mid));
    const lower = this.search(segs.slice(0, mid));
    return code({ entry: this.e.cond(OP.JGE_K, segs[mid].lo, upper, lower, NR_ACC) });
  }

  /** The argument checks of one syscall; when none decides, the default action. */
  private chains(entry: SyscallEntry): Target {
    return this.level(entry.chains!, ret(this.model.defaultAction));
  }

  /**
   * One tree level: its nodes in order, each branch going to a sub-level (which falls back to the
   * next node of this level), to an action, or to the next node. Memoized per (level, fallback):
   * libseccomp's trees share sub-levels.
   */
  private level(head: ChainNode, fallback: Target): Target {
    let first = head;
    while (first.lvlPrv) first = first.lvlPrv;
    const nodes: ChainNode[] = [];
    for (let n: ChainNode | null = first; n; n = n.lvlNxt) nodes.push(n);
    const key = `${nodeId(first)}|${targetKey(fallback)}`;
    const memo = this.levelMemo.get(key);
    if (memo) return memo;
    let next = fallback;
    for (let i = nodes.length - 1; i >= 0; i--) {
      const n = nodes[i];
      const onTrue = n.nxtT ? this.level(n.nxtT, next) : n.actTFlag ? ret(n.actT) : next;
      const onFalse = n.nxtF ? this.level(n.nxtF, next) : n.actFFlag ? ret(n.actF) : next;
      next = code(this.node(n, onTrue, onFalse));
    }
    this.levelMemo.set(key, next);
    return next;
  }

  /** ld word; and mask (if any); jeq/jgt/jge datum. */
  private node(n: ChainNode, onTrue: Target, onFalse: Target): Block {
    const { e } = this;
    const acc: AccState = { offset: n.argOffset, mask: n.mask >>> 0 };
    const jump = n.op === Cmp.GT ? OP.JGT_K : n.op === Cmp.GE ? OP.JGE_K : OP.JEQ_K;
    const afterMask = e.cond(jump, n.datum, onTrue, onFalse, acc);
    const afterLoad = acc.mask === FULL_MASK ? afterMask : e.push({ code: OP.AND_K, jt: 0, jf: 0, k: acc.mask });
    const entry = e.push({ code: OP.LD_ABS, jt: 0, jf: 0, k: n.argOffset });
    return { entry, word: { offset: n.argOffset, mask: acc.mask, afterLoad, afterMask } };
  }
}

const nodeIds = new WeakMap<ChainNode, number>();
let nextNodeId = 1;
function nodeId(n: ChainNode): number {
  let id = nodeIds.get(n);
  if (id === undefined) nodeIds.set(n, (id = nextNodeId++));
  return id;
}

/**
 * Drop instructions no path reaches (e.g. a load that every predecessor skipped because the
 * accumulator already held the word) and shorten the jumps over them.
 */
function removeUnreachable(insns: BpfInsn[]): BpfInsn[] {
  const reachable = new Array<boolean>(insns.length).fill(false);
  reachable[0] = true;
  const isJump = (i: BpfInsn) => (i.code & 0x07) === 0x05;
  const isRet = (i: BpfInsn) => (i.code & 0x07) === 0x06;
  insns.forEach((insn, pc) => {
    if (!reachable[pc]) return;
    if (insn.code === OP.JA) reachable[pc + 1 + insn.k] = true;
    else if (isJump(insn)) {
      reachable[pc + 1 + insn.jt] = true;
      reachable[pc + 1 + insn.jf] = true;
    } else if (!isRet(insn)) reachable[pc + 1] = true;
  });
  const newPc: number[] = [];
  let count = 0;
  insns.forEach((_, pc) => {
    newPc[pc] = count;
    if (reachable[pc]) count++;
  });
  const out: BpfInsn[] = [];
  insns.forEach((insn, pc) => {
    if (!reachable[pc]) return;
    const from = newPc[pc];
    if (insn.code === OP.JA) out.push({ ...insn, k: newPc[pc + 1 + insn.k] - from - 1 });
    else if (isJump(insn)) out.push({ ...insn, jt: newPc[pc + 1 + insn.jt] - from - 1, jf: newPc[pc + 1 + insn.jf] - from - 1 });
    else out.push(insn);
  });
  return out;
}

export function generateProgram(model: SeccompModel): BpfInsn[] {
  return new Generator(model).generate();
}
