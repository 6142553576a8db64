// tunkit ⇄ Linux 6.1 kernel, one tunnel type per case, all on one kernel-peer
// guest: the guest's tunnel is made with `ip link add … type …`, ours with
// the mirror config via `tunkit link add …`. Per case:
//   - ping both ways (guest: busybox ping -I its inner address; ours: iputils);
//   - a TCP transfer each way, content verified by sha256 end to end;
//   - `ip -s -s -j link show DEV` on the guest vs `tunkit -j -s -s link show
//     DEV`: our tx_packets == guest rx_packets and vice versa (before/after
//     deltas), bytes too (gretap: the kernel counts rx with the 14-byte
//     Ethernet header and tx without it, ip_tunnel_rcv vs iptunnel_xmit), and
//     no error counter moved on either end.
// The guest's TSO/GSO (gso_max_segs 1 on its tunnel) and GRO (gro_max_size 0
// on eth0) are off, so the kernel counts one packet per wire packet as we do.
// Case gre key+seq+csum also captures the tap and checks both ends' GRE
// headers (C|K|S, checksum, key, consecutive sequence numbers).
//
// Needs root and the kernel peer (test/kernel-peer, see harness.ts); fails,
// never skips, without them.

import { after, before, describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { GrePacket, GRE_CSUM, GRE_KEY, GRE_SEQ } from '../../src/wire/gre.js';
import { Ip4Packet } from '../../src/wire/ip4.js';
import { isPcapError, readPcap } from '../../src/wire/pcap.js';
import { IPPROTO_GRE } from '../../src/wire/ipproto.js';
import { formatIp4 } from '../../src/wire/addr.js';
import {
  cleanupAll, fmtStats, GUEST_OUTER, TSO_SEG_HDR4, TSO_SEG_HDR6, guestPing, guestRandomFile, LinuxPeer, mirrored, Ours, OURS_OUTER, oursPing, quiet,
  readBytes, requirePrereqs, settle, sleep, xferGuestToUs, xferUsToGuest,
} from './harness.js';
import type { Stats } from './harness.js';

const MiB = 1024 * 1024;
/** Transfer size per direction (10 MiB each way for every case fits the time budget easily). */
const BYTES = 10 * MiB;

interface Case {
  readonly name: string;
  readonly kind: 'ipip' | 'gre' | 'gretap' | 'sit';
  readonly dev: string;
  /** Arguments after `type KIND local … remote …` on each end. */
  readonly ours: string;
  readonly guest: string;
  /** Inner addresses [ours, guest]: IPv4 /30 from 192.0.2.0/24, IPv6 /64 from 2001:db8::/32. */
  readonly v4?: readonly [string, string];
  readonly v6?: readonly [string, string];
  readonly port: number;
  readonly capture?: boolean;
}

const CASES: readonly Case[] = [
  { name: 'ipip', kind: 'ipip', dev: 'ipip1', ours: '', guest: '', v4: ['192.0.2.1', '192.0.2.2'], port: 5101 },
  { name: 'gre plain', kind: 'gre', dev: 'gre1', ours: '', guest: '', v4: ['192.0.2.5', '192.0.2.6'], port: 5103 },
  { name: 'gre key 5', kind: 'gre', dev: 'grek1', ours: 'key 5', guest: 'key 5', v4: ['192.0.2.9', '192.0.2.10'], port: 5105 },
  { name: 'gre iseq oseq', kind: 'gre', dev: 'gres1', ours: 'iseq oseq', guest: 'iseq oseq', v4: ['192.0.2.13', '192.0.2.14'], port: 5107 },
  { name: 'gre icsum ocsum', kind: 'gre', dev: 'grec1', ours: 'icsum ocsum', guest: 'icsum ocsum', v4: ['192.0.2.17', '192.0.2.18'], port: 5109 },
  {
    name: 'gre key+seq+csum (ikey/okey iseq oseq icsum ocsum)', kind: 'gre', dev: 'grekcs1',
    ours: 'ikey 1001 okey 2002 iseq oseq icsum ocsum', guest: 'ikey 2002 okey 1001 iseq oseq icsum ocsum',
    v4: ['192.0.2.21', '192.0.2.22'], port: 5111, capture: true,
  },
  { name: 'gre carrying IPv6', kind: 'gre', dev: 'gre6i1', ours: '', guest: '', v6: ['2001:db8:7::1', '2001:db8:7::2'], port: 5113 },
  { name: 'gretap', kind: 'gretap', dev: 'gtap1', ours: '', guest: '', v4: ['192.0.2.25', '192.0.2.26'], port: 5115 },
  { name: 'sit (6in4)', kind: 'sit', dev: 'sit1', ours: '', guest: '', v6: ['2001:db8:9::1', '2001:db8:9::2'], port: 5117 },
];

const words = (s: string): string[] => s.split(' ').filter((w) => w !== '');

async function configure(peer: LinuxPeer, ours: Ours, c: Case): Promise<void> {
  await peer.sh([
    `ip link add ${c.dev} type ${c.kind} local ${GUEST_OUTER} remote ${OURS_OUTER} ${c.guest}`,
    `ip link set ${c.dev} gso_max_segs 1`,
    // IPv4-only cases: no IPv6 link-local/MLD chatter on the tunnel.
    c.v6 === undefined ? `echo 1 > /proc/sys/net/ipv6/conf/${c.dev}/disable_ipv6` : '',
    c.v4 !== undefined ? `ip addr add ${c.v4[1]}/30 dev ${c.dev}` : '',
    c.v6 !== undefined ? `ip -6 addr add ${c.v6[1]}/64 dev ${c.dev} nodad` : '',
    `ip link set ${c.dev} up`,
  ].filter((l) => l !== '').join('\n'));
  await ours.tunkit('link', 'add', c.dev, 'type', c.kind, 'local', OURS_OUTER, 'remote', GUEST_OUTER, ...words(c.ours));
  if (c.v6 === undefined && c.kind !== 'ipip') await ours.sh('sysctl', '-qw', `net.ipv6.conf.${c.dev}.disable_ipv6=1`);
  if (c.v4 !== undefined) await ours.sh('ip', 'addr', 'add', `${c.v4[0]}/30`, 'dev', c.dev);
  if (c.v6 !== undefined) await ours.sh('ip', '-6', 'addr', 'add', `${c.v6[0]}/64`, 'dev', c.dev, 'nodad');
  await ours.tunkit('link', 'set', c.dev, 'up');
}

async function unconfigure(peer: LinuxPeer, ours: Ours, c: Case): Promise<void> {
  await peer.exec(`ip link del ${c.dev} 2>/dev/null; true`);
  await ours.tunkitRc('link', 'del', c.dev);
}

// ---------------------------------------------------------------- capture

interface Capture { readonly proc: ChildProcess; readonly file: string; readonly exited: Promise<void> }

async function startCapture(ours: Ours, tap: string, file: string): Promise<Capture> {
  rmSync(file, { force: true });
  const proc = ours.spawn('tcpdump', ['-i', tap, '-nn', '-U', '--immediate-mode', '-s', '0', '-w', file, 'ip proto 47']);
  let err = '';
  proc.stderr?.on('data', (d: Buffer) => { err += d.toString(); });
  const exited = new Promise<void>((resolve) => proc.on('exit', () => resolve()));
  for (let i = 0; i < 200 && !err.includes('listening on'); i++) await sleep(25);
  if (!err.includes('listening on')) throw new Error(`tcpdump did not start: ${err}`);
  return { proc, file, exited };
}

async function stopCapture(c: Capture): Promise<Uint8Array> {
  await sleep(300);
  c.proc.kill('SIGINT');
  await c.exited;
  return readBytes(c.file);
}

interface GreSeen { count: number; keys: Set<number>; seqs: number[]; badCsum: number; flags: Set<number>; df: Set<boolean>; ttlInherit: number }

/** Decodes every IPv4/GRE packet of a pcap with the wire codecs, per outer source address. */
function analyseGre(pcap: Uint8Array): Map<string, GreSeen> {
  const f = readPcap(pcap);
  if (isPcapError(f)) throw new Error(`pcap: ${f.error} at ${f.offset}`);
  const ip = new Ip4Packet();
  const inner = new Ip4Packet();
  const gre = new GrePacket();
  const out = new Map<string, GreSeen>();
  for (const rec of f.records) {
    const b = rec.data;
    if (b.length < 14 || b[12] !== 0x08 || b[13] !== 0x00) continue;
    if (!ip.wrap(b, 14, b.length - 14) || ip.protocol !== IPPROTO_GRE) continue;
    assert.ok(ip.verifyChecksum(), 'outer IPv4 header checksum');
    const src = formatIp4(ip.src);
    const s = out.get(src) ?? { count: 0, keys: new Set(), seqs: [], badCsum: 0, flags: new Set(), df: new Set(), ttlInherit: 0 };
    out.set(src, s);
    assert.ok(gre.wrap(b, ip.payloadOffset, ip.payloadLen), 'GRE header parses');
    s.count++;
    s.flags.add(gre.flags);
    s.keys.add(gre.key);
    s.seqs.push(gre.seq);
    if (!gre.verifyChecksum()) s.badCsum++;
    s.df.add(ip.df);
    if (gre.protocolType === 0x0800 && inner.wrap(b, gre.payloadOffset, gre.payloadLen) && inner.ttl === ip.ttl) s.ttlInherit++;
  }
  return out;
}

// ---------------------------------------------------------------- the suite

describe('interop with a Linux 6.1 kernel: tunnels', { timeout: 480_000 }, () => {
  let peer: LinuxPeer;
  let ours: Ours;
  let fileSum = '';
  const t0 = performance.now();

  before(async () => {
    requirePrereqs();
    const b0 = performance.now();
    peer = await LinuxPeer.boot('ta');
    ours = await Ours.start(peer.ns);
    // One wire packet per counted packet on the kernel side too (we do no GRO).
    await peer.sh('ip link set eth0 gro_max_size 0');
    fileSum = await guestRandomFile(peer, '/tmp/x', BYTES);
    process.stdout.write(`# guest ${peer.name} booted and ready in ${((performance.now() - b0) / 1000).toFixed(1)} s\n`);
  }, { timeout: 300_000 });

  after(() => {
    cleanupAll();
    process.stdout.write(`# tunnels suite wall time ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  });

  for (const c of CASES) {
    it(c.name, { timeout: 150_000 }, async (t: TestContext) => {
      const c0 = performance.now();
      const timings: string[] = [];
      const lap = (what: string, ms: number): void => { timings.push(`${what} ${(ms / 1000).toFixed(2)} s`); };
      try {
        await configure(peer, ours, c);
        await checkConfig(t, peer, ours, c);
        const { g: gBefore, o: oBefore } = await quiet(peer, ours, c.dev, c.dev);

        // ---- pings both ways (each family the case carries)
        const cap = c.capture === true ? await startCapture(ours, peer.tap, `/tmp/tk-interop-${peer.name}-${c.dev}.pcap`) : null;
        const p0 = performance.now();
        for (const pair of [c.v4, c.v6]) {
          if (pair === undefined) continue;
          const [o, g] = pair;
          const gp = await guestPing(peer, g, o);
          assert.equal(gp.received, 3, `guest ping ${g} → ${o}:\n${gp.out}`);
          const op = await oursPing(ours, o, g);
          assert.equal(op.received, 3, `our ping ${o} → ${g}:\n${op.out}`);
        }
        lap('pings', performance.now() - p0);

        if (c.kind === 'gretap') await checkL2(t, peer, ours, c);

        if (cap !== null) {
          checkCapture(t, await stopCapture(cap));
          rmSync(cap.file, { force: true }); // kept only when the check failed
        }

        // ---- TCP both ways, content verified
        const addr = c.v4 !== undefined ? c.v4 : c.v6!;
        const up = await xferGuestToUs(peer, ours, addr[0], c.port, '/tmp/x', fileSum);
        assert.equal(up.received, up.sent, `TCP guest → us ${addr[0]}:${c.port}: received "<bytes> <sha256>" differs from what the guest sent`);
        lap(`TCP guest→us ${BYTES / MiB} MiB`, up.ms);
        const down = await xferUsToGuest(peer, ours, addr[1], c.port + 1, BYTES);
        assert.equal(down.received, down.sent, `TCP us → guest ${addr[1]}:${c.port + 1}: the guest's sha256 differs from ours`);
        lap(`TCP us→guest ${BYTES / MiB} MiB`, down.ms);

        // ---- counters: what one end sent, the other received
        const s = await settle(peer, ours, c.dev, c.dev, gBefore, oBefore, mirrored);
        t.diagnostic(`delta ours  ${fmtStats(s.o)}`);
        t.diagnostic(`delta guest ${fmtStats(s.g)}`);
        t.diagnostic(`guest # ip -s -s link show ${c.dev}\n${(await peer.sh(`ip -s -s link show ${c.dev}`)).trimEnd()}`);
        t.diagnostic(`ours # tunkit -s -s link show ${c.dev}\n${(await ours.tunkit('-s', '-s', 'link', 'show', c.dev)).trimEnd()}`);
        checkCounters(c, s.o, s.g, s.oAbs, s.gAbs);
      } finally {
        await unconfigure(peer, ours, c);
        lap('case', performance.now() - c0);
        t.diagnostic(`timings: ${timings.join(', ')}`);
      }
    });
  }
});

interface LinkJson { mtu: number; flags: string[]; linkinfo: { info_kind: string; info_data: Record<string, unknown> } }

/**
 * `ip -d -j link show` on the guest vs `tunkit -d -j link show` on ours: the
 * same MTU (derived from the same underlay), flags and tunnel parameters, with
 * local/remote and the i/o halves of key/seq/csum mirrored. sit's 6rd prefix
 * (2002::/16, the kernel's default; tunkit reports it too, 6rd itself is not
 * implemented) is compared like the rest.
 */
async function checkConfig(t: TestContext, peer: LinuxPeer, ours: Ours, c: Case): Promise<void> {
  const gi = (JSON.parse(await peer.sh(`ip -d -j link show ${c.dev}`)) as LinkJson[])[0]!;
  const oi = (JSON.parse(await ours.tunkit('-d', '-j', 'link', 'show', c.dev)) as LinkJson[])[0]!;
  const swap: Record<string, string> = { local: 'remote', remote: 'local', ikey: 'okey', okey: 'ikey', iseq: 'oseq', oseq: 'iseq', icsum: 'ocsum', ocsum: 'icsum' };
  const mirrored = Object.fromEntries(Object.entries(oi.linkinfo.info_data).map(([k, v]) => [swap[k] ?? k, v]));
  const kernel = { ...gi.linkinfo.info_data };
  if (c.kind === 'sit') t.diagnostic(`sit 6rd attributes: kernel ${JSON.stringify({ prefix: kernel['prefix'], prefixlen: kernel['prefixlen'] })}`);
  assert.equal(oi.mtu, gi.mtu, 'device MTU as the kernel derives it');
  assert.deepEqual(oi.flags, gi.flags, 'device flags');
  assert.equal(oi.linkinfo.info_kind, gi.linkinfo.info_kind);
  assert.deepEqual(sortKeys(mirrored), sortKeys(kernel), 'tunnel parameters, mirrored');
}

const sortKeys = (o: Record<string, unknown>): Record<string, unknown> => Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));

function checkCounters(c: Case, o: Stats, g: Stats, oAbs: Stats, gAbs: Stats): void {
  const ctx = `\nours  Δ ${fmtStats(o)}\nguest Δ ${fmtStats(g)}`;
  // TUN offload (on by default) on ipip, sit and gre without oseq: our device
  // counts a TSO super-packet once, as the kernel's own does
  // (iptunnel_xmit_stats on the GSO skb); the guest counts each segment, and
  // each extra segment carries one more copy of the inner IP+TCP headers.
  const gsoOnce = c.kind === 'ipip' || c.kind === 'sit' || (c.kind === 'gre' && !/\b(o?seq)\b/.test(c.ours));
  const extra = g.rx['packets']! - o.tx['packets']!;
  const segHdr = c.v4 !== undefined ? TSO_SEG_HDR4 : TSO_SEG_HDR6;
  if (!gsoOnce || extra === 0) assert.equal(o.tx['packets'], g.rx['packets'], `our tx_packets vs guest rx_packets${ctx}`);
  else assert.ok(extra > 0, `guest rx_packets ≥ our tx_packets (TSO)${ctx}`);
  assert.equal(o.rx['packets'], g.tx['packets'], `our rx_packets vs guest tx_packets${ctx}`);
  assert.ok(o.tx['bytes']! >= BYTES && g.tx['bytes']! >= BYTES, `both ends counted the ${BYTES}-byte transfers${ctx}`);
  // gretap: ip_tunnel_rcv counts the frame with its Ethernet header, iptunnel_xmit from the inner network header.
  const eth = c.kind === 'gretap' ? 14 : 0;
  assert.equal(g.rx['bytes'], o.tx['bytes']! + eth * o.tx['packets']! + extra * segHdr, `guest rx_bytes vs our tx_bytes (+ ${segHdr} B per extra TSO segment)${ctx}`);
  assert.equal(o.rx['bytes'], g.tx['bytes']! + eth * g.tx['packets']!, `our rx_bytes vs guest tx_bytes${ctx}`);
  for (const [who, s] of [['guest', gAbs], ['ours', oAbs]] as const) {
    for (const k of ['errors', 'dropped', 'crc_errors', 'fifo_errors', 'length_errors', 'frame_errors', 'over_errors', 'missed_errors']) {
      assert.equal(s.rx[k] ?? 0, 0, `${who} ${c.dev} rx ${k} must stay 0: ${fmtStats(s)}`);
    }
    for (const k of ['errors', 'dropped', 'carrier_errors', 'collisions', 'fifo_errors']) {
      assert.equal(s.tx[k] ?? 0, 0, `${who} ${c.dev} tx ${k} must stay 0: ${fmtStats(s)}`);
    }
  }
  assert.deepEqual(Object.entries(oAbs.drops).filter(([, n]) => n > 0), [], 'no tunkit drop reason counted');
}

/** gretap: ARP resolved both ways, an L2 (ARP) ping answered, neighbour entries carry the right MACs. */
async function checkL2(t: TestContext, peer: LinuxPeer, ours: Ours, c: Case): Promise<void> {
  const [o, g] = c.v4!;
  const ourMac = (JSON.parse(await ours.tunkit('-j', 'link', 'show', c.dev)) as { address: string }[])[0]!.address;
  const guestMac = (JSON.parse(await peer.sh(`ip -j link show ${c.dev}`)) as { address: string }[])[0]!.address;
  const arping = await peer.exec(`arping -c 2 -w 4 -I ${c.dev} ${o}`);
  assert.match(arping.out, /Received [12] response/, `guest arping ${o} over ${c.dev}:\n${arping.out}`);
  const neigh = JSON.parse(await peer.sh(`ip -j neigh show dev ${c.dev}`)) as { dst: string; lladdr?: string; state?: string[] }[];
  const mine = neigh.find((n) => n.dst === o);
  t.diagnostic(`guest ip neigh dev ${c.dev}: ${JSON.stringify(neigh)}`);
  assert.equal(mine?.lladdr, ourMac, `guest's neighbour entry for ${o} has our TAP MAC ${ourMac}`);
  const ourNeigh = JSON.parse(await ours.sh('ip', '-j', 'neigh', 'show', 'dev', c.dev)) as { dst: string; lladdr?: string }[];
  assert.equal(ourNeigh.find((n) => n.dst === g)?.lladdr, guestMac, `our neighbour entry for ${g} has the guest's MAC ${guestMac}`);
}

/** The tap capture of the pings: both ends' GRE headers as configured, checksums valid, sequence numbers consecutive. */
function checkCapture(t: TestContext, pcap: Uint8Array): void {
  const seen = analyseGre(pcap);
  const us = seen.get(OURS_OUTER);
  const them = seen.get(GUEST_OUTER);
  assert.ok(us !== undefined && them !== undefined, `GRE from both ends captured: ${[...seen.keys()].join(', ')}`);
  const render = (s: GreSeen): string => `${s.count} pkts, flags ${[...s.flags].map((f) => f.toString(16)).join('/')}, keys ${[...s.keys].join('/')}, `
    + `seqs ${s.seqs.slice(0, 4).join(',')}…, bad csum ${s.badCsum}, DF ${[...s.df].join('/')}, ttl=inner ${s.ttlInherit}`;
  t.diagnostic(`capture ours : ${render(us)}`);
  t.diagnostic(`capture guest: ${render(them)}`);
  for (const [who, s, key] of [['ours', us, 2002], ['guest', them, 1001]] as const) {
    assert.ok(s.count >= 6, `${who}: ≥ 6 GRE packets (3 requests + 3 replies)`);
    assert.deepEqual([...s.flags], [GRE_CSUM | GRE_KEY | GRE_SEQ], `${who}: every packet is GRE C|K|S, version 0`);
    assert.deepEqual([...s.keys], [key], `${who}: okey ${key}`);
    assert.equal(s.badCsum, 0, `${who}: every GRE checksum verifies`);
    for (let i = 1; i < s.seqs.length; i++) assert.equal(s.seqs[i], (s.seqs[i - 1]! + 1) >>> 0, `${who}: consecutive sequence numbers`);
  }
  // Outer header rules the same on both ends (pmtudisc default → DF; ttl inherit → inner TTL).
  assert.deepEqual([...us.df], [...them.df], 'outer DF as the kernel sets it');
  assert.equal(us.ttlInherit === us.count, them.ttlInherit === them.count, 'outer TTL inherit rule as the kernel applies it');
  assert.equal(us.seqs[0], 0, 'our first sequence number on a fresh tunnel is 0 (as the kernel)');
}
