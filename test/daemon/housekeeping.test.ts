// The once-a-second housekeeping pass (src/daemon/housekeeping.ts): bounded
// to a slice of tunnels per tick, round robin, one route lookup per remote
// per tick; below the slice every tunnel is visited every tick; tracing
// is set on every tunnel every tick.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Housekeeping } from '../../src/daemon/housekeeping.js';
import { TunkitNode } from '../../src/daemon/node.js';
import type { UnderlayRoute } from '../../src/daemon/devices.js';
import type { TraceHook } from '../../src/tunnel/trace.js';
import { FakeDevices } from './fake-devices.js';

/** FakeDevices counting route lookups by remote. */
class CountingDevices extends FakeDevices {
  readonly lookups: number[] = [];
  override route(remote: number): UnderlayRoute {
    this.lookups.push(remote);
    return super.route(remote);
  }
}

/** n gre tunnels, up; tunnel i's remote is 203.0.113.(i % remotes + 1). */
function node(n: number, remotes: number): { node: TunkitNode; devs: CountingDevices } {
  const devs = new CountingDevices();
  const nd = new TunkitNode(devs, () => undefined, () => 0);
  for (let i = 0; i < n; i++) {
    nd.addLink({ name: `t${i}`, kind: 'gre', local: '198.51.100.1', remote: `203.0.113.${(i % remotes) + 1}`, key: i + 1 });
    nd.setLink(`t${i}`, { up: true });
  }
  devs.lookups.length = 0;
  return { node: nd, devs };
}

/** Takes IFF_UP away from every device behind the daemon's back (`ip link set down`). */
function downAll(devs: FakeDevices): void {
  for (const d of devs.made.values()) d.up = false;
}

const upCount = (nd: TunkitNode): number => [...nd.all.values()].filter((e) => e.tunnel.isUp).length;

test('housekeeping below the slice: every tunnel every tick, one route lookup per remote', () => {
  const { node: nd, devs } = node(6, 2);
  try {
    const hk = new Housekeeping(nd, 8);
    downAll(devs);
    hk.tick(null);
    assert.equal(upCount(nd), 0, 'IFF_UP mirrored for all six in one tick');
    assert.equal(devs.lookups.length, 2, 'two remotes, two lookups');
    hk.tick(null);
    assert.equal(devs.lookups.length, 4, 'looked up again the next tick');
  } finally {
    nd.close();
  }
});

test('housekeeping above the slice: at most a slice per tick, round robin, each tunnel once per round', () => {
  const { node: nd, devs } = node(10, 10);
  try {
    const hk = new Housekeeping(nd, 4);
    downAll(devs);
    hk.tick(null);
    assert.equal(upCount(nd), 6, 'four visited');
    assert.equal(devs.lookups.length, 4);
    hk.tick(null);
    assert.equal(upCount(nd), 2, 'the next four');
    hk.tick(null);
    assert.equal(upCount(nd), 0, 'the last two: the round ends the tick');
    assert.equal(devs.lookups.length, 10, 'each remote once in the round');
    assert.deepEqual(new Set(devs.lookups).size, 10);
    hk.tick(null);
    assert.equal(devs.lookups.length, 14, 'a new round starts');
  } finally {
    nd.close();
  }
});

test('housekeeping sets the drop tracer on every tunnel each tick, whatever the slice, and takes it away', () => {
  const { node: nd } = node(10, 1);
  try {
    const hk = new Housekeeping(nd, 2);
    const tunnel: TraceHook = () => undefined;
    const stack: TraceHook = () => undefined;
    hk.tick({ tunnel, stack });
    assert.ok([...nd.all.values()].every((e) => e.tunnel.trace === tunnel));
    assert.equal(nd.stack.trace, stack);
    hk.tick(null);
    assert.ok([...nd.all.values()].every((e) => e.tunnel.trace === null));
    assert.equal(nd.stack.trace, null);
  } finally {
    nd.close();
  }
});
