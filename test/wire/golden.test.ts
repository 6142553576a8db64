// Golden vectors: every packet the real Linux 6.1 kernel emitted in the
// linux-peer captures (test/vectors/pcap/*.pcap, from
// shared/linux-peer/proof/captures) must parse at every layer and, re-emitted
// from the parsed Reprs into a 0xa5-filled buffer (checksums recomputed),
// reproduce the captured bytes exactly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { readPcap } from '../../src/wire/pcap.js';
import type { PcapFile } from '../../src/wire/pcap.js';
import { EthFrame, emitEth, parseEth } from '../../src/wire/eth.js';
import { Ip4Packet, emitIp4, parseIp4 } from '../../src/wire/ip4.js';
import { Ip6Packet, emitIp6, parseIp6 } from '../../src/wire/ip6.js';
import { GrePacket, emitGre, parseGre } from '../../src/wire/gre.js';
import { UdpPacket, emitUdp, parseUdp } from '../../src/wire/udp.js';
import { EspPacket, emitEsp, parseEsp } from '../../src/wire/esp.js';
import { Icmp4Packet, emitIcmp4, parseIcmp4 } from '../../src/wire/icmp4.js';
import { Icmp6Packet, emitIcmp6, parseIcmp6 } from '../../src/wire/icmp6.js';
import { Drop } from '../../src/wire/drop.js';
import { loadBytes, vectorPath } from '../util/paths.js';
import { filled } from '../util/hex.js';

/** Rebuilds src[off, off+len) into out at the same offset, layer by layer; returns the layer trail. */
type Ctx = { v4src: number; v4dst: number; v6: { buf: Uint8Array; src: number; dst: number } | null };

function copy(src: Uint8Array, out: Uint8Array, off: number, len: number): void {
  out.set(src.subarray(off, off + len), off);
}

function eth(src: Uint8Array, off: number, len: number, out: Uint8Array): string {
  const v = new EthFrame();
  assert.equal(v.check(src, off, len), Drop.None);
  const o = new EthFrame();
  o.bind(out, off, len);
  emitEth(parseEth(v), o);
  const t = v.etherType;
  const rest = t === 0x0800 || t === 0x86dd ? ip(src, off + 14, len - 14, out) : (copy(src, out, off + 14, len - 14), 'data');
  return `eth/${rest}`;
}

function ip(src: Uint8Array, off: number, len: number, out: Uint8Array): string {
  if (src[off]! >>> 4 === 4) {
    const v = new Ip4Packet();
    assert.equal(v.check(src, off, len), Drop.None);
    const r = parseIp4(v);
    assert.ok(r, 'IPv4 parses');
    const o = new Ip4Packet();
    o.bind(out, off, len);
    emitIp4(r, o);
    copy(src, out, off + v.totalLen, len - v.totalLen); // link-layer padding, if any
    return `ip4/${l4(r.protocol, src, v.payloadOffset, v.payloadLen, out, { v4src: r.src, v4dst: r.dst, v6: null })}`;
  }
  const v = new Ip6Packet();
  assert.equal(v.check(src, off, len), Drop.None);
  const r = parseIp6(v);
  assert.ok(r, 'IPv6 parses');
  const o = new Ip6Packet();
  o.bind(out, off, len);
  emitIp6(r, o);
  return `ip6/${l4(r.nextHeader, src, v.payloadOffset, r.payloadLen, out, { v4src: 0, v4dst: 0, v6: { buf: src, src: v.srcOffset, dst: v.dstOffset } })}`;
}

function l4(proto: number, src: Uint8Array, off: number, len: number, out: Uint8Array, c: Ctx): string {
  switch (proto) {
    case 4: case 41: return ip(src, off, len, out);
    case 1: return icmp4(src, off, len, out);
    case 58: return icmp6(src, off, len, out, c);
    case 47: return gre(src, off, len, out);
    case 50: return esp(src, off, len, out);
    case 17: return udp(src, off, len, out, c);
    default: copy(src, out, off, len); return `proto${proto}`;
  }
}

function icmp4(src: Uint8Array, off: number, len: number, out: Uint8Array): string {
  const v = new Icmp4Packet();
  assert.equal(v.check(src, off, len), Drop.None);
  assert.ok(v.verifyChecksum(), 'ICMP checksum');
  const r = parseIcmp4(v);
  assert.ok(r);
  const o = new Icmp4Packet();
  o.bind(out, off, len);
  emitIcmp4(r, o);
  copy(src, out, off + 8, len - 8);
  o.fillChecksum();
  return 'icmp4';
}

function icmp6(src: Uint8Array, off: number, len: number, out: Uint8Array, c: Ctx): string {
  const v = new Icmp6Packet();
  assert.equal(v.check(src, off, len), Drop.None);
  const a = c.v6!;
  assert.ok(v.verifyChecksum(a.buf, a.src, a.buf, a.dst), 'ICMPv6 checksum');
  const r = parseIcmp6(v);
  assert.ok(r);
  const o = new Icmp6Packet();
  o.bind(out, off, len);
  emitIcmp6(r, o);
  copy(src, out, off + 8, len - 8);
  o.fillChecksum(a.buf, a.src, a.buf, a.dst);
  return 'icmp6';
}

function gre(src: Uint8Array, off: number, len: number, out: Uint8Array): string {
  const v = new GrePacket();
  assert.equal(v.check(src, off, len), Drop.None);
  assert.ok(v.verifyChecksum(), 'GRE checksum (when present)');
  const r = parseGre(v);
  assert.ok(r);
  const o = new GrePacket();
  o.bind(out, off, len);
  emitGre(r, o);
  const p = r.protocolType;
  const inner = p === 0x6558 ? eth(src, v.payloadOffset, v.payloadLen, out)
    : p === 0x0800 || p === 0x86dd ? ip(src, v.payloadOffset, v.payloadLen, out)
      : (copy(src, out, v.payloadOffset, v.payloadLen), 'data');
  if (r.checksum) o.fillChecksum();
  return `gre${r.checksum ? 'C' : ''}${r.key !== null ? 'K' : ''}${r.seq !== null ? 'S' : ''}/${inner}`;
}

function esp(src: Uint8Array, off: number, len: number, out: Uint8Array): string {
  const v = new EspPacket();
  assert.equal(v.check(src, off, len), Drop.None);
  const o = new EspPacket();
  o.bind(out, off, len);
  emitEsp(parseEsp(v), o);
  copy(src, out, off + 8, len - 8); // IV, ciphertext, ICV: opaque here
  return 'esp';
}

function udp(src: Uint8Array, off: number, len: number, out: Uint8Array, c: Ctx): string {
  const v = new UdpPacket();
  assert.equal(v.check(src, off, len), Drop.None);
  assert.ok(v.verifyChecksum4(c.v4src, c.v4dst), 'UDP checksum (or none)');
  const r = parseUdp(v);
  assert.ok(r);
  const o = new UdpPacket();
  o.bind(out, off, len);
  emitUdp(r, o);
  const pay = v.payloadOffset;
  const plen = r.length - 8;
  let inner: string;
  if (r.dstPort === 4500 || r.srcPort === 4500) {
    const marker = plen >= 4 && src[pay] === 0 && src[pay + 1] === 0 && src[pay + 2] === 0 && src[pay + 3] === 0;
    inner = marker ? (copy(src, out, pay, plen), 'ike') : esp(src, pay, plen, out);
  } else {
    copy(src, out, pay, plen);
    inner = 'data';
  }
  if (v.checksum !== 0) o.fillChecksum4(c.v4src, c.v4dst);
  return `udp/${inner}`;
}

const files = readdirSync(vectorPath('pcap')).filter((f) => f.endsWith('.pcap')).sort();

test('golden captures exist', () => {
  assert.deepEqual(files, ['esp-cbc.pcap', 'esp-gcm.pcap', 'esp-udp.pcap', 'gre-seq-csum.pcap', 'gre.pcap', 'ipip.pcap', 'sit.pcap']);
});

/** The layer trail every packet of a capture must show (all six packets are encapsulated echo traffic). */
const TRAIL: Record<string, RegExp> = {
  'ipip.pcap': /^eth\/ip4\/ip4\/icmp4$/,
  'sit.pcap': /^eth\/ip4\/ip6\/icmp6$/,
  'gre.pcap': /^eth\/ip4\/greK\/ip4\/icmp4$/,
  'gre-seq-csum.pcap': /^eth\/ip4\/greCKS\/ip4\/icmp4$/,
  'esp-gcm.pcap': /^eth\/ip4\/esp$/,
  'esp-cbc.pcap': /^eth\/ip4\/esp$/,
  'esp-udp.pcap': /^eth\/ip4\/udp\/esp$/,
};

for (const f of files) {
  test(`golden ${f}: every packet parses and re-emits byte for byte`, () => {
    const file = readPcap(loadBytes(`pcap/${f}`));
    assert.ok(!('error' in file), `pcap reads: ${JSON.stringify(file)}`);
    const recs = (file as PcapFile).records;
    assert.equal(recs.length, 6);
    recs.forEach((rec, i) => {
      const out = filled(rec.data.length);
      const trail = eth(rec.data, 0, rec.data.length, out);
      assert.match(trail, TRAIL[f]!, `${f} #${i} trail`);
      assert.deepEqual(out, rec.data, `${f} #${i} re-emits identically`);
    });
  });
}
