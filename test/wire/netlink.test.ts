// Netlink framing, attributes and NLMSG_ERROR/DONE (src/wire/netlink.ts)
// against datagrams captured from iproute2 6.1 on Linux 6.18
// (test/vectors/netlink.json names the capture procedure).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { HOST_LE } from '../../src/wire/bytes.js';
import {
  NLMSG_DONE, NLMSG_ERROR, NLMSG_HDRLEN, NLM_F_ACK, NLM_F_ACK_TLVS, NLM_F_CAPPED, NLM_F_CREATE, NLM_F_DUMP_FILTERED,
  NLM_F_MULTI, NLM_F_REPLACE, NLM_F_REQUEST, NlAttrs, NlMsg, emitNlErr, emitNlHdr, nlErrLen, parseNlDone, parseNlErr,
  parseNlHdr, putNlAttrU32,
} from '../../src/wire/netlink.js';
import { RTM_DELROUTE, RTM_NEWROUTE } from '../../src/wire/rtnetlink.js';
import { filled, hex, toHex } from '../util/hex.js';
import { loadJson } from '../util/paths.js';

interface NlVector { name: string; cmd: string; dir: 'send' | 'recv'; note: string; hex: string }
const VECTORS = loadJson<{ source: string; vectors: NlVector[] }>('netlink.json');
const V = new Map(VECTORS.vectors.map((v) => [v.name, v]));
const vec = (name: string): Uint8Array => hex(V.get(name)!.hex);

/** The messages of one datagram, each as its own view. */
function messages(b: Uint8Array): NlMsg[] {
  const out: NlMsg[] = [];
  for (let o = 0; o < b.length;) {
    const m = new NlMsg();
    if (!m.wrap(b, o, b.length - o)) break;
    out.push(m);
    o = m.nextOffset;
  }
  return out;
}

const ERR_VECTORS = ['ack-capped', 'err-esrch', 'err-enetunreach', 'err-extack4', 'err-extack6'];

test('the vectors were captured on a little-endian host, as this one must be to read them', () => {
  assert.ok(HOST_LE, 'netlink.json holds little-endian datagrams');
  assert.match(VECTORS.source, /strace/);
  assert.equal(VECTORS.vectors.length, 26);
});

test('every datagram is a whole number of messages, aligned to 4 bytes', () => {
  for (const v of VECTORS.vectors) {
    const b = hex(v.hex);
    const ms = messages(b);
    assert.ok(ms.length >= 1, v.name);
    const last = ms[ms.length - 1]!;
    assert.equal(last.offset + last.boundLen, b.length, `${v.name}: messages cover the datagram`);
  }
  assert.equal(messages(vec('addr-dump6-reply')).length, 3, 'two RTM_NEWADDR and a NLMSG_DONE in one datagram');
});

test('deconstruct: nlmsghdr of a request and of its ACK', () => {
  const m = new NlMsg();
  const req = vec('route-replace4-mtu');
  assert.ok(m.wrap(req));
  assert.deepEqual(parseNlHdr(m), { type: RTM_NEWROUTE, flags: NLM_F_REQUEST | NLM_F_ACK | NLM_F_REPLACE | NLM_F_CREATE, seq: 0x6b15d17e, pid: 0 });
  assert.equal(m.length, 56);
  assert.equal(m.boundLen, 56);
  assert.equal(m.payloadOffset, NLMSG_HDRLEN);
  assert.equal(m.payloadLen, 40);
  assert.equal(m.nextOffset, 56);
  const ack = vec('ack-capped');
  assert.ok(m.wrap(ack));
  assert.equal(m.type, NLMSG_ERROR);
  assert.equal(m.flags, NLM_F_CAPPED);
  assert.equal(m.seq, 0x6b15d17e, 'the ACK carries the request seq');
  assert.notEqual(m.pid, 0, 'and the requester port id');
  const e = parseNlErr(m)!;
  assert.equal(e.error, 0);
  assert.equal(toHex(e.echo), toHex(req, 0, 16), 'capped: only the request header');
  assert.equal(e.msg, null);
  assert.equal(e.offs, null);
});

test('deconstruct: errors echo the whole request; extack carries the kernel text', () => {
  const m = new NlMsg();
  const cases = [
    ['err-esrch', -3, 'route-del4', null],
    ['err-enetunreach', -101, 'route-get4-unreach', null],
    ['err-extack4', -100, 'route-replace4-mtu', 'Device for nexthop is not up'],
    ['err-extack6', -100, 'route-replace6-mtu', 'Nexthop device is not up'],
  ] as const;
  for (const [name, errno, request, msg] of cases) {
    assert.ok(m.wrap(vec(name)), name);
    assert.equal((m.flags & NLM_F_CAPPED) !== 0, false, name);
    assert.equal((m.flags & NLM_F_ACK_TLVS) !== 0, msg !== null, name);
    const e = parseNlErr(m)!;
    assert.equal(e.error, errno, name);
    assert.equal(e.msg, msg, name);
    if (V.has(request)) assert.equal(toHex(e.echo), V.get(request)!.hex, `${name} echoes ${request}`);
    else assert.equal(e.echo.length, 36, 'the 36-byte RTM_GETROUTE for 198.51.100.1');
  }
});

test('deconstruct: NLMSG_DONE of a dump', () => {
  const m = new NlMsg();
  assert.ok(m.wrap(vec('route-dump4-done')));
  assert.equal(m.type, NLMSG_DONE);
  assert.equal(m.flags, NLM_F_MULTI | NLM_F_DUMP_FILTERED);
  assert.equal(parseNlDone(m), 0);
  assert.equal(parseNlErr(m), null, 'not an error message');
  assert.ok(m.wrap(vec('ack-capped')));
  assert.equal(parseNlDone(m), null, 'not a DONE');
});

test('attributes: iteration, nesting bit, typed getters refuse the wrong size', () => {
  const b = vec('link-get-index-reply');
  const a = new NlAttrs();
  assert.ok(a.wrap(b, NLMSG_HDRLEN + 16, b.length - NLMSG_HDRLEN - 16));
  const seen: number[] = [];
  let nested = 0;
  while (a.next()) {
    seen.push(a.type);
    if (a.isNested) nested++;
    if (a.type === 3) { assert.equal(a.str(), 'veth0'); assert.equal(a.u32(), null, 'a 6-byte value is not a u32'); }
    if (a.type === 4) assert.equal(a.u32(), 1500);
    if (a.type === 16) { assert.equal(a.u8(), 6); assert.equal(a.u16(), null); }
  }
  assert.equal(a.isMalformed, false);
  assert.ok(seen.includes(3) && seen.includes(4) && seen.includes(16), 'IFLA_IFNAME, IFLA_MTU, IFLA_OPERSTATE');
  assert.ok(nested >= 1, 'the kernel marks some attributes NLA_F_NESTED');
});

test('attributes: a length past the end or under 4 is malformed; < 4 trailing bytes end quietly', () => {
  const a = new NlAttrs();
  const b = new Uint8Array(16);
  putNlAttrU32(b, 0, 1, 7);
  assert.ok(a.wrap(b, 0, 8));
  assert.ok(a.next());
  assert.equal(a.u32(), 7);
  assert.equal(a.next(), false);
  assert.equal(a.isMalformed, false);
  assert.ok(a.wrap(b, 0, 11), 'three trailing bytes');
  assert.ok(a.next());
  assert.equal(a.next(), false);
  assert.equal(a.isMalformed, false);
  b[8] = 9; // nla_len 9 with only 8 bytes left
  assert.ok(a.wrap(b, 0, 16));
  assert.ok(a.next());
  assert.equal(a.next(), false);
  assert.equal(a.isMalformed, true);
  b[8] = 3; // nla_len below the header size
  assert.ok(a.wrap(b, 0, 16));
  a.next();
  assert.equal(a.next(), false);
  assert.equal(a.isMalformed, true);
  assert.equal(a.wrap(b, 10, 7), false, 'range outside the buffer');
});

test('wrap boundary: nlmsg_len bytes pass, one fewer fails; nlmsg_len < 16 fails', () => {
  const m = new NlMsg();
  for (const v of VECTORS.vectors) {
    const b = hex(v.hex);
    const n = messages(b)[0]!.boundLen;
    assert.equal(m.wrap(b, 0, n - 1), false, v.name);
    assert.equal(m.wrap(b, 0, n), true, v.name);
  }
  const b = vec('ack-capped');
  b[0] = 15;
  assert.equal(m.wrap(b), false);
  assert.equal(m.wrap(new Uint8Array(15)), false);
  assert.equal(m.bind(new Uint8Array(15), 0, 15), false);
  assert.equal(m.wrap(vec('ack-capped'), 30, 16), false, 'range outside the buffer');
});

test('construct: emitNlErr into 0xa5 reproduces every captured ACK and error byte for byte', () => {
  const m = new NlMsg();
  for (const name of ERR_VECTORS) {
    const want = vec(name);
    assert.ok(m.wrap(want));
    const h = parseNlHdr(m);
    const e = parseNlErr(m)!;
    assert.equal(nlErrLen(e), want.length, name);
    const out = filled(want.length);
    const w = new NlMsg();
    assert.ok(w.bind(out, 0, out.length));
    emitNlErr({ ...h, flags: 0 }, e, w);
    assert.equal(toHex(out), toHex(want), `${name}: flags CAPPED/ACK_TLVS derived from the Repr`);
  }
});

test('construct at a non-zero offset; a short view throws', () => {
  const want = vec('err-extack4');
  const m = new NlMsg();
  assert.ok(m.wrap(want));
  const e = parseNlErr(m)!;
  const out = filled(want.length + 13);
  const w = new NlMsg();
  assert.ok(w.bind(out, 7, want.length));
  emitNlErr(parseNlHdr(m), e, w);
  assert.equal(toHex(out, 7, want.length), toHex(want));
  assert.equal(out[6], 0xa5);
  assert.equal(out[7 + want.length], 0xa5, 'nothing written past nlmsg_len');
  assert.ok(w.bind(out, 0, want.length - 1));
  assert.throws(() => emitNlErr(parseNlHdr(m), e, w), RangeError);
  assert.throws(() => emitNlHdr({ type: 1, flags: 0, seq: 0, pid: 0 }, 8, w), RangeError, 'nlmsg_len below the header');
  assert.throws(() => emitNlErr(parseNlHdr(m), { ...e, echo: new Uint8Array(8) }, w), RangeError);
});

test('round trip: parse → emit → parse of every error message', () => {
  const m = new NlMsg();
  for (const name of ERR_VECTORS) {
    assert.ok(m.wrap(vec(name)));
    const e1 = parseNlErr(m)!;
    const out = new Uint8Array(nlErrLen(e1));
    const w = new NlMsg();
    w.bind(out, 0, out.length);
    emitNlErr(parseNlHdr(m), e1, w);
    assert.ok(w.wrap(out));
    assert.deepEqual(parseNlErr(w), e1, name);
    assert.deepEqual(parseNlHdr(w), parseNlHdr(m), name);
  }
  // An extack with both a message and an offset.
  const e = { error: -22, echo: vec('route-del4'), msg: 'Invalid prefix for given prefix length', offs: 20 };
  const out = filled(nlErrLen(e));
  const w = new NlMsg();
  w.bind(out, 0, out.length);
  emitNlErr({ type: 0, flags: 0, seq: 5, pid: 9 }, e, w);
  assert.ok(w.wrap(out));
  assert.equal(w.flags, NLM_F_ACK_TLVS);
  assert.deepEqual(parseNlErr(w), e);
});

test('differential: the header view against DataView in host order', () => {
  const m = new NlMsg();
  for (const v of VECTORS.vectors) {
    const b = hex(v.hex);
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    assert.ok(m.wrap(b));
    assert.equal(m.length, dv.getUint32(0, HOST_LE), v.name);
    assert.equal(m.type, dv.getUint16(4, HOST_LE), v.name);
    assert.equal(m.flags, dv.getUint16(6, HOST_LE), v.name);
    assert.equal(m.seq, dv.getUint32(8, HOST_LE), v.name);
    assert.equal(m.pid, dv.getUint32(12, HOST_LE), v.name);
  }
  assert.equal(RTM_DELROUTE, 25);
});

test('fast-check: arbitrary bytes never throw; an error that parses re-emits identically', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(8), (b, off) => {
    const m = new NlMsg();
    const a = new NlAttrs();
    for (let o = Math.min(off, b.length); o < b.length && m.wrap(b, o, b.length - o); o = m.nextOffset) {
      parseNlDone(m);
      a.wrap(b, m.payloadOffset, m.payloadLen);
      while (a.next()) { a.u8(); a.u16(); a.u32(); a.str(); a.bytes(); }
      const e = parseNlErr(m);
      if (e === null) continue;
      const out = new Uint8Array(nlErrLen(e));
      const w = new NlMsg();
      w.bind(out, 0, out.length);
      emitNlErr(parseNlHdr(m), e, w);
      assert.ok(w.wrap(out));
      assert.deepEqual(parseNlErr(w), e);
    }
  }), { numRuns: 2000 });
});

test('fast-check: mutated captured errors never throw', () => {
  const base = vec('err-extack4');
  fc.assert(fc.property(fc.nat(base.length - 1), fc.nat(255), (i, x) => {
    const b = new Uint8Array(base);
    b[i] = x;
    const m = new NlMsg();
    if (m.wrap(b)) parseNlErr(m);
  }), { numRuns: 2000 });
});
