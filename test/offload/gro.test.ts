import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GRO_MERGE_BUF_LEN, GroCoalescer, WriteList } from '../../src/offload/gro.js';
import { TsoSplitter } from '../../src/offload/tso.js';
import {
  ACK, CWR, ECE, FIN, PSH, RST, SYN, TS_OPTION, URG, be16, pattern, refChecksum, refSum, slots, superPacket,
  tcpChecksumValid, tcpPacket,
} from './tcp-packets.js';
import type { TcpOpts } from './tcp-packets.js';

const OFFSET = 32;

interface Written { hdr: Uint8Array; pkt: Uint8Array; buf: Uint8Array }

/** Puts packets into fresh slots of `slotSize`, coalesces, returns copies of what would be written. */
function coalesce(pkts: Uint8Array[], opts: { slotSize?: number; mergeBufs?: number; verify?: boolean } = {}): Written[] {
  const batch = slots(pkts.length, opts.slotSize ?? 2048, OFFSET);
  pkts.forEach((p, i) => { batch.bufs[i]!.set(p, OFFSET); batch.sizes[i] = p.length; });
  const merge = Array.from({ length: opts.mergeBufs ?? 4 }, () => new Uint8Array(GRO_MERGE_BUF_LEN));
  const g = new GroCoalescer(128, merge, opts.verify ?? true);
  const out = new WriteList(128);
  const n = g.coalesce(batch, pkts.length, out);
  assert.equal(n, out.count);
  const res: Written[] = [];
  for (let i = 0; i < n; i++) {
    const b = out.bufs[i]!;
    const w = b.slice(out.offs[i]!, out.offs[i]! + out.lens[i]!);
    res.push({ hdr: w.subarray(0, 10), pkt: w.subarray(10), buf: b });
  }
  return res;
}

/** What the kernel does with a NEEDS_CSUM packet: complete the checksum from csum_start (skb_checksum_help). */
function kernelComplete(w: Written): Uint8Array {
  const p = w.pkt.slice();
  if ((w.hdr[0]! & 1) === 0) return p;
  const start = w.hdr[6]! | (w.hdr[7]! << 8);
  const at = start + (w.hdr[8]! | (w.hdr[9]! << 8));
  const c = refChecksum(p.subarray(start));
  p[at] = c >> 8;
  p[at + 1] = c & 255;
  return p;
}

const isPlain = (w: Written): boolean => w.hdr.every((x) => x === 0);

/** Splits a super-packet built from `o` with the core, returning the segments (the round trip's first half). */
function segmentsOf(o: TcpOpts, mss: number, ecn = false): Uint8Array[] {
  const sp = superPacket(o, mss, ecn);
  const out = slots(64, 2048, 0);
  const n = new TsoSplitter().split(sp, 0, sp.length, out, 0);
  assert.ok(n > 0, `split failed: ${n}`);
  return out.bufs.slice(0, n).map((b, i) => b.slice(0, out.sizes[i]!));
}

for (const v6 of [false, true]) {
  for (const ecn of [false, true]) {
    test(`round trip ${v6 ? 'IPv6' : 'IPv4'}${ecn ? ' ECN' : ''}: split → coalesce gives the super-packet back byte for byte`, () => {
      const o: TcpOpts = { v6, payload: pattern(40000, 2), options: TS_OPTION, flags: ACK | PSH | (ecn ? CWR | ECE : 0), id: 0xfff0 };
      const sp = superPacket(o, 1448, ecn);
      const segs = segmentsOf(o, 1448, ecn);
      assert.equal(segs.length, 28);
      const w = coalesce(segs);
      assert.equal(w.length, 1);
      assert.deepEqual(w[0]!.hdr, sp.subarray(0, 10), 'vnet header: NEEDS_CSUM, gso_type, hdr_len, gso_size, csum_start, 16');
      assert.deepEqual(w[0]!.pkt, sp.subarray(10), 'packet, partial checksum included');
      assert.ok(tcpChecksumValid(kernelComplete(w[0]!)), 'completes to a valid checksum');
    });
  }
}

test('a run is assembled in place when the head slot has room, else in a merge buffer', () => {
  const segs = segmentsOf({ payload: pattern(6000) }, 1000);
  const inPlace = coalesce(segs, { slotSize: OFFSET + 6040 });
  assert.equal(inPlace.length, 1);
  assert.equal(inPlace[0]!.buf.length, OFFSET + 6040, 'the head slot');
  const merged = coalesce(segs, { slotSize: OFFSET + 6039 });
  assert.equal(merged[0]!.buf.length, GRO_MERGE_BUF_LEN, 'a merge buffer');
  assert.deepEqual(inPlace[0]!.pkt, merged[0]!.pkt);
});

test('with no room anywhere the segments are written one by one, unmerged, in order', () => {
  const segs = segmentsOf({ payload: pattern(3000) }, 1000);
  const w = coalesce(segs, { mergeBufs: 0 });
  assert.equal(w.length, 3);
  w.forEach((x, i) => { assert.ok(isPlain(x)); assert.deepEqual(x.pkt, segs[i]); });
});

test('more runs than merge buffers: the first runs merge, the rest pass through', () => {
  const a = segmentsOf({ payload: pattern(2000), sport: 1 }, 1000);
  const b = segmentsOf({ payload: pattern(2000), sport: 2 }, 1000);
  const w = coalesce([...a, ...b], { mergeBufs: 1 });
  assert.equal(w.length, 3);
  assert.equal(w[0]!.hdr[1], 1);
  assert.ok(isPlain(w[1]!) && isPlain(w[2]!));
});

test('interleaved flows merge per flow, each run at its first packet position', () => {
  const a = segmentsOf({ payload: pattern(3000, 1), sport: 1111 }, 1000);
  const b = segmentsOf({ v6: true, payload: pattern(2000, 2), sport: 2222 }, 1000);
  const w = coalesce([a[0]!, b[0]!, a[1]!, b[1]!, a[2]!]);
  assert.equal(w.length, 2);
  assert.equal(be16(w[0]!.pkt, 20), 1111);
  assert.equal(be16(w[0]!.pkt, 2), 3040);
  assert.equal(be16(w[1]!.pkt, 40), 2222);
  assert.equal(be16(w[1]!.pkt, 4), 2020);
});

test('the 64 KiB limit splits a long run into several super-packets', () => {
  const segs = Array.from({ length: 50 }, (_, i) =>
    tcpPacket({ seq: 1000 + i * 1448, id: 0x3000 + i, payload: pattern(1448, i) }));
  const w = coalesce(segs);
  assert.equal(w.length, 2);
  assert.equal(be16(w[0]!.pkt, 2), 40 + 45 * 1448, '45 segments fit under 65535');
  assert.equal(be16(w[1]!.pkt, 2), 40 + 5 * 1448);
  for (const x of w) assert.ok(tcpChecksumValid(kernelComplete(x)));
});

/** Two segments of one flow, the second changed by `f` (then re-checksummed unless keepCsum). */
function pair(f: (o: TcpOpts) => TcpOpts, base: TcpOpts = { payload: pattern(1000) }): Uint8Array[] {
  const first = tcpPacket(base);
  const next = { ...base, seq: (base.seq ?? 1000) + base.payload.length, id: (base.id ?? 0x3000) + 1, payload: pattern(1000, 9) };
  return [first, tcpPacket(f(next))];
}

test('coalesce merges a plain contiguous pair (the control for the refusals below)', () => {
  const w = coalesce(pair((o) => o));
  assert.equal(w.length, 1);
  assert.equal(w[0]!.hdr[1], 1);
});

test('coalesce refuses non-contiguous, different-flow, flag-bearing and mismatched segments', () => {
  const refusals: [string, Uint8Array[]][] = [
    ['seq gap', pair((o) => ({ ...o, seq: o.seq! + 1 }))],
    ['seq overlap', pair((o) => ({ ...o, seq: o.seq! - 1 }))],
    ['other source port', pair((o) => ({ ...o, sport: 1 }))],
    ['other destination', pair((o) => ({ ...o, dst: '203.0.113.9' }))],
    ['other ack', pair((o) => ({ ...o, ack: 1 }))],
    ['SYN', pair((o) => ({ ...o, flags: ACK | SYN }))],
    ['FIN', pair((o) => ({ ...o, flags: ACK | FIN }))],
    ['RST', pair((o) => ({ ...o, flags: ACK | RST }))],
    ['URG', pair((o) => ({ ...o, flags: ACK | URG }))],
    ['CWR on a later segment', pair((o) => ({ ...o, flags: ACK | CWR }))],
    ['ECE differs', pair((o) => ({ ...o, flags: ACK | ECE }))],
    ['no ACK', pair((o) => ({ ...o, flags: PSH }))],
    ['TOS differs', pair((o) => ({ ...o, tos: 4 }))],
    ['TTL differs', pair((o) => ({ ...o, ttl: 63 }))],
    ['DF differs', pair((o) => ({ ...o, df: false }))],
    ['IPv4 ID not incrementing', pair((o) => ({ ...o, id: o.id! + 5 }))],
    ['options differ', pair((o) => ({ ...o, options: TS_OPTION }), { payload: pattern(1000), options: [1, 1, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0] })],
    ['options length differs', pair((o) => ({ ...o, options: TS_OPTION }))],
    ['later segment larger', pair((o) => ({ ...o, payload: pattern(1001) }))],
    ['IPv6 flow label differs', pair((o) => ({ ...o, flowLabel: 7 }), { v6: true, payload: pattern(1000) })],
    ['IPv6 hop limit differs', pair((o) => ({ ...o, hop: 1 }), { v6: true, payload: pattern(1000) })],
    ['IPv6 traffic class differs', pair((o) => ({ ...o, tclass: 1 }), { v6: true, payload: pattern(1000) })],
    ['IPv4 then IPv6', [tcpPacket({ payload: pattern(1000) }), tcpPacket({ v6: true, seq: 2000, payload: pattern(1000) })]],
  ];
  for (const [name, pkts] of refusals) {
    const w = coalesce(pkts);
    assert.equal(w.length, 2, name);
    assert.ok(w.every(isPlain), `${name}: written with zero vnet headers`);
    assert.deepEqual(w[0]!.pkt, pkts[0], `${name}: first unchanged`);
    assert.deepEqual(w[1]!.pkt, pkts[1], `${name}: second unchanged`);
  }
});

test('accepted variations: shorter last segment, PSH on the last, fixed ID with DF, window differs', () => {
  for (const [name, pkts] of [
    ['short last', pair((o) => ({ ...o, payload: pattern(10) }))],
    ['PSH last', pair((o) => ({ ...o, flags: ACK | PSH }))],
    ['fixed ID with DF', pair((o) => ({ ...o, id: o.id! - 1 }))],
  ] as const) {
    assert.equal(coalesce([...pkts]).length, 1, name);
  }
  assert.equal(coalesce(pair((o) => ({ ...o, id: o.id! - 1, df: false }), { payload: pattern(1000), df: false })).length, 2, 'fixed ID without DF');
});

test('PSH ends a run: the next segment starts a new one', () => {
  const segs = segmentsOf({ payload: pattern(4000) }, 1000);
  segs[1] = tcpPacket({ seq: 2000, id: 0x3001, flags: ACK | PSH, payload: segs[1]!.subarray(40) });
  const w = coalesce(segs);
  assert.equal(w.length, 2);
  assert.equal(be16(w[0]!.pkt, 2), 2040);
  assert.equal(w[0]!.pkt[33]! & PSH, PSH, 'PSH carried to the merged header');
  assert.equal(be16(w[1]!.pkt, 2), 2040);
});

test('a short segment ends a run', () => {
  const a = tcpPacket({ payload: pattern(1000) });
  const b = tcpPacket({ seq: 2000, id: 0x3001, payload: pattern(500) });
  const c = tcpPacket({ seq: 2500, id: 0x3002, payload: pattern(500) });
  const w = coalesce([a, b, c]);
  assert.equal(w.length, 2);
  assert.ok(isPlain(w[1]!));
});

test('a same-flow packet that cannot merge (pure ACK, FIN) closes the run: no reordering', () => {
  const segs = segmentsOf({ payload: pattern(3000) }, 1000);
  const ackOnly = tcpPacket({ seq: 4000, payload: new Uint8Array(0) });
  const w = coalesce([segs[0]!, ackOnly, segs[1]!, segs[2]!]);
  assert.equal(w.length, 3);
  assert.ok(isPlain(w[0]!) && isPlain(w[1]!));
  assert.equal(be16(w[2]!.pkt, 2), 2040, 'the last two merge after the ACK');
});

test('a bad TCP checksum on a member: it is written alone; on the head: the rest still merge', () => {
  const segs = segmentsOf({ payload: pattern(4000) }, 1000);
  const bad = segs.map((s) => s.slice());
  bad[2]![100]! ^= 0x55;
  let w = coalesce(bad);
  assert.deepEqual(w.map((x) => isPlain(x)), [false, true, true], 'run [0,1], bad 2 alone, 3 alone (seq no longer follows)');
  const badHead = segs.map((s) => s.slice());
  badHead[0]![100]! ^= 0x55;
  w = coalesce(badHead);
  assert.deepEqual(w.map((x) => isPlain(x)), [true, false]);
  assert.deepEqual(w[0]!.pkt, badHead[0]);
  assert.equal(be16(w[1]!.pkt, 2), 40 + 3000);
});

test('verifyChecksums off (ESP-protected inner packets): a bad member is merged, as documented', () => {
  const segs = segmentsOf({ payload: pattern(3000) }, 1000).map((s) => s.slice());
  segs[1]![100]! ^= 0x55;
  assert.equal(coalesce(segs, { verify: false }).length, 1);
  assert.equal(coalesce(segs).length, 3);
});

test('a bad IPv4 header checksum, IP options or a fragment: never merged', () => {
  const [a, b] = pair((o) => o);
  const badIp = b!.slice();
  badIp[8]! ^= 1;
  assert.equal(coalesce([a!, badIp]).length, 2);
  const frag = b!.slice();
  frag[6]! |= 0x20;
  frag[10] = 0; frag[11] = 0;
  const c = refChecksum(frag.subarray(0, 20));
  frag[10] = c >> 8; frag[11] = c & 255;
  assert.equal(coalesce([a!, frag]).length, 2);
  assert.equal(refSum(frag.subarray(0, 20)), 0xffff);
});

test('non-TCP packets pass through with a zero header, untouched', () => {
  const udp = tcpPacket({ payload: pattern(50) });
  udp[9] = 17;
  const junk = new Uint8Array([0x00, 1, 2]);
  const empty = new Uint8Array(0);
  const w = coalesce([udp, junk, empty]);
  assert.equal(w.length, 3);
  assert.deepEqual(w.map((x) => x.pkt.length), [udp.length, 3, 0]);
  assert.ok(w.every(isPlain));
});

test('misuse throws: batch over capacity, headroom < 10, size outside its slot', () => {
  const g = new GroCoalescer(2, []);
  const out = new WriteList(2);
  const b = slots(3, 100, 10);
  assert.throws(() => g.coalesce(b, 3, out), RangeError);
  assert.throws(() => g.coalesce({ ...b, offset: 9 }, 1, out), RangeError);
  b.sizes[0] = 91;
  assert.throws(() => g.coalesce(b, 1, out), RangeError);
  assert.throws(() => new GroCoalescer(2, [new Uint8Array(100)]), RangeError);
  b.sizes[0] = 90;
  assert.equal(g.coalesce(b, 1, out), 1);
});
