// Every tunnel type, tunkit ↔ tunkit, in one topology (pair.ts): each tunnel
// has its own underlay address pair on the veth, so all of them coexist.
// For each: ping both ways; for ipip, gre key+seq+csum, gretap and sit a
// verified 10 MB TCP transfer each way; then `tunkit -s link show` on both
// ends must agree: left tx == right rx and right tx == left rx (packets and
// bytes, over the same traffic), with no errors or drops anywhere.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { MB10, step, withPair } from './pair.js';
import type { Pair, SideName, Snapshot } from './pair.js';

interface Case {
  readonly name: string;
  readonly spec: string;
  /**
   * TUN offload (datapath/offload.ts): the sender counts a TCP super-packet
   * once, as the kernel device with NETIF_F_GSO_SOFTWARE counts one GSO skb
   * (iptunnel_xmit_stats), the receiver each segment (ip_tunnel_rcv, no
   * underlay GRO): every extra segment brings one more IP + TCP header of
   * this many bytes (timestamps: IPv4 20 + 32, IPv6 40 + 32). Unset: the
   * kernel segments before the device (gre seq, validate_xmit_skb) or no TCP.
   */
  readonly gsoHdr?: number;
  /** Inner addresses [left, right] (CIDR); the ping/transfer targets are their hosts. */
  readonly addrs: readonly [string, string];
  readonly v6?: boolean;
  readonly xfer?: boolean;
  /**
   * rx_bytes − tx_bytes per packet. gretap: ip_tunnel_rcv adds skb->len
   * before eth_type_trans (the Ethernet header counts), iptunnel_xmit counts
   * from the inner network header (it does not) — the kernel's own asymmetry.
   */
  readonly rxExtra?: number;
}

const CASES: readonly Case[] = [
  { name: 'ipip1', spec: 'type ipip', addrs: ['192.0.2.1/30', '192.0.2.2/30'], xfer: true, gsoHdr: 52 },
  { name: 'gre1', spec: 'type gre', addrs: ['192.0.2.5/30', '192.0.2.6/30'] },
  { name: 'grekey', spec: 'type gre key 42', addrs: ['192.0.2.9/30', '192.0.2.10/30'] },
  { name: 'greseq', spec: 'type gre iseq oseq', addrs: ['192.0.2.13/30', '192.0.2.14/30'] },
  { name: 'grecsum', spec: 'type gre icsum ocsum', addrs: ['192.0.2.17/30', '192.0.2.18/30'] },
  { name: 'greall', spec: 'type gre key 1234 seq csum', addrs: ['192.0.2.21/30', '192.0.2.22/30'], xfer: true },
  { name: 'gre6', spec: 'type gre', addrs: ['2001:db8:6::1/64', '2001:db8:6::2/64'], v6: true },
  { name: 'tap1', spec: 'type gretap', addrs: ['203.0.113.1/24', '203.0.113.2/24'], xfer: true, rxExtra: 14 },
  { name: 'sit1', spec: 'type sit', addrs: ['2001:db8:8::1/64', '2001:db8:8::2/64'], v6: true, xfer: true, gsoHdr: 72 },
];

const host = (cidr: string): string => cidr.split('/')[0]!;
/** Tunnel i runs over 198.51.100.(2i+1) ↔ 198.51.100.(2i+2). */
const underlay = (i: number): [string, string] => [`198.51.100.${2 * i + 1}`, `198.51.100.${2 * i + 2}`];

const n = (snap: Snapshot, dev: string, dir: 'rx' | 'tx', k: string): number => {
  const st = snap.get(dev);
  assert.ok(st !== undefined, `no ${dev} in link show`);
  return st[dir][k] ?? NaN;
};

/**
 * The counters of one case between two settled snapshots: each direction's
 * tx delta equals the peer's rx delta (packets and bytes), at least
 * `minPackets`/`minBytes` crossed, and no error or drop counter moved.
 */
function checkCounters(t: TestContext, c: Case, before: Settled, after: Settled, minPackets: number, minBytes: number): void {
  const dev = c.name;
  for (const [a, b] of [['left', 'right'], ['right', 'left']] as const satisfies readonly (readonly [SideName, SideName])[]) {
    const d = (s: SideName, dir: 'rx' | 'tx', k: string): number => n(after[s], dev, dir, k) - n(before[s], dev, dir, k);
    const txP = d(a, 'tx', 'packets');
    const rxP = d(b, 'rx', 'packets');
    const txB = d(a, 'tx', 'bytes');
    const rxB = d(b, 'rx', 'bytes');
    t.diagnostic(`${dev} ${a}→${b}: ${a} tx ${txP} pkts/${txB} B, ${b} rx ${rxP} pkts/${rxB} B`);
    const segs = c.gsoHdr !== undefined ? rxP - txP : 0; // segments counted with their super-packet's first
    if (c.gsoHdr !== undefined) assert.ok(segs >= 0, `${dev}: ${b} rx_packets delta (${rxP}) must be ≥ ${a} tx_packets delta (${txP})`);
    else assert.equal(rxP, txP, `${dev}: ${b} rx_packets delta (${rxP}) must equal ${a} tx_packets delta (${txP})`);
    const extra = (c.rxExtra ?? 0) * rxP + segs * (c.gsoHdr ?? 0);
    assert.equal(rxB, txB + extra, `${dev}: ${b} rx_bytes delta (${rxB}) must equal ${a} tx_bytes delta (${txB})${extra > 0 ? ` + ${extra} (headers)` : ''}`);
    assert.ok(rxP >= minPackets, `${dev}: only ${rxP} packets ${a}→${b}, expected ≥ ${minPackets}`);
    assert.ok(rxB >= minBytes, `${dev}: only ${rxB} bytes ${a}→${b}, expected ≥ ${minBytes}`);
  }
  for (const s of ['left', 'right'] as const) {
    const st = after[s].get(dev)!;
    for (const k of ['errors', 'dropped', 'crc_errors', 'fifo_errors', 'length_errors', 'frame_errors']) {
      assert.equal(st.rx[k], 0, `${s} ${dev} rx ${k} must be 0`);
    }
    for (const k of ['errors', 'dropped', 'carrier_errors', 'collisions']) assert.equal(st.tx[k], 0, `${s} ${dev} tx ${k} must be 0`);
    assert.deepEqual(st.drops, {}, `${s} ${dev} tunkit drops must be empty`);
  }
}

type Settled = { left: Snapshot; right: Snapshot };

/** One case's traffic and checks; `before` is the settled state before it, the result the state after. */
async function exercise(t: TestContext, p: Pair, c: Case, before: Settled): Promise<Settled> {
  const [l, r] = c.addrs.map(host) as [string, string];
  const v6 = c.v6 === true;
  const [a, b] = await Promise.all([p.pingOk('left', r, { v6 }), p.pingOk('right', l, { v6 })]);
  t.diagnostic(`ping ${r}: ${a.received}/${a.transmitted}; ping ${l}: ${b.received}/${b.transmitted}`);
  let minPackets = 6; // 3 requests one way + 3 replies the other, per direction
  let minBytes = 6 * 84;
  if (c.xfer === true) {
    const x1 = await p.transfer('left', 'right', r);
    const x2 = await p.transfer('right', 'left', l);
    t.diagnostic(`TCP left→right ${x1.received} (${(MB10 * 8 / x1.ms / 1000).toFixed(0)} Mbit/s); right→left ${x2.received} (${(MB10 * 8 / x2.ms / 1000).toFixed(0)} Mbit/s)`);
    minPackets = Math.floor(MB10 / 1500);
    minBytes = MB10;
  }
  const after = await p.settle();
  checkCounters(t, c, before, after, minPackets, minBytes);
  return after;
}

test('every tunnel type tunkit ↔ tunkit: pings, 10 MB TCP transfers, matching counters on both ends', async (t) => {
  await withPair('tkty', async (p) => {
    for (let i = 1; i < CASES.length; i++) {
      p.shOk('left', `ip addr add ${underlay(i)[0]}/24 dev ${p.left.veth}`);
      p.shOk('right', `ip addr add ${underlay(i)[1]}/24 dev ${p.right.veth}`);
    }
    for (const [i, c] of CASES.entries()) p.tunnel(c.name, c.spec, underlay(i), c.v6 === true ? null : c.addrs, c.v6 === true ? c.addrs : null);

    let settled = await p.settle();
    for (const c of CASES) {
      await step(t, p, `${c.name} (${c.spec})`, async () => {
        // The device as configured (ip -d link show's tunnel options).
        const info = JSON.parse(p.tunkitOk('left', `-j -d link show ${c.name}`)) as { linkinfo: { info_kind: string; info_data: Record<string, unknown> } }[];
        assert.equal(info[0]?.linkinfo.info_kind, c.spec.split(' ')[1]);
        settled = await exercise(t, p, c, settled);
      });
    }

    await step(t, p, 'gretap: ARP resolves the peer TAP\'s MAC across the tunnel', async () => {
      const mac = (s: SideName): string => (JSON.parse(p.tunkitOk(s, '-j link show tap1')) as { address: string }[])[0]!.address;
      for (const [s, peer, addr] of [['left', 'right', '203.0.113.2'], ['right', 'left', '203.0.113.1']] as const) {
        const neigh = p.shOk(s, `ip neigh show ${addr} dev tap1`);
        t.diagnostic(`[${s}] ip neigh: ${neigh.trim()}`);
        assert.match(neigh, new RegExp(`^${addr.replace(/\./g, '\\.')} lladdr ${mac(peer)} (REACHABLE|STALE|DELAY|PROBE)`, 'm'),
          `${s} must have learnt ${peer}'s tap1 MAC ${mac(peer)} for ${addr}`);
      }
    });

  });
});
