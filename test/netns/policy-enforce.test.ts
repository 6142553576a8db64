// The SPD enforced on traffic that never passes through tunkit (the
// nf_tables table `inet tunkit`, daemon/policy-firewall.ts), as the kernel's
// xfrm enforces it on every packet:
//   - `policy setdefault out block` drops what no policy allows, not only
//     what is routed into tunkit; ESP to the peer still flows;
//   - a clear-text packet that an `in` policy says must arrive protected is
//     dropped at the receiver and counted in XfrmInTmplMismatch, also with
//     tunkitd killed; deleting the policy lets it through again;
//   - a mark-scoped policy affects only flows with that mark.
// Packets are counted on the peer's side of the veth with tcpdump.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Capture, describe, flushXfrm, INNER, installSas, key, OUTER, xfrmStat } from './esp-fixture.js';
import { sleep, step, withPair } from './pair.js';
import type { Pair } from './pair.js';

const SIZE = 313;
const PROBE_LEN = 20 + 8 + SIZE;
const aead = (): string[] => ['aead', 'rfc4106(gcm(aes))', key(20), '128'];

/** Echo requests of the probe size seen in a capture. */
const probes = (seen: readonly { proto: number; totalLen: number }[]): number => seen.filter((x) => x.proto === 1 && x.totalLen === PROBE_LEN).length;

/** The inner addresses reachable in clear over the veth (no tunkit on the path). */
function clearInner(p: Pair): void {
  p.shOk('left', `ip addr add ${INNER[0]}/32 dev lo`);
  p.shOk('right', `ip addr add ${INNER[1]}/32 dev lo`);
  p.shOk('left', `ip route add ${INNER[1]}/32 via ${OUTER[1]}`);
  p.shOk('right', `ip route add ${INNER[0]}/32 via ${OUTER[0]}`);
}

test('setdefault out block: unmatched traffic that never reaches tunkit is dropped and counted; ESP to the peer flows', async (t) => {
  await withPair('tkpe', async (p) => {
    await step(t, p, 'a clear ping over the underlay is dropped before the veth; XfrmOutPolBlock counts it', async () => {
      await p.pingOk('left', OUTER[1], { count: 2, size: SIZE });
      p.tunkitOk('left', 'xfrm policy setdefault out block');
      const before = xfrmStat(p, 'left').XfrmOutPolBlock ?? 0;
      const cap = await Capture.start(p, 'right');
      const r = await p.ping('left', OUTER[1], { count: 4, intervalS: 0.1, waitS: 1, size: SIZE });
      const seen = await cap.stop();
      assert.equal(r.received, 0, r.stdout);
      assert.equal(probes(seen), 0, `clear probes on the right's veth: ${describe(seen)}`);
      assert.ok((xfrmStat(p, 'left').XfrmOutPolBlock ?? 0) - before >= 4, 'XfrmOutPolBlock counts the kernel-side drops');
    });
    await step(t, p, 'a tunnel-mode SA pair still carries the protected ping (ESP and the policy TUN are allowed)', async () => {
      p.shOk('left', `ip addr add ${INNER[0]}/32 dev lo`);
      p.shOk('right', `ip addr add ${INNER[1]}/32 dev lo`);
      installSas(p, 0x7100, { mode: 'tunnel', algo: aead });
      await p.pingOk('left', INNER[1], { iface: INNER[0], count: 3, size: SIZE });
    });
    await step(t, p, 'setdefault out accept: the underlay ping passes again once nothing is to be enforced', async () => {
      flushXfrm(p);
      p.tunkitOk('left', 'xfrm policy setdefault out accept');
      await sleep(100);
      await p.pingOk('left', OUTER[1], { count: 2, size: SIZE });
    });
  });
});

test('in policy: a clear-text packet it says must arrive protected is dropped at the receiver and counted (XfrmInTmplMismatch), daemon dead or alive', async (t) => {
  await withPair('tkpi', async (p) => {
    clearInner(p);
    await step(t, p, 'without a policy the clear ping between the inner addresses passes', async () => {
      await p.pingOk('left', INNER[1], { iface: INNER[0], count: 2, size: SIZE });
    });
    await step(t, p, 'with the in policy on the right: its echo requests arrive on the veth and are dropped and counted', async () => {
      p.tunkitOk('right', `xfrm policy add src ${INNER[0]}/32 dst ${INNER[1]}/32 dir in tmpl src ${OUTER[0]} dst ${OUTER[1]} proto esp reqid 1 mode tunnel`);
      await sleep(100);
      const before = xfrmStat(p, 'right').XfrmInTmplMismatch ?? 0;
      const cap = await Capture.start(p, 'right');
      const r = await p.ping('left', INNER[1], { iface: INNER[0], count: 4, intervalS: 0.1, waitS: 1, size: SIZE });
      const seen = await cap.stop();
      assert.equal(r.received, 0, r.stdout);
      assert.ok(probes(seen) >= 4, `the requests did arrive in clear: ${describe(seen)}`);
      assert.ok((xfrmStat(p, 'right').XfrmInTmplMismatch ?? 0) - before >= 4, 'XfrmInTmplMismatch counts them');
    });
    await step(t, p, 'kill -9 of the right tunkitd: still dropped', async () => {
      assert.equal(await p.stopDaemon('right', 'SIGKILL'), 'SIGKILL');
      const r = await p.ping('left', INNER[1], { iface: INNER[0], count: 3, intervalS: 0.1, waitS: 1, size: SIZE });
      assert.equal(r.received, 0, r.stdout);
    });
  });
});

test('in policy deleted: its rule goes with it; a mark-scoped policy affects only marked flows', async (t) => {
  await withPair('tkpm', async (p) => {
    clearInner(p);
    await step(t, p, 'policy del lets the clear packets through again', async () => {
      const sel = `src ${INNER[0]}/32 dst ${INNER[1]}/32 dir in`;
      p.tunkitOk('right', `xfrm policy add ${sel} tmpl src ${OUTER[0]} dst ${OUTER[1]} proto esp reqid 1 mode tunnel`);
      await sleep(100);
      assert.equal((await p.ping('left', INNER[1], { iface: INNER[0], count: 2, waitS: 1, size: SIZE })).received, 0);
      p.tunkitOk('right', `xfrm policy del ${sel}`);
      await sleep(100);
      await p.pingOk('left', INNER[1], { iface: INNER[0], count: 2, size: SIZE });
    });
    await step(t, p, 'an out block policy with mark 0x7/0xff drops only pings sent with SO_MARK 7', async () => {
      p.tunkitOk('left', `xfrm policy add src ${OUTER[0]}/32 dst ${OUTER[1]}/32 proto icmp dir out action block mark 0x7 mask 0xff`);
      await sleep(100);
      await p.pingOk('left', OUTER[1], { count: 2, size: SIZE });
      const marked = p.exec('left', 'ping', ['-4', '-n', '-c', '2', '-i', '0.2', '-W', '1', '-m', '7', '-s', String(SIZE), OUTER[1]]);
      assert.match(marked.stdout, / 0 received/, marked.stdout + marked.stderr);
      const other = p.exec('left', 'ping', ['-4', '-n', '-c', '2', '-i', '0.2', '-W', '1', '-m', '263', '-s', String(SIZE), OUTER[1]]);
      assert.match(other.stdout, / 0 received/, `mark 0x107: bits outside the mask do not matter ${other.stdout}${other.stderr}`);
      await p.pingOk('left', OUTER[1], { count: 2, size: SIZE });
    });
    await step(t, p, 'through tunkit (mark 0): a mark-scoped block in front of a tunnel policy does not stop its traffic', async () => {
      p.tunkitOk('left', 'xfrm policy flush');
      p.shOk('left', `ip route del ${INNER[1]}/32`);
      p.shOk('right', `ip route del ${INNER[0]}/32`);
      installSas(p, 0x7200, { mode: 'tunnel', algo: aead });
      p.tunkitOk('left', `xfrm policy add src ${INNER[0]}/32 dst ${INNER[1]}/32 dir out priority 1 action block mark 0x7 mask 0xff`);
      await sleep(100);
      await p.pingOk('left', INNER[1], { iface: INNER[0], count: 3, size: SIZE });
    });
  });
});
