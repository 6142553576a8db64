// The watchdog fed by the packet loop (datapath/watchdog.ts): pings while
// the loop reads every open device, stops when a device's read chain ended
// behind the data path's back, and when the data path stops.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Datapath } from '../../src/datapath/datapath.js';
import { LoopWatchdog } from '../../src/datapath/watchdog.js';
import { TunkitNode } from '../../src/daemon/node.js';
import { memConnPair, memTunPair } from '../../src/io/mem.js';
import { XfrmStack } from '../../src/xfrm/xfrm.js';
import { FakeDevices } from '../daemon/fake-devices.js';
import { FakeClock } from './two-ns.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('LoopWatchdog pings at start and every interval while alive, not while dead, not after stop', (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  let alive = true;
  let pings = 0;
  const w = new LoopWatchdog(100, () => { pings++; }, () => alive);
  w.start();
  assert.equal(pings, 1, 'one ping at start');
  t.mock.timers.tick(99);
  assert.equal(pings, 1);
  t.mock.timers.tick(1);
  assert.equal(pings, 2);
  t.mock.timers.tick(300);
  assert.equal(pings, 5);
  alive = false;
  t.mock.timers.tick(500);
  assert.equal(pings, 5, 'no ping while the loop is not alive');
  alive = true;
  t.mock.timers.tick(100);
  assert.equal(pings, 6, 'pings resume');
  w.stop();
  t.mock.timers.tick(1000);
  assert.equal(pings, 6, 'none after stop');
  assert.equal(w.pings, 6);
  assert.throws(() => new LoopWatchdog(0, () => undefined, () => true), RangeError);
});

test('Datapath.startWatchdog: pings while its devices are read; a device whose reads ended stops them', async () => {
  const clock = new FakeClock();
  const node = new TunkitNode(new FakeDevices(), () => undefined, () => clock.now());
  const dp = new Datapath(node.stack, new XfrmStack(), {
    pmtu: () => undefined, xfrmPmtu: () => undefined, xfrmEvents: () => undefined, ike: () => undefined, log: () => undefined,
  }, clock);
  const [conn, peer] = memConnPair();
  dp.setTx(conn);
  dp.addRaw(conn);
  const [daemonEnd, hostEnd] = memTunPair({ mtu: 1500, batchSize: 32 });
  dp.attachPolicy('ipsec0', daemonEnd);
  let pings = 0;
  try {
    dp.startWatchdog(10, () => { pings++; });
    await sleep(80);
    assert.ok(pings >= 3, `pings while reading: ${pings}`);
    // The device goes away under the data path (its read resolves 0) while still attached.
    await daemonEnd.close();
    await sleep(20);
    const at = pings;
    await sleep(80);
    assert.equal(pings, at, 'no ping once an attached device is no longer read');
    // Detached (link del): the loop is whole again.
    dp.detach('ipsec0');
    await sleep(50);
    assert.ok(pings > at, 'pings resume once the dead device is detached');
    const stopped = pings;
    dp.stop();
    await sleep(50);
    assert.equal(pings, stopped, 'stop() stops the watchdog');
  } finally {
    dp.stop();
    void hostEnd.close();
    peer.close();
  }
});
