// Underlay ICMP errors quoting our outer packets: gre_err/ipgre_err,
// ipip_err, ipip6_err — PMTU learning, err_count and dst_link_failure,
// and the ICMPv6 relay of ip6_err_gen_icmpv6_unreach.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TunnelStack } from '../../src/tunnel/stack.js';
import { PacketResult, Verdict } from '../../src/tunnel/result.js';
import { handleUnderlayIcmp, UnderlayIcmp } from '../../src/tunnel/icmp-in.js';
import type { Tunnel } from '../../src/tunnel/tunnel.js';
import { buildIcmp4Error, ICMP_DEST_UNREACH, ICMP_EXC_TTL, ICMP_FRAG_NEEDED, ICMP_HOST_UNREACH, ICMP_PORT_UNREACH, ICMP_TIME_EXCEEDED } from '../../src/wire/icmp4.js';
import { Icmp6Packet, ICMPV6_ADDR_UNREACH, ICMPV6_DEST_UNREACH } from '../../src/wire/icmp6.js';
import { Drop } from '../../src/wire/drop.js';
import { formatIp6 } from '../../src/wire/addr.js';
import { a4, ip4, ip6 } from '../util/packets.js';
import { NOW, tx, up } from './harness.js';

const ROUTER = a4('203.0.113.254');

/** An ICMP error from a router about `offending` (our outer packet), quoting up to 548 bytes or `quoteLen`. */
function fromRouter(offending: Uint8Array, type: number, code: number, info = 0, quoteLen = offending.length): Uint8Array {
  const out = new Uint8Array(600);
  const n = buildIcmp4Error(out, 0, { type, code, info, src: ROUTER, dst: a4('198.51.100.1'), ttl: 60, tos: 0xc0, ident: 1 },
    offending, 0, Math.min(quoteLen, offending.length));
  return out.subarray(0, n);
}

function handle(s: TunnelStack, pkt: Uint8Array, now = NOW) {
  const r = new PacketResult();
  const res = handleUnderlayIcmp(s, new Uint8Array(pkt), 0, pkt.length, 0, now, r);
  return { res, r };
}

test('gre_err FRAG_NEEDED: the route to the remote learns the MTU; later DF packets get FRAG_NEEDED with it', () => {
  const s = new TunnelStack();
  const g = up(s, { kind: 'gre', key: 5 });
  const other = up(s, { kind: 'ipip' }); // same remote: same route
  const sent = tx(g, ip4({ payloadLen: 1400 })).pkt;
  const { res } = handle(s, fromRouter(sent, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, 1400));
  assert.equal(res.event, UnderlayIcmp.PmtuUpdated);
  assert.equal(res.mtu, 1400);
  assert.deepEqual(res.tunnels.map((t) => t.name).sort(), ['gre1', 'ipip1']);
  assert.equal(g.routeMtu(NOW), 1400);
  assert.equal(other.routeMtu(NOW), 1400);
  const again = tx(g, ip4({ payloadLen: 1400, df: true }));
  assert.equal(again.drop, Drop.TxTooBig);
  assert.equal(again.icmp![20 + 6]! << 8 | again.icmp![20 + 7]!, 1400 - 20 - 8);
});

test('FRAG_NEEDED reports the MTU the route learnt: 0 is clamped to ip_rt_min_pmtu, a larger one never raises it', () => {
  const s = new TunnelStack();
  const g = up(s, { kind: 'gre', key: 5 });
  const sent = tx(g, ip4({ payloadLen: 1400 })).pkt;
  const zero = handle(s, fromRouter(sent, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, 0)).res;
  assert.equal(zero.event, UnderlayIcmp.PmtuUpdated);
  assert.equal(g.routeMtu(NOW), 552, '__ip_rt_update_pmtu: min(old, ip_rt_min_pmtu), locked');
  assert.equal(zero.mtu, 552, 'the event says what the route learnt, not the raw 0');
  const s2 = new TunnelStack();
  const g2 = up(s2, { kind: 'gre', key: 5 });
  const sent2 = tx(g2, ip4({ payloadLen: 1400 })).pkt;
  assert.equal(handle(s2, fromRouter(sent2, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, 1300)).res.mtu, 1300);
  const higher = handle(s2, fromRouter(sent2, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, 1450)).res;
  assert.equal(g2.routeMtu(NOW), 1300, 'a PMTU is only ever lowered');
  assert.equal(higher.mtu, 1300, 'so the event reports the route\'s 1300, not 1450');
});

test('gre_err: a quote without the whole GRE header is ignored (gre_parse_header fails)', () => {
  const s = new TunnelStack();
  const g = up(s, { kind: 'gre', key: 5, seq: true });
  const sent = tx(g, ip4()).pkt;
  const { res } = handle(s, fromRouter(sent, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, 1300, 20 + 8));
  assert.equal(res.event, UnderlayIcmp.Ignored);
  assert.equal(g.routeMtu(NOW), 1500);
});

test('ipip_err: host unreachable is noted; the next transmits also answer dst_link_failure for 30 s', () => {
  const s = new TunnelStack();
  const t = up(s, { kind: 'ipip' });
  const sent = tx(t, ip4()).pkt;
  const { res } = handle(s, fromRouter(sent, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH));
  assert.equal(res.event, UnderlayIcmp.ErrorNoted);
  assert.equal(res.tunnel, t);
  const a = tx(t, ip4(), NOW + 1000);
  assert.equal(a.verdict, Verdict.Xmit, 'the packet still goes out');
  assert.ok(a.icmp !== null);
  assert.equal(a.icmp[20], ICMP_DEST_UNREACH);
  assert.equal(a.icmp[21], ICMP_HOST_UNREACH);
  assert.equal(tx(t, ip4(), NOW + 2000).icmp, null, 'one error noted → one link failure');
  handle(s, fromRouter(sent, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH), NOW + 3000);
  assert.equal(tx(t, ip4(), NOW + 3000 + 30_001).icmp, null, 'IPTUNNEL_ERR_TIMEO passed');
});

test('type/code filters: GRE ignores PORT_UNREACH, ipip counts it; TIME_EXCEEDED is ignored with ttl inherit', () => {
  const s = new TunnelStack();
  const g = up(s, { kind: 'gre' });
  const i = up(s, { kind: 'ipip', local: '198.51.100.7' });
  assert.equal(handle(s, fromRouter(tx(g, ip4()).pkt, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH)).res.event, UnderlayIcmp.Ignored);
  const sentI = tx(i, ip4()).pkt;
  assert.equal(handle(s, fromRouter(sentI, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH)).res.event, UnderlayIcmp.ErrorNoted);
  assert.equal(handle(s, fromRouter(sentI, ICMP_TIME_EXCEEDED, ICMP_EXC_TTL)).res.event, UnderlayIcmp.Ignored);
  const s2 = new TunnelStack();
  const fixed = up(s2, { kind: 'ipip', ttl: 64 });
  assert.equal(handle(s2, fromRouter(tx(fixed, ip4()).pkt, ICMP_TIME_EXCEEDED, ICMP_EXC_TTL)).res.event, UnderlayIcmp.ErrorNoted);
});

test('ipip6_err: an unreachable about our sit packet is relayed to the inner IPv6 sender, from ::ffff:router', () => {
  const s = new TunnelStack();
  const t: Tunnel = up(s, { kind: 'sit' });
  const sent = tx(t, ip6({ src: '2001:db8:4::1', dst: '2001:db8:4::2' })).pkt;
  const { res, r } = handle(s, fromRouter(sent, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH));
  assert.equal(res.event, UnderlayIcmp.Relayed);
  assert.ok(r.icmpLen > 48);
  const m = r.icmp.subarray(0, r.icmpLen);
  assert.equal(formatIp6(m, 8), '::ffff:cb00:71fe');
  assert.equal(formatIp6(m, 24), '2001:db8:4::1');
  const ic = new Icmp6Packet();
  assert.equal(ic.check(m, 40), Drop.None);
  assert.ok(ic.verifyChecksum(m, 8, m, 24));
  assert.equal(ic.type, ICMPV6_DEST_UNREACH);
  assert.equal(ic.code, ICMPV6_ADDR_UNREACH);
  assert.equal(t.errCount, 0, 'relayed errors are not counted');
});

test('malformed or foreign ICMP is ignored with a reason', () => {
  const s = new TunnelStack();
  const t = up(s, { kind: 'ipip' });
  const bad = fromRouter(tx(t, ip4()).pkt, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH);
  bad[bad.length - 1]! ^= 1;
  assert.equal(handle(s, bad).res.drop, Drop.BadIcmp);
  assert.equal(handle(s, bad.subarray(0, 30)).res.event, UnderlayIcmp.Ignored);
  const foreign = fromRouter(ip4({ src: '198.51.100.1', dst: '203.0.113.9', proto: 4 }), ICMP_DEST_UNREACH, ICMP_HOST_UNREACH);
  assert.equal(handle(s, foreign).res.event, UnderlayIcmp.Ignored);
  assert.equal(t.errCount, 0);
});
