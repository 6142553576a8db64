// The fuzz harness's own checks: a hang fails a target, a one-off stall
// (a GC pause, the VM descheduling us) does not, a throw fails it.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { fuzz, fuzzAsync, SLOW_INPUT_MS } from './fuzz-harness.js';

delete process.env['TUNKIT_STRESS_OUT']; // not a target: no row in `npm run stress`'s table

/** Busy-waits `ms` (a synchronous hang cannot be interrupted either). */
const spin = (ms: number): void => {
  const end = performance.now() + ms;
  while (performance.now() < end) { /* spin */ }
};

test('an input that is slow every time it runs fails the target as a hang, naming the input', (t) => {
  assert.throws(() => fuzz(t, 'harness/hang', fc.constant('x'), () => { spin(SLOW_INPUT_MS + 20); return 'ok'; }, { runs: 1 }),
    /harness\/hang: one input took \d+\.\d ms \(a hang\?\): "x"/);
});

test('an input slow only once (a stall) is timed again and passes', (t) => {
  let calls = 0;
  const r = fuzz(t, 'harness/stall', fc.constant(1), () => { if (calls++ === 0) spin(SLOW_INPUT_MS + 20); return 'ok'; }, { runs: 3 });
  assert.ok(r.slowestMs < SLOW_INPUT_MS, `slowest ${r.slowestMs} ms counted the retimed run`);
  assert.deepEqual(r.outcomes, { ok: 3 }, 'outcomes come from the first run of each input only');
});

test('async targets: the same (a repeated slow input fails; a throw fails)', async (t) => {
  await assert.rejects(fuzzAsync(t, 'harness/async-hang', fc.constant(0), async () => { spin(SLOW_INPUT_MS + 20); return 'ok'; }, { runs: 1 }), /a hang\?/);
  await assert.rejects(fuzzAsync(t, 'harness/async-throw', fc.integer(), async (v) => { if (v > 5) throw new Error('boom'); return 'ok'; }, { runs: 200 }), /Counterexample: \[6\]/, 'fast-check shrinks the throwing input to the smallest one');
});
