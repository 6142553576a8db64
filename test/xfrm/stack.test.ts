// The xfrm core end to end: ESP packets a real Linux 6.1 kernel sent
// (test/vectors/pcap/esp-*.pcap, keys from shared/linux-peer/proof/
// tunnel_proof.py) decrypt through our input path and pass our policy
// check; two XfrmStacks configured as the two ends carry packets both ways
// in tunnel and transport mode, and the kernel's counters fire for the
// failure paths (unknown SPI, wrong key, replay, no SA, policy block).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { be16, be32 } from '../../src/wire/bytes.js';
import { readPcap } from '../../src/wire/pcap.js';
import type { PcapFile } from '../../src/wire/pcap.js';
import { makeSaConfig } from '../../src/xfrm/config.js';
import { XfrmStat } from '../../src/xfrm/mib.js';
import { XfrmResult, XVerdict } from '../../src/xfrm/result.js';
import type { PolicySpec, StateSpec } from '../../src/xfrm/spec.js';
import { XfrmStack } from '../../src/xfrm/xfrm.js';
import { loadBytes } from '../util/paths.js';
import { a4, icmp4Echo } from './helpers.js';

const HOST = '198.51.100.1';
const GUEST = '198.51.100.2';
const GCM_IN = '00112233445566778899aabbccddeeff01020304'; // we → guest (SPI 0x1001)
const GCM_OUT = 'ffeeddccbbaa99887766554433221100' + '05060708'; // guest → we (SPI 0x2002)
const CBC_ENC_OUT = 'f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff';
const CBC_AUTH_OUT = '22'.repeat(32);
const NOW = 1_700_000_000_000;

function addState(x: XfrmStack, s: StateSpec): void {
  x.sad.add(makeSaConfig(s, () => null), s, NOW);
}
function addPolicy(x: XfrmStack, p: PolicySpec): void {
  x.spd.insert(x.spd.make(p, () => null, NOW, 0), false);
}

const tunnelSa = (src: string, dst: string, spi: number, alg: Partial<StateSpec>): StateSpec =>
  ({ src, dst, proto: 'esp', spi, mode: 'tunnel', reqid: 1, replayWindow: 32, ...alg });
const tunnelPolicy = (dir: 'in' | 'out', src: string, dst: string, tsrc: string, tdst: string): PolicySpec =>
  ({ sel: { src, dst }, dir, tmpls: [{ src: tsrc, dst: tdst, proto: 'esp', mode: 'tunnel', reqid: 1 }] });

/** IPv4 packets of a pcap (Ethernet stripped), with copies we may decrypt in place (with headroom). */
function framesFrom(file: string, src: string): Uint8Array[] {
  const f = readPcap(loadBytes(`pcap/${file}`)) as PcapFile;
  return f.records.map((r) => r.data.subarray(14)).filter((ip) => be32(ip, 12) === a4(src));
}

for (const [file, alg, encap] of [
  ['esp-gcm.pcap', { aead: { name: 'rfc4106(gcm(aes))', keyHex: GCM_OUT, bits: 128 } }, false],
  ['esp-cbc.pcap', { enc: { name: 'cbc(aes)', keyHex: CBC_ENC_OUT }, auth: { name: 'hmac(sha256)', keyHex: CBC_AUTH_OUT, bits: 128 }, authTrunc: true }, false],
  ['esp-udp.pcap', { aead: { name: 'rfc4106(gcm(aes))', keyHex: GCM_OUT, bits: 128 }, encap: { type: 'espinudp', sport: 4500, dport: 4500, oa: '0.0.0.0' } }, true],
] as const) {
  test(`kernel ${file}: every packet the guest sent decrypts to an ICMP echo of 203.0.113.2 and passes the in policy`, () => {
    const x = new XfrmStack();
    addState(x, tunnelSa(GUEST, HOST, 0x2002, alg as Partial<StateSpec>));
    addPolicy(x, tunnelPolicy('in', '203.0.113.2/32', '203.0.113.1/32', GUEST, HOST));
    const frames = framesFrom(file, GUEST);
    assert.ok(frames.length >= 2, 'the capture holds the guest packets');
    const r = new XfrmResult();
    for (const f of frames) {
      const b = new Uint8Array(f.length + 64);
      b.set(f, 32);
      assert.equal(x.input(b, 32, f.length, 0, NOW, r), XVerdict.Deliver, `mib ${r.mib} drop ${r.drop}`);
      assert.equal(b[r.off]! >>> 4, 4);
      assert.equal(b[r.off + 9], 1, 'inner ICMP');
      assert.equal(be32(b, r.off + 12), a4('203.0.113.2'));
      assert.equal(be16(b, r.off + 2), r.len, 'inner total length = delivered length');
    }
    const st = x.sad.list()[0]!;
    assert.equal(st.curPackets, frames.length);
    assert.equal(encap, st.cfg.encap !== null);
    // The same packets again are replays: XfrmInStateSeqError, the per-SA replay counter.
    for (const f of frames) {
      const b = new Uint8Array(f.length + 64);
      b.set(f, 32);
      assert.equal(x.input(b, 32, f.length, 0, NOW, r), XVerdict.Drop);
      assert.equal(r.mib, XfrmStat.InStateSeqError);
    }
    assert.equal(x.mib.snapshot().XfrmInStateSeqError, frames.length);
    assert.equal(st.statReplay, frames.length);
  });
}

/** Two ends: A = 198.51.100.1 (inner 203.0.113.1), B = 198.51.100.2 (inner 203.0.113.2). */
function pair(alg: Partial<StateSpec>, mode: 'tunnel' | 'transport' = 'tunnel'): [XfrmStack, XfrmStack] {
  const a = new XfrmStack();
  const b = new XfrmStack();
  for (const [me, peer, stack, inner, peerInner] of [[HOST, GUEST, a, '203.0.113.1', '203.0.113.2'], [GUEST, HOST, b, '203.0.113.2', '203.0.113.1']] as const) {
    const outSpi = me === HOST ? 0x1001 : 0x2002;
    const inSpi = me === HOST ? 0x2002 : 0x1001;
    addState(stack, { ...tunnelSa(me, peer, outSpi, alg), mode });
    addState(stack, { ...tunnelSa(peer, me, inSpi, alg), mode });
    if (mode === 'tunnel') {
      addPolicy(stack, tunnelPolicy('out', `${inner}/32`, `${peerInner}/32`, me, peer));
      addPolicy(stack, tunnelPolicy('in', `${peerInner}/32`, `${inner}/32`, peer, me));
    } else {
      addPolicy(stack, { sel: { src: `${me}/32`, dst: `${peer}/32`, proto: 47 }, dir: 'out', tmpls: [{ proto: 'esp', mode: 'transport', reqid: 1 }] });
      addPolicy(stack, { sel: { src: `${peer}/32`, dst: `${me}/32`, proto: 47 }, dir: 'in', tmpls: [{ proto: 'esp', mode: 'transport', reqid: 1 }] });
    }
  }
  return [a, b];
}

/** Sends pkt from `from` to `to`; returns the delivered bytes (or throws with the reason). */
function cross(from: XfrmStack, to: XfrmStack, pkt: Uint8Array, isLocalTunnel = false): Uint8Array {
  const buf = new Uint8Array(4096);
  buf.set(pkt, 256);
  const r = new XfrmResult();
  assert.equal(from.output(buf, 256, pkt.length, 0, isLocalTunnel, NOW, r), XVerdict.Xmit, `out mib ${r.mib} drop ${r.drop}`);
  const wire = buf.subarray(r.off, r.off + r.len);
  const rb = new Uint8Array(4096);
  rb.set(wire, 128);
  const v = to.input(rb, 128, wire.length, 0, NOW, r);
  assert.equal(v, XVerdict.Deliver, `in mib ${r.mib} drop ${r.drop}`);
  return rb.subarray(r.off, r.off + r.len);
}

for (const [name, alg] of [
  ['aes-gcm-128', { aead: { name: 'rfc4106(gcm(aes))', keyHex: GCM_IN, bits: 128 } }],
  ['aes-gcm-256 icv 64', { aead: { name: 'rfc4106(gcm(aes))', keyHex: '11'.repeat(32) + 'aabbccdd', bits: 64 } }],
  ['chacha20-poly1305', { aead: { name: 'rfc7539esp(chacha20,poly1305)', keyHex: '22'.repeat(32) + '01020304', bits: 128 } }],
  ['cbc(aes) + hmac(sha256) 128', { enc: { name: 'cbc(aes)', keyHex: CBC_ENC_OUT }, auth: { name: 'hmac(sha256)', keyHex: CBC_AUTH_OUT, bits: 128 }, authTrunc: true }],
  ['cbc(aes)-256 + hmac(sha512) 256, esn', { enc: { name: 'cbc(aes)', keyHex: '33'.repeat(32) }, auth: { name: 'hmac(sha512)', keyHex: '44'.repeat(64), bits: 256 }, authTrunc: true, flags: ['esn'], replayWindow: 128 }],
] as const) {
  test(`tunnel mode ${name}: an ICMP echo crosses both ways unchanged; the outer header follows xfrm4_tunnel_encap_add`, () => {
    const [a, b] = pair(alg as Partial<StateSpec>);
    const ping = icmp4Echo('203.0.113.1', '203.0.113.2', 0x1234, 7, 100, 0x4000 | 0, 0x02);
    const got = cross(a, b, ping);
    assert.deepEqual([...got], [...ping]);
    const back = icmp4Echo('203.0.113.2', '203.0.113.1', 0x1234, 7, 1200, 0, 0x01);
    assert.deepEqual([...cross(b, a, back)], [...back]);
  });
}

test('tunnel mode outer header: TTL 64, TOS = inner DS with ECN encapsulated, DF copied, protocol 50, sequence from 1', () => {
  const [a] = pair({ aead: { name: 'rfc4106(gcm(aes))', keyHex: GCM_IN, bits: 128 } });
  const r = new XfrmResult();
  for (let i = 1; i <= 2; i++) {
    const ping = icmp4Echo('203.0.113.1', '203.0.113.2', 1, i, 56, 0x4000, 0xb8 | 3); // DSCP EF, CE
    const buf = new Uint8Array(2048);
    buf.set(ping, 256);
    assert.equal(a.output(buf, 256, ping.length, 0, false, NOW, r), XVerdict.Xmit);
    assert.equal(buf[r.off + 8], 64, 'ttl');
    assert.equal(buf[r.off + 1], 0xb8 | 2, 'CE becomes ECT(0) (INET_ECN_encapsulate)');
    assert.equal(be16(buf, r.off + 6), 0x4000, 'DF copied from the inner header');
    assert.equal(buf[r.off + 9], 50);
    assert.equal(be32(buf, r.off + 20), 0x1001);
    assert.equal(be32(buf, r.off + 24), i, 'ESP sequence numbers start at 1');
    // 20 outer + 8 ESP + 8 IV + 84 inner + 2 pad + 2 trailer + 16 ICV (84 + 2 rounds up to 88: 2 pad bytes).
    assert.equal(r.len, 20 + 8 + 8 + 84 + 2 + 2 + 16);
  }
});

test('transport mode (GRE over ESP): the IPv4 header stays, protocol 50, and the GRE packet comes out whole', () => {
  const [a, b] = pair({ aead: { name: 'rfc4106(gcm(aes))', keyHex: GCM_IN, bits: 128 } }, 'transport');
  const inner = icmp4Echo('192.0.2.1', '192.0.2.2', 9, 9, 40, 0, 0);
  const gre = new Uint8Array(20 + 4 + inner.length);
  gre.set(icmp4Echo(HOST, GUEST, 0, 0, 0, 0, 0).subarray(0, 20));
  gre[9] = 47;
  gre[2] = (gre.length >>> 8) & 0xff; gre[3] = gre.length & 0xff;
  gre[22] = 0x08; gre[23] = 0x00;
  gre.set(inner, 24);
  fixIpChecksum(gre);
  const got = cross(a, b, gre, true);
  assert.deepEqual([...got], [...gre]);
});

test('failure paths count the kernel MIB: no SA → XfrmOutNoStates + acquire; unknown SPI; wrong key; block policies', () => {
  const [a, b] = pair({ aead: { name: 'rfc4106(gcm(aes))', keyHex: GCM_IN, bits: 128 } });
  const r = new XfrmResult();
  const ping = icmp4Echo('203.0.113.1', '203.0.113.2', 1, 1, 56, 0, 0);
  const buf = new Uint8Array(2048);
  buf.set(ping, 256);
  a.sad.del(a.sad.list().find((s) => s.cfg.spi === 0x1001)!.cfg.dst, 0x1001);
  assert.equal(a.output(buf, 256, ping.length, 0, false, NOW, r), XVerdict.Drop);
  assert.equal(r.mib, XfrmStat.OutNoStates);
  assert.equal(a.events.filter((e) => e.kind === 'acquire').length, 1);
  assert.equal(a.output(buf, 256, ping.length, 0, false, NOW, r), XVerdict.Drop);
  assert.equal(a.events.filter((e) => e.kind === 'acquire').length, 1, 'one acquire while the larval state would live');
  assert.equal(a.mib.snapshot().XfrmOutNoStates, 2);
  // Unknown SPI at B: B's packet toward A with A lacking the in SA.
  const [c, d] = pair({ aead: { name: 'rfc4106(gcm(aes))', keyHex: GCM_IN, bits: 128 } });
  d.sad.flush();
  assert.throws(() => cross(c, d, ping));
  assert.equal(d.mib.snapshot().XfrmInNoStates, 1);
  // Wrong key: integrity failure.
  const [e] = pair({ aead: { name: 'rfc4106(gcm(aes))', keyHex: GCM_IN, bits: 128 } });
  const [, f] = pair({ aead: { name: 'rfc4106(gcm(aes))', keyHex: 'ff'.repeat(20), bits: 128 } });
  assert.throws(() => cross(e, f, ping));
  assert.equal(f.mib.snapshot().XfrmInStateProtoError, 1);
  assert.equal(f.sad.list().find((s) => s.cfg.spi === 0x1001)!.statIntegrityFailed, 1);
  // Priority ties go to the older policy; a lower priority value wins.
  b.spd.insert(b.spd.make({ sel: { src: '0.0.0.0/0', dst: '0.0.0.0/0' }, dir: 'out', action: 'block', priority: 0 }, () => null, NOW, 0), false);
  const pong = icmp4Echo('203.0.113.2', '203.0.113.1', 1, 1, 56, 0, 0);
  const send = (): number => {
    buf.set(pong, 256);
    return b.output(buf, 256, pong.length, 0, false, NOW, r);
  };
  assert.equal(send(), XVerdict.Xmit, 'equal priority: the older ESP policy wins');
  const esp = b.spd.list('out').find((p) => !p.isBlock)!;
  b.spd.insert(b.spd.make({ ...esp.spec, priority: 5 }, () => null, NOW, 0), true);
  assert.equal(send(), XVerdict.Drop, 'the block policy (0) now beats the ESP policy (5)');
  assert.equal(r.mib, XfrmStat.OutPolBlock);
});

test('a clear-text packet where the in policy requires ESP is refused (XfrmInTmplMismatch); a tunnel SA without an in policy is XfrmInNoPols', () => {
  const [a, b] = pair({ aead: { name: 'rfc4106(gcm(aes))', keyHex: GCM_IN, bits: 128 } });
  const clear = icmp4Echo('203.0.113.1', '203.0.113.2', 1, 1, 8, 0, 0);
  const cb = new Uint8Array(clear.length);
  cb.set(clear);
  assert.equal(b.checkInClear(cb, 0, cb.length, 0), false);
  assert.equal(b.mib.snapshot().XfrmInTmplMismatch, 1);
  for (const p of [...b.spd.list('in')]) b.spd.remove(p);
  assert.equal(b.checkInClear(cb, 0, cb.length, 0), true);
  assert.throws(() => cross(a, b, clear));
  assert.equal(b.mib.snapshot().XfrmInNoPols, 1);
});

test('lifetimes: packet-soft raises one soft expire, packet-hard stops the SA (XfrmOutStateExpired)', () => {
  const [a] = pair({ aead: { name: 'rfc4106(gcm(aes))', keyHex: GCM_IN, bits: 128 }, limits: { packetSoft: 2, packetHard: 3 } });
  const r = new XfrmResult();
  const verdicts: number[] = [];
  for (let i = 0; i < 5; i++) {
    const ping = icmp4Echo('203.0.113.1', '203.0.113.2', 1, i, 8, 0, 0);
    const buf = new Uint8Array(1024);
    buf.set(ping, 256);
    verdicts.push(a.output(buf, 256, ping.length, 0, false, NOW, r));
  }
  assert.deepEqual(verdicts, [XVerdict.Xmit, XVerdict.Xmit, XVerdict.Xmit, XVerdict.Drop, XVerdict.Drop]);
  const expires = a.events.filter((e) => e.kind === 'expire');
  assert.deepEqual(expires.map((e) => e.hard), [false, true], 'soft once, then hard at once (the state timer fires immediately)');
  assert.deepEqual(expires.map((e) => e.at?.packets), [2, 3], 'curlft as it was when each limit fired (km_state_expired)');
  assert.equal(a.mib.snapshot().XfrmOutStateExpired, 1, 'the 4th packet hits the hard limit; the 5th finds no state');
  assert.equal(a.mib.snapshot().XfrmOutNoStates, 1);
  assert.equal(a.sad.list().some((x) => x.cfg.spi === 0x1001), false, 'the expired state is deleted');
  const iHard = a.events.findIndex((e) => e.kind === 'expire' && e.hard);
  const iAcq = a.events.findIndex((e) => e.kind === 'acquire');
  assert.ok(iHard >= 0 && iAcq > iHard, 'the hard expire precedes the acquire the next packet raises');
});

function fixIpChecksum(b: Uint8Array): void {
  b[10] = 0; b[11] = 0;
  let s = 0;
  for (let i = 0; i < 20; i += 2) s += (b[i]! << 8) | b[i + 1]!;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  const c = ~s & 0xffff;
  b[10] = c >>> 8; b[11] = c & 0xff;
}

test('PMTU (xfrm4_tunnel_check_size): an oversize DF packet gets ICMP FRAG_NEEDED with esp4_get_mtu; without DF it is sent', () => {
  const [a] = pair({ aead: { name: 'rfc4106(gcm(aes))', keyHex: GCM_IN, bits: 128 } });
  const x = a.sad.list().find((s) => s.cfg.spi === 0x1001)!;
  x.routeMtu = 1500;
  // header_len 8 + 8 + 20 = 36, ICV 16, block 4: ((1500 - 36 - 16) & ~3) - 2 = 1446 (with UDP encap: 1438).
  const r = new XfrmResult();
  const big = icmp4Echo('203.0.113.1', '203.0.113.2', 1, 1, 1447 - 28, 0x4000, 0);
  const buf = new Uint8Array(4096);
  buf.set(big, 256);
  assert.equal(a.output(buf, 256, big.length, 0, false, NOW, r), XVerdict.Drop);
  assert.equal(r.mib, XfrmStat.OutStateModeError);
  assert.ok(r.icmpLen > 28);
  assert.equal(r.icmp[9], 1, 'ICMP');
  assert.equal(be32(r.icmp, 16), a4('203.0.113.1'), 'back to the inner sender');
  assert.equal(r.icmp[20], 3);
  assert.equal(r.icmp[21], 4, 'FRAG_NEEDED');
  assert.equal(be16(r.icmp, 26), 1446);
  const fits = icmp4Echo('203.0.113.1', '203.0.113.2', 1, 2, 1446 - 28, 0x4000, 0);
  buf.set(fits, 256);
  assert.equal(a.output(buf, 256, fits.length, 0, false, NOW, r), XVerdict.Xmit);
  assert.ok(r.len <= 1500, `outer ${r.len} fits the route MTU`);
  const noDf = icmp4Echo('203.0.113.1', '203.0.113.2', 1, 3, 1447 - 28, 0, 0);
  buf.set(noDf, 256);
  assert.equal(a.output(buf, 256, noDf.length, 0, false, NOW, r), XVerdict.Xmit, 'without DF the kernel sends it (and fragments the outer packet)');
});
