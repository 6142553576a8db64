// rtnetlink bodies (src/wire/rtnetlink.ts, rtnetlink-route.ts) against the
// iproute2 6.1 / Linux 6.18 captures in test/vectors/netlink.json.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseIp6 } from '../../src/wire/addr.js';
import { NlMsg, parseNlDone, parseNlHdr } from '../../src/wire/netlink.js';
import type { NlHdrRepr } from '../../src/wire/netlink.js';
import {
  AF_INET, AF_INET6, IFF_LOWER_UP, IFF_UP, IF_OPER_UP, RTM_GETADDR, RTM_GETLINK, RTM_NEWADDR, RTM_NEWLINK, RTM_NEWROUTE,
  RTN_UNICAST, RTPROT_BOOT, RT_SCOPE_LINK, RT_SCOPE_NOWHERE, RT_TABLE_MAIN, RTM_F_CLONED, RTM_F_LOOKUP_TABLE,
  addrMsgLen, emitAddr, emitLink, linkMsgLen, parseAddr, parseLink, rtmgrp, RTNLGRP_IPV4_ROUTE,
} from '../../src/wire/rtnetlink.js';
import type { AddrRepr, LinkRepr } from '../../src/wire/rtnetlink.js';
import { emitRoute, parseRoute, routeMsgLen } from '../../src/wire/rtnetlink-route.js';
import type { RouteRepr } from '../../src/wire/rtnetlink-route.js';
import { filled, hex, toHex } from '../util/hex.js';
import { loadJson } from '../util/paths.js';

interface NlVector { name: string; hex: string }
const V = new Map(loadJson<{ vectors: NlVector[] }>('netlink.json').vectors.map((v) => [v.name, v]));
const vec = (name: string): Uint8Array => hex(V.get(name)!.hex);
const ip4 = (...b: number[]): Uint8Array => Uint8Array.from(b);
const ip6 = (s: string): Uint8Array => parseIp6(s)!;

/** One body codec, so every test below runs over routes, links and addresses alike. */
interface Codec<T> {
  parse(p: NlMsg): T | null;
  emit(h: NlHdrRepr, r: T, p: NlMsg): void;
  len(r: T): number;
}
const ROUTE: Codec<RouteRepr> = { parse: parseRoute, emit: emitRoute, len: routeMsgLen };
const LINK: Codec<LinkRepr> = { parse: parseLink, emit: emitLink, len: linkMsgLen };
const ADDR: Codec<AddrRepr> = { parse: parseAddr, emit: emitAddr, len: addrMsgLen };

/** Requests iproute2 sent: re-emitted from their Repr, byte for byte. */
const REQUESTS: readonly [string, Codec<never>][] = [
  ['route-replace4-mtu', ROUTE], ['route-replace4', ROUTE], ['route-replace4-mtu1380', ROUTE], ['route-get4', ROUTE],
  ['route-dump4', ROUTE], ['route-del4', ROUTE], ['route-replace6-mtu', ROUTE], ['route-get6', ROUTE], ['route-del6', ROUTE],
  ['link-get-index', LINK], ['link-get-name', LINK], ['addr-dump4', ADDR],
] as unknown as readonly [string, Codec<never>][];
/** Kernel replies: parsed, and parse → emit → parse is stable (unknown attributes are dropped). */
const REPLIES: readonly [string, Codec<never>][] = [
  ['route-get4-reply', ROUTE], ['route-get6-reply', ROUTE], ['route-dump4-reply', ROUTE],
  ['link-get-index-reply', LINK], ['link-get-name-reply', LINK], ['addr-dump4-reply', ADDR],
] as unknown as readonly [string, Codec<never>][];

function wrapped(b: Uint8Array): NlMsg {
  const m = new NlMsg();
  assert.ok(m.wrap(b));
  return m;
}

const route = (name: string): RouteRepr => parseRoute(wrapped(vec(name)))!;
const NONE = { tableId: null, src: null, gateway: null, prefsrc: null, priority: null };

test('deconstruct: iproute2 route requests', () => {
  const base = { family: AF_INET, dstLen: 24, srcLen: 0, tos: 0, table: RT_TABLE_MAIN, protocol: RTPROT_BOOT, scope: RT_SCOPE_LINK, type: RTN_UNICAST, flags: 0, ...NONE };
  assert.deepEqual(route('route-replace4-mtu'), { ...base, dst: ip4(192, 0, 2, 0), oif: 3, mtu: 1400 });
  assert.deepEqual(route('route-replace4'), { ...base, dst: ip4(192, 0, 2, 0), oif: 3, mtu: null });
  assert.deepEqual(route('route-del4'), { ...base, protocol: 0, scope: RT_SCOPE_NOWHERE, type: 0, dst: ip4(192, 0, 2, 0), oif: 3, mtu: null });
  assert.deepEqual(route('route-get4'), { ...base, dstLen: 32, table: 0, protocol: 0, scope: 0, type: 0, flags: RTM_F_LOOKUP_TABLE, dst: ip4(192, 0, 2, 1), oif: null, mtu: null });
  assert.deepEqual(route('route-dump4'), { ...base, dstLen: 0, table: 0, protocol: 0, scope: 0, type: 0, tableId: RT_TABLE_MAIN, dst: null, oif: 3, mtu: null });
  assert.deepEqual(route('route-replace6-mtu'), { ...base, family: AF_INET6, dstLen: 64, scope: 0, dst: ip6('2001:db8:1::'), oif: 3, mtu: 1400 });
  assert.deepEqual(route('route-del6'), { ...base, family: AF_INET6, dstLen: 64, protocol: 0, scope: 0, type: 0, dst: ip6('2001:db8:1::'), oif: 3, mtu: null });
});

test('deconstruct: kernel route replies (ip route get, a dump)', () => {
  const g4 = route('route-get4-reply');
  assert.equal(g4.flags, RTM_F_CLONED);
  assert.equal(g4.tableId, RT_TABLE_MAIN);
  assert.deepEqual(g4.dst, ip4(192, 0, 2, 1));
  assert.equal(g4.oif, 3);
  assert.equal(g4.mtu, 1380, 'RTAX_MTU inside RTA_METRICS: `cache mtu 1380`');
  const g6 = route('route-get6-reply');
  assert.equal(g6.family, AF_INET6);
  assert.deepEqual(g6.dst, ip6('2001:db8:1::1'));
  assert.deepEqual(g6.prefsrc, ip6('::1'));
  assert.equal(g6.priority, 1024);
  assert.equal(g6.oif, 3);
  assert.equal(g6.mtu, 1400);
  const d = wrapped(vec('route-dump4-reply'));
  assert.equal(d.type, RTM_NEWROUTE);
  assert.deepEqual(parseRoute(d), {
    family: AF_INET, dstLen: 24, srcLen: 0, tos: 0, table: RT_TABLE_MAIN, protocol: RTPROT_BOOT, scope: RT_SCOPE_LINK,
    type: RTN_UNICAST, flags: 0, ...NONE, tableId: RT_TABLE_MAIN, dst: ip4(192, 0, 2, 0), oif: 3, mtu: 1380,
  });
});

test('deconstruct: links and addresses', () => {
  const req = wrapped(vec('link-get-name'));
  assert.equal(req.type, RTM_GETLINK);
  assert.deepEqual(parseLink(req), { family: 0, type: 0, index: 0, flags: 0, change: 0, extMask: 9, ifname: 'veth0', mtu: null, operstate: null, ifalias: null });
  assert.deepEqual(parseLink(wrapped(vec('link-get-index'))), { family: 0, type: 0, index: 3, flags: 0, change: 0, extMask: 9, ifname: null, mtu: null, operstate: null, ifalias: null });
  const rep = wrapped(vec('link-get-index-reply'));
  assert.equal(rep.type, RTM_NEWLINK);
  const l = parseLink(rep)!;
  assert.equal(l.index, 3);
  assert.equal(l.ifname, 'veth0');
  assert.equal(l.mtu, 1500);
  assert.equal(l.operstate, IF_OPER_UP);
  assert.equal(l.flags & (IFF_UP | IFF_LOWER_UP), IFF_UP | IFF_LOWER_UP);
  assert.equal(l.type, 1, 'ARPHRD_ETHER');
  const a4 = wrapped(vec('addr-dump4-reply'));
  assert.equal(a4.type, RTM_NEWADDR);
  assert.deepEqual(parseAddr(a4), { family: AF_INET, prefixLen: 24, flags: 0x80, scope: 0, index: 3, address: ip4(192, 0, 2, 5), local: ip4(192, 0, 2, 5), label: 'veth0' });
  const dump = vec('addr-dump6-reply');
  const m = new NlMsg();
  const got: string[] = [];
  for (let o = 0; m.wrap(dump, o, dump.length - o); o = m.nextOffset) {
    if (m.type === RTM_NEWADDR) got.push(toHex(parseAddr(m)!.address!));
    else got.push(`done ${parseNlDone(m)}`);
  }
  assert.deepEqual(got, [toHex(ip6('2001:db8::6')), toHex(ip6('2001:db8::5')), 'done 0']);
  assert.equal(wrapped(vec('addr-dump4')).type, RTM_GETADDR);
  assert.equal(rtmgrp(RTNLGRP_IPV4_ROUTE), 0x40, 'RTMGRP_IPV4_ROUTE');
});

test('construct: every iproute2 request re-emitted into 0xa5 is byte-identical', () => {
  for (const [name, c] of REQUESTS) {
    const want = vec(name);
    const m = wrapped(want);
    const r = c.parse(m)!;
    assert.equal(c.len(r), want.length, name);
    const out = filled(want.length);
    const w = new NlMsg();
    assert.ok(w.bind(out, 0, out.length));
    c.emit(parseNlHdr(m), r, w);
    assert.equal(toHex(out), toHex(want), name);
  }
});

test('construct at a non-zero offset writes exactly len bytes; a short view throws', () => {
  for (const [name, c] of REQUESTS) {
    const want = vec(name);
    const m = wrapped(want);
    const r = c.parse(m)!;
    const out = filled(want.length + 10);
    const w = new NlMsg();
    assert.ok(w.bind(out, 5, want.length));
    c.emit(parseNlHdr(m), r, w);
    assert.equal(toHex(out, 5, want.length), toHex(want), name);
    assert.equal(toHex(out, 0, 5) + toHex(out, 5 + want.length), 'a5'.repeat(10), `${name}: nothing outside`);
    assert.ok(w.bind(out, 0, want.length - 1));
    assert.throws(() => c.emit(parseNlHdr(m), r, w), RangeError, name);
  }
});

test('wrap boundary: a body shorter than its fixed header does not parse', () => {
  for (const [name, c, fixed] of [['route-get4', ROUTE, 12], ['link-get-index', LINK, 16], ['addr-dump4', ADDR, 8]] as const) {
    const b = vec(name).subarray(0, 16 + fixed);
    b[0] = 16 + fixed;
    assert.notEqual((c as Codec<unknown>).parse(wrapped(b)), null, `${name}: ${fixed} bytes`);
    const short = b.subarray(0, 16 + fixed - 1);
    short[0] = 16 + fixed - 1;
    assert.equal((c as Codec<unknown>).parse(wrapped(short)), null, `${name}: ${fixed - 1} bytes`);
  }
});

test('malformed: an address of the wrong size for the family, a bad metrics nest', () => {
  const b = vec('route-replace4-mtu');
  const v6 = new Uint8Array(b);
  v6[16] = AF_INET6; // a 4-byte RTA_DST no longer fits the family
  assert.equal(parseRoute(wrapped(v6)), null);
  const nest = new Uint8Array(b);
  nest[48] = 13; // RTAX_MTU's nla_len past the RTA_METRICS value
  assert.equal(parseRoute(wrapped(nest)), null);
  const oif = new Uint8Array(b);
  oif[36] = 7; // RTA_OIF with 3 value bytes: refused, not misread
  assert.equal(parseRoute(wrapped(oif)), null);
});

test('construct: `ip link set dev 7 alias tunkitd` (RTM_NEWLINK + IFLA_IFALIAS 20, NUL-terminated), parsed back', () => {
  const r: LinkRepr = { family: 0, type: 0, index: 7, flags: 0, change: 0, extMask: null, ifname: null, mtu: null, operstate: null, ifalias: 'tunkitd' };
  assert.equal(linkMsgLen(r), 16 + 16 + 12);
  const out = new Uint8Array(linkMsgLen(r)).fill(0xa5);
  const w = new NlMsg();
  w.bind(out, 0, out.length);
  emitLink({ type: RTM_NEWLINK, flags: 5, seq: 1, pid: 0 }, r, w);
  assert.equal(toHex(out.subarray(32)), '0c001400' + Buffer.from('tunkitd\0').toString('hex'));
  assert.equal(out[20], 7, 'ifi_index');
  assert.ok(w.wrap(out));
  assert.deepEqual(parseLink(w), r);
});

test('round trip: parse → emit → parse of every request and reply', () => {
  for (const [name, c] of [...REQUESTS, ...REPLIES]) {
    const m = wrapped(vec(name));
    const r1 = c.parse(m)!;
    assert.notEqual(r1, null, name);
    const out = new Uint8Array(c.len(r1));
    const w = new NlMsg();
    w.bind(out, 0, out.length);
    c.emit(parseNlHdr(m), r1, w);
    assert.ok(w.wrap(out), name);
    assert.deepEqual(c.parse(w), r1, name);
  }
});

test('fast-check: arbitrary bodies never throw; whatever parses re-emits identically', () => {
  const codecs = [ROUTE, LINK, ADDR] as Codec<unknown>[];
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (body) => {
    const b = new Uint8Array(16 + body.length);
    b.set(body, 16);
    b[0] = b.length & 0xff;
    b[1] = b.length >>> 8;
    const m = wrapped(b);
    for (const c of codecs) {
      const r = c.parse(m);
      if (r === null) continue;
      const out = new Uint8Array(c.len(r));
      const w = new NlMsg();
      w.bind(out, 0, out.length);
      c.emit(parseNlHdr(m), r, w);
      assert.ok(w.wrap(out));
      assert.deepEqual(c.parse(w), r);
    }
  }), { numRuns: 3000 });
});

test('fast-check: single-byte mutations of the captured replies never throw', () => {
  const bases = REPLIES.map(([n]) => vec(n));
  fc.assert(fc.property(fc.nat(bases.length - 1), fc.nat(2000), fc.nat(255), (k, i, x) => {
    const b = new Uint8Array(bases[k]!);
    b[i % b.length] = x;
    const m = new NlMsg();
    if (!m.wrap(b)) return;
    parseRoute(m); parseLink(m); parseAddr(m);
  }), { numRuns: 3000 });
});
