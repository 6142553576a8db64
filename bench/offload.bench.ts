// Offload core benchmark (not a test): TSO split of a 64 KiB TCP super-packet
// into 45 segments, and GRO coalesce of those 45 segments back into one.
//
//   node dist/bench/offload.bench.js [N]        (default N = 20 000 super-packets)
//   SUM=js node dist/bench/offload.bench.js     (wire/checksum.ts's JS loops, not the addon's csum16)
//
// Method:
//   - split: one super-packet as the kernel hands it out (virtio_net_hdr,
//     IPv4 or IPv6, TCP timestamps, gso_size 1448, 65 160 payload bytes →
//     45 segments) split N times into the same 64 slots of 2 KiB. The source
//     is never modified, so every iteration does the same work.
//   - coalesce: the 45 segments produced above, coalesced N times into one
//     merge buffer. The segments' slots are only read (the vnet headers go
//     into their headroom), so every iteration does the same work too.
//   - coal-nv: the same with verifyChecksums off (the ESP case).
//   - Baselines in the same run: sum16 over the 65 160 payload bytes (the
//     checksum work both directions must do at least once), and a plain
//     64 KiB TypedArray copy.
//   - Warm-up: min(N, 2000) iterations per phase. GCs: PerformanceObserver
//     ['gc'] entries that start inside the timed loop.
// Prints one table; numbers only.

import { loadavg } from 'node:os';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import type { PerformanceEntry } from 'node:perf_hooks';
import { GRO_MERGE_BUF_LEN, GroCoalescer, WriteList } from '../src/offload/gro.js';
import { PooledBatch } from '../src/io/pool.js';
import { TsoSplitter } from '../src/offload/tso.js';
import { sum16 } from '../src/wire/checksum.js';
import { loadNative } from '../src/io/native.js';
import { ACK, PSH, TS_OPTION, pattern, superPacket } from '../test/offload/tcp-packets.js';

const MSS = 1448;
const PAYLOAD = 45 * MSS;
const SLOTS = 64;
const SLOT_LEN = 2048;
const OFFSET = 128;

const gcEntries: PerformanceEntry[] = [];
const obs = new PerformanceObserver((list) => { for (const e of list.getEntries()) gcEntries.push(e); });
obs.observe({ entryTypes: ['gc'] });

async function flushGc(): Promise<void> {
  await new Promise<void>((resolve) => setTimeout(resolve, 20));
  for (const e of obs.takeRecords()) gcEntries.push(e);
}

interface Phase { nsPerOp: number; gcs: number }

async function timed(n: number, step: () => void): Promise<Phase> {
  for (let i = 0; i < Math.min(n, 2000); i++) step();
  await flushGc();
  const seen = gcEntries.length;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) step();
  const t1 = performance.now();
  await flushGc();
  let gcs = 0;
  for (let i = seen; i < gcEntries.length; i++) {
    const st = gcEntries[i]!.startTime;
    if (st >= t0 && st <= t1) gcs++;
  }
  return { nsPerOp: ((t1 - t0) * 1e6) / n, gcs };
}

/**
 * As a tunkitd port lays them out (datapath/offload.ts): the super-packet,
 * the segment slots and the merge buffer in one ArrayBuffer, so the split
 * and the merge copy with copyWithin (offload/copy.ts).
 */
function arena(sp: Uint8Array): { src: Uint8Array; slots: PooledBatch; merge: Uint8Array } {
  const spRoom = Math.ceil(sp.length / 64) * 64;
  const buf = new ArrayBuffer(spRoom + SLOTS * SLOT_LEN + GRO_MERGE_BUF_LEN);
  const src = new Uint8Array(buf, 0, sp.length);
  src.set(sp);
  const slots = new PooledBatch(SLOTS, SLOT_LEN, [buf, spRoom]);
  slots.offset = OFFSET;
  return { src, slots, merge: new Uint8Array(buf, spRoom + SLOTS * SLOT_LEN, GRO_MERGE_BUF_LEN) };
}

const fmt = (x: number, d = 0): string => x.toFixed(d).padStart(10);

async function run(v6: boolean, n: number): Promise<void> {
  const sp = superPacket({ v6, payload: pattern(PAYLOAD), options: TS_OPTION, flags: ACK | PSH }, MSS);
  const splitter = new TsoSplitter();
  const { src, slots, merge } = arena(sp);
  let segs = 0;
  const split = await timed(n, () => { segs = splitter.split(src, 0, src.length, slots, 0); });
  if (segs !== 45) throw new Error(`expected 45 segments, got ${segs}`);
  const gro = new GroCoalescer(SLOTS, [merge]);
  const out = new WriteList(SLOTS);
  let writes = 0;
  const coal = await timed(n, () => { writes = gro.coalesce(slots, segs, out); });
  if (writes !== 1) throw new Error(`expected 1 write, got ${writes}`);
  const trusting = new GroCoalescer(SLOTS, [merge], false);
  const coalNv = await timed(n, () => { writes = trusting.coalesce(slots, segs, out); });
  if (writes !== 1) throw new Error(`expected 1 write, got ${writes}`);
  const label = v6 ? 'IPv6' : 'IPv4';
  const gbit = (ns: number): number => (PAYLOAD * 8) / ns;
  console.log(`${label.padEnd(6)} split    ${fmt(split.nsPerOp)} ns/super  ${fmt(split.nsPerOp / 45)} ns/seg  ${fmt(gbit(split.nsPerOp), 1)} Gbit/s  gcs ${split.gcs}`);
  console.log(`${label.padEnd(6)} coalesce ${fmt(coal.nsPerOp)} ns/super  ${fmt(coal.nsPerOp / 45)} ns/seg  ${fmt(gbit(coal.nsPerOp), 1)} Gbit/s  gcs ${coal.gcs}`);
  console.log(`${label.padEnd(6)} coal-nv  ${fmt(coalNv.nsPerOp)} ns/super  ${fmt(coalNv.nsPerOp / 45)} ns/seg  ${fmt(gbit(coalNv.nsPerOp), 1)} Gbit/s  gcs ${coalNv.gcs}  (verifyChecksums off)`);
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 20000);
  const sums = process.env['SUM'] === 'js' ? 'JS loops (SUM=js)' : 'native csum16, as in tunkitd';
  if (process.env['SUM'] !== 'js') loadNative(); // installs the addon's sum (io/native.ts), as the daemon does
  console.log(`offload core, ${n} super-packets of ${PAYLOAD} payload bytes (45 × ${MSS}); checksums: ${sums}; Node ${process.version}; load ${loadavg()[0]!.toFixed(1)}`);
  await run(false, n);
  await run(true, n);
  const data = pattern(PAYLOAD);
  const dst = new Uint8Array(PAYLOAD);
  let acc = 0;
  const cs = await timed(n, () => { acc += sum16(data, 0, PAYLOAD); });
  const cp = await timed(n, () => { dst.set(data); });
  console.log(`base   sum16 64K ${fmt(cs.nsPerOp)} ns        copy 64K ${fmt(cp.nsPerOp)} ns   (${acc > 0 ? 'ok' : '-'})`);
  obs.disconnect();
}

await main();
