// MsClocks (src/datapath/clock.ts): whole-ms readings of the two clocks,
// and no garbage per reading: at most a few number boxes per millisecond
// that passes, however often it is read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { MsClocks } from '../../src/datapath/clock.js';
import { runWithoutCoverage } from '../util/no-coverage.js';

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
  // In a child without coverage (clock-alloc.ts says why).
  const out = runWithoutCoverage(fileURLToPath(new URL('./clock-alloc.js', import.meta.url)), [], 60_000);
  const { best, allowed, sink, n } = JSON.parse(out) as { best: number | null; allowed: number; sink: number; n: number };
  assert.equal(sink, 5 * n + 200_000, 'every reading was positive');
  assert.ok(best !== null, 'a GC ran in every round: nothing measured');
  // One 16-byte box per reading would be 32 MB here.
  assert.ok(best <= allowed, `${n} readings of both clocks grew the heap by ${best} bytes (allowed ${allowed.toFixed(0)})`);
});
