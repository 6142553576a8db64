// The receive arena (src/datapath/arena.ts): conn receive slabs and the
// shared GRO staging slab in one ArrayBuffer, non-overlapping, with slots of
// 64 KiB; handed out until the arena's conns are used up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RxArena } from '../../src/datapath/arena.js';
import { MTU_MAX } from '../../src/io/pool.js';

test('RxArena: conn receive slabs and the staging slab share one buffer, never overlap, and run out', () => {
  const a = new RxArena(4, 3);
  const rx = [a.connRx(), a.connRx(), a.connRx()];
  assert.equal(a.connRx(), undefined, 'no fourth conn');
  const spans = [...rx, a.stage].map((b) => {
    assert.ok(b !== undefined);
    assert.equal(b.slab.buffer, a.stage.slab.buffer, 'one ArrayBuffer');
    assert.equal(b.batchSize, 4);
    assert.ok(b.stride - b.offset >= MTU_MAX, 'a slot holds a 65535-byte datagram');
    return [b.slab.byteOffset, b.slab.byteOffset + b.slab.length] as const;
  });
  spans.sort((x, y) => x[0] - y[0]);
  for (let i = 1; i < spans.length; i++) assert.ok(spans[i]![0] >= spans[i - 1]![1], 'slabs do not overlap');
});
