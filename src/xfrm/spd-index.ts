// The SPD's lookup structure (net/xfrm/xfrm_policy.c), so that finding a
// packet's policy costs the same with 1 or 10,000 policies installed.
//
// As the kernel, policies are split by their selector's prefix lengths:
//   exact    both prefixes full length (/32, /128): hashed by the exact
//            (saddr, daddr) pair — policy_hash_direct / policy_hash_bysel
//            into net->xfrm.policy_bydst[dir].table.
//   inexact  everything else: in a bin per (dir, if_id, family) —
//            xfrm_policy_inexact_alloc_bin keys bins by if_id, type and
//            family — a prefix tree on daddr whose nodes each hold a prefix
//            tree on saddr (the kernel's root_d nodes with their own saddr
//            `root`, xfrm_policy_inexact_insert_node); a saddr node holds the
//            policies of exactly that (daddr prefix, saddr prefix).
// The kernel's trees are rb-trees of prefixes; ours are binary tries (one
// node per prefix bit) in typed arrays, walked bit by bit along the packet's
// address: at most 33 (129) nodes per level, whatever the number of policies.
//
// Every candidate list is kept sorted by (priority, pos). A lookup takes the
// first full selector match (selectorMatch: ports/ICMP type+code, proto,
// ifindex, and the prefixes again) of each list on its path, and keeps the
// best: lowest priority, then lowest pos — xfrm_policy_lookup_bytype taking
// the hashed chain's match and then __xfrm_policy_eval_candidates over the
// inexact candidate lists. A list whose head is already worse than the best
// so far is skipped. Nothing is allocated per lookup.
//
// Selectors of family 0 (AF_UNSPEC) match only with both prefixes /0
// (selectorMatch): they sit at the roots of both families' tries.
//
// A policy's mark is matched as xfrm_policy_match does: a flow with mark M
// is a candidate only when (M & mark.mask) === mark.value. A policy that
// fails it is skipped and the search goes on, so a mark-scoped policy never
// shadows the policies behind it for flows of another mark.

import { bytesEqual, hashAddr, hashKey, HASH_SEED } from './xhash.js';
import { FlowMemo } from './flow-memo.js';
import { selectorMatch } from './selector.js';
import type { Flow, Selector } from './selector.js';

/** The fields the index reads from a policy (XfrmPolicy). */
export interface Indexed {
  readonly sel: Selector;
  readonly priority: number;
  readonly pos: number;
  readonly ifId: number;
  /** xfrm_mark: value/mask, {0, 0} for none (matches every mark). */
  readonly mark: { readonly value: number; readonly mask: number };
}

/** xfrm_policy_match's mark test: (fl->flowi_mark & pol->mark.m) == pol->mark.v. */
export const markMatch = (p: Indexed, mark: number): boolean => ((mark & p.mark.mask) >>> 0) === p.mark.value;

/**
 * Bins with at most this many inexact policies are scanned, not walked: a
 * walk of /24 ↔ /24 tries is ~50 node steps (~300 ns measured), about a
 * scan of 32 selectors, and the sorted scan stops at its first match.
 */
export const FLAT_MAX = 32;

/** Strictly better: lower priority, then older (lower pos). __xfrm_policy_eval_candidates. */
export const better = (a: Indexed, b: Indexed): boolean => a.priority < b.priority || (a.priority === b.priority && a.pos < b.pos);

/** Inserts p into a list sorted by (priority, pos). */
function sortedInsert<P extends Indexed>(list: P[], p: P): void {
  let i = list.length;
  while (i > 0 && better(p, list[i - 1]!)) i--;
  list.splice(i, 0, p);
}

/** The best of `best` and the first policy of the sorted `list` matching f and its mark. */
function bestOf<P extends Indexed>(list: readonly P[], f: Flow, mark: number, best: P | null): P | null {
  for (let i = 0; i < list.length; i++) {
    const p = list[i]!;
    if (best !== null && !better(p, best)) return best; // sorted: the rest are worse still
    if (markMatch(p, mark) && selectorMatch(p.sel, f)) return p;
  }
  return best;
}

/** Bit d (0 = most significant) of the address at b[off]. */
const bitAt = (b: Uint8Array, off: number, d: number): number => (b[off + (d >>> 3)]! >>> (7 - (d & 7))) & 1;

/**
 * Binary trie nodes in typed arrays (node 0 = none): `zero`/`one` children,
 * `sub` the saddr trie's root of a daddr node, `lists` the policies of a
 * saddr node. Freed nodes are reused.
 */
class NodePool<P> {
  zero = new Int32Array(64);
  one = new Int32Array(64);
  sub = new Int32Array(64);
  readonly lists: (P[] | null)[] = [null];
  private readonly free: number[] = [];

  alloc(): number {
    const n = this.free.pop();
    if (n !== undefined) return n;
    const id = this.lists.length;
    if (id === this.zero.length) this.grow();
    this.lists.push(null);
    return id;
  }

  release(n: number): void {
    this.zero[n] = 0; this.one[n] = 0; this.sub[n] = 0; this.lists[n] = null;
    this.free.push(n);
  }

  /** Child of n toward `bit`, created when absent. */
  child(n: number, bit: number): number {
    const arr = bit === 0 ? this.zero : this.one;
    let c = arr[n]!;
    if (c === 0) {
      c = this.alloc();
      (bit === 0 ? this.zero : this.one)[n] = c; // alloc may have grown (replaced) the arrays
    }
    return c;
  }

  isEmpty(n: number): boolean {
    const l = this.lists[n];
    return this.zero[n] === 0 && this.one[n] === 0 && this.sub[n] === 0 && (l === null || l === undefined || l.length === 0);
  }

  private grow(): void {
    const up = (a: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> => { const b = new Int32Array(a.length * 2); b.set(a); return b; };
    this.zero = up(this.zero); this.one = up(this.one); this.sub = up(this.sub);
  }
}

interface ExactEntry<P> { readonly src: Uint8Array; readonly dst: Uint8Array; readonly list: P[] }

/** One (dir, if_id, family) bin: the exact hash and the daddr trie's root. */
class FamilyBin<P> {
  /** hashKey(saddr, daddr) → entries with those exact addresses. */
  readonly exact = new Map<number, ExactEntry<P>[]>();
  exactCount = 0;
  /** Every inexact policy, sorted by (priority, pos): scanned instead of the tries while short. */
  readonly flat: P[] = [];
  root: number;
  constructor(pool: NodePool<P>) { this.root = pool.alloc(); }
}

class Bin<P> {
  readonly v4: FamilyBin<P>;
  readonly v6: FamilyBin<P>;
  constructor(pool: NodePool<P>) { this.v4 = new FamilyBin(pool); this.v6 = new FamilyBin(pool); }
}

const pairKey = (b: Uint8Array, srcOff: number, dstOff: number, n: number): number =>
  hashKey(hashAddr(hashAddr(HASH_SEED, b, dstOff, n), b, srcOff, n));

/** The policies of one SPD, indexed for lookup. Policies are added and removed by identity. */
export class PolicyIndex<P extends Indexed> {
  private readonly pool = new NodePool<P>();
  /** Per direction: the if_id 0 bin (the common case, no Map lookup), and the others by if_id. */
  private readonly bin0: Bin<P>[];
  private readonly bins: Map<number, Bin<P>>[] = [new Map(), new Map(), new Map()];
  /** Answers by flow key (flow-memo.ts); emptied by every add and remove. */
  private readonly memo: FlowMemo<P>;

  /**
   * `flatMax`: up to this many inexact policies in a bin, lookup scans the
   * bin's sorted list (its first match is the answer) instead of walking the
   * tries — cheaper for the few policies most hosts have. Tests pass 0 to
   * force the tries. `memoSlots`: the flow memo's size (FlowMemo; tests
   * pass 1 so that every flow shares one slot).
   */
  constructor(private readonly flatMax = FLAT_MAX, memoSlots?: number) {
    this.memo = new FlowMemo<P>(memoSlots);
    this.bin0 = [new Bin(this.pool), new Bin(this.pool), new Bin(this.pool)];
  }

  add(dir: number, p: P): void {
    this.place(dir, p, true);
  }

  /** Removes p (no-op when absent). */
  remove(dir: number, p: P): void {
    this.place(dir, p, false);
  }

  /** xfrm_policy_lookup_bytype: the best policy of `dir` and `ifId` whose selector matches f and whose mark matches `mark`, or null. */
  lookup(dir: number, f: Flow, ifId: number, mark = 0): P | null {
    const m = this.memo;
    const slot = m.find(dir, f, ifId, mark);
    if (slot >= 0) return m.answer(slot);
    const p = this.search(dir, f, ifId, mark);
    m.store(-1 - slot, p);
    return p;
  }

  /** lookup without the memo: the hashed exact pairs, then the flat list or the tries. */
  search(dir: number, f: Flow, ifId: number, mark: number): P | null {
    const bin = ifId === 0 ? this.bin0[dir] : this.bins[dir]!.get(ifId);
    if (bin === undefined) return null;
    const fb = f.family === 4 ? bin.v4 : bin.v6;
    const n = f.family === 4 ? 4 : 16;
    let best: P | null = null;
    if (fb.exactCount !== 0) {
      const chain = fb.exact.get(pairKey(f.buf, f.srcOff, f.dstOff, n));
      if (chain !== undefined) {
        for (let i = 0; i < chain.length; i++) {
          const e = chain[i]!;
          if (bytesEqual(e.dst, 0, f.buf, f.dstOff, n) && bytesEqual(e.src, 0, f.buf, f.srcOff, n)) best = bestOf(e.list, f, mark, best);
        }
      }
    }
    if (fb.flat.length <= this.flatMax) return bestOf(fb.flat, f, mark, best);
    return this.walkDst(fb.root, f, mark, best, n << 3);
  }

  /**
   * Walks the daddr trie from `node` along the flow's destination (maxBits
   * long), walking the saddr trie of every node that has one. One byte read
   * per 8 levels; the typed arrays are only replaced by inserts, never
   * during a lookup.
   */
  private walkDst(node: number, f: Flow, mark: number, best: P | null, maxBits: number): P | null {
    const { zero, one, sub } = this.pool;
    const b = f.buf;
    const off = f.dstOff;
    let byte = 0;
    for (let d = 0; ; d++) {
      const s = sub[node]!;
      if (s !== 0) best = this.walkSrc(s, f, mark, best, maxBits);
      if (d === maxBits) return best;
      if ((d & 7) === 0) byte = b[off + (d >>> 3)]!;
      node = ((byte << (d & 7)) & 0x80) === 0 ? zero[node]! : one[node]!;
      if (node === 0) return best;
    }
  }

  /** Walks a saddr trie along the flow's source, evaluating each node's sorted list. */
  private walkSrc(node: number, f: Flow, mark: number, best: P | null, maxBits: number): P | null {
    const { zero, one, lists } = this.pool;
    const b = f.buf;
    const off = f.srcOff;
    let byte = 0;
    for (let d = 0; ; d++) {
      const l = lists[node];
      if (l !== null && l !== undefined) best = bestOf(l, f, mark, best);
      if (d === maxBits) return best;
      if ((d & 7) === 0) byte = b[off + (d >>> 3)]!;
      node = ((byte << (d & 7)) & 0x80) === 0 ? zero[node]! : one[node]!;
      if (node === 0) return best;
    }
  }

  /** Adds (isAdd) or removes p in every family bin its selector belongs to. */
  private place(dir: number, p: P, isAdd: boolean): void {
    this.memo.invalidate();
    const s = p.sel;
    if (s.family === 0 && (s.src.plen !== 0 || s.dst.plen !== 0)) return; // never matches (selectorMatch)
    let bin = p.ifId === 0 ? this.bin0[dir] : this.bins[dir]!.get(p.ifId);
    if (bin === undefined) {
      if (!isAdd) return;
      bin = new Bin(this.pool);
      this.bins[dir]!.set(p.ifId, bin);
    }
    if (s.family !== 6) this.placeIn(bin.v4, 4, p, isAdd);
    if (s.family !== 4) this.placeIn(bin.v6, 16, p, isAdd);
  }

  private placeIn(fb: FamilyBin<P>, n: number, p: P, isAdd: boolean): void {
    const s = p.sel;
    if (s.family !== 0 && s.src.plen === n << 3 && s.dst.plen === n << 3) {
      this.placeExact(fb, n, p, isAdd);
      return;
    }
    if (isAdd) {
      let d = fb.root;
      for (let i = 0; i < s.dst.plen; i++) d = this.pool.child(d, bitAt(s.dst.bytes, 0, i));
      if (this.pool.sub[d] === 0) {
        const root = this.pool.alloc();
        this.pool.sub[d] = root;
      }
      let x = this.pool.sub[d]!;
      for (let i = 0; i < s.src.plen; i++) x = this.pool.child(x, bitAt(s.src.bytes, 0, i));
      const l = this.pool.lists[x];
      if (l === null || l === undefined) this.pool.lists[x] = [p];
      else sortedInsert(l, p);
      sortedInsert(fb.flat, p); // O(1) for the usual add: same priority, newest pos goes last
    } else {
      const at = fb.flat.indexOf(p);
      if (at < 0) return;
      fb.flat.splice(at, 1);
      this.removeInexact(fb.root, p);
    }
  }

  /** Removes p from the tries, then frees the nodes left empty (the daddr root stays). */
  private removeInexact(root: number, p: P): void {
    const pool = this.pool;
    const s = p.sel;
    const dPath = [root];
    for (let i = 0; i < s.dst.plen; i++) {
      const c = bitAt(s.dst.bytes, 0, i) === 0 ? pool.zero[dPath[i]!]! : pool.one[dPath[i]!]!;
      if (c === 0) return;
      dPath.push(c);
    }
    const sRoot = pool.sub[dPath[dPath.length - 1]!]!;
    if (sRoot === 0) return;
    const sPath = [sRoot];
    for (let i = 0; i < s.src.plen; i++) {
      const c = bitAt(s.src.bytes, 0, i) === 0 ? pool.zero[sPath[i]!]! : pool.one[sPath[i]!]!;
      if (c === 0) return;
      sPath.push(c);
    }
    const l = pool.lists[sPath[sPath.length - 1]!];
    const at = l === null || l === undefined ? -1 : l.indexOf(p);
    if (at < 0) return;
    l!.splice(at, 1);
    this.prune(sPath, s.src.bytes, dPath[dPath.length - 1]!);
    this.prune(dPath, s.dst.bytes, 0);
  }

  /**
   * Frees empty nodes from the end of `path` upward (path[i+1] is path[i]'s
   * child toward bit i of `bits`). The first node is freed too only when
   * `owner` ≠ 0 (a saddr root: its daddr node's `sub` is cleared).
   */
  private prune(path: number[], bits: Uint8Array, owner: number): void {
    const pool = this.pool;
    for (let i = path.length - 1; i >= 0; i--) {
      const n = path[i]!;
      if (!pool.isEmpty(n)) return;
      if (i === 0) {
        if (owner === 0) return;
        pool.sub[owner] = 0;
      } else if (bitAt(bits, 0, i - 1) === 0) {
        pool.zero[path[i - 1]!] = 0;
      } else {
        pool.one[path[i - 1]!] = 0;
      }
      pool.release(n);
    }
  }

  private placeExact(fb: FamilyBin<P>, n: number, p: P, isAdd: boolean): void {
    const s = p.sel;
    const k = exactKey(s, n);
    let chain = fb.exact.get(k);
    let e = chain?.find((x) => bytesEqual(x.src, 0, s.src.bytes, 0, n) && bytesEqual(x.dst, 0, s.dst.bytes, 0, n));
    if (isAdd) {
      if (chain === undefined) {
        chain = [];
        fb.exact.set(k, chain);
      }
      if (e === undefined) {
        e = { src: s.src.bytes.subarray(0, n), dst: s.dst.bytes.subarray(0, n), list: [] };
        chain.push(e);
      }
      sortedInsert(e.list, p);
      fb.exactCount++;
      return;
    }
    if (chain === undefined || e === undefined) return;
    const at = e.list.indexOf(p);
    if (at < 0) return;
    e.list.splice(at, 1);
    fb.exactCount--;
    if (e.list.length === 0) chain.splice(chain.indexOf(e), 1);
    if (chain.length === 0) fb.exact.delete(k);
  }
}

/** The exact-hash key of a full-length selector: the same chain as pairKey over a packet's (saddr, daddr). */
function exactKey(s: Selector, n: number): number {
  return hashKey(hashAddr(hashAddr(HASH_SEED, s.dst.bytes, 0, n), s.src.bytes, 0, n));
}
