// The compliance suites on the in-memory pairs (src/io/mem.ts), plus the
// mem-specific behaviour the suites leave open (FIFO bound, truncation).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memConnPair, memTunPair } from '../../src/io/mem.js';
import { allocBatch } from '../../src/io/pool.js';
import { connCompliance, testPacket, tunCompliance } from './compliance.js';
import type { ConnPairFixture, TunPairFixture } from './compliance.js';

const A = 0xc0000201; // 192.0.2.1
const B = 0xc0000202; // 192.0.2.2

tunCompliance('memTunPair', async () => {
  const [writer, reader] = memTunPair({ mtu: 1500 });
  return { writer, reader, src: A, dst: B, maxSize: 1500, expected: (p) => p } satisfies TunPairFixture;
}, async (f) => {
  await f.writer.close();
  await f.reader.close();
});

connCompliance('memConnPair', async () => {
  const [sender, receiver] = memConnPair({ addrA: A, addrB: B, ifindexB: 7 });
  return { sender, receiver, dst: B, hdrSrc: A, hdrDst: B, proto: 47, ifindex: 7, src: A } satisfies ConnPairFixture;
}, async (f) => {
  f.sender.close();
  f.receiver.close();
});

test('memTunPair: a full FIFO drops and counts txDropped', async () => {
  const [a, b] = memTunPair({ queueLen: 2, batchSize: 4 });
  const out = allocBatch({ batchSize: 4, mtu: 1500 });
  for (let i = 0; i < 3; i++) {
    out.bufs[i]!.set(testPacket(i, 100, A, B), out.offset);
    out.sizes[i] = 100;
  }
  out.count = 3;
  a.write(out);
  assert.equal(a.stats.txPackets, 2);
  assert.equal(a.stats.txDropped, 1);
  assert.equal(await b.read(allocBatch({ batchSize: 4, mtu: 1500 })), 2);
  await a.close();
  await b.close();
});

test('memTunPair: a packet longer than the reader slot is reported as size 0 and counted', async () => {
  const [a, b] = memTunPair({ mtu: 1500, batchSize: 2 });
  const out = allocBatch({ batchSize: 2, mtu: 1500 });
  out.bufs[0]!.set(testPacket(0, 1500, A, B), out.offset);
  out.sizes[0] = 1500;
  out.count = 1;
  a.write(out);
  const small = allocBatch({ batchSize: 2, mtu: 576 });
  assert.equal(await b.read(small), 1);
  assert.equal(small.sizes[0], 0);
  assert.equal(b.stats.rxTruncated, 1);
  await a.close();
  await b.close();
});

test('memTunPair: a second concurrent read is a programmer error', async () => {
  const [a, b] = memTunPair();
  const p = b.read(allocBatch({ batchSize: 2, mtu: 1500 }));
  assert.throws(() => b.read(allocBatch({ batchSize: 2, mtu: 1500 })), /pending/);
  await b.close();
  assert.equal(await p, 0);
  await a.close();
});

test('memConnPair: a datagram to an address other than the peer is ENETUNREACH', () => {
  const [a, b] = memConnPair({ addrA: A, addrB: B });
  const out = allocBatch({ batchSize: 1, mtu: 1500 });
  out.bufs[0]!.set(testPacket(0, 40, A, B), out.offset);
  out.sizes[0] = 40;
  out.count = 1;
  assert.equal(a.send(out, Uint32Array.of(0xcb007101)), 0); // 203.0.113.1
  assert.equal(a.stats.txErrors, 1);
  assert.equal(a.stats.lastError, 'ENETUNREACH');
  a.close();
  b.close();
});

test('pool: a batch over batchSize is a programmer error', () => {
  const [a, b] = memConnPair();
  const big = allocBatch({ batchSize: 200 });
  big.count = 200;
  assert.throws(() => a.send(big, new Uint32Array(200)), RangeError);
  a.close();
  b.close();
});
