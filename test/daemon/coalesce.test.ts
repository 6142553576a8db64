// Coalescer (src/daemon/coalesce.ts): many changes → few runs, never none.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Coalescer } from '../../src/daemon/coalesce.js';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

test('the first change runs on the next turn; a burst of changes is one run', async () => {
  let runs = 0;
  const c = new Coalescer(() => { runs++; }, 20);
  for (let i = 0; i < 1000; i++) c.schedule();
  assert.equal(runs, 0, 'not inside the change itself');
  await tick();
  assert.equal(runs, 1);
  for (let i = 0; i < 1000; i++) c.schedule(); // within the gap: folded into one later run
  await tick();
  assert.equal(runs, 1, 'held back by the gap');
  await sleep(40);
  assert.equal(runs, 2, 'and then run once');
  await sleep(40);
  assert.equal(runs, 2, 'nothing more without changes');
});

test('the gap grows with the cost of a run (4x), so runs take at most about a fifth of the time', async () => {
  const at: number[] = [];
  const c = new Coalescer(() => {
    at.push(performance.now());
    const end = performance.now() + 15;
    while (performance.now() < end); // a 15 ms run
  }, 1);
  c.schedule();
  await tick();
  c.schedule();
  await sleep(150);
  assert.equal(at.length, 2);
  assert.ok(at[1]! - at[0]! >= 4 * 15, `second run ${(at[1]! - at[0]!).toFixed(1)} ms after the first`);
});

test('flush runs a pending change now; stop cancels it; run runs regardless', async () => {
  let runs = 0;
  const c = new Coalescer(() => { runs++; });
  c.flush();
  assert.equal(runs, 0, 'nothing pending');
  c.schedule();
  c.flush();
  assert.equal(runs, 1);
  await tick();
  assert.equal(runs, 1, 'the flushed run is not repeated');
  await sleep(30);
  c.schedule();
  c.stop();
  await sleep(30);
  assert.equal(runs, 1, 'stopped');
  c.run();
  assert.equal(runs, 2);
});
