// ESP data-path benchmark (not a test): per algorithm, XfrmStack.output of a
// 1400-byte inner IPv4 packet N times (policy lookup, SA find, padding,
// seal, outer header), then XfrmStack.input of the produced ESP packet N
// times on the peer (SA lookup, replay check, open, trailer, tunnel decap,
// policy check). The ipip core does the same in this run, as the ratio's
// base (ESP ns / ipip ns). The x32 columns encapsulate read batches of 32
// packets in 32 slots of one slab, as the data path does: sealed per packet
// (output() without a queue) and deferred to one sealBatch per batch
// (SealQueue + sealPending, as TransmitPath does), ns per packet; the two
// alternate trial by trial (batchRow); their GCs are counted together. The
// x32 decap columns do the same for input: 32 copies of the ESP packet
// opened one by one, and in two phases with one openBatch (OpenQueue, as
// ReceivePath does).
//
//   node dist/bench/esp.bench.js [N]        (default N = 100 000)
//
// Crypto runs on the native per-SA context, as in tunkitd (makeEspCrypto);
// bench/crypto.bench.ts isolates it against the node:crypto reference.
//
// Method: ESP encrypts and decrypts in place, so each iteration first copies
// the packet back into the buffer (one 1.4 KB set(), included in the time;
// the ipip rows copy too, so the ratio compares like with like). The
// receiver's replay window is 0 (no check: the same packet is accepted
// again). Warm-up of min(N, 20 000) iterations per phase, then N iterations
// in 100 trials; each cell is the least per-packet time of a trial (the
// machine is shared; a long single run measures its load). GCs counted as
// in tunnel.bench.ts, over all trials. Prints one table; numbers only.

import { PerformanceObserver, performance } from 'node:perf_hooks';
import { makeTunnelParams } from '../src/tunnel/params.js';
import { PacketResult } from '../src/tunnel/result.js';
import { TunnelStack } from '../src/tunnel/stack.js';
import { tunnelXmit } from '../src/tunnel/xmit.js';
import { makeSaConfig } from '../src/xfrm/config.js';
import { XfrmResult, XVerdict } from '../src/xfrm/result.js';
import { OpenQueue } from '../src/xfrm/open-queue.js';
import { SealQueue } from '../src/xfrm/seal-queue.js';
import type { StateSpec } from '../src/xfrm/spec.js';
import { XfrmStack } from '../src/xfrm/xfrm.js';
import { ip4 } from '../test/util/packets.js';

const HEAD = 256;
const INNER = ip4({ src: '203.0.113.1', dst: '203.0.113.2', payloadLen: 1380 });
const A = '198.51.100.1';
const B = '198.51.100.2';

const ALGS: readonly (readonly [string, Partial<StateSpec>])[] = [
  ['aes-gcm-128', { aead: { name: 'rfc4106(gcm(aes))', keyHex: '11'.repeat(20), bits: 128 } }],
  ['aes-gcm-256', { aead: { name: 'rfc4106(gcm(aes))', keyHex: '22'.repeat(36), bits: 128 } }],
  ['chacha20-poly1305', { aead: { name: 'rfc7539esp(chacha20,poly1305)', keyHex: '33'.repeat(36), bits: 128 } }],
  ['aes-cbc-128+sha1', { enc: { name: 'cbc(aes)', keyHex: '44'.repeat(16) }, auth: { name: 'hmac(sha1)', keyHex: '55'.repeat(20) } }],
  ['aes-cbc-128+sha256', { enc: { name: 'cbc(aes)', keyHex: '44'.repeat(16) }, auth: { name: 'hmac(sha256)', keyHex: '55'.repeat(32), bits: 128 }, authTrunc: true }],
];

let gcs = 0;
const obs = new PerformanceObserver((l) => { gcs += l.getEntries().length; });
obs.observe({ entryTypes: ['gc'] });

interface Phase { ns: number; gcs: number }

const TRIALS = 100;

/** n steps in TRIALS equal trials; ns = the least per-step time of a trial (the shared machine preempts long runs). */
async function timed(n: number, step: () => void): Promise<Phase> {
  for (let i = 0; i < Math.min(n, 20_000); i++) step();
  await new Promise((r) => setTimeout(r, 20));
  const g0 = gcs;
  const per = Math.max(1, Math.floor(n / TRIALS));
  let ns = Infinity;
  for (let t = 0; t < TRIALS; t++) {
    const t0 = performance.now();
    for (let i = 0; i < per; i++) step();
    ns = Math.min(ns, ((performance.now() - t0) * 1e6) / per);
  }
  await new Promise((r) => setTimeout(r, 20));
  return { ns, gcs: gcs - g0 };
}

function ends(alg: Partial<StateSpec>): [XfrmStack, XfrmStack] {
  const out = new XfrmStack();
  const inn = new XfrmStack();
  const sa: StateSpec = { src: A, dst: B, proto: 'esp', spi: 0x100, mode: 'tunnel', reqid: 1, ...alg };
  out.sad.add(makeSaConfig(sa, () => null), sa, 0);
  inn.sad.add(makeSaConfig({ ...sa, replayWindow: 0 }, () => null), sa, 0);
  const tmpl = { src: A, dst: B, proto: 'esp' as const, mode: 'tunnel' as const, reqid: 1 };
  out.spd.insert(out.spd.make({ sel: { src: '203.0.113.1/32', dst: '203.0.113.2/32' }, dir: 'out', tmpls: [tmpl] }, () => null, 0, 0), false);
  inn.spd.insert(inn.spd.make({ sel: { src: '203.0.113.1/32', dst: '203.0.113.2/32' }, dir: 'in', tmpls: [tmpl] }, () => null, 0, 0), false);
  return [out, inn];
}

const SLOTS = 32;
const STRIDE = 2048;

/** One read batch of SLOTS packets through out, sealed per packet (q null) or deferred and sealed once. */
function batchStep(out: XfrmStack, slab: Uint8Array, r: XfrmResult, q: SealQueue | null): void {
  for (let k = 0; k < SLOTS; k++) {
    const off = k * STRIDE + HEAD;
    slab.set(INNER, off);
    out.output(slab, off, INNER.length, 0, false, 0, r, (k + 1) * STRIDE, q);
  }
  if (q !== null) {
    out.sealPending(q);
    q.reset();
  }
}

/** One receive batch: SLOTS copies of wire through inn, opened one by one (q null) or in two phases with one openBatch. */
function rxStep(inn: XfrmStack, slab: Uint8Array, wire: Uint8Array, r: XfrmResult, q: OpenQueue | null): void {
  for (let k = 0; k < SLOTS; k++) slab.set(wire, k * STRIDE + HEAD);
  if (q !== null) {
    for (let k = 0; k < SLOTS; k++) inn.prepareInput(slab, k * STRIDE + HEAD, wire.length, false, 0, 0, 0, 0, q, k);
    q.openAll();
    inn.opened = q;
  }
  for (let k = 0; k < SLOTS; k++) {
    if (q !== null) q.cursor = k;
    inn.input(slab, k * STRIDE + HEAD, wire.length, 0, 0, r);
  }
  inn.opened = null;
  q?.clear();
}

/** Least ns per packet of a() and b() (4 steps of SLOTS packets per trial), trials alternating; GCs during both. */
async function alternate(n: number, a: () => void, b: () => void): Promise<[Phase, Phase]> {
  for (let i = 0; i < 300; i++) { a(); b(); }
  await new Promise((res) => setTimeout(res, 20));
  const g0 = gcs;
  const ns = [Infinity, Infinity];
  const per = 4;
  const trials = Math.max(1, Math.floor(n / SLOTS / per));
  for (let t = 0; t < 2 * trials; t++) {
    const k = t & 1;
    const step = k === 0 ? a : b;
    const t0 = performance.now();
    for (let i = 0; i < per; i++) step();
    ns[k] = Math.min(ns[k]!, ((performance.now() - t0) * 1e6) / (per * SLOTS));
  }
  await new Promise((res) => setTimeout(res, 20));
  return [{ ns: ns[0]!, gcs: gcs - g0 }, { ns: ns[1]!, gcs: 0 }];
}

/** x32 decap: per packet and two-phase, alternating. */
async function rxBatchRow(alg: Partial<StateSpec>, n: number): Promise<[Phase, Phase]> {
  const [out, inn] = ends(alg);
  const b = new Uint8Array(4096);
  const r = new XfrmResult();
  b.set(INNER, HEAD);
  out.output(b, HEAD, INNER.length, 0, false, 0, r);
  const wire = b.slice(r.off, r.off + r.len);
  const slab = new Uint8Array(SLOTS * STRIDE);
  const q = new OpenQueue(SLOTS);
  const res = await alternate(n, () => rxStep(inn, slab, wire, r, null), () => rxStep(inn, slab, wire, r, q));
  if (r.verdict !== XVerdict.Deliver) throw new Error(`x32 input stopped delivering: mib ${r.mib}`);
  return res;
}

/** x32 encap: per packet and deferred, alternating (load on the shared machine hits both alike). */
async function batchRow(alg: Partial<StateSpec>, n: number): Promise<[Phase, Phase]> {
  const [out] = ends(alg);
  const slab = new Uint8Array(SLOTS * STRIDE);
  const r = new XfrmResult();
  const q = new SealQueue(SLOTS);
  return alternate(n, () => batchStep(out, slab, r, null), () => batchStep(out, slab, r, q));
}

async function espRow(alg: Partial<StateSpec>, n: number): Promise<[Phase, Phase, number]> {
  const [out, inn] = ends(alg);
  const b = new Uint8Array(4096);
  const r = new XfrmResult();
  b.set(INNER, HEAD);
  if (out.output(b, HEAD, INNER.length, 0, false, 0, r) !== XVerdict.Xmit) throw new Error(`output failed: mib ${r.mib}`);
  const wire = b.slice(r.off, r.off + r.len);
  const rb = new Uint8Array(4096);
  rb.set(wire, HEAD);
  if (inn.input(rb, HEAD, wire.length, 0, 0, r) !== XVerdict.Deliver) throw new Error(`input failed: mib ${r.mib}`);
  const enc = await timed(n, () => { b.set(INNER, HEAD); out.output(b, HEAD, INNER.length, 0, false, 0, r); });
  const dec = await timed(n, () => { rb.set(wire, HEAD); inn.input(rb, HEAD, wire.length, 0, 0, r); });
  if (r.verdict !== XVerdict.Deliver) throw new Error('input stopped delivering');
  return [enc, dec, wire.length];
}

async function ipipRow(n: number): Promise<[Phase, Phase]> {
  const left = new TunnelStack();
  const right = new TunnelStack();
  const tx = left.add(makeTunnelParams({ name: 't', kind: 'ipip', local: A, remote: B }));
  const rx = right.add(makeTunnelParams({ name: 'r', kind: 'ipip', local: B, remote: A }));
  tx.isUp = true;
  rx.isUp = true;
  const b = new Uint8Array(4096);
  const r = new PacketResult();
  b.set(INNER, HEAD);
  tunnelXmit(tx, b, HEAD, INNER.length, 0, r);
  const off = r.off;
  const len = r.len;
  const wire = b.slice(off, off + len);
  const enc = await timed(n, () => { b.set(INNER, HEAD); tunnelXmit(tx, b, HEAD, INNER.length, 0, r); });
  const dec = await timed(n, () => { b.set(wire, off); right.receive(b, off, len, 0, r); });
  return [enc, dec];
}

const n = Number(process.argv[2] ?? 100_000);
if (!Number.isInteger(n) || n < 1) throw new Error(`N must be a positive integer, got "${process.argv[2] ?? ''}"`);
const [ie, id] = await ipipRow(n);
const rows: string[][] = [['ipip (base)', String(INNER.length + 20), ie.ns.toFixed(0), '1.0', String(ie.gcs), id.ns.toFixed(0), '1.0', String(id.gcs), ((1400 * 8) / ie.ns).toFixed(2), '', '', '', '', '', '', '', '']];
for (const [label, alg] of ALGS) {
  const [e, d, wl] = await espRow(alg, n);
  const [bp, bb] = await batchRow(alg, n);
  const [dp, db] = await rxBatchRow(alg, n);
  rows.push([
    label, String(wl), e.ns.toFixed(0), (e.ns / ie.ns).toFixed(1), String(e.gcs), d.ns.toFixed(0), (d.ns / id.ns).toFixed(1), String(d.gcs), ((1400 * 8) / e.ns).toFixed(2),
    bp.ns.toFixed(0), bb.ns.toFixed(0), (bb.ns / bp.ns).toFixed(2), String(bp.gcs),
    dp.ns.toFixed(0), db.ns.toFixed(0), (db.ns / dp.ns).toFixed(2), String(dp.gcs),
  ]);
}
obs.disconnect();
const head = ['path', 'outer B', 'encap ns', 'x ipip', 'GCs', 'decap ns', 'x ipip', 'GCs', 'encap Gbit/s', 'x32 encap per-pkt', 'batched', 'ratio', 'GCs', 'x32 decap per-pkt', 'batched', 'ratio', 'GCs'];
const all = [head, ...rows];
const w = head.map((_, i) => Math.max(...all.map((row) => row[i]!.length)));
const line = (row: readonly string[]): string => row.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ');
console.log([`ESP tunnel mode, 1400-byte inner IPv4, N = ${n} per phase, node ${process.version}`, line(head), w.map((x) => '-'.repeat(x)).join('  '), ...rows.map(line)].join('\n'));
