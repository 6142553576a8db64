// ESP-in-UDP by the NAT-T UDP socket (src/datapath/udp-send.ts, io/udp.ts
// sendEncap, native/udp_send.c), no raw socket:
//   - addEncap reads back from the outer IPv4/UDP headers what the kernel
//     rebuilds (header length, destination port, source, TOS, TTL, DF),
//     and refuses what is not IPv4/UDP (the data path then sends it raw);
//   - three such packets (DF set, clear, set: three IP_MTU_DISCOVER runs) sent
//     with one sendEncap over loopback arrive as their UDP payloads, from the
//     socket's port and the header's source, with the header's TOS (ECN bits
//     included); a plain send() afterwards (IKE on the same socket) still works.
// Loopback only, unprivileged; ports are picked at random and retried when taken.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GatherBatch } from '../../src/io/pool.js';
import { openUdp } from '../../src/io/udp.js';
import type { UdpConn } from '../../src/io/udp.js';
import { UdpSendQueue } from '../../src/datapath/udp-send.js';
import { checksum16 } from '../../src/wire/checksum.js';

const LOOPBACK = 0x7f000001;

/** An outer IPv4 (ihl words) + UDP packet at b[off] with `payload`; returns its length. */
function outer(b: Uint8Array, off: number, o: { ihl: number; tos: number; ttl: number; df: boolean; proto?: number; src: number; dst: number; dport: number; payload: Uint8Array }): number {
  const hl = o.ihl * 4;
  const len = hl + 8 + o.payload.length;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  b.fill(0, off, off + hl);
  b[off] = 0x40 | o.ihl;
  b[off + 1] = o.tos;
  dv.setUint16(off + 2, len);
  dv.setUint16(off + 6, o.df ? 0x4000 : 0);
  b[off + 8] = o.ttl;
  b[off + 9] = o.proto ?? 17;
  dv.setUint32(off + 12, o.src);
  dv.setUint32(off + 16, o.dst);
  dv.setUint16(off + 10, checksum16(b, off, hl));
  dv.setUint16(off + hl, 4500);
  dv.setUint16(off + hl + 2, o.dport);
  dv.setUint16(off + hl + 4, 8 + o.payload.length);
  b.set(o.payload, off + hl + 8);
  return len;
}

test('addEncap: header length, port, source, TOS, TTL and DF from the outer headers; not UDP → false', () => {
  const q = new UdpSendQueue(4);
  const slab = new Uint8Array(1024).fill(0xa5);
  const pay = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const n0 = outer(slab, 100, { ihl: 5, tos: 0xb9, ttl: 64, df: true, src: 0xc0000201, dst: 0xc6336402, dport: 4500, payload: pay });
  const n1 = outer(slab, 400, { ihl: 6, tos: 0, ttl: 3, df: false, src: 0xc0000201, dst: 0xcb007102, dport: 34567, payload: pay });
  const esp = outer(slab, 700, { ihl: 5, tos: 0, ttl: 64, df: false, proto: 50, src: 1, dst: 2, dport: 0, payload: pay });
  assert.equal(q.addEncap(slab, 100, n0, 0xc6336402, 80), true);
  assert.equal(q.addEncap(slab, 400, n1, 0xcb007102, 0), true);
  assert.equal(q.addEncap(slab, 700, esp, 2, 80), false, 'proto 50 is not for the UDP socket');
  assert.equal(q.addEncap(slab, 100, 27, 0xc6336402, 80), false, 'too short for IPv4 + UDP');
  assert.equal(q.batch.count, 2);
  const m = q.meta;
  assert.deepEqual([m.hdrLen[0], m.dstPort[0], m.src[0], m.tos[0], m.ttl[0], m.df[0], m.dst[0]], [28, 4500, 0xc0000201, 0xb9, 64, 1, 0xc6336402]);
  assert.deepEqual([m.hdrLen[1], m.dstPort[1], m.src[1], m.tos[1], m.ttl[1], m.df[1], m.dst[1]], [32, 34567, 0xc0000201, 0, 3, 0, 0xcb007102]);
  assert.deepEqual([q.batch.starts[0], q.batch.sizes[0], q.innerLen[0], q.innerLen[1]], [100, n0, 80, 0], 'queued whole, with the inner length');
});

/** Opens a loopback UDP socket on a random free port. */
function openRandom(): UdpConn {
  for (let i = 0; ; i++) {
    const port = 20000 + Math.floor(Math.random() * 40000);
    try {
      return openUdp(LOOPBACK, port, { batchSize: 8, mtu: 2048 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE' || i > 20) throw e;
    }
  }
}

interface Got { readonly payload: string; readonly src: number; readonly sport: number; readonly tos: number }

test('sendEncap over loopback: UDP payloads from the socket port with the header TOS; DF runs; send() after it', async () => {
  const rx = openRandom();
  const tx = openRandom();
  try {
    const got: Got[] = [];
    rx.onReceive((b, _ifx, src, meta) => {
      for (let i = 0; i < b.count; i++) {
        const p = b.bufs[i]!.subarray(b.offset, b.offset + b.sizes[i]!);
        got.push({ payload: Buffer.from(p).toString('hex'), src: src[i]!, sport: meta.srcPort[i]!, tos: meta.tos[i]! });
      }
    });
    const q = new UdpSendQueue(8);
    const slab = new Uint8Array(4096);
    const want: string[] = [];
    const toss = [0x00, 0xb8 | 1, 0x28 | 2];
    for (let k = 0; k < 3; k++) {
      const pay = new Uint8Array(20 + k).fill(0x30 + k);
      want.push(Buffer.from(pay).toString('hex'));
      const len = outer(slab, 128 + k * 512, { ihl: 5, tos: toss[k]!, ttl: 9, df: k !== 1, src: LOOPBACK, dst: LOOPBACK, dport: rx.port, payload: pay });
      assert.equal(q.addEncap(slab, 128 + k * 512, len, LOOPBACK, 0), true);
    }
    const ok = new Uint8Array(8);
    assert.equal(tx.sendEncap(q.batch, q.meta, ok), 3, `sent (${tx.stats.lastError})`);
    assert.deepEqual([...ok.subarray(0, 3)], [1, 1, 1]);
    // IKE on the same socket afterwards: default options put back, still sends
    const ike = new GatherBatch(1);
    const msg = new Uint8Array([0, 0, 0, 0, 0xaa, 0xbb]);
    ike.add(msg, 0, msg.length);
    tx.dstPort![0] = rx.port;
    assert.equal(tx.send(ike, new Uint32Array([LOOPBACK])), 1);
    for (let i = 0; i < 100 && got.length < 4; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(got.map((g) => g.payload), [...want, '00000000aabb'], 'UDP payloads, in order');
    assert.ok(got.every((g) => g.src === LOOPBACK && g.sport === tx.port), `from ${LOOPBACK}:${tx.port}: ${JSON.stringify(got)}`);
    assert.deepEqual(got.slice(0, 3).map((g) => g.tos), toss, 'TOS byte with ECN, per message');
    assert.equal(got[3]!.tos, 0, 'the IKE message: the socket default TOS');
    assert.equal(tx.stats.txPackets, 4);
  } finally {
    rx.close();
    tx.close();
  }
});
