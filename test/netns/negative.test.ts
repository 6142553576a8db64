// Kernel-like refusals between two tunkit daemons (pair.ts), each checked
// on the counters of both ends, not only by reachability:
//   key mismatch        → no tunnel matches: NoTunnel drops, no rx on the device
//   icsum, no checksum  → rx_crc_errors (ip_tunnel_rcv)
//   iseq, old/missing S → rx_fifo_errors (ip_tunnel_rcv), injected packets
//   DF over the PMTU    → ICMP FRAG_NEEDED back to the sender, tx_errors
//                         (tnl_update_pmtu), the route learns the MTU

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { step, withPair } from './pair.js';
import type { Pair, SideName, Snapshot } from './pair.js';
import { gre, ip4, ping4 } from './packets.js';

const IPPROTO_GRE = 47;

/** Counter of `dev` in a snapshot (0 when the key is absent, e.g. a drop reason never seen). */
function get(snap: Snapshot, dev: string, path: `${'rx' | 'tx' | 'drops'}.${string}`): number {
  const st = snap.get(dev);
  assert.ok(st !== undefined, `no device ${dev} in tunkit link show (have ${[...snap.keys()].join(', ')})`);
  const [dir, k] = path.split('.') as ['rx' | 'tx' | 'drops', string];
  return st[dir][k] ?? 0;
}

/** Adds a tunnel with a different spec on each side (the sides' own local/remote appended). */
function asymmetric(p: Pair, name: string, specs: Record<SideName, string>, under: readonly [string, string], addrs: readonly [string, string]): void {
  for (const [i, s] of (['left', 'right'] as const).entries()) {
    p.tunkitOk(s, `link add ${name} ${specs[s]} local ${under[i]!} remote ${under[1 - i]!}`);
    p.shOk(s, `ip addr add ${addrs[i]!} dev ${name}`);
    p.tunkitOk(s, `link set ${name} up`);
  }
}

test('negative cases: key mismatch, missing checksum, out-of-order sequence, oversize DF', async (t) => {
  await withPair('tkng', async (p) => {
    for (const [l, r] of [['3', '4'], ['5', '6'], ['7', '8']]) {
      p.shOk('left', `ip addr add 198.51.100.${l}/24 dev ${p.left.veth}`);
      p.shOk('right', `ip addr add 198.51.100.${r}/24 dev ${p.right.veth}`);
    }
    asymmetric(p, 'gkey', { left: 'type gre key 5', right: 'type gre key 6' }, ['198.51.100.1', '198.51.100.2'], ['192.0.2.1/30', '192.0.2.2/30']);
    asymmetric(p, 'gcsum', { left: 'type gre key 7 icsum', right: 'type gre key 7' }, ['198.51.100.3', '198.51.100.4'], ['192.0.2.9/30', '192.0.2.10/30']);
    asymmetric(p, 'gseq', { left: 'type gre key 9 iseq icsum', right: 'type gre key 9 oseq ocsum' }, ['198.51.100.5', '198.51.100.6'], ['192.0.2.13/30', '192.0.2.14/30']);
    p.tunnel('gre1', 'type gre', ['198.51.100.7', '198.51.100.8'], ['192.0.2.5/30', '192.0.2.6/30']);

    await step(t, p, 'key mismatch (left key 5, right key 6): pings fail, the receiver counts NoTunnel, the device sees no rx', async () => {
      const b = await p.settle();
      const [lr, rl] = await Promise.all([p.ping('left', '192.0.2.2', { waitS: 1 }), p.ping('right', '192.0.2.1', { waitS: 1 })]);
      assert.equal(lr.received, 0, `left → right must fail:\n${lr.stdout}`);
      assert.equal(rl.received, 0, `right → left must fail:\n${rl.stdout}`);
      assert.notEqual(lr.code, 0);
      const a = await p.settle();
      for (const [tx, rx] of [['left', 'right'], ['right', 'left']] as const) {
        const sent = get(a[tx], 'gkey', 'tx.packets') - get(b[tx], 'gkey', 'tx.packets');
        const got = get(a[rx], 'gkey', 'rx.packets') - get(b[rx], 'gkey', 'rx.packets');
        const noTunnel = get(a[rx], 'gre0', 'drops.NoTunnel') - get(b[rx], 'gre0', 'drops.NoTunnel');
        t.diagnostic(`${tx} gkey tx +${sent}; ${rx} gkey rx +${got}; ${rx} gre0 tunkit drops NoTunnel +${noTunnel}`);
        assert.ok(sent >= 3, `${tx} sent the pings (tx_packets +${sent})`);
        assert.equal(got, 0, `${rx} gkey must receive nothing`);
        assert.equal(get(a[rx], 'gkey', 'rx.errors'), 0, `${rx} gkey rx_errors: the packets never reach it`);
        assert.equal(noTunnel, sent, `${rx} counts each unmatched packet as NoTunnel on the fallback gre0`);
      }
      const text = p.tunkitOk('right', '-s link show gre0');
      assert.match(text, /tunkit drops: NoTunnel \d+/, 'the drop shows in tunkit -s link show');
    });

    await step(t, p, 'icsum set, peer sends no checksum: receiver counts rx_crc_errors', async () => {
      const b = await p.settle();
      const r = await p.ping('right', '192.0.2.9', { waitS: 1 });
      assert.equal(r.received, 0, `right → left must fail:\n${r.stdout}`);
      const a = await p.settle();
      const sent = get(a.right, 'gcsum', 'tx.packets') - get(b.right, 'gcsum', 'tx.packets');
      const d = (k: `${'rx' | 'tx' | 'drops'}.${string}`): number => get(a.left, 'gcsum', k) - get(b.left, 'gcsum', k);
      t.diagnostic(`right gcsum tx +${sent}; left gcsum rx_crc_errors +${d('rx.crc_errors')}, rx_errors +${d('rx.errors')}, rx_packets +${d('rx.packets')}, CsumMismatch +${d('drops.CsumMismatch')}`);
      assert.ok(sent >= 3);
      assert.equal(d('rx.crc_errors'), sent, 'every packet without a checksum is an rx_crc_error');
      assert.equal(d('rx.errors'), sent);
      assert.equal(d('drops.CsumMismatch'), sent);
      assert.equal(d('rx.packets'), 0);
      // The other direction is fine: right expects no checksum and gets none.
      assert.equal(get(a.right, 'gcsum', 'rx.errors'), 0);
    });

    await step(t, p, 'iseq: an injected old sequence number and a missing S bit count rx_fifo_errors; a future one resyncs', async () => {
      await p.pingOk('right', '192.0.2.13'); // right → left carries seq 0, 1, 2…: left's i_seqno > 0
      const b = await p.settle();
      const pkt = (seq: number | undefined, n: number): Uint8Array => ip4({
        proto: IPPROTO_GRE, src: '198.51.100.6', dst: '198.51.100.5',
        payload: gre({ proto: 0x0800, key: 9, csum: true, ...(seq !== undefined ? { seq } : {}), payload: ping4('192.0.2.14', '192.0.2.13', n) }),
      });
      p.inject('right', [pkt(0, 100), pkt(undefined, 101)]);
      const a = await p.settle();
      const d = (k: `${'rx' | 'tx' | 'drops'}.${string}`): number => get(a.left, 'gseq', k) - get(b.left, 'gseq', k);
      t.diagnostic(`left gseq rx_fifo_errors +${d('rx.fifo_errors')}, rx_errors +${d('rx.errors')}, SeqOutOfOrder +${d('drops.SeqOutOfOrder')}, SeqMissing +${d('drops.SeqMissing')}, rx_packets +${d('rx.packets')}`);
      assert.equal(d('rx.fifo_errors'), 2, 'old seq and missing S bit are both rx_fifo_errors');
      assert.equal(d('rx.errors'), 2);
      assert.equal(d('drops.SeqOutOfOrder'), 1);
      assert.equal(d('drops.SeqMissing'), 1);
      assert.equal(d('rx.packets'), 0, 'neither was delivered');
      assert.equal(d('rx.crc_errors'), 0, 'the checksums were valid');
      await p.pingOk('right', '192.0.2.13'); // still in sequence for the real peer

      // No reorder window (ip_tunnel_rcv): a forged far-future number is accepted and moves
      // i_seqno past the real peer, whose next packets are then out of order.
      const b2 = await p.settle();
      p.inject('right', [pkt(1_000_000, 102)]);
      const r = await p.ping('right', '192.0.2.13', { count: 2, waitS: 1 });
      const a2 = await p.settle();
      const d2 = (k: `${'rx' | 'tx' | 'drops'}.${string}`): number => get(a2.left, 'gseq', k) - get(b2.left, 'gseq', k);
      t.diagnostic(`after seq 1000000: ping ${r.received}/${r.transmitted}; left gseq rx_packets +${d2('rx.packets')}, SeqOutOfOrder +${d2('drops.SeqOutOfOrder')}`);
      assert.equal(d2('rx.packets'), 1, 'the forged packet was delivered');
      assert.equal(r.received, 0, 'the real peer is now behind');
      assert.ok(d2('drops.SeqOutOfOrder') >= 2, 'and its packets count as out of order');
    });

    await step(t, p, 'oversize DF packet: ICMP frag needed (mtu 1476) back to the sender, tx_errors, learnt route MTU', async () => {
      p.tunkitOk('left', 'link set gre1 mtu 1500');
      assert.match(p.tunkitOk('left', 'link show gre1'), / mtu 1500 /);
      const b = await p.settle();
      const r = await p.ping('left', '192.0.2.6', { count: 1, size: 1472, pmtudisc: 'do', waitS: 1 });
      t.diagnostic(`ping -M do -s 1472: ${(r.stdout + r.stderr).trim().split('\n').filter((x) => /mtu/i.test(x)).join(' | ')}`);
      assert.notEqual(r.code, 0, 'the oversize ping must fail');
      assert.match(r.stdout + r.stderr, /Frag needed and DF set \(mtu = 1476\)/);
      const route = p.shOk('left', 'ip route get 192.0.2.6');
      t.diagnostic(`ip route get 192.0.2.6: ${route.replace(/\s+/g, ' ').trim()}`);
      assert.match(route, /\bmtu 1476\b/, 'the kernel learnt the path MTU from the ICMP');
      const again = await p.ping('left', '192.0.2.6', { count: 1, size: 1472, pmtudisc: 'do', waitS: 1 });
      assert.match(again.stdout + again.stderr, /message too long, mtu=1476/, 'the next one fails locally');
      await p.pingOk('left', '192.0.2.6', { count: 1, size: 1448, pmtudisc: 'do' }); // 1476 bytes: fits
      const a = await p.settle();
      const d = (s: SideName, k: `${'rx' | 'tx' | 'drops'}.${string}`): number => get(a[s], 'gre1', k) - get(b[s], 'gre1', k);
      t.diagnostic(`left gre1 tx_errors +${d('left', 'tx.errors')}, TxTooBig +${d('left', 'drops.TxTooBig')}, tx_packets +${d('left', 'tx.packets')}; right gre1 rx_packets +${d('right', 'rx.packets')}`);
      assert.equal(d('left', 'tx.errors'), 1, 'tnl_update_pmtu → tx_error');
      assert.equal(d('left', 'drops.TxTooBig'), 1);
      assert.equal(d('right', 'rx.packets'), d('left', 'tx.packets'), 'the oversize packet never left');
      assert.equal(get(a.right, 'gre1', 'rx.errors'), 0);
      const gre1 = p.stats('left', 'gre1'); // `tunkit -j -s -s link show gre1`
      assert.equal(gre1.drops['TxTooBig'], 1);
      assert.equal(gre1.tx['errors'], 1);
    });
  });
});
