// A direct-mapped memo of SPD lookup answers, keyed by everything a lookup
// reads from a packet: direction, if_id, mark, family, both addresses,
// protocol, ports (ICMP type/code, GRE key halves) and ifindex. A steady
// flow — every segment of a TSO burst, every ACK of a TCP stream — then
// costs a key compare instead of a hash chain, trie walk and selector
// matches. The kernel answers steady flows from a cache too: its flow cache
// (net/core/flow.c, until 4.14), today the xfrm bundle kept on a socket's
// dst (xfrm_lookup_with_ifid via sk_dst_cache). A forwarding data path has
// no socket per flow, so the answer is kept per flow key instead.
//
// Contract: PolicyIndex's answer is a function of exactly this key and of
// its set of policies (policies are immutable; an update is a remove and an
// add). Every change to the set calls invalidate(), which bumps the
// generation and so empties the memo at once. The memo has a fixed number
// of slots: a flood of distinct flows costs a key compare and a store per
// lookup, never memory. Nothing is allocated per lookup.

import { be32s } from '../wire/bytes.js';
import type { Flow } from './selector.js';

/** Default slots: a few dozen concurrent flows per direction stay resident. */
const SLOTS = 256;
/** Int32 words per slot: generation, 5 key words, 8 address words (IPv6 src + dst; IPv4 uses 2). */
const KW = 14;
const GEN = 0;
const ADDR = 6;

export class FlowMemo<A> {
  private readonly keys: Int32Array;
  private readonly answers: (A | null)[];
  private readonly mask: number;
  /** The key of the last find() that missed, for store(). */
  private readonly k = new Int32Array(KW);
  /** Current generation; a slot holding another one is empty. Never 0 (a zeroed slot is empty). */
  private gen = 1;

  /** `slots`: a power of two (tests use 1, where every key shares the slot). */
  constructor(slots = SLOTS) {
    if (slots < 1 || (slots & (slots - 1)) !== 0) throw new RangeError('FlowMemo: slots must be a power of two');
    this.keys = new Int32Array(slots * KW);
    this.answers = new Array<A | null>(slots).fill(null);
    this.mask = slots - 1;
  }

  /** Forgets every answer (the policy set changed). */
  invalidate(): void {
    if (this.gen === 0x7fffffff) {
      this.keys.fill(0);
      this.answers.fill(null);
      this.gen = 0;
    }
    this.gen++;
  }

  /**
   * Looks up (dir, f, ifId, mark): a slot ≥ 0 on a hit (answer(slot) is the
   * memoized answer, null included), or -1 - slot on a miss (store()
   * fills that slot with the answer for this key).
   */
  find(dir: number, f: Flow, ifId: number, mark: number): number {
    const w1 = dir | (f.family << 2) | (f.proto << 8);
    const w2 = (f.sport << 16) | f.dport;
    const id = ifId | 0;
    const mk = mark | 0;
    const b = f.buf;
    const s0 = be32s(b, f.srcOff);
    const d0 = be32s(b, f.dstOff);
    const v6 = f.family !== 4;
    const k = this.k;
    let h = Math.imul(w1 ^ w2 ^ f.ifindex ^ id ^ mk ^ s0 ^ Math.imul(d0, 0x2545f491), 0x9e3779b1);
    for (let i = 1; i < 4; i++) { // the rest of an IPv6 pair, read once: hashed here, compared and stored from k
      const s = v6 ? be32s(b, f.srcOff + 4 * i) : 0;
      const d = v6 ? be32s(b, f.dstOff + 4 * i) : 0;
      k[ADDR + i] = s;
      k[ADDR + 4 + i] = d;
      if (v6) h = Math.imul(h ^ s ^ Math.imul(d, 0x2545f491), 0x9e3779b1);
    }
    const slot = ((h ^ (h >>> 15)) >>> 8) & this.mask;
    const keys = this.keys;
    const o = slot * KW;
    if (keys[o + GEN] === this.gen && keys[o + 1] === w1 && keys[o + 2] === w2 && keys[o + 3] === f.ifindex && keys[o + 4] === id &&
      keys[o + 5] === mk && keys[o + ADDR] === s0 && keys[o + ADDR + 4] === d0 && (!v6 || this.sameRest6(o))) {
      return slot;
    }
    k[GEN] = this.gen; k[1] = w1; k[2] = w2; k[3] = f.ifindex; k[4] = id; k[5] = mk; k[ADDR] = s0; k[ADDR + 4] = d0;
    return -1 - slot;
  }

  /** The last 12 bytes of both IPv6 addresses (in k) equal the key at slot offset o. */
  private sameRest6(o: number): boolean {
    const keys = this.keys;
    const k = this.k;
    for (let i = 1; i < 4; i++) if (keys[o + ADDR + i] !== k[ADDR + i] || keys[o + ADDR + 4 + i] !== k[ADDR + 4 + i]) return false;
    return true;
  }

  answer(slot: number): A | null {
    return this.answers[slot] ?? null;
  }

  /** Keeps `a` as the answer for the key of the last find(), which missed at `slot` (-1 - its result). */
  store(slot: number, a: A | null): void {
    this.keys.set(this.k, slot * KW);
    this.answers[slot] = a;
  }
}
