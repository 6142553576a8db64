import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { UDP_HDR_LEN, UDP_PORT_IKE, UDP_PORT_NAT_T, UdpPacket, emitUdp, parseUdp, udpHeaderLen } from '../../src/wire/udp.js';
import type { UdpRepr } from '../../src/wire/udp.js';
import { Drop } from '../../src/wire/drop.js';
import { parseIp4, parseIp6 } from '../../src/wire/addr.js';
import { filled, hex, toHex } from '../util/hex.js';
import { loadBytes, loadJson } from '../util/paths.js';

interface UdpVector {
  name: string; pcap?: string; frame?: number; offset?: number;
  ip4Src?: string; ip4Dst?: string; ip6Src?: string; ip6Dst?: string;
  datagram: string; srcPort: number; dstPort: number; length: number; checksum: number;
}
const V = loadJson<{ vectors: UdpVector[] }>('udp.json').vectors;
const ESP_IN_UDP = V[0]!;
const HOST_UDP4 = V[1]!;
const RFC_UDP4 = V[2]!;
const RFC_UDP6 = V[3]!;

/** Frame n (1-based) of a classic little-endian pcap. */
function pcapFrame(file: string, n: number): Uint8Array {
  const d = loadBytes(file);
  const dv = new DataView(d.buffer, d.byteOffset, d.byteLength);
  let o = 24;
  for (let i = 1; ; i++) {
    const incl = dv.getUint32(o + 8, true);
    if (i === n) return d.subarray(o + 16, o + 16 + incl);
    o += 16 + incl;
  }
}

const ip4 = (s: string): number => parseIp4(s)!;
const ip6 = (s: string): Uint8Array => parseIp6(s)!;

/**
 * Independent reference (RFC 768 / RFC 8200 §8.1): builds the pseudo-header
 * as bytes, appends the datagram with its checksum field zeroed, sums 16-bit
 * words with a plain loop, complements, and maps 0 to 0xffff.
 */
function refUdpChecksum(pseudo: number[], dgram: Uint8Array): number {
  const all = [...pseudo, ...dgram];
  all[pseudo.length + 6] = 0;
  all[pseudo.length + 7] = 0;
  if (all.length % 2) all.push(0);
  let s = 0;
  for (let i = 0; i < all.length; i += 2) s += all[i]! * 256 + all[i + 1]!;
  while (s > 0xffff) s = (s >>> 16) + (s & 0xffff);
  const c = 0xffff - s;
  return c === 0 ? 0xffff : c;
}
const pseudo4 = (src: number, dst: number, len: number): number[] =>
  [src >>> 24, (src >>> 16) & 255, (src >>> 8) & 255, src & 255, dst >>> 24, (dst >>> 16) & 255, (dst >>> 8) & 255, dst & 255, 0, 17, len >>> 8, len & 255];
const pseudo6 = (src: Uint8Array, dst: Uint8Array, len: number): number[] =>
  [...src, ...dst, (len >>> 24) & 255, (len >>> 16) & 255, (len >>> 8) & 255, len & 255, 0, 0, 0, 17];

const reprOf = (v: UdpVector): UdpRepr => ({ srcPort: v.srcPort, dstPort: v.dstPort, length: v.length });

const bytesOffLen = fc
  .uint8Array({ minLength: 0, maxLength: 200, size: 'max' })
  .chain((b) => fc.tuple(fc.constant(b), fc.integer({ min: 0, max: b.length })))
  .chain(([b, off]) => fc.tuple(fc.constant(b), fc.constant(off), fc.integer({ min: 0, max: b.length - off })));

test('pcap vectors are the capture bytes (provenance)', () => {
  for (const v of V) {
    if (v.pcap === undefined) continue;
    assert.equal(toHex(pcapFrame(v.pcap, v.frame!).subarray(v.offset!)), v.datagram, v.name);
  }
  assert.equal(UDP_PORT_NAT_T, 4500);
  assert.equal(UDP_PORT_IKE, 500);
});

test('deconstruct: every field of each vector', () => {
  const p = new UdpPacket();
  for (const v of V) {
    const b = hex(v.datagram);
    assert.equal(p.check(b), Drop.None, v.name);
    assert.equal(p.srcPort, v.srcPort);
    assert.equal(p.dstPort, v.dstPort);
    assert.equal(p.length, v.length);
    assert.equal(p.boundLen, v.length);
    assert.equal(p.checksum, v.checksum);
    assert.equal(p.payloadOffset, UDP_HDR_LEN);
    assert.equal(p.payloadLen, v.length - UDP_HDR_LEN);
    assert.equal(p.buffer, b);
    assert.equal(p.offset, 0);
    assert.deepEqual(parseUdp(p), reprOf(v));
  }
  // The kernel's ESP-in-UDP header: ports 4500, length 0x80, checksum 0.
  assert.equal(ESP_IN_UDP.datagram.slice(0, 16), '1194119400800000');
});

test('checksums: kernel ESP-in-UDP has none (valid on IPv4); host-kernel and RFC datagrams verify', () => {
  const p = new UdpPacket();
  assert.ok(p.wrap(hex(ESP_IN_UDP.datagram)));
  assert.ok(p.verifyChecksum4(ip4(ESP_IN_UDP.ip4Src!), ip4(ESP_IN_UDP.ip4Dst!)), 'zero = none on IPv4');
  for (const v of [HOST_UDP4, RFC_UDP4]) {
    const b = hex(v.datagram);
    assert.ok(p.wrap(b));
    assert.ok(p.verifyChecksum4(ip4(v.ip4Src!), ip4(v.ip4Dst!)), v.name);
    assert.equal(p.verifyChecksum4(ip4(v.ip4Dst!), ip4(v.ip4Dst!)), false, 'wrong pseudo-header');
    assert.equal(refUdpChecksum(pseudo4(ip4(v.ip4Src!), ip4(v.ip4Dst!), b.length), b), v.checksum, 'reference agrees');
  }
  const s6 = ip6(RFC_UDP6.ip6Src!);
  const d6 = ip6(RFC_UDP6.ip6Dst!);
  const b6 = hex(RFC_UDP6.datagram);
  assert.ok(p.wrap(b6));
  assert.ok(p.verifyChecksum6(s6, 0, d6, 0));
  assert.equal(p.verifyChecksum6(d6, 0, s6, 1), false);
  assert.equal(refUdpChecksum(pseudo6(s6, d6, b6.length), b6), RFC_UDP6.checksum, 'reference agrees');
  // Addresses read in place from one buffer (an IPv6 header: src at 8, dst at 24).
  const hdr = new Uint8Array(40);
  hdr.set(s6, 8);
  hdr.set(d6, 24);
  assert.ok(p.verifyChecksum6(hdr, 8, hdr, 24));
});

test('IPv6: a zero checksum is invalid; a bad checksum fails on both families', () => {
  const p = new UdpPacket();
  const b = hex(RFC_UDP6.datagram);
  assert.ok(p.wrap(b));
  p.clearChecksum();
  assert.equal(p.checksum, 0);
  assert.equal(p.verifyChecksum6(ip6(RFC_UDP6.ip6Src!), 0, ip6(RFC_UDP6.ip6Dst!), 0), false);
  const c = hex(RFC_UDP4.datagram);
  c[c.length - 1]! ^= 0x40;
  assert.ok(p.wrap(c));
  assert.equal(p.verifyChecksum4(ip4(RFC_UDP4.ip4Src!), ip4(RFC_UDP4.ip4Dst!)), false);
});

test('construct: emitUdp into 0xa5 reproduces the kernel ESP-in-UDP header (checksum 0)', () => {
  const want = hex(ESP_IN_UDP.datagram);
  const b = filled(want.length);
  const p = new UdpPacket();
  assert.ok(p.bind(b, 0, want.length));
  assert.equal(udpHeaderLen(reprOf(ESP_IN_UDP)), UDP_HDR_LEN);
  emitUdp(reprOf(ESP_IN_UDP), p);
  assert.equal(toHex(b, 0, 8), '1194119400800000');
  b.set(want.subarray(8), 8);
  assert.equal(toHex(b), ESP_IN_UDP.datagram);
});

test('construct: emitUdp + fillChecksum4/6 re-create the checksummed datagrams', () => {
  const p = new UdpPacket();
  for (const v of [HOST_UDP4, RFC_UDP4, RFC_UDP6]) {
    const want = hex(v.datagram);
    const b = filled(want.length);
    assert.ok(p.bind(b, 0, want.length));
    emitUdp(reprOf(v), p);
    assert.equal(p.checksum, 0);
    b.set(want.subarray(8), 8);
    if (v.ip4Src !== undefined) p.fillChecksum4(ip4(v.ip4Src), ip4(v.ip4Dst!));
    else p.fillChecksum6(ip6(v.ip6Src!), 0, ip6(v.ip6Dst!), 0);
    assert.equal(toHex(b), v.datagram, v.name);
  }
});

test('a computed checksum of 0 is sent as 0xffff (IPv4 and IPv6) and verifies', () => {
  const p = new UdpPacket();
  const src = ip4('192.0.2.1');
  const dst = ip4('192.0.2.2');
  const b = filled(12);
  assert.ok(p.bind(b, 0, 12));
  emitUdp({ srcPort: 4500, dstPort: 4500, length: 12 }, p);
  b[8] = 0; b[9] = 0; b[10] = 0; b[11] = 0;
  p.fillChecksum4(src, dst);
  const c = p.checksum;
  // Put c into the data: the sum becomes 0xffff and the checksum would be 0.
  b[10] = c >>> 8; b[11] = c & 255;
  p.fillChecksum4(src, dst);
  assert.equal(p.checksum, 0xffff);
  assert.equal(refUdpChecksum(pseudo4(src, dst, 12), b), 0xffff);
  assert.ok(p.verifyChecksum4(src, dst));
  const s6 = ip6('2001:db8::1');
  const d6 = ip6('2001:db8::2');
  b[10] = 0; b[11] = 0;
  p.fillChecksum6(s6, 0, d6, 0);
  const c6 = p.checksum;
  b[10] = c6 >>> 8; b[11] = c6 & 255;
  p.fillChecksum6(s6, 0, d6, 0);
  assert.equal(p.checksum, 0xffff);
  assert.ok(p.verifyChecksum6(s6, 0, d6, 0));
});

test('wrap boundary: len-1 fails, len passes; trailing bytes are cut off at Length', () => {
  const p = new UdpPacket();
  const b = hex(ESP_IN_UDP.datagram);
  assert.equal(p.check(b, 0, b.length - 1), Drop.BadUdp, 'Length field > bytes');
  assert.equal(p.wrap(b, 0, b.length - 1), false);
  assert.equal(p.check(b, 0, b.length), Drop.None);
  assert.equal(p.check(b, 0, 7), Drop.Truncated);
  assert.equal(p.check(hex('0001000200080000'), 0, 8), Drop.None);
  assert.equal(p.payloadLen, 0);
  const padded = new Uint8Array(b.length + 6);
  padded.set(b);
  assert.equal(p.check(padded), Drop.None);
  assert.equal(p.boundLen, b.length);
  assert.equal(p.payloadLen, b.length - 8);
});

test('Drop reasons: Truncated (< 8 or range outside), BadUdp (Length < 8 or > len)', () => {
  const p = new UdpPacket();
  assert.equal(p.check(new Uint8Array(0)), Drop.Truncated);
  assert.equal(p.check(new Uint8Array(7)), Drop.Truncated);
  assert.equal(p.check(new Uint8Array(16), 10, 8), Drop.Truncated);
  assert.equal(p.check(new Uint8Array(16), -1, 8), Drop.Truncated);
  assert.equal(p.check(hex('1194119400070000')), Drop.BadUdp);
  assert.equal(p.check(hex('1194119400000000')), Drop.BadUdp, 'Length 0 (no jumbogram support here)');
  assert.equal(p.check(hex('119411940009000000')), Drop.None);
  assert.equal(p.check(hex('11941194000a000000')), Drop.BadUdp);
  // A failed check keeps the previous binding.
  const good = hex(RFC_UDP4.datagram);
  assert.ok(p.wrap(good));
  assert.equal(p.check(hex('1194119400070000')), Drop.BadUdp);
  assert.equal(p.buffer, good);
});

test('parse -> emit -> parse round trip', () => {
  const p = new UdpPacket();
  const q = new UdpPacket();
  for (const v of V) {
    assert.ok(p.wrap(hex(v.datagram)));
    const r = parseUdp(p)!;
    const out = filled(r.length);
    assert.ok(q.bind(out, 0, out.length));
    emitUdp(r, q);
    assert.equal(q.check(out), Drop.None);
    assert.deepEqual(parseUdp(q), r);
  }
});

test('emit at a non-zero offset (7) into a larger buffer', () => {
  const v = RFC_UDP4;
  const want = hex(v.datagram);
  const b = filled(7 + want.length + 3);
  const p = new UdpPacket();
  assert.ok(p.bind(b, 7, want.length));
  emitUdp(reprOf(v), p);
  b.set(want.subarray(8), 7 + 8);
  p.fillChecksum4(ip4(v.ip4Src!), ip4(v.ip4Dst!));
  assert.equal(toHex(b, 7, want.length), v.datagram);
  assert.equal(b[6], 0xa5);
  assert.equal(b[7 + want.length], 0xa5);
  assert.equal(p.payloadOffset, 15);
  assert.equal(p.offset, 7);
});

test('emitUdp/bind/parseUdp misuse', () => {
  const p = new UdpPacket();
  assert.equal(p.bind(new Uint8Array(8), 0, 7), false);
  assert.equal(p.bind(new Uint8Array(8), 1, 8), false);
  assert.ok(p.bind(filled(8), 0, 8));
  assert.throws(() => emitUdp({ srcPort: 1, dstPort: 2, length: 7 }, p), RangeError);
  assert.throws(() => emitUdp({ srcPort: 1, dstPort: 2, length: 0x10000 }, p), RangeError);
  assert.equal(parseUdp(p), null, 'garbage Length 0xa5a5 > bound 8');
  p.length = 4;
  assert.equal(parseUdp(p), null);
  const fresh = new UdpPacket();
  assert.throws(() => emitUdp({ srcPort: 1, dstPort: 2, length: 8 }, fresh), RangeError, 'unbound view');
  p.srcPort = 0xffff;
  p.dstPort = 0;
  p.length = 8;
  assert.deepEqual(parseUdp(p), { srcPort: 0xffff, dstPort: 0, length: 8 });
});

test('fast-check: check/parse never throw; what parses re-emits the same header (checksum 0)', () => {
  const p = new UdpPacket();
  const q = new UdpPacket();
  let parsed = 0;
  fc.assert(
    fc.property(bytesOffLen, fc.boolean(), ([b, off, len], fix) => {
      if (fix && len >= 8) { b[off + 4] = 0; b[off + 5] = Math.max(8, len - b[off + 6]! % 4); }
      const d = p.check(b, off, len);
      if (d !== Drop.None) {
        assert.ok(d === Drop.Truncated || d === Drop.BadUdp);
        return;
      }
      p.verifyChecksum4(1, 2);
      p.verifyChecksum6(b, 0, b, 0);
      const r = parseUdp(p);
      assert.ok(r !== null);
      parsed++;
      const out = filled(r.length);
      assert.ok(q.bind(out, 0, out.length));
      emitUdp(r, q);
      const want = b.slice(off, off + 8);
      want[6] = 0; want[7] = 0;
      assert.equal(toHex(out, 0, 8), toHex(want));
    }),
    { numRuns: 500 },
  );
  assert.ok(parsed > 50, `only ${parsed} of 500 runs parsed`);
});

test('differential: fillChecksum4/6 equal the reference implementation', () => {
  const p = new UdpPacket();
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 0, maxLength: 300 }), fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff }),
      fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.uint8Array({ minLength: 16, maxLength: 16 }),
      (data, src, dst, s6, d6) => {
        const b = filled(8 + data.length);
        b.set(data, 8);
        assert.ok(p.bind(b, 0, b.length));
        emitUdp({ srcPort: 4500, dstPort: 500, length: b.length }, p);
        p.fillChecksum4(src, dst);
        assert.equal(p.checksum, refUdpChecksum(pseudo4(src, dst, b.length), b));
        assert.ok(p.verifyChecksum4(src, dst));
        p.fillChecksum6(s6, 0, d6, 0);
        assert.equal(p.checksum, refUdpChecksum(pseudo6(s6, d6, b.length), b));
        assert.ok(p.verifyChecksum6(s6, 0, d6, 0));
      },
    ),
  );
});
