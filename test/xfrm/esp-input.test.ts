// The receive side and the SA's lifetime, one kernel function per test:
// esp_output_udp_encap and xfrm4_udp_encap_rcv (ESP-in-UDP, keepalives,
// the non-ESP marker), km_new_mapping, xfrm_input's checks in order
// (xfrm_parse_spi, encap type, esp_input lengths, ip_rcv_core), ESN across
// 2^32 (xfrm_replay_overflow_esn / xfrm_replay_seqhi), and lifetimes
// (xfrm_timer_handler, xfrm_state_check_expire on input).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { be16, be32, put16 } from '../../src/wire/bytes.js';
import { XfrmStat } from '../../src/xfrm/mib.js';
import { XDrop, XfrmResult, XVerdict } from '../../src/xfrm/result.js';
import type { StateSpec } from '../../src/xfrm/spec.js';
import type { CoreEvent } from '../../src/xfrm/xfrm.js';
import { a4 } from '../util/packets.js';
import { espPacket, fixIp4, GUEST, HOST, NOW, oneWay, recv, send, udp4, writeIp4 } from './esp-util.js';
import { icmp4Echo } from './helpers.js';

const ping = (seq = 1): Uint8Array => icmp4Echo('203.0.113.1', '203.0.113.2', 1, seq, 56, 0, 0);
const ENCAP = (sport: number, dport: number, type: 'espinudp' | 'espinudp-nonike' = 'espinudp'): Partial<StateSpec> =>
  ({ encap: { type, sport, dport, oa: '0.0.0.0' } });
const kinds = (ev: readonly CoreEvent[], kind: CoreEvent['kind']): CoreEvent[] => ev.filter((e) => e.kind === kind);

test('esp_output_udp_encap: UDP ports from the SA, checksum 0, length = the UDP datagram; espinudp-nonike adds 8 zero bytes', () => {
  const { tx, rx } = oneWay(ENCAP(4501, 4502));
  const w = send(tx, ping());
  assert.equal(w[9], 17, 'outer protocol UDP');
  assert.equal(be16(w, 2), w.length);
  assert.deepEqual([be16(w, 20), be16(w, 22), be16(w, 24), be16(w, 26)], [4501, 4502, w.length - 20, 0]);
  assert.equal(be32(w, 28), 0x1001, 'ESP header right after the UDP header');
  assert.equal(be32(w, 32), 1);
  // The receiver holds UDP 4500 (xfrm4_udp_encap_rcv): rewrite the port the NAT would have mapped.
  put16(w, 22, 4500);
  assert.equal(recv(rx, w).v, XVerdict.Deliver);
  const n = oneWay(ENCAP(4500, 4500, 'espinudp-nonike'));
  const wn = send(n.tx, ping());
  assert.equal(be16(wn, 24), wn.length - 20);
  assert.deepEqual([...wn.subarray(28, 36)], [0, 0, 0, 0, 0, 0, 0, 0], 'the 8-byte non-IKE marker');
  assert.equal(be32(wn, 36), 0x1001);
  assert.equal(wn.length, w.length + 8);
});

test('esp_init_state: header_len counts udphdr (+8 more for espinudp-nonike), so esp4_get_mtu shrinks by the same', () => {
  const plain = oneWay().txSa;
  const udp = oneWay(ENCAP(4500, 4500)).txSa;
  const nonike = oneWay(ENCAP(4500, 4500, 'espinudp-nonike')).txSa;
  assert.deepEqual([plain.headerLen, udp.headerLen, nonike.headerLen], [36, 44, 52]);
  // A DF packet of esp4_get_mtu + 1 is refused; nonike's limit is 8 below espinudp's (1438 → 1430).
  for (const [extra, mtu] of [[ENCAP(4500, 4500), 1438], [ENCAP(4500, 4500, 'espinudp-nonike'), 1430]] as const) {
    const { tx } = oneWay(extra);
    const r = new XfrmResult();
    const over = icmp4Echo('203.0.113.1', '203.0.113.2', 1, 1, mtu + 1 - 28, 0x4000, 0);
    const buf = new Uint8Array(4096);
    buf.set(over, 512);
    assert.equal(tx.output(buf, 512, over.length, 0, false, NOW, r), XVerdict.Drop);
    assert.equal(be16(r.icmp, 26), mtu);
    const fits = icmp4Echo('203.0.113.1', '203.0.113.2', 1, 1, mtu - 28, 0x4000, 0);
    assert.equal(send(tx, fits).length, 1500);
  }
});

test('xfrm4_udp_encap_rcv on UDP 4500: 0xFF keepalive consumed; non-ESP marker → Ike at the IKE message; other ports → NotEsp', () => {
  const { rx } = oneWay(ENCAP(4500, 4500));
  const ka = recv(rx, udp4(HOST, GUEST, 4500, 4500, Uint8Array.of(0xff)));
  assert.equal(ka.v, XVerdict.Consumed);
  const ike = Uint8Array.from({ length: 28 }, (_, i) => i + 1);
  const marked = new Uint8Array(4 + ike.length);
  marked.set(ike, 4);
  const got = recv(rx, udp4(HOST, GUEST, 4500, 4500, marked));
  assert.equal(got.v, XVerdict.Ike);
  assert.deepEqual([...got.inner], [...ike], 'r.off/r.len: the IKE message without the marker');
  assert.equal(got.r.off, 64 + 28 + 4);
  assert.equal(recv(rx, udp4(HOST, GUEST, 4500, 500, marked)).v, XVerdict.NotEsp, 'UDP 500 is not the encap socket');
  // Payloads of at most 8 bytes (an ESP header's length) are never ESP: they go to the socket.
  for (const short of [Uint8Array.of(0x12, 0x34), Uint8Array.of(0, 0, 0x20, 0x02, 0, 0, 0, 1), Uint8Array.of(0xff, 0xff)]) {
    const s8 = recv(rx, udp4(HOST, GUEST, 4500, 4500, short));
    assert.equal(s8.v, XVerdict.Ike, `${short.length}-byte payload`);
    assert.equal(s8.r.len, short.length);
  }
  const tcp = writeIp4(new Uint8Array(40), HOST, GUEST, 6);
  assert.equal(recv(rx, tcp).v, XVerdict.NotEsp);
  assert.ok(Object.values(rx.mib.snapshot()).every((n) => n === 0), 'none of these counts an xfrm_stat counter');
});

test('km_new_mapping (esp_input_done2): a new source port or address on an encap SA raises one mapping event each; the configured peer none', () => {
  // Inbound SA HOST → GUEST: encap sport is the peer's port (4600), dport ours (4500).
  const { rx, rxSa } = oneWay(ENCAP(4600, 4500));
  const events = (): CoreEvent[] => kinds(rx.events, 'mapping');
  assert.equal(recv(rx, espPacket(rxSa, 1, ping(), 4, { udpSport: 4600 })).v, XVerdict.Deliver);
  assert.equal(events().length, 0, 'x->props.saddr and encap_sport: no mapping');
  assert.equal(recv(rx, espPacket(rxSa, 2, ping(), 4, { udpSport: 34567 })).v, XVerdict.Deliver);
  assert.equal(recv(rx, espPacket(rxSa, 3, ping(), 4, { udpSport: 34567 })).v, XVerdict.Deliver);
  assert.equal(events().length, 1);
  const e = events()[0]!;
  assert.ok(e.kind === 'mapping');
  assert.deepEqual([e.oldAddr, e.oldPort, e.newAddr, e.newPort], [a4(HOST), 4600, a4(HOST), 34567]);
  assert.equal(e.state, rxSa);
  assert.equal(recv(rx, espPacket(rxSa, 4, ping(), 4, { udpSport: 34567, src: '192.0.2.77' })).v, XVerdict.Deliver);
  assert.equal(events().length, 2);
  const e2 = events()[1]!;
  assert.ok(e2.kind === 'mapping' && e2.newAddr === a4('192.0.2.77') && e2.oldPort === 34567);
  // A packet that fails authentication raises nothing.
  const bad = espPacket(rxSa, 5, ping(), 4, { udpSport: 999 });
  bad[bad.length - 1]! ^= 1;
  assert.equal(recv(rx, bad).r.mib, XfrmStat.InStateProtoError);
  assert.equal(events().length, 2);
});

test('xfrm_input: the encap type must match the SA (UDP for a plain SA, raw ESP for an encap SA) → XfrmInStateMismatch', () => {
  const plain = oneWay();
  const got = recv(plain.rx, espPacket(plain.rxSa, 1, ping(), 4, { udpSport: 4500 }));
  assert.equal(got.v, XVerdict.Drop);
  assert.equal(got.r.mib, XfrmStat.InStateMismatch);
  const enc = oneWay(ENCAP(4500, 4500));
  assert.equal(recv(enc.rx, espPacket(enc.rxSa, 1, ping(), 4)).r.mib, XfrmStat.InStateMismatch);
  // The socket is UDP_ENCAP_ESPINUDP: a nonike SA never matches it.
  const non = oneWay(ENCAP(4500, 4500, 'espinudp-nonike'));
  assert.equal(recv(non.rx, espPacket(non.rxSa, 1, ping(), 4, { udpSport: 4500 })).r.mib, XfrmStat.InStateMismatch);
  assert.equal(plain.rx.mib.snapshot().XfrmInStateMismatch, 1);
  assert.equal(plain.rxSa.replay.record().seq, 0, 'refused before the replay window moved');
});

test('xfrm_parse_spi / esp_input lengths: short ESP header → XfrmInHdrError; no room for IV + ICV → XfrmInStateProtoError; unknown SPI → XfrmInNoStates', () => {
  const { rx, rxSa } = oneWay();
  const short = writeIp4(new Uint8Array(20 + 7), HOST, GUEST, 50);
  short.set([0, 0, 0x10, 0x01, 0, 0, 0], 20);
  assert.equal(recv(rx, short).r.mib, XfrmStat.InHdrError);
  const full = espPacket(rxSa, 1, ping(), 4);
  const cut = writeIp4(full.slice(0, 20 + 8 + 8 + 16), HOST, GUEST, 50); // header + IV + ICV, no ciphertext
  assert.equal(recv(rx, cut).r.mib, XfrmStat.InStateProtoError);
  assert.equal(rxSa.statIntegrityFailed, 0, 'a length error is not an integrity failure');
  const wrongSpi = full.slice();
  wrongSpi[23] = 0x02;
  assert.equal(recv(rx, wrongSpi).r.mib, XfrmStat.InNoStates);
  const snap = rx.mib.snapshot();
  assert.deepEqual([snap.XfrmInHdrError, snap.XfrmInStateProtoError, snap.XfrmInNoStates], [1, 1, 1]);
  assert.equal(recv(rx, full).v, XVerdict.Deliver, 'the intact packet still passes');
});

test('ip_rcv_core: a malformed outer IPv4 packet is XDrop.BadOuter (bad checksum, fragment, truncated, bad length), counted as XfrmInHdrError', () => {
  const { rx, rxSa } = oneWay();
  const good = espPacket(rxSa, 1, ping(), 4);
  const badSum = good.slice();
  badSum[10]! ^= 0xff;
  const frag = good.slice();
  frag[6] = 0x20; // MF
  fixIp4(frag);
  const longer = good.slice();
  put16(longer, 2, good.length + 4);
  fixIp4(longer);
  for (const [why, p] of [['checksum', badSum], ['fragment', frag], ['truncated', good.subarray(0, 19)], ['total length', longer]] as const) {
    const got = recv(rx, p);
    assert.equal(got.v, XVerdict.Drop, why);
    assert.equal(got.r.drop, XDrop.BadOuter, why);
    assert.equal(got.r.mib, XfrmStat.InHdrError, why);
  }
  // UDP with a length field shorter than its header.
  const udp = udp4(HOST, GUEST, 4500, 4500, new Uint8Array(12));
  put16(udp, 24, 4);
  const u = recv(rx, udp);
  assert.deepEqual([u.r.drop, u.r.mib], [XDrop.BadOuter, XfrmStat.InHdrError]);
  // Each refusal is counted once, under a name `tunkit xfrm stat` shows (the kernel counts these in
  // InHdrErrors / Udp InErrors before xfrm sees them; tunkit keeps the xfrm MIB only).
  const snap = rx.mib.snapshot();
  assert.equal(snap.XfrmInHdrError, 5);
  assert.equal(Object.values(snap).reduce((a, b) => a + b, 0), 5, JSON.stringify(snap));
});

test('ESN across 2^32 (xfrm_replay_overflow_esn, xfrm_replay_seqhi): the sender bumps oseq_hi, the receiver infers seq_hi and authenticates it', () => {
  const esn: Partial<StateSpec> = { flags: ['esn'], replayWindow: 128 };
  const { tx, rx, txSa, rxSa } = oneWay(esn);
  txSa.replay.restore({ oseq: 0xfffffffd });
  rxSa.replay.restore({ seq: 0xfffffffd });
  const seqs: number[] = [];
  const wires: Uint8Array[] = [];
  for (let i = 0; i < 4; i++) {
    const w = send(tx, ping(i));
    seqs.push(be32(w, 24));
    wires.push(w);
    const got = recv(rx, w);
    assert.equal(got.v, XVerdict.Deliver, `packet ${i}: mib ${got.r.mib}`);
  }
  assert.deepEqual(seqs, [0xfffffffe, 0xffffffff, 0, 1], 'seq 0 is sent once the high half moves (ESN)');
  const t = txSa.replay.record();
  const rr = rxSa.replay.record();
  assert.deepEqual([t.oseq, t.oseqHi, rr.seq, rr.seqHi], [1, 1, 1, 1]);
  assert.equal(recv(rx, wires[1]!).r.mib, XfrmStat.InStateSeqError, 'the pre-wrap packet replayed');
  // Without ESN the sender stops at 2^32 - 1 (xfrm_replay_overflow: XfrmOutStateSeqError).
  const legacy = oneWay();
  legacy.txSa.replay.restore({ oseq: 0xffffffff });
  const buf = new Uint8Array(2048);
  const p = ping();
  buf.set(p, 512);
  const r = new XfrmResult();
  assert.equal(legacy.tx.output(buf, 512, p.length, 0, false, NOW, r), XVerdict.Drop);
  assert.equal(r.mib, XfrmStat.OutStateSeqError);
  assert.equal(legacy.tx.mib.snapshot().XfrmOutStateSeqError, 1);
});

test('xfrm_timer_handler: time-soft raises one soft expire; time-hard deletes the state with a hard expire', () => {
  const { tx, txSa } = oneWay({ limits: { timeSoft: 10, timeHard: 20 } });
  const expires = (): { hard: boolean }[] => kinds(tx.events, 'expire').map((e) => ({ hard: (e as { hard: boolean }).hard }));
  tx.tick(NOW + 9_999);
  assert.deepEqual(expires(), []);
  tx.tick(NOW + 10_000);
  tx.tick(NOW + 15_000);
  assert.deepEqual(expires(), [{ hard: false }], 'the soft event once');
  assert.equal(tx.sad.count, 1);
  send(tx, ping(), undefined, NOW + 15_000); // a dying SA still carries traffic
  tx.tick(NOW + 20_000);
  assert.deepEqual(expires(), [{ hard: false }, { hard: true }]);
  assert.equal(tx.sad.count, 0);
  assert.equal(kinds(tx.events, 'expire')[1]!.kind === 'expire' && (kinds(tx.events, 'expire')[1] as { state: unknown }).state, txSa);
});

test('xfrm_timer_handler: time-use-* count from the first use; an unused SA never use-expires', () => {
  const { tx } = oneWay({ limits: { timeUseSoft: 5, timeUseHard: 8 } });
  tx.tick(NOW + 1_000_000);
  assert.equal(tx.events.length, 0, 'never used: no use expiry');
  const T = NOW + 1_000_000;
  send(tx, ping(), undefined, T);
  send(tx, ping(2), undefined, T + 4_000); // later use does not restart the clock
  tx.tick(T + 4_999);
  assert.equal(tx.events.length, 0);
  tx.tick(T + 5_000);
  assert.deepEqual(kinds(tx.events, 'expire').map((e) => (e as { hard: boolean }).hard), [false]);
  tx.tick(T + 8_000);
  assert.deepEqual(kinds(tx.events, 'expire').map((e) => (e as { hard: boolean }).hard), [false, true]);
  assert.equal(tx.sad.count, 0);
});

test('xfrm_input → xfrm_state_check_expire: byte-soft raises the soft event from input; byte-hard → XfrmInStateExpired, one hard expire, state gone', () => {
  // 84-byte inner packets: the hard limit 150 lets two through (>= against the count before the packet).
  const { rx, rxSa } = oneWay({}, { limits: { byteSoft: 84, byteHard: 150 } });
  const got: number[] = [];
  for (let s = 1; s <= 3; s++) {
    const g = recv(rx, espPacket(rxSa, s, ping(s), 4));
    got.push(g.v === XVerdict.Deliver ? -2 : g.r.mib);
  }
  assert.deepEqual(got, [-2, -2, XfrmStat.InStateExpired]);
  assert.equal(rx.mib.snapshot().XfrmInStateExpired, 1);
  assert.deepEqual(kinds(rx.events, 'expire').map((e) => (e as { hard: boolean }).hard).slice(0, 1), [false], 'soft event on the 2nd packet');
  assert.equal(rxSa.curBytes, 168);
  assert.equal(rxSa.curPackets, 2);
  rx.tick(NOW + 1); // xfrm_timer_handler: by now the expired state is deleted and notified
  assert.deepEqual(kinds(rx.events, 'expire').map((e) => (e as { hard: boolean }).hard), [false, true]);
  assert.equal(rx.sad.count, 0);
  assert.equal(recv(rx, espPacket(rxSa, 4, ping(4), 4)).r.mib, XfrmStat.InNoStates);
});

test('ESP-in-UDP input counts and expires like raw ESP: the hard limit deletes the state at once (no tick), XfrmInStateExpired once', () => {
  const { rx, rxSa } = oneWay(ENCAP(4500, 4500), { limits: { packetSoft: 1, packetHard: 2 } });
  const got: number[] = [];
  for (let s = 1; s <= 4; s++) {
    const g = recv(rx, espPacket(rxSa, s, ping(s), 4, { udpSport: 4500 }));
    got.push(g.v === XVerdict.Deliver ? -2 : g.r.mib);
  }
  assert.deepEqual(got, [-2, -2, XfrmStat.InStateExpired, XfrmStat.InNoStates]);
  assert.deepEqual(kinds(rx.events, 'expire').map((e) => (e as { hard: boolean }).hard), [false, true], 'soft, then hard before any tick');
  assert.equal(rx.sad.count, 0);
  const snap = rx.mib.snapshot();
  assert.deepEqual([snap.XfrmInStateExpired, snap.XfrmInNoStates], [1, 1], 'each refusal counted exactly once');
});
