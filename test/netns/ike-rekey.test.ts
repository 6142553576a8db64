// IKEv2 between two tunkit daemons in namespaces (pair.ts), keyed by IKE
// from the same swanctl.conf as the strongSwan interop test: 50 Child SA
// rekeys (tunkit ike rekey, alternating sides) while a ping flood and
// verified TCP transfers cross the tunnel. Lost packets are counted on both ends — echo requests the
// left sent against those the right received (/proc/net/snmp Icmp), and
// replies the other way — and must be 0, as must the data path's
// "no state" drops (xfrm stat XfrmInNoStates / XfrmOutNoStates): make-
// before-break leaves no instant without a usable SA — and the TCP sender
// had no loss to recover from (TcpExt: no RTO, fast retransmit or SACK
// recovery; its only retransmissions are tail loss probes). Then both ends
// list the same SPIs; last, an xfrm soft expire (the control API's event)
// starts a rekey.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { IkeSaRecord } from '../../src/control/ike.js';
import { INNER, OUTER, swanctlConf } from '../interop/strongswan.js';
import { xfrmStat } from './esp-fixture.js';
import { sleep, withPair } from './pair.js';
import type { Pair, SideName } from './pair.js';

const REKEYS = 50;
const ALGS = { ike: 'aes128gcm16-prfsha256-x25519', esp: 'aes128gcm16' };

/** Icmp (or Tcp; TcpExt from /proc/net/netstat) counters of a side's namespace (/proc/net/snmp). */
function icmp(p: Pair, s: SideName, proto = 'Icmp'): Record<string, number> {
  const lines = p.shOk(s, `cat /proc/net/${proto === 'TcpExt' ? 'netstat' : 'snmp'}`).split('\n').filter((l) => l.startsWith(`${proto}: `));
  const [names, values] = [lines[0]!.split(/\s+/).slice(1), lines[1]!.split(/\s+/).slice(1).map(Number)];
  return Object.fromEntries(names.map((n, i) => [n, values[i]!]));
}

const sas = (p: Pair, s: SideName): IkeSaRecord[] => JSON.parse(p.tunkitOk(s, '-j ike list-sas')) as IkeSaRecord[];

/** Starts a rekey of the side's child, retrying while the previous rekey is still switching over. */
async function rekey(p: Pair, s: SideName): Promise<void> {
  const name = s === 'left' ? 'net-t' : 'net-s';
  for (let i = 0; i < 50; i++) {
    const r = p.tunkit(s, ['ike', 'rekey', '--child', name]);
    if (r.code === 0) return;
    assert.match(r.stderr, /no installed CHILD_SA/, `[${s}] ike rekey: ${r.stderr}`);
    await sleep(50);
  }
  assert.fail(`[${s}] the child never became rekeyable again`);
}

/**
 * The daemon path charon takes from the kernel: a soft lifetime on the
 * inbound state (set here with `xfrm state update … limit time-soft 1`)
 * raises an xfrm expire event, which the IKE shell hears through the
 * control API and answers with a Child SA rekey.
 */
async function softExpire(p: Pair): Promise<void> {
  const ch = sas(p, 'left')[0]!.children[0]!;
  p.tunkitOk('left', ['xfrm', 'state', 'update', 'src', OUTER.s, 'dst', OUTER.t, 'proto', 'esp', 'spi', `0x${ch.spiIn}`, 'reqid', String(ch.reqid),
    'mode', 'tunnel', 'aead', 'rfc4106(gcm(aes))', `0x${'00'.repeat(20)}`, '128', 'limit', 'time-soft', '1']);
  for (let i = 0; i < 50 && !sas(p, 'left')[0]!.children.some((c) => c.state === 'INSTALLED' && c.spiIn !== ch.spiIn); i++) await sleep(100);
  assert.ok(sas(p, 'left')[0]!.children.some((c) => c.state === 'INSTALLED' && c.spiIn !== ch.spiIn), 'a soft expire rekeyed the Child SA');
  for (let i = 0; i < 30 && !/soft expire of SA/.test(p.left.log); i++) await sleep(100);
  assert.match(p.left.log, new RegExp(`CHILD_SA net-t\\{\\d+\\}: soft expire of SA ${ch.spiIn.replace(/^0+/, '')}`));
  await p.pingOk('left', INNER.s, { iface: INNER.t, count: 2 });
}

/** Two tunkitd keyed by IKE from the same swanctl.conf as the strongSwan test (raw ESP, no encap). */
function setUp(p: Pair, dir: string): void {
  const psk = 'netns rekey test secret, documentation only';
  writeFileSync(join(dir, 'l.conf'), swanctlConf('t', ALGS, { psk, encap: false }), { mode: 0o600 });
  writeFileSync(join(dir, 'r.conf'), swanctlConf('s', ALGS, { psk, encap: false }), { mode: 0o600 });
  p.shOk('left', `ip addr add ${INNER.t}/32 dev lo`);
  p.shOk('right', `ip addr add ${INNER.s}/32 dev lo`);
  p.tunkitOk('left', ['ike', 'load', join(dir, 'l.conf')]);
  p.tunkitOk('right', ['ike', 'load', join(dir, 'r.conf')]);
  p.tunkitOk('left', 'ike initiate net-t');
  const none = p.tunkit('left', 'ike rekey --child nosuch');
  assert.ok(none.code !== 0 && /no installed CHILD_SA named "nosuch" to rekey/.test(none.stderr), `rekey of an unknown child: ${none.code} ${none.stderr}`);
}

/** Verified 1 MB TCP transfers right → left, one after another, until `isDone()`; how many. */
async function transfers(p: Pair, isDone: () => boolean): Promise<number> {
  let n = 0;
  while (!isDone()) {
    await p.transfer('right', 'left', INNER.t, 1024 * 1024);
    n++;
    await sleep(200);
  }
  return n;
}

test('IKE: 50 Child SA rekeys between two tunkitd under a ping flood and TCP transfers: no packet lost on either end', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tunkit-ikerekey-'));
  try {
    await withPair('tkrk', async (p) => {
      setUp(p, dir);
      await p.pingOk('left', INNER.s, { iface: INNER.t, count: 3 });
      const [l0, r0, tcp0, ext0] = [icmp(p, 'left'), icmp(p, 'right'), icmp(p, 'right', 'Tcp'), icmp(p, 'right', 'TcpExt')];
      const [xl0, xr0] = [xfrmStat(p, 'left'), xfrmStat(p, 'right')];
      let isDone = false;
      const t0 = performance.now();
      const flood = p.ping('left', INNER.s, { iface: INNER.t, count: 6000, intervalS: 0.005, waitS: 3 }).then((r) => ({ ...r, endMs: performance.now() - t0 }));
      const xfers = transfers(p, () => isDone);
      await sleep(300);
      for (let i = 0; i < REKEYS; i++) {
        await rekey(p, i % 2 === 0 ? 'left' : 'right');
        await sleep(100);
      }
      const rekeyMs = performance.now() - t0;
      isDone = true;
      const [ping, nx] = [await flood, await xfers];
      t.diagnostic(`${REKEYS} rekeys in ${Math.round(rekeyMs)} ms; ping ${ping.received}/${ping.transmitted} over ${Math.round(ping.endMs)} ms; ${nx} verified 1 MB transfers`);
      const [l1, r1, tcp1, ext1] = [icmp(p, 'left'), icmp(p, 'right'), icmp(p, 'right', 'Tcp'), icmp(p, 'right', 'TcpExt')];
      const ext = Object.fromEntries(['TCPLossProbes', 'TCPTimeouts', 'TCPSackRecovery', 'TCPFastRetrans', 'TCPSlowStartRetrans', 'TCPDSACKRecv', 'TCPSpuriousRTOs', 'TCPLostRetransmit', 'TCPSACKReorder', 'TCPTSReorder'].map((k) => [k, ext1[k]! - ext0[k]!]));
      t.diagnostic(`TCP sender: ${JSON.stringify(ext)}`);
      const [xl1, xr1] = [xfrmStat(p, 'left'), xfrmStat(p, 'right')];

      assert.ok(ping.endMs > rekeyMs && nx >= 3, `the load outlasted the rekeys (ping until ${Math.round(ping.endMs)} ms, rekeys until ${Math.round(rekeyMs)} ms, ${nx} transfers)`);
      const lostLR = (l1['OutEchos']! - l0['OutEchos']!) - (r1['InEchos']! - r0['InEchos']!);
      const lostRL = (r1['OutEchoReps']! - r0['OutEchoReps']!) - (l1['InEchoReps']! - l0['InEchoReps']!);
      // TCP: no retransmission for a loss (RTO, fast retransmit, SACK recovery); the only ones allowed are tail loss
      // probes, which Linux sends at the end of a burst with nothing lost (the receiver's D-SACKs say so).
      const retrans = tcp1['RetransSegs']! - tcp0['RetransSegs']!;
      const recoveries = ext['TCPTimeouts']! + ext['TCPSackRecovery']! + ext['TCPFastRetrans']! + ext['TCPSlowStartRetrans']! + ext['TCPLostRetransmit']!;
      assert.deepEqual({ lostLR, lostRL, pingLost: ping.transmitted - ping.received, recoveries, isOnlyProbes: retrans <= ext['TCPLossProbes']! },
        { lostLR: 0, lostRL: 0, pingLost: 0, recoveries: 0, isOnlyProbes: true },
        `lost: left → right ${lostLR}, right → left ${lostRL}, ping ${ping.received}/${ping.transmitted}, TCP ${retrans} retransmitted, ${JSON.stringify(ext)}`);
      for (const [s, a, b] of [['left', xl0, xl1], ['right', xr0, xr1]] as const) {
        for (const k of ['XfrmInNoStates', 'XfrmOutNoStates', 'XfrmInStateProtoError', 'XfrmInStateSeqError', 'XfrmOutPolBlock']) {
          assert.equal(b[k]! - a[k]!, 0, `[${s}] ${k} moved by ${b[k]! - a[k]!}`);
        }
      }
      await afterRekeys(p);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Every rekey made a new SA on both ends; once the replaced SAs' inbound states are gone (5 s) one pair and the policies remain. */
async function afterRekeys(p: Pair): Promise<void> {
  const rekeyed = (s: SideName): number => (p.side(s).log.match(/CHILD_SA net-[ts]\{\d+\} rekeyed/g) ?? []).length;
  await sleep(6000);
  assert.deepEqual([rekeyed('left'), rekeyed('right')], [REKEYS, REKEYS], 'each daemon logged every rekey');
  const [l, r] = [sas(p, 'left'), sas(p, 'right')];
  assert.equal(l[0]!.children.length, 1);
  assert.deepEqual([l[0]!.children[0]!.spiIn, l[0]!.children[0]!.spiOut], [r[0]!.children[0]!.spiOut, r[0]!.children[0]!.spiIn]);
  for (const s of ['left', 'right'] as const) {
    assert.equal((JSON.parse(p.tunkitOk(s, '-j xfrm state list')) as unknown[]).length, 2, `[${s}] one SA pair left`);
    assert.equal((JSON.parse(p.tunkitOk(s, '-j xfrm policy list')) as unknown[]).length, 2, `[${s}] the policies stayed`);
  }
  await softExpire(p);
}
