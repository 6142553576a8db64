import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatPacket, PRETTY_MAX_DEPTH } from '../../src/wire/pretty.js';
import { readPcap } from '../../src/wire/pcap.js';
import type { PcapFile } from '../../src/wire/pcap.js';
import { parseIp4, parseIp6 } from '../../src/wire/addr.js';
import { checksum16, pseudoSum6 } from '../../src/wire/checksum.js';
import { hex } from '../util/hex.js';
import { loadBytes } from '../util/paths.js';

// ---- hand-rolled packet builders (independent of the codecs under test) ----

const cat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
};
const u16 = (v: number): Uint8Array => new Uint8Array([v >>> 8, v & 255]);
const u32 = (v: number): Uint8Array => new Uint8Array([v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255]);
const a4 = (s: string): Uint8Array => u32(parseIp4(s)!);
const a6 = (s: string): Uint8Array => parseIp6(s)!;
const setCsum = (b: Uint8Array, at: number, c: number): Uint8Array => { b[at] = c >>> 8; b[at + 1] = c & 255; return b; };

interface Ip4Opts { ttl?: number; id?: number; flagsFrag?: number; tos?: number; opts?: Uint8Array; totalLen?: number }
function ip4(src: string, dst: string, proto: number, payload: Uint8Array, o: Ip4Opts = {}): Uint8Array {
  const opts = o.opts ?? new Uint8Array(0);
  const hl = 20 + opts.length;
  const h = cat(
    new Uint8Array([0x40 | (hl >>> 2), o.tos ?? 0]), u16(o.totalLen ?? hl + payload.length), u16(o.id ?? 1),
    u16(o.flagsFrag ?? 0x4000), new Uint8Array([o.ttl ?? 64, proto, 0, 0]), a4(src), a4(dst), opts,
  );
  return cat(setCsum(h, 10, checksum16(h, 0, hl)), payload);
}
function icmp4(type: number, code: number, rest: number, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const m = cat(new Uint8Array([type, code, 0, 0]), u32(rest), data);
  return setCsum(m, 2, checksum16(m, 0, m.length));
}
function ip6(src: string, dst: string, nh: number, payload: Uint8Array, tc = 0, flow = 0, plen = payload.length): Uint8Array {
  const w = ((6 << 28) | (tc << 20) | flow) >>> 0;
  return cat(u32(w), u16(plen), new Uint8Array([nh, 64]), a6(src), a6(dst), payload);
}
function icmp6(src: string, dst: string, type: number, code: number, rest: number, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const m = cat(new Uint8Array([type, code, 0, 0]), u32(rest), data);
  return setCsum(m, 2, checksum16(m, 0, m.length, pseudoSum6(a6(src), 0, a6(dst), 0, 58, m.length)));
}
const udp = (sport: number, dport: number, data: Uint8Array): Uint8Array =>
  cat(u16(sport), u16(dport), u16(8 + data.length), u16(0), data);
const ether = (type: number, payload: Uint8Array): Uint8Array =>
  cat(hex('e2494690ac34 525400000002'), u16(type), payload);
const ETH = 'Ether 52:54:00:00:00:02 > e2:49:46:90:ac:34 type';
const ECHO = icmp4(8, 0, (7 << 16) | 1, new Uint8Array(8));
const ECHO_S = 'ICMP echo-request id 7 seq 1';
const INNER = ip4('192.0.2.2', '192.0.2.1', 1, ECHO);
const INNER_S = `IPv4 192.0.2.2 > 192.0.2.1 ttl 64 id 1 DF proto 1 len 36 | ${ECHO_S}`;
const ESP = cat(u32(0x2002), u32(9), new Uint8Array(24));

const fmt = (b: Uint8Array, link: 'eth' | 'ip' = 'ip'): string => formatPacket(b, 0, b.length, link);
const golden = (name: string): PcapFile => {
  const f = readPcap(loadBytes(`pcap/${name}.pcap`));
  if ('error' in f) assert.fail(f.error);
  return f;
};

// ---- golden captures: expectations written from tcpdump's decode in
// /work/shared/linux-peer/proof/sample-output.txt ----

const OUTER = (id: number, proto: number, len: number): string =>
  `${ETH} 0x0800 | IPv4 198.51.100.2 > 198.51.100.1 ttl 64 id ${id} DF proto ${proto} len ${len}`;
const GOLDEN_FIRST: Record<string, string> = {
  ipip: `${OUTER(1802, 4, 104)} | IPv4 192.0.2.2 > 192.0.2.1 ttl 64 id 64108 DF proto 1 len 84 | ICMP echo-request id 172 seq 0`,
  gre: `${OUTER(16261, 47, 112)} | GRE flags K key 5 proto 0x0800 | IPv4 192.0.2.6 > 192.0.2.5 ttl 64 id 6122 DF proto 1 len 84 | ICMP echo-request id 204 seq 0`,
  'gre-seq-csum': `${OUTER(16902, 47, 120)} | GRE flags CKS csum 0x47fa key 5 seq 0 proto 0x0800 | IPv4 192.0.2.10 > 192.0.2.9 ttl 64 id 56272 DF proto 1 len 84 | ICMP echo-request id 236 seq 0`,
  sit: `${OUTER(10509, 41, 124)} | IPv6 2001:db8:4::2 > 2001:db8:4::1 hlim 64 flow 0x44228 next 58 len 64 | ICMPv6 echo-request id 268 seq 0`,
  'esp-gcm': `${OUTER(8674, 50, 140)} | ESP spi 0x00002002 seq 1 encrypted len 120`,
  'esp-cbc': `${OUTER(9694, 50, 156)} | ESP spi 0x00002002 seq 1 encrypted len 136`,
  'esp-udp': `${OUTER(10887, 17, 148)} | UDP 4500 > 4500 len 128 | ESP spi 0x00002002 seq 1 encrypted len 120`,
};

test('first packet of each golden pcap formats exactly (tcpdump decode as reference)', () => {
  for (const [name, want] of Object.entries(GOLDEN_FIRST)) {
    const r = golden(name).records[0]!;
    assert.equal(fmt(r.data, 'eth'), want, name);
  }
});

test('every golden packet decodes with no malformed marker; raw-IP link and offsets agree', () => {
  for (const name of Object.keys(GOLDEN_FIRST)) {
    for (const r of golden(name).records) {
      const line = fmt(r.data, 'eth');
      assert.doesNotMatch(line, /malformed/, `${name}: ${line}`);
      // The same packet without its Ethernet header, inside a bigger buffer.
      assert.equal(formatPacket(r.data, 14, r.data.length - 14, 'ip'), line.substring(line.indexOf(' | ') + 3));
    }
  }
});

test('GRE: TEB carries Ethernet; IPv6 payload; other protocol types stop; no-flag header', () => {
  const teb = ip4('198.51.100.2', '198.51.100.1', 47, cat(hex('20006558'), u32(7), ether(0x0800, INNER)));
  assert.equal(
    fmt(teb),
    `IPv4 198.51.100.2 > 198.51.100.1 ttl 64 id 1 DF proto 47 len 78 | GRE flags K key 7 proto 0x6558 | ${ETH} 0x0800 | ${INNER_S}`,
  );
  const v6 = ip6('2001:db8::1', '2001:db8::2', 58, icmp6('2001:db8::1', '2001:db8::2', 129, 0, 0x00010002));
  assert.match(fmt(ip4('198.51.100.2', '198.51.100.1', 47, cat(hex('000086dd'), v6))), /\| GRE proto 0x86dd \| IPv6 2001:db8::1 > 2001:db8::2 hlim 64 next 58 len 8 \| ICMPv6 echo-reply id 1 seq 2$/);
  assert.match(fmt(ip4('198.51.100.2', '198.51.100.1', 47, cat(hex('000088be'), new Uint8Array(8)))), /\| GRE proto 0x88be$/);
});

test('GRE malformed: version, routing, truncated options, bad checksum', () => {
  const g = (h: string): string => fmt(ip4('198.51.100.2', '198.51.100.1', 47, hex(h)));
  assert.match(g('00010800'), /\| GRE \[malformed: GreVersion\]$/);
  assert.match(g('40000800'), /\| GRE \[malformed: GreRouting\]$/);
  assert.match(g('b0000800 0000'), /\| GRE \[malformed: Truncated\]$/);
  assert.match(g('80000800 1234 0000'), /\| GRE flags C csum 0x1234 proto 0x0800 \[malformed: GreChecksum\] \| IPv4 \[malformed: Truncated\]$/);
});

test('IPIP and IPv6-in-IPv4 nesting; depth cap stops hostile nesting', () => {
  assert.equal(fmt(ip4('198.51.100.2', '198.51.100.1', 4, INNER)), `IPv4 198.51.100.2 > 198.51.100.1 ttl 64 id 1 DF proto 4 len 56 | ${INNER_S}`);
  let p = INNER;
  for (let i = 0; i < 20; i++) p = ip4('203.0.113.1', '203.0.113.2', 4, p);
  const segs = fmt(p).split(' | ');
  assert.equal(segs.length, PRETTY_MAX_DEPTH + 1);
  assert.equal(segs[PRETTY_MAX_DEPTH], '[depth limit]');
  let q = ether(0x0800, INNER);
  for (let i = 0; i < 10; i++) q = ether(0x0800, ip4('203.0.113.1', '203.0.113.2', 47, cat(hex('00006558'), q)));
  assert.match(fmt(q, 'eth'), /^(Ether [^|]+ \| IPv4 [^|]+ \| GRE proto 0x6558 \| ){2}Ether [^|]+ \| IPv4 [^|]+ \| \[depth limit\]$/);
});

test('IPv4: tos, options, fragments (first is decoded leniently, later ones stop), bad checksum', () => {
  const big = udp(5000, 53, new Uint8Array(40));
  const first = ip4('192.0.2.1', '192.0.2.2', 17, big.subarray(0, 24), { flagsFrag: 0x2000, tos: 0xb8, opts: hex('01010100') });
  assert.equal(fmt(first), 'IPv4 192.0.2.1 > 192.0.2.2 tos 0xb8 ttl 64 id 1 MF proto 17 len 48 opts 4 | UDP 5000 > 53 len 48');
  const later = ip4('192.0.2.1', '192.0.2.2', 17, big.subarray(24), { flagsFrag: 3 });
  assert.equal(fmt(later), 'IPv4 192.0.2.1 > 192.0.2.2 ttl 64 id 1 frag 24 proto 17 len 44');
  const c = new Uint8Array(INNER);
  c[10]! ^= 1;
  assert.equal(fmt(c), `IPv4 192.0.2.2 > 192.0.2.1 ttl 64 id 1 DF proto 1 len 36 [malformed: BadIpChecksum] | ${ECHO_S}`);
});

test('IPv4/IPv6 malformed headers: every check() Drop shows, with the header when readable', () => {
  assert.equal(fmt(new Uint8Array(0)), 'IPv4 [malformed: Truncated]');
  assert.equal(fmt(hex('4500')), 'IPv4 [malformed: Truncated]');
  assert.equal(fmt(new Uint8Array(20).fill(0x55)), 'IP version 5 [malformed: BadVersion]');
  const hl = new Uint8Array(INNER); hl[0] = 0x44;
  assert.equal(fmt(hl), 'IPv4 192.0.2.2 > 192.0.2.1 ttl 64 id 1 DF proto 1 len 36 [malformed: BadHeaderLen]');
  assert.equal(fmt(INNER.subarray(0, 30)), 'IPv4 192.0.2.2 > 192.0.2.1 ttl 64 id 1 DF proto 1 len 36 [malformed: BadTotalLen]');
  assert.equal(fmt(new Uint8Array(39).fill(0x60)), 'IPv6 [malformed: Truncated]');
  assert.match(fmt(ip6('::1', '::2', 59, new Uint8Array(0), 0, 0, 8)), /^IPv6 ::1 > ::2 hlim 64 next 59 len 8 \[malformed: BadTotalLen\]$/);
  assert.equal(fmt(ip6('::1', '::2', 59, new Uint8Array(0), 0x2e, 5)), 'IPv6 ::1 > ::2 hlim 64 tc 0x2e flow 0x5 next 59 len 0 | no-next-header');
});

test('IPv6 extension headers: HopOpts, Routing, DstOpts, AH, Fragment; non-first fragment stops', () => {
  const src = '2001:db8::1';
  const dst = '2001:db8::2';
  const echo = icmp6(src, dst, 128, 0, 0x00050006);
  const chain = cat(hex('2b00 010400000000'), hex('3c02 0001 00000000 0000000000000000 0000000000000000'),
    hex('3300 0100 00000000'), hex('2c02 0000 0000abcd 00000009 00000000'), hex('3a00 0001 deadbeef'), echo);
  const line = fmt(ip6(src, dst, 0, chain));
  assert.equal(line, [
    `IPv6 ${src} > ${dst} hlim 64 next 0 len ${chain.length}`, 'HopOpts len 8 next 43',
    'Routing len 24 type 0 segleft 1 next 60', 'DstOpts len 8 next 51', 'AH spi 0x0000abcd seq 9 next 44',
    'Frag off 0 M id 0xdeadbeef next 58', 'ICMPv6 echo-request id 5 seq 6',
  ].join(' | '));
  const shortAh = fmt(ip6(src, dst, 51, cat(hex('3b00 0000 00000001'))));
  assert.match(shortAh, /\| AH spi 0x00000001 next 59 \| no-next-header$/);
  const later = fmt(ip6(src, dst, 44, cat(hex('1100 0239 00000001'), new Uint8Array(16))));
  assert.equal(later, `IPv6 ${src} > ${dst} hlim 64 next 44 len 24 | Frag off 568 M id 0x00000001 next 17`);
  assert.match(fmt(ip6(src, dst, 0, hex('3a05 0000 00000000'))), /next 0 len 8 \[malformed: BadExtHeader\]$/);
  assert.match(fmt(ip6(src, dst, 140, cat(hex('3b00 0000 00000000')))), /\| Shim6 len 8 next 59 \| no-next-header$/);
});

test('UDP: NAT-T keepalive, non-ESP marker + IKE, ESP-in-UDP, IKE on 500, checksums', () => {
  const v4 = (u: Uint8Array): string => fmt(ip4('192.0.2.1', '192.0.2.2', 17, u)).split(' | ').slice(1).join(' | ');
  assert.equal(v4(udp(4500, 4500, hex('ff'))), 'UDP 4500 > 4500 len 9 | NAT-keepalive');
  const ike = cat(new Uint8Array(16), hex('21 20 22 08'), u32(0), u32(28));
  assert.equal(v4(udp(4500, 4500, cat(u32(0), ike))), 'UDP 4500 > 4500 len 40 | non-ESP marker | IKE IKE_SA_INIT I msgid 0 len 28');
  assert.equal(v4(udp(500, 500, cat(ike.subarray(0, 18), hex('2320'), u32(1), u32(28)))), 'UDP 500 > 500 len 36 | IKE IKE_AUTH R msgid 1 len 28');
  assert.equal(v4(udp(500, 1234, cat(ike.subarray(0, 18), hex('7700'), u32(1), u32(28)))), 'UDP 500 > 1234 len 36 | IKE exch 119 msgid 1 len 28');
  assert.equal(v4(udp(500, 500, new Uint8Array(4))), 'UDP 500 > 500 len 12 | IKE [malformed: Truncated]');
  assert.equal(v4(udp(4500, 4500, ESP)), 'UDP 4500 > 4500 len 40 | ESP spi 0x00002002 seq 9 encrypted len 32');
  assert.equal(v4(udp(4500, 4500, hex('0102'))), 'UDP 4500 > 4500 len 10 | ESP [malformed: Truncated]');
  assert.equal(v4(udp(1, 2, new Uint8Array(0))), 'UDP 1 > 2 len 8');
  const badLen = udp(1, 2, new Uint8Array(4)); badLen[5] = 99;
  assert.equal(v4(badLen), 'UDP [malformed: BadUdp]');
  assert.equal(v4(hex('0001')), 'UDP [malformed: Truncated]');
  const badSum = udp(1, 2, new Uint8Array(4)); badSum[7] = 1;
  assert.equal(v4(badSum), 'UDP 1 > 2 len 12 [malformed: BadUdp]');
  // IPv6 requires a checksum: zero is malformed there.
  assert.match(fmt(ip6('::1', '::2', 17, udp(1, 2, new Uint8Array(0)))), /\| UDP 1 > 2 len 8 \[malformed: BadUdp\]$/);
});

test('ESP direct, TCP, unknown protocol', () => {
  assert.match(fmt(ip4('192.0.2.1', '192.0.2.2', 50, ESP)), /\| ESP spi 0x00002002 seq 9 encrypted len 32$/);
  assert.match(fmt(ip4('192.0.2.1', '192.0.2.2', 50, hex('00'))), /\| ESP \[malformed: Truncated\]$/);
  assert.match(fmt(ip4('192.0.2.1', '192.0.2.2', 6, cat(u16(1234), u16(80), new Uint8Array(16)))), /\| TCP 1234 > 80 len 20$/);
  assert.match(fmt(ip4('192.0.2.1', '192.0.2.2', 6, hex('01'))), /\| TCP \[malformed: Truncated\]$/);
  assert.match(fmt(ip4('192.0.2.1', '192.0.2.2', 132, new Uint8Array(12))), /\| proto 132 len 12$/);
});

test('ICMP: names, codes, frag-needed MTU and the quoted packet (cut quote decoded leniently)', () => {
  const offending = ip4('198.51.100.2', '198.51.100.1', 47, cat(hex('20000800'), u32(5), INNER)).subarray(0, 28 + 8);
  const err = ip4('203.0.113.9', '198.51.100.2', 1, icmp4(3, 4, 1400, offending), { tos: 0xc0, flagsFrag: 0 });
  assert.equal(fmt(err), 'IPv4 203.0.113.9 > 198.51.100.2 tos 0xc0 ttl 64 id 1 proto 1 len 64 | ICMP dest-unreach frag-needed mtu 1400 | quoted IPv4 198.51.100.2 > 198.51.100.1 ttl 64 id 1 DF proto 47 len 64 | GRE flags K key 5 proto 0x0800 | IPv4 [malformed: Truncated]');
  const quotedUdp = ip4('192.0.2.1', '192.0.2.2', 17, udp(4500, 4500, ESP)).subarray(0, 28 + 8);
  assert.match(fmt(ip4('192.0.2.2', '192.0.2.1', 1, icmp4(3, 3, 0, quotedUdp))), /ICMP dest-unreach port-unreach \| quoted IPv4 192\.0\.2\.1 > 192\.0\.2\.2 .* \| UDP 4500 > 4500 len 40 \| ESP spi 0x00002002 seq 9 encrypted len 8$/);
  const cases: [Uint8Array, string][] = [
    [icmp4(0, 0, 0x00010002), 'ICMP echo-reply id 1 seq 2'],
    [icmp4(11, 1, 0), 'ICMP time-exceeded frag-reassembly'],
    [icmp4(5, 1, parseIp4('192.0.2.254')!), 'ICMP redirect host gw 192.0.2.254'],
    [icmp4(12, 0, 0x08000000), 'ICMP param-problem ptr 8'],
    [icmp4(3, 99, 0), 'ICMP dest-unreach code 99'],
    [icmp4(77, 3, 0), 'ICMP type 77 code 3'],
    [icmp4(13, 0, 0), 'ICMP timestamp'],
  ];
  for (const [m, want] of cases) assert.equal(fmt(ip4('192.0.2.1', '192.0.2.2', 1, m)).split(' | ').slice(1).join(' | '), want);
  const bad = icmp4(8, 0, 0); bad[2]! ^= 0xff;
  assert.match(fmt(ip4('192.0.2.1', '192.0.2.2', 1, bad)), /ICMP echo-request id 0 seq 0 \[malformed: BadIcmp\]$/);
  assert.match(fmt(ip4('192.0.2.1', '192.0.2.2', 1, hex('0800'))), /\| ICMP \[malformed: Truncated\]$/);
  // An error quoting an error does not recurse into the second quote.
  const nested = icmp4(3, 1, 0, ip4('192.0.2.2', '192.0.2.1', 1, icmp4(3, 1, 0, INNER)));
  assert.match(fmt(ip4('192.0.2.1', '192.0.2.2', 1, nested)), /\| quoted IPv4 [^|]+ \| ICMP dest-unreach host-unreach$/);
});

test('ICMPv6: packet-too-big with quote, codes, ND target, param problem, bad checksum', () => {
  const s = '2001:db8::1';
  const d = '2001:db8::2';
  const off = ip6(d, s, 17, udp(4500, 4500, ESP)).subarray(0, 48 + 8);
  const ptb = fmt(ip6(s, d, 58, icmp6(s, d, 2, 0, 1280, off)));
  assert.equal(ptb, `IPv6 ${s} > ${d} hlim 64 next 58 len 64 | ICMPv6 packet-too-big mtu 1280 | quoted IPv6 ${d} > ${s} hlim 64 next 17 len 40 | UDP 4500 > 4500 len 40 | ESP spi 0x00002002 seq 9 encrypted len 8`);
  const quotedExt = ip6(d, s, 0, cat(hex('3a00 0000 00000000'), new Uint8Array(8))).subarray(0, 50);
  assert.match(fmt(ip6(s, d, 58, icmp6(s, d, 1, 4, 0, quotedExt))), /ICMPv6 dest-unreach port-unreach \| quoted IPv6 [^|]+ next 0 len 16$/);
  const cases: [Uint8Array, string][] = [
    [icmp6(s, d, 4, 1, 40), 'ICMPv6 param-problem unknown-next-header ptr 40'],
    [icmp6(s, d, 3, 0, 0), 'ICMPv6 time-exceeded hop-limit'],
    [icmp6(s, d, 135, 0, 0, a6('2001:db8::99')), 'ICMPv6 neighbor-solicit target 2001:db8::99'],
    [icmp6(s, d, 133, 0, 0), 'ICMPv6 router-solicit'],
    [icmp6(s, d, 200, 1, 0), 'ICMPv6 type 200 code 1'],
    [icmp6(s, d, 1, 9, 0), 'ICMPv6 dest-unreach code 9'],
  ];
  for (const [m, want] of cases) assert.equal(fmt(ip6(s, d, 58, m)).split(' | ').slice(1).join(' | '), want);
  const bad = icmp6(s, d, 128, 0, 0); bad[3]! ^= 1;
  assert.match(fmt(ip6(s, d, 58, bad)), /\[malformed: BadIcmp\]$/);
  assert.match(fmt(ip6(s, d, 58, hex('8000'))), /\| ICMPv6 \[malformed: Truncated\]$/);
  // ICMPv6 straight over IPv4 has no pseudo-header: decoded, no checksum verdict.
  assert.match(fmt(ip4('192.0.2.1', '192.0.2.2', 58, icmp6(s, d, 128, 0, 0x00010001))), /\| ICMPv6 echo-request id 1 seq 1$/);
});

test('Ethernet: too short, 802.1Q tag, ARP, unknown EtherType', () => {
  assert.equal(fmt(new Uint8Array(13), 'eth'), 'Ether [malformed: BadEthernet]');
  assert.equal(fmt(ether(0x8100, cat(u16(0x2064), u16(0x0800), INNER)), 'eth'), `${ETH} 0x8100 | VLAN 100 pcp 1 type 0x0800 | ${INNER_S}`);
  assert.equal(fmt(ether(0x8100, hex('00')), 'eth'), `${ETH} 0x8100 | VLAN [malformed: Truncated]`);
  const arp = (op: number): Uint8Array => cat(hex('0001 0800 0604'), u16(op), hex('525400000002'), a4('192.0.2.2'), new Uint8Array(6), a4('192.0.2.1'));
  assert.equal(fmt(ether(0x0806, arp(1)), 'eth'), `${ETH} 0x0806 | ARP who-has 192.0.2.1 tell 192.0.2.2`);
  assert.equal(fmt(ether(0x0806, arp(2)), 'eth'), `${ETH} 0x0806 | ARP reply 192.0.2.2 is-at 52:54:00:00:00:02`);
  assert.equal(fmt(ether(0x0806, arp(9)), 'eth'), `${ETH} 0x0806 | ARP op 9`);
  assert.equal(fmt(ether(0x0806, hex('0001')), 'eth'), `${ETH} 0x0806 | ARP [malformed: Truncated]`);
  assert.equal(fmt(ether(0x88cc, new Uint8Array(10)), 'eth'), `${ETH} 0x88cc`);
});

test('bad arguments return a marker instead of throwing', () => {
  const b = new Uint8Array(10);
  for (const [o, l] of [[-1, 2], [0, 11], [5, 6], [1.5, 2], [0, NaN], [NaN, 0]] as const) {
    assert.equal(formatPacket(b, o, l, 'ip'), '[malformed: Truncated]');
  }
});

// ---- properties ----

const linkArb = fc.constantFrom<'eth' | 'ip'>('eth', 'ip');

test('fast-check: never throws for arbitrary bytes (0..300) in both link types, any off/len', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), linkArb, fc.nat(), fc.nat(), (b, link, x, y) => {
      assert.equal(typeof formatPacket(b, 0, b.length, link), 'string');
      const off = b.length === 0 ? 0 : x % (b.length + 1);
      const len = (b.length - off) === 0 ? 0 : y % (b.length - off + 1);
      assert.equal(typeof formatPacket(b, off, len, link), 'string');
    }),
    { numRuns: 3000 },
  );
});

test('fast-check: IP-looking random packets (version nibble 4/6, plausible lengths) never throw', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 20, maxLength: 300 }), fc.constantFrom(0x45, 0x46, 0x4f, 0x60), fc.constantFrom(0, 1, 4, 17, 41, 44, 47, 50, 58), (b, v, proto) => {
      const p = new Uint8Array(b);
      p[0] = v;
      if (v === 0x60 && p.length >= 40) { p[4] = (p.length - 40) >>> 8; p[5] = (p.length - 40) & 255; p[6] = proto; }
      else { p[2] = p.length >>> 8; p[3] = p.length & 255; p[9] = proto; p[6] = 0; p[7] = 0; }
      assert.equal(typeof fmt(p), 'string');
    }),
    { numRuns: 3000 },
  );
});

test('fast-check: mutations of golden packets never throw and never read outside [off, off+len)', () => {
  const packets = Object.keys(GOLDEN_FIRST).flatMap((n) => golden(n).records.map((r) => r.data));
  fc.assert(
    fc.property(
      fc.nat(packets.length - 1),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
      fc.nat(),
      fc.uint8Array({ minLength: 1, maxLength: 16 }),
      linkArb,
      (which, flips, cut, junk, link) => {
        const m = new Uint8Array(packets[which]!);
        for (const [i, v] of flips) m[i % m.length] = v;
        const n = cut % (m.length + 1);
        const alone = formatPacket(m.slice(0, n), 0, n, link);
        // Same bytes embedded between junk: identical output proves nothing outside the range was read.
        const framed = cat(junk, m.subarray(0, n), junk);
        assert.equal(formatPacket(framed, junk.length, n, link), alone);
      },
    ),
    { numRuns: 3000 },
  );
});
