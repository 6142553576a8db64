// tunkit ⇄ Linux 6.1 kernel: IPsec ESP, on one kernel-peer guest. The guest
// is configured with `ip xfrm`, ours with the same words via `tunkit xfrm`.
//   1. tunnel mode 203.0.113.1 (ours, lo) ⇄ 203.0.113.2 (guest, lo) over
//      198.51.100.1 ⇄ .2, per algorithm: AES-GCM-128, AES-GCM-256,
//      ChaCha20-Poly1305, AES-CBC + HMAC-SHA-256/384/512 (auth-trunc 128/192/
//      256), AES-GCM with ESN (replay-window 128): pings both ways, a 10 MiB
//      TCP transfer each way verified by sha256;
//   2. ESP-in-UDP (encap espinudp 4500 4500): the same, and the tap capture
//      shows UDP 4500 both ways and no raw protocol 50;
//   3. GRE (key 5) over ESP transport mode: the capture shows only ESP
//      between the outer addresses, both GRE devices count the traffic.
// After each case: our out SA's packets and bytes == the guest's in SA's and
// vice versa (`ip -s xfrm state` vs `tunkit -s xfrm state list` and its -j
// form), no replay/integrity failure on any SA, no /proc/net/xfrm_stat
// counter moved in the guest and none in `tunkit xfrm stat`. States and
// policies are flushed on both ends between cases; every case has its own SPIs.
//
// Needs root and the kernel peer (test/kernel-peer, see harness.ts); fails,
// never skips, without them.

import { after, before, describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import {
  cleanupAll, fmtStats, GUEST_OUTER, guestPing, guestRandomFile, LinuxPeer, mirrored, Ours, OURS_OUTER, oursPing, quiet,
  requirePrereqs, settle, xferGuestToUs, xferUsToGuest,
} from './harness.js';
import {
  applyXfrm, captureStart, captureStop, cbcHmac, census, chacha, configureTunnel, flushXfrm, gcm, GUEST_INNER, guestStat, guestStates,
  ourStat, ourStates, OURS_INNER, policyWords, sa, saPair, statDelta, until,
} from './esp-helpers.js';
import type { AlgoWords, SaDef, SaStats } from './esp-helpers.js';

const MiB = 1024 * 1024;
const FILE = '/tmp/x';
/** Transfer size per direction. */
const BYTES = 10 * MiB;

interface TunCase {
  readonly name: string;
  readonly algo: AlgoWords;
  /** SPIs base+1 (ours → guest) and base+2 (guest → ours); reqid = base >> 8. */
  readonly base: number;
  readonly extra?: readonly string[];
  readonly port: number;
}

const TUNNEL_CASES: readonly TunCase[] = [
  { name: 'AES-GCM-128 (rfc4106, ICV 128)', algo: gcm(16), base: 0x1100, port: 6101 },
  { name: 'AES-GCM-256', algo: gcm(32), base: 0x1200, port: 6103 },
  { name: 'ChaCha20-Poly1305 (rfc7539esp)', algo: chacha, base: 0x1300, port: 6105 },
  { name: 'AES-CBC + HMAC-SHA-256-128', algo: cbcHmac(256), base: 0x1400, port: 6107 },
  { name: 'AES-CBC + HMAC-SHA-384-192', algo: cbcHmac(384), base: 0x1500, port: 6109 },
  { name: 'AES-CBC-256 + HMAC-SHA-512-256', algo: cbcHmac(512, 32), base: 0x1600, port: 6111 },
  { name: 'AES-GCM-128 with ESN (flag esn replay-window 128)', algo: gcm(16), base: 0x1700, extra: ['flag', 'esn', 'replay-window', '128'], port: 6113 },
];

interface Baseline { readonly g: Record<string, number>; readonly o: Record<string, number> }
const baseline = async (peer: LinuxPeer, ours: Ours): Promise<Baseline> => ({ g: await guestStat(peer), o: await ourStat(ours) });

describe('interop with a Linux 6.1 kernel: IPsec ESP', { timeout: 600_000 }, () => {
  let peer: LinuxPeer;
  let ours: Ours;
  let sum10 = '';
  const t0 = performance.now();

  before(async () => {
    requirePrereqs();
    const b0 = performance.now();
    peer = await LinuxPeer.boot('te');
    ours = await Ours.start(peer.ns);
    await peer.sh([
      'ip link set eth0 gro_max_size 0',
      `ip addr add ${GUEST_INNER}/32 dev lo`,
      `ip route add ${OURS_INNER}/32 via ${OURS_OUTER} dev eth0 src ${GUEST_INNER}`,
    ].join('\n'));
    await ours.sh('ip', 'addr', 'add', `${OURS_INNER}/32`, 'dev', 'lo');
    sum10 = await guestRandomFile(peer, FILE, 10 * MiB);
    process.stdout.write(`# guest ${peer.name} booted and ready in ${((performance.now() - b0) / 1000).toFixed(1)} s\n`);
  }, { timeout: 300_000 });

  after(() => {
    cleanupAll();
    process.stdout.write(`# ESP suite wall time ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  });

  /** Pings both ways over the inner addresses, then a verified TCP transfer each way. */
  async function traffic(t: TestContext, o: string, g: string, port: number, lap: (w: string, ms: number) => void): Promise<void> {
    const p0 = performance.now();
    const gp = await guestPing(peer, g, o);
    assert.equal(gp.received, 3, `guest ping ${g} → ${o}:\n${gp.out}`);
    const op = await oursPing(ours, o, g);
    assert.equal(op.received, 3, `our ping ${o} → ${g}:\n${op.out}`);
    lap('pings', performance.now() - p0);
    const up = await xferGuestToUs(peer, ours, o, port, FILE, sum10);
    assert.equal(up.received, up.sent, `TCP guest → us ${o}:${port}: "<bytes> <sha256>" differs`);
    lap(`TCP guest→us ${BYTES / MiB} MiB`, up.ms);
    const down = await xferUsToGuest(peer, ours, g, port + 1, BYTES);
    assert.equal(down.received, down.sent, `TCP us → guest ${g}:${port + 1}: the guest's sha256 differs from ours`);
    lap(`TCP us→guest ${BYTES / MiB} MiB`, down.ms);
    t.diagnostic(`traffic ok: 3+3 pings, ${BYTES / MiB} MiB each way`);
  }

  /**
   * Both SA pairs agree (ours out == guest in, guest out == ours in, packets
   * and bytes), no SA counted a replay or integrity failure, no guest
   * xfrm_stat counter moved, nor any of ours.
   */
  async function checkSas(t: TestContext, p: { o2g: SaDef; g2o: SaDef }, b: Baseline, minBytes: number, show: boolean): Promise<void> {
    const read = async (): Promise<{ g: SaStats[]; o: SaStats[] }> => ({ g: await guestStates(peer), o: await ourStates(ours) });
    const same = (v: { g: SaStats[]; o: SaStats[] }): boolean => sa(v.o, p.o2g.spi).packets === sa(v.g, p.o2g.spi).packets
      && sa(v.o, p.g2o.spi).packets === sa(v.g, p.g2o.spi).packets;
    const v = await until(read, same, 8000);
    const [gOut, gIn, oOut, oIn] = [sa(v.g, p.g2o.spi), sa(v.g, p.o2g.spi), sa(v.o, p.o2g.spi), sa(v.o, p.g2o.spi)];
    const [gs, os] = [statDelta(b.g, await guestStat(peer)), statDelta(b.o, await ourStat(ours))];
    const ctx = `\nguest SAs ${JSON.stringify(v.g)}\nour SAs ${JSON.stringify(v.o)}\nguest xfrm_stat Δ ${JSON.stringify(gs)}\nour xfrm stat Δ ${JSON.stringify(os)}`;
    t.diagnostic(`ours→guest spi 0x${p.o2g.spi.toString(16)}: ours ${oOut.packets} pkts ${oOut.bytes} B, guest ${gIn.packets} pkts ${gIn.bytes} B`);
    t.diagnostic(`guest→ours spi 0x${p.g2o.spi.toString(16)}: guest ${gOut.packets} pkts ${gOut.bytes} B, ours ${oIn.packets} pkts ${oIn.bytes} B`);
    t.diagnostic(`xfrm_stat Δ guest ${JSON.stringify(gs)}, ours ${JSON.stringify(os)}`);
    if (show) for (const l of ['guest # ip -s xfrm state', ...(await peer.sh('ip -s xfrm state')).trimEnd().split('\n')]) t.diagnostic(l.replace(/\t/g, '  '));
    assert.equal(gIn.packets, oOut.packets, `guest in SA packets == our out SA packets${ctx}`);
    assert.equal(oIn.packets, gOut.packets, `our in SA packets == guest out SA packets${ctx}`);
    assert.equal(gIn.bytes, oOut.bytes, `guest in SA bytes == our out SA bytes (curlft)${ctx}`);
    assert.equal(oIn.bytes, gOut.bytes, `our in SA bytes == guest out SA bytes (curlft)${ctx}`);
    assert.ok(oOut.bytes >= minBytes && gOut.bytes >= minBytes, `both out SAs carried the transfers (≥ ${minBytes} B)${ctx}`);
    for (const s of [...v.g, ...v.o]) assert.deepEqual([s.replayWindow, s.replay, s.failed], [0, 0, 0], `SA 0x${s.spi.toString(16)}: no replay-window/replay/integrity failure${ctx}`);
    assert.deepEqual(gs, {}, `no guest xfrm_stat counter moved${ctx}`);
    // The kernel's local TCP gets the bundle MTU (xfrm_init_pmtu) before its first segment; tunkit's
    // policy-TUN route carries the same MTU, so no segment is refused (XfrmOutStateModeError) here either.
    assert.deepEqual(os, {}, `no xfrm stat counter of ours moved${ctx}`);
  }

  for (const c of TUNNEL_CASES) {
    it(`tunnel mode: ${c.name}`, { timeout: 150_000 }, async (t: TestContext) => {
      const c0 = performance.now();
      const timings: string[] = [];
      const lap = (what: string, ms: number): void => { timings.push(`${what} ${(ms / 1000).toFixed(2)} s`); };
      const p = saPair(c.base, c.algo, 'tunnel', c.extra);
      try {
        await configureTunnel(peer, ours, p);
        const b = await baseline(peer, ours);
        await traffic(t, OURS_INNER, GUEST_INNER, c.port, lap);
        await checkSas(t, p, b, BYTES, c === TUNNEL_CASES[0]);
        if (c.extra?.includes('esn') === true) {
          // Both ends keep the ESN replay state (xfrm_replay_state_esn), printed as such.
          assert.match(await peer.sh('ip xfrm state'), /anti-replay esn context:/, 'the guest SAs are ESN');
          assert.match(await ours.tunkit('xfrm', 'state', 'list'), /anti-replay esn context:/, 'our SAs are ESN');
        }
      } finally {
        await flushXfrm(peer, ours);
        lap('case', performance.now() - c0);
        t.diagnostic(`timings: ${timings.join(', ')}`);
      }
    });
  }

  it('ESP-in-UDP (encap espinudp 4500 4500), AES-GCM-128', { timeout: 150_000 }, async (t: TestContext) => {
    const p = saPair(0x2100, gcm(16), 'tunnel', ['encap', 'espinudp', '4500', '4500', '0.0.0.0']);
    const lap = (what: string, ms: number): void => t.diagnostic(`${what} ${(ms / 1000).toFixed(2)} s`);
    try {
      // Inbound ESP-in-UDP needs a UDP_ENCAP_ESPINUDP socket on 4500 (normally the IKE daemon's):
      // SOL_UDP 17, UDP_ENCAP 100, value 2 (proof/tunnel_proof.py).
      await peer.sh(`setsid socat -u UDP4-RECV:4500,bind=${GUEST_OUTER},sockopt-listen=17:100:x02000000 /dev/null >/dev/null 2>&1 </dev/null &
echo $! > /run/tk-socat.pid
for i in $(seq 50); do netstat -lun | grep -q ':4500 ' && exit 0; sleep 0.1; done; echo "socat did not bind 4500"; exit 1`);
      await configureTunnel(peer, ours, p);
      const b = await baseline(peer, ours);
      const cap = await captureStart(ours, peer.tap, `/tmp/tk-interop-${peer.name}-udp.pcap`);
      const gp = await guestPing(peer, GUEST_INNER, OURS_INNER);
      assert.equal(gp.received, 3, `guest ping over ESP-in-UDP:\n${gp.out}`);
      const op = await oursPing(ours, OURS_INNER, GUEST_INNER);
      assert.equal(op.received, 3, `our ping over ESP-in-UDP:\n${op.out}`);
      const pkts = await captureStop(cap);
      const seen = census(pkts);
      t.diagnostic(`capture (pings): ours ${JSON.stringify(seen.ours)}, guest ${JSON.stringify(seen.guest)}`);
      // RFC 3948 §2.1 / esp_output_udp_encap: the UDP checksum is 0 on IPv4, on both ends.
      const udpCsums = new Set(pkts.filter((b) => b[9] === 17).map((b) => ((b[26]! << 8) | b[27]!)));
      assert.deepEqual([...udpCsums], [0], 'every ESP-in-UDP datagram has UDP checksum 0');
      assert.ok(seen.ours.udp4500 >= 6 && seen.guest.udp4500 >= 6, 'UDP 4500 ⇄ 4500 both ways (3 requests + 3 replies each)');
      assert.equal(seen.ours.esp + seen.guest.esp, 0, 'no raw protocol 50 on the wire');
      assert.equal(seen.ours.innerClear + seen.guest.innerClear, 0, 'no inner packet in the clear');
      await traffic(t, OURS_INNER, GUEST_INNER, 6201, lap);
      await checkSas(t, p, b, BYTES, false);
    } finally {
      await peer.exec('[ -f /run/tk-socat.pid ] && kill $(cat /run/tk-socat.pid); rm -f /run/tk-socat.pid; true');
      await flushXfrm(peer, ours);
    }
  });

  it('GRE key 5 over ESP transport mode (AES-GCM-128)', { timeout: 150_000 }, async (t: TestContext) => {
    const p = saPair(0x3100, gcm(16), 'transport');
    const [o, g] = ['192.0.2.1', '192.0.2.2'];
    const lap = (what: string, ms: number): void => t.diagnostic(`${what} ${(ms / 1000).toFixed(2)} s`);
    try {
      await peer.sh([
        `ip link add gre1 type gre local ${GUEST_OUTER} remote ${OURS_OUTER} key 5`,
        'ip link set gre1 gso_max_segs 1',
        'echo 1 > /proc/sys/net/ipv6/conf/gre1/disable_ipv6',
        `ip addr add ${g}/30 dev gre1`, 'ip link set gre1 up',
      ].join('\n'));
      await ours.tunkit('link', 'add', 'gre1', 'type', 'gre', 'local', OURS_OUTER, 'remote', GUEST_OUTER, 'key', '5');
      await ours.sh('sysctl', '-qw', 'net.ipv6.conf.gre1.disable_ipv6=1');
      await ours.sh('ip', 'addr', 'add', `${o}/30`, 'dev', 'gre1');
      await ours.tunkit('link', 'set', 'gre1', 'up');
      const toGuest = `src ${OURS_OUTER}/32 dst ${GUEST_OUTER}/32 proto gre`;
      const toUs = `src ${GUEST_OUTER}/32 dst ${OURS_OUTER}/32 proto gre`;
      await applyXfrm(peer, ours,
        { sas: [p.o2g, p.g2o], pols: [policyWords(toUs, 'out', p.g2o), policyWords(toGuest, 'in', p.o2g)] },
        { sas: [p.o2g, p.g2o], pols: [policyWords(toGuest, 'out', p.o2g), policyWords(toUs, 'in', p.g2o)] });
      const { g: gGre0, o: oGre0 } = await quiet(peer, ours, 'gre1', 'gre1');
      const b = await baseline(peer, ours);
      const cap = await captureStart(ours, peer.tap, `/tmp/tk-interop-${peer.name}-gre.pcap`);
      const gp = await guestPing(peer, g, o);
      assert.equal(gp.received, 3, `guest ping over GRE/ESP:\n${gp.out}`);
      const op = await oursPing(ours, o, g);
      assert.equal(op.received, 3, `our ping over GRE/ESP:\n${op.out}`);
      const seen = census(await captureStop(cap));
      t.diagnostic(`capture (pings): ours ${JSON.stringify(seen.ours)}, guest ${JSON.stringify(seen.guest)}`);
      assert.ok(seen.ours.esp >= 6 && seen.guest.esp >= 6, 'ESP both ways');
      assert.equal(seen.ours.gre + seen.guest.gre, 0, 'no GRE in the clear');
      assert.equal(seen.ours.innerClear + seen.guest.innerClear + seen.ours.other + seen.guest.other, 0, 'nothing else between the ends');
      await traffic(t, o, g, 6301, lap);
      const s = await settle(peer, ours, 'gre1', 'gre1', gGre0, oGre0, mirrored);
      t.diagnostic(`gre1 Δ ours ${fmtStats(s.o)}; guest ${fmtStats(s.g)}`);
      assert.ok(mirrored(s.o, s.g), `gre1 tx/rx packets mirrored: ours ${fmtStats(s.o)} guest ${fmtStats(s.g)}`);
      assert.ok(s.o.tx['bytes']! >= BYTES && s.g.tx['bytes']! >= BYTES, 'both GRE devices counted the transfers');
      await checkSas(t, p, b, BYTES, false);
    } finally {
      await flushXfrm(peer, ours);
      await peer.exec('ip link del gre1 2>/dev/null; true');
      await ours.tunkitRc('link', 'del', 'gre1');
    }
  });
});
