import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TsoSplitter, completeChecksum } from '../../src/offload/tso.js';
import { Drop } from '../../src/wire/drop.js';
import {
  ACK, CWR, ECE, FIN, PSH, TS_OPTION, be16, be32, pattern, pseudo, refChecksum, refSum, slots, superPacket,
  tcpChecksumValid, tcpPacket, vnet, withVnet,
} from './tcp-packets.js';
import type { TcpOpts } from './tcp-packets.js';

const OFFSET = 64;

/** Splits `sp` into fresh 2 KiB slots; returns the segments as copies, or the negative drop code. */
function split(sp: Uint8Array, nSlots = 64, slotSize = 2048): Uint8Array[] | number {
  const out = slots(nSlots, slotSize, OFFSET);
  const n = new TsoSplitter().split(sp, 0, sp.length, out, 0);
  if (n < 0) return n;
  return out.bufs.slice(0, n).map((b, i) => b.slice(OFFSET, OFFSET + out.sizes[i]!));
}

/** Checks every field of every segment against the super-packet options it came from. */
function expectSegments(o: TcpOpts, mss: number, segs: Uint8Array[]): void {
  const n = Math.ceil(o.payload.length / mss);
  assert.equal(segs.length, n, 'segment count');
  const v6 = o.v6 === true;
  const l3 = v6 ? 40 : 20;
  const th = 20 + (o.options?.length ?? 0);
  const flags = o.flags ?? ACK;
  for (let i = 0; i < n; i++) {
    const s = segs[i]!;
    const data = o.payload.subarray(i * mss, Math.min(o.payload.length, (i + 1) * mss));
    assert.equal(s.length, l3 + th + data.length, `seg ${i} length`);
    if (!v6) {
      assert.equal(s[0], 0x45);
      assert.equal(s[1], o.tos ?? 0, 'tos');
      assert.equal(be16(s, 2), s.length, 'total length');
      assert.equal(be16(s, 4), ((o.id ?? 0x3000) + i) & 0xffff, 'IPv4 ID increments per segment');
      assert.equal(be16(s, 6), (o.df ?? true) ? 0x4000 : 0, 'flags/fragment');
      assert.equal(s[8], o.ttl ?? 64);
      assert.equal(s[9], 6);
      assert.equal(refSum(s.subarray(0, 20)), 0xffff, 'IPv4 header checksum');
    } else {
      assert.equal(s[0]! >> 4, 6);
      assert.equal(((s[0]! & 15) << 4) | (s[1]! >> 4), o.tclass ?? 0, 'traffic class');
      assert.equal(((s[1]! & 15) << 16) | be16(s, 2), o.flowLabel ?? 0x12345, 'flow label');
      assert.equal(be16(s, 4), s.length - 40, 'payload length');
      assert.equal(s[6], 6);
      assert.equal(s[7], o.hop ?? 64);
    }
    const t = l3;
    assert.equal(be16(s, t), o.sport ?? 40000);
    assert.equal(be16(s, t + 2), o.dport ?? 5001);
    assert.equal(be32(s, t + 4), ((o.seq ?? 1000) + i * mss) >>> 0, 'seq advances by gso_size');
    assert.equal(be32(s, t + 8), o.ack ?? 7777, 'ack');
    assert.equal(s[t + 12], (th / 4) << 4, 'data offset');
    let want = flags;
    if (i !== n - 1) want &= ~(FIN | PSH);
    if (i !== 0) want &= ~CWR;
    assert.equal(s[t + 13], want, `seg ${i} flags`);
    assert.equal(be16(s, t + 14), o.window ?? 502, 'window');
    assert.deepEqual([...s.subarray(t + 20, t + th)], o.options ?? [], 'options copied');
    assert.deepEqual(s.subarray(t + th), data, `seg ${i} payload`);
    assert.ok(tcpChecksumValid(s), `seg ${i} TCP checksum (reference)`);
  }
}

const cases: { name: string; o: TcpOpts; mss: number; ecn?: boolean }[] = [
  { name: 'IPv4, 64 KiB-class, timestamps, PSH|FIN on the last', mss: 1448,
    o: { payload: pattern(65160), options: TS_OPTION, flags: ACK | PSH | FIN, id: 0x1234 } },
  { name: 'IPv4, last segment short, DF clear, TOS/TTL', mss: 1460,
    o: { payload: pattern(5000, 3), df: false, tos: 0xb8, ttl: 17, id: 0xfffe } },
  { name: 'IPv4 with ECN (CWR|ECE): CWR only on the first', mss: 1000, ecn: true,
    o: { payload: pattern(3500, 5), flags: ACK | CWR | ECE | PSH, tos: 0x02 } },
  { name: 'IPv6, timestamps, flow label, last short', mss: 1428,
    o: { v6: true, payload: pattern(30001, 9), options: TS_OPTION, flags: ACK | PSH, tclass: 0x28, hop: 3 } },
  { name: 'IPv6 with ECN, seq wraps 2^32', mss: 1200, ecn: true,
    o: { v6: true, payload: pattern(4000, 1), flags: ACK | CWR, seq: 0xffffff00 } },
  { name: 'exactly one segment (payload = gso_size)', mss: 1448, o: { payload: pattern(1448) } },
];

for (const c of cases) {
  test(`split: ${c.name}`, () => {
    const sp = superPacket(c.o, c.mss, c.ecn);
    const before = sp.slice();
    const segs = split(sp);
    assert.ok(Array.isArray(segs), `dropped: ${String(segs)}`);
    expectSegments(c.o, c.mss, segs);
    assert.deepEqual(sp, before, 'the source is never written');
  });
}

test('split: segments land at the slot offset, nothing before it is written, sizes set', () => {
  const out = slots(8, 1600, 100);
  for (const b of out.bufs) b.fill(0xa5);
  const sp = superPacket({ payload: pattern(4000) }, 1400);
  assert.equal(new TsoSplitter().split(sp, 0, sp.length, out, 2), 3);
  assert.deepEqual([...out.sizes], [0, 0, 1440, 1440, 1240, 0, 0, 0]);
  for (const i of [2, 3, 4]) {
    assert.ok(out.bufs[i]!.subarray(0, 100).every((x) => x === 0xa5), 'headroom untouched');
    assert.equal(out.bufs[i]![100], 0x45);
    assert.ok(out.bufs[i]!.subarray(100 + out.sizes[i]!).every((x) => x === 0xa5), 'tail untouched');
  }
  assert.ok(out.bufs[1]!.every((x) => x === 0xa5) && out.bufs[5]!.every((x) => x === 0xa5), 'other slots untouched');
});

test('split: a super-packet at a non-zero offset inside a larger read buffer', () => {
  const sp = superPacket({ payload: pattern(3000), options: TS_OPTION }, 1448);
  const big = new Uint8Array(sp.length + 50).fill(0xee);
  big.set(sp, 17);
  const out = slots(4, 1600, 32);
  assert.equal(new TsoSplitter().split(big, 17, sp.length, out, 0), 3);
  assert.ok(tcpChecksumValid(out.bufs[2]!.subarray(32, 32 + out.sizes[2]!)));
});

test('GSO_NONE with NEEDS_CSUM: the partial checksum is completed (TCP and UDP), copied into slot 0', () => {
  const pkt = tcpPacket({ payload: pattern(300), csum: 'partial' });
  const sp = withVnet(vnet(1, 0, 0, 0, 20, 16), pkt);
  const segs = split(sp);
  assert.ok(Array.isArray(segs));
  assert.equal(segs.length, 1);
  assert.ok(tcpChecksumValid(segs[0]!));
  // UDP: 8-byte header, checksum at 6, over the IPv6 pseudo-header.
  const u = new Uint8Array(40 + 8 + 13);
  u[0] = 0x60; u[5] = 21; u[6] = 17; u[7] = 64; u[23] = 1; u[39] = 2; u[8] = 0x20; u[9] = 0x01; u[24] = 0x20; u[25] = 0x01;
  u[40] = 0x13; u[41] = 0x88; u[42] = 0x13; u[43] = 0x89; u[45] = 21;
  u.set(pattern(13), 48);
  const ps = [...u.subarray(8, 40), 0, 0, 0, 21, 0, 0, 0, 17];
  const partial = refSum(ps);
  u[46] = partial >> 8; u[47] = partial & 255;
  const us = split(withVnet(vnet(1, 0, 0, 0, 40, 6), u));
  assert.ok(Array.isArray(us));
  const got = us[0]!;
  const zeroed = [...got.subarray(40)];
  zeroed[6] = 0; zeroed[7] = 0;
  assert.equal(be16(got, 46), refChecksum([...ps, ...zeroed]) || 0xffff);
});

test('GSO_NONE without NEEDS_CSUM: copied unchanged', () => {
  const pkt = tcpPacket({ payload: pattern(100) });
  const segs = split(withVnet(vnet(0, 0, 0, 0, 0, 0), pkt));
  assert.ok(Array.isArray(segs));
  assert.deepEqual(segs[0], pkt);
});

test('completeChecksumInPlace: completes where the packet was read; refuses GSO headers', () => {
  const pkt = tcpPacket({ payload: pattern(200), csum: 'partial', v6: true });
  const b = withVnet(vnet(1, 0, 0, 0, 40, 16), pkt);
  const s = new TsoSplitter();
  assert.equal(s.completeChecksumInPlace(b, 0, b.length), Drop.None);
  assert.ok(tcpChecksumValid(b.subarray(10)));
  const g = superPacket({ payload: pattern(3000) }, 1000);
  assert.equal(s.completeChecksumInPlace(g, 0, g.length), Drop.VnetBadHeader);
  assert.equal(s.completeChecksumInPlace(g, 0, 9), Drop.Truncated);
});

test('completeChecksum: a field outside the packet is refused, nothing written', () => {
  const b = new Uint8Array(30).fill(7);
  assert.equal(completeChecksum(b, 0, 30, 20, 9), Drop.VnetBadHeader);
  assert.equal(completeChecksum(b, 0, 30, 20, 8), Drop.None);
  assert.ok(b.subarray(0, 28).every((x) => x === 7));
  // The sum runs over the field too (it holds the partial pseudo-header sum).
  assert.equal(be16(b, 28), refChecksum(new Array(10).fill(7)));
});

test('split refuses malformed headers and packets with a drop code', () => {
  const good = (): Uint8Array => superPacket({ payload: pattern(3000), options: TS_OPTION }, 1448);
  const mut = (f: (b: Uint8Array) => void): Uint8Array => { const b = good(); f(b); return b; };
  const table: [string, Uint8Array, number][] = [
    ['shorter than the vnet header', good().subarray(0, 9), Drop.Truncated],
    ['unknown gso_type 2', mut((b) => { b[1] = 2; }), Drop.VnetBadHeader],
    ['unknown gso_type 0x41', mut((b) => { b[1] = 0x41; }), Drop.VnetBadHeader],
    ['gso_size 0', mut((b) => { b[4] = 0; b[5] = 0; }), Drop.VnetBadHeader],
    ['UDP_L4 (USO)', mut((b) => { b[1] = 5; }), Drop.GsoUnsupported],
    ['UFO', mut((b) => { b[1] = 3; }), Drop.GsoUnsupported],
    ['TCPV6 over an IPv4 packet', mut((b) => { b[1] = 4; }), Drop.VnetBadHeader],
    ['csum_offset 6 on TCP', mut((b) => { b[8] = 6; }), Drop.VnetBadHeader],
    ['csum_start not the TCP header', mut((b) => { b[6] = 24; }), Drop.VnetBadHeader],
    ['IPv4 MF set', mut((b) => { b[16]! |= 0x20; }), Drop.GsoBadPacket],
    ['not TCP', mut((b) => { b[19] = 17; }), Drop.GsoBadPacket],
    ['TCP data offset past the packet', mut((b) => { b[10 + 20 + 12] = 0xf0; b[10 + 2] = 0; b[10 + 3] = 40 + 20; }), Drop.GsoBadPacket],
    ['TCP data offset < 5', mut((b) => { b[10 + 20 + 12] = 0x40; }), Drop.GsoBadPacket],
    ['IPv4 total length beyond the read', mut((b) => { b[12] = 0xff; b[13] = 0xff; }), Drop.BadTotalLen],
    ['IPv4 IHL 4', mut((b) => { b[10] = 0x44; }), Drop.BadHeaderLen],
    ['NONE + NEEDS_CSUM, field past the end', withVnet(vnet(1, 0, 0, 0, 20, 4000), tcpPacket({ payload: pattern(10) })), Drop.VnetBadHeader],
  ];
  for (const [name, b, code] of table) assert.equal(split(b), -code, name);
  const v6 = superPacket({ v6: true, payload: pattern(3000) }, 1000);
  v6[10 + 6] = 0; // Hop-by-Hop first
  assert.equal(split(v6), -Drop.GsoUnsupported, 'IPv6 extension headers');
});

test('split refuses when the slots cannot hold the segments', () => {
  const sp = superPacket({ payload: pattern(10000) }, 1000); // 10 segments of 1040
  assert.equal(split(sp, 9), -Drop.GsoNoRoom, 'one slot short');
  assert.equal(split(sp, 10, OFFSET + 1039), -Drop.GsoNoRoom, 'one byte short');
  assert.ok(Array.isArray(split(sp, 10, OFFSET + 1040)), 'exactly enough');
  const out = slots(10, 2048, OFFSET);
  const s = new TsoSplitter();
  assert.equal(s.split(sp, 0, sp.length, out, -1), -Drop.GsoNoRoom);
  assert.equal(s.split(sp, 0, sp.length, out, 1), -Drop.GsoNoRoom);
  assert.equal(s.split(sp, 0, sp.length, out, 1.5), -Drop.GsoNoRoom);
  assert.deepEqual([...out.sizes], new Array(10).fill(0), 'sizes untouched on refusal');
});

test('the kernel-style hdr_len hint is not trusted (whole first segment as hdr_len)', () => {
  const o = { payload: pattern(5000), options: TS_OPTION };
  const sp = superPacket(o, 1448);
  sp[2] = 0xdc; sp[3] = 0x05; // hdr_len 1500
  const segs = split(sp);
  assert.ok(Array.isArray(segs));
  expectSegments(o, 1448, segs);
});

test('reference checksum self-check: a flipped payload bit fails', () => {
  const p = tcpPacket({ payload: pattern(100) });
  assert.ok(tcpChecksumValid(p));
  p[60]! ^= 1;
  assert.equal(tcpChecksumValid(p), false);
  assert.deepEqual(pseudo(tcpPacket({ payload: pattern(1) }), 21).length, 12);
});
