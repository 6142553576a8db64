// ESP crypto micro-benchmark (not a test): EspCrypto.seal and .open per
// algorithm at 64, 1400 and 8192 bytes of plaintext, native per-SA context
// (src/xfrm/, native/crypto_sa.c) against the node:crypto reference
// (test/xfrm/ref/), in the same run, with the ratio ref / native.
//
//   node dist/bench/crypto.bench.js [ms]      (default 5 ms per trial)
//
// Method:
//   - seal: seal() (IV generation included) re-encrypts the same buffer in
//     place; the bytes do not matter to the time.
//   - open: each iteration copies the sealed packet back (one set() of
//     espLen bytes, in the time of both columns; the "copy" row shows its
//     cost) and opens it.
//   - Each cell: the least of 40 trials of as many iterations as fit in
//     [ms], after a warm-up. GCs: PerformanceObserver entries during the
//     native trials (0 = nothing allocated per packet that reached a GC).
//   - "N-API floor": cryptoEspOpen with an impossible length — the cost of
//     one call and its argument checks, no crypto.
//   - Batch rows: 64 packets of one SA sealed by one sealBatch call against
//     64 seal calls (same slab, same sizes), ns per packet: what the per-call
//     N-API crossing costs at each size.
// The machine is shared: numbers are indicative. Prints one table.

import { PerformanceObserver, performance } from 'node:perf_hooks';
import { put32 } from '../src/wire/bytes.js';
import { makeEspCrypto } from '../src/xfrm/esp-crypto.js';
import type { EspCrypto, EspCryptoConfig } from '../src/xfrm/esp-crypto.js';
import { makeRefEspCrypto } from '../test/xfrm/ref/esp-crypto.js';

const SIZES = [64, 1400, 8192] as const;
const OFF = 128;
const k = (n: number, v: number): Uint8Array => new Uint8Array(n).fill(v);

const ALGS: readonly (readonly [string, EspCryptoConfig])[] = [
  ['aes-gcm-128', { aead: { name: 'rfc4106(gcm(aes))', key: k(20, 1), bits: 128 }, esn: false }],
  ['aes-gcm-192', { aead: { name: 'rfc4106(gcm(aes))', key: k(28, 2), bits: 128 }, esn: false }],
  ['aes-gcm-256', { aead: { name: 'rfc4106(gcm(aes))', key: k(36, 3), bits: 128 }, esn: false }],
  ['aes-gcm-256 esn icv8', { aead: { name: 'rfc4106(gcm(aes))', key: k(36, 3), bits: 64 }, esn: true }],
  ['chacha20-poly1305', { aead: { name: 'rfc7539esp(chacha20,poly1305)', key: k(36, 4) }, esn: false }],
  ['cbc-128+sha1-96', { enc: { name: 'cbc(aes)', key: k(16, 5) }, auth: { name: 'hmac(sha1)', key: k(20, 6) }, esn: false }],
  ['cbc-128+sha256-128', { enc: { name: 'cbc(aes)', key: k(16, 5) }, auth: { name: 'hmac(sha256)', key: k(32, 6), bits: 128 }, esn: false }],
  ['cbc-256+sha384-192 esn', { enc: { name: 'cbc(aes)', key: k(32, 7) }, auth: { name: 'hmac(sha384)', key: k(48, 8), bits: 192 }, esn: true }],
  ['cbc-256+sha512-256', { enc: { name: 'cbc(aes)', key: k(32, 7) }, auth: { name: 'hmac(sha512)', key: k(64, 8), bits: 256 }, esn: false }],
];

let gcs = 0;
const obs = new PerformanceObserver((l) => { gcs += l.getEntries().length; });
obs.observe({ entryTypes: ['gc'] });

const trialMs = Number(process.argv[2] ?? 5);
if (!(trialMs > 0)) throw new Error(`ms must be positive, got "${process.argv[2] ?? ''}"`);

const TRIALS = 40;

/**
 * Least ns per call of step() over TRIALS timed trials of ~trialMs each,
 * after one warm-up: on a shared machine the minimum of many short trials
 * is the least disturbed estimate.
 */
function best(step: () => void): number {
  let n = 16;
  for (let t0 = performance.now(); performance.now() - t0 < trialMs;) for (let i = 0; i < n; i++) step();
  for (;;) { // size a trial
    const t0 = performance.now();
    for (let i = 0; i < n; i++) step();
    const ms = performance.now() - t0;
    if (ms >= trialMs / 4) { n = Math.max(1, Math.round((n * trialMs) / ms)); break; }
    n *= 4;
  }
  let ns = Infinity;
  for (let t = 0; t < TRIALS; t++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) step();
    ns = Math.min(ns, ((performance.now() - t0) * 1e6) / n);
  }
  return ns;
}

interface Cell { seal: number; open: number }

function measure(c: EspCrypto, ptLen: number): Cell {
  const len = 8 + c.ivLen + ptLen + c.icvLen;
  const b = new Uint8Array(OFF + len + 64);
  put32(b, OFF, 0x1001);
  put32(b, OFF + 4, 1);
  const seal = best(() => c.seal(b, OFF, ptLen, 0));
  const wire = b.slice(OFF, OFF + len);
  if (!c.open(b, OFF, len, 0)) throw new Error('bench: own packet does not open');
  const open = best(() => {
    b.set(wire, OFF);
    if (!c.open(b, OFF, len, 0)) throw new Error('bench: open failed');
  });
  return { seal, open };
}

/** Lets queued GC entries reach the observer. */
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 20));

const BATCH = 64;

/** ns per packet: one sealBatch of BATCH packets vs BATCH seal calls. */
function batchVsSingle(c: EspCrypto, ptLen: number): [number, number] {
  const stride = 8 + c.ivLen + ptLen + c.icvLen + 64;
  const slab = new Uint8Array(BATCH * stride);
  const offs = new Int32Array(BATCH);
  const lens = new Int32Array(BATCH).fill(ptLen);
  const seqHi = new Uint32Array(BATCH);
  for (let i = 0; i < BATCH; i++) offs[i] = i * stride;
  const single = best(() => { for (let i = 0; i < BATCH; i++) c.seal(slab, offs[i]!, ptLen, 0); }) / BATCH;
  const batch = best(() => c.sealBatch(slab, offs, lens, seqHi, BATCH)) / BATCH;
  return [single, batch];
}

const rows: string[][] = [];
let nativeGcs = 0;
for (const [label, cfg] of ALGS) {
  const nat = makeEspCrypto(cfg);
  const ref = makeRefEspCrypto(cfg);
  for (const size of SIZES) {
    const ptLen = size - (size % nat.blockAlign);
    await settle();
    const g0 = gcs;
    const n = measure(nat, ptLen);
    await settle();
    nativeGcs += gcs - g0;
    const r = measure(ref, ptLen);
    rows.push([label, String(ptLen), n.seal.toFixed(0), r.seal.toFixed(0), (r.seal / n.seal).toFixed(1),
      n.open.toFixed(0), r.open.toFixed(0), (r.open / n.open).toFixed(1), ((ptLen * 8) / n.seal).toFixed(2)]);
  }
  nat.destroy();
}

// The copy inside every open cell, the N-API floor, batch against single calls.
const extra: string[] = [];
const gcm = makeEspCrypto(ALGS[0]![1]);
for (const size of SIZES) {
  await settle();
  const g0 = gcs;
  const [single, batch] = batchVsSingle(gcm, size);
  await settle();
  nativeGcs += gcs - g0;
  extra.push(`${ALGS[0]![0]} ${size} B seal: ${single.toFixed(0)} ns/packet in single calls, ${batch.toFixed(0)} in batches of ${BATCH} (${(single - batch).toFixed(0)} ns saved)`);
}
for (const size of SIZES) {
  const src = new Uint8Array(size + 40);
  const dst = new Uint8Array(size + 40 + OFF);
  extra.push(`copy ${size + 40} B: ${best(() => dst.set(src, OFF)).toFixed(0)} ns`);
}
const floorSa = makeEspCrypto(ALGS[0]![1]);
const tiny = new Uint8Array(64);
extra.push(`N-API floor (cryptoEspOpen, impossible length): ${best(() => floorSa.open(tiny, 0, 8, 0)).toFixed(0)} ns`);
obs.disconnect();

const head = ['algorithm', 'pt B', 'seal ns', 'ref ns', 'x', 'open ns', 'ref ns', 'x', 'seal Gbit/s'];
const all = [head, ...rows];
const w = head.map((_, i) => Math.max(...all.map((row) => row[i]!.length)));
const line = (row: readonly string[]): string => row.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ');
console.log([
  `ESP crypto per packet, native per-SA context vs node:crypto reference (x = ref / native), least of ${TRIALS} × ~${trialMs} ms, node ${process.version}, OpenSSL ${process.versions.openssl}`,
  line(head), w.map((x) => '-'.repeat(x)).join('  '), ...rows.map(line),
  ...extra, `GCs during native trials: ${nativeGcs}`,
].join('\n'));
