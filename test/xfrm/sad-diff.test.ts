// Differential: the hashed Sad.findOut (xfrm_state_find over state_bydst)
// and Sad.lookupIn (xfrm_state_lookup over state_byspi) against the linear
// scans they replaced (ref-linear.ts), over random SADs — both families,
// tunnel and transport mode, reqids with 0 = any, template SPIs, if_ids,
// state selectors, valid/dying/expired states — with adds and deletes
// interleaved.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { makeSaConfig, XFRM_MODE_TRANSPORT, XFRM_MODE_TUNNEL } from '../../src/xfrm/config.js';
import { Sad } from '../../src/xfrm/sad.js';
import type { TmplMatch } from '../../src/xfrm/sad.js';
import { Flow, parseXAddr } from '../../src/xfrm/selector.js';
import type { StateSpec } from '../../src/xfrm/spec.js';
import { KmState } from '../../src/xfrm/state.js';
import { NOW, sa } from './esp-util.js';
import { refFindOut, refLookupIn } from './ref-linear.js';

const V4 = ['198.51.100.1', '198.51.100.2', '192.0.2.7'];
const V6 = ['2001:db8::1', '2001:db8::2'];
const addrIdx = fc.integer({ min: 0, max: 2 });
const pick = (v6: boolean, i: number): string => (v6 ? V6[i % V6.length]! : V4[i]!);

const stateArbOf = (dense: boolean) => fc.record({
  v6: dense ? fc.constant(false) : fc.boolean(), src: dense ? fc.constant(0) : addrIdx, dst: dense ? fc.constant(1) : addrIdx,
  spi: fc.constantFrom(1, 2, 3, 0x80000000, 0xffffffff),
  transport: fc.boolean(),
  reqid: fc.constantFrom(0, 1, 2),
  ifId: dense ? fc.constant(0) : fc.constantFrom(0, 0, 7),
  narrow: fc.integer({ min: 0, max: 3 }),
  km: fc.constantFrom<KmState>(KmState.Valid, KmState.Valid, KmState.Dying, KmState.Expired),
}).map((r) => {
  const src = pick(r.v6, r.src);
  const dst = pick(r.v6, r.dst);
  const sel = r.narrow !== 0 ? {} : { sel: r.v6 ? { src: '2001:db8::/126', dst: '::/0' } : { src: '198.51.100.0/30', dst: '0.0.0.0/0' } };
  const spec: StateSpec = sa(src, dst, r.spi, { mode: r.transport ? 'transport' : 'tunnel', reqid: r.reqid, ...(r.ifId !== 0 ? { ifId: r.ifId } : {}), ...sel });
  return { spec, km: r.km };
});

const queryArb = fc.record({
  v6: fc.boolean(), src: addrIdx, dst: addrIdx, tsrc: addrIdx, tdst: addrIdx,
  transport: fc.boolean(),
  reqid: fc.constantFrom(0, 0, 1, 2),
  spi: fc.constantFrom(0, 0, 0, 1, 2, 0x80000000),
  ifId: fc.constantFrom(0, 0, 7),
  /** A tunnel template with no endpoints (never from a validated policy; the slow path). */
  open: fc.integer({ min: 0, max: 9 }),
});
type Query = typeof queryArb extends fc.Arbitrary<infer T> ? T : never;

function flowOf(q: Query): Flow {
  const s = parseXAddr('s', pick(q.v6, q.src));
  const d = parseXAddr('d', pick(q.v6, q.dst));
  const n = q.v6 ? 16 : 4;
  const f = new Flow();
  const b = new Uint8Array(2 + 2 * n);
  b.set(s.bytes.subarray(0, n), 2);
  b.set(d.bytes.subarray(0, n), 2 + n);
  f.family = q.v6 ? 6 : 4; f.buf = b; f.srcOff = 2; f.dstOff = 2 + n; f.proto = 1;
  return f;
}

function tmplOf(q: Query): TmplMatch {
  const open = !q.transport && q.open === 0;
  return {
    src: q.transport || open ? null : parseXAddr('s', pick(q.v6, q.tsrc)),
    dst: q.transport || open ? null : parseXAddr('d', pick(q.v6, q.tdst)),
    spi: q.spi, reqid: q.reqid, mode: q.transport ? XFRM_MODE_TRANSPORT : XFRM_MODE_TUNNEL,
  };
}

const opOf = (dense: boolean) => fc.oneof(
  { weight: 3, arbitrary: stateArbOf(dense).map((s) => ({ kind: 'add' as const, s })) },
  { weight: 1, arbitrary: fc.nat().map((i) => ({ kind: 'del' as const, i })) },
);

function check(sad: Sad, queries: Query[]): void {
  const states = sad.list();
  const oldestFirst = [...states].reverse();
  for (const q of queries) {
    const f = flowOf(q);
    const t = tmplOf(q);
    assert.equal(sad.findOut(t, f, q.ifId), refFindOut(states, t, f, q.ifId));
    for (const spi of [1, 2, 0x80000000, 0xffffffff]) {
      assert.equal(sad.lookupIn(spi, f.family, f.buf, f.dstOff), refLookupIn(oldestFirst, spi, f.family, f.buf, f.dstOff));
    }
  }
}

for (const dense of [false, true]) {
  test(`Sad.findOut and lookupIn equal the linear scans over random${dense ? ' dense' : ''} SADs, adds and deletes interleaved`, () => {
    fc.assert(fc.property(fc.array(opOf(dense), { maxLength: 40 }), fc.array(queryArb, { minLength: 10, maxLength: 30 }), (ops, queries) => {
      const sad = new Sad();
      for (let i = 0; i < ops.length; i++) {
        const o = ops[i]!;
        if (o.kind === 'add') {
          try {
            sad.add(makeSaConfig(o.s.spec, () => null), o.s.spec, NOW).km = o.s.km;
          } catch (e) {
            if (!(e instanceof Error && 'code' in e && e.code === 'EEXIST')) throw e;
          }
        } else {
          const l = sad.list();
          if (l.length > 0) sad.remove(l[o.i % l.length]!);
        }
        if (i % 5 === 4) check(sad, queries);
      }
      check(sad, queries);
      for (const x of sad.list()) sad.remove(x);
      for (const q of queries) assert.equal(sad.findOut(tmplOf(q), flowOf(q), q.ifId), null);
    }), { numRuns: 300 });
  });
}
