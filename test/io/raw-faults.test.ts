// RawConn when recvmmsg fails (issue 13, "Faults and load"): over a scripted
// socket (fake-socket.ts), a receive error other than EAGAIN never throws out
// of the poll callback; it is counted, told once per failure, the poll is
// stopped (a level-triggered poll on a failing socket would spin) and the
// receive retried after RECV_RETRY_MS; a dead fd (EBADF) is replaced by a
// new socket, the old number never closed; datagrams flow again after. A
// UDP conn's new socket starts with the defaults: what sendEncap had set on
// the dead one is not assumed of it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allocBatch } from '../../src/io/pool.js';
import { RawConn, RECV_RETRY_MS } from '../../src/io/raw.js';
import { UdpConn, UdpTxMeta } from '../../src/io/udp.js';
import { FakeSocketAddon } from './fake-socket.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Seen { got: number[][]; faults: string[] }

function conn(fake: FakeSocketAddon, reopen?: () => number): { c: RawConn; seen: Seen } {
  const c = new RawConn(fake.asAddon(), 7, 47, { batchSize: 4, mtu: 1500, ...(reopen !== undefined ? { reopen } : {}) });
  const seen: Seen = { got: [], faults: [] };
  c.onReceive((b) => {
    const batch: number[] = [];
    for (let i = 0; i < b.count; i++) batch.push(b.bufs[i]![b.offset]!);
    seen.got.push(batch);
  });
  c.onReceiveFault((what, err) => seen.faults.push(`${what}: ${err === null ? 'ok' : err.message}`));
  return { c, seen };
}

test('a recvmmsg error is counted and told, not thrown; the poll stops, the receive is retried and datagrams flow again', async () => {
  const fake = new FakeSocketAddon();
  const { c, seen } = conn(fake);
  try {
    fake.script.push([Uint8Array.of(1)], 'ECONNREFUSED', [Uint8Array.of(2), Uint8Array.of(3)]);
    assert.equal(fake.fire(), 1);
    assert.doesNotThrow(() => fake.fire(), 'the failing receive does not throw out of the poll callback');
    assert.equal(fake.active.length, 0, 'the poll is stopped while the socket fails');
    assert.equal(c.stats.rxErrors, 1);
    assert.equal(c.stats.lastRxError, 'ECONNREFUSED');
    assert.deepEqual(seen.faults, ['raw proto 47: recvmmsg fd=7: ECONNREFUSED']);
    await sleep(RECV_RETRY_MS + 50); // the retry receives the next batch at once
    assert.deepEqual(seen.got, [[1], [2, 3]]);
    assert.deepEqual(seen.faults.at(-1), 'raw proto 47: ok', 'the recovery is told');
    assert.equal(fake.active.length, 1, 'polled again');
    assert.equal(fake.active[0]!.fd, 7, 'the same socket: it was not dead');
    fake.script.push([Uint8Array.of(4)]);
    fake.fire();
    assert.deepEqual(seen.got.at(-1), [4]);
    assert.equal(c.stats.rxPackets, 4);
    assert.deepEqual(fake.closed, [], 'a live socket is kept');
  } finally {
    c.close();
  }
});

test('an error that lasts is retried every RECV_RETRY_MS, not on every loop turn, each one counted', async () => {
  const fake = new FakeSocketAddon();
  const { c, seen } = conn(fake);
  try {
    fake.script.push('ENOMEM', 'ENOMEM', 'ENOMEM');
    fake.fire();
    for (let i = 0; i < 50; i++) fake.fire(); // nothing polled: no receive is attempted
    assert.equal(fake.recvFds.length, 1);
    await sleep(3 * RECV_RETRY_MS + 80);
    assert.equal(c.stats.rxErrors, 3);
    assert.equal(fake.recvFds.length, 4, 'three failures, then one receive that works (EAGAIN)');
    assert.deepEqual(seen.faults.map((f) => f.endsWith('ok') ? 'ok' : 'err'), ['err', 'err', 'err', 'ok']);
    assert.equal(fake.active.length, 1);
  } finally {
    c.close();
  }
});

test('a dead fd (EBADF): a new socket is opened, the old number is never closed; a failed reopen is retried', async () => {
  const fake = new FakeSocketAddon();
  const opened: number[] = [];
  let failOpen = 1;
  const { c, seen } = conn(fake, () => {
    if (failOpen-- > 0) throw Object.assign(new Error('socket(AF_INET, SOCK_RAW, 47): EMFILE'), { code: 'EMFILE' });
    opened.push(9);
    return 9;
  });
  try {
    fake.script.push('EBADF');
    fake.fire();
    await sleep(2 * RECV_RETRY_MS + 80);
    assert.deepEqual(opened, [9], 'reopened after the failed attempt');
    assert.equal(c.fd, 9);
    assert.deepEqual(fake.closed, [], 'fd 7 was not ours any more: not closed');
    assert.match(seen.faults.join('\n'), /EBADF[^]*EMFILE[^]*ok$/);
    assert.equal(fake.active.length, 1);
    assert.equal(fake.active[0]!.fd, 9, 'the new socket is polled');
    fake.script.push([Uint8Array.of(5)]);
    fake.fire();
    assert.deepEqual(seen.got, [[5]]);
    assert.equal(fake.recvFds.at(-1), 9);
  } finally {
    c.close();
  }
  assert.deepEqual(fake.closed, [9], 'close() closes the new socket');
});

test('close() while failing: the retry never runs and nothing is told after', async () => {
  const fake = new FakeSocketAddon();
  const { c, seen } = conn(fake);
  fake.script.push('EIO');
  fake.fire();
  c.close();
  await sleep(RECV_RETRY_MS + 50);
  assert.equal(fake.recvFds.length, 1);
  assert.equal(seen.faults.length, 1);
  assert.equal(fake.active.length, 0);
  assert.deepEqual(fake.closed, [7]);
});

test('a poll that cannot be started again after a retry is one more failure, retried, never thrown from the timer', async () => {
  const fake = new FakeSocketAddon();
  const { c, seen } = conn(fake);
  try {
    fake.script.push('ENOMEM');
    fake.pollFails.push('ENOMEM');
    fake.fire();
    await sleep(2 * RECV_RETRY_MS + 80);
    assert.equal(c.stats.rxErrors, 2);
    assert.deepEqual(seen.faults.map((f) => f.replace(/^raw proto 47: /, '')), ['recvmmsg fd=7: ENOMEM', 'uv_poll_init fd=7: ENOMEM', 'ok']);
    assert.equal(fake.active.length, 1);
  } finally {
    c.close();
  }
});

test('a UDP conn reopened after EBADF: its per-socket send state starts over (sendEncap, send on the new fd)', async () => {
  const fake = new FakeSocketAddon();
  const c = new UdpConn(fake.asAddon(), 7, 4500, { batchSize: 4, mtu: 1500, reopen: () => 9, label: 'udp 4500' });
  const faults: string[] = [];
  c.onReceive(() => undefined);
  c.onReceiveFault((what, err) => faults.push(`${what}: ${err === null ? 'ok' : err.message}`));
  try {
    const b = allocBatch({ batchSize: 4, mtu: 1500 });
    b.count = 1;
    b.sizes[0] = 40;
    const m = new UdpTxMeta(4);
    m.hdrLen[0] = 28;
    m.df[0] = 1;
    assert.equal(c.sendEncap(b, m), 1);
    assert.deepEqual(fake.udpSends[0], { fd: 7, state: [-1, -1, -1] });
    fake.script.push('EBADF');
    fake.fire();
    await sleep(RECV_RETRY_MS + 50);
    assert.equal(c.fd, 9);
    assert.deepEqual(faults, ['udp 4500: recvmmsg fd=7: EBADF', 'udp 4500: ok']);
    c.send(b, Uint32Array.of(0xcb007101));
    assert.deepEqual(fake.defaultsFds, [], 'the new socket has the defaults: nothing to put back');
    assert.equal(c.sendEncap(b, m), 1);
    assert.deepEqual(fake.udpSends[1], { fd: 9, state: [-1, -1, -1] }, 'sendEncap sets its options on the new socket');
    c.send(b, Uint32Array.of(0xcb007101));
    assert.deepEqual(fake.defaultsFds, [9], 'and puts them back before a plain send, as on the old one');
  } finally {
    c.close();
  }
});
