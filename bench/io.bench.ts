// TUN I/O benchmark (not a test): packets/s through two TUN devices with the
// kernel forwarding between them, per I/O method. As root:
//
//   node dist/bench/io.bench.js [N]           (default N = 200 000 packets per row)
//
// The script creates a uniquely named netns, re-runs itself inside it with
// `ip netns exec`, and deletes the netns afterwards. Inside: tkA 192.0.2.1/24
// and tkB 198.51.100.1/24, both up; every packet (IPv4, 192.0.2.2 →
// 198.51.100.2, protocol 253) is written into tkA, forwarded by the kernel
// (inside the write(2) call) and read back from tkB. Per round: 128 packets
// written, then 128 read. Methods, all one syscall per packet:
//   native batch   writeBatch + readBatch: one N-API call per 128 packets
//   TunLinux       TunLinux.write()/read(): the batch API plus its Promise per
//                  batch and uv_poll/setImmediate wakeups
//   fs sync        fs.writeSync + fs.readSync per packet on the same fds
// The kernel's forwarding is in every row, so the differences are the JS ↔
// kernel boundary costs. GCs: PerformanceObserver entries inside the timed loop.
// Prints one table; numbers only.

import { spawnSync } from 'node:child_process';
import { readSync, writeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { loadNative } from '../src/io/native.js';
import { allocBatch } from '../src/io/pool.js';
import { openTun } from '../src/io/tun-linux.js';
import type { TunLinux } from '../src/io/tun-linux.js';
import { createNetns, deleteNetns, ip } from '../test/io/fixtures/netns.js';
import { testPacket } from '../test/io/compliance.js';

const BATCH = 128;
const SRC = 0xc0000202; // 192.0.2.2
const DST = 0xc6336402; // 198.51.100.2
const INNER = 'TK_BENCH_NETNS';

interface Row { method: string; size: number; pps: number; nsPerPkt: number; gcs: number }

let gcCount = 0;
const obs = new PerformanceObserver((list) => { gcCount += list.getEntries().length; });

/** Runs `round` (BATCH packets each) until n packets moved; returns the row. */
async function timed(method: string, size: number, n: number, round: () => number | Promise<number>): Promise<Row> {
  for (let moved = 0; moved < Math.min(n / 10, 20_000);) moved += await round(); // warm-up
  await new Promise((r) => setTimeout(r, 20));
  const gc0 = gcCount;
  const t0 = performance.now();
  let moved = 0;
  while (moved < n) {
    const got = await round();
    if (got !== BATCH) throw new Error(`${method}: a round moved ${got} of ${BATCH} packets`);
    moved += got;
  }
  const ms = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 20));
  return { method, size, pps: moved / (ms / 1e3), nsPerPkt: (ms * 1e6) / moved, gcs: gcCount - gc0 };
}

async function benchSize(a: TunLinux, b: TunLinux, size: number, n: number): Promise<Row[]> {
  const nat = loadNative();
  const out = allocBatch({ batchSize: BATCH, mtu: 1500 });
  const inb = allocBatch({ batchSize: BATCH, mtu: 1500 });
  const offsets = new Int32Array(BATCH);
  for (let i = 0; i < BATCH; i++) {
    out.bufs[i]!.set(testPacket(i, size, SRC, DST), out.offset);
    out.sizes[i] = size;
    offsets[i] = out.start(i);
  }
  out.count = BATCH;
  const rows: Row[] = [];
  rows.push(await timed('native batch', size, n, () => {
    nat.writeBatch(a.fd, out.slab, offsets, out.sizes, BATCH);
    return nat.readBatch(b.fd, inb.slab, inb.offset, inb.stride, BATCH, inb.sizes);
  }));
  rows.push(await timed('TunLinux', size, n, async () => {
    a.write(out);
    let got = 0;
    while (got < BATCH) got += await b.read(inb);
    return got;
  }));
  const pkts = out.bufs.map((buf) => buf.subarray(out.offset, out.offset + size));
  const rbuf = new Uint8Array(2048);
  rows.push(await timed('fs sync', size, n, () => {
    for (let i = 0; i < BATCH; i++) writeSync(a.fd, pkts[i]!);
    let got = 0;
    for (; got < BATCH; got++) readSync(b.fd, rbuf, 0, rbuf.length, null);
    return got;
  }));
  return rows;
}

function table(rows: readonly Row[], n: number): string {
  const head = ['method', 'bytes', 'kpps', 'ns/pkt', 'GCs'];
  const body = rows.map((r) => [r.method, String(r.size), (r.pps / 1e3).toFixed(1), r.nsPerPkt.toFixed(0), String(r.gcs)]);
  const all = [head, ...body];
  const widths = head.map((_, i) => Math.max(...all.map((row) => row[i]!.length)));
  const line = (row: readonly string[]): string => row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [`TUN write+read via kernel forwarding, ${BATCH} packets per round, N = ${n} per row, node ${process.version}`,
    line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

async function inside(n: number): Promise<void> {
  obs.observe({ entryTypes: ['gc'] });
  const a = openTun('tkA', { batchSize: BATCH });
  const b = openTun('tkB', { batchSize: BATCH });
  ip('addr', 'add', '192.0.2.1/24', 'dev', 'tkA');
  ip('addr', 'add', '198.51.100.1/24', 'dev', 'tkB');
  a.up();
  b.up();
  const rows: Row[] = [];
  for (const size of [64, 1400]) rows.push(...await benchSize(a, b, size, n));
  await a.close();
  await b.close();
  obs.disconnect();
  console.log(table(rows, n));
}

function parseN(arg: string | undefined): number {
  if (arg === undefined) return 200_000;
  const n = Number(arg);
  if (!Number.isInteger(n) || n < BATCH) throw new Error(`N must be an integer >= ${BATCH}, got "${arg}"`);
  return n;
}

const n = parseN(process.argv[2]);
if (process.env[INNER] !== undefined) {
  await inside(n);
} else {
  if (process.getuid?.() !== 0) throw new Error('io.bench needs root (TUN devices in a network namespace)');
  const ns = createNetns('bench');
  try {
    const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, fileURLToPath(import.meta.url), String(n)],
      { stdio: 'inherit', env: { ...process.env, [INNER]: '1' } });
    if (r.status !== 0) process.exitCode = r.status ?? 1;
  } finally {
    deleteNetns(ns);
  }
}
