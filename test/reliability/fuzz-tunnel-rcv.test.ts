// Fuzzing the GRE, gretap, IPIP and SIT receive path (TunnelStack.receive:
// gre_rcv / tunnel4_rcv / ipip6_rcv, then ip_tunnel_rcv and ipip6_rcv in
// rcv.ts) and the underlay ICMP error handlers (icmp-in.ts, ipgre_err /
// ipip_err / ipip6_err), driving the sans-I/O core directly with mutated
// kernel captures (test/vectors/pcap: the tunnels below match their
// addresses and keys, so mutation reaches the per-tunnel checks) and random
// bytes. For every packet:
//   - no throw, bounded time;
//   - exactly one outcome, counted under a named reason: Deliver raises the
//     tunnel's rx_packets by one and hands back a range inside the buffer
//     whose IP version agrees with the protocol; Drop names a Drop code
//     (dropName) and raises that code's counter, in the stack's table
//     (`tunkit stats`) or the tunnel's (`tunkit -s link show`), by one.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { handleUnderlayIcmp, UnderlayIcmp } from '../../src/tunnel/icmp-in.js';
import { makeTunnelParams } from '../../src/tunnel/params.js';
import type { TunnelConfig } from '../../src/tunnel/params.js';
import { PacketResult, Verdict } from '../../src/tunnel/result.js';
import { TunnelStack } from '../../src/tunnel/stack.js';
import type { Tunnel } from '../../src/tunnel/tunnel.js';
import { put16 } from '../../src/wire/bytes.js';
import { checksum16 } from '../../src/wire/checksum.js';
import { Drop, dropName } from '../../src/wire/drop.js';
import { fuzz, fuzzRuns, icmpPackets, outerPackets } from './fuzz-harness.js';
import { hexFields, ip4Packets } from './fuzz-seeds.js';

const BOUNDED = 4000;
const A = '198.51.100.1';
const B = '198.51.100.2';

/** Tunnels in both directions for each capture's configuration (kernel-golden.test.ts), a gretap, a 6to4 sit, fallbacks. */
function stack(): TunnelStack {
  const s = new TunnelStack();
  const add = (c: Partial<TunnelConfig> & { name: string; kind: string }): Tunnel => {
    const t = s.add(makeTunnelParams(c));
    t.isUp = true;
    return t;
  };
  add({ name: 'ipip1', kind: 'ipip', local: A, remote: B });
  add({ name: 'ipip2', kind: 'ipip', local: B, remote: A });
  add({ name: 'gre1', kind: 'gre', local: A, remote: B, key: 5 });
  add({ name: 'gre2', kind: 'gre', local: B, remote: A, ikey: 5, okey: 5, iseq: true, oseq: true, icsum: true, ocsum: true });
  add({ name: 'tap1', kind: 'gretap', local: A, remote: B });
  add({ name: 'sit1', kind: 'sit', local: A, remote: B });
  add({ name: 'sit2', kind: 'sit', local: B, remote: A });
  add({ name: 'sit6to4', kind: 'sit', local: '198.51.100.3' });
  s.gre.fallback.isUp = true; // gre0 catches what no keyed tunnel takes (ip_tunnel_lookup's last resort)
  return s;
}

/** Every count a packet can land in: the stack's drop table and each device's rx_packets and drop table. */
function counted(s: TunnelStack, all: readonly Tunnel[]): number {
  let n = s.drops.reduce((a, x) => a + x, 0);
  for (const x of all) n += x.stats.rx_packets + x.stats.drops.reduce((a, y) => a + y, 0);
  return n;
}

test('fuzz tunnel receive: every outer packet is delivered or dropped under a named, counted reason', (t) => {
  const s = stack();
  const all = s.all();
  const r = new PacketResult();
  const seeds = [...ip4Packets(['gre.pcap', 'gre-seq-csum.pcap', 'ipip.pcap', 'sit.pcap']), ...hexFields('ip4.json')];
  fuzz(t, 'rcv/tunnel', fc.tuple(outerPackets(seeds), fc.nat(3)), ([p, link]) => {
    const buf = new Uint8Array(p.length + 16);
    buf.set(p, 8);
    const rx = all.map((x) => x.stats.rx_packets);
    const before = counted(s, all);
    const v = s.receive(buf, 8, p.length, link, r);
    if (v === Verdict.Deliver) {
      assert.equal(counted(s, all) - before, 1, 'a delivery counts once');
      const tn = r.tunnel;
      assert.ok(tn !== null, 'Deliver names its tunnel');
      assert.equal(tn.stats.rx_packets, rx[all.indexOf(tn)]! + 1, 'rx_packets counts the delivery');
      assert.ok(r.off >= 8 && r.len >= 0 && r.off + r.len <= 8 + p.length, `delivered range [${r.off}, +${r.len}) inside the packet`);
      if (tn.hhLen === 0) {
        const ver = buf[r.off]! >>> 4;
        assert.ok(ver === 4 || ver === 6, `a TUN gets IPv4 or IPv6, not version ${ver}`);
      }
      return `deliver:${tn.name}`;
    }
    assert.equal(v, Verdict.Drop, `verdict ${v}`);
    const name = dropName(r.drop);
    assert.ok(r.drop !== 0 && !name.startsWith('Drop#'), `a drop names its reason (${r.drop})`);
    // Counted once: in the stack's table (no device) or the tunnel's; a packet no tunnel matched
    // in the stack's table and in the fallback device's (`tunkit -s link show gre0`); one a tunnel
    // took whose payload no protocol handler takes both in rx_packets and as rx_dropped, as the
    // kernel counts it (ip_tunnel_rcv, then __netif_receive_skb).
    const tn = r.tunnel;
    const isL3 = r.drop === Drop.UnsupportedPayload && tn !== null;
    if (isL3) assert.equal(tn.stats.rx_packets, rx[all.indexOf(tn)]! + 1, 'rx_packets, then rx_dropped');
    const want = r.drop === Drop.NoTunnel || isL3 ? 2 : 1;
    assert.equal(counted(s, all) - before, want, `${name} counted ${want} time(s)`);
    return `drop:${name}`;
  }, { runs: fuzzRuns(BOUNDED), minOutcomes: 12 });
});

/** An ICMP error from `from` quoting the first bytes of `quoted` (an IPv4 packet we sent), checksum valid. */
function icmpError(type: number, code: number, rest: number, quoted: Uint8Array, from: string, to: string): Uint8Array {
  const q = quoted.subarray(0, Math.min(quoted.length, 28 + 40));
  const b = new Uint8Array(20 + 8 + q.length);
  b[0] = 0x45;
  put16(b, 2, b.length);
  b[8] = 64;
  b[9] = 1;
  b.set(from.split('.').map(Number), 12);
  b.set(to.split('.').map(Number), 16);
  put16(b, 10, checksum16(b, 0, 20));
  b[20] = type;
  b[21] = code;
  put16(b, 26, rest);
  b.set(q, 28);
  put16(b, 22, checksum16(b, 20, b.length - 20));
  return b;
}

test('fuzz underlay ICMP: errors quoting tunnel packets update PMTU or are ignored, never throw', (t) => {
  const s = stack();
  const r = new PacketResult();
  const sent = ip4Packets(['gre.pcap', 'gre-seq-csum.pcap', 'ipip.pcap', 'sit.pcap']);
  const seeds: Uint8Array[] = [];
  for (const q of sent) {
    const from = `${q[16]}.${q[17]}.${q[18]}.${q[19]}`;
    const to = `${q[12]}.${q[13]}.${q[14]}.${q[15]}`;
    seeds.push(icmpError(3, 4, 1400, q, from, to), icmpError(3, 4, 500, q, from, to), icmpError(11, 0, 0, q, from, to), icmpError(3, 3, 0, q, from, to));
  }
  let now = 1_000_000;
  fuzz(t, 'rcv/underlay-icmp', fc.tuple(icmpPackets(seeds), fc.nat(3)), ([p, link]) => {
    const buf = new Uint8Array(p.length + 8);
    buf.set(p, 4);
    now += 1000;
    const out = handleUnderlayIcmp(s, buf, 4, p.length, link, now, r);
    // The route learns max(mtu, ip_rt_min_pmtu) (__ip_rt_update_pmtu), and the event reports what it learnt (never a raw 0).
    if (out.event === UnderlayIcmp.PmtuUpdated) {
      assert.ok(out.mtu >= 552 && out.mtu <= 0xffff, `reported mtu ${out.mtu}`);
      for (const tn of out.tunnels) assert.ok(tn.routeMtu(now) >= out.mtu && tn.routeMtu(now) <= 0xffff, `learnt route mtu ${tn.routeMtu(now)}, reported ${out.mtu}`);
    }
    if (r.icmpLen > 0) assert.ok(r.icmpLen <= r.icmp.length);
    const ev = Object.entries(UnderlayIcmp).find(([, v]) => v === out.event)?.[0];
    assert.ok(ev !== undefined, `event ${out.event}`);
    return out.drop !== 0 ? `drop:${dropName(out.drop)}` : ev;
  }, { runs: fuzzRuns(BOUNDED), minOutcomes: 4 });
});
