// Fuzzing the ESP and ESP-in-UDP receive path: XfrmStack.input (ip_rcv
// sanity, xfrm4_udp_encap_rcv, xfrm_input/esp_input in esp-in.ts, the mode
// input, __xfrm_policy_check), XfrmStack.inputUdp (the NAT-T socket's
// payloads) and esp4_err, driving the sans-I/O core directly. Inputs:
//   - the kernel's ESP captures (test/vectors/pcap/esp-*.pcap, decryptable
//     with the SAs below), mutated; random bytes;
//   - packets sealed with a configured SA's own keys around mutated inner
//     packets, with a valid trailer, a random Pad Length / Next Header, or
//     TFC padding: these authenticate, so they reach the trailer, the inner
//     header checks and the policy check.
// For every input: no throw, bounded time, one verdict; a Drop raises
// exactly the xfrm_stat counter it names (`tunkit xfrm stat`) or names a
// tunkit reason (XDrop); a Deliver hands back a range inside the packet,
// no longer than the plaintext sealed, and never for a packet whose trailer
// was invalid (padLen + 2 ≥ plaintext: esp_remove_trailer's -EINVAL).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { be32, put16, put32 } from '../../src/wire/bytes.js';
import { ESP_HDR_LEN, espPlen } from '../../src/wire/esp.js';
import { makeEspCrypto } from '../../src/xfrm/esp-crypto.js';
import type { EspCrypto } from '../../src/xfrm/esp-crypto.js';
import { XFRM_STAT_NAMES } from '../../src/xfrm/mib.js';
import { XDrop, XfrmResult, XVerdict } from '../../src/xfrm/result.js';
import type { StateSpec } from '../../src/xfrm/spec.js';
import type { XfrmState } from '../../src/xfrm/state.js';
import { XfrmStack } from '../../src/xfrm/xfrm.js';
import { addPolicy, addState, GUEST, HOST, NOW, sa, writeIp4 } from '../xfrm/esp-util.js';
import { fixIcmp, fuzz, fuzzRuns, icmpPackets, outerPackets, packets } from './fuzz-harness.js';
import { hexFields, ip4Packets } from './fuzz-seeds.js';

const BOUNDED = 3000;
const GCM_OUT = 'ffeeddccbbaa99887766554433221100' + '05060708'; // the captures' keys (test/xfrm/stack.test.ts)
const CBC: Partial<StateSpec> = { aead: undefined, enc: { name: 'cbc(aes)', keyHex: 'f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff' }, auth: { name: 'hmac(sha256)', keyHex: '22'.repeat(32), bits: 128 }, authTrunc: true };
const GCM: Partial<StateSpec> = { aead: { name: 'rfc4106(gcm(aes))', keyHex: GCM_OUT, bits: 128 } };
const CHACHA: Partial<StateSpec> = { aead: { name: 'rfc7539esp(chacha20,poly1305)', keyHex: '22'.repeat(32) + '01020304', bits: 128 } };
const UDP: Partial<StateSpec> = { encap: { type: 'espinudp', sport: 4500, dport: 4500, oa: '0.0.0.0' } };

const VERDICTS = new Map(Object.entries(XVerdict).map(([k, v]) => [v as number, k]));
const XDROPS = new Map(Object.entries(XDrop).map(([k, v]) => [v as number, k]));

/** One receiver per capture (the same SPI 0x2002 with its algorithm), each with more SAs of other kinds. */
interface Rx { readonly x: XfrmStack; readonly sas: XfrmState[] }
function receiver(alg: Partial<StateSpec>): Rx {
  const x = new XfrmStack();
  const tm = (spi: number): { src: string; dst: string; proto: 'esp'; mode: 'tunnel'; reqid: number } => ({ src: GUEST, dst: HOST, proto: 'esp', mode: 'tunnel', reqid: spi });
  const sas = [
    addState(x, sa(GUEST, HOST, 0x2002, { ...alg, reqid: 0x2002 }), NOW),
    addState(x, sa(GUEST, HOST, 0x3003, { ...CHACHA, mode: 'transport', reqid: 0x3003 }), NOW),
    addState(x, sa(GUEST, HOST, 0x4004, { ...CBC, reqid: 0x4004, replayWindow: 128, flags: ['esn'] }), NOW),
    addState(x, sa(GUEST, HOST, 0x5005, { ...GCM, ...UDP, reqid: 0x5005, sel: { src: '0.0.0.0/0', dst: '0.0.0.0/0' } }), NOW),
    addState(x, sa(GUEST, HOST, 0x6006, { ...GCM, reqid: 0x6006, ifId: 7, replayWindow: 0 }), NOW),
  ];
  addPolicy(x, { sel: { src: '203.0.113.2/32', dst: '203.0.113.1/32' }, dir: 'in', tmpls: [tm(0x2002)] });
  addPolicy(x, { sel: { src: '192.0.2.0/24', dst: '0.0.0.0/0' }, dir: 'in', tmpls: [tm(0x4004)] });
  addPolicy(x, { sel: { src: '0.0.0.0/0', dst: '0.0.0.0/0' }, dir: 'in', tmpls: [tm(0x5005)] });
  addPolicy(x, { sel: { src: '::/0', dst: '::/0' }, dir: 'in', tmpls: [tm(0x2002)] });
  addPolicy(x, { sel: { src: `${GUEST}/32`, dst: `${HOST}/32`, proto: 47 }, dir: 'in', tmpls: [{ proto: 'esp', mode: 'transport', reqid: 0x3003 }] });
  return { x, sas };
}

const peers = new WeakMap<XfrmState, EspCrypto>();
/** The sending peer's crypto context on x's keys. */
function peer(x: XfrmState): EspCrypto {
  let c = peers.get(x);
  if (c === undefined) {
    c = makeEspCrypto(x.cfg.crypto);
    peers.set(x, c);
  }
  return c;
}

interface Sealed { readonly wire: Uint8Array; readonly ptLen: number; readonly isBadTrailer: boolean; readonly isUdp: boolean }

/**
 * IPv4 GUEST → HOST carrying ESP for SA x (UDP 4500 when x is encapsulated):
 * the payload, tfc zero bytes, the RFC 4303 padding, and a Pad Length / Next
 * Header of `trailer` (null = the right ones), sealed with x's keys.
 */
function seal(x: XfrmState, seq: number, payload: Uint8Array, tfc: number, nh: number, trailer: readonly [number, number] | null): Sealed {
  const cr = peer(x);
  const plen = espPlen(payload.length + tfc, 0, cr.blockAlign);
  const ptLen = payload.length + tfc + plen;
  const isUdp = x.cfg.encap !== null;
  const e = 20 + (isUdp ? 8 : 0);
  const espLen = ESP_HDR_LEN + cr.ivLen + ptLen + cr.icvLen;
  const b = new Uint8Array(e + espLen);
  put32(b, e, x.cfg.spi);
  put32(b, e + 4, seq);
  const p = e + ESP_HDR_LEN + cr.ivLen;
  b.set(payload, p);
  for (let i = 0; i < plen - 2; i++) b[p + payload.length + tfc + i] = i + 1;
  const padLen = trailer === null ? plen - 2 : trailer[0];
  b[p + ptLen - 2] = padLen;
  b[p + ptLen - 1] = trailer === null ? nh : trailer[1];
  cr.seal(b, e, ptLen, 0);
  writeIp4(b, GUEST, HOST, isUdp ? 17 : 50);
  if (isUdp) {
    put16(b, 20, 4500);
    put16(b, 22, 4500);
    put16(b, 24, 8 + espLen);
  }
  return { wire: b, ptLen, isBadTrailer: padLen + 2 >= ptLen, isUdp };
}

/** Inner packets to seal: IPv4 and IPv6 from the vectors and captures (mutated by the arbitrary). */
const INNER = [...hexFields('icmp4.json'), ...hexFields('icmp6.json'), ...hexFields('ip4.json'), ...ip4Packets(['gre.pcap'])].filter((p) => p.length <= 600);

/**
 * A packet to seal: the SA, the inner packet, TFC padding, Next Header and
 * (sometimes) a random trailer. The sequence number is the SA's next one
 * (so most pass the replay check) or one up to 40 before or after it.
 */
interface Recipe { readonly rx: number; readonly sa: number; readonly seqDelta: number; readonly inner: Uint8Array; readonly tfc: number; readonly nh: number; readonly trailer: readonly [number, number] | null }
const recipeArb = (nRx: number): fc.Arbitrary<Recipe> => fc.record({
  rx: fc.nat(nRx - 1), sa: fc.nat(4), seqDelta: fc.oneof({ arbitrary: fc.constant(0), weight: 6 }, { arbitrary: fc.integer({ min: -40, max: 40 }), weight: 2 }), inner: packets(INNER, 120),
  tfc: fc.oneof(fc.constant(0), fc.nat(40)), nh: fc.constantFrom(-1, -1, -1, 4, 41, 59, 47, 6, 0, 255), trailer: fc.option(fc.tuple(fc.nat(255), fc.nat(255)), { freq: 3 }),
});

/** Seals a recipe for its receiver, numbering each SA's packets 1, 2, 3, … (Next Header -1: 4 or 41 by the inner version). */
function cook(rxs: readonly Rx[], next: Map<XfrmState, number>, o: Recipe): Sealed {
  const x = rxs[o.rx]!.sas[o.sa]!;
  const n = (next.get(x) ?? 0) + 1;
  next.set(x, n);
  const nh = o.nh >= 0 ? o.nh : (o.inner[0] ?? 0) >>> 4 === 6 ? 41 : 4; // -1: the inner packet's own
  return seal(x, Math.max(0, n + o.seqDelta), o.inner, o.tfc, nh, o.trailer);
}

/** The shared checks of one input() / inputUdp() call; returns the outcome name. */
function judge(x: XfrmStack, v: XVerdict, r: XfrmResult, before: number, bufLen: number, sealed: Sealed | null): string {
  const moved = x.mib.counters.reduce((a, c) => a + c, 0) - before;
  const verdict = VERDICTS.get(v);
  assert.ok(verdict !== undefined, `verdict ${v}`);
  if (v === XVerdict.Drop) {
    if (r.mib >= 0) {
      assert.equal(moved, 1, `${XFRM_STAT_NAMES[r.mib]} counted once`);
      return `Drop:${XFRM_STAT_NAMES[r.mib]!}`;
    }
    assert.equal(moved, 0);
    const why = XDROPS.get(r.drop);
    assert.ok(why !== undefined && r.drop !== XDrop.None, `an uncounted drop names a reason (${r.drop})`);
    return `Drop:${why}`;
  }
  assert.equal(moved, 0, `${verdict} counts no error`);
  if (v === XVerdict.Deliver || v === XVerdict.Ike) {
    // An IKE message may be empty (a bare non-ESP marker); a delivered packet never is.
    assert.ok(r.off >= 0 && r.len >= (v === XVerdict.Ike ? 0 : 1) && r.off + r.len <= bufLen, `range [${r.off}, +${r.len}) in ${bufLen}`);
  }
  if (sealed !== null && (v === XVerdict.Deliver || v === XVerdict.Consumed)) {
    assert.ok(!sealed.isBadTrailer, `${verdict} of a packet whose Pad Length leaves no payload (esp_remove_trailer must refuse it)`);
    if (v === XVerdict.Deliver) assert.ok(r.len <= sealed.ptLen + 20, `delivered ${r.len} bytes of a ${sealed.ptLen}-byte plaintext`);
  }
  return v === XVerdict.Deliver ? `Deliver:${r.isTransport ? 'transport' : 'tunnel'}` : verdict;
}

const receivers = (): Rx[] => [receiver(GCM), receiver(CBC), receiver({ ...GCM, ...UDP })];
const CAPTURES = [ip4Packets(['esp-gcm.pcap']), ip4Packets(['esp-cbc.pcap']), ip4Packets(['esp-udp.pcap'])].map((l) => l.filter((p) => be32(p, 12) === be32(Uint8Array.of(198, 51, 100, 2), 0)));

test('fuzz ESP input: captures, random bytes and sealed packets are delivered or dropped under their counter', (t) => {
  const rxs = receivers();
  const r = new XfrmResult();
  const captured = fc.tuple(fc.nat(2), fc.nat(2)).chain(([i]) => fc.tuple(fc.constant(i), outerPackets(CAPTURES[i]!)));
  const next = new Map<XfrmState, number>();
  const arb = fc.oneof({ arbitrary: captured, weight: 2 }, { arbitrary: recipeArb(rxs.length), weight: 3 });
  fuzz(t, 'rcv/esp', arb, (input) => {
    const sealed = Array.isArray(input) ? null : cook(rxs, next, input as Recipe);
    const i = sealed === null ? (input as readonly [number, Uint8Array])[0] : (input as Recipe).rx;
    const p = sealed === null ? (input as readonly [number, Uint8Array])[1] : sealed.wire;
    const { x } = rxs[i]!;
    const buf = new Uint8Array(p.length + 96);
    buf.set(p, 64);
    const before = x.mib.counters.reduce((a, c) => a + c, 0);
    const v = x.input(buf, 64, p.length, 0, NOW, r);
    return judge(x, v, r, before, buf.length, sealed);
  }, { runs: fuzzRuns(BOUNDED), minOutcomes: 10 });
});

test('fuzz ESP-in-UDP: NAT-T socket payloads (keepalive, IKE marker, ESP) through inputUdp', (t) => {
  const rxs = receivers();
  const r = new XfrmResult();
  const udpSeeds = [...CAPTURES[2]!.map((p) => p.subarray(28)), ...hexFields('udp.json').map((d) => d.subarray(8)), Uint8Array.of(0xff), new Uint8Array(12)];
  const next = new Map<XfrmState, number>();
  const payload = fc.oneof({ arbitrary: packets(udpSeeds), weight: 2 }, { arbitrary: recipeArb(1).map((o) => ({ ...o, rx: 2, sa: 3 })), weight: 3 });
  const arb = fc.tuple(payload, fc.constantFrom(4500, 4501, 1024), fc.nat(255), fc.boolean());
  fuzz(t, 'rcv/esp-in-udp', arb, ([input, sport, tos, isOtherSrc]) => {
    const sealed = input instanceof Uint8Array ? null : cook(rxs, next, input);
    const p = sealed === null ? input as Uint8Array : sealed.wire.subarray(28);
    const { x } = rxs[2]!;
    const buf = new Uint8Array(p.length + 64);
    buf.set(p, 32);
    const before = x.mib.counters.reduce((a, c) => a + c, 0);
    const src = isOtherSrc ? 0xc6336463 : 0xc6336402;
    const v = x.inputUdp(buf, 32, p.length, src, sport, 0xc6336401, 3, tos, NOW, r);
    return judge(x, v, r, before, buf.length, sealed);
  }, { runs: fuzzRuns(BOUNDED), minOutcomes: 6 });
});

test('fuzz esp4_err: ICMP errors quoting ESP lower an SA\'s path MTU or are ignored', (t) => {
  const { x } = receiver(GCM);
  // FRAG_NEEDED from a router about our ESP toward GUEST (SPI 0x2002 there is the in SA; out SAs are found by (dst, spi)).
  const out = addState(x, sa(HOST, GUEST, 0x1001, GCM), NOW);
  const quote = writeIp4(new Uint8Array(20 + 16), HOST, GUEST, 50);
  put32(quote, 20, 0x1001);
  const seeds = [1400, 576, 68, 0].map((mtu) => {
    const b = new Uint8Array(28 + quote.length);
    b.set(quote, 28);
    b[20] = 3;
    b[21] = 4;
    put16(b, 26, mtu);
    return fixIcmp(writeIp4(b, '198.51.100.254', HOST, 1));
  });
  fuzz(t, 'rcv/esp-err', icmpPackets(seeds), (p) => {
    const buf = new Uint8Array(p);
    out.routeMtu = 1500;
    const st = x.espErr(buf, 0, buf.length, 1_700_000_000_000);
    if (st !== null) assert.ok(st.routeMtu > 0 && st.routeMtu <= 0xffff, `path MTU ${st.routeMtu}`);
    return st === null ? 'ignored' : 'pmtu';
  }, { runs: fuzzRuns(BOUNDED), minOutcomes: 2 });
});
