import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  ICMP6_ERROR_MAX_QUOTE, ICMPV6_ADDR_UNREACH, ICMPV6_ADM_PROHIBITED, ICMPV6_DEST_UNREACH, ICMPV6_ECHO_REPLY,
  ICMPV6_ECHO_REQUEST, ICMPV6_EXC_FRAGTIME, ICMPV6_EXC_HOPLIMIT, ICMPV6_HDR_FIELD, ICMPV6_HDR_LEN,
  ICMPV6_NOROUTE, ICMPV6_NOT_NEIGHBOUR, ICMPV6_PARAMPROB, ICMPV6_PKT_TOOBIG, ICMPV6_POLICY_FAIL,
  ICMPV6_PORT_UNREACH, ICMPV6_REJECT_ROUTE, ICMPV6_TIME_EXCEED, ICMPV6_UNK_NEXTHDR, ICMPV6_UNK_OPTION,
  Icmp6Packet, NDISC_NEIGHBOUR_SOLICITATION, NDISC_REDIRECT, NDISC_ROUTER_SOLICITATION, buildIcmp6Error,
  emitIcmp6, icmp6DestUnreach, icmp6Echo, icmp6HeaderLen, icmp6PacketTooBig, icmp6ParamProb, icmp6TimeExceeded,
  isIcmp6Error, mayReplyIcmp6Error, parseIcmp6,
} from '../../src/wire/icmp6.js';
import type { Icmp6ErrorArgs } from '../../src/wire/icmp6.js';
import { IP6_HDR_LEN, Ip6Packet, emitIp6 } from '../../src/wire/ip6.js';
import {
  IPPROTO_AH, IPPROTO_DSTOPTS, IPPROTO_FRAGMENT, IPPROTO_HOPOPTS, IPPROTO_ICMPV6, IPPROTO_MH, IPPROTO_NONE,
  IPPROTO_UDP,
} from '../../src/wire/ipproto.js';
import { parseIp6 as parseIp6Addr } from '../../src/wire/addr.js';
import { Drop } from '../../src/wire/drop.js';
import { filled, hex, toHex } from '../util/hex.js';
import { loadBytes, loadJson } from '../util/paths.js';

interface EchoVec {
  pcap: string; frame: number; ip: string; icmpOffset: number;
  type: number; code: number; checksum: number; id: number; seq: number; payloadLen: number;
}
interface Vectors {
  echo: EchoVec[];
  packetTooBig: {
    args: { type: number; code: number; info: number; hopLimit: number; src: string; dst: string };
    offending: string; expected: string; icmpChecksum: number;
  };
}
const V = loadJson<Vectors>('icmp6.json');

/** Classic pcap by hand: 24-byte file header, then [ts_sec, ts_usec, incl_len, orig_len] LE + data. */
function pcapFrame(file: Uint8Array, n: number): Uint8Array {
  let at = 24;
  for (let i = 0; ; i++) {
    const incl = file[at + 8]! | (file[at + 9]! << 8) | (file[at + 10]! << 16) | (file[at + 11]! << 24);
    if (i === n) return file.slice(at + 16, at + 16 + incl);
    at += 16 + incl;
  }
}

/**
 * RFC 4443 §2.3 reference, written independently of src/wire/checksum.ts:
 * ~(one's-complement sum of src, dst, u32 length, 3 zero bytes + 58, message).
 */
function refChecksum6(src: Uint8Array, dst: Uint8Array, msg: Uint8Array): number {
  const len = msg.length;
  const all = new Uint8Array([...src, ...dst, len >>> 24, (len >>> 16) & 255, (len >>> 8) & 255, len & 255, 0, 0, 0, 58, ...msg]);
  let sum = 0;
  for (let i = 0; i < all.length; i += 2) sum += all[i]! * 256 + (i + 1 < all.length ? all[i + 1]! : 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 65536);
  return ~sum & 0xffff;
}

const addr = (s: string): Uint8Array => {
  const v = parseIp6Addr(s);
  assert.ok(v !== null, s);
  return v;
};

const ipOf = (v: EchoVec): Uint8Array => hex(v.ip);
const icmpOf = (v: EchoVec): Uint8Array => hex(v.ip).slice(v.icmpOffset);

test('constants match include/uapi/linux/icmpv6.h and include/net/ndisc.h', () => {
  assert.deepEqual([ICMPV6_DEST_UNREACH, ICMPV6_PKT_TOOBIG, ICMPV6_TIME_EXCEED, ICMPV6_PARAMPROB], [1, 2, 3, 4]);
  assert.deepEqual(
    [ICMPV6_NOROUTE, ICMPV6_ADM_PROHIBITED, ICMPV6_NOT_NEIGHBOUR, ICMPV6_ADDR_UNREACH, ICMPV6_PORT_UNREACH, ICMPV6_POLICY_FAIL, ICMPV6_REJECT_ROUTE],
    [0, 1, 2, 3, 4, 5, 6],
  );
  assert.deepEqual([ICMPV6_EXC_HOPLIMIT, ICMPV6_EXC_FRAGTIME, ICMPV6_HDR_FIELD, ICMPV6_UNK_NEXTHDR, ICMPV6_UNK_OPTION], [0, 1, 0, 1, 2]);
  assert.deepEqual([ICMPV6_ECHO_REQUEST, ICMPV6_ECHO_REPLY, NDISC_ROUTER_SOLICITATION, NDISC_REDIRECT], [128, 129, 133, 137]);
  assert.deepEqual([ICMPV6_HDR_LEN, ICMP6_ERROR_MAX_QUOTE], [8, 1232]);
  for (let t = 0; t <= 255; t++) assert.equal(isIcmp6Error(t), t < 128);
  assert.equal(isIcmp6Error(-1), false);
});

test('pcap vector: the ICMPv6 inside sit.pcap frames matches the JSON and verifies with the pseudo-header', () => {
  const file = loadBytes('pcap/sit.pcap');
  for (const v of V.echo) {
    const frame = pcapFrame(file, v.frame);
    // outer IPv4 at 14 (protocol 41), inner IPv6 at 34, ICMPv6 at 74
    assert.equal(frame[14 + 9], 41);
    const n = hex(v.ip).length;
    assert.equal(toHex(frame, 34, n), v.ip);
    const ip6 = new Ip6Packet();
    assert.equal(ip6.check(frame, 34, n), Drop.None);
    assert.equal(ip6.nextHeader, IPPROTO_ICMPV6);
    const p = new Icmp6Packet();
    assert.equal(p.check(frame, 74, ip6.payloadLen), Drop.None);
    assert.ok(p.verifyChecksum(frame, ip6.srcOffset, frame, ip6.dstOffset), `frame ${v.frame}`);
    // the pseudo-header counts: another source address breaks it
    const other = frame.slice(ip6.srcOffset, ip6.srcOffset + 16);
    other[15]! ^= 1;
    assert.equal(p.verifyChecksum(other, 0, frame, ip6.dstOffset), false);
    assert.equal(
      refChecksum6(frame.slice(42, 58), frame.slice(58, 74), frame.slice(74, 74 + ip6.payloadLen)),
      0,
    );
  }
});

test('deconstruct: every field of the echo vectors', () => {
  for (const v of V.echo) {
    const b = icmpOf(v);
    const ip = ipOf(v);
    const p = new Icmp6Packet();
    assert.ok(p.wrap(b));
    assert.equal(p.buffer, b);
    assert.equal(p.offset, 0);
    assert.equal(p.length, b.length);
    assert.equal(p.type, v.type);
    assert.equal(p.code, v.code);
    assert.equal(p.checksum, v.checksum);
    assert.equal(p.echoId, v.id);
    assert.equal(p.echoSeq, v.seq);
    assert.equal(p.rest, ((v.id << 16) | v.seq) >>> 0);
    assert.equal(p.payloadOffset, 8);
    assert.equal(p.payloadLen, v.payloadLen);
    assert.ok(p.verifyChecksum(ip, 8, ip, 24));
    assert.deepEqual(parseIcmp6(p), { type: v.type, code: v.code, rest: ((v.id << 16) | v.seq) >>> 0 });
  }
  assert.equal(new TextDecoder().decode(icmpOf(V.echo[1]!).subarray(8)), 'linux-peer-proof-00');
  assert.equal(V.echo[2]!.type, ICMPV6_ECHO_REPLY);
});

test('construct: emit the echo reprs into 0xa5 garbage, copy the data, fillChecksum with the pseudo-header', () => {
  for (const v of V.echo) {
    const want = icmpOf(v);
    const ip = ipOf(v);
    const out = filled(want.length);
    const p = new Icmp6Packet();
    assert.ok(p.bind(out, 0, out.length));
    const r = icmp6Echo(v.id, v.seq, v.type === ICMPV6_ECHO_REPLY);
    assert.equal(icmp6HeaderLen(r), 8);
    emitIcmp6(r, p);
    assert.equal(p.checksum, 0);
    out.set(want.subarray(8), p.payloadOffset);
    p.fillChecksum(ip, 8, ip, 24);
    assert.equal(toHex(out), toHex(want));
    const z = want.slice();
    z[2] = 0;
    z[3] = 0;
    assert.equal(p.checksum, refChecksum6(ip.slice(8, 24), ip.slice(24, 40), z));
  }
});

test('wrap boundary: 7 bytes is Truncated, 8 passes; bad ranges are Truncated', () => {
  const b = icmpOf(V.echo[0]!).slice(0, 8);
  const p = new Icmp6Packet();
  assert.equal(p.check(b, 0, 7), Drop.Truncated);
  assert.equal(p.check(b.subarray(1)), Drop.Truncated);
  assert.equal(p.length, 0, 'view unchanged after a failed check');
  assert.equal(p.check(b, 0, 8), Drop.None);
  assert.equal(p.check(b, 0, 9), Drop.Truncated);
  assert.equal(p.check(b, -1, 8), Drop.Truncated);
  assert.equal(p.check(b, 0, 7.5), Drop.Truncated);
  assert.equal(p.check(b, 20), Drop.Truncated);
  assert.equal(p.wrap(b, 1, 7), false);
  assert.equal(p.wrap(b), true);
  assert.equal(p.bind(b, 0, 7), false);
  assert.equal(p.bind(b, 2, 8), false);
  assert.equal(p.bind(b, 0, 8), true);
  const fresh = new Icmp6Packet();
  assert.equal(parseIcmp6(fresh), null);
  assert.throws(() => emitIcmp6(icmp6Echo(1, 2, false), fresh), RangeError);
});

test('round trip: parse -> emit -> parse', () => {
  for (const v of V.echo) {
    const b = icmpOf(v);
    const ip = ipOf(v);
    const p = new Icmp6Packet();
    assert.ok(p.wrap(b));
    const r = parseIcmp6(p);
    assert.ok(r);
    const out = filled(b.length);
    const q = new Icmp6Packet();
    assert.ok(q.bind(out, 0, out.length));
    emitIcmp6(r, q);
    out.set(b.subarray(8), 8);
    q.fillChecksum(ip, 8, ip, 24);
    assert.deepEqual(out, b);
    assert.deepEqual(parseIcmp6(q), r);
  }
});

test('emit at a non-zero offset (7) leaves the surrounding bytes alone', () => {
  const v = V.echo[1]!;
  const want = icmpOf(v);
  const ip = ipOf(v);
  const out = filled(want.length + 20);
  const p = new Icmp6Packet();
  assert.ok(p.bind(out, 7, want.length));
  emitIcmp6(icmp6Echo(v.id, v.seq, false), p);
  out.set(want.subarray(8), p.payloadOffset);
  assert.equal(p.payloadOffset, 15);
  p.fillChecksum(ip, 8, ip, 24);
  assert.equal(toHex(out, 7, want.length), toHex(want));
  assert.ok(out.subarray(0, 7).every((x) => x === 0xa5));
  assert.ok(out.subarray(7 + want.length).every((x) => x === 0xa5));
});

test('type-specific accessors: mtu, pointer, rest', () => {
  const b = filled(8);
  const p = new Icmp6Packet();
  assert.ok(p.bind(b, 0, 8));
  emitIcmp6(icmp6PacketTooBig(1280), p);
  assert.equal(toHex(b), '0200000000000500');
  assert.equal(p.mtu, 1280);
  p.mtu = 0xfffffff0;
  assert.equal(p.rest, 0xfffffff0);
  emitIcmp6(icmp6ParamProb(ICMPV6_UNK_NEXTHDR, 6), p);
  assert.equal(toHex(b), '0401000000000006');
  assert.equal(p.pointer, 6);
  p.pointer = 40;
  p.type = ICMPV6_PARAMPROB;
  p.code = ICMPV6_HDR_FIELD;
  p.checksum = 0xbeef;
  assert.equal(toHex(b), '0400beef00000028');
  p.echoId = 0xabcd;
  p.echoSeq = 7;
  assert.equal(p.rest, 0xabcd0007);
  p.rest = 1;
  assert.equal(p.echoSeq, 1);
  assert.deepEqual(icmp6DestUnreach(ICMPV6_ADDR_UNREACH), { type: 1, code: 3, rest: 0 });
  assert.deepEqual(icmp6TimeExceeded(ICMPV6_EXC_FRAGTIME), { type: 3, code: 1, rest: 0 });
  assert.deepEqual(icmp6Echo(0xffff, 0xffff, true), { type: 129, code: 0, rest: 0xffffffff });
});

test('fast-check: check/parse never throw; whatever parses re-emits identically', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(), fc.nat(), fc.uint8Array({ minLength: 32, maxLength: 32 }), (b, x, y, a) => {
      const off = b.length === 0 ? 0 : x % (b.length + 1);
      const len = y % (b.length - off + 1);
      const p = new Icmp6Packet();
      const d = p.check(b, off, len);
      assert.equal(d === Drop.None, len >= 8);
      if (d !== Drop.None) return;
      const r = parseIcmp6(p);
      assert.ok(r);
      const copy = b.slice(off, off + len);
      const q = new Icmp6Packet();
      assert.ok(q.bind(copy, 0, len));
      emitIcmp6(r, q);
      q.checksum = p.checksum;
      assert.equal(toHex(copy, 0, 8), toHex(b, off, 8));
      q.fillChecksum(a, 0, a, 16);
      assert.ok(q.verifyChecksum(a, 0, a, 16));
      if (p.verifyChecksum(a, 0, a, 16)) assert.ok(q.checksum === p.checksum || (q.checksum ^ p.checksum) === 0xffff);
    }),
  );
});

// ---- mayReplyIcmp6Error (icmp6_send refusals) ----

interface Pkt { src?: string; dst?: string; nh?: number; payload?: Uint8Array }

function mk6(o: Pkt): Ip6Packet {
  const payload = o.payload ?? new Uint8Array(16);
  const b = new Uint8Array(IP6_HDR_LEN + payload.length);
  const p = new Ip6Packet();
  assert.ok(p.bind(b, 0, b.length));
  emitIp6({
    trafficClass: 0, flowLabel: 0, payloadLen: payload.length, nextHeader: o.nh ?? IPPROTO_UDP, hopLimit: 64,
    src: addr(o.src ?? '2001:db8:4::2'), dst: addr(o.dst ?? '2001:db8:99::7'),
  }, p);
  b.set(payload, IP6_HDR_LEN);
  assert.equal(p.check(b), Drop.None);
  return p;
}

const icmp6Msg = (type: number): number[] => [type, 0, 0, 0, 0, 0, 0, 0];
/** An 8-byte options-style extension header (HBH / DstOpts / Routing): nh, len 0, PadN. */
const optHdr = (nh: number): number[] => [nh, 0, 1, 4, 0, 0, 0, 0];
/** A Fragment header: nh, reserved, offset (bytes, multiple of 8) | M, ident. */
const fragHdr = (nh: number, offBytes: number, more: boolean): number[] =>
  [nh, 0, (offBytes | (more ? 1 : 0)) >>> 8, (offBytes | (more ? 1 : 0)) & 0xff, 0, 0, 0, 1];
const u8 = (...parts: number[][]): Uint8Array => new Uint8Array(parts.flat());
const ALL_ERRORS = [ICMPV6_DEST_UNREACH, ICMPV6_PKT_TOOBIG, ICMPV6_TIME_EXCEED, ICMPV6_PARAMPROB];

test('mayReplyIcmp6Error: unicast packets get every error type', () => {
  for (const t of ALL_ERRORS) assert.equal(mayReplyIcmp6Error(mk6({}), t, 0), true);
  const req = new Ip6Packet();
  assert.equal(req.check(ipOf(V.echo[1]!)), Drop.None);
  assert.equal(mayReplyIcmp6Error(req, ICMPV6_PKT_TOOBIG, 0, 1280), true);
  assert.equal(mayReplyIcmp6Error(mk6({ payload: new Uint8Array(0) }), ICMPV6_DEST_UNREACH, 0), true);
});

test('mayReplyIcmp6Error: multicast destination allows only PKT_TOOBIG and PARAMPROB/UNK_OPTION (opt_unrec)', () => {
  const m = mk6({ dst: 'ff02::1' });
  assert.equal(mayReplyIcmp6Error(m, ICMPV6_PKT_TOOBIG, 0), true);
  assert.equal(mayReplyIcmp6Error(m, ICMPV6_DEST_UNREACH, ICMPV6_PORT_UNREACH), false);
  assert.equal(mayReplyIcmp6Error(m, ICMPV6_TIME_EXCEED, ICMPV6_EXC_HOPLIMIT), false);
  assert.equal(mayReplyIcmp6Error(m, ICMPV6_PARAMPROB, ICMPV6_HDR_FIELD), false);
  assert.equal(mayReplyIcmp6Error(m, ICMPV6_PARAMPROB, ICMPV6_UNK_OPTION), true, 'pointer omitted');
  // HBH carrying an unknown option 0x85 (action 10: discard + ICMP even to multicast) and 0x05 (action 00)
  const opt = (t: number): Ip6Packet => mk6({ dst: 'ff02::1', nh: IPPROTO_HOPOPTS, payload: u8([IPPROTO_UDP, 0, t, 0, 1, 2, 0, 0], new Array<number>(8).fill(0)) });
  assert.equal(mayReplyIcmp6Error(opt(0x85), ICMPV6_PARAMPROB, ICMPV6_UNK_OPTION, 42), true);
  assert.equal(mayReplyIcmp6Error(opt(0xc5), ICMPV6_PARAMPROB, ICMPV6_UNK_OPTION, 42), false);
  assert.equal(mayReplyIcmp6Error(opt(0x05), ICMPV6_PARAMPROB, ICMPV6_UNK_OPTION, 42), false);
  assert.equal(mayReplyIcmp6Error(opt(0x05), ICMPV6_PARAMPROB, ICMPV6_UNK_OPTION, 56), true, 'past the end: skb_header_pointer fails → true');
  // a unicast destination does not consult opt_unrec
  const u = mk6({ nh: IPPROTO_HOPOPTS, payload: u8([IPPROTO_UDP, 0, 0x05, 0, 1, 2, 0, 0]) });
  assert.equal(mayReplyIcmp6Error(u, ICMPV6_PARAMPROB, ICMPV6_UNK_OPTION, 42), true);
  assert.equal(mayReplyIcmp6Error(mk6({ dst: 'fe80::1' }), ICMPV6_DEST_UNREACH, 0), true);
});

test('mayReplyIcmp6Error: never when the source is :: or multicast (RFC 4443 §2.4 (e))', () => {
  for (const src of ['::', 'ff02::1', 'ff05::2']) {
    for (const t of ALL_ERRORS) assert.equal(mayReplyIcmp6Error(mk6({ src }), t, 0), false, `${src} ${t}`);
  }
  assert.equal(mayReplyIcmp6Error(mk6({ src: '::1' }), ICMPV6_DEST_UNREACH, 0), true);
});

test('mayReplyIcmp6Error: is_ineligible refuses ICMPv6 errors, also behind extension headers', () => {
  for (let t = 0; t <= 255; t++) {
    const p = mk6({ nh: IPPROTO_ICMPV6, payload: u8(icmp6Msg(t)) });
    assert.equal(mayReplyIcmp6Error(p, ICMPV6_PKT_TOOBIG, 0), t >= 128, `type ${t}`);
  }
  assert.equal(mayReplyIcmp6Error(mk6({ nh: IPPROTO_ICMPV6, payload: u8(icmp6Msg(NDISC_NEIGHBOUR_SOLICITATION)) }), ICMPV6_DEST_UNREACH, 0), true);
  const chain = (t: number): Ip6Packet =>
    mk6({ nh: IPPROTO_HOPOPTS, payload: u8(optHdr(IPPROTO_DSTOPTS), optHdr(IPPROTO_AH), [IPPROTO_ICMPV6, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], icmp6Msg(t)) });
  assert.equal(mayReplyIcmp6Error(chain(ICMPV6_DEST_UNREACH), ICMPV6_PKT_TOOBIG, 0), false);
  assert.equal(mayReplyIcmp6Error(chain(ICMPV6_ECHO_REQUEST), ICMPV6_PKT_TOOBIG, 0), true);
  // ICMPv6 with no type byte at all is ineligible ...
  assert.equal(mayReplyIcmp6Error(mk6({ nh: IPPROTO_ICMPV6, payload: new Uint8Array(0) }), ICMPV6_DEST_UNREACH, 0), false);
  // ... and so is a chain whose last header claims to run past the end (type unreadable)
  const long = mk6({ nh: IPPROTO_DSTOPTS, payload: u8([IPPROTO_ICMPV6, 1, 1, 4, 0, 0, 0, 0], [0x80, 0, 0, 0]) });
  assert.equal(mayReplyIcmp6Error(long, ICMPV6_DEST_UNREACH, 0), false);
});

test('mayReplyIcmp6Error: fragments and failed walks follow ipv6_skip_exthdr (failure = eligible)', () => {
  const ALLOW = true;
  // first fragment (offset 0, M=1) carrying an ICMPv6 error: ineligible
  assert.equal(mayReplyIcmp6Error(mk6({ nh: IPPROTO_FRAGMENT, payload: u8(fragHdr(IPPROTO_ICMPV6, 0, true), icmp6Msg(1)) }), ICMPV6_TIME_EXCEED, ICMPV6_EXC_FRAGTIME), false);
  // first fragment with no ICMPv6 bytes: "fragment packet with no icmp header info" → eligible
  assert.equal(mayReplyIcmp6Error(mk6({ nh: IPPROTO_FRAGMENT, payload: u8(fragHdr(IPPROTO_ICMPV6, 0, true)) }), ICMPV6_PARAMPROB, 3), ALLOW);
  // an atomic fragment (offset 0, M=0) with no type byte: frag_off == 0 → ineligible
  assert.equal(mayReplyIcmp6Error(mk6({ nh: IPPROTO_FRAGMENT, payload: u8(fragHdr(IPPROTO_ICMPV6, 0, false)) }), ICMPV6_PARAMPROB, 3), false);
  // non-first fragment: the walk stops at 44, its data is not an ICMPv6 header → eligible
  assert.equal(mayReplyIcmp6Error(mk6({ nh: IPPROTO_FRAGMENT, payload: u8(fragHdr(IPPROTO_ICMPV6, 1232, false), icmp6Msg(1)) }), ICMPV6_TIME_EXCEED, 1), ALLOW);
  // No Next Header, a truncated chain, a truncated fragment header: ipv6_skip_exthdr → -1 → eligible
  assert.equal(mayReplyIcmp6Error(mk6({ nh: IPPROTO_NONE, payload: u8(icmp6Msg(1)) }), ICMPV6_DEST_UNREACH, 0), ALLOW);
  assert.equal(mayReplyIcmp6Error(mk6({ nh: IPPROTO_DSTOPTS, payload: u8(optHdr(IPPROTO_DSTOPTS), [IPPROTO_ICMPV6]) }), ICMPV6_DEST_UNREACH, 0), ALLOW);
  assert.equal(mayReplyIcmp6Error(mk6({ nh: IPPROTO_HOPOPTS, payload: u8([IPPROTO_ICMPV6]) }), ICMPV6_DEST_UNREACH, 0), ALLOW);
  assert.equal(mayReplyIcmp6Error(mk6({ nh: IPPROTO_FRAGMENT, payload: u8([IPPROTO_ICMPV6, 0, 0]) }), ICMPV6_DEST_UNREACH, 0), ALLOW);
  // a chain the kernel does not walk (Mobility is not in ipv6_ext_hdr()) → eligible
  assert.equal(mayReplyIcmp6Error(mk6({ nh: IPPROTO_MH, payload: u8(optHdr(IPPROTO_ICMPV6), icmp6Msg(1)) }), ICMPV6_DEST_UNREACH, 0), ALLOW);
});

test('fast-check: mayReplyIcmp6Error never throws on any checked IPv6 packet', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 40, maxLength: 140 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: -1, max: 300 }), (b, t, c, info) => {
      b[0] = 0x60 | (b[0]! & 0xf);
      b[4] = 0;
      b[5] = b[5]! % (b.length - 39);
      const p = new Ip6Packet();
      if (p.check(b) !== Drop.None) return;
      assert.equal(typeof mayReplyIcmp6Error(p, t, c, info), 'boolean');
    }),
  );
});

// ---- buildIcmp6Error ----

function argsOf(a: Vectors['packetTooBig']['args']): Icmp6ErrorArgs {
  const s = addr(a.src);
  const d = addr(a.dst);
  return { type: a.type, code: a.code, info: a.info, hopLimit: a.hopLimit, srcBuf: s, srcOff: 0, dstBuf: d, dstOff: 0 };
}

test('buildIcmp6Error: packet-too-big vector quoting 1400 bytes (truncated to 1232), independent checksum', () => {
  const v = V.packetTooBig;
  const offending = hex(v.offending);
  assert.equal(offending.length, 1400);
  const out = filled(1300);
  const n = buildIcmp6Error(out, 0, argsOf(v.args), offending, 0, offending.length);
  assert.equal(n, 1280);
  assert.equal(toHex(out, 0, n), v.expected);
  assert.ok(out.subarray(n).every((x) => x === 0xa5));
  const msg = out.slice(40, n);
  assert.equal(refChecksum6(addr(v.args.src), addr(v.args.dst), msg), 0);
  msg[2] = 0;
  msg[3] = 0;
  assert.equal(refChecksum6(addr(v.args.src), addr(v.args.dst), msg), v.icmpChecksum);
  // reads back through the IPv6 and ICMPv6 views
  const ip6 = new Ip6Packet();
  assert.equal(ip6.check(out, 0, n), Drop.None);
  assert.deepEqual(
    [ip6.version, ip6.trafficClass, ip6.flowLabel, ip6.payloadLen, ip6.nextHeader, ip6.hopLimit],
    [6, 0, 0, 1240, IPPROTO_ICMPV6, 64],
  );
  assert.equal(toHex(out, ip6.srcOffset, 16), toHex(addr('2001:db8:4::1')));
  assert.equal(toHex(out, ip6.dstOffset, 16), toHex(addr('2001:db8:4::2')));
  const icmp = new Icmp6Packet();
  assert.ok(icmp.wrap(out, ip6.payloadOffset, ip6.payloadLen));
  assert.deepEqual([icmp.type, icmp.code, icmp.mtu], [ICMPV6_PKT_TOOBIG, 0, 1280]);
  assert.equal(icmp.checksum, v.icmpChecksum);
  assert.ok(icmp.verifyChecksum(out, ip6.srcOffset, out, ip6.dstOffset));
  assert.equal(icmp.payloadLen, ICMP6_ERROR_MAX_QUOTE);
  assert.equal(toHex(out, icmp.payloadOffset, icmp.payloadLen), toHex(offending, 0, 1232));
  // our own error is never answered: it is an ICMPv6 error
  assert.equal(mayReplyIcmp6Error(ip6, ICMPV6_DEST_UNREACH, 0), false);
});

test('buildIcmp6Error: addresses taken from the offending packet itself, in place and overlapping', () => {
  const v = V.packetTooBig;
  const offending = hex(v.offending);
  // reply from the offending destination back to its source, built in the same slab
  const slab = filled(48 + 1400);
  slab.set(offending, 48);
  const off = new Ip6Packet();
  assert.equal(off.check(slab, 48, 1400), Drop.None);
  const a: Icmp6ErrorArgs = {
    type: ICMPV6_PKT_TOOBIG, code: 0, info: 1280, hopLimit: 64,
    srcBuf: slab, srcOff: off.dstOffset, dstBuf: slab, dstOff: off.srcOffset,
  };
  assert.equal(buildIcmp6Error(slab, 0, a, slab, 48, 1400), 1280);
  const check = (b: Uint8Array, at: number): void => {
    const ip6 = new Ip6Packet();
    assert.equal(ip6.check(b, at, 1280), Drop.None);
    assert.equal(toHex(b, ip6.srcOffset, 16), toHex(offending, 24, 16));
    assert.equal(toHex(b, ip6.dstOffset, 16), toHex(offending, 8, 16));
    const icmp = new Icmp6Packet();
    assert.ok(icmp.wrap(b, ip6.payloadOffset, ip6.payloadLen));
    assert.ok(icmp.verifyChecksum(b, ip6.srcOffset, b, ip6.dstOffset));
    assert.equal(toHex(b, at + 48, 1232), toHex(offending, 0, 1232));
  };
  check(slab, 0);
  // same start: the headers would overwrite the addresses and the quote source
  const same = filled(1500);
  same.set(offending, 0);
  const o2 = new Ip6Packet();
  assert.equal(o2.check(same, 0, 1400), Drop.None);
  const a2: Icmp6ErrorArgs = { ...a, srcBuf: same, srcOff: o2.dstOffset, dstBuf: same, dstOff: o2.srcOffset };
  assert.equal(buildIcmp6Error(same, 0, a2, same, 0, 1400), 1280);
  check(same, 0);
  // at offset 7, a short packet quoted whole
  const out = filled(7 + 48 + 61 + 3);
  const n = buildIcmp6Error(out, 7, argsOf(v.args), offending, 0, 61);
  assert.equal(n, 48 + 61);
  assert.ok(out.subarray(0, 7).every((x) => x === 0xa5) && out.subarray(7 + n).every((x) => x === 0xa5));
  assert.equal(refChecksum6(addr(v.args.src), addr(v.args.dst), out.slice(7 + 40, 7 + n)), 0);
  assert.equal(toHex(out, 7 + 48, 61), toHex(offending, 0, 61));
});

test('buildIcmp6Error throws RangeError on programmer errors', () => {
  const a = argsOf(V.packetTooBig.args);
  const offending = hex(V.packetTooBig.offending);
  assert.throws(() => buildIcmp6Error(new Uint8Array(1279), 0, a, offending, 0, 1400), RangeError);
  assert.throws(() => buildIcmp6Error(new Uint8Array(1280), 1, a, offending, 0, 1400), RangeError);
  assert.throws(() => buildIcmp6Error(new Uint8Array(1280), 0, a, offending, 1, 1400), RangeError);
  assert.throws(() => buildIcmp6Error(new Uint8Array(1280), 0, { ...a, srcOff: 1 }, offending, 0, 1400), RangeError);
  assert.throws(() => buildIcmp6Error(new Uint8Array(1280), 0, { ...a, dstBuf: new Uint8Array(15) }, offending, 0, 1400), RangeError);
  assert.equal(buildIcmp6Error(new Uint8Array(48), 0, a, offending, 0, 0), 48);
});

test('fast-check: buildIcmp6Error output always verifies and quotes the prefix', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 1400 }),
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }),
      fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 255 }),
      (offending, addrs, type, code, info, hopLimit) => {
        const a: Icmp6ErrorArgs = { type, code, info, hopLimit, srcBuf: addrs, srcOff: 0, dstBuf: addrs, dstOff: 16 };
        const out = new Uint8Array(1280);
        const n = buildIcmp6Error(out, 0, a, offending, 0, offending.length);
        const q = Math.min(offending.length, 1232);
        assert.equal(n, 48 + q);
        assert.equal(refChecksum6(addrs.slice(0, 16), addrs.slice(16), out.slice(40, n)), 0);
        const ip6 = new Ip6Packet();
        assert.equal(ip6.check(out, 0, n), Drop.None);
        assert.equal(ip6.hopLimit, hopLimit);
        const icmp = new Icmp6Packet();
        assert.ok(icmp.wrap(out, 40, n - 40));
        assert.deepEqual(parseIcmp6(icmp), { type, code, rest: info });
        assert.equal(toHex(out, 48, q), toHex(offending, 0, q));
      },
    ),
  );
});
