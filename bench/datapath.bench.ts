// Data path benchmark (not a test): packets/s through two whole data paths
// (src/datapath/) joined in memory (io/mem.ts), the code tunkitd runs minus
// the kernel: host → device → Datapath out (tunnel xmit, xfrm output, one
// send batch) → conn → Datapath in (xfrm input, tunnel receive, one write
// batch) → device → host. No root needed.
//
//   node dist/bench/datapath.bench.js [N]      (default N = 100 000 packets per row)
//
// The in-memory devices and conns copy each packet once per hop and deliver
// on setImmediate, so the absolute numbers include that harness cost; rows
// compare tunnel types against each other. GCs: PerformanceObserver entries
// during the timed run. Prints one table; numbers only.

import { PerformanceObserver, performance } from 'node:perf_hooks';
import { allocBatch } from '../src/io/pool.js';
import type { MemTun } from '../src/io/mem.js';
import { icmp4Echo } from '../test/xfrm/helpers.js';
import { addPolicy, addState, GCM } from '../test/xfrm/esp-util.js';
import { LEFT, RIGHT, twoNs } from '../test/datapath/two-ns.js';
import type { Ns } from '../test/datapath/two-ns.js';

const BATCH = 32;
/** Batches in flight: the device FIFOs hold 500 packets. */
const WINDOW = 8;
const INNER_LEN = 1400;

interface Row { label: string; pps: number; nsPerPkt: number; gcs: number; lost: number }

let gcCount = 0;
const obs = new PerformanceObserver((list) => { gcCount += list.getEntries().length; });

type Setup = (left: Ns, right: Ns) => { from: MemTun; to: MemTun; src: string; dst: string };

const SETUPS: readonly [string, Setup][] = [
  ['ipip', (l, r) => ({ from: l.link({ name: 't', kind: 'ipip', local: LEFT, remote: RIGHT }), to: r.link({ name: 't', kind: 'ipip', local: RIGHT, remote: LEFT }), src: '192.0.2.1', dst: '192.0.2.2' })],
  ['gre key+seq+csum', (l, r) => {
    const c = { kind: 'gre', key: 1, seq: true, csum: true };
    return { from: l.link({ name: 't', local: LEFT, remote: RIGHT, ...c }), to: r.link({ name: 't', local: RIGHT, remote: LEFT, ...c }), src: '192.0.2.1', dst: '192.0.2.2' };
  }],
  ['esp gcm128 (policy TUN)', (l, r) => {
    for (const x of [l.xfrm, r.xfrm]) addState(x, { src: LEFT, dst: RIGHT, proto: 'esp', spi: 0x1001, mode: 'tunnel', reqid: 1, replayWindow: 32, ...GCM });
    const tmpl = { src: LEFT, dst: RIGHT, proto: 'esp', mode: 'tunnel', reqid: 1 } as const;
    addPolicy(l.xfrm, { sel: { src: '203.0.113.1/32', dst: '203.0.113.2/32' }, dir: 'out', tmpls: [tmpl] });
    addPolicy(r.xfrm, { sel: { src: '203.0.113.1/32', dst: '203.0.113.2/32' }, dir: 'in', tmpls: [tmpl] });
    return { from: l.policyHost, to: r.policyHost, src: '203.0.113.1', dst: '203.0.113.2' };
  }],
];

async function run(label: string, setup: Setup, n: number): Promise<Row> {
  const { left, right } = twoNs();
  try {
    const { from, to, src, dst } = setup(left, right);
    const out = allocBatch({ batchSize: BATCH, mtu: 1500 });
    const pkt = icmp4Echo(src, dst, 1, 1, INNER_LEN - 28, 0x4000, 0);
    for (let i = 0; i < BATCH; i++) { out.bufs[i]!.set(pkt, out.offset); out.sizes[i] = pkt.length; }
    out.count = BATCH;
    const inb = allocBatch({ batchSize: 128, mtu: 1600 });
    let received = 0;
    let sent = 0;
    let lost = 0;
    let pending = to.read(inb);
    gcCount = 0;
    const t0 = performance.now();
    while (received + lost < n) {
      for (let w = 0; w < WINDOW && sent < n; w++) sent += from.write(out);
      while (received + lost < sent) {
        const got = await Promise.race([pending, new Promise<number>((resolve) => setTimeout(() => resolve(-1), 1000))]);
        if (got < 0) { lost = sent - received; break; } // dropped on the way (a full FIFO)
        received += got;
        pending = to.read(inb);
      }
    }
    const ms = performance.now() - t0;
    return { label, pps: (received / ms) * 1000, nsPerPkt: (ms * 1e6) / received, gcs: gcCount, lost };
  } finally {
    left.close();
    right.close();
  }
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 100_000);
  obs.observe({ entryTypes: ['gc'] });
  const rows: Row[] = [];
  for (const [label, setup] of SETUPS) rows.push(await run(label, setup, n));
  obs.disconnect();
  process.stdout.write(`two data paths in memory, ${INNER_LEN}-byte packets, ${n} per row\n`);
  process.stdout.write('path                       packets/s   ns/packet   GCs  lost\n');
  for (const r of rows) {
    process.stdout.write(`${r.label.padEnd(26)} ${Math.round(r.pps).toString().padStart(9)} ${Math.round(r.nsPerPkt).toString().padStart(11)} ${r.gcs.toString().padStart(5)} ${r.lost.toString().padStart(5)}\n`);
  }
}

void main();
