// Fuzzing every wire/ decoder (src/wire/*.ts, src/wire/ike/): mutated golden
// vectors and random bytes, placed at a random offset inside a larger buffer.
// For each input a decoder must
//   - never throw (style.md §4: bad input from the network is normal);
//   - read nothing outside b[off, off+len): the same input is decoded twice,
//     once surrounded by 0x00 and once by 0xff bytes, and everything the
//     decoder exposes (its verdict, every getter of the view, the parsed
//     Repr) must be identical;
//   - finish in bounded time (fuzz-harness.ts: no hang).
// Bounded here (FUZZ_RUNS unset); `npm run stress` runs 1,000,000 each.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseIp4 as parseIp4Text, parseIp6 as parseIp6Text } from '../../src/wire/addr.js';
import { fromHex } from '../../src/wire/bytes.js';
import { Drop, dropName } from '../../src/wire/drop.js';
import { EspPacket, EspTrailer, parseEsp } from '../../src/wire/esp.js';
import { EthFrame, parseEth, parseMac } from '../../src/wire/eth.js';
import { GrePacket, parseGre } from '../../src/wire/gre.js';
import { Icmp4Packet, parseIcmp4 } from '../../src/wire/icmp4.js';
import { Icmp6Packet, parseIcmp6 } from '../../src/wire/icmp6.js';
import { IkeDecodeError, parseIkeHeader } from '../../src/wire/ike/header.js';
import { parseMessage } from '../../src/wire/ike/message.js';
import { parseSaBody } from '../../src/wire/ike/sa.js';
import { parseTsBody } from '../../src/wire/ike/ts.js';
import { Ip4Packet, parseIp4 } from '../../src/wire/ip4.js';
import { Ip6Packet, parseIp6 } from '../../src/wire/ip6.js';
import { NlMsg, parseNlDone, parseNlErr, parseNlHdr } from '../../src/wire/netlink.js';
import { isPcapError, readPcap } from '../../src/wire/pcap.js';
import { formatPacket } from '../../src/wire/pretty.js';
import { parseRoute } from '../../src/wire/rtnetlink-route.js';
import { parseAddr, parseLink } from '../../src/wire/rtnetlink.js';
import { TcpHeader } from '../../src/wire/tcp.js';
import { parseUdp, UdpPacket } from '../../src/wire/udp.js';
import { parseVirtioNetHdr, VirtioNetHdr } from '../../src/wire/virtio-net.js';
import { loadBytes } from '../util/paths.js';
import { fuzz, fuzzRuns, packets } from './fuzz-harness.js';
import { frames, hexFields, ikeMessages, ip4Packets, ip4Payloads, PCAPS } from './fuzz-seeds.js';

/** Inputs per decoder in the normal suite. */
const BOUNDED = 1500;

// ---------------------------------------------------------------- observing a decoder

const getterCache = new Map<object, string[]>();

/** Names of the getters a view's class defines (`buffer` excluded: it is the whole underlying buffer). */
function getters(view: object): string[] {
  const proto = Object.getPrototypeOf(view) as object;
  let names = getterCache.get(proto);
  if (names === undefined) {
    names = Object.entries(Object.getOwnPropertyDescriptors(proto)).filter(([n, d]) => d.get !== undefined && n !== 'buffer').map(([n]) => n);
    getterCache.set(proto, names);
  }
  return names;
}

const replacer = (_k: string, v: unknown): unknown => (v instanceof Uint8Array ? `0x${Buffer.from(v.buffer, v.byteOffset, v.length).toString('hex')}` : v);
const show = (v: unknown): string => JSON.stringify(v, replacer) ?? 'undefined';

/** Every getter's value, as one string. */
function dump(view: object): string {
  let s = '';
  for (const n of getters(view)) s += `${n}=${show(Reflect.get(view, n))};`;
  return s;
}

/** What one decode exposed: the outcome's name and everything else observable. */
type Seen = readonly [outcome: string, detail: string];
type Decode = (b: Uint8Array, off: number, len: number) => Seen;

const drop = (d: Drop): Seen => [dropName(d), ''];

/**
 * One target: the input is decoded at offset `pre` of two buffers that
 * differ only outside the input (0x00 vs 0xff); the two views must agree.
 */
function target(name: string, seeds: readonly Uint8Array[], decode: Decode, minOutcomes: number): void {
  test(`fuzz ${name}: never throws, reads only its range`, (t) => {
    const arb = fc.tuple(packets(seeds), fc.nat(9), fc.nat(9));
    fuzz(t, `wire/${name}`, arb, ([p, pre, post]) => {
      const a = new Uint8Array(pre + p.length + post);
      const z = new Uint8Array(pre + p.length + post).fill(0xff);
      a.set(p, pre);
      z.set(p, pre);
      const x = decode(a, pre, p.length);
      const y = decode(z, pre, p.length);
      if (x[0] !== y[0] || x[1] !== y[1]) assert.fail(`${name} read outside its range: ${x[0]} ${x[1]} vs ${y[0]} ${y[1]}`);
      return x[0];
    }, { runs: fuzzRuns(BOUNDED), minOutcomes });
  });
}

// ---------------------------------------------------------------- the decoders

const ip4 = new Ip4Packet();
target('ip4', [...hexFields('ip4.json'), ...ip4Packets()], (b, off, len) => {
  const d = ip4.check(b, off, len);
  if (d !== Drop.None) return drop(d);
  const r = parseIp4(ip4);
  return [r === null ? 'no-repr' : `ok${ip4.verifyChecksum() ? '' : '-badsum'}`, dump(ip4) + show(r)];
}, 4);

const ip6 = new Ip6Packet();
target('ip6', [...hexFields('ip6.json'), ...hexFields('icmp6.json')], (b, off, len) => {
  const d = ip6.check(b, off, len);
  if (d !== Drop.None) return drop(d);
  const w = ip6.walkExtensions();
  const r = parseIp6(ip6);
  return [`walk-${dropName(w)}${r === null ? '-no-repr' : ''}`, dump(ip6) + show(r)];
}, 4);

const gre = new GrePacket();
target('gre', [...hexFields('gre.json'), ...ip4Payloads(['gre.pcap', 'gre-seq-csum.pcap'])], (b, off, len) => {
  const d = gre.check(b, off, len);
  if (d !== Drop.None) return drop(d);
  const sum = gre.hasChecksum ? String(gre.verifyChecksum()) : '-';
  const r = parseGre(gre);
  return [r === null ? 'no-repr' : `ok-csum${sum}`, dump(gre) + show(r)];
}, 4);

const udp = new UdpPacket();
target('udp', [...hexFields('udp.json'), ...ip4Payloads(['esp-udp.pcap'])], (b, off, len) => {
  const d = udp.check(b, off, len);
  if (d !== Drop.None) return drop(d);
  const r = parseUdp(udp);
  return [r === null ? 'no-repr' : 'ok', dump(udp) + show(r)];
}, 2);

const esp = new EspPacket();
const trailer = new EspTrailer();
target('esp', [...hexFields('esp.json'), ...ip4Payloads(['esp-gcm.pcap', 'esp-cbc.pcap'])], (b, off, len) => {
  // The trailer reader runs on the same bytes as if they were a decrypted plaintext.
  const td = trailer.read(b, off, len);
  const tr = td === Drop.None ? `pad=${trailer.padLen};nh=${trailer.nextHeader};n=${trailer.contentLen}` : dropName(td);
  if (td === Drop.None && trailer.contentLen + trailer.padLen + 2 !== len) assert.fail(`trailer lengths do not add up: ${tr} of ${len}`);
  const d = esp.check(b, off, len);
  if (d !== Drop.None) return [`${dropName(d)}/trailer-${td === Drop.None ? 'ok' : tr}`, tr];
  return [`ok/trailer-${td === Drop.None ? 'ok' : tr}`, dump(esp) + show(parseEsp(esp)) + tr];
}, 3);

const eth = new EthFrame();
target('eth', [...hexFields('eth.json'), ...PCAPS.flatMap(frames)], (b, off, len) => {
  const d = eth.check(b, off, len);
  if (d !== Drop.None) return drop(d);
  return [`ok-${eth.etherType > 0x5ff ? 'ethertype' : 'length'}`, dump(eth) + show(parseEth(eth))];
}, 2);

const icmp4 = new Icmp4Packet();
target('icmp4', hexFields('icmp4.json').concat(ip4Packets().map((p) => p.subarray(20))), (b, off, len) => {
  const d = icmp4.check(b, off, len);
  if (d !== Drop.None) return drop(d);
  const r = parseIcmp4(icmp4);
  return [`${r === null ? 'no-repr' : 'ok'}-${icmp4.verifyChecksum() ? 'sum' : 'badsum'}`, dump(icmp4) + show(r)];
}, 3);

const icmp6 = new Icmp6Packet();
target('icmp6', hexFields('icmp6.json').map((p) => (p[0]! >>> 4 === 6 && p.length > 40 ? p.subarray(40) : p)), (b, off, len) => {
  const d = icmp6.check(b, off, len);
  if (d !== Drop.None) return drop(d);
  const r = parseIcmp6(icmp6);
  return [r === null ? 'no-repr' : 'ok', dump(icmp6) + show(r)];
}, 2);

const tcp = new TcpHeader();
target('tcp', [hexFields('virtio-net.json')[0]!.subarray(10 + 20)], (b, off, len) => {
  if (!tcp.check(b, off, len)) return ['refused', ''];
  return ['ok', dump(tcp)];
}, 2);

const vnet = new VirtioNetHdr();
target('virtio-net', hexFields('virtio-net.json'), (b, off, len) => {
  if (!vnet.wrap(b, off, len)) return ['refused', ''];
  const r = parseVirtioNetHdr(vnet);
  return [`ok-gso${r.gsoType}`, dump(vnet) + show(r)];
}, 3);

const nl = new NlMsg();
target('netlink', hexFields('netlink.json'), (b, off, len) => {
  if (!nl.wrap(b, off, len)) return ['refused', ''];
  const parsed = [parseNlHdr(nl), parseNlErr(nl), parseNlDone(nl), parseRoute(nl), parseLink(nl), parseAddr(nl)];
  const which = parsed.map((x, i) => (x === null ? '' : 'hedrla'[i])).join('');
  return [`ok-${which}`, dump(nl) + show(parsed)];
}, 4);

const ikeSeeds = ikeMessages();
target('ike', ikeSeeds, (b, off, len) => {
  const h = parseIkeHeader(b, off, len);
  const m = parseMessage(b, off, len);
  // The SA and TS bodies decoded on their own, from the first payload body onward.
  const sa = parseSaBody(b, off + Math.min(len, 32), Math.max(0, len - 32));
  const ts = parseTsBody(b, off + Math.min(len, 32), Math.max(0, len - 32));
  const why = (x: unknown): string => (x instanceof IkeDecodeError ? x.why.split(/[\s:(]/)[0]! : 'ok');
  return [`hdr-${why(h)}/msg-${why(m)}`, show([h, m, sa, ts])];
}, 3);

target('pretty', [...PCAPS.flatMap(frames), ...ip4Packets()], (b, off, len) => {
  const link = (b[off] ?? 0) >>> 4 === 4 ? 'ip' : 'eth';
  const s = formatPacket(b, off, len, link);
  if (typeof s !== 'string' || s === '') assert.fail('formatPacket returned nothing');
  return [`${link}-${s.split(' | ').length}-layers`, s];
}, 4);

// ---------------------------------------------------------------- whole files and text

test('fuzz pcap: readPcap never throws on mutated captures; records stay inside the file', (t) => {
  const seeds = PCAPS.map((f) => loadBytes(`pcap/${f}`));
  fuzz(t, 'wire/pcap', packets(seeds, 200), (b) => {
    const f = readPcap(b);
    if (isPcapError(f)) return `error-${f.error.split(/[\s:]/)[0]!}`;
    for (const r of f.records) if (r.data.byteOffset + r.data.length > b.byteOffset + b.length) assert.fail('a record extends past the file');
    return `ok-${Math.min(f.records.length, 4)}`;
  }, { runs: fuzzRuns(BOUNDED), minOutcomes: 3 });
});

test('fuzz text: address, MAC and hex parsers give a value or null, never a throw', (t) => {
  const words = ['198.51.100.1', '2001:db8::1', '::ffff:192.0.2.1', '02:00:00:00:00:01', '0a0b0c', '::', '1.2.3', 'fe80::1%eth0', '0x10'];
  const mutate = fc.tuple(fc.constantFrom(...words), fc.array(fc.tuple(fc.nat(40), fc.constantFrom('', '.', ':', '0', '9', 'f', 'g', '%', ' ', '::', '256', '-', 'x')), { maxLength: 4 }))
    .map(([w, eds]) => eds.reduce((s, [i, c]) => s.substring(0, i % (s.length + 1)) + c + s.substring((i % (s.length + 1)) + (i & 1)), w));
  const arb = fc.oneof(mutate, fc.string({ maxLength: 48 }), fc.uint8Array({ maxLength: 24 }).map((b) => Buffer.from(b).toString('latin1')));
  fuzz(t, 'wire/text', arb, (s) => {
    const got = [parseIp4Text(s) !== null, parseIp6Text(s) !== null, parseMac(s) !== null, fromHex(s) !== null];
    return got.map((x, i) => (x ? 'v6mh'[i] : '')).join('') || 'none';
  }, { runs: fuzzRuns(BOUNDED), minOutcomes: 3 });
});
