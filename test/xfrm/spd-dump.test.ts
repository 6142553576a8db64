// `ip xfrm policy list` order: the kernel dumps net->xfrm.policy_all from
// its head (xfrm_policy_walk), and __xfrm_policy_link list_add()s each new
// policy at the head, so the dump is newest first with the directions
// interleaved; an update (xfrm_policy_insert with a delpol) links the new
// policy and unlinks the old, moving it to the front. Spd.dump() is that order.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PolicySpec } from '../../src/xfrm/spec.js';
import { Spd } from '../../src/xfrm/spd.js';

const NOW = 1_700_000_000_000;
const TUN = { proto: 'esp', src: '192.0.2.1', dst: '192.0.2.2', mode: 'tunnel' } as const;

function add(spd: Spd, dir: 'in' | 'out' | 'fwd', dst: string, isUpdate = false, priority = 0): void {
  const spec: PolicySpec = { sel: { src: '198.51.100.0/24', dst }, dir, priority, tmpls: [TUN] };
  spd.insert(spd.make(spec, () => null, NOW, 0), isUpdate);
}

/** "dir dst" of each policy in dump order. */
const order = (spd: Spd): string[] => spd.dump().map((p) => `${['in', 'out', 'fwd'][p.dir]} ${p.spec.sel.dst}`);

test('dump: newest first, directions interleaved by age', () => {
  const spd = new Spd();
  add(spd, 'out', '203.0.113.0/24');
  add(spd, 'in', '203.0.113.1/32');
  add(spd, 'fwd', '203.0.113.2/32');
  add(spd, 'out', '203.0.113.3/32');
  assert.deepEqual(order(spd), ['out 203.0.113.3/32', 'fwd 203.0.113.2/32', 'in 203.0.113.1/32', 'out 203.0.113.0/24']);
  // list() keeps per-direction insertion order (lookups and route sync use it): unchanged.
  assert.deepEqual(spd.list('out').map((p) => p.spec.sel.dst), ['203.0.113.0/24', '203.0.113.3/32']);
});

test('dump: an update moves the policy to the front, keeping its index; delete and flush unlink', () => {
  const spd = new Spd();
  add(spd, 'out', '203.0.113.0/24');
  add(spd, 'out', '203.0.113.1/32');
  add(spd, 'in', '203.0.113.2/32');
  const idx = spd.dump()[2]!.index;
  add(spd, 'out', '203.0.113.0/24', true, 5);
  assert.deepEqual(order(spd), ['out 203.0.113.0/24', 'in 203.0.113.2/32', 'out 203.0.113.1/32']);
  assert.equal(spd.dump()[0]!.index, idx);
  assert.equal(spd.dump()[0]!.priority, 5);
  spd.remove(spd.dump()[1]!);
  assert.deepEqual(order(spd), ['out 203.0.113.0/24', 'out 203.0.113.1/32']);
  spd.flush();
  assert.deepEqual(order(spd), []);
  add(spd, 'fwd', '203.0.113.9/32');
  assert.deepEqual(order(spd), ['fwd 203.0.113.9/32']);
});
