// Run as a script by clock.test.ts: reads both MsClocks a million times, five
// rounds, and prints {"best":B,"allowed":A,"sink":S} — the least heap growth of a
// round in which no GC ran, the bound for that round's elapsed ms, and the
// count of positive readings. A child process of its own, without
// coverage (NODE_V8_COVERAGE empty): under c8, V8 keeps this loop out of optimized
// code, and unoptimized code boxes every double it reads, clock or not, so the
// measurement would say nothing about MsClocks.
import { performance } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { MsClocks } from '../../src/datapath/clock.js';

const c = new MsClocks();
let sink = 0;
const read = (k: number): void => {
  for (let i = 0; i < k; i++) sink += c.now() + c.wallNow() > 0 ? 1 : 0;
};
read(200_000); // warm up: optimized code
const n = 1_000_000;
let best = Infinity;
let allowed = 0;
for (let k = 0; k < 5; k++) {
  const before = getHeapStatistics().used_heap_size;
  const t = performance.now();
  read(n);
  const ms = performance.now() - t;
  const grew = getHeapStatistics().used_heap_size - before;
  if (grew < 0) continue; // a GC ran
  if (grew < best) {
    best = grew;
    allowed = 2 * 32 * (ms + 2) + 2048; // two clocks, two 16-byte boxes per ms each, the statistics object
  }
}
process.stdout.write(`${JSON.stringify({ best, allowed, sink, n })}\n`);
