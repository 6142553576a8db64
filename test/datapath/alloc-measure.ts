// Run as a script by alloc.test.ts (`node alloc-measure.js I`: case I of CASES),
// in a child without coverage: under c8, V8 keeps parts of the path out of
// optimized code, and unoptimized code boxes numbers, so the measurement would
// be of the coverage mode, not of the data path. Prints the measure() result
// as JSON. No garbage per packet or per batch on the data path: packets pumped
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
// The addon is loaded first, as in tunkitd: sum16 then calls its csum16 for
// long ranges (io/native.ts), so that call is measured too.

import { getHeapStatistics } from 'node:v8';
import { loadNative } from '../../src/io/native.js';
import { pattern, superPacket, tcpPacket } from '../offload/tcp-packets.js';
import { CASES, PER_BATCH } from './alloc-measure-cases.js';
import type { Case } from './alloc-measure-cases.js';
import { pumpPair } from './pump.js';

loadNative();

/** Rounds per measured chunk; a round is one read batch each way (data one way, ACKs back). */
const ROUND = 1000;
const WARMUP_ROUNDS = 3000;
const MAX_CHUNKS = 12;

const used = (): number => getHeapStatistics().used_heap_size;


/** Heap growth of the best (least allocating) chunk, and what it was measured over. */
export function measure(c: Case): { best: number; batches: number; packets: number; arrived: number } {
  const { left, right, close } = pumpPair(c.kind, c.offload, true, c.oseq);
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


const i = Number(process.argv[2]);
const c = CASES[i];
if (c === undefined) throw new RangeError(`no case ${process.argv[2] ?? ''} (0..${CASES.length - 1})`);
process.stdout.write(`${JSON.stringify(measure(c[1]))}\n`);
