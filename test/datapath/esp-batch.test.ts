// Deferred ESP seals in the data path (transmit.ts, xfrm/seal-queue.ts):
// every queued ESP packet is sealed before the outer capture taps and the
// send call read it; a group whose seal throws never leaves (faults, the
// xfrm_stat counter), the rest of the batch does; SendQueue.dropSealed keeps
// the others in order with their UDP metadata.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CaptureSink } from '../../src/datapath/capture.js';
import { UdpSendQueue } from '../../src/datapath/udp-send.js';
import { allocBatch } from '../../src/io/pool.js';
import { XfrmResult, XVerdict } from '../../src/xfrm/result.js';
import type { StateSpec } from '../../src/xfrm/spec.js';
import { XfrmStack } from '../../src/xfrm/xfrm.js';
import { icmp4Echo } from '../xfrm/helpers.js';
import { addPolicy, addState, GCM, udp4 } from '../xfrm/esp-util.js';
import { batchOf, LEFT, RIGHT, settle, twoNs } from './two-ns.js';
import type { Ns } from './two-ns.js';

const echo = (dst: string, seq: number): Uint8Array => icmp4Echo('203.0.113.1', dst, 0x1234, seq, 56 + seq, 0x4000, 0);

const spec = (spi: number): StateSpec => ({ src: LEFT, dst: RIGHT, proto: 'esp', spi, mode: 'tunnel', reqid: spi, replayWindow: 32, ...GCM });

/** Two SAs left → right: 203.0.113.2 by 0x1001, 203.0.113.3 by 0x1003 (in both stacks, and in `peer` for the captured bytes). */
function setup(left: Ns, right: Ns, peer: XfrmStack): void {
  for (const x of [left.xfrm, right.xfrm, peer]) {
    for (const [spi, dst] of [[0x1001, '203.0.113.2'], [0x1003, '203.0.113.3']] as const) {
      addState(x, spec(spi));
      const tmpl = { src: LEFT, dst: RIGHT, proto: 'esp', mode: 'tunnel', reqid: spi } as const;
      addPolicy(x, { sel: { src: '203.0.113.1/32', dst: `${dst}/32` }, dir: x === left.xfrm ? 'out' : 'in', tmpls: [tmpl] });
    }
  }
}

class Sink implements CaptureSink {
  readonly recs: Uint8Array[] = [];
  isFull(): boolean { return false; }
  push(rec: Uint8Array): void { this.recs.push(rec); }
  end(): void { /* nothing to close */ }
}

const BATCH = [echo('203.0.113.2', 1), echo('203.0.113.3', 2), echo('203.0.113.2', 3), echo('203.0.113.3', 4), echo('203.0.113.2', 5)];

test('ESP batch through the policy TUN: the outer capture sees the sealed packets that cross, in order', async () => {
  const { left, right } = twoNs();
  const peer = new XfrmStack();
  try {
    setup(left, right, peer);
    const sink = new Sink();
    assert.notEqual(left.dp.capture('ipsec0', 'outer', sink), null);
    const inb = allocBatch({ batchSize: 32, mtu: 1600 });
    const got = right.policyHost.read(inb);
    assert.equal(left.policyHost.write(batchOf(...BATCH)), BATCH.length);
    assert.equal(await got, BATCH.length);
    for (let i = 0; i < BATCH.length; i++) assert.deepEqual(inb.bufs[i]!.subarray(inb.offset, inb.offset + inb.sizes[i]!), BATCH[i], `packet ${i} crossed`);
    assert.equal(sink.recs.length, BATCH.length);
    const r = new XfrmResult();
    sink.recs.forEach((rec, i) => {
      const wire = rec.slice(16); // pcap record header
      assert.equal(peer.input(wire, 0, wire.length, 0, 0, r), XVerdict.Deliver, `captured packet ${i} authenticates (mib ${r.mib})`);
      assert.deepEqual(wire.subarray(r.off, r.off + r.len), BATCH[i]);
    });
  } finally {
    left.close();
    right.close();
  }
});

test('ESP batch: an SA whose seal throws loses its packets only (faults, XfrmOutStateProtoError); the other SA\'s cross', async () => {
  const { left, right } = twoNs();
  try {
    setup(left, right, new XfrmStack());
    left.xfrm.sad.list().find((x) => x.cfg.spi === 0x1001)!.crypto.destroy(); // sealBatch throws for its group
    const inb = allocBatch({ batchSize: 32, mtu: 1600 });
    const got = right.policyHost.read(inb);
    assert.equal(left.policyHost.write(batchOf(...BATCH)), BATCH.length);
    assert.equal(await got, 2);
    await settle();
    assert.deepEqual(inb.bufs[0]!.subarray(inb.offset, inb.offset + inb.sizes[0]!), BATCH[1]);
    assert.deepEqual(inb.bufs[1]!.subarray(inb.offset, inb.offset + inb.sizes[1]!), BATCH[3]);
    assert.equal(left.dp.stats.faults, 3);
    assert.equal(left.logs.length, 1);
    assert.match(left.logs[0]!, /destroy/);
    assert.equal(left.xfrm.mib.snapshot().XfrmOutStateProtoError, 3);
    assert.equal(right.xfrm.sad.list().find((x) => x.cfg.spi === 0x1003)!.curPackets, 2);
    assert.equal(right.xfrm.mib.snapshot().XfrmInStateProtoError, 0, 'no unsealed packet was sent');
  } finally {
    left.close();
    right.close();
  }
});

test('SendQueue.dropSealed: failed seals leave, the rest keep their order and UDP metadata', () => {
  const q = new UdpSendQueue(8);
  const slab = new Uint8Array(8 * 256);
  const seals = [-1, 0, 1, -1, 2];
  seals.forEach((s, i) => {
    const p = udp4(`192.0.2.${i + 1}`, '198.51.100.7', 4500, 4500 + i, new Uint8Array(10 + i));
    slab.set(p, i * 256);
    assert.ok(q.addEncap(slab, i * 256, p.length, i + 100, i + 1, s));
  });
  assert.equal(q.dropSealed(new Uint8Array([0, 1, 0])), 1);
  assert.equal(q.batch.count, 4);
  assert.deepEqual([...q.batch.starts.subarray(0, 4)], [0, 256, 768, 1024]);
  assert.deepEqual([...q.dst.subarray(0, 4)], [100, 101, 103, 104]);
  assert.deepEqual([...q.innerLen.subarray(0, 4)], [1, 2, 4, 5]);
  assert.deepEqual([...q.seal.subarray(0, 4)], [-1, 0, -1, 2]);
  assert.deepEqual([...q.meta.dstPort.subarray(0, 4)], [4500, 4501, 4503, 4504]);
  assert.deepEqual([...q.meta.src.subarray(0, 4)], [0xc0000201, 0xc0000202, 0xc0000204, 0xc0000205]);
  assert.deepEqual([...q.batch.sizes.subarray(0, 4)], [38, 39, 41, 42]);
  assert.equal(q.dropSealed(new Uint8Array([1, 0, 1])), 2);
  assert.deepEqual([...q.dst.subarray(0, 2)], [100, 103]);
});
