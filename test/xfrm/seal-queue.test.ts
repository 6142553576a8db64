// Deferred ESP seals (src/xfrm/seal-queue.ts): a read batch through
// XfrmStack.output with a SealQueue, then sealPending, gives the same bytes,
// verdicts, counters and sequence numbers as output() sealing each packet
// at once — for a batch mixing two SAs, a bypass packet and a dropped one —
// and a hard expiry mid-batch seals the SA's earlier packets before its
// context is freed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EspCrypto } from '../../src/xfrm/esp-crypto.js';
import { XfrmStat } from '../../src/xfrm/mib.js';
import { XfrmResult, XVerdict } from '../../src/xfrm/result.js';
import { SealQueue } from '../../src/xfrm/seal-queue.js';
import type { StateSpec } from '../../src/xfrm/spec.js';
import type { XfrmState } from '../../src/xfrm/state.js';
import { XfrmStack } from '../../src/xfrm/xfrm.js';
import { ip4 } from '../util/packets.js';
import { addPolicy, addState, GCM, GUEST, HOST, NOW, recv, sa } from './esp-util.js';

const PEER2 = '198.51.100.3';
const NOSTATE = '198.51.100.4';
const STRIDE = 2048;
const HEAD = 256;

const NO_AEAD = { aead: undefined };
const ALGS: readonly (readonly [string, Partial<StateSpec>, boolean])[] = [
  // [label, algorithms, deterministic: the same bytes from two contexts sharing one EspCrypto]
  ['aes-gcm', GCM, true],
  ['chacha20-poly1305', { aead: { name: 'rfc7539esp(chacha20,poly1305)', keyHex: '33'.repeat(36), bits: 128 } }, true],
  ['cbc(aes)+hmac(sha256)', { ...NO_AEAD, enc: { name: 'cbc(aes)', keyHex: '44'.repeat(16) }, auth: { name: 'hmac(sha256)', keyHex: '55'.repeat(32), bits: 128 }, authTrunc: true }, false],
  ['cipher_null+hmac(sha1)', { ...NO_AEAD, enc: { name: 'ecb(cipher_null)', keyHex: '' }, auth: { name: 'hmac(sha1)', keyHex: '66'.repeat(20) } }, true],
];

interface Pkt { dst: string; len: number; isLocal: boolean }
// SA 1 (→ GUEST), SA 2 (→ PEER2), a local tunnel's packet no policy covers (Bypass), SA 1,
// one whose template has no state (XfrmOutNoStates), SA 2, SA 1.
const BATCH: readonly Pkt[] = [
  { dst: '203.0.113.10', len: 100, isLocal: false },
  { dst: '203.0.113.200', len: 1000, isLocal: false },
  { dst: '198.51.100.9', len: 300, isLocal: true },
  { dst: '203.0.113.11', len: 61, isLocal: false },
  { dst: '192.0.2.5', len: 80, isLocal: false },
  { dst: '203.0.113.201', len: 40, isLocal: false },
  { dst: '203.0.113.12', len: 1400, isLocal: false },
];

/** A sender with SA 0x1001 for 203.0.113.0/25, 0x1002 for 203.0.113.128/25, a stateless template for 192.0.2.0/24. */
function sender(alg: Partial<StateSpec>, extra: Partial<StateSpec> = {}): { x: XfrmStack; s1: XfrmState; s2: XfrmState } {
  const x = new XfrmStack();
  const s1 = addState(x, sa(HOST, GUEST, 0x1001, { ...alg, ...extra }));
  const s2 = addState(x, sa(HOST, PEER2, 0x1002, { ...alg, ...extra }));
  const tmpl = (dst: string, reqid: number) => ({ src: HOST, dst, proto: 'esp', mode: 'tunnel', reqid } as const);
  addPolicy(x, { sel: { src: '0.0.0.0/0', dst: '203.0.113.0/25' }, dir: 'out', tmpls: [tmpl(GUEST, 1)] });
  addPolicy(x, { sel: { src: '0.0.0.0/0', dst: '203.0.113.128/25' }, dir: 'out', tmpls: [tmpl(PEER2, 1)] });
  addPolicy(x, { sel: { src: '0.0.0.0/0', dst: '192.0.2.0/24' }, dir: 'out', tmpls: [tmpl(NOSTATE, 2)] });
  return { x, s1, s2 };
}

/** The receiver of both SAs, with in policies for every packet. */
function receiver(alg: Partial<StateSpec>): XfrmStack {
  const x = new XfrmStack();
  addState(x, sa(HOST, GUEST, 0x1001, alg));
  addState(x, sa(HOST, PEER2, 0x1002, alg));
  for (const [dst, sel] of [[GUEST, '203.0.113.0/25'], [PEER2, '203.0.113.128/25']] as const) {
    addPolicy(x, { sel: { src: '0.0.0.0/0', dst: sel }, dir: 'in', tmpls: [{ src: HOST, dst, proto: 'esp', mode: 'tunnel', reqid: 1 }] });
  }
  return x;
}

function slabOf(pkts: readonly Pkt[]): Uint8Array {
  const slab = new Uint8Array(pkts.length * STRIDE);
  pkts.forEach((p, i) => slab.set(ip4({ src: '203.0.113.1', dst: p.dst, payloadLen: p.len - 20, id: i }), i * STRIDE + HEAD));
  return slab;
}

interface Run { slab: Uint8Array; out: [XVerdict, number, number, number][] }

/** The batch through x: sealed per packet (q null) or deferred into q and sealed once at the end. */
function run(x: XfrmStack, pkts: readonly Pkt[], q: SealQueue | null): Run {
  const slab = slabOf(pkts);
  const r = new XfrmResult();
  const out: [XVerdict, number, number, number][] = [];
  pkts.forEach((p, i) => {
    const v = x.output(slab, i * STRIDE + HEAD, p.len, 0, p.isLocal, NOW, r, (i + 1) * STRIDE, q);
    out.push([v, r.off, r.len, r.mib]);
  });
  if (q !== null) x.sealPending(q);
  return { slab, out };
}

/** Shares a's crypto context with b (same AEAD IV mask): the same sequence numbers then seal to the same bytes. */
function share(from: XfrmState, to: XfrmState): void {
  Object.assign(to as { crypto: EspCrypto }, { crypto: from.crypto });
}

const stateView = (s: XfrmState): number[] => [s.curBytes, s.curPackets, s.replay.oseq, s.replay.oseqHi];

for (const [label, alg, deterministic] of ALGS) {
  test(`deferred seal, ${label}: same verdicts, bytes, counters and sequence numbers as sealing per packet`, () => {
    const one = sender(alg);
    const bat = sender(alg);
    if (deterministic) {
      share(one.s1, bat.s1);
      share(one.s2, bat.s2);
    }
    const q = new SealQueue(16);
    const a = run(one.x, BATCH, null);
    const slab = slabOf(BATCH);
    const r = new XfrmResult();
    const out: [XVerdict, number, number, number][] = [];
    BATCH.forEach((p, i) => {
      out.push([bat.x.output(slab, i * STRIDE + HEAD, p.len, 0, p.isLocal, NOW, r, (i + 1) * STRIDE, q), r.off, r.len, r.mib]);
    });
    assert.equal(q.count, 5, 'five ESP packets wait for their seal');
    assert.ok(q.hasPending);
    assert.equal(bat.x.sealPending(q), 0);
    assert.ok(!q.hasPending);
    assert.deepEqual(out, a.out);
    assert.deepEqual(out.map((o) => o[0]), [1, 1, 3, 1, 0, 1, 1].map((v) => v as XVerdict));
    assert.deepEqual(bat.x.mib.snapshot(), one.x.mib.snapshot());
    assert.equal(one.x.mib.snapshot().XfrmOutNoStates, 1);
    assert.deepEqual(stateView(bat.s1), stateView(one.s1));
    assert.deepEqual(stateView(bat.s2), stateView(one.s2));
    assert.equal(bat.x.events.length, one.x.events.length);
    const rx = receiver(alg);
    const rxOne = receiver(alg);
    out.forEach(([v, off, len], i) => {
      if (v !== XVerdict.Xmit) {
        assert.deepEqual(slab.subarray(i * STRIDE, (i + 1) * STRIDE), a.slab.subarray(i * STRIDE, (i + 1) * STRIDE), `packet ${i}`);
        return;
      }
      const got = recv(rx, slab.slice(off, off + len));
      const want = recv(rxOne, a.slab.slice(off, off + len));
      assert.equal(got.v, XVerdict.Deliver, `packet ${i}: mib ${got.r.mib}`);
      assert.deepEqual(got.inner, want.inner, `packet ${i} decrypts to the same inner packet`);
      if (deterministic) {
        assert.deepEqual(slab.subarray(i * STRIDE, (i + 1) * STRIDE), a.slab.subarray(i * STRIDE, (i + 1) * STRIDE), `packet ${i} bytes`);
      } else { // a fresh CBC IV per packet: the outer IPv4 and ESP headers are the same
        assert.deepEqual(slab.subarray(i * STRIDE, off + 28), a.slab.subarray(i * STRIDE, off + 28));
        assert.notDeepEqual(slab.subarray(off, off + len), a.slab.subarray(off, off + len));
      }
    });
    q.reset();
    assert.equal(q.count, 0);
  });
}

test('deferred seal: a hard expiry mid-batch seals the SA\'s earlier packets before its context is freed', () => {
  const limits: StateSpec['limits'] = { packetHard: 2 };
  const pkts = [BATCH[0]!, BATCH[1]!, BATCH[3]!, BATCH[6]!];
  const one = sender(GCM, { limits }); // own contexts: one's expiry frees its s1 context
  const bat = sender(GCM, { limits });
  const a = run(one.x, pkts, null);
  const q = new SealQueue(16);
  const b = run(bat.x, pkts, q);
  assert.deepEqual(b.out.map((o) => o[0]), [XVerdict.Xmit, XVerdict.Xmit, XVerdict.Xmit, XVerdict.Drop]);
  assert.equal(b.out[3]![3], XfrmStat.OutStateExpired);
  assert.equal(q.failedCount, 0, 'sealed before the state was destroyed');
  assert.deepEqual(b.out, a.out);
  assert.deepEqual(bat.x.mib.snapshot(), one.x.mib.snapshot());
  assert.equal(bat.x.sad.count, 1, 'SA 1 is gone');
  const rx = receiver(GCM);
  for (const [v, off, len] of b.out) if (v === XVerdict.Xmit) assert.equal(recv(rx, b.slab.slice(off, off + len)).v, XVerdict.Deliver);
});

/** BATCH through s.x.output into q (seals deferred): the slab and, per Xmit packet, its queue index and outer range. */
function queueBatch(x: XfrmStack, q: SealQueue): { slab: Uint8Array; sent: { idx: number; off: number; len: number }[] } {
  const slab = slabOf(BATCH);
  const r = new XfrmResult();
  const sent: { idx: number; off: number; len: number }[] = [];
  BATCH.forEach((p, i) => {
    if (x.output(slab, i * STRIDE + HEAD, p.len, 0, p.isLocal, NOW, r, (i + 1) * STRIDE, q) === XVerdict.Xmit) {
      sent.push({ idx: r.sealIdx, off: r.off, len: r.len });
    }
  });
  return { slab, sent };
}

test('deferred seal: a group whose seal throws is flagged failed and counted XfrmOutStateProtoError per packet', () => {
  const s = sender(GCM);
  const q = new SealQueue(16);
  const { slab, sent } = queueBatch(s.x, q);
  s.s1.crypto.destroy(); // SA 1's context gone under its queued packets: sealBatch throws
  assert.equal(s.x.sealPending(q), 3);
  assert.equal(q.failedCount, 3);
  assert.ok(q.lastError instanceof Error);
  assert.deepEqual(sent.map((p) => q.failed[p.idx]), [1, 0, 1, 0, 1]);
  assert.equal(s.x.mib.snapshot().XfrmOutStateProtoError, 3);
  const rx = receiver(GCM);
  const off2 = STRIDE + HEAD - 20 - 8 - 8; // SA 2's first packet: outer IPv4 + ESP header + IV before the inner
  assert.equal(recv(rx, slab.slice(off2, off2 + (slab[off2 + 2]! << 8 | slab[off2 + 3]!))).v, XVerdict.Deliver, 'the other SA was sealed');
});

test('deferred seal: an OpenSSL failure on one packet (sealBatch stops there, `sealed` = its index) drops that packet alone; the rest of its group is sealed', () => {
  const s = sender(GCM);
  const q = new SealQueue(16);
  const { slab, sent } = queueBatch(s.x, q);
  const real = s.s1.crypto.sealBatch.bind(s.s1.crypto);
  let sealedOfS1 = 0;
  // The addon's contract (native/crypto.c esp_seal_batch): packets in order; a failure stops the call, `sealed` = its index.
  s.s1.crypto.sealBatch = (b, offs, pts, his, n): void => {
    for (let k = 0; k < n; k++) {
      if (sealedOfS1++ === 1) throw Object.assign(new Error('OpenSSL failed to seal an ESP packet'), { sealed: k });
      real(b, offs.subarray(k, k + 1), pts.subarray(k, k + 1), his.subarray(k, k + 1), 1);
    }
  };
  assert.equal(s.x.sealPending(q), 1);
  assert.equal(q.failedCount, 1);
  assert.deepEqual(sent.map((p) => q.failed[p.idx]), [0, 0, 1, 0, 0], "SA 1's second packet only");
  assert.equal(s.x.mib.snapshot().XfrmOutStateProtoError, 1);
  const rx = receiver(GCM);
  const opens = sent.map((p) => recv(rx, slab.slice(p.off, p.off + p.len)).v === XVerdict.Deliver);
  assert.deepEqual(opens, [true, true, false, true, true], 'every other packet of both SAs was sealed');
});

test('SealQueue: full queue → espOutput seals at once (sealIdx -1); sealAll groups by state and slab', () => {
  const s = sender(GCM);
  const q = new SealQueue(2);
  const slab = slabOf(BATCH);
  const r = new XfrmResult();
  const seen: number[] = [];
  for (const i of [0, 3, 6]) {
    assert.equal(s.x.output(slab, i * STRIDE + HEAD, BATCH[i]!.len, 0, false, NOW, r, (i + 1) * STRIDE, q), XVerdict.Xmit);
    seen.push(r.sealIdx);
  }
  assert.deepEqual(seen, [0, 1, -1]);
  assert.ok(q.isFull);
  assert.throws(() => q.add(s.s1, slab, 0, 16, 0), RangeError);
  s.x.sealPending(q);
  const rx = receiver(GCM);
  for (const i of [0, 3, 6]) {
    const off = i * STRIDE + HEAD - 36;
    const len = (slab[off + 2]! << 8) | slab[off + 3]!;
    assert.equal(recv(rx, slab.slice(off, off + len)).v, XVerdict.Deliver, `packet ${i}`);
  }
});
