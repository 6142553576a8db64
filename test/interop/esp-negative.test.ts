// tunkit ⇄ Linux 6.1 kernel: IPsec ESP failure paths, each checked on BOTH
// ends' counters (one kernel-peer guest for the whole file; tunnel mode
// 203.0.113.1 ⇄ 203.0.113.2 over 198.51.100.1 ⇄ .2, AES-GCM-128):
//   - wrong key, both directions: the receiver's XfrmInStateProtoError and
//     its SA's integrity_failed (`failed`) count each packet; the sender's out
//     SA counted them;
//   - replay, both directions: an ESP packet captured on the tap is sent
//     again with a raw socket → the receiver's XfrmInStateSeqError and its
//     SA's `replay` counter;
//   - unknown SPI, both directions → the receiver's XfrmInNoStates;
//   - a required out policy with no SA, on each end → that end's
//     XfrmOutNoStates, and the capture shows nothing leaving in the clear.
//
// Needs root and the kernel peer (test/kernel-peer, see harness.ts); fails,
// never skips, without them.

import { after, before, describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { cleanupAll, GUEST_OUTER, guestPing, LinuxPeer, Ours, OURS_OUTER, oursPing, requirePrereqs } from './harness.js';
import {
  applyXfrm, captureStart, captureStop, census, configureTunnel, espFrom, flushXfrm, gcm, GUEST_INNER, guestStat, guestStates, inject,
  ourStat, ourStates, OURS_INNER, policyWords, sa, saPair, statDelta, until,
} from './esp-helpers.js';
import type { SaDef, SaStats } from './esp-helpers.js';

const TO_GUEST = `src ${OURS_INNER}/32 dst ${GUEST_INNER}/32`;
const TO_US = `src ${GUEST_INNER}/32 dst ${OURS_INNER}/32`;

describe('interop with a Linux 6.1 kernel: IPsec ESP failure paths', { timeout: 480_000 }, () => {
  let peer: LinuxPeer;
  let ours: Ours;
  const t0 = performance.now();

  before(async () => {
    requirePrereqs();
    const b0 = performance.now();
    peer = await LinuxPeer.boot('tx');
    ours = await Ours.start(peer.ns);
    await peer.sh([
      `ip addr add ${GUEST_INNER}/32 dev lo`,
      `ip route add ${OURS_INNER}/32 via ${OURS_OUTER} dev eth0 src ${GUEST_INNER}`,
    ].join('\n'));
    await ours.sh('ip', 'addr', 'add', `${OURS_INNER}/32`, 'dev', 'lo');
    process.stdout.write(`# guest ${peer.name} booted and ready in ${((performance.now() - b0) / 1000).toFixed(1)} s\n`);
  }, { timeout: 300_000 });

  after(() => {
    cleanupAll();
    process.stdout.write(`# ESP failure-path suite wall time ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  });

  const stats = async (): Promise<{ g: Record<string, number>; o: Record<string, number> }> => ({ g: await guestStat(peer), o: await ourStat(ours) });
  const states = async (): Promise<{ g: SaStats[]; o: SaStats[] }> => ({ g: await guestStates(peer), o: await ourStates(ours) });

  it('wrong key, both directions → XfrmInStateProtoError + integrity_failed at the receiver', { timeout: 90_000 }, async (t: TestContext) => {
    const good = saPair(0x4100, gcm(16), 'tunnel');
    // The receiver's copy of each SA has another key than the sender's.
    const bad = (s: SaDef): SaDef => ({ ...s, algo: gcm(16)(`${s.spi}/wrong`) });
    try {
      await applyXfrm(peer, ours,
        { sas: [bad(good.o2g), good.g2o], pols: [policyWords(TO_US, 'out', good.g2o), policyWords(TO_GUEST, 'in', good.o2g)] },
        { sas: [good.o2g, bad(good.g2o)], pols: [policyWords(TO_GUEST, 'out', good.o2g), policyWords(TO_US, 'in', good.g2o)] });
      const b = await stats();
      const gp = await guestPing(peer, GUEST_INNER, OURS_INNER);
      assert.equal(gp.received, 0, `guest → us must fail (our in SA has another key):\n${gp.out}`);
      const op = await oursPing(ours, OURS_INNER, GUEST_INNER);
      assert.equal(op.received, 0, `us → guest must fail (the guest's in SA has another key):\n${op.out}`);
      const v = await until(states, (s) => sa(s.o, good.g2o.spi).failed === 3 && sa(s.g, good.o2g.spi).failed === 3);
      const a = await stats();
      const [dg, dO] = [statDelta(b.g, a.g), statDelta(b.o, a.o)];
      t.diagnostic(`xfrm_stat Δ guest ${JSON.stringify(dg)}, ours ${JSON.stringify(dO)}`);
      for (const l of ['guest # ip -s xfrm state', ...(await peer.sh('ip -s xfrm state')).trimEnd().split('\n')]) t.diagnostic(l.replace(/\t/g, '  '));
      // guest → us
      assert.equal(sa(v.g, good.g2o.spi).packets, 3, 'the guest sent 3 packets on its out SA');
      assert.equal(sa(v.o, good.g2o.spi).failed, 3, 'our in SA counts 3 integrity failures (tunkit -s xfrm state list: failed)');
      assert.equal(sa(v.o, good.g2o.spi).packets, 0, 'and accepted none');
      assert.equal(dO['XfrmInStateProtoError'], 3, `our XfrmInStateProtoError +3 (${JSON.stringify(dO)})`);
      // us → guest
      assert.equal(sa(v.o, good.o2g.spi).packets, 3, 'we sent 3 packets on our out SA');
      assert.equal(sa(v.g, good.o2g.spi).failed, 3, "the guest's in SA counts 3 integrity failures");
      assert.equal(sa(v.g, good.o2g.spi).packets, 0, 'and accepted none');
      assert.equal(dg['XfrmInStateProtoError'], 3, `guest XfrmInStateProtoError +3 (${JSON.stringify(dg)})`);
      assert.deepEqual(Object.keys(dg), ['XfrmInStateProtoError'], 'no other guest counter moved');
      assert.deepEqual(Object.keys(dO), ['XfrmInStateProtoError'], 'no other counter of ours moved');
    } finally {
      await flushXfrm(peer, ours);
    }
  });

  it('replayed packet, both directions → XfrmInStateSeqError + SA replay at the receiver', { timeout: 90_000 }, async (t: TestContext) => {
    const p = saPair(0x4200, gcm(16), 'tunnel');
    try {
      await configureTunnel(peer, ours, p);
      const cap = await captureStart(ours, peer.tap, `/tmp/tk-interop-${peer.name}-replay.pcap`, 'ip proto 50');
      const gp = await guestPing(peer, GUEST_INNER, OURS_INNER, 2);
      assert.equal(gp.received, 2, `guest ping:\n${gp.out}`);
      const op = await oursPing(ours, OURS_INNER, GUEST_INNER, 2);
      assert.equal(op.received, 2, `our ping:\n${op.out}`);
      const pkts = await captureStop(cap);
      const fromGuest = espFrom(pkts, GUEST_OUTER);
      const fromUs = espFrom(pkts, OURS_OUTER);
      assert.ok(fromGuest.length >= 4 && fromUs.length >= 4, `ESP captured both ways (${fromGuest.length} / ${fromUs.length})`);
      // The same 84-byte echo packets give the same outer packets on both ends: TTL 64
      // (xfrm4_tunnel_encap_add: the route's hop limit), 140 bytes (20 + ESP 8 + IV 8 + 84 +
      // pad 2 + 2 + ICV 16, esp_output), first sequence number 1.
      const outer = (b: Uint8Array): string => `ttl ${b[8]} len ${(b[2]! << 8) | b[3]!}`;
      const seq0 = (b: Uint8Array): number => ((b[24]! << 24) | (b[25]! << 16) | (b[26]! << 8) | b[27]!) >>> 0;
      t.diagnostic(`outer ESP: guest ${[...new Set(fromGuest.map(outer))].join('/')}, ours ${[...new Set(fromUs.map(outer))].join('/')}`);
      assert.deepEqual([...new Set(fromUs.map(outer))], [...new Set(fromGuest.map(outer))], 'our outer TTL and length as the kernel makes them');
      assert.deepEqual([seq0(fromUs[0]!), seq0(fromGuest[0]!)], [1, 1], 'both start at sequence number 1');
      const s0 = await until(states, (s) => sa(s.o, p.g2o.spi).packets === sa(s.g, p.g2o.spi).packets && sa(s.g, p.o2g.spi).packets === sa(s.o, p.o2g.spi).packets);
      const b = await stats();
      // The guest's first packet (seq 1) again, to our address: it loops back into our raw ESP socket.
      await inject(ours, [fromGuest[0]!]);
      // Our first packet again, toward the guest.
      await inject(ours, [fromUs[0]!]);
      const v = await until(states, (s) => sa(s.o, p.g2o.spi).replay === 1 && sa(s.g, p.o2g.spi).replay === 1);
      const a = await stats();
      const [dg, dO] = [statDelta(b.g, a.g), statDelta(b.o, a.o)];
      t.diagnostic(`xfrm_stat Δ guest ${JSON.stringify(dg)}, ours ${JSON.stringify(dO)}`);
      t.diagnostic(`our in SA ${JSON.stringify(sa(v.o, p.g2o.spi))}; guest in SA ${JSON.stringify(sa(v.g, p.o2g.spi))}`);
      assert.equal(sa(v.o, p.g2o.spi).replay, 1, 'our in SA counts the replay (stats: replay)');
      assert.equal(sa(v.o, p.g2o.spi).packets, sa(s0.o, p.g2o.spi).packets, 'and did not accept it');
      assert.deepEqual(dO, { XfrmInStateSeqError: 1 }, 'our XfrmInStateSeqError +1, nothing else');
      assert.equal(sa(v.g, p.o2g.spi).replay, 1, "the guest's in SA counts the replay");
      assert.equal(sa(v.g, p.o2g.spi).packets, sa(s0.g, p.o2g.spi).packets, 'and did not accept it');
      assert.deepEqual(dg, { XfrmInStateSeqError: 1 }, 'guest XfrmInStateSeqError +1, nothing else');
      for (const s of [...v.g, ...v.o]) assert.equal(s.failed + s.replayWindow, 0, `SA 0x${s.spi.toString(16)}: no integrity/window failure`);
    } finally {
      await flushXfrm(peer, ours);
    }
  });

  it('unknown SPI, both directions → XfrmInNoStates at the receiver', { timeout: 90_000 }, async (t: TestContext) => {
    const p = saPair(0x4300, gcm(16), 'tunnel');
    // Each receiver knows its in SA under another SPI than the sender uses.
    const moved = (s: SaDef): SaDef => ({ ...s, spi: s.spi + 0x10 });
    try {
      await applyXfrm(peer, ours,
        { sas: [moved(p.o2g), p.g2o], pols: [policyWords(TO_US, 'out', p.g2o), policyWords(TO_GUEST, 'in', p.o2g)] },
        { sas: [p.o2g, moved(p.g2o)], pols: [policyWords(TO_GUEST, 'out', p.o2g), policyWords(TO_US, 'in', p.g2o)] });
      const b = await stats();
      const gp = await guestPing(peer, GUEST_INNER, OURS_INNER);
      assert.equal(gp.received, 0, `guest → us must fail:\n${gp.out}`);
      const op = await oursPing(ours, OURS_INNER, GUEST_INNER);
      assert.equal(op.received, 0, `us → guest must fail:\n${op.out}`);
      const a = await until(stats, (s) => statDelta(b.o, s.o)['XfrmInNoStates'] === 3 && statDelta(b.g, s.g)['XfrmInNoStates'] === 3);
      const [dg, dO] = [statDelta(b.g, a.g), statDelta(b.o, a.o)];
      t.diagnostic(`xfrm_stat Δ guest ${JSON.stringify(dg)}, ours ${JSON.stringify(dO)}`);
      assert.deepEqual(dO, { XfrmInNoStates: 3 }, 'our XfrmInNoStates +3 (the guest sent SPI 0x4302, we know 0x4312)');
      assert.deepEqual(dg, { XfrmInNoStates: 3 }, 'guest XfrmInNoStates +3 (we sent SPI 0x4301, it knows 0x4311)');
      const v = await states();
      assert.equal(sa(v.o, p.o2g.spi).packets, 3, 'our out SA sent 3');
      assert.equal(sa(v.g, p.g2o.spi).packets, 3, "the guest's out SA sent 3");
      assert.equal(sa(v.g, p.o2g.spi + 0x10).packets, 0, "the guest's in SA (other SPI) saw nothing");
      assert.equal(sa(v.o, p.g2o.spi + 0x10).packets, 0, 'our in SA (other SPI) saw nothing');
    } finally {
      await flushXfrm(peer, ours);
    }
  });

  it('required out policy without an SA, on each end → XfrmOutNoStates, nothing in the clear', { timeout: 90_000 }, async (t: TestContext) => {
    const p = saPair(0x4400, gcm(16), 'tunnel');
    try {
      // Policies only: no state on either end.
      await applyXfrm(peer, ours,
        { sas: [], pols: [policyWords(TO_US, 'out', p.g2o)] },
        { sas: [], pols: [policyWords(TO_GUEST, 'out', p.o2g)] });
      const b = await stats();
      const cap = await captureStart(ours, peer.tap, `/tmp/tk-interop-${peer.name}-nosa.pcap`, 'ip');
      const op = await oursPing(ours, OURS_INNER, GUEST_INNER);
      assert.equal(op.received, 0, `our ping must not leave:\n${op.out}`);
      const gp = await guestPing(peer, GUEST_INNER, OURS_INNER);
      assert.equal(gp.received, 0, `the guest's ping must not leave:\n${gp.out}`);
      const seen = census(await captureStop(cap));
      const a = await until(stats, (s) => statDelta(b.o, s.o)['XfrmOutNoStates'] === 3 && (statDelta(b.g, s.g)['XfrmOutNoStates'] ?? 0) >= 3);
      const [dg, dO] = [statDelta(b.g, a.g), statDelta(b.o, a.o)];
      t.diagnostic(`xfrm_stat Δ guest ${JSON.stringify(dg)}, ours ${JSON.stringify(dO)}`);
      t.diagnostic(`capture: ours ${JSON.stringify(seen.ours)}, guest ${JSON.stringify(seen.guest)}`);
      assert.deepEqual(dO, { XfrmOutNoStates: 3 }, 'our XfrmOutNoStates +3 (one per echo request), nothing else');
      assert.deepEqual(seen.ours, { esp: 0, udp4500: 0, gre: 0, other: 0, innerClear: 0 }, 'nothing left our end: no ESP, no clear ICMP');
      // xfrm_lookup_with_ifid: -EAGAIN from the larval state with xfrm_larval_drop=1 → XFRMOUTNOSTATES per lookup.
      assert.ok((dg['XfrmOutNoStates'] ?? 0) >= 3, `guest XfrmOutNoStates ≥ 3 (${JSON.stringify(dg)})`);
      assert.deepEqual(Object.keys(dg), ['XfrmOutNoStates'], 'no other guest counter moved');
      assert.deepEqual(seen.guest, { esp: 0, udp4500: 0, gre: 0, other: 0, innerClear: 0 }, 'nothing left the guest either');
    } finally {
      await flushXfrm(peer, ours);
    }
  });
});
