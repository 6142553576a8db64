import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  Ip6Packet, parseIp6, emitIp6, ip6HeaderLen, IP6_HDR_LEN, IP6_MIN_MTU, IP6_MAX_EXT_HEADERS,
} from '../../src/wire/ip6.js';
import type { Ip6Repr } from '../../src/wire/ip6.js';
import { Drop, dropName } from '../../src/wire/drop.js';
import { formatIp6, parseIp6 as addr6 } from '../../src/wire/addr.js';
import {
  IPPROTO_AH, IPPROTO_DSTOPTS, IPPROTO_ESP, IPPROTO_FRAGMENT, IPPROTO_HIP, IPPROTO_HOPOPTS, IPPROTO_ICMPV6,
  IPPROTO_MH, IPPROTO_NONE, IPPROTO_ROUTING, IPPROTO_SHIM6, IPPROTO_UDP, INET_ECN_CE,
} from '../../src/wire/ipproto.js';
import { filled, hex, toHex } from '../util/hex.js';
import { loadBytes, loadJson } from '../util/paths.js';

interface JsonRepr extends Omit<Ip6Repr, 'src' | 'dst'> { src: string; dst: string }
interface Walk {
  drop: string; upperProtocol?: number; upperOffset?: number; isFragment?: boolean; isFirstFragment?: boolean;
  fragOffset?: number; fragMore?: boolean; fragIdent?: number;
}
interface Vec { name: string; hex: string; repr: JsonRepr; walk: Walk; pcap?: { file: string; frame: number; offset: number } }
const VECS = loadJson<{ vectors: Vec[] }>('ip6.json').vectors;
const toRepr = (j: JsonRepr): Ip6Repr => ({ ...j, src: addr6(j.src)!, dst: addr6(j.dst)! });
const vec = (name: string): Vec => VECS.find((v) => v.name === name)!;

/** Frame n (1-based) of a classic little-endian pcap. */
function pcapFrame(name: string, n: number): Uint8Array {
  const d = loadBytes(name);
  const dv = new DataView(d.buffer, d.byteOffset, d.byteLength);
  let o = 24;
  for (let i = 1; ; i++) {
    const incl = dv.getUint32(o + 8, true);
    if (i === n) return d.slice(o + 16, o + 16 + incl);
    o += 16 + incl;
  }
}

test('vectors: the sit capture matches pcap/sit.pcap frame 1 (outer IPv4 at 14, inner IPv6 at 34)', () => {
  const v = vec('sit-inner');
  const f = pcapFrame(v.pcap!.file, v.pcap!.frame);
  assert.equal(f[14 + 9], 41); // outer protocol IPv6
  assert.equal(toHex(f, v.pcap!.offset), v.hex);
});

test('deconstruct: every field of every vector', () => {
  const p = new Ip6Packet();
  for (const v of VECS) {
    const b = hex(v.hex);
    assert.equal(p.check(b), Drop.None, v.name);
    const r = v.repr;
    assert.equal(p.version, 6);
    assert.equal(p.trafficClass, r.trafficClass);
    assert.equal(p.dscp, r.trafficClass >>> 2);
    assert.equal(p.ecn, r.trafficClass & 3);
    assert.equal(p.flowLabel, r.flowLabel);
    assert.equal(p.payloadLen, r.payloadLen);
    assert.equal(p.nextHeader, r.nextHeader);
    assert.equal(p.hopLimit, r.hopLimit);
    assert.equal(formatIp6(b.subarray(p.srcOffset, p.srcOffset + 16)), r.src);
    assert.equal(formatIp6(b.subarray(p.dstOffset, p.dstOffset + 16)), r.dst);
    const a = filled(20);
    p.copySrc(a, 2);
    assert.equal(formatIp6(a.subarray(2, 18)), r.src);
    p.copyDst(a, 4);
    assert.equal(formatIp6(a.subarray(4, 20)), r.dst);
    assert.equal(p.payloadOffset, 40);
    assert.deepEqual(parseIp6(p), toRepr(r));
  }
  const sit = vec('sit-inner').repr;
  assert.equal(sit.flowLabel, 0x44228);
  assert.equal(sit.nextHeader, IPPROTO_ICMPV6);
});

test('walkExtensions: every vector gives the expected upper layer, fragment state or drop', () => {
  const p = new Ip6Packet();
  for (const v of VECS) {
    const b = filled(v.hex.length / 2 + 9);
    b.set(hex(v.hex), 9); // at a non-zero offset: upperOffset is absolute
    assert.equal(p.check(b, 9, v.hex.length / 2), Drop.None);
    const d = p.walkExtensions();
    assert.equal(dropName(d), v.walk.drop, v.name);
    if (d !== Drop.None) continue;
    const w = v.walk;
    assert.equal(p.upperProtocol, w.upperProtocol, v.name);
    assert.equal(p.upperOffset, 9 + w.upperOffset!, v.name);
    assert.equal(p.isFragment, w.isFragment, v.name);
    assert.equal(p.isFirstFragment, w.isFirstFragment, v.name);
    assert.equal(p.fragOffset, w.fragOffset, v.name);
    assert.equal(p.fragMore, w.fragMore, v.name);
    assert.equal(p.fragIdent, w.fragIdent, v.name);
  }
  // Walk state is reset by each walk.
  assert.ok(p.wrap(hex(vec('chain-nonfirst-fragment').hex)));
  assert.equal(p.walkExtensions(), Drop.None);
  assert.ok(p.wrap(hex(vec('sit-inner').hex)));
  assert.equal(p.walkExtensions(), Drop.None);
  assert.ok(!p.isFragment && p.isFirstFragment && !p.fragMore && p.fragIdent === 0);
});

/** Builds IPv6 + `count` 8-byte headers of type `t` + an 8-byte UDP header. */
function chain(t: number, count: number): Uint8Array {
  const b = new Uint8Array(40 + count * 8 + 8);
  const pl = b.length - 40;
  b.set([0x60, 0, 0, 0, pl >> 8, pl & 0xff, t, 64]);
  for (let i = 0; i < count; i++) b[40 + i * 8] = i === count - 1 ? IPPROTO_UDP : t;
  return b;
}

test('walkExtensions: 64 headers are walked, 65 are BadExtHeader; MH/HIP/Shim6 use the 8-byte unit', () => {
  const p = new Ip6Packet();
  assert.ok(p.wrap(chain(IPPROTO_DSTOPTS, IP6_MAX_EXT_HEADERS)));
  assert.equal(p.walkExtensions(), Drop.None);
  assert.equal(p.upperProtocol, IPPROTO_UDP);
  assert.equal(p.upperOffset, 40 + 64 * 8);
  assert.ok(p.wrap(chain(IPPROTO_DSTOPTS, IP6_MAX_EXT_HEADERS + 1)));
  assert.equal(p.walkExtensions(), Drop.BadExtHeader);
  assert.equal(p.upperProtocol, IPPROTO_DSTOPTS);
  for (const t of [IPPROTO_ROUTING, IPPROTO_MH, IPPROTO_HIP, IPPROTO_SHIM6, IPPROTO_AH]) {
    const b = chain(t, 2);
    // Hdr Ext Len 0 is 8 bytes in both units: (0+1)*8 and, for AH, (0+2)*4.
    assert.ok(p.wrap(b));
    assert.equal(p.walkExtensions(), Drop.None, String(t));
    assert.equal(p.upperOffset, 56);
  }
  assert.ok(p.wrap(chain(IPPROTO_HOPOPTS, 2))); // the second HBH is not first
  assert.equal(p.walkExtensions(), Drop.BadExtHeader);
  assert.equal(p.upperOffset, 48);
  // A view bound (not checked) with payloadLen beyond the range: refused, no out-of-range reads.
  const g = filled(40);
  assert.ok(p.bind(g, 0, 40));
  assert.equal(p.walkExtensions(), Drop.BadTotalLen);
});

test('construct: emit into a 0xa5-filled buffer reproduces each header', () => {
  const p = new Ip6Packet();
  for (const v of VECS) {
    const r = toRepr(v.repr);
    assert.equal(ip6HeaderLen(r), 40);
    const b = filled(40);
    assert.ok(p.bind(b, 0, 40));
    emitIp6(r, p);
    assert.equal(toHex(b), v.hex.slice(0, 80), v.name);
  }
});

test('wrap boundary: len-1 fails with BadTotalLen (Truncated below 40), len passes', () => {
  const p = new Ip6Packet();
  for (const v of VECS) {
    const b = hex(v.hex);
    assert.equal(p.check(b, 0, b.length - 1), b.length === 40 ? Drop.Truncated : Drop.BadTotalLen, v.name);
    assert.ok(p.wrap(b, 0, b.length));
    assert.ok(p.wrap(new Uint8Array([...b, 0, 0, 0]))); // trailing padding is fine
    assert.equal(p.payloadLen, v.repr.payloadLen);
  }
});

test('parse -> emit -> parse round trip, and emit at a non-zero offset', () => {
  const p = new Ip6Packet();
  const q = new Ip6Packet();
  for (const v of VECS) {
    const pkt = hex(v.hex);
    assert.ok(p.wrap(pkt));
    const r = parseIp6(p)!;
    const b = filled(7 + pkt.length + 3);
    assert.ok(q.bind(b, 7, pkt.length));
    emitIp6(r, q);
    b.set(pkt.subarray(40), q.payloadOffset);
    assert.equal(q.payloadOffset, 47);
    assert.equal(toHex(b, 7, pkt.length), v.hex);
    assert.ok(b.subarray(0, 7).every((x) => x === 0xa5) && b.subarray(7 + pkt.length).every((x) => x === 0xa5));
    assert.equal(q.check(b, 7), Drop.None);
    assert.deepEqual(parseIp6(q), r);
  }
});

test('every check() drop reason, and a failed check leaves the view unchanged', () => {
  const good = hex(vec('sit-inner').hex);
  const p = new Ip6Packet();
  assert.ok(p.wrap(good));
  const expect = (b: Uint8Array, d: Drop, off?: number, len?: number): void => {
    assert.equal(p.check(b, off, len), d);
    assert.equal(p.buffer, good);
  };
  expect(good.subarray(0, 39), Drop.Truncated);
  expect(good, Drop.Truncated, 1, good.length);
  expect(good, Drop.Truncated, -1, 40);
  expect(good, Drop.Truncated, 0, 40.5);
  const mut = (i: number, x: number): Uint8Array => { const c = new Uint8Array(good); c[i] = x; return c; };
  expect(mut(0, 0x40), Drop.BadVersion);
  expect(mut(5, 0x41), Drop.BadTotalLen); // 40 + 65 > 104
  const jumbo = hex(vec('no-next-header').hex);
  jumbo[6] = IPPROTO_HOPOPTS; // payload length 0 + Hop-by-Hop: a jumbogram (RFC 2675), unsupported
  expect(jumbo, Drop.BadTotalLen);
  assert.ok(p.bind(filled(40), 0, 40));
  assert.equal(parseIp6(p), null);
});

test('setters write only their own bits', () => {
  const b = filled(40);
  const p = new Ip6Packet();
  assert.ok(!p.bind(b, 0, 39) && !p.bind(b, 1, 40));
  assert.ok(p.bind(b, 0, 40));
  p.version = 6;
  assert.equal(toHex(b, 0, 4), '65a5a5a5');
  p.trafficClass = 0xb8;
  assert.equal(toHex(b, 0, 4), '6b85a5a5'); // flow label nibble kept
  p.ecn = INET_ECN_CE; assert.equal(p.trafficClass, 0xbb);
  p.dscp = 0; assert.equal(p.trafficClass, 3);
  p.setTrafficClass(0x12); assert.equal(p.trafficClass, 0x12);
  p.flowLabel = 0xfedcb;
  assert.equal(toHex(b, 0, 4), '612fedcb');
  p.payloadLen = 0x1234; p.nextHeader = IPPROTO_ESP; p.hopLimit = 1;
  assert.equal(toHex(b, 4, 4), '12343201');
  const a = addr6('2001:db8::7')!;
  p.setSrc(new Uint8Array([9, ...a]), 1);
  p.setDst(a, 0);
  assert.equal(formatIp6(b.subarray(8, 24)), '2001:db8::7');
  assert.equal(formatIp6(b.subarray(24, 40)), '2001:db8::7');
  assert.throws(() => p.copySrc(new Uint8Array(16), 1), RangeError);
  assert.throws(() => p.setDst(new Uint8Array(15), 0), RangeError);
  assert.equal(IP6_HDR_LEN + IP6_MIN_MTU, 1320);
});

test('emitIp6 throws RangeError on programmer errors', () => {
  const r = toRepr(vec('sit-inner').repr);
  const p = new Ip6Packet();
  assert.ok(p.bind(filled(40), 0, 40));
  for (const bad of [{ trafficClass: 256 }, { flowLabel: 0x100000 }, { payloadLen: -1 }, { hopLimit: 1.5 }, { src: new Uint8Array(4) }]) {
    assert.throws(() => emitIp6({ ...r, ...bad }, p), RangeError);
  }
  const small = new Ip6Packet(); // never bound: length 0
  assert.throws(() => emitIp6(r, small), RangeError);
});

/** The obvious reference walker (RFC 8200 §4), written independently with DataView. */
function refWalk(b: Uint8Array): Walk {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const end = 40 + dv.getUint16(4);
  let nh = dv.getUint8(6);
  let pos = 40;
  const res: Walk = { drop: 'None', isFragment: false, isFirstFragment: true, fragOffset: 0, fragMore: false, fragIdent: 0 };
  for (let count = 0; ; count++) {
    const unit8 = [0, 43, 60, 135, 139, 140].includes(nh);
    if (!unit8 && nh !== 51 && nh !== 44) return { ...res, upperProtocol: nh, upperOffset: pos };
    if (count === 64 || pos + 8 > end || (nh === 0 && count > 0)) return { drop: 'BadExtHeader' };
    const len = nh === 44 ? 8 : unit8 ? (dv.getUint8(pos + 1) + 1) * 8 : (dv.getUint8(pos + 1) + 2) * 4;
    if (pos + len > end) return { drop: 'BadExtHeader' };
    if (nh === 44) {
      Object.assign(res, { isFragment: true, fragOffset: dv.getUint16(pos + 2) & ~7, fragMore: (dv.getUint16(pos + 2) & 1) === 1, fragIdent: dv.getUint32(pos + 4) });
      if (res.fragOffset !== 0) return { ...res, isFirstFragment: false, upperProtocol: dv.getUint8(pos), upperOffset: pos + 8 };
    }
    nh = dv.getUint8(pos);
    pos += len;
  }
}

const EXT = [IPPROTO_HOPOPTS, IPPROTO_ROUTING, IPPROTO_DSTOPTS, IPPROTO_FRAGMENT, IPPROTO_AH, IPPROTO_MH, IPPROTO_HIP, IPPROTO_SHIM6];
const UPPER = [IPPROTO_UDP, IPPROTO_ESP, IPPROTO_NONE, IPPROTO_ICMPV6, 4, 41, 47];

test('differential: walkExtensions and getters equal a DataView reference on random chains', () => {
  const hdr = fc.record({ t: fc.constantFrom(...EXT), len: fc.nat(3), frag: fc.nat(0xffff), body: fc.uint8Array({ minLength: 38, maxLength: 38 }) });
  const p = new Ip6Packet();
  fc.assert(fc.property(fc.array(hdr, { maxLength: 6 }), fc.constantFrom(...UPPER), fc.integer({ min: -12, max: 12 }), fc.uint8Array({ minLength: 4, maxLength: 4 }), (hs, upper, cut, top) => {
    const parts: number[] = [];
    hs.forEach((h, i) => {
      const next = i + 1 < hs.length ? hs[i + 1]!.t : upper;
      const size = h.t === IPPROTO_FRAGMENT ? 8 : h.t === IPPROTO_AH ? (h.len + 2) * 4 : (h.len + 1) * 8;
      const body = [...h.body].slice(0, size - 2);
      // Fragment: reserved byte, then the offset/M word over the first two body bytes.
      if (h.t === IPPROTO_FRAGMENT) parts.push(next, 0, h.frag >> 8, h.frag & 0xff, ...body.slice(2));
      else parts.push(next, h.len, ...body);
    });
    const pl = Math.max(0, parts.length + cut);
    const b = new Uint8Array(40 + Math.max(pl, parts.length));
    b.set([0x60 | (top[0]! & 0xf), top[1]!, top[2]!, top[3]!, pl >> 8, pl & 0xff, hs[0]?.t ?? upper, 64]);
    b.set(parts, 40);
    const d = p.check(b);
    if (pl === 0 && b[6] === IPPROTO_HOPOPTS) return assert.equal(d, Drop.BadTotalLen);
    assert.equal(d, Drop.None);
    const dv = new DataView(b.buffer);
    assert.equal(p.trafficClass, (dv.getUint32(0) >>> 20) & 0xff);
    assert.equal(p.flowLabel, dv.getUint32(0) & 0xfffff);
    const got = dropName(p.walkExtensions());
    const want = refWalk(b);
    assert.equal(got, want.drop);
    if (got !== 'None') return undefined;
    assert.deepEqual({ drop: got, upperProtocol: p.upperProtocol, upperOffset: p.upperOffset, isFragment: p.isFragment, isFirstFragment: p.isFirstFragment, fragOffset: p.fragOffset, fragMore: p.fragMore, fragIdent: p.fragIdent }, want);
    return undefined;
  }));
});

test('fast-check: check()/parseIp6()/walkExtensions() never throw; whatever parses re-emits the same header', () => {
  const p = new Ip6Packet();
  const q = new Ip6Packet();
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(), fc.nat(), fc.boolean(), (b, x, y, force) => {
    if (force && b.length >= 40) { b[0] = 0x60 | (b[0]! & 0xf); b[4] = 0; b[5] = Math.min(b[5]!, b.length - 40); }
    const off = x % (b.length + 1);
    const len = y % (b.length - off + 1);
    if (p.check(b, off, len) !== Drop.None) return;
    const end = off + 40 + p.payloadLen;
    if (p.walkExtensions() === Drop.None) assert.ok(p.upperOffset >= off + 40 && p.upperOffset <= end);
    const r = parseIp6(p);
    assert.ok(r);
    const out = filled(40);
    assert.ok(q.bind(out, 0, 40));
    emitIp6(r, q);
    assert.deepEqual(out, b.slice(off, off + 40));
  }));
});
