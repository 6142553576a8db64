// Properties over arbitrary and mutated input: split() and coalesce() never
// throw on packet bytes, never write outside the bytes their contracts name,
// and whatever they produce is internally consistent (checksums, counts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { GRO_MERGE_BUF_LEN, GroCoalescer, WriteList } from '../../src/offload/gro.js';
import { TsoSplitter } from '../../src/offload/tso.js';
import { DROP_CODES } from '../../src/wire/drop.js';
import {
  ACK, CWR, ECE, PSH, TS_OPTION, be16, pattern, refChecksum, refSum, superPacket, tcpChecksumValid, tcpPacket,
} from './tcp-packets.js';

const GUARD = 0xa5;
const HEADROOM = 0x5a;

/** Slots carved out of one backing buffer with guard bytes between them. */
function guardedSlots(sizes: number[], offset: number): { back: Uint8Array; bufs: Uint8Array[]; sizes: Int32Array; offset: number } {
  const total = sizes.reduce((a, s) => a + s + 16, 16);
  const back = new Uint8Array(total).fill(GUARD);
  const bufs: Uint8Array[] = [];
  let at = 16;
  for (const s of sizes) {
    const b = back.subarray(at, at + s);
    b.fill(HEADROOM);
    bufs.push(b);
    at += s + 16;
  }
  return { back, bufs, sizes: new Int32Array(sizes.length), offset };
}

function guardsIntact(back: Uint8Array, sizes: number[]): boolean {
  let at = 0;
  for (const s of [...sizes, -1]) {
    for (let i = at; i < at + 16 && i < back.length; i++) if (back[i] !== GUARD) return false;
    at += 16 + s;
  }
  return true;
}

const validSuper = fc.record({
  v6: fc.boolean(),
  len: fc.integer({ min: 0, max: 20000 }),
  mss: fc.integer({ min: 1, max: 1500 }),
  ts: fc.boolean(),
  ecn: fc.boolean(),
  flags: fc.constantFrom(ACK, ACK | PSH, ACK | CWR | ECE, ACK | 1),
  seq: fc.nat({ max: 0xffffffff }),
  id: fc.nat({ max: 0xffff }),
}).map((r) => superPacket({
  v6: r.v6, payload: pattern(r.len), options: r.ts ? TS_OPTION : [], flags: r.flags, seq: r.seq, id: r.id,
}, r.mss, r.ecn));

const mutated = fc.tuple(validSuper, fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { maxLength: 4 }), fc.option(fc.nat()))
  .map(([b, muts, cut]) => {
    const c = b.slice(0, cut === null ? b.length : cut % (b.length + 1));
    for (const [i, v] of muts) if (c.length > 0) c[i % Math.min(c.length, 120)] = v;
    return c;
  });

const input = fc.oneof(fc.uint8Array({ maxLength: 300 }), mutated, validSuper);

test('split never throws, never writes outside its segments, and returns a count or a known drop', () => {
  const codes = new Set(DROP_CODES);
  const s = new TsoSplitter();
  fc.assert(fc.property(input, fc.array(fc.integer({ min: 0, max: 1600 }), { minLength: 1, maxLength: 30 }),
    fc.integer({ min: 0, max: 40 }), fc.integer({ min: -1, max: 5 }), (src, sizes, offset, first) => {
      const out = guardedSlots(sizes, offset);
      const before = src.slice();
      const n = s.split(src, 0, src.length, out, first);
      assert.deepEqual(src, before, 'source untouched');
      assert.ok(guardsIntact(out.back, sizes), 'nothing outside the slots');
      if (n < 0) {
        assert.ok(codes.has(-n), `unknown drop ${-n}`);
        return;
      }
      assert.ok(Number.isInteger(n) && n >= 1 && first >= 0 && first + n <= sizes.length);
      out.bufs.forEach((b, i) => {
        const mine = i >= first && i < first + n;
        const end = mine ? offset + out.sizes[i]! : 0;
        for (let k = 0; k < b.length; k++) {
          if (k < offset || k >= end) assert.equal(b[k], HEADROOM, `slot ${i} byte ${k} outside the segment`);
        }
      });
      const kind = src[1]! & 0x7f;
      if (kind === 1 || kind === 4) {
        for (let i = first; i < first + n; i++) {
          const seg = out.bufs[i]!.subarray(offset, offset + out.sizes[i]!);
          assert.ok(tcpChecksumValid(seg), 'every TCP segment checksum is complete and valid');
          if (kind === 1) assert.equal(refSum(seg.subarray(0, (seg[0]! & 15) * 4)), 0xffff);
        }
      }
    }), { numRuns: 400 });
});

/** A batch: segments of a few flows, shuffled and mutated, plus junk. */
const batchArb = fc.tuple(
  fc.array(fc.record({ v6: fc.boolean(), sport: fc.integer({ min: 1, max: 3 }), n: fc.integer({ min: 1, max: 6 }), mss: fc.integer({ min: 1, max: 900 }) }), { minLength: 1, maxLength: 4 }),
  fc.array(fc.tuple(fc.nat(), fc.nat(), fc.nat({ max: 255 })), { maxLength: 3 }),
  fc.array(fc.uint8Array({ maxLength: 80 }), { maxLength: 3 }),
  fc.boolean(),
).map(([flows, muts, junk, shuffle]) => {
  const pkts: Uint8Array[] = [];
  for (const f of flows) {
    for (let i = 0; i < f.n; i++) {
      pkts.push(tcpPacket({ v6: f.v6, sport: f.sport, seq: 1000 + i * f.mss, id: 0x3000 + i, payload: pattern(f.mss, i),
        flags: i === f.n - 1 ? ACK | PSH : ACK }));
    }
  }
  pkts.push(...junk);
  if (shuffle) pkts.reverse();
  for (const [p, i, v] of muts) {
    const b = pkts[p % pkts.length]!;
    if (b.length > 0) b[i % Math.min(b.length, 80)] = v;
  }
  return pkts;
});

test('coalesce never throws, writes only headroom, merge buffers and room after head packets, and loses no packet', () => {
  fc.assert(fc.property(batchArb, fc.integer({ min: 10, max: 40 }), fc.array(fc.nat({ max: 8000 }), { minLength: 30, maxLength: 30 }),
    fc.integer({ min: 0, max: 3 }), (pkts, offset, extra, nMerge) => {
      const sizes = pkts.map((p, i) => offset + p.length + extra[i % extra.length]!);
      const batch = guardedSlots(sizes, offset);
      pkts.forEach((p, i) => { batch.bufs[i]!.set(p, offset); batch.sizes[i] = p.length; });
      const merge = Array.from({ length: nMerge }, () => new Uint8Array(GRO_MERGE_BUF_LEN));
      const out = new WriteList(64);
      const n = new GroCoalescer(64, merge).coalesce(batch, pkts.length, out);
      assert.ok(guardsIntact(batch.back, sizes), 'nothing outside the slots');
      let segments = 0;
      for (let w = 0; w < n; w++) {
        const b = out.bufs[w]!;
        const o = out.offs[w]!;
        assert.ok(o >= 0 && o + out.lens[w]! <= b.length, 'entry inside its buffer');
        const hdr = b.subarray(o, o + 10);
        const pkt = b.subarray(o + 10, o + out.lens[w]!);
        if (hdr[1] === 0) {
          assert.ok(hdr.every((x) => x === 0));
          segments++;
          continue;
        }
        const l3 = hdr[6]!;
        const tcpHl = (pkt[l3 + 12]! >> 4) * 4;
        const gso = hdr[4]! | (hdr[5]! << 8);
        segments += Math.ceil((pkt.length - l3 - tcpHl) / gso);
        const done = pkt.slice();
        const c = refChecksum(done.subarray(l3));
        done[l3 + 16] = c >> 8; done[l3 + 17] = c & 255;
        assert.ok(tcpChecksumValid(done), 'a merged packet completes to a valid checksum');
      }
      assert.equal(segments, pkts.length, 'every input packet is written exactly once');
      batch.bufs.forEach((b, i) => {
        for (let k = 0; k < offset - 10; k++) assert.equal(b[k], HEADROOM, `slot ${i} headroom before the vnet header`);
      });
    }), { numRuns: 300 });
});

test('split → coalesce gives back any valid super-packet of more than one segment', () => {
  const s = new TsoSplitter();
  fc.assert(fc.property(fc.record({
    v6: fc.boolean(), len: fc.integer({ min: 2, max: 60000 }), mss: fc.integer({ min: 1000, max: 1500 }),
    ts: fc.boolean(), psh: fc.boolean(), ecn: fc.boolean(), seq: fc.nat({ max: 0xffffffff }), id: fc.nat({ max: 0xffff }),
  }).filter((r) => r.len > r.mss), (r) => {
    const sp = superPacket({ v6: r.v6, payload: pattern(r.len, r.id), options: r.ts ? TS_OPTION : [], seq: r.seq, id: r.id,
      flags: ACK | (r.psh ? PSH : 0) | (r.ecn ? CWR | ECE : 0) }, r.mss, r.ecn);
    const batch = guardedSlots(new Array<number>(64).fill(1600), 16);
    const n = s.split(sp, 0, sp.length, batch, 0);
    assert.ok(n > 1);
    const out = new WriteList(64);
    assert.equal(new GroCoalescer(64, [new Uint8Array(GRO_MERGE_BUF_LEN)]).coalesce(batch, n, out), 1);
    const got = out.bufs[0]!.subarray(out.offs[0]!, out.offs[0]! + out.lens[0]!);
    assert.deepEqual(got, sp);
    assert.equal(be16(got, 10 + 2) === sp.length - 10 || r.v6, true);
  }), { numRuns: 60 });
});
