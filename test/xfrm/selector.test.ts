// Flow decoding and selector matching: decode_session4 / decode_session6
// (net/xfrm/xfrm_policy.c, Linux 6.1), addr_match and
// __xfrm4/6_selector_match (include/net/xfrm.h), and the text parsers of
// addresses and prefixes (ConfigError naming the field).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { put16 } from '../../src/wire/bytes.js';
import { ConfigError } from '../../src/wire/errors.js';
import {
  anySelector, Flow, formatPrefix, makeSelector, parsePrefix, parseXAddr, prefixMatch, selectorEqual, selectorMatch, selectorSpec,
  xaddrEqual,
} from '../../src/xfrm/selector.js';
import type { SelectorSpec } from '../../src/xfrm/spec.js';
import { ip4, ip6 } from '../util/packets.js';

/** An IPv4 packet of `proto` whose transport header starts with `l4`. */
function v4(proto: number, l4: number[], fragWord = 0): Uint8Array {
  const p = ip4({ src: '192.0.2.3', dst: '203.0.113.7', proto, payloadLen: Math.max(l4.length, 0) });
  p.set(l4, 20);
  put16(p, 6, fragWord);
  return p;
}
/** An IPv6 packet: the given header chain (each [nextHeader, bytes]) then l4 bytes. */
function v6(first: number, chain: number[][], l4: number[]): Uint8Array {
  const body = [...chain.flat(), ...l4];
  const p = ip6({ src: '2001:db8::1', dst: '2001:db8:1::2', payloadLen: body.length, nextHeader: first });
  p.set(body, 40);
  return p;
}
function decode(p: Uint8Array, ifindex = 0): Flow {
  const f = new Flow();
  assert.equal(f.decode(p, 0, p.length, ifindex), true);
  return f;
}
const ports = (f: Flow): number[] => [f.proto, f.sport, f.dport];

test('decode_session4: TCP/UDP/SCTP/DCCP/UDP-Lite ports; ICMP type and code in sport/dport; other protocols none', () => {
  for (const proto of [6, 17, 132, 33, 136]) {
    assert.deepEqual(ports(decode(v4(proto, [0x30, 0x39, 0x01, 0xbb]))), [proto, 12345, 443], `proto ${proto}`);
  }
  assert.deepEqual(ports(decode(v4(1, [8, 3, 0, 0]))), [1, 8, 3]);
  assert.deepEqual(ports(decode(v4(50, [0x30, 0x39, 0x01, 0xbb]))), [50, 0, 0], 'ESP: no ports');
  assert.deepEqual(ports(decode(v4(6, [0x30, 0x39]))), [6, 0, 0], 'a truncated TCP header: no ports');
  const f = decode(v4(17, [0, 1, 0, 2]), 7);
  assert.equal(f.family, 4);
  assert.equal(f.ifindex, 7);
  assert.deepEqual([...f.buf.subarray(f.srcOff, f.srcOff + 4), ...f.buf.subarray(f.dstOff, f.dstOff + 4)], [192, 0, 2, 3, 203, 0, 113, 7]);
});

test('decode_session4 GRE: the key halves when K is set (after the checksum word when C is set); none without K', () => {
  assert.deepEqual(ports(decode(v4(47, [0x20, 0, 0x08, 0, 0x12, 0x34, 0x56, 0x78]))), [47, 0x1234, 0x5678]);
  assert.deepEqual(ports(decode(v4(47, [0xa0, 0, 0x08, 0, 0xde, 0xad, 0, 0, 0xab, 0xcd, 0xef, 0x01]))), [47, 0xabcd, 0xef01]);
  assert.deepEqual(ports(decode(v4(47, [0x00, 0, 0x08, 0, 0x12, 0x34, 0x56, 0x78]))), [47, 0, 0]);
  assert.deepEqual(ports(decode(v4(47, [0x20, 0, 0x08, 0, 0x12]))), [47, 0, 0], 'key word cut off');
});

test('decode_session4: ip_is_fragment (MF or an offset) → protocol only, no ports, first fragment included', () => {
  const tcp = [0x30, 0x39, 0x01, 0xbb];
  assert.deepEqual(ports(decode(v4(6, tcp, 0x4000))), [6, 12345, 443], 'DF alone is not a fragment');
  assert.deepEqual(ports(decode(v4(6, tcp, 0x2000))), [6, 0, 0], 'first fragment (MF, offset 0)');
  assert.deepEqual(ports(decode(v4(6, tcp, 0x0010))), [6, 0, 0], 'later fragment');
});

test('Flow.decode refuses what is not an IPv4/IPv6 header', () => {
  const f = new Flow();
  const good = v4(6, [0, 0, 0, 0]);
  assert.equal(f.decode(good, 0, 0, 0), false, 'empty');
  assert.equal(f.decode(good, 0, 19, 0), false, 'shorter than 20');
  const ihl4 = good.slice(); ihl4[0] = 0x44;
  assert.equal(f.decode(ihl4, 0, ihl4.length, 0), false, 'IHL < 5');
  const ihlBig = good.slice(); ihlBig[0] = 0x4f;
  assert.equal(f.decode(ihlBig, 0, ihlBig.length, 0), false, 'IHL past the end');
  const ver5 = good.slice(); ver5[0] = 0x55;
  assert.equal(f.decode(ver5, 0, ver5.length, 0), false, 'version 5');
  const six = ip6({ payloadLen: 0 });
  assert.equal(f.decode(six, 0, 39, 0), false, 'IPv6 shorter than 40');
});

test('decode_session6: hop-by-hop, routing and destination options are skipped to the transport header', () => {
  const tcp = [0x00, 0x50, 0x1f, 0x90];
  assert.deepEqual(ports(decode(v6(6, [], tcp))), [6, 80, 8080]);
  const hop = [43, 0, 1, 4, 0, 0, 0, 0]; // → routing, 8 bytes
  const rt = [60, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]; // → dstopts, 16 bytes
  const dst = [17, 0, 1, 4, 0, 0, 0, 0]; // → UDP
  const f = decode(v6(0, [hop, rt, dst], [0x13, 0x88, 0x13, 0x89]));
  assert.deepEqual(ports(f), [17, 5000, 5001]);
  assert.equal(f.family, 6);
  assert.deepEqual([...f.buf.subarray(f.dstOff, f.dstOff + 4)], [0x20, 0x01, 0x0d, 0xb8]);
  assert.equal(f.buf[f.dstOff + 5], 1);
  assert.deepEqual(ports(decode(v6(58, [], [135, 0, 0, 0]))), [58, 135, 0], 'ICMPv6 type/code');
  assert.deepEqual(ports(decode(v6(0, [[6, 0, 1, 4, 0, 0, 0, 0]], []))), [6, 0, 0], 'no room for ports');
});

test('decode_session6: after a fragment header only the protocol is kept (onlyproto), first fragment or not', () => {
  const first = [6, 0, 0x00, 0x01, 0, 0, 0, 1]; // offset 0, M
  const later = [6, 0, 0x05, 0x00, 0, 0, 0, 1]; // offset 160
  for (const frag of [first, later]) {
    assert.deepEqual(ports(decode(v6(44, [frag], [0x00, 0x50, 0x1f, 0x90]))), [6, 0, 0]);
  }
  const hop = [44, 0, 1, 4, 0, 0, 0, 0];
  assert.deepEqual(ports(decode(v6(0, [hop, first], [0x00, 0x50, 0x1f, 0x90]))), [6, 0, 0]);
});

test('addr_match: prefix lengths that are not byte multiples compare the leading bits only', () => {
  const p = parsePrefix('sel.src', '192.0.2.0/25');
  assert.equal(prefixMatch(p, Uint8Array.of(192, 0, 2, 0x7f), 0), true);
  assert.equal(prefixMatch(p, Uint8Array.of(192, 0, 2, 0x80), 0), false);
  const q = parsePrefix('sel.src', '2001:db8:8000::/33');
  const a = parseXAddr('x', '2001:db8:ffff::1').bytes;
  const b = parseXAddr('x', '2001:db8:7fff::1').bytes;
  assert.deepEqual([prefixMatch(q, a, 0), prefixMatch(q, b, 0)], [true, false]);
  assert.equal(prefixMatch(parsePrefix('x', '0.0.0.0/0'), Uint8Array.of(1, 2, 3, 4), 0), true);
  assert.equal(prefixMatch(parsePrefix('x', '192.0.2.1/31'), Uint8Array.of(192, 0, 2, 0), 0), true);
  assert.equal(prefixMatch(parsePrefix('x', '192.0.2.1/32'), Uint8Array.of(192, 0, 2, 0), 0), false);
  assert.equal(formatPrefix(parsePrefix('x', '2001:db8::/127')), '2001:db8::/127');
});

const sel = (s: SelectorSpec, ifindexOf: (d: string) => number | null = () => null): ReturnType<typeof makeSelector> => makeSelector('sel', s, ifindexOf);

test('__xfrm4_selector_match: addresses, proto, port masks, ICMP type/code, dev (ifindex)', () => {
  const f = decode(v4(6, [0x30, 0x39, 0x01, 0xbb]), 3);
  // f is 192.0.2.3 > 203.0.113.7; each refused prefix is the matching one's neighbour, differing in its last bit only.
  assert.equal(selectorMatch(sel({ src: '192.0.2.0/30', dst: '203.0.113.0/29' }), f), true);
  assert.equal(selectorMatch(sel({ src: '192.0.2.0/30', dst: '203.0.113.8/29' }), f), false, 'dst');
  assert.equal(selectorMatch(sel({ src: '192.0.2.4/30', dst: '0.0.0.0/0' }), f), false, 'src');
  assert.equal(selectorMatch(sel({ src: '0.0.0.0/0', dst: '0.0.0.0/0', proto: 6, dport: 443 }), f), true);
  assert.equal(selectorMatch(sel({ src: '0.0.0.0/0', dst: '0.0.0.0/0', proto: 17 }), f), false, 'proto');
  assert.equal(selectorMatch(sel({ src: '0.0.0.0/0', dst: '0.0.0.0/0', dport: 444 }), f), false, 'dport');
  assert.equal(selectorMatch(sel({ src: '0.0.0.0/0', dst: '0.0.0.0/0', sport: 12345, sportMask: 0xffff }), f), true);
  assert.equal(selectorMatch(sel({ src: '0.0.0.0/0', dst: '0.0.0.0/0', sport: 12344 }), f), false, 'sport');
  assert.equal(selectorMatch(sel({ src: '0.0.0.0/0', dst: '0.0.0.0/0', dport: 0x0100, dportMask: 0xff00 }), f), true, 'masked port');
  assert.equal(selectorMatch(sel({ src: '0.0.0.0/0', dst: '0.0.0.0/0', dev: 'eth0' }, () => 3), f), true, 'dev');
  assert.equal(selectorMatch(sel({ src: '0.0.0.0/0', dst: '0.0.0.0/0', dev: 'eth1' }, () => 4), f), false, 'other dev');
  const icmp = decode(v4(1, [3, 4, 0, 0]));
  assert.equal(selectorMatch(sel({ src: '0.0.0.0/0', dst: '0.0.0.0/0', proto: 1, sport: 3, dport: 4 }), icmp), true, 'type 3 code 4');
  assert.equal(selectorMatch(sel({ src: '0.0.0.0/0', dst: '0.0.0.0/0', proto: 1, sport: 8 }), icmp), false);
  assert.equal(selectorMatch(sel({ src: '::/0', dst: '::/0' }), f), false, 'other family');
});

test('family 0 (AF_UNSPEC) selectors match either family, but only as wildcards', () => {
  const f4 = decode(v4(6, [0, 1, 0, 2]));
  const f6 = decode(v6(6, [], [0, 1, 0, 2]));
  const any = anySelector(0);
  assert.deepEqual([selectorMatch(any, f4), selectorMatch(any, f6)], [true, true]);
  assert.deepEqual([selectorMatch(anySelector(4), f6), selectorMatch(anySelector(6), f4), selectorMatch(anySelector(6), f6)], [false, false, true]);
  const narrowed = { ...any, dst: parsePrefix('x', '203.0.113.0/24') }; // f4's destination is inside it
  assert.equal(selectorMatch(narrowed, f4), false, 'an AF_UNSPEC selector with a prefix matches nothing');
  assert.equal(selectorMatch({ ...any, proto: 17 }, f4), false, 'proto still applies');
  const v6sel = sel({ src: '2001:db8::/32', dst: '2001:db8:1::/48', proto: 6, sport: 1 });
  assert.equal(selectorMatch(v6sel, f6), true);
  assert.equal(selectorMatch({ ...v6sel, dst: parsePrefix('x', '2001:db8:2::/48') }, f6), false);
});

test('parseXAddr / parsePrefix / makeSelector: every refusal is a ConfigError naming its field', () => {
  const field = (fn: () => unknown, name: string): void => {
    assert.throws(fn, (e: unknown) => e instanceof ConfigError && e.field === name && e.code === 'EINVAL', name);
  };
  field(() => parseXAddr('src', 7), 'src');
  field(() => parseXAddr('tmpl[0].dst', '300.1.1.1'), 'tmpl[0].dst');
  field(() => parsePrefix('sel.src', undefined), 'sel.src');
  field(() => parsePrefix('sel.src', '192.0.2.0/33'), 'sel.src');
  field(() => parsePrefix('sel.dst', '2001:db8::/129'), 'sel.dst');
  field(() => parsePrefix('sel.dst', '192.0.2.0/x'), 'sel.dst');
  field(() => parsePrefix('sel.dst', '192.0.2.0/'), 'sel.dst');
  field(() => parsePrefix('sel.dst', 'nothing/8'), 'sel.dst');
  assert.equal(parsePrefix('x', '2001:db8::1').plen, 128, 'a bare address is a host prefix');
  assert.equal(parsePrefix('x', '192.0.2.1').plen, 32);
  field(() => makeSelector('sel', null as unknown as SelectorSpec, () => null), 'sel');
  field(() => sel({ src: '192.0.2.0/24', dst: '::/0' }), 'sel.dst');
  field(() => sel({ src: '0.0.0.0/0', dst: '0.0.0.0/0', proto: 256 }), 'sel.proto');
  field(() => sel({ src: '0.0.0.0/0', dst: '0.0.0.0/0', sport: 65536 }), 'sel.sport');
  field(() => sel({ src: '0.0.0.0/0', dst: '0.0.0.0/0', dport: -1 }), 'sel.dport');
  field(() => sel({ src: '0.0.0.0/0', dst: '0.0.0.0/0', dportMask: 1.5 }), 'sel.dportMask');
  field(() => sel({ src: '0.0.0.0/0', dst: '0.0.0.0/0', dev: 'nope' }), 'sel.dev');
});

test('selectorSpec / selectorEqual: back to the JSON form; equality field by field (xfrm_policy_insert key)', () => {
  const s = sel({ src: '192.0.2.0/25', dst: '203.0.113.0/24', proto: 6, dport: 443, dev: 'eth0' }, () => 3);
  assert.deepEqual(selectorSpec(s, (ix) => (ix === 3 ? 'eth0' : null)), { src: '192.0.2.0/25', dst: '203.0.113.0/24', proto: 6, dport: 443, dportMask: 0xffff, dev: 'eth0' });
  assert.deepEqual(selectorSpec(sel({ src: '::/0', dst: '::/0', sport: 5 }), () => null), { src: '::/0', dst: '::/0', sport: 5, sportMask: 0xffff });
  assert.equal(selectorEqual(s, sel({ src: '192.0.2.0/25', dst: '203.0.113.0/24', proto: 6, dport: 443, dev: 'x' }, () => 3)), true);
  assert.equal(selectorEqual(s, sel({ src: '192.0.2.0/25', dst: '203.0.113.0/24', proto: 6, dport: 443 })), false, 'ifindex');
  assert.equal(selectorEqual(s, sel({ src: '192.0.2.0/26', dst: '203.0.113.0/24', proto: 6, dport: 443, dev: 'x' }, () => 3)), false, 'plen');
  // The IPv6 address ends in the IPv4 one's 32 bits (192.0.2.1 = c000:201).
  assert.equal(xaddrEqual(parseXAddr('a', '192.0.2.1'), parseXAddr('b', '2001:db8::c000:201')), false, 'family differs');
});
