// esp4_err: an underlay ICMP FRAG_NEEDED quoting one of our ESP (or
// ESP-in-UDP) packets lowers that SA's path MTU (ipv4_update_pmtu), never
// below ip_rt_min_pmtu and never up; anything else is ignored.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { put16 } from '../../src/wire/bytes.js';
import { checksum16 } from '../../src/wire/checksum.js';
import { IP_RT_MIN_PMTU } from '../../src/xfrm/esp-err.js';
import { espPayloadMtu } from '../../src/xfrm/esp-out.js';
import { IP_RT_MTU_EXPIRES_MS } from '../../src/xfrm/state.js';
import { icmp4Echo } from './helpers.js';
import { oneWay, send, udp4, writeIp4 } from './esp-util.js';

const ROUTER = '192.0.2.254';
const HOST = '198.51.100.1';
const NOW = 1_700_000_000_000;

/** ICMP DEST_UNREACH code 4 from ROUTER to HOST quoting `quote` (its first 28+ bytes), next-hop MTU `mtu`. */
function fragNeeded(quote: Uint8Array, mtu: number, type = 3, code = 4): Uint8Array {
  const q = quote.subarray(0, Math.min(quote.length, 64));
  const b = new Uint8Array(20 + 8 + q.length);
  b[20] = type; b[21] = code;
  put16(b, 26, mtu);
  b.set(q, 28);
  put16(b, 22, checksum16(b, 20, 8 + q.length));
  return writeIp4(b, ROUTER, HOST, 1);
}

test('FRAG_NEEDED quoting our ESP packet lowers the SA path MTU and so esp4_get_mtu', () => {
  const { tx, txSa } = oneWay();
  const wire = send(tx, icmp4Echo('203.0.113.1', '203.0.113.2', 1, 1, 100, 0, 0));
  assert.equal(txSa.routeMtu, 1500);
  const before = espPayloadMtu(txSa, txSa.routeMtu);
  assert.equal(tx.espErr(fragNeeded(wire, 1400), 0, fragNeeded(wire, 1400).length, NOW), txSa);
  assert.equal(txSa.routeMtu, 1400);
  assert.equal(before - espPayloadMtu(txSa, txSa.routeMtu), 100);
  assert.equal(tx.espErr(fragNeeded(wire, 1450), 0, fragNeeded(wire, 1450).length, NOW), null, 'never raised again by ICMP');
  assert.equal(txSa.routeMtu, 1400);
  const tiny = fragNeeded(wire, 300);
  assert.equal(tx.espErr(tiny, 0, tiny.length, NOW), txSa);
  assert.equal(txSa.routeMtu, IP_RT_MIN_PMTU, 'floored at ip_rt_min_pmtu');
});

test('ESP-in-UDP quotes name the SA after the UDP header; unknown SPIs, other types, bad checksums are ignored', () => {
  const { tx, txSa } = oneWay({ encap: { type: 'espinudp', sport: 4500, dport: 4500, oa: '0.0.0.0' } });
  const wire = send(tx, icmp4Echo('203.0.113.1', '203.0.113.2', 1, 1, 100, 0, 0));
  assert.equal(wire[9], 17);
  const m = fragNeeded(wire, 1300);
  assert.equal(tx.espErr(m, 0, m.length, NOW), txSa);
  assert.equal(txSa.routeMtu, 1300);
  const other = udp4('198.51.100.1', '198.51.100.2', 4500, 4500, Uint8Array.of(0, 0, 0x99, 0x99, 0, 0, 0, 1));
  const unknown = fragNeeded(other, 1200);
  assert.equal(tx.espErr(unknown, 0, unknown.length, NOW), null, 'SPI 0x9999 is no SA of ours');
  const redirect = fragNeeded(wire, 1200, 5, 1);
  assert.equal(tx.espErr(redirect, 0, redirect.length, NOW), null, 'REDIRECT: nothing to do in userspace');
  const bad = fragNeeded(wire, 1200);
  bad[22]! ^= 1;
  assert.equal(tx.espErr(bad, 0, bad.length, NOW), null, 'bad ICMP checksum');
  assert.equal(tx.espErr(bad.subarray(0, 30), 0, 30, NOW), null, 'truncated quote');
  assert.equal(txSa.routeMtu, 1300);
});

test('a PMTU learnt from FRAG_NEEDED expires after ip_rt_mtu_expires (600 s): XfrmStack.tick restores the underlay MTU', () => {
  const { tx, txSa } = oneWay();
  txSa.setUnderlayMtu(1480);
  const wire = send(tx, icmp4Echo('203.0.113.1', '203.0.113.2', 1, 1, 100, 0, 0));
  const m = fragNeeded(wire, 1400);
  assert.equal(tx.espErr(m, 0, m.length, NOW), txSa);
  assert.deepEqual(tx.tick(NOW + IP_RT_MTU_EXPIRES_MS / 2 + 1), []);
  assert.equal(tx.espErr(m, 0, m.length, NOW + IP_RT_MTU_EXPIRES_MS / 2 + 1), null, 'the same MTU in the second half of its life: renewed, no change');
  assert.deepEqual(tx.tick(NOW + IP_RT_MTU_EXPIRES_MS), [], 'renewed: not expired at the first deadline');
  assert.equal(txSa.routeMtu, 1400);
  assert.deepEqual(tx.tick(NOW + IP_RT_MTU_EXPIRES_MS * 1.5 + 1), [txSa], 'expired: reported once');
  assert.equal(txSa.routeMtu, 1480, 'back to the underlay route MTU');
  assert.deepEqual(tx.tick(NOW + IP_RT_MTU_EXPIRES_MS * 2), []);
  txSa.setUnderlayMtu(1500);
  assert.equal(txSa.routeMtu, 1500);
});
