// No garbage per packet or per batch on the data path: packets pumped
// through two Datapaths (pump.ts: synchronous devices and conns that
// allocate nothing themselves), and the heap must not grow while they go.
//
// How it stays robust on a loaded machine: the loop never yields, so no GC
// task, timer or other test runs inside a measured chunk, and heap growth
// there is the data path's own allocation, deterministically. A chunk in
// which a GC ran (the heap shrank) is skipped. Code that is not optimized
// yet allocates, so the verdict is the best chunk of several: one clean
// chunk passes, and an allocation per packet or per batch shows in every
// chunk. The clocks are constants here (their own test is clock.test.ts).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getHeapStatistics } from 'node:v8';
import { pattern, superPacket, tcpPacket } from '../offload/tcp-packets.js';
import { pumpPair } from './pump.js';

/** Rounds per measured chunk; a round is one read batch each way (data one way, ACKs back). */
const ROUND = 1000;
const WARMUP_ROUNDS = 3000;
const MAX_CHUNKS = 12;
/** Allowed growth per batch, bytes: a tenth of one 16-byte number box (the heap statistics call itself makes ~600 B per chunk). */
const PER_BATCH = 1.6;

const used = (): number => getHeapStatistics().used_heap_size;

interface Case { kind: 'gre' | 'esp'; offload: boolean; src: string; dst: string }

/** Heap growth of the best (least allocating) chunk, and what it was measured over. */
function measure(c: Case): { best: number; batches: number; packets: number; arrived: number } {
  const { left, right, close } = pumpPair(c.kind, c.offload, true);
  try {
    // Data: 32 full-size TCP segments per read, or one TSO super-packet of 40; ACKs back, 2 per read.
    const data = c.offload
      ? superPacket({ src: c.src, dst: c.dst, seq: 1000, payload: pattern(1348 * 40) }, 1348)
      : tcpPacket({ src: c.src, dst: c.dst, seq: 1000, payload: pattern(1348) });
    const ackPkt = tcpPacket({ src: c.dst, dst: c.src, seq: 5, payload: new Uint8Array(0) });
    const ack = c.offload ? Uint8Array.from([...new Uint8Array(10), ...ackPkt]) : ackPkt;
    const per = c.offload ? 1 : 32;
    const round = (): void => {
      left.tun.pump(data, per);
      right.tun.pump(ack, 2);
    };
    for (let i = 0; i < WARMUP_ROUNDS; i++) round();
    let best = Infinity;
    for (let k = 0; k < MAX_CHUNKS && best > PER_BATCH * 4 * ROUND; k++) {
      const before = used();
      for (let i = 0; i < ROUND; i++) round();
      const grew = used() - before;
      if (grew >= 0) best = Math.min(best, grew); // < 0: a GC ran in the chunk
    }
    const packets = ROUND * (per * (c.offload ? 40 : 1) + 2);
    return { best, batches: 4 * ROUND, packets, arrived: right.tun.written };
  } finally {
    close();
  }
}

const CASES: readonly [string, Case][] = [
  ['gre', { kind: 'gre', offload: false, src: '192.0.2.1', dst: '192.0.2.2' }],
  ['gre with TSO/GRO (a vnet-header TUN, as tunkitd opens tunnel devices)', { kind: 'gre', offload: true, src: '192.0.2.1', dst: '192.0.2.2' }],
  ['esp tunnel mode, AES-GCM (policy TUN)', { kind: 'esp', offload: false, src: '203.0.113.1', dst: '203.0.113.2' }],
];

for (const [label, c] of CASES) {
  test(`data path allocates nothing per packet or batch: ${label}`, () => {
    const m = measure(c);
    assert.ok(m.arrived > 0, 'packets crossed to the other side');
    assert.ok(
      m.best <= PER_BATCH * m.batches,
      `the heap grew by ${m.best} bytes over ${m.batches} batches (${m.packets} packets) in the best chunk: ` +
        `${(m.best / m.batches).toFixed(2)} B per batch, ${(m.best / m.packets).toFixed(3)} B per packet`,
    );
  });
}
