// Tunnel data-path benchmark (not a test): per tunnel kind, encapsulate a
// 1400-byte inner packet N times with tunnelXmit, then decapsulate the
// produced outer packet N times with TunnelStack.receive on a peer stack.
//
//   node dist/bench/tunnel.bench.js [N]        (default N = 1e6)
//
// Method:
//   - ONE buffer per kind: HEADROOM spare bytes, then the inner packet copied
//     in once. tunnelXmit writes only into the headroom (outer IPv4 + GRE),
//     so every iteration re-encapsulates the same, untouched inner packet.
//   - Decapsulation re-reads that outer packet. receive() does not modify it
//     (inner ECN is Not-ECT under a Not-ECT outer: no rewrite). For the gre
//     kind with `seq` the peer's expected sequence number is rewound to 0
//     ("accept any", as ip_tunnel_rcv treats i_seqno == 0) before each call,
//     so the same packet stays in order: one property store per packet.
//   - Warm-up of min(N, 100 000) iterations per phase before timing.
//   - GCs: PerformanceObserver(['gc']) entries whose start lies inside the
//     timed loop. Heap: process.memoryUsage().heapUsed after − before the loop.
// Prints one table; numbers only.

import { PerformanceObserver, performance } from 'node:perf_hooks';
import type { PerformanceEntry } from 'node:perf_hooks';
import { makeTunnelParams } from '../src/tunnel/params.js';
import type { TunnelConfig } from '../src/tunnel/params.js';
import { PacketResult, TxOutcome, Verdict } from '../src/tunnel/result.js';
import { TunnelStack } from '../src/tunnel/stack.js';
import type { Tunnel } from '../src/tunnel/tunnel.js';
import { tunnelXmit, txDone } from '../src/tunnel/xmit.js';
import { eth, ip4, ip6 } from '../test/util/packets.js';

const HEADROOM = 128;
const INNER_LEN = 1400;
const NOW_MS = 0;
const A = '198.51.100.1';
const B = '198.51.100.2';

interface Case {
  readonly label: string;
  readonly cfg: Omit<TunnelConfig, 'name' | 'local' | 'remote'>;
  /** The packet written into the TUN/TAP: IPv4/IPv6 of INNER_LEN bytes, in an Ethernet frame for gretap. */
  readonly inner: Uint8Array;
}

const CASES: readonly Case[] = [
  { label: 'ipip', cfg: { kind: 'ipip' }, inner: ip4({ payloadLen: INNER_LEN - 20 }) },
  { label: 'gre key+seq+csum', cfg: { kind: 'gre', key: 0x1234, seq: true, csum: true }, inner: ip4({ payloadLen: INNER_LEN - 20 }) },
  { label: 'gretap', cfg: { kind: 'gretap' }, inner: eth(ip4({ payloadLen: INNER_LEN - 20 }), 0x0800) },
  { label: 'sit (IPv6)', cfg: { kind: 'sit' }, inner: ip6({ payloadLen: INNER_LEN - 40 }) },
];

interface Phase { nsPerPkt: number; pps: number; gcs: number; heapKiB: number }
interface Row { label: string; innerLen: number; outerLen: number; encap: Phase; decap: Phase }

const gcEntries: PerformanceEntry[] = [];
const obs = new PerformanceObserver((list) => { for (const e of list.getEntries()) gcEntries.push(e); });
obs.observe({ entryTypes: ['gc'] });

/** Lets queued PerformanceObserver callbacks run, then drains what is left. */
async function flushGc(): Promise<void> {
  await new Promise<void>((resolve) => setTimeout(resolve, 20));
  for (const e of obs.takeRecords()) gcEntries.push(e);
}

/** Times `n` calls of `step` (a monomorphic closure created once, outside the loop). */
async function timed(n: number, step: () => void): Promise<Phase> {
  await flushGc();
  const seen = gcEntries.length;
  const heap0 = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) step();
  const t1 = performance.now();
  const heap1 = process.memoryUsage().heapUsed;
  await flushGc();
  let gcs = 0;
  for (let i = seen; i < gcEntries.length; i++) {
    const st = gcEntries[i]!.startTime;
    if (st >= t0 && st <= t1) gcs++;
  }
  const ms = t1 - t0;
  return { nsPerPkt: (ms * 1e6) / n, pps: n / (ms / 1e3), gcs, heapKiB: (heap1 - heap0) / 1024 };
}

function pair(c: Case): { tx: Tunnel; rx: Tunnel; peer: TunnelStack } {
  const left = new TunnelStack();
  const peer = new TunnelStack();
  const tx = left.add(makeTunnelParams({ name: 'tx0', local: A, remote: B, ...c.cfg }));
  const rx = peer.add(makeTunnelParams({ name: 'rx0', local: B, remote: A, ...c.cfg }));
  tx.isUp = true;
  rx.isUp = true;
  return { tx, rx, peer };
}

async function runCase(c: Case, n: number): Promise<Row> {
  const { tx, rx, peer } = pair(c);
  const buf = new Uint8Array(HEADROOM + c.inner.length);
  buf.set(c.inner, HEADROOM);
  const len = c.inner.length;
  const rt = new PacketResult();
  const rr = new PacketResult();

  // One round trip first: the pipeline must work, and it fixes the outer packet's place.
  if (tunnelXmit(tx, buf, HEADROOM, len, NOW_MS, rt) !== Verdict.Xmit) throw new Error(`${c.label}: encapsulation failed (drop ${rt.drop})`);
  const outOff = rt.off;
  const outLen = rt.len;
  if (peer.receive(buf, outOff, outLen, 0, rr) !== Verdict.Deliver) throw new Error(`${c.label}: decapsulation failed (drop ${rr.drop})`);
  if (rr.off !== HEADROOM || rr.len !== len) throw new Error(`${c.label}: decapsulated ${rr.len} bytes at ${rr.off}`);

  const encapStep = (): void => { tunnelXmit(tx, buf, HEADROOM, len, NOW_MS, rt); txDone(tx, rt.innerLen, TxOutcome.Sent); };
  const rewind = rx.iseq;
  const decapStep = (): void => {
    if (rewind) rx.iSeqno = 0;
    peer.receive(buf, outOff, outLen, 0, rr);
  };
  const warm = Math.min(n, 100_000);
  for (let i = 0; i < warm; i++) encapStep();
  const encap = await timed(n, encapStep);
  // Encapsulate once more so the buffer holds a valid outer packet (identical headers but ID/seq).
  tunnelXmit(tx, buf, HEADROOM, len, NOW_MS, rt);
  for (let i = 0; i < warm; i++) decapStep();
  const decap = await timed(n, decapStep);
  if (rr.verdict !== Verdict.Deliver) throw new Error(`${c.label}: decapsulation stopped delivering (drop ${rr.drop})`);
  if (rx.stats.rx_packets !== 1 + warm + n) throw new Error(`${c.label}: ${rx.stats.rx_packets} packets delivered`);
  return { label: c.label, innerLen: len, outerLen: outLen, encap, decap };
}

function table(rows: readonly Row[], n: number): string {
  const head = ['kind', 'inner B', 'outer B',
    'encap Mpps', 'encap ns/pkt', 'encap Gbit/s', 'encap GCs', 'encap heap KiB',
    'decap Mpps', 'decap ns/pkt', 'decap Gbit/s', 'decap GCs', 'decap heap KiB'];
  const gbps = (p: Phase, bytes: number): string => ((p.pps * bytes * 8) / 1e9).toFixed(2);
  const body = rows.map((r) => [
    r.label, String(r.innerLen), String(r.outerLen),
    (r.encap.pps / 1e6).toFixed(3), r.encap.nsPerPkt.toFixed(1), gbps(r.encap, r.innerLen), String(r.encap.gcs), r.encap.heapKiB.toFixed(1),
    (r.decap.pps / 1e6).toFixed(3), r.decap.nsPerPkt.toFixed(1), gbps(r.decap, r.innerLen), String(r.decap.gcs), r.decap.heapKiB.toFixed(1),
  ]);
  const all = [head, ...body];
  const widths = head.map((_, i) => Math.max(...all.map((row) => row[i]!.length)));
  const line = (row: readonly string[]): string =>
    row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [`tunnel data path, N = ${n} packets per phase, node ${process.version}`, line(head), rule, ...body.map(line)].join('\n');
}

function parseN(arg: string | undefined): number {
  if (arg === undefined) return 1_000_000;
  const n = Number(arg);
  if (!Number.isInteger(n) || n < 1) throw new Error(`N must be a positive integer, got "${arg}"`);
  return n;
}

const n = parseN(process.argv[2]);
const rows: Row[] = [];
for (const c of CASES) rows.push(await runCase(c, n));
obs.disconnect();
console.log(table(rows, n));
