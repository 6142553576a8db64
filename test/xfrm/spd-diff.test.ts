// Differential: the indexed Spd.lookup (spd-index.ts: exact hash + daddr/saddr
// tries) against the linear xfrm_policy_lookup_bytype it replaced
// (ref-linear.ts), over random policy sets — exact and inexact prefixes with
// unmasked host bits, priority ties, proto/port masks/ICMP type+code,
// ifindex, if_id, marks, family 0 — with adds, updates and deletes
// interleaved, and random flows of both families.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { makeLimits } from '../../src/xfrm/config.js';
import { anySelector, Flow } from '../../src/xfrm/selector.js';
import type { Selector } from '../../src/xfrm/selector.js';
import type { PolicyDir, PolicySpec } from '../../src/xfrm/spec.js';
import { FLAT_MAX } from '../../src/xfrm/spd-index.js';
import { Spd, XfrmPolicy } from '../../src/xfrm/spd.js';
import { NOW } from './esp-util.js';
import { refPolicyLookup } from './ref-linear.js';

const DIRS: PolicyDir[] = ['in', 'out', 'fwd'];
const DEVS: Record<string, number> = { eth0: 2, eth1: 3 };
const ifindexOf = (d: string): number | null => DEVS[d] ?? null;

/** The IPv4 documentation /24s (RFC 5737): 192.0.2, 198.51.100, 203.0.113. */
const DOC4 = [[192, 0, 2], [198, 51, 100], [203, 0, 113]] as const;

/**
 * Addresses from a small space so that prefixes overlap: {192.0.2, 198.51.100,
 * 203.0.113}.{0..7, 128..135} (documentation space only) and
 * 2001:db8:{0,1}:{0,80}::{0..7}. The IPv4 ones share their first 4 bits; bit 4
 * parts 203 from 192 and 198, bit 5 parts 192 from 198 (first octets 1100 0000,
 * 1100 0110, 1100 1011); bit 24, the last octet's top bit, halves each /24; bits
 * 29–31 are the host. plen4's constants sit on those boundaries (4, 5, 6; 24, 25;
 * 29–32), so the tries are walked through all four octets, and prefixes cut
 * the space at bits in the first and the last octet.
 */
const v4Addr = fc.tuple(fc.constantFrom(0, 1, 2), fc.constantFrom(0, 128), fc.integer({ min: 0, max: 7 }));
const v6Addr = fc.tuple(fc.constantFrom(0, 1), fc.constantFrom(0, 0x80), fc.integer({ min: 0, max: 7 }));
const v4Bytes = ([a, b, c]: [number, number, number]): number[] => [...DOC4[a]!, b + c];
const v4Text = (t: [number, number, number]): string => v4Bytes(t).join('.');
const v6Text = ([a, b, c]: [number, number, number]): string => `2001:db8:${a}:${b.toString(16)}::${c}`;
const plen4 = fc.oneof(fc.constantFrom(0, 4, 5, 5, 6, 24, 25, 29, 30, 31, 32, 32, 32), fc.integer({ min: 0, max: 32 }));
const plen6 = fc.oneof(fc.constantFrom(0, 32, 32, 48, 49, 64, 125, 126, 127, 128, 128, 128), fc.integer({ min: 0, max: 128 }));

interface PolicyArb { spec: PolicySpec; any: boolean }

const ports = fc.record({
  proto: fc.constantFrom(0, 0, 1, 6, 17, 58),
  sport: fc.option(fc.constantFrom(0, 1, 8, 80, 443), { nil: undefined, freq: 2 }),
  dport: fc.option(fc.constantFrom(0, 1, 8, 80, 443), { nil: undefined, freq: 2 }),
  sportMask: fc.option(fc.constantFrom(0xff00, 0x00ff, 0xffff, 0), { nil: undefined }),
  dportMask: fc.option(fc.constantFrom(0xff00, 0x00ff, 0xffff, 0), { nil: undefined }),
  dev: fc.option(fc.constantFrom('eth0', 'eth1'), { nil: undefined, freq: 4 }),
});

/** Dense sets: one direction, if_id 0, IPv4 192.0.2.0/30 with short prefixes: many policies match each flow. */
const denseAddr = fc.tuple(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 3 }));
const densePlen = fc.constantFrom(0, 0, 24, 30, 31, 32, 32);

const policyArbOf = (dense: boolean): fc.Arbitrary<PolicyArb> => fc.record({
  v6: dense ? fc.constant(false) : fc.boolean(),
  a4: dense ? fc.tuple(denseAddr, densePlen, denseAddr, densePlen) : fc.tuple(v4Addr, plen4, v4Addr, plen4),
  a6: fc.tuple(v6Addr, plen6, v6Addr, plen6),
  ports,
  dir: dense ? fc.constant<PolicyDir>('out') : fc.constantFrom(...DIRS),
  priority: fc.constantFrom(0, 0, 0, 1, 2, 100),
  ifId: dense ? fc.constant(0) : fc.constantFrom(0, 0, 0, 1, 7),
  mark: fc.option(fc.constantFrom(1, 2), { nil: undefined }),
  block: fc.boolean(),
  any: fc.integer({ min: 0, max: 19 }),
}).map((r) => {
  const [s, sl, d, dl] = r.a4;
  const [s6, sl6, d6, dl6] = r.a6;
  const sel = r.v6 ? { src: `${v6Text(s6)}/${sl6}`, dst: `${v6Text(d6)}/${dl6}` } : { src: `${v4Text(s)}/${sl}`, dst: `${v4Text(d)}/${dl}` };
  const p = r.ports;
  const spec: PolicySpec = {
    sel: {
      ...sel, proto: p.proto,
      ...(p.sport !== undefined ? { sport: p.sport } : {}), ...(p.dport !== undefined ? { dport: p.dport } : {}),
      ...(p.sportMask !== undefined ? { sportMask: p.sportMask } : {}), ...(p.dportMask !== undefined ? { dportMask: p.dportMask } : {}),
      ...(p.dev !== undefined ? { dev: p.dev } : {}),
    },
    dir: r.dir, priority: r.priority, ifId: r.ifId, action: r.block ? 'block' : 'allow',
    ...(r.mark !== undefined ? { mark: { value: r.mark, mask: 0xff } } : {}),
  };
  return { spec, any: r.any === 0 };
});

/** Spd.make, or (any) the same policy with an AF_UNSPEC selector (anySelector(0) with the spec's ports). */
function makePolicy(spd: Spd, a: PolicyArb): XfrmPolicy {
  const p = spd.make(a.spec, ifindexOf, NOW, 0);
  if (!a.any) return p;
  const s = p.sel;
  const sel: Selector = { ...anySelector(0), proto: s.proto, sport: s.sport, sportMask: s.sportMask, dport: s.dport, dportMask: s.dportMask, ifindex: s.ifindex };
  return new XfrmPolicy(p.spec, p.dir, sel, 0, p.priority, p.isBlock, p.tmpls, p.ifId, p.mark, makeLimits(undefined), 0, NOW);
}

const flowArb = fc.record({
  v6: fc.boolean(),
  s4: v4Addr, d4: v4Addr, s6: v6Addr, d6: v6Addr,
  proto: fc.constantFrom(1, 6, 17, 58, 47),
  sport: fc.constantFrom(0, 1, 8, 80, 443, 0x1bb, 0x5000),
  dport: fc.constantFrom(0, 1, 8, 80, 443, 0x1bb, 0x50),
  ifindex: fc.constantFrom(0, 2, 3),
  ifId: fc.constantFrom(0, 1, 7, 9),
  /** The flow's skb mark (policies' marks are 1 or 2 under mask 0xff): 0x101 matches mark 1 through the mask. */
  mark: fc.constantFrom(0, 0, 1, 2, 3, 0x101),
  dir: fc.integer({ min: 0, max: 2 }),
  /** Most flows are taken from a policy's selector (host bits and unmasked port bits randomised) so that they match. */
  derive: fc.integer({ min: 0, max: 9 }),
  pick: fc.nat(),
  noise: fc.array(fc.nat({ max: 255 }), { minLength: 36, maxLength: 36 }),
});
type FlowArb = typeof flowArb extends fc.Arbitrary<infer T> ? T : never;

function randomFlow(a: FlowArb): Flow {
  const f = new Flow();
  const n = a.v6 ? 16 : 4;
  const b = new Uint8Array(3 + 2 * n); // addresses at an odd offset: nothing may assume alignment
  const put = (off: number, t: [number, number, number]): void => {
    if (a.v6) { b[off] = 0x20; b[off + 1] = 0x01; b[off + 2] = 0x0d; b[off + 3] = 0xb8; b[off + 5] = t[0]; b[off + 6] = t[1]; b[off + 15] = t[2]; }
    else b.set(v4Bytes(t), off);
  };
  put(3, a.v6 ? a.s6 : a.s4);
  put(3 + n, a.v6 ? a.d6 : a.d4);
  f.family = a.v6 ? 6 : 4;
  f.buf = b; f.srcOff = 3; f.dstOff = 3 + n;
  f.proto = a.proto; f.sport = a.sport; f.dport = a.dport; f.ifindex = a.ifindex;
  return f;
}

/** Copies the first plen bits of p's address and takes the rest from noise (every 4th flow: the rest as stored). */
function inside(p: Selector['src'], noise: number[], keepHost: boolean, out: Uint8Array, off: number, n: number): void {
  for (let i = 0; i < n; i++) {
    const keep = Math.min(8, Math.max(0, p.plen - 8 * i));
    const mask = 0xff >> keep; // the host bits of this byte
    out[off + i] = keepHost ? p.bytes[i]! : (p.bytes[i]! & ~mask & 0xff) | (noise[i]! & mask);
  }
}

/** A flow: random, or inside a random policy's selector (its family, dir and if_id). */
function toFlow(a: FlowArb, spd: Spd): { f: Flow; dir: number; ifId: number } {
  const all = spd.list();
  const p = all[a.pick % Math.max(1, all.length)];
  if (a.derive < 2 || p === undefined) return { f: randomFlow(a), dir: a.dir, ifId: a.ifId };
  const s = p.sel;
  const fam = s.family === 0 ? (a.v6 ? 6 : 4) : s.family;
  const n = fam === 4 ? 4 : 16;
  const f = new Flow();
  const b = new Uint8Array(1 + 2 * n);
  inside(s.src, a.noise, a.derive === 9, b, 1, n);
  inside(s.dst, a.noise.slice(16), a.derive === 9, b, 1 + n, n);
  f.family = fam; f.buf = b; f.srcOff = 1; f.dstOff = 1 + n;
  f.proto = s.proto !== 0 && a.derive !== 3 ? s.proto : a.proto;
  f.sport = (s.sport & s.sportMask) | (a.sport & ~s.sportMask & 0xffff);
  f.dport = (s.dport & s.dportMask) | (a.dport & ~s.dportMask & 0xffff);
  f.ifindex = s.ifindex !== 0 && a.derive !== 4 ? s.ifindex : a.ifindex;
  return { f, dir: p.dir, ifId: a.derive === 5 ? a.ifId : p.ifId };
}

const opOf = (dense: boolean) => fc.oneof(
  { weight: 6, arbitrary: policyArbOf(dense).map((p) => ({ kind: 'add' as const, p })) },
  { weight: 2, arbitrary: policyArbOf(dense).map((p) => ({ kind: 'update' as const, p })) },
  { weight: 2, arbitrary: fc.nat().map((i) => ({ kind: 'del' as const, i })) },
  { weight: 1, arbitrary: fc.nat().map((i) => ({ kind: 'reupdate' as const, i, priority: i % 3 })) },
);


function check(spd: Spd, flows: FlowArb[]): void {
  for (const a of flows) {
    const { f, dir, ifId } = toFlow(a, spd);
    const want = refPolicyLookup(spd.list(DIRS[dir]!), f, ifId, a.mark);
    assert.equal(spd.lookup(dir, f, ifId, a.mark), want);
  }
}

const op = opOf(false);
const denseOp = opOf(true);
type Op = typeof op extends fc.Arbitrary<infer T> ? T : never;

function apply(spd: Spd, o: Op): void {
  if (o.kind === 'del') {
    const all = spd.list();
    if (all.length > 0) spd.remove(all[o.i % all.length]!);
  } else if (o.kind === 'reupdate') {
    // An update of an existing policy with another priority: it keeps its pos, moves in its lists.
    const all = spd.list();
    const q = all[o.i % Math.max(1, all.length)];
    if (q === undefined) return;
    spd.insert(new XfrmPolicy(q.spec, q.dir, q.sel, 0, o.priority, q.isBlock, q.tmpls, q.ifId, q.mark, q.limits, 0, NOW), true);
  } else {
    try {
      spd.insert(makePolicy(spd, o.p), o.kind === 'update');
    } catch (e) {
      if (!(e instanceof Error && 'code' in e && e.code === 'EEXIST')) throw e;
    }
  }
}

// flatMax 0: always the prefix tries; 3: bins cross between the flat scan and the tries; the default.
// memoSlots 1: every flow shares the flow memo's one slot, so a key field it left out shows as a wrong answer.
for (const [flatMax, memoSlots] of [[0, undefined], [3, 1], [FLAT_MAX, undefined], [FLAT_MAX, 1]] as const) {
  test(`Spd.lookup (flatMax ${flatMax}, memo ${memoSlots ?? 'default'}) equals the linear lookup over random policy sets, adds/updates/deletes interleaved`, () => {
    fc.assert(fc.property(fc.array(op, { maxLength: 60 }), fc.array(flowArb, { minLength: 20, maxLength: 40 }), (ops, flows) => {
      const spd = new Spd(flatMax, memoSlots);
      for (let i = 0; i < ops.length; i++) {
        apply(spd, ops[i]!);
        if (i % 10 === 9) check(spd, flows);
      }
      check(spd, flows);
      // Deleting everything leaves nothing behind (pruned tries still answer null).
      for (const p of [...spd.list()]) spd.remove(p);
      for (const a of flows) assert.equal(spd.lookup(a.dir, randomFlow(a), a.ifId), null);
    }), { numRuns: 200 });
  });

  test(`Spd.lookup (flatMax ${flatMax}, memo ${memoSlots ?? 'default'}) equals the linear lookup on dense sets (many matches per flow: priority and pos ties decide)`, () => {
    fc.assert(fc.property(fc.array(denseOp, { minLength: 10, maxLength: 60 }), fc.array(flowArb, { minLength: 20, maxLength: 40 }), (ops, flows) => {
      const spd = new Spd(flatMax, memoSlots);
      for (let i = 0; i < ops.length; i++) {
        apply(spd, ops[i]!);
        if (i % 5 === 4) check(spd, flows);
      }
    }), { numRuns: 200 });
  });
}

test('Spd.find and list keep their order and answers under churn (reference: a scan of list())', () => {
  fc.assert(fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
    const spd = new Spd();
    for (const o of ops) apply(spd, o);
    for (const d of DIRS) {
      const list = spd.list(d);
      assert.deepEqual([...list].sort((a, b) => a.pos - b.pos), list, 'list order is insertion (pos) order');
      for (const p of list) {
        assert.equal(spd.find(d, null, p.index, 0), p);
        const first = list.find((q) => q.ifId === p.ifId && JSON.stringify(q.sel) === JSON.stringify(p.sel));
        assert.equal(spd.find(d, p.sel, 0, p.ifId), first);
      }
    }
    assert.equal(spd.count, spd.list().length);
  }), { numRuns: 200 });
});
