// The one data path, end to end over io/mem.ts: an ICMP echo request
// written into one namespace's device arrives unchanged out of the other's,
// for ipip, gre (key + seq + csum), ESP tunnel mode (policy TUN), GRE over
// ESP transport mode and an xfrm interface; counters checked on both sides.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { icmp4Echo } from '../xfrm/helpers.js';
import { allocBatch } from '../../src/io/pool.js';
import { addPolicy, addState, GCM } from '../xfrm/esp-util.js';
import type { XfrmStack } from '../../src/xfrm/xfrm.js';
import type { StateSpec } from '../../src/xfrm/spec.js';
import type { LinkStatName } from '../../src/tunnel/stats.js';
import { batchOf, cross, LEFT, RIGHT, settle, twoNs } from './two-ns.js';
import type { Ns } from './two-ns.js';

const ECHO_LEN = 84; // ping's default: 20 IPv4 + 8 ICMP + 56 data

function echo(src: string, dst: string, seq = 1): Uint8Array {
  return icmp4Echo(src, dst, 0x1234, seq, ECHO_LEN - 28, 0x4000, 0);
}

/** An SA pair left→right (spiOut) and right→left (spiIn) in both stacks. */
function sas(left: Ns, right: Ns, extra: Partial<StateSpec>): void {
  const base = { proto: 'esp', reqid: 1, replayWindow: 32, mode: 'tunnel', ...GCM, ...extra } as const;
  for (const x of [left.xfrm, right.xfrm]) {
    addState(x, { ...base, src: LEFT, dst: RIGHT, spi: 0x1001 });
    addState(x, { ...base, src: RIGHT, dst: LEFT, spi: 0x2002 });
  }
}

function policies(x: XfrmStack, self: string, peer: string, sel: { src: string; dst: string; proto?: number }, mode: 'tunnel' | 'transport', ifId = 0): void {
  const tmpl = mode === 'tunnel' ? { src: self, dst: peer, proto: 'esp', mode, reqid: 1 } as const : { proto: 'esp', mode, reqid: 1 } as const;
  const back = mode === 'tunnel' ? { src: peer, dst: self, proto: 'esp', mode, reqid: 1 } as const : tmpl;
  addPolicy(x, { sel, dir: 'out', tmpls: [tmpl], ifId });
  addPolicy(x, { sel: { src: sel.dst, dst: sel.src, proto: sel.proto }, dir: 'in', tmpls: [back], ifId });
}

const stat = (ns: Ns, name: string): Record<LinkStatName, number> => ns.node.showLinks(name)[0]!.stats;

test('ipip: an echo crosses unchanged both ways; tx on one side = rx on the other', async () => {
  const { left, right } = twoNs();
  try {
    const lh = left.link({ name: 'ipip1', kind: 'ipip', local: LEFT, remote: RIGHT });
    const rh = right.link({ name: 'ipip1', kind: 'ipip', local: RIGHT, remote: LEFT });
    const p = echo('192.0.2.1', '192.0.2.2');
    assert.deepEqual(await cross(lh, rh, p), p);
    const q = echo('192.0.2.2', '192.0.2.1', 2);
    assert.deepEqual(await cross(rh, lh, q), q);
    for (const [a, b] of [[left, right], [right, left]] as const) {
      const tx = stat(a, 'ipip1');
      const rx = stat(b, 'ipip1');
      assert.equal(tx.tx_packets, 1);
      assert.equal(tx.tx_bytes, ECHO_LEN, 'iptunnel_xmit_stats: the inner length');
      assert.equal(rx.rx_packets, 1);
      assert.equal(rx.rx_bytes, ECHO_LEN);
      assert.equal(tx.tx_errors + tx.tx_dropped + rx.rx_errors + rx.rx_dropped, 0);
    }
    assert.equal(left.conn.stats.txPackets, 1);
    assert.equal(right.conn.stats.rxPackets, 1);
  } finally {
    left.close();
    right.close();
  }
});

test('gre key + seq + csum: an echo crosses unchanged, sequence numbers and counters agree', async () => {
  const { left, right } = twoNs();
  try {
    const cfg = { kind: 'gre', key: 42, seq: true, csum: true };
    const lh = left.link({ name: 'gk', local: LEFT, remote: RIGHT, ...cfg });
    const rh = right.link({ name: 'gk', local: RIGHT, remote: LEFT, ...cfg });
    for (let i = 0; i < 3; i++) {
      const p = echo('192.0.2.5', '192.0.2.6', i);
      assert.deepEqual(await cross(lh, rh, p), p);
    }
    const tx = stat(left, 'gk');
    const rx = stat(right, 'gk');
    assert.equal(tx.tx_packets, 3);
    assert.equal(tx.tx_bytes, 3 * ECHO_LEN);
    assert.equal(rx.rx_packets, 3);
    assert.equal(rx.rx_fifo_errors + rx.rx_crc_errors + rx.rx_errors, 0, 'in sequence, checksums good');
  } finally {
    left.close();
    right.close();
  }
});

test('ESP tunnel mode through the policy TUN: an echo crosses unchanged; SA counters on both ends', async () => {
  const { left, right } = twoNs();
  try {
    sas(left, right, {});
    policies(left.xfrm, LEFT, RIGHT, { src: '203.0.113.1/32', dst: '203.0.113.2/32' }, 'tunnel');
    policies(right.xfrm, RIGHT, LEFT, { src: '203.0.113.2/32', dst: '203.0.113.1/32' }, 'tunnel');
    const p = echo('203.0.113.1', '203.0.113.2');
    assert.deepEqual(await cross(left.policyHost, right.policyHost, p), p);
    const q = echo('203.0.113.2', '203.0.113.1', 2);
    assert.deepEqual(await cross(right.policyHost, left.policyHost, q), q);
    const out = left.xfrm.sad.list().find((x) => x.cfg.spi === 0x1001)!;
    const inn = right.xfrm.sad.list().find((x) => x.cfg.spi === 0x1001)!;
    assert.equal(out.curPackets, 1);
    assert.equal(inn.curPackets, 1);
    assert.equal(out.curBytes, inn.curBytes);
    assert.deepEqual(Object.values(left.xfrm.mib.snapshot()).filter((v) => v !== 0), [], 'no xfrm_stat counter moved');
    assert.deepEqual(Object.values(right.xfrm.mib.snapshot()).filter((v) => v !== 0), []);
  } finally {
    left.close();
    right.close();
  }
});

test('GRE over ESP transport mode: no clear GRE between the namespaces, the echo crosses unchanged', async () => {
  const { left, right } = twoNs();
  try {
    sas(left, right, { mode: 'transport' });
    policies(left.xfrm, LEFT, RIGHT, { src: `${LEFT}/32`, dst: `${RIGHT}/32`, proto: 47 }, 'transport');
    policies(right.xfrm, RIGHT, LEFT, { src: `${RIGHT}/32`, dst: `${LEFT}/32`, proto: 47 }, 'transport');
    const lh = left.link({ name: 'gre1', kind: 'gre', local: LEFT, remote: RIGHT, key: 7 });
    const rh = right.link({ name: 'gre1', kind: 'gre', local: RIGHT, remote: LEFT, key: 7 });
    const p = echo('192.0.2.9', '192.0.2.10');
    assert.deepEqual(await cross(lh, rh, p), p);
    const q = echo('192.0.2.10', '192.0.2.9', 2);
    assert.deepEqual(await cross(rh, lh, q), q);
    assert.equal(stat(left, 'gre1').tx_packets, 1);
    assert.equal(stat(left, 'gre1').tx_bytes, ECHO_LEN);
    assert.equal(stat(right, 'gre1').rx_packets, 1);
    assert.equal(right.xfrm.sad.list().find((x) => x.cfg.spi === 0x1001)!.curPackets, 1, 'the GRE packet went through the SA');
    assert.equal(left.xfrm.sad.list().find((x) => x.cfg.spi === 0x2002)!.curPackets, 1);
  } finally {
    left.close();
    right.close();
  }
});

test('GRE when xfrm refuses the outer packet (no state): tx_carrier_errors + tx_errors, never tx_packets', async () => {
  const { left, right } = twoNs();
  try {
    policies(left.xfrm, LEFT, RIGHT, { src: `${LEFT}/32`, dst: `${RIGHT}/32`, proto: 47 }, 'transport');
    const lh = left.link({ name: 'gre1', kind: 'gre', local: LEFT, remote: RIGHT });
    right.link({ name: 'gre1', kind: 'gre', local: RIGHT, remote: LEFT });
    const out = batchOf(echo('192.0.2.9', '192.0.2.10'));
    assert.equal(lh.write(out), 1);
    await settle();
    const s = stat(left, 'gre1');
    assert.equal(s.tx_packets, 0);
    assert.equal(s.tx_bytes, 0);
    assert.equal(s.tx_carrier_errors, 1);
    assert.equal(s.tx_errors, 1);
    assert.equal(left.xfrm.mib.snapshot().XfrmOutNoStates, 1);
    assert.equal(left.conn.stats.txPackets, 0, 'nothing left in clear');
  } finally {
    left.close();
    right.close();
  }
});

test('xfrm interface: an echo crosses unchanged; xfrmi counters mirror each other', async () => {
  const { left, right } = twoNs();
  try {
    sas(left, right, { ifId: 7 });
    policies(left.xfrm, LEFT, RIGHT, { src: '203.0.113.1/32', dst: '203.0.113.2/32' }, 'tunnel', 7);
    policies(right.xfrm, RIGHT, LEFT, { src: '203.0.113.2/32', dst: '203.0.113.1/32' }, 'tunnel', 7);
    const lh = left.link({ name: 'xfrm1', kind: 'xfrm', ifId: 7 });
    const rh = right.link({ name: 'xfrm1', kind: 'xfrm', ifId: 7 });
    const p = echo('203.0.113.1', '203.0.113.2');
    assert.deepEqual(await cross(lh, rh, p), p);
    const q = echo('203.0.113.2', '203.0.113.1', 2);
    assert.deepEqual(await cross(rh, lh, q), q);
    for (const [a, b] of [[left, right], [right, left]] as const) {
      const tx = stat(a, 'xfrm1');
      const rx = stat(b, 'xfrm1');
      assert.equal(tx.tx_packets, 1);
      assert.equal(tx.tx_bytes, ECHO_LEN);
      assert.equal(rx.rx_packets, 1);
      assert.equal(rx.rx_bytes, ECHO_LEN);
    }
    // No state for this destination: xfrm_lookup fails → tx_carrier_errors + tx_errors + tx_dropped.
    addPolicy(left.xfrm, { sel: { src: '203.0.113.1/32', dst: '203.0.113.99/32' }, dir: 'out', tmpls: [{ src: LEFT, dst: '198.51.100.99', proto: 'esp', mode: 'tunnel', reqid: 9 }], ifId: 7 });
    assert.equal(lh.write(batchOf(echo('203.0.113.1', '203.0.113.99'))), 1);
    await settle();
    const s = stat(left, 'xfrm1');
    assert.deepEqual([s.tx_packets, s.tx_carrier_errors, s.tx_errors, s.tx_dropped], [1, 1, 1, 1]);
  } finally {
    left.close();
    right.close();
  }
});

test('a fault while handling one packet drops that packet only, counted and logged once', async () => {
  const { left, right } = twoNs();
  try {
    const lh = left.link({ name: 'ipip1', kind: 'ipip', local: LEFT, remote: RIGHT });
    const rh = right.link({ name: 'ipip1', kind: 'ipip', local: RIGHT, remote: LEFT });
    const t = left.node.entry('ipip1').tunnel;
    let calls = 0;
    t.trace = () => { if (calls++ === 0) throw new Error('boom'); }; // the first drop's trace throws
    const good = echo('192.0.2.1', '192.0.2.2');
    const got = rh.read(allocBatch({ batchSize: 4, mtu: 1500 }));
    assert.equal(lh.write(batchOf(good.subarray(0, 10), good)), 2, 'a malformed packet, then a good one, in one batch');
    assert.equal(await got, 1, 'the packet after the fault still crosses');
    await settle();
    assert.equal(left.dp.stats.faults, 1);
    assert.equal(left.logs.length, 1);
    assert.match(left.logs[0]!, /boom/);
    assert.equal(stat(left, 'ipip1').tx_packets, 1);
  } finally {
    left.close();
    right.close();
  }
});
