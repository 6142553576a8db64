// RFC 6040 ECN at tunnel egress and ingress, as include/net/inet_ecn.h CODES
// it (not as the Figure 4 comment above __INET_ECN_decapsulate reads):
//   inner Not-ECT: outer Not-ECT → ok; ECT(0)/ECT(1) → log; CE → drop
//   inner ECT/CE:  ok; CE if the outer is CE (INET_ECN_set_ce), else ECT(1)
//                  if the outer is ECT(1) and the inner ECT(0) (INET_ECN_set_ect1)
// then the same table end to end through ip_tunnel_rcv (ipip), ipip6_rcv (sit)
// and the gretap path, checking counters and the patched inner header checksum.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ECN_DROP, ECN_LOG, ECN_OK, ecnDecapsulatedInner, ecnDecapsulateVerdict, ecnEncapsulate } from '../../src/tunnel/ecn.js';
import { makeTunnelParams } from '../../src/tunnel/params.js';
import { PacketResult, Verdict } from '../../src/tunnel/result.js';
import { TunnelStack } from '../../src/tunnel/stack.js';
import type { Tunnel } from '../../src/tunnel/tunnel.js';
import { Drop } from '../../src/wire/drop.js';
import { Ip4Packet } from '../../src/wire/ip4.js';
import { Ip6Packet } from '../../src/wire/ip6.js';
import { INET_ECN_CE as CE, INET_ECN_ECT_0 as ECT0, INET_ECN_ECT_1 as ECT1, INET_ECN_NOT_ECT as NOT } from '../../src/wire/ipproto.js';
import { eth, gre, ip4, ip6, outer4 } from '../util/packets.js';

const NAME = ['Not-ECT', 'ECT(1)', 'ECT(0)', 'CE'];
const LOCAL = '198.51.100.1';
const REMOTE = '198.51.100.2';

interface Row { n: number; inner: number; outer: number; verdict: number; after: number }

/** The 4×4 decapsulation table (inner ECN × outer ECN → verdict, inner ECN after). */
const TABLE: readonly Row[] = [
  { n: 1, inner: NOT, outer: NOT, verdict: ECN_OK, after: NOT },
  { n: 2, inner: NOT, outer: ECT1, verdict: ECN_LOG, after: NOT },
  { n: 3, inner: NOT, outer: ECT0, verdict: ECN_LOG, after: NOT },
  { n: 4, inner: NOT, outer: CE, verdict: ECN_DROP, after: NOT },
  { n: 5, inner: ECT1, outer: NOT, verdict: ECN_OK, after: ECT1 },
  { n: 6, inner: ECT1, outer: ECT1, verdict: ECN_OK, after: ECT1 },
  { n: 7, inner: ECT1, outer: ECT0, verdict: ECN_OK, after: ECT1 },
  { n: 8, inner: ECT1, outer: CE, verdict: ECN_OK, after: CE },
  { n: 9, inner: ECT0, outer: NOT, verdict: ECN_OK, after: ECT0 },
  { n: 10, inner: ECT0, outer: ECT1, verdict: ECN_OK, after: ECT1 },
  { n: 11, inner: ECT0, outer: ECT0, verdict: ECN_OK, after: ECT0 },
  { n: 12, inner: ECT0, outer: CE, verdict: ECN_OK, after: CE },
  { n: 13, inner: CE, outer: NOT, verdict: ECN_OK, after: CE },
  { n: 14, inner: CE, outer: ECT1, verdict: ECN_OK, after: CE },
  { n: 15, inner: CE, outer: ECT0, verdict: ECN_OK, after: CE },
  { n: 16, inner: CE, outer: CE, verdict: ECN_OK, after: CE },
];

const label = (r: Row): string => `#${r.n} inner ${NAME[r.inner]!} outer ${NAME[r.outer]!}`;
/** DSCP values carried next to the ECN bits: the verdict must ignore them and the rewrite keep them. */
const DSCPS = [0x00, 0xb8, 0x28, 0xfc];

test('__INET_ECN_decapsulate + INET_ECN_decapsulate: the numbered 4×4 table, DSCP bits kept', () => {
  assert.equal(TABLE.length, 16);
  for (const r of TABLE) {
    for (const innerDscp of DSCPS) {
      for (const outerDscp of DSCPS) {
        const inner = innerDscp | r.inner;
        const outer = outerDscp | r.outer;
        const what = `${label(r)} dscp ${innerDscp}/${outerDscp}`;
        assert.equal(ecnDecapsulateVerdict(outer, inner), r.verdict, what);
        if (r.verdict !== ECN_DROP) assert.equal(ecnDecapsulatedInner(outer, inner), innerDscp | r.after, what);
      }
    }
  }
});

test('INET_ECN_encapsulate: the outer copies the inner ECN, CE becomes ECT(0), the outer DSCP is kept', () => {
  const expected = [NOT, ECT1, ECT0, ECT0]; // indexed by inner ECN
  for (const outerDscp of DSCPS) {
    for (const outerEcn of [NOT, ECT1, ECT0, CE]) {
      for (let innerEcn = 0; innerEcn < 4; innerEcn++) {
        for (const innerDscp of [0x00, 0x48, 0xfc]) {
          assert.equal(ecnEncapsulate(outerDscp | outerEcn, innerDscp | innerEcn), outerDscp | expected[innerEcn]!,
            `outer ${outerDscp | outerEcn} inner ${NAME[innerEcn]!}`);
        }
      }
    }
  }
});

test('property: INET_ECN_encapsulate never sends CE and never touches the outer DSCP', () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), (outer, inner) => {
    const t = ecnEncapsulate(outer, inner);
    assert.ok(t >= 0 && t <= 0xff);
    assert.equal(t & 0xfc, outer & 0xfc);
    assert.notEqual(t & 3, CE);
    if ((inner & 3) !== CE) assert.equal(t & 3, inner & 3);
  }));
});

// ---- end to end through TunnelStack.receive ----

function stackWith(kind: 'ipip' | 'sit' | 'gretap'): { s: TunnelStack; t: Tunnel } {
  const s = new TunnelStack();
  const t = s.add(makeTunnelParams({ name: `${kind}1`, kind, local: LOCAL, remote: REMOTE }));
  t.isUp = true;
  return { s, t };
}

interface Got { verdict: Verdict; r: PacketResult; buf: Uint8Array }

function receive(s: TunnelStack, pkt: Uint8Array): Got {
  const buf = new Uint8Array(pkt);
  const r = new PacketResult();
  const verdict = s.receive(buf, 0, buf.length, 0, r);
  return { verdict, r, buf };
}

/** Checks verdict and counters for row `r` on tunnel `t` after one packet whose inner is `innerLen` bytes. */
function expectCounters(t: Tunnel, g: Got, r: Row, innerLen: number): void {
  const st = t.stats;
  if (r.verdict === ECN_DROP) {
    assert.equal(g.verdict, Verdict.Drop, label(r));
    assert.equal(g.r.drop, Drop.EcnDrop, label(r));
    assert.equal(g.r.tunnel, t);
    assert.equal(st.rx_frame_errors, 1, `${label(r)}: rx_frame_errors`);
    assert.equal(st.rx_errors, 1, `${label(r)}: rx_errors`);
    assert.equal(st.drops[Drop.EcnDrop], 1);
    assert.equal(st.rx_packets, 0);
    assert.equal(st.rx_bytes, 0);
    assert.equal(st.ecn_logged, 0);
    return;
  }
  assert.equal(g.verdict, Verdict.Deliver, label(r));
  assert.equal(g.r.tunnel, t);
  assert.equal(g.r.len, innerLen);
  assert.equal(st.rx_packets, 1, `${label(r)}: rx_packets`);
  assert.equal(st.rx_bytes, innerLen, `${label(r)}: rx_bytes`);
  assert.equal(st.ecn_logged, r.verdict === ECN_LOG ? 1 : 0, `${label(r)}: ecn_logged`);
  assert.equal(st.rx_errors, 0);
  assert.equal(st.rx_frame_errors, 0);
}

test('ip_tunnel_rcv (ipip): every table row end to end — verdict, inner TOS, checksum, counters', () => {
  for (const r of TABLE) {
    for (const dscp of [0x00, 0xb8]) {
      const { s, t } = stackWith('ipip');
      const inner = ip4({ tos: dscp | r.inner, df: true, ttl: 17 });
      const g = receive(s, outer4(inner, { proto: 4, tos: 0x28 | r.outer, src: REMOTE, dst: LOCAL }));
      expectCounters(t, g, r, inner.length);
      if (r.verdict === ECN_DROP) continue;
      const got = g.buf.subarray(g.r.off, g.r.off + g.r.len);
      const ip = new Ip4Packet();
      assert.equal(ip.check(got), Drop.None, label(r));
      assert.equal(ip.tos, dscp | r.after, `${label(r)}: inner TOS`);
      assert.ok(ip.verifyChecksum(), `${label(r)}: inner header checksum still verifies`);
      for (let i = 0; i < inner.length; i++) {
        if (i !== 1 && i !== 10 && i !== 11) assert.equal(got[i], inner[i], `${label(r)}: byte ${i} untouched`);
      }
      if (r.after === r.inner) assert.deepEqual(got, inner, `${label(r)}: no rewrite, no checksum change`);
    }
  }
});

test('ipip6_rcv (sit, IPv6 inner): the table on the traffic class; flow label and payload untouched', () => {
  for (const r of TABLE) {
    const { s, t } = stackWith('sit');
    const inner = ip6({ tclass: 0xb8 | r.inner, payloadLen: 24 });
    inner[1] = (inner[1]! & 0xf0) | 0x0a; // flow label 0xabcde around the traffic class nibbles
    inner[2] = 0xbc;
    inner[3] = 0xde;
    const g = receive(s, outer4(inner, { proto: 41, tos: r.outer, src: REMOTE, dst: LOCAL }));
    expectCounters(t, g, r, inner.length);
    if (r.verdict === ECN_DROP) continue;
    const got = g.buf.subarray(g.r.off, g.r.off + g.r.len);
    const ip = new Ip6Packet();
    assert.equal(ip.check(got), Drop.None);
    assert.equal(ip.trafficClass, 0xb8 | r.after, `${label(r)}: traffic class`);
    assert.equal(ip.version, 6);
    assert.equal(((got[1]! & 0x0f) << 16) | (got[2]! << 8) | got[3]!, 0xabcde, `${label(r)}: flow label`);
    assert.deepEqual(got.subarray(2), inner.subarray(2), `${label(r)}: rest of the packet`);
  }
});

test('ipip6_rcv: CE marking — outer CE over inner ECT(0) tclass 0xba delivers tclass 0xbb', () => {
  const { s, t } = stackWith('sit');
  const inner = ip6({ tclass: 0xba });
  const g = receive(s, outer4(inner, { proto: 41, tos: CE, src: REMOTE, dst: LOCAL }));
  assert.equal(g.verdict, Verdict.Deliver);
  const ip = new Ip6Packet();
  assert.equal(ip.check(g.buf, g.r.off, g.r.len), Drop.None);
  assert.equal(ip.trafficClass, 0xbb);
  assert.equal(t.stats.ecn_logged, 0);
});

test('ip_tunnel_rcv (gretap): ECN is applied to the IPv4 header after the Ethernet header', () => {
  const { s, t } = stackWith('gretap');
  const inner = ip4({ tos: 0xb8 | ECT0 });
  const frame = eth(inner, 0x0800);
  const g = receive(s, outer4(gre(frame, { proto: 0x6558 }), { proto: 47, tos: CE, src: REMOTE, dst: LOCAL }));
  assert.equal(g.verdict, Verdict.Deliver);
  assert.equal(g.r.len, frame.length, 'the Ethernet frame is delivered');
  assert.deepEqual(g.buf.subarray(g.r.off, g.r.off + 14), frame.subarray(0, 14), 'Ethernet header untouched');
  const ip = new Ip4Packet();
  assert.equal(ip.check(g.buf, g.r.off + 14, g.r.len - 14), Drop.None);
  assert.equal(ip.tos, 0xb8 | CE);
  assert.ok(ip.verifyChecksum());
  assert.equal(t.stats.rx_bytes, frame.length);

  const drop = receive(s, outer4(gre(eth(ip4({ tos: NOT }), 0x0800), { proto: 0x6558 }), { proto: 47, tos: CE, src: REMOTE, dst: LOCAL }));
  assert.equal(drop.r.drop, Drop.EcnDrop);
  assert.equal(t.stats.rx_frame_errors, 1);
});

test('IP_ECN_decapsulate: a non-IP payload (ARP on gretap) is not ECN-checked, even under outer CE', () => {
  const { s, t } = stackWith('gretap');
  const arp = eth(new Uint8Array(28), 0x0806);
  const g = receive(s, outer4(gre(arp, { proto: 0x6558 }), { proto: 47, tos: CE, src: REMOTE, dst: LOCAL }));
  assert.equal(g.verdict, Verdict.Deliver);
  assert.deepEqual(g.buf.subarray(g.r.off, g.r.off + g.r.len), arp);
  assert.equal(t.stats.rx_frame_errors, 0);
});

test('counters accumulate per packet: two CE drops and a log on one ipip tunnel', () => {
  const { s, t } = stackWith('ipip');
  const send = (innerEcn: number, outerEcn: number): Got =>
    receive(s, outer4(ip4({ tos: innerEcn }), { proto: 4, tos: outerEcn, src: REMOTE, dst: LOCAL }));
  send(NOT, CE);
  send(NOT, CE);
  send(NOT, ECT0);
  send(ECT0, CE);
  assert.equal(t.stats.rx_frame_errors, 2);
  assert.equal(t.stats.rx_errors, 2);
  assert.equal(t.stats.ecn_logged, 1);
  assert.equal(t.stats.rx_packets, 2);
  assert.equal(t.stats.rx_bytes, 2 * 84);
});
