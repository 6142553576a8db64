// Route-based IPsec, tunkit ↔ tunkit (pair.ts): an xfrm interface on each
// end (`tunkit link add xfrm1 type xfrm if_id 7`), states and wildcard
// policies with that if_id, and a plain `ip route` into the interface —
// the kernel's xfrmi model (net/xfrm/xfrm_interface.c). Pings and a verified
// 10 MB TCP transfer each way; the interfaces' counters mirror each other
// and the SAs'; traffic routed into the interface with no state for its
// if_id is a link failure (tx_carrier_errors, XfrmOutNoStates) and nothing
// leaves in clear text.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MB10, step, withPair } from './pair.js';
import type { Pair, SideName } from './pair.js';

const OUTER = { left: '198.51.100.1', right: '198.51.100.2' } as const;
const INNER = { left: '203.0.113.1', right: '203.0.113.2' } as const;
const other = (s: SideName): SideName => (s === 'left' ? 'right' : 'left');

function configure(p: Pair): void {
  for (const s of ['left', 'right'] as const) {
    const o = other(s);
    p.shOk(s, `ip addr add ${INNER[s]}/32 dev lo`);
    p.tunkitOk(s, 'link add xfrm1 type xfrm if_id 7');
    p.tunkitOk(s, 'link set xfrm1 up');
    p.tunkitOk(s, `xfrm state add src ${OUTER.left} dst ${OUTER.right} proto esp spi 0x7001 reqid 7 mode tunnel replay-window 64 if_id 7 aead rfc4106(gcm(aes)) 0x${'71'.repeat(20)} 128`);
    p.tunkitOk(s, `xfrm state add src ${OUTER.right} dst ${OUTER.left} proto esp spi 0x7002 reqid 7 mode tunnel replay-window 64 if_id 7 aead rfc4106(gcm(aes)) 0x${'72'.repeat(20)} 128`);
    p.tunkitOk(s, `xfrm policy add src 0.0.0.0/0 dst 0.0.0.0/0 dir out if_id 7 tmpl src ${OUTER[s]} dst ${OUTER[o]} proto esp reqid 7 mode tunnel`);
    p.tunkitOk(s, `xfrm policy add src 0.0.0.0/0 dst 0.0.0.0/0 dir in if_id 7 tmpl src ${OUTER[o]} dst ${OUTER[s]} proto esp reqid 7 mode tunnel`);
    p.shOk(s, `ip route add ${INNER[o]}/32 dev xfrm1 src ${INNER[s]}`);
  }
}

interface Sa { spi: number; curlft: { packets: number; bytes: number } }
const sas = (p: Pair, s: SideName): Sa[] => JSON.parse(p.tunkitOk(s, '-j -s xfrm state list')) as Sa[];
const saPackets = (p: Pair, s: SideName, spi: number): number => sas(p, s).find((x) => x.spi === spi)!.curlft.packets;
const stat = (p: Pair, s: SideName): Record<string, number> => JSON.parse(p.tunkitOk(s, '-j xfrm stat')) as Record<string, number>;

test('xfrm interfaces: route-based ESP both ways, counters mirrored, link failure without a state', async (t) => {
  await withPair('tkxi', async (p) => {
    configure(p);
    await step(t, p, 'pings and a verified 10 MB transfer each way', async () => {
      await p.pingOk('left', INNER.right, { count: 3 });
      await p.pingOk('right', INNER.left, { count: 3 });
      for (const [a, b] of [['left', 'right'], ['right', 'left']] as const) {
        const x = await p.transfer(a, b, INNER[b], MB10);
        assert.equal(x.received, x.sent, `${a}→${b} content`);
        t.diagnostic(`TCP ${a}→${b} 10 MiB in ${x.ms.toFixed(0)} ms over xfrm1 (${((MB10 * 8) / x.ms / 1000).toFixed(0)} Mbit/s)`);
      }
    });
    await step(t, p, 'xfrm1 rx on one end == the peer\'s out SA count; tx counts a TSO super-packet once (xfrmi_xmit2); no error counters', async () => {
      const { left, right } = await p.settle();
      const l = left.get('xfrm1')!;
      const r = right.get('xfrm1')!;
      for (const [a, b, spi, side] of [[l, r, 0x7001, 'left'], [r, l, 0x7002, 'right']] as const) {
        const sa = saPackets(p, side, spi);
        assert.ok(sa > 7000, `${side} out SA ${sa} packets (a 10 MB transfer)`);
        assert.equal(b.rx['packets'], sa, `the peer's xfrm1 got every ESP packet ${side}'s SA sent`);
        const tx = a.tx['packets'] ?? 0;
        assert.ok(tx > 0 && tx <= sa, `${side} xfrm1 tx ${tx}: one per super-packet or packet, never more than the SA's ${sa}`);
        // A super-packet of k segments is counted once with one set of IPv4+TCP headers (52 B with timestamps), its segments with k.
        const txB = a.tx['bytes'] ?? 0;
        const rxB = b.rx['bytes'] ?? 0;
        assert.ok(txB <= rxB && txB >= rxB - 64 * (sa - tx), `${side} tx bytes ${txB} vs peer rx ${rxB}, ${sa - tx} segments beyond the first`);
      }
      for (const s of ['left', 'right'] as const) {
        const errors = Object.entries(stat(p, s)).filter(([, v]) => v > 0);
        assert.deepEqual(errors, [], `${s} xfrm_stat`);
      }
    });
    await step(t, p, 'no state for the if_id: tx_carrier_errors and XfrmOutNoStates, nothing sent', async () => {
      const before = p.stats('left', 'xfrm1');
      const s0 = stat(p, 'left');
      const sent0 = saPackets(p, 'left', 0x7001);
      p.tunkitOk('left', `xfrm state del src ${OUTER.left} dst ${OUTER.right} proto esp spi 0x7001`);
      const r = await p.ping('left', INNER.right, { count: 2, waitS: 1 });
      assert.equal(r.received, 0);
      const after = p.stats('left', 'xfrm1');
      assert.ok((after.tx['carrier_errors'] ?? 0) - (before.tx['carrier_errors'] ?? 0) >= 2, JSON.stringify(after.tx));
      assert.equal(after.tx['packets'], before.tx['packets'], 'nothing counted as sent');
      assert.ok((stat(p, 'left')['XfrmOutNoStates'] ?? 0) - (s0['XfrmOutNoStates'] ?? 0) >= 2);
      assert.equal(saPackets(p, 'right', 0x7001), sent0, 'the peer received nothing more');
    });
  });
});
