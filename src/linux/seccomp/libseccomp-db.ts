/**
 * A faithful port of libseccomp 2.5.4's rule database (src/db.c: _db_rule_gen_64/32, db_rule_add,
 * _db_tree_prune, _db_tree_add and their reference counting) plus the socketcall/ipc rewrite of
 * src/syscalls.c (abi_rule_add).
 *
 * Why a port and not a fresh design: how several rules for one syscall combine is *defined* by this
 * code. Argument conditions become trees of 32-bit comparisons; a new rule is merged into the
 * existing tree (shorter rules absorb longer ones, an unconditional rule replaces conditional ones,
 * a conditional rule after an unconditional one is dropped, two rules with the same comparisons and
 * different actions fail with EEXIST). The order in which nodes end up on a tree level decides which
 * rule wins when several match. Reproducing that by porting the algorithm, quirks included, is the
 * only way to decide every (syscall, arguments) input exactly as runc + libseccomp would.
 *
 * Names, control flow and the quirks are kept as in the C source so the two can be compared side by
 * side; comments mark the places that look like bugs but are reproduced on purpose.
 */
import { type SeccompArch, argOffsetHigh, argOffsetLow, multiplexedKind, rawSyscallName, rawSyscallNumber } from './architectures';
import { Cmp } from './constants';
import { PSEUDO_SYSCALLS } from './syscalls-pseudo';

const DATUM_MAX = 0xffffffffffffffffn;
const lo32 = (v: bigint) => Number(v & 0xffffffffn);
const hi32 = (v: bigint) => Number((v >> 32n) & 0xffffffffn);

/** One argument condition of a rule, after OCI → libseccomp conversion (db_api_arg). */
export interface RuleArg {
  arg: number;
  op: Cmp;
  mask: bigint;
  datum: bigint;
}

/** A rule as libseccomp's db sees it (db_api_rule_list): args are indexed by argument number. */
export interface DbRule {
  action: number;
  syscall: number;
  args: Array<RuleArg | undefined>;
  strict: boolean;
}

export class DbError extends Error {
  constructor(readonly code: 'EEXIST' | 'EINVAL' | 'EDOM' | 'EFAULT' | 'EPERM' | 'ELOOP', message: string) {
    super(message);
  }
}

const CYCLE_MESSAGE = 'libseccomp 2.5.4 loops forever on this combination of rules (its rule tree becomes cyclic)';

/**
 * Some rule combinations make libseccomp 2.5.4 link a tree level into a cycle; it then loops
 * forever (runc hangs creating the container). Each loop over a level or along lvl_prv links counts
 * its own iterations: far more than any level can hold means a cycle, and the profile is refused.
 */
const LOOP_LIMIT = 1_000_000;
function loopGuard(): () => true {
  let n = 0;
  return () => {
    if (++n > LOOP_LIMIT) throw new DbError('ELOOP', CYCLE_MESSAGE);
    return true;
  };
}

/** struct db_arg_chain_tree: one 32-bit comparison. */
export class ChainNode {
  arg = 0;
  argHigh = false;
  argOffset = 0;
  op: Cmp = Cmp.EQ;
  opOrig: Cmp = Cmp.EQ;
  mask = 0;
  datum = 0;
  datumFull = 0n;
  actTFlag = false;
  actFFlag = false;
  actT = 0;
  actF = 0;
  lvlPrv: ChainNode | null = null;
  lvlNxt: ChainNode | null = null;
  nxtT: ChainNode | null = null;
  nxtF: ChainNode | null = null;
  refcnt = 0;
  freed = false;
}

/** struct db_sys_list: the rules of one syscall number. */
export class SyscallEntry {
  priority = 0;
  chains: ChainNode | null = null;
  nodeCnt = 0;
  action = 0;
  valid = true;
  /** stored as libseccomp stores it: unsigned */
  constructor(public num: number) {}
  /** The syscall number as the signed int libseccomp compares it with ("pseudo" syscalls are negative). */
  get signedNum(): number {
    return this.num | 0;
  }
}

/** A mutable reference to a node pointer (the C code passes `struct db_arg_chain_tree **`). */
interface Ref {
  get(): ChainNode | null;
  set(n: ChainNode | null): void;
}
const localRef = (initial: ChainNode | null): Ref & { value: ChainNode | null } => {
  const r = {
    value: initial,
    get: () => r.value,
    set: (n: ChainNode | null) => {
      r.value = n;
    },
  };
  return r;
};
function fieldRef<K extends 'nxtT' | 'nxtF'>(node: ChainNode, key: K): Ref;
function fieldRef(entry: SyscallEntry, key: 'chains'): Ref;
function fieldRef(obj: ChainNode | SyscallEntry, key: 'nxtT' | 'nxtF' | 'chains'): Ref {
  const o = obj as unknown as Record<string, ChainNode | null>;
  return { get: () => o[key], set: (n) => { o[key] = n; } };
}

// db_iter_state flags
const IST_MATCH = 0x1;
const IST_MATCH_ONCE = 0x2;
const IST_X_FINISHED = 0x10;
const IST_N_FINISHED = 0x20;
const IST_X_PREFIX = 0x100;
const IST_N_PREFIX = 0x200;
const IST_M_MATCHSET = IST_MATCH | IST_MATCH_ONCE;
const IST_M_REDUNDANT = IST_MATCH | IST_X_FINISHED | IST_N_PREFIX;

interface IterState {
  flags: number;
  action: number;
  sx: SyscallEntry;
}

const PRI_MASK_CHAIN = 0x0000ffff;

function chainArgPriority(a: ChainNode): number {
  return (a.arg << 1) + (a.argHigh ? 1 : 0);
}

function chainOpPriority(op: Cmp): number {
  switch (op) {
    case Cmp.MASKED_EQ:
    case Cmp.EQ:
    case Cmp.NE:
      return 3;
    case Cmp.LE:
    case Cmp.LT:
      return 2;
    case Cmp.GE:
    case Cmp.GT:
      return 1;
    default:
      return 0;
  }
}

function chainLt(a: ChainNode, b: ChainNode): boolean {
  const aArg = chainArgPriority(a);
  const bArg = chainArgPriority(b);
  if (aArg < bArg) return true;
  if (aArg > bArg) return false;
  const aOp = chainOpPriority(a.opOrig);
  const bOp = chainOpPriority(b.opOrig);
  if (aOp < bOp) return true;
  if (aOp > bOp) return false;
  switch (a.opOrig) {
    case Cmp.LE:
    case Cmp.LT:
      // smaller LT/LE values come first, hence the inverted comparison
      if (a.datum > b.datum) return true;
      break;
    default:
      if (a.datum < b.datum) return true;
      break;
  }
  return false;
}

function chainEq(a: ChainNode, b: ChainNode): boolean {
  return chainArgPriority(a) === chainArgPriority(b) && a.op === b.op && a.datum === b.datum && a.mask === b.mask;
}

const chainLeaf = (n: ChainNode) => n.nxtT === null && n.nxtF === null;
const chainZombie = (n: ChainNode) => chainLeaf(n) && !n.actTFlag && !n.actFFlag;

function nodeGet(node: ChainNode | null): ChainNode | null {
  if (node !== null) node.refcnt++;
  return node;
}

function levelClean(node: ChainNode): number {
  let cnt = 0;
  let n: ChainNode | null = node;
  {
    const g = loopGuard();
    while (g() && n.lvlPrv) n = n.lvlPrv;
  }
  const start: ChainNode = n;
  const walk = loopGuard();
  while (walk() && n !== null) {
    let links = 0;
    if (n.lvlPrv) links++;
    if (n.lvlNxt) links++;
    if (n.refcnt > links) return cnt;
    n = n.lvlNxt;
  }
  const iter = localRef(start);
  {
    const g = loopGuard();
    while (g() && iter.value !== null) cnt += nodePut(iter);
  }
  return cnt;
}

function treePut(tree: Ref): number {
  let cnt = nodePut(tree);
  const t = tree.get();
  if (t) cnt += levelClean(t);
  return cnt;
}

function nodePut(node: Ref): number {
  let cnt = 0;
  const n = node.get();
  if (n === null) return 0;
  if (--n.refcnt === 0) {
    const lvlP = localRef(n.lvlPrv);
    const lvlN = localRef(n.lvlNxt);
    const nxtT = localRef(n.nxtT);
    const nxtF = localRef(n.nxtF);
    // split the current level (we still hold a reference on both neighbours)
    if (lvlP.value) lvlP.value.lvlNxt = null;
    if (lvlN.value) lvlN.value.lvlPrv = null;
    if (lvlP.value) cnt += nodePut(lvlP);
    if (lvlN.value) cnt += nodePut(lvlN);
    // re-link the current level if it still exists
    if (lvlP.value) lvlP.value.lvlNxt = nodeGet(lvlN.value);
    if (lvlN.value) lvlN.value.lvlPrv = nodeGet(lvlP.value);
    if (lvlP.value) node.set(lvlP.value);
    else if (lvlN.value) node.set(lvlN.value);
    else node.set(null);
    cnt += treePut(nxtT);
    cnt += treePut(nxtF);
    n.freed = true;
    cnt++;
  }
  return cnt;
}

function treeRemove(tree: Ref, node: ChainNode): number {
  let cnt = 0;
  const head = tree.get();
  if (head === null) return 0;
  let cIter: ChainNode | null = head;
  {
    const g = loopGuard();
    while (g() && cIter.lvlPrv !== null) cIter = cIter.lvlPrv;
  }
  let found = false;
  const g = loopGuard();
  do {
    if (cIter === node) {
      found = true;
      break;
    }
    cnt += treeRemove(fieldRef(cIter, 'nxtT'), node);
    cnt += treeRemove(fieldRef(cIter, 'nxtF'), node);
    if (chainZombie(cIter)) {
      found = true;
      break;
    }
    cIter = cIter.lvlNxt;
  } while (g() && cIter !== null && cnt === 0);
  if (!found || cIter === null) return cnt;

  // remove: reset the tree pointer if needed
  if (cIter === tree.get()) {
    if (cIter.lvlPrv !== null) tree.set(cIter.lvlPrv);
    else tree.set(cIter.lvlNxt);
  }
  if (cIter.lvlPrv) cIter.lvlPrv.lvlNxt = cIter.lvlNxt;
  if (cIter.lvlNxt) cIter.lvlNxt.lvlPrv = cIter.lvlPrv;
  cIter.lvlPrv = null;
  cIter.lvlNxt = null;
  cnt += nodePut(localRef(cIter));
  return cnt;
}

/** 0 if every action in the tree equals `action`, else -EEXIST (as in C). */
function treeActCheck(tree: ChainNode | null, action: number): number {
  if (tree === null) return 0;
  let c: ChainNode | null = tree;
  {
    const g = loopGuard();
    while (g() && c.lvlPrv !== null) c = c.lvlPrv;
  }
  const g = loopGuard();
  do {
    if (c.actTFlag && c.actT !== action) return -1;
    if (c.actFFlag && c.actF !== action) return -1;
    if (treeActCheck(c.nxtT, action) < 0) return -1;
    if (treeActCheck(c.nxtF, action) < 0) return -1;
    c = c.lvlNxt;
  } while (g() && c !== null);
  return 0;
}

/** _db_tree_prune: remove sub-trees of the existing tree that the new (shorter) rule makes redundant. */
function treePrune(existing: ChainNode | null, newTree: ChainNode | null, state: IterState): number {
  let cnt = 0;
  const stateNew: IterState = { ...state };
  let xIter = existing;
  const nIter = newTree;

  prune: {
    if (nIter === null || xIter === null) break prune;
    if ((state.flags & IST_M_MATCHSET) === IST_MATCH_ONCE) break prune;
    {
      const g = loopGuard();
      while (g() && xIter.lvlPrv) xIter = xIter.lvlPrv;
    }

    const g = loopGuard();
    do {
      const xIterNext: ChainNode | null = xIter.lvlNxt;
      const x = localRef(xIter);
      nextNode: {
        if (chainEq(xIter, nIter)) {
          stateNew.flags |= IST_M_MATCHSET;
          if (chainLeaf(nIter)) stateNew.flags |= IST_N_FINISHED;
          if (chainLeaf(xIter)) stateNew.flags |= IST_X_FINISHED;
          // don't remove nodes if we have more actions/levels
          if ((xIter.actTFlag || xIter.nxtT) && !(nIter.actTFlag || nIter.nxtT)) break prune;
          if ((xIter.actFFlag || xIter.nxtF) && !(nIter.actFFlag || nIter.nxtF)) break prune;
          if (stateNew.flags & IST_N_FINISHED && stateNew.flags & IST_X_FINISHED) {
            if (nIter.actTFlag !== xIter.actTFlag) break prune;
            if (nIter.actT !== xIter.actT) break prune;
            if (nIter.actFFlag !== xIter.actFFlag) break prune;
            if (nIter.actF !== xIter.actF) break prune;
          }
          if (nIter.nxtT) {
            nodeGet(x.value);
            const stateNxt: IterState = { ...state, flags: state.flags | IST_M_MATCHSET };
            cnt += treePrune(x.value!.nxtT, nIter.nxtT, stateNxt);
            cnt += nodePut(x);
            if (stateNxt.flags & IST_MATCH) stateNew.flags |= stateNxt.flags;
            if (x.value === null) break nextNode;
          }
          if (nIter.nxtF) {
            nodeGet(x.value);
            const stateNxt: IterState = { ...state, flags: state.flags | IST_M_MATCHSET };
            cnt += treePrune(x.value!.nxtF, nIter.nxtF, stateNxt);
            cnt += nodePut(x);
            if (stateNxt.flags & IST_MATCH) stateNew.flags |= stateNxt.flags;
            if (x.value === null) break nextNode;
          }
          const cur = x.value!;
          if (!treeActCheck(cur, stateNew.action) && stateNew.flags & IST_MATCH && stateNew.flags & IST_N_FINISHED && stateNew.flags & IST_X_PREFIX) {
            // the new tree is "shorter": drop the existing, longer one
            cnt += treeRemove(fieldRef(state.sx, 'chains'), cur);
            if (state.sx.chains === null) break prune;
          } else if (!treeActCheck(cur, stateNew.action) && stateNew.flags & IST_MATCH && stateNew.flags & IST_X_FINISHED && stateNew.flags & IST_N_PREFIX) {
            // the new tree is "longer"
            break prune;
          }
        } else if (chainLt(xIter, nIter)) {
          // bail if we have a prefix on the new tree
          if (state.flags & IST_N_PREFIX) break prune;
          if (xIter.nxtT) {
            nodeGet(x.value);
            const stateNxt: IterState = { ...state, flags: (state.flags & ~IST_MATCH) | IST_X_PREFIX };
            cnt += treePrune(x.value!.nxtT, nIter, stateNxt);
            cnt += nodePut(x);
            if (stateNxt.flags & IST_MATCH) {
              stateNew.flags |= stateNxt.flags;
              break prune;
            }
            if (x.value === null) break nextNode;
          }
          if (x.value!.nxtF) {
            nodeGet(x.value);
            const stateNxt: IterState = { ...state, flags: (state.flags & ~IST_MATCH) | IST_X_PREFIX };
            cnt += treePrune(x.value!.nxtF, nIter, stateNxt);
            cnt += nodePut(x);
            if (stateNxt.flags & IST_MATCH) {
              stateNew.flags |= stateNxt.flags;
              break prune;
            }
            if (x.value === null) break nextNode;
          }
        } else {
          // bail if we have a prefix on the existing tree
          if (state.flags & IST_X_PREFIX) break prune;
          if (nIter.nxtT) {
            nodeGet(x.value);
            const stateNxt: IterState = { ...state, flags: (state.flags & ~IST_MATCH) | IST_N_PREFIX };
            cnt += treePrune(x.value, nIter.nxtT, stateNxt);
            cnt += nodePut(x);
            if (stateNxt.flags & IST_MATCH) {
              stateNew.flags |= stateNxt.flags;
              break prune;
            }
            if (x.value === null) break nextNode;
          }
          if (nIter.nxtF) {
            nodeGet(x.value);
            const stateNxt: IterState = { ...state, flags: (state.flags & ~IST_MATCH) | IST_N_PREFIX };
            cnt += treePrune(x.value, nIter.nxtF, stateNxt);
            cnt += nodePut(x);
            if (stateNxt.flags & IST_MATCH) {
              stateNew.flags |= stateNxt.flags;
              break prune;
            }
            if (x.value === null) break nextNode;
          }
        }
      }
      xIter = xIterNext;
    } while (g() && xIter);
    // falling through: we clearly didn't match on anything
    stateNew.flags &= ~IST_MATCH;
  }
  if (stateNew.flags & IST_MATCH) state.flags |= stateNew.flags;
  else state.flags &= ~IST_MATCH;
  return cnt;
}

/** _db_tree_add: merge the new single-branch tree into the existing tree. */
function treeAdd(existing: Ref, newTree: ChainNode, state: IterState): void {
  let xIter: ChainNode | null = existing.get();
  const nIter = newTree;
  const g = loopGuard();
  do {
    const x: ChainNode = xIter!;
    if (chainEq(x, nIter)) {
      if (nIter.actTFlag) {
        if (!x.actTFlag) {
          if (treeActCheck(x.nxtT, nIter.actT) !== 0) throw conflict();
          const rc = nodePut(fieldRef(x, 'nxtT'));
          x.nxtT = null;
          x.actT = nIter.actT;
          x.actTFlag = true;
          state.sx.nodeCnt -= rc;
        } else if (nIter.actT !== x.actT) {
          // for 64-bit comparisons, adjust the action based on the full 64-bit value (GT/GE)
          if (nIter.argHigh && nIter.datumFull > x.datumFull) x.actT = nIter.actT;
          if (chainLeaf(x) || chainLeaf(nIter)) throw conflict();
        }
      }
      if (nIter.actFFlag) {
        if (!x.actFFlag) {
          if (treeActCheck(x.nxtF, nIter.actF) !== 0) throw conflict();
          const rc = nodePut(fieldRef(x, 'nxtF'));
          x.nxtF = null;
          x.actF = nIter.actF;
          x.actFFlag = true;
          state.sx.nodeCnt -= rc;
        } else if (nIter.actF !== x.actF) {
          // libseccomp 2.5.4 writes act_t here (not act_f); reproduced on purpose
          if (nIter.argHigh && nIter.datumFull < x.datumFull) x.actT = nIter.actT;
          if (chainLeaf(x) || chainLeaf(nIter)) throw conflict();
        }
      }
      if (nIter.nxtT) {
        if (x.nxtT) treeAdd(fieldRef(x, 'nxtT'), nIter.nxtT, state);
        else if (!x.actTFlag) x.nxtT = nodeGet(nIter.nxtT);
        else return; // existing tree is "shorter"
      }
      if (nIter.nxtF) {
        if (x.nxtF) treeAdd(fieldRef(x, 'nxtF'), nIter.nxtF, state);
        else if (!x.actFFlag) x.nxtF = nodeGet(nIter.nxtF);
        else return;
      }
      return;
    } else if (!chainLt(x, nIter)) {
      // move along the current level
      if (x.lvlNxt === null) {
        nIter.lvlPrv = nodeGet(x);
        x.lvlNxt = nodeGet(nIter);
        return;
      }
      xIter = x.lvlNxt;
    } else {
      // add before the existing node on this level
      if (x.lvlPrv !== null) {
        x.lvlPrv.lvlNxt = nodeGet(nIter);
        nIter.lvlPrv = x.lvlPrv;
        x.lvlPrv = nodeGet(nIter);
        nIter.lvlNxt = x;
      } else {
        x.lvlPrv = nodeGet(nIter);
        nIter.lvlNxt = nodeGet(x);
      }
      if (existing.get() === x) {
        existing.set(nodeGet(nIter));
        nodePut(localRef(x));
      }
      return;
    }
  } while (g() && xIter);
}

const conflict = () => new DbError('EEXIST', 'a rule with the same argument comparisons but a different action already exists');

const needLo = (a: RuleArg) => !(a.op === Cmp.MASKED_EQ && lo32(a.mask) === 0);
const needHi = (a: RuleArg) => !(a.op === Cmp.MASKED_EQ && hi32(a.mask) === 0);

function newNode(): ChainNode {
  return new ChainNode();
}

/** _db_rule_gen_64: each condition becomes 2 (EQ, NE, MASKED_EQ) or 3 (GT, GE, LT, LE) 32-bit nodes. */
function ruleGen64(arch: SeccompArch, rule: DbRule): SyscallEntry {
  const sNew = new SyscallEntry(rule.syscall >>> 0);
  let cIter: [ChainNode | null, ChainNode | null, ChainNode | null] = [null, null, null];
  let cPrev: [ChainNode | null, ChainNode | null, ChainNode | null] = [null, null, null];
  let opPrev: number = 0;
  for (let iter = 0; iter < rule.args.length; iter++) {
    const cond = rule.args[iter];
    if (!cond) continue;
    // skip generating instructions which are no-ops
    if (!needHi(cond) && !needLo(cond)) continue;
    const c0 = newNode();
    const c1 = newNode();
    let c2: ChainNode | null = null;
    const { arg, mask, datum } = cond;
    switch (cond.op) {
      case Cmp.GT:
      case Cmp.GE:
      case Cmp.LE:
      case Cmp.LT: {
        c2 = newNode();
        for (const c of [c0, c1, c2]) {
          c.arg = arg;
          c.datumFull = datum;
          c.opOrig = cond.op;
        }
        c0.argHigh = true;
        c1.argHigh = true;
        c2.argHigh = false;
        c0.argOffset = argOffsetHigh(arch, arg);
        c1.argOffset = argOffsetHigh(arch, arg);
        c2.argOffset = argOffsetLow(arch, arg);
        c0.mask = hi32(mask);
        c1.mask = hi32(mask);
        c2.mask = lo32(mask);
        c0.datum = (hi32(datum) & c0.mask) >>> 0;
        c1.datum = (hi32(datum) & c1.mask) >>> 0;
        c2.datum = (lo32(datum) & c2.mask) >>> 0;
        c0.op = Cmp.GT;
        c1.op = Cmp.EQ;
        c2.op = cond.op === Cmp.GT || cond.op === Cmp.LE ? Cmp.GT : Cmp.GE;
        c0.nxtF = nodeGet(c1);
        c1.nxtT = nodeGet(c2);
        break;
      }
      case Cmp.EQ:
      case Cmp.MASKED_EQ:
      case Cmp.NE: {
        for (const c of [c0, c1]) {
          c.arg = arg;
          c.datumFull = datum;
          c.opOrig = cond.op;
        }
        c0.argHigh = true;
        c1.argHigh = false;
        c0.argOffset = argOffsetHigh(arch, arg);
        c1.argOffset = argOffsetLow(arch, arg);
        c0.mask = hi32(mask);
        c1.mask = lo32(mask);
        c0.datum = (hi32(datum) & c0.mask) >>> 0;
        c1.datum = (lo32(datum) & c1.mask) >>> 0;
        c0.op = c1.op = cond.op === Cmp.MASKED_EQ ? Cmp.MASKED_EQ : Cmp.EQ;
        c0.nxtT = nodeGet(c1);
        break;
      }
      default:
        throw new DbError('EINVAL', `bad operator ${cond.op}`);
    }
    // link this level to the previous level
    if (cPrev[0] !== null) {
      switch (opPrev) {
        case Cmp.GT:
        case Cmp.GE:
          cPrev[0].nxtT = nodeGet(c0);
          cPrev[2]!.nxtT = nodeGet(c0);
          break;
        case Cmp.EQ:
        case Cmp.MASKED_EQ:
          cPrev[1]!.nxtT = nodeGet(c0);
          break;
        case Cmp.LE:
        case Cmp.LT:
          cPrev[1]!.nxtF = nodeGet(c0);
          cPrev[2]!.nxtF = nodeGet(c0);
          break;
        case Cmp.NE:
          cPrev[0].nxtF = nodeGet(c0);
          cPrev[1]!.nxtF = nodeGet(c0);
          break;
      }
    } else {
      sNew.chains = nodeGet(c0);
    }
    sNew.nodeCnt += cond.op === Cmp.NE || cond.op === Cmp.EQ || cond.op === Cmp.MASKED_EQ ? 2 : 3;
    cIter = [c0, c1, c2];
    cPrev = [c0, c1, c2];
    opPrev = cond.op;
  }
  const [i0, i1, i2] = cIter;
  if (i0 !== null) {
    switch (opPrev) {
      case Cmp.GT:
      case Cmp.GE:
        i0.actTFlag = true;
        i0.actT = rule.action;
        i2!.actTFlag = true;
        i2!.actT = rule.action;
        break;
      case Cmp.LE:
      case Cmp.LT:
        i1!.actFFlag = true;
        i1!.actF = rule.action;
        i2!.actFFlag = true;
        i2!.actF = rule.action;
        break;
      case Cmp.EQ:
      case Cmp.MASKED_EQ:
        i1!.actTFlag = true;
        i1!.actT = rule.action;
        break;
      case Cmp.NE:
        i0.actFFlag = true;
        i0.actF = rule.action;
        i1!.actFFlag = true;
        i1!.actF = rule.action;
        break;
    }
  } else {
    sNew.action = rule.action;
  }
  return sNew;
}

/** _db_rule_gen_32: one node per condition on the low word; NE/LT/LE become EQ/GE/GT on the false branch. */
function ruleGen32(arch: SeccompArch, rule: DbRule): SyscallEntry {
  const sNew = new SyscallEntry(rule.syscall >>> 0);
  let cIter: ChainNode | null = null;
  let cPrev: ChainNode | null = null;
  let tfFlag = true;
  for (let iter = 0; iter < rule.args.length; iter++) {
    const cond = rule.args[iter];
    if (!cond) continue;
    if (!needLo(cond)) continue;
    cIter = newNode();
    cIter.arg = cond.arg;
    cIter.argHigh = false;
    cIter.argOffset = argOffsetLow(arch, cond.arg);
    cIter.op = cond.op;
    cIter.opOrig = cond.op;
    // the node fields are 32-bit: this implicitly strips the upper 32 bits
    cIter.mask = lo32(cond.mask);
    cIter.datum = lo32(cond.datum);
    cIter.datumFull = cond.datum;
    if (cPrev !== null) {
      if (tfFlag) cPrev.nxtT = nodeGet(cIter);
      else cPrev.nxtF = nodeGet(cIter);
    } else {
      sNew.chains = nodeGet(cIter);
    }
    sNew.nodeCnt++;
    switch (cIter.op) {
      case Cmp.NE:
        cIter.op = Cmp.EQ;
        tfFlag = false;
        break;
      case Cmp.LT:
        cIter.op = Cmp.GE;
        tfFlag = false;
        break;
      case Cmp.LE:
        cIter.op = Cmp.GT;
        tfFlag = false;
        break;
      default:
        tfFlag = true;
    }
    cIter.datum = (cIter.datum & cIter.mask) >>> 0;
    cPrev = cIter;
  }
  if (cIter !== null) {
    if (tfFlag) {
      cIter.actTFlag = true;
      cIter.actT = rule.action;
    } else {
      cIter.actFFlag = true;
      cIter.actF = rule.action;
    }
  } else {
    sNew.action = rule.action;
  }
  return sNew;
}

/** One architecture's filter (struct db_filter). */
export class FilterDb {
  /** sorted by unsigned syscall number, like libseccomp's linked list */
  readonly syscalls: SyscallEntry[] = [];
  /** entries changed by the rules added since the caller last cleared it */
  readonly touched = new Set<SyscallEntry>();
  constructor(readonly arch: SeccompArch) {}

  /** db_rule_add */
  ruleAdd(rule: DbRule): void {
    const sNew = this.arch.bits === 64 ? ruleGen64(this.arch, rule) : ruleGen32(this.arch, rule);
    const num = rule.syscall >>> 0;
    let idx = 0;
    while (idx < this.syscalls.length && this.syscalls[idx].num < num) idx++;
    const sIter: SyscallEntry | undefined = this.syscalls[idx];
    sNew.priority = PRI_MASK_CHAIN - sNew.nodeCnt;
    let rmFlag = false;
    const newChains = fieldRef(sNew, 'chains');

    for (;;) {
      // add_reset:
      if (sIter === undefined || sIter.num !== num) {
        this.syscalls.splice(idx, 0, sNew);
        this.touched.add(sNew);
        return;
      } else if (sIter.chains === null) {
        if (rmFlag || !sIter.valid) {
          // the previous pass cleared the whole chain (or the entry is a phantom): take the new chain
          sIter.chains = sNew.chains;
          sIter.action = sNew.action;
          sIter.nodeCnt = sNew.nodeCnt;
          if (sIter.valid) sIter.priority = sNew.priority;
          sIter.valid = true;
        } else {
          // an unconditional rule already exists: it is at least as large as the new one
          treePut(newChains);
        }
        break;
      } else if (sNew.chains === null) {
        // an unconditional rule replaces the existing conditional ones
        treePut(fieldRef(sIter, 'chains'));
        sIter.chains = null;
        sIter.nodeCnt = 0;
        sIter.action = rule.action;
        treePut(newChains);
        break;
      }

      // prune any sub-trees that are no longer required
      const pruneState: IterState = { flags: 0, action: rule.action, sx: sIter };
      const removed = treePrune(sIter.chains, sNew.chains, pruneState);
      if (removed > 0) {
        rmFlag = true;
        sIter.nodeCnt -= removed;
        if (sIter.chains === null) continue; // we pruned the entire tree: goto add_reset
      } else if ((pruneState.flags & IST_M_REDUNDANT) === IST_M_REDUNDANT) {
        // the existing tree is "shorter": drop the new one
        treePut(newChains);
        break;
      }

      const addState: IterState = { flags: 0, action: 0, sx: sIter };
      treeAdd(fieldRef(sIter, 'chains'), sNew.chains, addState);
      sIter.nodeCnt += sNew.nodeCnt;
      sIter.nodeCnt -= treePut(newChains);
      break;
    }
    this.touched.add(sIter);
    // priority update
    sIter.priority = (sIter.priority & ~PRI_MASK_CHAIN) | (PRI_MASK_CHAIN - sIter.nodeCnt);
  }

  /** arch_filter_rule_add, after the syscall number has been translated to this architecture. */
  filterRuleAdd(rule: DbRule): void {
    if (rule.syscall === -1 || !this.arch.multiplexer) {
      if (rule.syscall < -1 && rule.strict) throw new DbError('EDOM', 'syscall not defined on this architecture');
      this.ruleAdd(rule);
    } else {
      this.abiRuleAdd(rule);
    }
  }

  /**
   * abi_rule_add: on ABIs with socketcall(2)/ipc(2), a rule for a socket or SysV IPC syscall is
   * added twice: for the direct syscall (when the ABI has one) and for the multiplexer with
   * "arg0 == call number" — replacing any condition the rule had on arg0 of that copy.
   */
  private abiRuleAdd(rule: DbRule): void {
    const arch = this.arch;
    const mux = arch.multiplexer!;
    const sys = rule.syscall;
    const kind = multiplexedKindOf(arch, sys);
    if (kind) {
      if (rule.strict && rule.args.some((a) => a !== undefined)) throw new DbError('EINVAL', 'strict rule on a multiplexed syscall');
      const UNDEF = -2;
      const ERROR = -1;
      let sysA: number;
      let sysB: number;
      if (sys > 0) {
        // _abi_syscall_mux: the direct number's name, then that name's pseudo number
        const name = rawSyscallName(arch, sys);
        sysA = name !== undefined && multiplexedKind(name) ? PSEUDO_SYSCALLS[name] : ERROR;
        if (sysA === ERROR) throw new DbError('EPERM', 'cannot find the multiplexed form of the syscall');
        sysB = sys;
      } else {
        // _abi_syscall_demux: the pseudo number's name, then its direct number (itself negative
        // when the ABI has no direct syscall, e.g. accept on x86)
        sysA = sys;
        const name = PSEUDO_BY_NUMBER.get(sys);
        sysB = name !== undefined && multiplexedKind(name) ? rawSyscallNumber(arch, name) : UNDEF;
        if (sysB === UNDEF) sysB = ERROR;
        else if (sysB === ERROR) sysB = UNDEF;
        if (sysB === ERROR) throw new DbError('EPERM', 'cannot find the direct form of the syscall');
      }
      let ruleA: DbRule | null;
      let ruleB: DbRule | null;
      if (sysA === UNDEF) {
        ruleA = null;
        ruleB = rule;
      } else if (sysB === UNDEF) {
        ruleA = rule;
        ruleB = null;
      } else {
        ruleA = rule;
        ruleB = { ...rule, args: [...rule.args] };
      }
      if (ruleA) {
        ruleA.syscall = kind === 'socket' ? mux.socketcall : mux.ipc;
        ruleA.args = [...ruleA.args];
        ruleA.args[0] = { arg: 0, op: Cmp.EQ, mask: DATUM_MAX, datum: BigInt(-sysA % (kind === 'socket' ? 100 : 200)) };
      }
      if (ruleB) ruleB.syscall = sysB;
      if (ruleA) this.ruleAdd(ruleA);
      if (ruleB) this.ruleAdd(ruleB);
    } else if (sys >= 0) {
      this.ruleAdd(rule);
    } else if (rule.strict) {
      throw new DbError('EDOM', 'syscall not defined on this architecture');
    }
  }
}

// Pseudo numbers of the multiplexed calls are -100 - SYS_* (socket) and -200 - call (ipc).
function multiplexedKindOf(arch: SeccompArch, sys: number): 'socket' | 'ipc' | undefined {
  if (sys <= -100 && sys >= -120) return 'socket';
  if (sys <= -200 && sys >= -224) return 'ipc';
  const name = rawSyscallName(arch, sys);
  return name ? multiplexedKind(name) : undefined;
}

const PSEUDO_BY_NUMBER = new Map(Object.entries(PSEUDO_SYSCALLS).map(([name, n]) => [n, name]));

/** Evaluation result of a chain tree when no node decided. */
export const FALLTHROUGH = Symbol('fallthrough');

/**
 * Evaluate one tree level as libseccomp's BPF does: nodes in level order; a branch with a
 * sub-level evaluates it and, if nothing there decides, continues with the next node of this level.
 */
export function evaluateLevel(level: ChainNode, loadWord: (offset: number) => number): number | typeof FALLTHROUGH {
  let n: ChainNode | null = level;
  {
    const g = loopGuard();
    while (g() && n.lvlPrv) n = n.lvlPrv;
  }
  for (; n !== null; n = n.lvlNxt) {
    const v = (loadWord(n.argOffset) & n.mask) >>> 0;
    const hit = n.op === Cmp.GT ? v > n.datum : n.op === Cmp.GE ? v >= n.datum : v === n.datum;
    const next = hit ? n.nxtT : n.nxtF;
    if (next) {
      const r = evaluateLevel(next, loadWord);
      if (r !== FALLTHROUGH) return r;
    } else if (hit ? n.actTFlag : n.actFFlag) {
      return hit ? n.actT : n.actF;
    }
  }
  return FALLTHROUGH;
}

/** Every action a tree can return (used to tell whether a syscall can be denied). */
export function treeActions(level: ChainNode, out = new Set<number>(), seen = new Set<ChainNode>()): Set<number> {
  let n: ChainNode | null = level;
  {
    const g = loopGuard();
    while (g() && n.lvlPrv) n = n.lvlPrv;
  }
  for (; n !== null; n = n.lvlNxt) {
    if (seen.has(n)) continue;
    seen.add(n);
    if (n.actTFlag) out.add(n.actT);
    if (n.actFFlag) out.add(n.actF);
    if (n.nxtT) treeActions(n.nxtT, out, seen);
    if (n.nxtF) treeActions(n.nxtF, out, seen);
  }
  return out;
}


/**
 * Throws DbError('ELOOP') if a level of the entry's tree links back into itself, which would make
 * libseccomp's BPF generator (and any walk of the tree) loop forever.
 */
export function checkAcyclic(entry: SyscallEntry): void {
  const seenLevels = new Set<ChainNode>();
  const visit = (node: ChainNode | null) => {
    if (node === null) return;
    const rewind = new Set<ChainNode>();
    let first = node;
    while (first.lvlPrv) {
      if (rewind.has(first)) throw new DbError('ELOOP', CYCLE_MESSAGE);
      rewind.add(first);
      first = first.lvlPrv;
    }
    if (seenLevels.has(first)) return;
    seenLevels.add(first);
    const onLevel = new Set<ChainNode>();
    for (let n: ChainNode | null = first; n; n = n.lvlNxt) {
      if (onLevel.has(n)) throw new DbError('ELOOP', CYCLE_MESSAGE);
      onLevel.add(n);
      visit(n.nxtT);
      visit(n.nxtF);
    }
  };
  visit(entry.chains);
}
