// Batched ESP opens (src/xfrm/open-queue.ts): a receive batch through
// phase 1 (prepareInput + openAll) and phase 2 (input with `opened` set)
// gives the same verdicts, delivered bytes, xfrm_stat counters, per-SA
// stats and replay windows as input() one packet at a time — with a packet
// replayed inside the batch, one replayed from before it, a bad ICV, a
// keepalive and good packets of two SAs, raw and over UDP.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OpenQueue } from '../../src/xfrm/open-queue.js';
import { XfrmResult, XVerdict } from '../../src/xfrm/result.js';
import type { StateSpec } from '../../src/xfrm/spec.js';
import type { XfrmState } from '../../src/xfrm/state.js';
import { XfrmStack } from '../../src/xfrm/xfrm.js';
import { ip4 } from '../util/packets.js';
import { addPolicy, addState, GCM, GUEST, HOST, NOW, sa, send } from './esp-util.js';

const PEER2 = '198.51.100.3';
const STRIDE = 2048;
const HEAD = 256;
const NO_AEAD = { aead: undefined };
const ALGS: readonly (readonly [string, Partial<StateSpec>])[] = [
  ['aes-gcm', GCM],
  ['chacha20-poly1305 esn', { aead: { name: 'rfc7539esp(chacha20,poly1305)', keyHex: '33'.repeat(36), bits: 128 }, flags: ['esn'], replayWindow: 64 }],
  ['cbc(aes)+hmac(sha256)', { ...NO_AEAD, enc: { name: 'cbc(aes)', keyHex: '44'.repeat(16) }, auth: { name: 'hmac(sha256)', keyHex: '55'.repeat(32), bits: 128 }, authTrunc: true }],
];

/** SA 0x1001 (→ GUEST, raw) and 0x1002 (→ PEER2, UDP encap 4500) with policies: as sender (out) or receiver (in). */
function stack(alg: Partial<StateSpec>, dir: 'in' | 'out'): { x: XfrmStack; s1: XfrmState; s2: XfrmState } {
  const x = new XfrmStack();
  const encap = { type: 'espinudp', sport: 4500, dport: 4500, oa: '0.0.0.0' } as const;
  const s1 = addState(x, sa(HOST, GUEST, 0x1001, alg));
  const s2 = addState(x, sa(HOST, PEER2, 0x1002, { ...alg, encap }));
  for (const [dst, sel] of [[GUEST, '203.0.113.0/25'], [PEER2, '203.0.113.128/25']] as const) {
    addPolicy(x, { sel: { src: '0.0.0.0/0', dst: sel }, dir, tmpls: [{ src: HOST, dst, proto: 'esp', mode: 'tunnel', reqid: 1 }] });
  }
  return { x, s1, s2 };
}

interface Wire { pkt: Uint8Array; udp: boolean }

/** The batch the receiver gets, and what one packet-at-a-time input must see of it. */
function wires(alg: Partial<StateSpec>): { before: Wire[]; batch: Wire[] } {
  const tx = stack(alg, 'out');
  const out = (dst: string, len: number): Uint8Array => send(tx.x, ip4({ src: '203.0.113.1', dst, payloadLen: len }));
  const a = [out('203.0.113.10', 100), out('203.0.113.11', 61), out('203.0.113.12', 1400), out('203.0.113.13', 20)];
  const b = [out('203.0.113.200', 500), out('203.0.113.201', 30), out('203.0.113.202', 900)];
  const bad = a[3]!.slice();
  bad[bad.length - 1]! ^= 1; // ICV
  const raw = (p: Uint8Array): Wire => ({ pkt: p, udp: false });
  const udp = (p: Uint8Array): Wire => ({ pkt: p.slice(28), udp: true }); // the NAT-T socket hands over the UDP payload
  const keepalive: Wire = { pkt: new Uint8Array([0xff]), udp: true };
  return {
    before: [raw(a[0]!)],
    batch: [
      raw(a[1]!), udp(b[0]!), raw(a[0]!) /* replayed from before the batch */, raw(bad), udp(b[1]!), keepalive,
      raw(a[1]!) /* replayed inside the batch */, raw(a[2]!), udp(b[2]!), udp(b[1]!) /* replayed */,
    ],
  };
}

function slabOf(ws: readonly Wire[]): Uint8Array {
  const slab = new Uint8Array(ws.length * STRIDE);
  ws.forEach((w, i) => slab.set(w.pkt, i * STRIDE + HEAD));
  return slab;
}

const SRC = 0xc6336401; // HOST
const DST = 0xc6336403; // PEER2

/** Every packet of ws through x in order; q non-null: phase 1 first, as ReceivePath does. */
function receive(x: XfrmStack, ws: readonly Wire[], q: OpenQueue | null): [XVerdict, number, string][] {
  const slab = slabOf(ws);
  const r = new XfrmResult();
  if (q !== null) {
    ws.forEach((w, i) => x.prepareInput(slab, i * STRIDE + HEAD, w.pkt.length, w.udp, SRC, 4500, DST, 0, q, i));
    q.openAll();
    x.opened = q;
  }
  const got: [XVerdict, number, string][] = ws.map((w, i) => {
    if (q !== null) q.cursor = i;
    const off = i * STRIDE + HEAD;
    const v = w.udp ? x.inputUdp(slab, off, w.pkt.length, SRC, 4500, DST, 0, 0, NOW, r) : x.input(slab, off, w.pkt.length, 0, NOW, r);
    return [v, r.mib, v === XVerdict.Deliver ? Buffer.from(slab.subarray(r.off, r.off + r.len)).toString('hex') : ''];
  });
  x.opened = null;
  q?.clear();
  return got;
}

const saView = (s: XfrmState): unknown => ({
  replay: s.statReplay, window: s.statReplayWindow, integrity: s.statIntegrityFailed, bytes: s.curBytes, packets: s.curPackets,
  seq: s.replay.seq, seqHi: s.replay.seqHi, bitmap: [...s.replay.bitmap],
});

for (const [label, alg] of ALGS) {
  test(`batched opens, ${label}: same deliveries, counters, per-SA stats and replay windows as one at a time`, () => {
    const { before, batch } = wires(alg);
    const one = stack(alg, 'in');
    const bat = stack(alg, 'in');
    receive(one.x, before, null);
    receive(bat.x, before, null);
    const want = receive(one.x, batch, null);
    const got = receive(bat.x, batch, new OpenQueue(16));
    assert.deepEqual(got, want);
    assert.deepEqual(want.map((g) => g[0]), [2, 2, 0, 0, 2, 4, 0, 2, 2, 0].map((v) => v as XVerdict), 'the batch exercises every case');
    assert.deepEqual(bat.x.mib.snapshot(), one.x.mib.snapshot());
    assert.equal(one.x.mib.snapshot().XfrmInStateSeqError, 3);
    assert.equal(one.x.mib.snapshot().XfrmInStateProtoError, 1);
    assert.deepEqual(saView(bat.s1), saView(one.s1));
    assert.deepEqual(saView(bat.s2), saView(one.s2));
    assert.equal(one.s1.statIntegrityFailed, 1);
    assert.deepEqual(bat.x.natT, one.x.natT);
    assert.equal(bat.x.events.length, one.x.events.length);
  });
}

test('batched opens: phase 1 changes nothing; a packet phase 1 refused, or not prepared, opens in phase 2', () => {
  const { before, batch } = wires(GCM);
  const rx = stack(GCM, 'in');
  receive(rx.x, before, null);
  const q = new OpenQueue(3); // indices 3.. are not prepared
  const slab = slabOf(batch);
  const snap = JSON.stringify([rx.x.mib.snapshot(), saView(rx.s1), saView(rx.s2)]);
  batch.forEach((w, i) => rx.x.prepareInput(slab, i * STRIDE + HEAD, w.pkt.length, w.udp, SRC, 4500, DST, 0, q, i));
  q.openAll();
  assert.equal(JSON.stringify([rx.x.mib.snapshot(), saView(rx.s1), saView(rx.s2)]), snap, 'no counter or window moved');
  q.cursor = 1;
  assert.equal(q.take(rx.s1, slab, STRIDE + HEAD, batch[1]!.pkt.length, 0), -1, 'another SA: not this entry');
  q.cursor = 2; // replayed from before the batch: phase 1 refused it
  assert.equal(q.take(rx.s1, slab, 2 * STRIDE + HEAD + 20, batch[2]!.pkt.length - 20, 0), -1);
  q.cursor = 0;
  assert.equal(q.take(rx.s1, slab, HEAD + 20, batch[0]!.pkt.length - 20, 0), 1, 'opened by openBatch');
  assert.equal(q.take(rx.s1, slab, HEAD + 20, batch[0]!.pkt.length - 20, 0), -1, 'taken once');
  q.clear();
  assert.equal(q.cursor, -1);
});
