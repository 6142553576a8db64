// The read arena (src/datapath/arena.ts ReadArena): every port of a data
// path reads into the same slabs. Two tunnels whose devices deliver in
// turn through the shared arena send exactly the bytes they send with an
// arena each (a device without readInto gets its own, datapath.ts); and
// attaching 50 more ports allocates no read slabs (the external memory
// grows by their small per-port structures only, and every device is
// handed the same buffer).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ReadArena } from '../../src/datapath/arena.js';
import { Datapath } from '../../src/datapath/datapath.js';
import type { DatapathEvents } from '../../src/datapath/datapath.js';
import { OFFLOAD_READS, OFFLOAD_SEGMENTS } from '../../src/datapath/offload.js';
import { memConnPair, memTunPair } from '../../src/io/mem.js';
import type { MemTun } from '../../src/io/mem.js';
import { allocBatch, MTU_MAX, strideFor } from '../../src/io/pool.js';
import type { PacketBatch, ReadDone, TunDevice } from '../../src/io/types.js';
import { makeTunnelParams } from '../../src/tunnel/params.js';
import { TunnelStack } from '../../src/tunnel/stack.js';
import { icmp4Echo } from '../xfrm/helpers.js';
import { pattern, superPacket, TS_OPTION } from '../offload/tcp-packets.js';
import { FakeClock, LEFT, RIGHT, settle } from './two-ns.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const LEFT_U32 = 0xc6336401;
const RIGHT_U32 = 0xc6336402;
const VNET = 10;
/** GRE with a key: 4 bytes of flags/protocol + 4 of key (RFC 2890). */
const GRE_KEY_HLEN = 8;

test('ReadArena: plain, super-packet and segment slots in one buffer, never overlapping; without offload only the plain ones', () => {
  const stride = strideFor(1500);
  const a = new ReadArena(stride, 32, true);
  assert.ok(a.reads !== null && a.segs !== null);
  const spans = [a.batch, a.reads, a.segs].map((b) => {
    assert.equal(b.slab.buffer, a.batch.slab.buffer, 'one ArrayBuffer');
    return [b.slab.byteOffset, b.slab.byteOffset + b.slab.length] as const;
  });
  for (let i = 1; i < spans.length; i++) assert.ok(spans[i]![0] >= spans[i - 1]![1], 'slabs do not overlap');
  assert.deepEqual([a.batch.batchSize, a.batch.stride], [32, stride]);
  assert.deepEqual([a.reads.batchSize, a.reads.stride], [OFFLOAD_READS, strideFor(MTU_MAX)]);
  assert.deepEqual([a.segs.batchSize, a.segs.stride], [OFFLOAD_SEGMENTS, stride]);
  const plain = new ReadArena(stride, 32, false);
  assert.equal(plain.reads, null);
  assert.equal(plain.segs, null);
  assert.equal(plain.batch.slab.buffer.byteLength, 32 * stride);
});

const EV: DatapathEvents = { pmtu: () => undefined, xfrmPmtu: () => undefined, xfrmEvents: () => undefined, ike: () => undefined, log: () => undefined };

/** A data path sending GRE (key i+1 for tunnel i) to a conn whose other end records every outer packet. */
class Rig {
  readonly stack = new TunnelStack();
  readonly dp: Datapath;
  readonly sent: Uint8Array[] = [];
  /** The buffers the devices were handed to read into (by readInto or read). */
  readonly buffers = new Set<ArrayBufferLike>();
  readonly hosts: MemTun[] = [];
  private readonly closers: (() => unknown)[] = [];

  constructor() {
    const [a, b] = memConnPair({ addrA: LEFT_U32, addrB: RIGHT_U32, batchSize: 32 });
    this.dp = new Datapath(this.stack, null, EV, new FakeClock());
    this.dp.setTx(a);
    b.onReceive((rx) => {
      for (let i = 0; i < rx.count; i++) this.sent.push(rx.bufs[i]!.slice(rx.offset, rx.offset + rx.sizes[i]!));
    });
    this.closers.push(() => b.close(), () => this.dp.stop());
  }

  /**
   * Tunnel i and its device. shared: the device has readInto (the data path's
   * arena); else it has only read() (an arena of its own).
   */
  add(i: number, shared: boolean, offload: boolean, pair = memTunPair({ mtu: 1500, batchSize: 32, offload, queueLen: offload ? 4 : 64 })): void {
    const t = this.stack.add(makeTunnelParams({ name: `g${i}`, kind: 'gre', local: LEFT, remote: RIGHT, key: i + 1 }));
    t.isUp = true;
    const [dev, host] = pair;
    this.hosts.push(host);
    this.closers.push(() => dev.close(), () => host.close());
    const seen = (b: PacketBatch): void => { this.buffers.add(b.bufs[0]!.buffer); };
    const readInto = dev.readInto.bind(dev);
    const read = dev.read.bind(dev);
    const spied: TunDevice = {
      name: dev.name, mtu: dev.mtu, batchSize: dev.batchSize, vnetHdr: dev.vnetHdr, gso: dev.gso,
      read: (b) => { seen(b); return read(b); },
      write: (b, ok) => dev.write(b, ok),
      close: () => dev.close(),
    };
    if (shared) spied.readInto = (b: PacketBatch, done: ReadDone): void => { seen(b); readInto(b, done); };
    this.dp.attachTunnel(t, spied);
  }

  close(): void { for (const c of this.closers) c(); }
}

/** Writes each packet (with its vnet header when offload) from the host side of `dev`, in one write call. */
function hostWrite(dev: MemTun, pkts: Uint8Array[], offload: boolean): void {
  const hdr = offload ? VNET : 0;
  const b = allocBatch({ batchSize: pkts.length, mtu: MTU_MAX });
  pkts.forEach((p, i) => {
    b.bufs[i]!.set(p, b.offset - hdr);
    b.sizes[i] = p.length - hdr;
  });
  b.count = pkts.length;
  assert.equal(dev.write(b), pkts.length, 'the device took the packets');
}

/** Round r's packets for tunnel i: echoes of lengths that differ per tunnel and round, or TSO super-packets. */
function packets(i: number, r: number, offload: boolean): Uint8Array[] {
  if (offload) {
    const o = { src: '192.0.2.1', dst: `192.0.2.${10 + i}`, seq: 1000 * r, options: TS_OPTION, payload: pattern(3000 + 700 * r + 100 * i, r * 7 + i) };
    return [superPacket(o, 1400)];
  }
  return [0, 1, 2].map((k) => icmp4Echo('192.0.2.1', `192.0.2.${10 + i}`, 0x100 + i, r * 3 + k, 20 + 97 * r + 31 * k + 13 * i, 0x4000, 0));
}

/** Two tunnels' devices deliver in turn, 6 rounds; returns the outer packets sent and the read buffers seen. */
async function alternate(shared: boolean, offload: boolean): Promise<{ sent: Uint8Array[]; buffers: number }> {
  const rig = new Rig();
  try {
    rig.add(0, shared, offload);
    rig.add(1, shared, offload);
    for (let r = 0; r < 6; r++) {
      // Both devices have packets at once: their deliveries run one after the other in the same loop turn.
      hostWrite(rig.hosts[0]!, packets(0, r, offload), offload);
      hostWrite(rig.hosts[1]!, packets(1, r, offload), offload);
      await settle();
    }
    return { sent: rig.sent, buffers: rig.buffers.size };
  } finally {
    rig.close();
  }
}

for (const offload of [false, true]) {
  test(`two ports reading in turn through the shared read arena send what they send with an arena each${offload ? ' (TUN offload: super-packets split in the shared segment slots)' : ''}`, async () => {
    const shared = await alternate(true, offload);
    const separate = await alternate(false, offload);
    assert.equal(shared.buffers, 1, 'both devices were handed the same buffer');
    assert.equal(separate.buffers, 2, 'an arena each');
    assert.ok(shared.sent.length >= 12, `${shared.sent.length} packets sent`);
    assert.deepEqual(shared.sent, separate.sent, 'byte-identical outer packets');
    if (offload) return;
    // And the bytes are the right ones: tunnel i's packets, in order, behind GRE key i+1.
    for (const i of [0, 1]) {
      const inner = shared.sent.filter((p) => p[20 + 7] === i + 1).map((p) => p.subarray(20 + GRE_KEY_HLEN));
      const want = [0, 1, 2, 3, 4, 5].flatMap((r) => packets(i, r, false));
      assert.deepEqual(inner, want, `tunnel ${i}: inner packets`);
    }
  });
}

/** A full GC, with a turn of the loop for backing stores freed after it, twice. */
async function collect(): Promise<void> {
  for (let i = 0; i < 2; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** arrayBuffers growth, bytes per port, of attaching `n` ports (after the first, which the arena existed for). */
async function perPort(n: number, offload: boolean): Promise<{ bytes: number; buffers: number }> {
  const rig = new Rig();
  try {
    rig.add(0, true, offload);
    // Devices first: their FIFOs are the test's, not the data path's.
    const devs: [MemTun, MemTun][] = [];
    for (let i = 1; i <= n; i++) devs.push(memTunPair({ mtu: 1500, batchSize: 32, offload, queueLen: 1 }));
    await collect();
    const before = process.memoryUsage().arrayBuffers;
    for (let i = 1; i <= n; i++) rig.add(i, true, offload, devs[i - 1]!);
    await collect();
    return { bytes: (process.memoryUsage().arrayBuffers - before) / n, buffers: rig.buffers.size };
  } finally {
    rig.close();
  }
}

test('50 more ports allocate no read slabs: external memory per port stays small, plain and with TUN offload', async (t) => {
  // Read slabs per port would be ≥ 32 × 1728 bytes (plain) and ≥ 8 × 64 KiB (offload).
  const plain = await perPort(50, false);
  const off = await perPort(50, true);
  t.diagnostic(`per port: ${plain.bytes.toFixed(0)} bytes plain, ${off.bytes.toFixed(0)} bytes with offload`);
  assert.ok(plain.bytes < 8 * 1024, `${plain.bytes.toFixed(0)} bytes per plain port`);
  assert.ok(off.bytes < 16 * 1024, `${off.bytes.toFixed(0)} bytes per offload port`);
  assert.equal(plain.buffers, 1, 'all 51 plain devices read into one buffer');
  assert.equal(off.buffers, 1, 'all 51 offload devices read into one buffer');
});
