// FlowMemo (src/xfrm/flow-memo.ts): a hit only for a flow equal in every
// field the SPD lookup reads, answers (null too) returned as stored, and
// nothing after invalidate(). One slot makes every key collide, so a field
// left out of the key shows as a wrong hit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FlowMemo } from '../../src/xfrm/flow-memo.js';
import { Flow } from '../../src/xfrm/selector.js';

interface Fields {
  v6: boolean; src: number[]; dst: number[]; proto: number; sport: number; dport: number; ifindex: number;
}

/** A Flow over a fresh buffer, its addresses at `pad` (any alignment). */
function flowOf(x: Fields, pad = 1): Flow {
  const n = x.v6 ? 16 : 4;
  const b = new Uint8Array(pad + 2 * n);
  b.set(x.src.slice(0, n), pad);
  b.set(x.dst.slice(0, n), pad + n);
  const f = new Flow();
  f.family = x.v6 ? 6 : 4;
  f.buf = b; f.srcOff = pad; f.dstOff = pad + n;
  f.proto = x.proto; f.sport = x.sport; f.dport = x.dport; f.ifindex = x.ifindex;
  return f;
}

const BASE: Fields = {
  v6: false,
  src: [192, 0, 2, 1, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 1],
  dst: [198, 51, 100, 2, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 2],
  proto: 6, sport: 443, dport: 0xc000, ifindex: 3,
};

test('FlowMemo: a hit needs every key field equal; answers, null included, come back as stored', () => {
  for (const v6 of [false, true]) {
    const base = { ...BASE, v6 };
    const m = new FlowMemo<string>(1);
    const miss = m.find(1, flowOf(base), 0, 0);
    assert.ok(miss < 0);
    m.store(-1 - miss, 'A');
    assert.equal(m.answer(m.find(1, flowOf(base, 3), 0, 0)), 'A', 'same content, another buffer and offset');
    const n = v6 ? 16 : 4;
    const variants: [string, Flow, number, number, number][] = [
      ['dir', flowOf(base), 0, 0, 0],
      ['if_id', flowOf(base), 1, 7, 0],
      ['mark', flowOf(base), 1, 0, 5],
      ['family', flowOf({ ...base, v6: !v6 }), 1, 0, 0],
      ['proto', flowOf({ ...base, proto: 17 }), 1, 0, 0],
      ['sport', flowOf({ ...base, sport: 444 }), 1, 0, 0],
      ['dport', flowOf({ ...base, dport: 0xc001 }), 1, 0, 0],
      ['ifindex', flowOf({ ...base, ifindex: 4 }), 1, 0, 0],
    ];
    for (let i = 0; i < n; i++) {
      const src = [...base.src];
      const dst = [...base.dst];
      src[i] = src[i]! ^ 0x80;
      dst[i] = dst[i]! ^ 1;
      variants.push([`src byte ${i}`, flowOf({ ...base, src }), 1, 0, 0], [`dst byte ${i}`, flowOf({ ...base, dst }), 1, 0, 0]);
    }
    for (const [what, f, dir, ifId, mark] of variants) {
      assert.ok(m.find(dir, f, ifId, mark) < 0, `v6 ${v6}: a flow differing in ${what} must miss`);
      assert.equal(m.answer(m.find(1, flowOf(base), 0, 0)), 'A', `v6 ${v6}: the stored key is intact after probing ${what}`);
    }
    m.store(-1 - m.find(2, flowOf(base), 0, 0), null);
    const hit = m.find(2, flowOf(base), 0, 0);
    assert.ok(hit >= 0, 'a null answer is memoized too');
    assert.equal(m.answer(hit), null);
    m.invalidate();
    assert.ok(m.find(2, flowOf(base), 0, 0) < 0, 'nothing survives invalidate()');
  }
});

test('FlowMemo: slots must be a power of two', () => {
  for (const bad of [0, 3, 6, -2]) assert.throws(() => new FlowMemo(bad), RangeError);
});

const fieldsArb = fc.record({
  v6: fc.boolean(),
  src: fc.array(fc.constantFrom(0, 1, 0x80, 0xff), { minLength: 16, maxLength: 16 }),
  dst: fc.array(fc.constantFrom(0, 1, 0x80, 0xff), { minLength: 16, maxLength: 16 }),
  proto: fc.constantFrom(1, 6, 17),
  sport: fc.constantFrom(0, 1, 0x8000, 0xffff),
  dport: fc.constantFrom(0, 1, 0x8000, 0xffff),
  ifindex: fc.constantFrom(0, 2),
});
const lookupArb = fc.record({
  f: fieldsArb,
  dir: fc.integer({ min: 0, max: 2 }),
  ifId: fc.constantFrom(0, 1, -1),
  mark: fc.constantFrom(0, 1, -2147483648),
  invalidate: fc.integer({ min: 0, max: 15 }),
});

/** The model's key: every field, addresses only as many bytes as the family has. */
function modelKey(l: typeof lookupArb extends fc.Arbitrary<infer T> ? T : never): string {
  const n = l.f.v6 ? 16 : 4;
  return JSON.stringify([l.dir, l.ifId, l.mark, l.f.v6, l.f.src.slice(0, n), l.f.dst.slice(0, n), l.f.proto, l.f.sport, l.f.dport, l.f.ifindex]);
}

test('FlowMemo agrees with a map of every key it stored, across invalidations (1, 2 and 256 slots)', () => {
  fc.assert(fc.property(fc.constantFrom(1, 2, 256), fc.array(lookupArb, { minLength: 1, maxLength: 80 }), (slots, seq) => {
    const m = new FlowMemo<number>(slots);
    let model = new Map<string, number>();
    let next = 0;
    for (const l of seq) {
      if (l.invalidate === 0) {
        m.invalidate();
        model = new Map();
      }
      const k = modelKey(l);
      const s = m.find(l.dir, flowOf(l.f), l.ifId, l.mark);
      if (s >= 0) {
        assert.ok(model.has(k), 'a hit for a key never stored since the last invalidate');
        assert.equal(m.answer(s), model.get(k));
      } else {
        const a = next++;
        m.store(-1 - s, a);
        model.set(k, a);
      }
    }
  }), { numRuns: 300 });
});
