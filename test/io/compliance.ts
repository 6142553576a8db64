// The one compliance suite every TunDevice and PacketConn implementation
// passes (js-libp2p's interface-compliance pattern): mem.ts in-process,
// tun-linux.ts/raw.ts inside a network namespace (linux.test.ts).
//
// A fixture says how packets travel from `writer`/`sender` to
// `reader`/`receiver`, including how the path changes them (`expected`:
// identity in memory; TTL − 1 and a new header checksum when the kernel
// forwards between two TUN devices). Every test gets a fresh fixture.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { put16, put32 } from '../../src/wire/bytes.js';
import { checksum16 } from '../../src/wire/checksum.js';
import { allocBatch, HEADROOM } from '../../src/io/pool.js';
import type { PooledBatch } from '../../src/io/pool.js';
import type { HasStats, PacketBatch, PacketConn, TunDevice } from '../../src/io/types.js';

/** IPv4 protocol used by test packets unless a fixture says otherwise: 253, RFC 3692 experimentation. */
export const PROTO_TEST = 253;

/** An IPv4 packet of `size` bytes (>= 20): DF set, ID i+1, TTL 64, correct header checksum, payload pattern of i. */
export function testPacket(i: number, size: number, src: number, dst: number, proto = PROTO_TEST): Uint8Array {
  const b = new Uint8Array(size);
  b[0] = 0x45;
  put16(b, 2, Math.min(size, 0xffff));
  put16(b, 4, (i + 1) & 0xffff);
  put16(b, 6, 0x4000);
  b[8] = 64;
  b[9] = proto;
  put32(b, 12, src);
  put32(b, 16, dst);
  put16(b, 10, checksum16(b, 0, 20));
  for (let j = 20; j < size; j++) b[j] = (i * 7 + j) & 0xff;
  return b;
}

/** What a forwarding router makes of `p` (ip_forward: ip_decrease_ttl updates TTL and checksum). */
export function forwarded(p: Uint8Array): Uint8Array {
  const q = new Uint8Array(p);
  q[8] = q[8]! - 1;
  put16(q, 10, 0);
  put16(q, 10, checksum16(q, 0, 20));
  return q;
}

export interface TunPairFixture {
  readonly writer: TunDevice & Partial<HasStats>;
  readonly reader: TunDevice;
  /** Source/destination the path delivers from writer to reader (host-order u32). */
  readonly src: number;
  readonly dst: number;
  /** Largest packet the path carries, bytes (the reader side's MTU). */
  readonly maxSize: number;
  /** The reader's view of a sent packet. */
  readonly expected: (sent: Uint8Array) => Uint8Array;
}

export interface ConnPairFixture {
  readonly sender: PacketConn & Partial<HasStats>;
  readonly receiver: PacketConn;
  /** Address the sender passes in dst[] (host-order u32). */
  readonly dst: number;
  /** Header source and destination of test packets. */
  readonly hdrSrc: number;
  readonly hdrDst: number;
  /** IP protocol the conns carry. */
  readonly proto: number;
  /** ifindex and src the receiver must report. */
  readonly ifindex: number;
  readonly src: number;
}

const TIMEOUT_MS = 3000;
const N = 64;

/** Loads packets into b at b.offset. */
function fill(b: PooledBatch, pkts: readonly Uint8Array[]): void {
  pkts.forEach((p, i) => {
    b.bufs[i]!.set(p, b.offset);
    b.sizes[i] = p.length;
  });
  b.count = pkts.length;
}

/** Reads until `want` packets arrived (copies) or the timeout. */
async function collect(dev: TunDevice, b: PacketBatch, want: number, timeoutMs = TIMEOUT_MS): Promise<Uint8Array[]> {
  const got: Uint8Array[] = [];
  const deadline = Date.now() + timeoutMs;
  while (got.length < want) {
    const left = deadline - Date.now();
    if (left <= 0) break;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((r) => { timer = setTimeout(() => r('timeout'), left); });
    const n = await Promise.race([dev.read(b), timeout]);
    clearTimeout(timer);
    if (n === 'timeout' || n === 0) break;
    for (let i = 0; i < n; i++) got.push(b.bufs[i]!.slice(b.offset, b.offset + b.sizes[i]!));
  }
  return got;
}

const sizesFor = (n: number, max: number): number[] => Array.from({ length: n }, (_, i) => 20 + ((i * 97) % (max - 19)));

const tunPkt = (f: TunPairFixture, i: number, size: number): Uint8Array => testPacket(i, size, f.src, f.dst);
const tunBatch = (dev: TunDevice): PooledBatch => allocBatch({ batchSize: dev.batchSize, mtu: 9000 });

async function tunInOrder(f: TunPairFixture): Promise<void> {
  const out = tunBatch(f.writer);
  const sent = sizesFor(N, f.maxSize).map((s, i) => tunPkt(f, i, s));
  fill(out, sent);
  f.writer.write(out);
  const got = await collect(f.reader, tunBatch(f.reader), N);
  assert.equal(got.length, N, 'all packets delivered');
  got.forEach((g, i) => assert.deepEqual(g, f.expected(sent[i]!), `packet ${i}`));
}

async function tunSizes(f: TunPairFixture): Promise<void> {
  const out = tunBatch(f.writer);
  const sent = [20, f.maxSize, 21, f.maxSize - 1, 1280].map((s, i) => tunPkt(f, i, s));
  fill(out, sent);
  f.writer.write(out);
  const got = await collect(f.reader, tunBatch(f.reader), sent.length);
  assert.deepEqual(got.map((g) => g.length), sent.map((s) => s.length));
  got.forEach((g, i) => assert.deepEqual(g, f.expected(sent[i]!), `packet ${i}`));
}

async function tunHeadroom(f: TunPairFixture): Promise<void> {
  const out = tunBatch(f.writer);
  out.slab.fill(0xee); // bytes before the offset must never be sent
  const sent = [tunPkt(f, 0, 100), tunPkt(f, 1, 333)];
  const inb = tunBatch(f.reader);
  for (const [wOff, rOff] of [[0, 7], [37, HEADROOM], [HEADROOM, 0]] as const) {
    out.offset = wOff;
    fill(out, sent);
    inb.offset = rOff;
    inb.slab.fill(0xa5);
    f.writer.write(out);
    const got = await collect(f.reader, inb, sent.length);
    assert.deepEqual(got, sent.map(f.expected), `write at ${wOff}, read at ${rOff}`);
    for (let i = 0; i < got.length; i++) {
      const buf = inb.bufs[i]!;
      assert.ok(buf.subarray(0, rOff).every((x) => x === 0xa5), `headroom of slot ${i} untouched`);
      assert.ok(buf.subarray(rOff + inb.sizes[i]!).every((x) => x === 0xa5), `no bytes past packet ${i}`);
    }
  }
}

async function tunBadWrites(f: TunPairFixture): Promise<void> {
  const out = tunBatch(f.writer);
  const good = [tunPkt(f, 0, 60), tunPkt(f, 3, 80)];
  fill(out, [good[0]!, new Uint8Array(0), tunPkt(f, 2, f.maxSize + 100), good[1]!]);
  const errorsBefore = f.writer.stats?.txErrors ?? 0;
  f.writer.write(out);
  if (f.writer.stats !== undefined) assert.ok(f.writer.stats.txErrors > errorsBefore, 'the zero-length write is counted');
  const got = await collect(f.reader, tunBatch(f.reader), 2);
  assert.deepEqual(got, good.map(f.expected));
  fill(out, [tunPkt(f, 9, 99)]);
  f.writer.write(out);
  const again = await collect(f.reader, tunBatch(f.reader), 1);
  assert.equal(again.length, 1, 'still delivering after the bad packets');
}

async function tunClose(f: TunPairFixture): Promise<void> {
  const inb = tunBatch(f.reader);
  const pending = f.reader.read(inb);
  await f.reader.close();
  assert.equal(await pending, 0, 'the read pending at close resolves 0');
  assert.equal(await f.reader.read(inb), 0, 'a read after close resolves 0');
  await f.reader.close(); // idempotent
  const out = tunBatch(f.writer);
  fill(out, [tunPkt(f, 0, 64)]);
  f.writer.write(out); // the peer is gone: dropped somewhere, never thrown here
  await f.writer.close();
  assert.throws(() => f.writer.write(out), { code: 'ERR_CLOSED' });
}

const TUN_CASES: readonly (readonly [string, (f: TunPairFixture) => Promise<void>])[] = [
  [`a batch of ${N} packets arrives byte-identical and in order`, tunInOrder],
  ['sizes are respected, from a bare 20-byte header to the MTU', tunSizes],
  ['the headroom offset is respected on write and read', tunHeadroom],
  ['zero-length and oversize writes are counted, not thrown; the device keeps working', tunBadWrites],
  ['close stops delivery: pending and later reads resolve 0, writes after close reject', tunClose],
];

/** Registers the TunDevice compliance tests (node:test) under `name`; each gets a fresh fixture. */
export function tunCompliance(name: string, setup: () => Promise<TunPairFixture>, teardown: (f: TunPairFixture) => Promise<void>): void {
  for (const [what, body] of TUN_CASES) {
    test(`${name}: ${what}`, async () => {
      const f = await setup();
      try { await body(f); } finally { await teardown(f); }
    });
  }
}

interface Received { readonly pkts: Uint8Array[]; readonly ifindex: number[]; readonly src: number[] }

/** Starts collecting on `c` (copies out of the conn's batch inside the callback). */
function listen(c: PacketConn): Received {
  const r: Received = { pkts: [], ifindex: [], src: [] };
  c.onReceive((b, ifindex, src) => {
    for (let i = 0; i < b.count; i++) {
      r.pkts.push(b.bufs[i]!.slice(b.offset, b.offset + b.sizes[i]!));
      r.ifindex.push(ifindex[i]!);
      r.src.push(src[i]!);
    }
  });
  return r;
}

async function until(pred: () => boolean, timeoutMs = TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
}

function connCase(name: string, what: string, setup: () => Promise<ConnPairFixture>,
  teardown: (f: ConnPairFixture) => Promise<void>, body: (f: ConnPairFixture) => Promise<void>): void {
  test(`${name}: ${what}`, async () => {
    const f = await setup();
    try { await body(f); } finally { await teardown(f); }
  });
}

/** Registers the PacketConn compliance tests (node:test) under `name`. */
export function connCompliance(name: string, setup: () => Promise<ConnPairFixture>, teardown: (f: ConnPairFixture) => Promise<void>): void {
  const pkt = (f: ConnPairFixture, i: number, size: number): Uint8Array => testPacket(i, size, f.hdrSrc, f.hdrDst, f.proto);
  const dsts = (f: ConnPairFixture, n: number): Uint32Array => new Uint32Array(n).fill(f.dst);

  connCase(name, `${N} datagrams arrive byte-identical, in order, with ifindex and source`, setup, teardown, async (f) => {
    const r = listen(f.receiver);
    const out = allocBatch({ batchSize: f.sender.batchSize });
    const sent = sizesFor(N, 1500).map((s, i) => pkt(f, i, s));
    fill(out, sent);
    assert.equal(f.sender.send(out, dsts(f, N)), N);
    await until(() => r.pkts.length >= N);
    assert.equal(r.pkts.length, N, 'all datagrams delivered');
    r.pkts.forEach((p, i) => assert.deepEqual(p, sent[i], `datagram ${i}`));
    assert.ok(r.ifindex.every((x) => x === f.ifindex), `ifindex ${f.ifindex}: ${r.ifindex.join()}`);
    assert.ok(r.src.every((x) => x === f.src), 'source address');
  });

  connCase(name, 'the send offset is respected and large datagrams stay whole', setup, teardown, async (f) => {
    const r = listen(f.receiver);
    const out = allocBatch({ batchSize: f.sender.batchSize });
    out.slab.fill(0xee);
    const sent = [pkt(f, 0, 20), pkt(f, 1, 9000), pkt(f, 2, 65535)];
    for (const off of [0, 5, HEADROOM]) {
      out.offset = off;
      fill(out, sent);
      assert.equal(f.sender.send(out, dsts(f, sent.length)), sent.length, `offset ${off}`);
    }
    await until(() => r.pkts.length >= 3 * sent.length);
    assert.deepEqual(r.pkts, [...sent, ...sent, ...sent]);
  });

  connCase(name, 'zero-length and oversize datagrams are counted, not thrown', setup, teardown, async (f) => {
    const r = listen(f.receiver);
    const out = allocBatch({ batchSize: f.sender.batchSize });
    const good = [pkt(f, 0, 40), pkt(f, 1, 41)];
    fill(out, [good[0]!, new Uint8Array(0), new Uint8Array(65536), good[1]!]);
    out.bufs[2]!.set(pkt(f, 2, 60), out.offset);
    assert.equal(f.sender.send(out, dsts(f, 4)), 2);
    if (f.sender.stats !== undefined) {
      assert.equal(f.sender.stats.txErrors, 2);
      assert.notEqual(f.sender.stats.lastError, '');
    }
    await until(() => r.pkts.length >= 2);
    assert.deepEqual(r.pkts, good);
  });

  connCase(name, 'close stops delivery; send after close throws ERR_CLOSED', setup, teardown, async (f) => {
    const r = listen(f.receiver);
    f.receiver.close();
    f.receiver.close(); // idempotent
    const out = allocBatch({ batchSize: f.sender.batchSize });
    fill(out, [pkt(f, 0, 64)]);
    f.sender.send(out, dsts(f, 1));
    await new Promise((res) => setTimeout(res, 100));
    assert.equal(r.pkts.length, 0, 'nothing delivered after close');
    f.sender.close();
    assert.throws(() => f.sender.send(out, dsts(f, 1)), { code: 'ERR_CLOSED' });
  });
}
