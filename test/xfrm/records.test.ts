// What `tunkit xfrm state|policy list` and `xfrm monitor` carry: the
// records of xfrm_state_info / xfrm_userpolicy_info and the XFRM_MSG_EXPIRE,
// ACQUIRE and MAPPING events (xfrm_user.c build_expire, build_acquire,
// build_mapping), with keys masked unless asked for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventRecord, policyRecord, stateRecord } from '../../src/xfrm/records.js';
import { XfrmResult, XVerdict } from '../../src/xfrm/result.js';
import type { StateSpec } from '../../src/xfrm/spec.js';
import { KmState } from '../../src/xfrm/state.js';
import { XfrmStack } from '../../src/xfrm/xfrm.js';
import { ip6 } from '../util/packets.js';
import { addPolicy, addState, espPacket, GUEST, HOST, NOW, oneWay, recv, sa, send } from './esp-util.js';
import { icmp4Echo } from './helpers.js';

const ping = (seq = 1): Uint8Array => icmp4Echo('203.0.113.1', '203.0.113.2', 1, seq, 56, 0, 0);
const CBC: Partial<StateSpec> = {
  aead: undefined, enc: { name: 'cbc(aes)', keyHex: 'f0'.repeat(16) }, auth: { name: 'hmac(sha256)', keyHex: '22'.repeat(32), bits: 128 }, authTrunc: true,
};

test('stateRecord: keys are "" unless withKeys; the rest of the spec as configured', () => {
  const x = new XfrmStack();
  const gcm = addState(x, sa(HOST, GUEST, 0x1001));
  const cbc = addState(x, sa(HOST, GUEST, 0x1002, CBC));
  assert.equal(stateRecord(gcm, false).aead?.keyHex, '');
  assert.equal(stateRecord(gcm, true).aead?.keyHex, '00112233445566778899aabbccddeeff01020304');
  const m = stateRecord(cbc, false);
  assert.deepEqual([m.enc?.keyHex, m.auth?.keyHex, m.auth?.bits, m.enc?.name, m.authTrunc], ['', '', 128, 'cbc(aes)', true]);
  assert.equal(stateRecord(cbc, true).auth?.keyHex, '22'.repeat(32));
  assert.ok(!JSON.stringify(m).includes('f0f0'), 'no key bytes anywhere in a masked record');
  assert.deepEqual([m.src, m.dst, m.spi, m.mode, m.reqid, m.replayWindow], [HOST, GUEST, 0x1002, 'tunnel', 1, 32]);
  assert.equal(cbc.spec.enc?.keyHex, 'f0'.repeat(16), 'masking copies; the state keeps its keys');
});

test('stateRecord: curlft (bytes, packets, add/use time in Unix seconds), per-SA stats, replay, km state', () => {
  const { tx, rx, txSa, rxSa } = oneWay();
  const fresh = stateRecord(rxSa, false);
  assert.deepEqual(fresh.curlft, { bytes: 0, packets: 0, addTime: Math.floor(NOW / 1000), useTime: 0 });
  assert.deepEqual(fresh.stats, { replayWindow: 0, replay: 0, integrityFailed: 0 });
  assert.equal(fresh.state, 'valid');
  const w1 = send(tx, ping(1), undefined, NOW + 5_500);
  const w2 = send(tx, ping(2), undefined, NOW + 6_000);
  assert.equal(recv(rx, w2, NOW + 7_250).v, XVerdict.Deliver);
  assert.equal(recv(rx, w1, NOW + 7_300).v, XVerdict.Deliver);
  recv(rx, w1, NOW + 7_400); // replay
  const bad = w2.slice();
  bad[bad.length - 1]! ^= 1;
  recv(rx, bad); // a tampered seq 2: the replay check runs before the ICV, so this counts replay, not integrity_failed
  const tooOld = espPacket(rxSa, 1, ping(), 4);
  rxSa.replay.restore({ seq: 100 });
  recv(rx, tooOld);
  const r = stateRecord(rxSa, false);
  assert.deepEqual(r.curlft, { bytes: 168, packets: 2, addTime: Math.floor(NOW / 1000), useTime: Math.floor((NOW + 7_250) / 1000) });
  assert.deepEqual(r.stats, { replayWindow: 1, replay: 2, integrityFailed: 0 });
  assert.deepEqual([r.replay.seq, r.replay.isEsn, r.replay.bitmap.length], [100, false, 1]);
  const t = stateRecord(txSa, false);
  assert.deepEqual([t.replay.oseq, t.curlft.packets, t.curlft.useTime], [2, 2, Math.floor((NOW + 5_500) / 1000)]);
  rxSa.km = KmState.Dying;
  assert.equal(stateRecord(rxSa, false).state, 'dying');
  rxSa.km = KmState.Expired;
  assert.equal(stateRecord(rxSa, false).state, 'expired');
  // An integrity failure on a fresh sequence number counts integrity_failed.
  const { rx: rx2, rxSa: s2 } = oneWay();
  const forged = espPacket(s2, 9, ping(), 4);
  forged[forged.length - 2]! ^= 0x40;
  recv(rx2, forged);
  assert.equal(stateRecord(s2, false).stats.integrityFailed, 1);
  const esn = oneWay({ flags: ['esn'], replayWindow: 64 }).rxSa;
  assert.deepEqual([stateRecord(esn, false).replay.isEsn, stateRecord(esn, false).replay.bitmap.length], [true, 2]);
});

test('policyRecord: the spec plus index, priority, action and curlft (use time once a packet matched)', () => {
  const x = new XfrmStack();
  addPolicy(x, { sel: { src: '203.0.113.0/24', dst: '0.0.0.0/0' }, dir: 'out', priority: 7, tmpls: [{ src: HOST, dst: GUEST, proto: 'esp', mode: 'tunnel', reqid: 1 }] });
  addPolicy(x, { sel: { src: '192.0.2.0/24', dst: '0.0.0.0/0' }, dir: 'in', action: 'block' });
  const [out, blk] = [x.spd.list('out')[0]!, x.spd.list('in')[0]!];
  const o = policyRecord(out);
  assert.deepEqual([o.index, o.priority, o.action, o.dir, o.sel.src, o.curlft], [1, 7, 'allow', 'out', '203.0.113.0/24', { bytes: 0, packets: 0, addTime: Math.floor(NOW / 1000), useTime: 0 }]);
  const b = policyRecord(blk);
  assert.deepEqual([b.index, b.priority, b.action], [8, 0, 'block']);
  addState(x, sa(HOST, GUEST, 0x1001));
  const p = ping();
  const buf = new Uint8Array(2048);
  buf.set(p, 512);
  assert.equal(x.output(buf, 512, p.length, 0, false, NOW + 42_000, new XfrmResult()), XVerdict.Xmit);
  assert.equal(policyRecord(out).curlft.useTime, Math.floor((NOW + 42_000) / 1000));
});

test('eventRecord: expire (soft and hard, keys masked) from the timer', () => {
  const { tx, txSa } = oneWay({ limits: { timeSoft: 1, timeHard: 2 } });
  tx.tick(NOW + 1000);
  tx.tick(NOW + 2000);
  const recs = tx.events.map(eventRecord);
  assert.deepEqual(recs.map((e) => e.type), ['xfrm.expire', 'xfrm.expire']);
  const [soft, hard] = recs as [Extract<typeof recs[number], { type: 'xfrm.expire' }>, Extract<typeof recs[number], { type: 'xfrm.expire' }>];
  assert.deepEqual([soft.hard, hard.hard], [false, true]);
  assert.equal(soft.state.spi, 0x1001);
  assert.equal(soft.state.aead?.keyHex, '', 'no keys on the monitor stream');
  assert.equal(hard.state.state, 'expired');
  assert.equal(txSa.spec.aead?.keyHex.length, 40);
});

test('eventRecord: acquire for IPv4 and IPv6 flows names the policy, addresses and protocol', () => {
  const x = new XfrmStack();
  const tmpl = { src: HOST, dst: GUEST, proto: 'esp', mode: 'tunnel', reqid: 1 } as const;
  addPolicy(x, { sel: { src: '0.0.0.0/0', dst: '0.0.0.0/0' }, dir: 'out', tmpls: [tmpl] });
  addPolicy(x, { sel: { src: '::/0', dst: '::/0' }, dir: 'out', tmpls: [tmpl] });
  const r = new XfrmResult();
  for (const p of [ping(), ip6({ src: '2001:db8::1', dst: '2001:db8:1::2', payloadLen: 16 })]) {
    const buf = new Uint8Array(2048);
    buf.set(p, 512);
    assert.equal(x.output(buf, 512, p.length, 0, false, NOW, r), XVerdict.Drop);
  }
  const recs = x.events.map(eventRecord);
  assert.deepEqual(recs[0], { type: 'xfrm.acquire', policy: policyRecord(x.spd.list('out')[0]!), src: '203.0.113.1', dst: '203.0.113.2', proto: 1 });
  const six = recs[1]!;
  assert.ok(six.type === 'xfrm.acquire');
  assert.deepEqual([six.src, six.dst, six.proto, six.policy.sel.src], ['2001:db8::1', '2001:db8:1::2', 58, '::/0']);
});

test('eventRecord: mapping carries the SA (dst, spi) and the old and new source address and port', () => {
  const { rx, rxSa } = oneWay({ encap: { type: 'espinudp', sport: 4500, dport: 4500, oa: '0.0.0.0' } });
  assert.equal(recv(rx, espPacket(rxSa, 1, ping(), 4, { udpSport: 40000, src: '192.0.2.77' })).v, XVerdict.Deliver);
  assert.deepEqual(rx.events.map(eventRecord), [{
    type: 'xfrm.mapping', dst: GUEST, spi: 0x1001, oldSrc: HOST, oldSport: 4500, newSrc: '192.0.2.77', newSport: 40000,
  }]);
});
