// MsClocks (src/datapath/clock.ts): whole-ms readings of the two clocks,
// and no garbage per reading: at most a few number boxes per millisecond
// that passes, however often it is read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { MsClocks } from '../../src/datapath/clock.js';

test('MsClocks: now() is whole monotonic ms from 0, wallNow() whole ms of Date.now()', async () => {
  const c = new MsClocks();
  const t0 = c.now();
  assert.ok(Number.isInteger(t0) && t0 >= 0 && t0 < 1000, `now() starts near 0, got ${t0}`);
  const w = c.wallNow();
  assert.ok(Number.isInteger(w), 'wallNow() is whole ms');
  assert.ok(Math.abs(w - Date.now()) < 1000, `wallNow() ${w} is Date.now() ${Date.now()}`);
  await new Promise((resolve) => setTimeout(resolve, 30));
  const t1 = c.now();
  assert.ok(Number.isInteger(t1) && t1 - t0 >= 25 && t1 - t0 < 5000, `30 ms later now() moved by ${t1 - t0}`);
  const { now, wallNow } = c; // bound: usable as plain functions
  assert.ok(now() >= t1 && wallNow() >= w);
});

test('MsClocks: a million readings allocate only per millisecond passed, not per reading', () => {
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
  assert.equal(sink, 5 * n + 200_000, 'every reading was positive');
  // One 16-byte box per reading would be 32 MB here.
  assert.ok(best <= allowed, `${n} readings of both clocks grew the heap by ${best} bytes (allowed ${allowed.toFixed(0)})`);
});
