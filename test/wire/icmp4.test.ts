import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  ICMP4_ERROR_MAX_QUOTE, ICMP_DEST_UNREACH, ICMP_ECHO, ICMP_ECHOREPLY, ICMP_EXC_FRAGTIME, ICMP_EXC_TTL,
  ICMP_EXT_ECHO, ICMP_FRAG_NEEDED, ICMP_HDR_LEN, ICMP_HOST_UNREACH, ICMP_NET_UNREACH, ICMP_PARAMETERPROB,
  ICMP_PORT_UNREACH, ICMP_PROT_UNREACH, ICMP_REDIRECT, ICMP_SOURCE_QUENCH, ICMP_SR_FAILED, ICMP_TIME_EXCEEDED,
  ICMP_TIMESTAMP, Icmp4Packet, NR_ICMP_TYPES, buildIcmp4Error, emitIcmp4, icmp4DestUnreach, icmp4Echo,
  icmp4ErrorTos, icmp4FragNeeded, icmp4HeaderLen, icmp4ParamProb, icmp4TimeExceeded, isIcmp4Error,
  mayReplyIcmp4Error, parseIcmp4,
} from '../../src/wire/icmp4.js';
import type { Icmp4ErrorArgs, Icmp4Repr } from '../../src/wire/icmp4.js';
import { IP4_HDR_LEN, Ip4Packet, emitIp4 } from '../../src/wire/ip4.js';
import { IPPROTO_ICMP, IPPROTO_UDP } from '../../src/wire/ipproto.js';
import { parseIp4 as parseIp4Addr } from '../../src/wire/addr.js';
import { Drop } from '../../src/wire/drop.js';
import { filled, hex, toHex } from '../util/hex.js';
import { loadBytes, loadJson } from '../util/paths.js';

interface EchoVec {
  pcap: string; frame: number; ip: string; icmpOffset: number;
  type: number; code: number; checksum: number; id: number; seq: number; payloadLen: number;
}
interface Vectors {
  echo: EchoVec[];
  fragNeeded: {
    offendingTos: number;
    args: { type: number; code: number; info: number; src: string; dst: string; ttl: number; tos: number; ident: number };
    offending: string; expected: string; icmpChecksum: number; ipChecksum: number;
  };
}
const V = loadJson<Vectors>('icmp4.json');

/** Classic pcap by hand: 24-byte file header, then [ts_sec, ts_usec, incl_len, orig_len] LE + data. */
function pcapFrame(file: Uint8Array, n: number): Uint8Array {
  let at = 24;
  for (let i = 0; ; i++) {
    const incl = file[at + 8]! | (file[at + 9]! << 8) | (file[at + 10]! << 16) | (file[at + 11]! << 24);
    if (i === n) return file.slice(at + 16, at + 16 + incl);
    at += 16 + incl;
  }
}

/** RFC 1071 §4.1 reference, written independently of src/wire/checksum.ts: ~(one's-complement sum). */
function refChecksum(b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < b.length; i += 2) sum += b[i]! * 256 + (i + 1 < b.length ? b[i + 1]! : 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 65536);
  return ~sum & 0xffff;
}

const ip = (s: string): number => {
  const v = parseIp4Addr(s);
  assert.ok(v !== null, s);
  return v;
};

/** The ICMP message of an echo vector (inner IP payload). */
const icmpOf = (v: EchoVec): Uint8Array => hex(v.ip).slice(v.icmpOffset);

test('constants match include/uapi/linux/icmp.h and __icmp_send', () => {
  assert.deepEqual(
    [ICMP_ECHOREPLY, ICMP_DEST_UNREACH, ICMP_SOURCE_QUENCH, ICMP_REDIRECT, ICMP_ECHO, ICMP_TIME_EXCEEDED, ICMP_PARAMETERPROB, NR_ICMP_TYPES],
    [0, 3, 4, 5, 8, 11, 12, 18],
  );
  assert.deepEqual(
    [ICMP_NET_UNREACH, ICMP_HOST_UNREACH, ICMP_PROT_UNREACH, ICMP_PORT_UNREACH, ICMP_FRAG_NEEDED, ICMP_SR_FAILED],
    [0, 1, 2, 3, 4, 5],
  );
  assert.deepEqual([ICMP_EXC_TTL, ICMP_EXC_FRAGTIME, ICMP_HDR_LEN, ICMP4_ERROR_MAX_QUOTE], [0, 1, 8, 548]);
});

test('isIcmp4Error mirrors icmp_pointers[].error (net/ipv4/icmp.c)', () => {
  const errors = [1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12];
  for (let t = 0; t <= 255; t++) assert.equal(isIcmp4Error(t), errors.includes(t), `type ${t}`);
  assert.equal(isIcmp4Error(-1), false);
});

test('pcap vector: the ICMP inside ipip.pcap frames matches the JSON and verifies', () => {
  const file = loadBytes('pcap/ipip.pcap');
  for (const v of V.echo) {
    const frame = pcapFrame(file, v.frame);
    // outer IPv4 at 14 (protocol 4), inner IPv4 at 34, ICMP at 54
    assert.equal(frame[14 + 9], 4);
    assert.equal(toHex(frame, 34, hex(v.ip).length), v.ip);
    const p = new Icmp4Packet();
    assert.equal(p.check(frame, 54, hex(v.ip).length - 20), Drop.None);
    assert.ok(p.verifyChecksum(), `frame ${v.frame}`);
    assert.equal(p.type, v.type);
  }
});

test('deconstruct: every field of the echo vectors', () => {
  for (const v of V.echo) {
    const b = icmpOf(v);
    const p = new Icmp4Packet();
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
    assert.ok(p.verifyChecksum());
    assert.deepEqual(parseIcmp4(p), { type: v.type, code: v.code, rest: ((v.id << 16) | v.seq) >>> 0 });
  }
  // frames 2/3: the request and its reply carry the proof marker
  const req = icmpOf(V.echo[1]!);
  assert.equal(new TextDecoder().decode(req.subarray(8)), 'linux-peer-proof-00');
  assert.equal(V.echo[2]!.type, ICMP_ECHOREPLY);
});

test('construct: emit the echo reprs into 0xa5 garbage, copy the data, fillChecksum', () => {
  for (const v of V.echo) {
    const want = icmpOf(v);
    const out = filled(want.length);
    const p = new Icmp4Packet();
    assert.ok(p.bind(out, 0, out.length));
    const r = icmp4Echo(v.id, v.seq, v.type === ICMP_ECHOREPLY);
    assert.equal(icmp4HeaderLen(r), 8);
    emitIcmp4(r, p);
    assert.equal(p.checksum, 0);
    out.set(want.subarray(8), p.payloadOffset);
    p.fillChecksum();
    assert.equal(toHex(out), toHex(want));
    assert.equal(p.checksum, refChecksum(new Uint8Array([...want.subarray(0, 2), 0, 0, ...want.subarray(4)])));
  }
});

test('wrap boundary: 7 bytes is Truncated, 8 passes; bad ranges are Truncated', () => {
  const b = icmpOf(V.echo[0]!).slice(0, 8);
  const p = new Icmp4Packet();
  assert.equal(p.check(b, 0, 7), Drop.Truncated);
  assert.equal(p.check(b.subarray(0, 7)), Drop.Truncated);
  assert.equal(p.length, 0, 'view unchanged after a failed check');
  assert.equal(p.check(b, 0, 8), Drop.None);
  assert.equal(p.check(b, 1), Drop.Truncated);
  assert.equal(p.check(b, 0, 9), Drop.Truncated);
  assert.equal(p.check(b, -1, 8), Drop.Truncated);
  assert.equal(p.check(b, 0.5, 7), Drop.Truncated);
  assert.equal(p.check(b, 9), Drop.Truncated);
  assert.equal(p.wrap(b, 0, 7), false);
  assert.equal(p.wrap(b), true);
  assert.equal(p.bind(b, 0, 7), false);
  assert.equal(p.bind(b, 1, 8), false);
  assert.equal(p.bind(b, 0, 8), true);
  assert.equal(p.payloadLen, 0);
  const fresh = new Icmp4Packet();
  assert.equal(parseIcmp4(fresh), null);
  assert.throws(() => emitIcmp4(icmp4Echo(1, 2, false), fresh), RangeError);
});

test('round trip: parse -> emit -> parse', () => {
  for (const v of V.echo) {
    const b = icmpOf(v);
    const p = new Icmp4Packet();
    assert.ok(p.wrap(b));
    const r = parseIcmp4(p);
    assert.ok(r);
    const out = filled(b.length);
    const q = new Icmp4Packet();
    assert.ok(q.bind(out, 0, out.length));
    emitIcmp4(r, q);
    out.set(b.subarray(8), 8);
    q.fillChecksum();
    assert.deepEqual(out, b);
    assert.deepEqual(parseIcmp4(q), r);
  }
});

test('emit at a non-zero offset (7) leaves the surrounding bytes alone', () => {
  const v = V.echo[1]!;
  const want = icmpOf(v);
  const out = filled(want.length + 20);
  const p = new Icmp4Packet();
  assert.ok(p.bind(out, 7, want.length));
  emitIcmp4(icmp4Echo(v.id, v.seq, false), p);
  out.set(want.subarray(8), p.payloadOffset);
  assert.equal(p.payloadOffset, 15);
  p.fillChecksum();
  assert.equal(toHex(out, 7, want.length), toHex(want));
  assert.ok(out.subarray(0, 7).every((x) => x === 0xa5));
  assert.ok(out.subarray(7 + want.length).every((x) => x === 0xa5));
  assert.ok(p.verifyChecksum());
});

test('type-specific accessors: nextHopMtu, pointer, gateway, rest', () => {
  const b = filled(8);
  const p = new Icmp4Packet();
  assert.ok(p.bind(b, 0, 8));
  emitIcmp4(icmp4FragNeeded(1480), p);
  assert.equal(toHex(b), '03040000' + '000005c8');
  assert.equal(p.nextHopMtu, 1480);
  p.nextHopMtu = 1400;
  assert.equal(p.rest, 1400);
  emitIcmp4(icmp4ParamProb(9), p);
  assert.equal(p.type, ICMP_PARAMETERPROB);
  assert.equal(p.pointer, 9);
  assert.equal(p.rest, 0x09000000);
  p.pointer = 20;
  assert.equal(toHex(b, 4), '14000000');
  p.gateway = ip('192.0.2.254');
  assert.equal(p.gateway, 0xc00002fe);
  p.type = ICMP_REDIRECT;
  p.code = 1;
  p.checksum = 0xbeef;
  assert.equal(toHex(b), '0501beefc00002fe');
  p.echoId = 0x1234;
  p.echoSeq = 0xfffe;
  assert.equal(p.rest, 0x1234fffe);
  p.rest = 0xffffffff;
  assert.equal(p.rest, 0xffffffff);
  assert.deepEqual(icmp4DestUnreach(ICMP_PORT_UNREACH), { type: 3, code: 3, rest: 0 });
  assert.deepEqual(icmp4TimeExceeded(ICMP_EXC_TTL), { type: 11, code: 0, rest: 0 });
  assert.deepEqual(icmp4Echo(0xffff, 0xffff, true), { type: 0, code: 0, rest: 0xffffffff });
});

test('parseIcmp4 drops types above NR_ICMP_TYPES except EXT_ECHO/EXT_ECHOREPLY (icmp_rcv)', () => {
  const b = hex('0000000000000000');
  const p = new Icmp4Packet();
  assert.ok(p.wrap(b));
  for (let t = 0; t <= 255; t++) {
    b[0] = t;
    const known = t <= NR_ICMP_TYPES || t === ICMP_EXT_ECHO || t === 43;
    assert.equal(parseIcmp4(p) !== null, known, `type ${t}`);
  }
});

test('fast-check: check/parse never throw; whatever parses re-emits identically', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(), fc.nat(), (b, x, y) => {
      const off = b.length === 0 ? 0 : x % (b.length + 1);
      const len = y % (b.length - off + 1);
      const p = new Icmp4Packet();
      const d = p.check(b, off, len);
      assert.equal(d === Drop.None, len >= 8);
      if (d !== Drop.None) return;
      const r = parseIcmp4(p);
      if (r === null) return;
      const copy = b.slice(off, off + len);
      const q = new Icmp4Packet();
      assert.ok(q.bind(copy, 0, len));
      emitIcmp4(r, q);
      q.checksum = p.checksum;
      assert.equal(toHex(copy, 0, 8), toHex(b, off, 8));
      if (p.verifyChecksum()) {
        q.fillChecksum();
        // 0x0000 and 0xffff are the same one's-complement value
        assert.ok(q.checksum === p.checksum || (q.checksum ^ p.checksum) === 0xffff);
      }
    }),
  );
});

// ---- mayReplyIcmp4Error (__icmp_send refusals) ----

interface Pkt { src?: string; dst?: string; protocol?: number; fragOffset?: number; mf?: boolean; payload?: Uint8Array }

function mk4(o: Pkt): Ip4Packet {
  const payload = o.payload ?? new Uint8Array(16);
  const b = new Uint8Array(IP4_HDR_LEN + payload.length);
  const p = new Ip4Packet();
  assert.ok(p.bind(b, 0, b.length));
  emitIp4({
    tos: 0, ident: 1, df: false, mf: o.mf ?? false, fragOffset: o.fragOffset ?? 0, ttl: 64,
    protocol: o.protocol ?? IPPROTO_UDP, src: ip(o.src ?? '192.0.2.2'), dst: ip(o.dst ?? '198.51.100.1'),
    payloadLen: payload.length, options: new Uint8Array(0),
  }, p);
  b.set(payload, IP4_HDR_LEN);
  assert.equal(p.check(b), Drop.None);
  return p;
}

const icmpPayload = (type: number): Uint8Array => new Uint8Array([type, 0, 0, 0, 0, 0, 0, 0]);

test('mayReplyIcmp4Error: a plain unicast packet and a first fragment may get an error', () => {
  assert.equal(mayReplyIcmp4Error(mk4({})), true);
  assert.equal(mayReplyIcmp4Error(mk4({ mf: true })), true);
  assert.equal(mayReplyIcmp4Error(mk4({ payload: new Uint8Array(0) })), true);
  const req = new Ip4Packet();
  assert.equal(req.check(hex(V.echo[1]!.ip)), Drop.None);
  assert.equal(mayReplyIcmp4Error(req), true);
});

test('mayReplyIcmp4Error: never for a non-first fragment ("Only reply to fragment 0")', () => {
  assert.equal(mayReplyIcmp4Error(mk4({ fragOffset: 8 })), false);
  assert.equal(mayReplyIcmp4Error(mk4({ fragOffset: 1480, mf: true })), false);
});

test('mayReplyIcmp4Error: never for multicast/broadcast destinations (RTCF_BROADCAST | RTCF_MULTICAST)', () => {
  for (const dst of ['224.0.0.1', '239.255.255.250', '255.255.255.255', '0.0.0.0', '0.1.2.3']) {
    assert.equal(mayReplyIcmp4Error(mk4({ dst })), false, dst);
  }
  for (const dst of ['223.255.255.255', '240.0.0.1', '255.255.255.254', '1.0.0.0']) {
    assert.equal(mayReplyIcmp4Error(mk4({ dst })), true, dst);
  }
});

test('mayReplyIcmp4Error: never for a martian source (0/8, multicast, 255.255.255.255)', () => {
  for (const src of ['0.0.0.0', '0.255.1.1', '224.0.0.5', '239.1.1.1', '255.255.255.255']) {
    assert.equal(mayReplyIcmp4Error(mk4({ src })), false, src);
  }
});

test('mayReplyIcmp4Error: never about an ICMP error, an unknown ICMP type, or a missing type byte', () => {
  for (let t = 0; t <= 255; t++) {
    const want = t <= NR_ICMP_TYPES && !isIcmp4Error(t);
    assert.equal(mayReplyIcmp4Error(mk4({ protocol: IPPROTO_ICMP, payload: icmpPayload(t) })), want, `type ${t}`);
  }
  assert.equal(mayReplyIcmp4Error(mk4({ protocol: IPPROTO_ICMP, payload: icmpPayload(ICMP_ECHO) })), true);
  assert.equal(mayReplyIcmp4Error(mk4({ protocol: IPPROTO_ICMP, payload: icmpPayload(ICMP_TIMESTAMP) })), true);
  assert.equal(mayReplyIcmp4Error(mk4({ protocol: IPPROTO_ICMP, payload: icmpPayload(ICMP_EXT_ECHO) })), false);
  assert.equal(mayReplyIcmp4Error(mk4({ protocol: IPPROTO_ICMP, payload: new Uint8Array(0) })), false);
  assert.equal(mayReplyIcmp4Error(mk4({ protocol: IPPROTO_ICMP, payload: new Uint8Array([0]) })), true);
});

test('fast-check: mayReplyIcmp4Error never throws on any checked IPv4 packet', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 20, maxLength: 80 }), (b) => {
      b[0] = 0x45;
      b[2] = 0;
      b[3] = 20 + (b[3]! % (b.length - 19));
      const p = new Ip4Packet();
      if (p.check(b) !== Drop.None) return;
      assert.equal(typeof mayReplyIcmp4Error(p), 'boolean');
    }),
  );
});

// ---- buildIcmp4Error ----

function argsOf(a: Vectors['fragNeeded']['args']): Icmp4ErrorArgs {
  return { type: a.type, code: a.code, info: a.info, src: ip(a.src), dst: ip(a.dst), ttl: a.ttl, tos: a.tos, ident: a.ident };
}

test('icmp4ErrorTos: RT_TOS(tos) | IPTOS_PREC_INTERNETCONTROL', () => {
  assert.equal(icmp4ErrorTos(V.fragNeeded.offendingTos), V.fragNeeded.args.tos);
  assert.equal(icmp4ErrorTos(0x00), 0xc0);
  // IPTOS_TOS_MASK 0x1e keeps bit 1 (ECT(0) today, the RFC 1349 "min cost" bit) and drops bit 0
  assert.equal(icmp4ErrorTos(0x03), 0xc2);
  assert.equal(icmp4ErrorTos(0x01), 0xc0);
  assert.equal(icmp4ErrorTos(0xff), 0xde);
  assert.equal(icmp4ErrorTos(0xb8), 0xd8); // EF: precedence bits replaced
});

test('buildIcmp4Error: RFC 1191 frag-needed vector, checked against an independent checksum', () => {
  const fn = V.fragNeeded;
  const offending = hex(fn.offending);
  const want = hex(fn.expected);
  assert.equal(offending.length, 1500);
  assert.equal(want.length, 576);
  const out = filled(600);
  const n = buildIcmp4Error(out, 0, argsOf(fn.args), offending, 0, offending.length);
  assert.equal(n, 576);
  assert.equal(toHex(out, 0, n), fn.expected);
  assert.ok(out.subarray(n).every((x) => x === 0xa5));
  // independent reference: both checksums over the produced bytes
  assert.equal(refChecksum(out.slice(0, 20)), 0);
  assert.equal(refChecksum(out.slice(20, n)), 0);
  const z = out.slice(20, n);
  z[2] = 0;
  z[3] = 0;
  assert.equal(refChecksum(z), fn.icmpChecksum);
  // the packet reads back through the IPv4 and ICMP views
  const ip4 = new Ip4Packet();
  assert.equal(ip4.check(out, 0, n), Drop.None);
  assert.ok(ip4.verifyChecksum());
  assert.equal(ip4.checksum, fn.ipChecksum);
  assert.deepEqual(
    [ip4.version, ip4.ihl, ip4.tos, ip4.totalLen, ip4.ident, ip4.df, ip4.mf, ip4.fragOffset, ip4.ttl, ip4.protocol],
    [4, 5, 0xc8, 576, 0x4d2e, false, false, 0, 64, IPPROTO_ICMP],
  );
  assert.equal(ip4.src, ip('192.0.2.1'));
  assert.equal(ip4.dst, ip('192.0.2.2'));
  const icmp = new Icmp4Packet();
  assert.ok(icmp.wrap(out, ip4.payloadOffset, ip4.payloadLen));
  assert.deepEqual([icmp.type, icmp.code, icmp.nextHopMtu, icmp.rest], [ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, 1480, 1480]);
  assert.ok(icmp.verifyChecksum());
  assert.equal(icmp.payloadLen, ICMP4_ERROR_MAX_QUOTE);
  assert.equal(toHex(out, icmp.payloadOffset, icmp.payloadLen), toHex(offending, 0, 548));
  // the quoted header still names the offending flow
  const quoted = new Ip4Packet();
  assert.equal(quoted.check(out, 28, 548), Drop.BadTotalLen); // truncated quote, as on the wire
  assert.ok(quoted.bind(out, 28, 548));
  assert.equal(quoted.totalLen, 1500);
  assert.ok(quoted.df);
});

test('buildIcmp4Error at an offset, short quote, and with overlapping buffers (memmove)', () => {
  const fn = V.fragNeeded;
  const a = argsOf(fn.args);
  const offending = hex(fn.offending);
  // at offset 7
  const out = filled(7 + 576 + 5);
  assert.equal(buildIcmp4Error(out, 7, a, offending, 0, 1500), 576);
  assert.equal(toHex(out, 7, 576), fn.expected);
  assert.ok(out.subarray(0, 7).every((x) => x === 0xa5) && out.subarray(583).every((x) => x === 0xa5));
  // in place, headers right before the offending packet: nothing moves
  const slab = filled(28 + 1500);
  slab.set(offending, 28);
  assert.equal(buildIcmp4Error(slab, 0, a, slab, 28, 1500), 576);
  assert.equal(toHex(slab, 0, 576), fn.expected);
  // same start: the quote moves forward by 28 over its own source
  const same = filled(1600);
  same.set(offending, 0);
  assert.equal(buildIcmp4Error(same, 0, a, same, 0, 1500), 576);
  assert.equal(toHex(same, 0, 576), fn.expected);
  // two views over one ArrayBuffer, destination before the source
  const mem = filled(2000);
  mem.set(offending, 100);
  const src = mem.subarray(50);
  const dst = mem.subarray(10);
  assert.equal(buildIcmp4Error(dst, 0, a, src, 50, 1500), 576);
  assert.equal(toHex(mem, 10, 576), fn.expected);
  // a short offending packet is quoted whole
  const small = offending.slice(0, 61);
  const o2 = filled(200);
  const n = buildIcmp4Error(o2, 0, a, small, 0, small.length);
  assert.equal(n, 28 + 61);
  assert.equal(toHex(o2, 28, 61), toHex(small));
  assert.equal(refChecksum(o2.slice(0, 20)), 0);
  assert.equal(refChecksum(o2.slice(20, n)), 0);
});

test('buildIcmp4Error throws RangeError on programmer errors', () => {
  const a = argsOf(V.fragNeeded.args);
  const offending = hex(V.fragNeeded.offending);
  assert.throws(() => buildIcmp4Error(new Uint8Array(575), 0, a, offending, 0, 1500), RangeError);
  assert.throws(() => buildIcmp4Error(new Uint8Array(576), 1, a, offending, 0, 1500), RangeError);
  assert.throws(() => buildIcmp4Error(new Uint8Array(576), 0, a, offending, 1, 1500), RangeError);
  assert.throws(() => buildIcmp4Error(new Uint8Array(576), 0, a, offending, -1, 10), RangeError);
  assert.equal(buildIcmp4Error(new Uint8Array(28), 0, a, offending, 0, 0), 28);
});

test('fast-check: buildIcmp4Error output always verifies and quotes the prefix', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 700 }),
      fc.record({
        type: fc.integer({ min: 0, max: 255 }), code: fc.integer({ min: 0, max: 255 }),
        info: fc.integer({ min: 0, max: 0xffffffff }), src: fc.integer({ min: 0, max: 0xffffffff }),
        dst: fc.integer({ min: 0, max: 0xffffffff }), ttl: fc.integer({ min: 0, max: 255 }),
        tos: fc.integer({ min: 0, max: 255 }), ident: fc.integer({ min: 0, max: 0xffff }),
      }),
      (offending, a: Icmp4ErrorArgs) => {
        const out = new Uint8Array(600);
        const n = buildIcmp4Error(out, 0, a, offending, 0, offending.length);
        const q = Math.min(offending.length, 548);
        assert.equal(n, 28 + q);
        assert.equal(refChecksum(out.slice(0, 20)), 0);
        assert.equal(refChecksum(out.slice(20, n)), 0);
        const ip4 = new Ip4Packet();
        assert.equal(ip4.check(out, 0, n), Drop.None);
        assert.deepEqual([ip4.src, ip4.dst, ip4.ttl, ip4.tos, ip4.ident], [a.src, a.dst, a.ttl, a.tos, a.ident]);
        const icmp = new Icmp4Packet();
        assert.ok(icmp.wrap(out, 20, n - 20));
        const r: Icmp4Repr = { type: icmp.type, code: icmp.code, rest: icmp.rest };
        assert.deepEqual(r, { type: a.type, code: a.code, rest: a.info });
        assert.equal(toHex(out, 28, q), toHex(offending, 0, q));
      },
    ),
  );
});

test('repr helpers give the RFC layouts', () => {
  assert.deepEqual(icmp4FragNeeded(68), { type: ICMP_DEST_UNREACH, code: ICMP_FRAG_NEEDED, rest: 68 });
  assert.deepEqual(icmp4TimeExceeded(ICMP_EXC_FRAGTIME), { type: ICMP_TIME_EXCEEDED, code: 1, rest: 0 });
  assert.deepEqual(icmp4DestUnreach(ICMP_HOST_UNREACH), { type: ICMP_DEST_UNREACH, code: 1, rest: 0 });
  assert.equal(isIcmp4Error(ICMP_SOURCE_QUENCH), true);
});
