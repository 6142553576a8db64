// A flood of hostile packets at a running tunkitd while pings run through
// its tunnels (netns, root; pair.ts):
//
//   left  tunkitd 198.51.100.1  ── veth ──  198.51.100.2  right tunkitd + flood-sender.ts
//     gre1  (gre key 1 csum) 192.0.2.1  ↔ 192.0.2.2         ping -i 0.01
//     ipip1 (ipip)           192.0.2.5  ↔ 192.0.2.6
//     ESP tunnel mode        203.0.113.1  ↔ 203.0.113.2      ping -i 0.01 (SPIs 0x1001 / 0x2002)
//     ESP-in-UDP (4500)      203.0.113.11 ↔ 203.0.113.12     ping -i 0.01 (SPIs 0x1011 / 0x2012)
//
// FLOOD_PACKETS (default 50,000 here; `npm run stress` sends 1,000,000)
// malformed and random GRE, IPIP, ESP and ESP-in-UDP packets go at the left
// daemon's underlay address, then as many well-formed ones (delivered by
// the daemon: GRE/IPIP echo replies, ESP sealed with the flood's own SAs
// 0x3003 / 0x3013). For each flood:
//   - the daemon lives and its control socket answers;
//   - every packet is accounted for, exactly: what tunkit counted under a
//     name (per-device rx_packets and tunkit drops, `tunkit stats` —
//     unmatched drops and NAT-T keepalives/IKE —, `tunkit xfrm stat`'s
//     XfrmIn* counters, the inbound SAs' curlft packets) plus what the
//     left kernel dropped before tunkit could read it (the receive queue of
//     tunkit's raw and UDP sockets was full: the `drops` column of
//     /proc/net/raw and /proc/net/udp for those sockets) equals what the
//     sender sent plus the legitimate packets the right daemon sent (its
//     gre1/ipip1 tx_packets and outbound SAs' curlft packets). The
//     sender's UDP headers are well-formed (only their payload is hostile)
//     so no flood packet dies in the kernel's UDP layer uncounted, and the
//     random inner packets the tunnels deliver never claim UDP;
//   - the pings lose no more under the bad flood than under the good one.
//     Tolerance: three standard errors of the difference of two loss
//     proportions (pooled), plus one in-flight echo per ping cut by the
//     SIGINT that ends it, so noise on a shared 2-vCPU VM does not fail it
//     but a daemon that chokes on bad input does.
// A JSON line per flood goes to TUNKIT_STRESS_OUT for scripts/stress.mjs.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { REPO_ROOT } from '../util/paths.js';
import { sleep, step, waitOutput, withPair } from '../netns/pair.js';
import type { Pair, SideName } from '../netns/pair.js';
import { FLOOD_KEY } from './flood-sender.js';

const SENDER = join(REPO_ROOT, 'dist', 'test', 'reliability', 'flood-sender.js');
const KEY = { lr: '0x0a0b0c0d0e0f101112131415161718191a1b1c1d', rl: '0x1d1c1b1a191817161514131211100f0e0d0c0b0a' } as const;
const OUT = { left: '198.51.100.1', right: '198.51.100.2' } as const;

function floodPackets(): number {
  const n = Number(process.env['FLOOD_PACKETS']);
  return Number.isSafeInteger(n) && n > 0 ? n : 50_000;
}

function configure(p: Pair): void {
  p.shOk('right', `ip addr add 198.51.100.9/24 dev ${p.right.veth}`); // the flood's "stranger" source
  p.tunnel('gre1', 'type gre key 1 csum', [OUT.left, OUT.right], ['192.0.2.1/30', '192.0.2.2/30']);
  p.tunnel('ipip1', 'type ipip', [OUT.left, OUT.right], ['192.0.2.5/30', '192.0.2.6/30']);
  const gcm = (k: string): string => `aead rfc4106(gcm(aes)) ${k} 128`;
  for (const s of ['left', 'right'] as const) {
    const o = s === 'left' ? 'right' : 'left';
    const me = s === 'left' ? 0 : 1;
    for (const [inner, spi, encap] of [[['203.0.113.1', '203.0.113.2'], 0x1001, ''], [['203.0.113.11', '203.0.113.12'], 0x1011, ' encap espinudp 4500 4500 0.0.0.0']] as const) {
      p.shOk(s, `ip addr add ${inner[me]!}/32 dev lo`);
      p.tunkitOk(s, `xfrm state add src ${OUT.left} dst ${OUT.right} proto esp spi ${spi} reqid ${spi} mode tunnel replay-window 32 ${gcm(KEY.lr)}${encap}`);
      p.tunkitOk(s, `xfrm state add src ${OUT.right} dst ${OUT.left} proto esp spi ${spi + 0x1001} reqid ${spi} mode tunnel replay-window 32 ${gcm(KEY.rl)}${encap}`);
      p.tunkitOk(s, `xfrm policy add src ${inner[me]!}/32 dst ${inner[1 - me]!}/32 dir out tmpl src ${OUT[s]} dst ${OUT[o]} proto esp reqid ${spi} mode tunnel`);
      p.tunkitOk(s, `xfrm policy add src ${inner[1 - me]!}/32 dst ${inner[me]!}/32 dir in tmpl src ${OUT[o]} dst ${OUT[s]} proto esp reqid ${spi} mode tunnel`);
    }
  }
  // The good flood's own inbound SAs on the left (same reqid, so the in policies accept what they decrypt).
  p.tunkitOk('left', `xfrm state add src ${OUT.right} dst ${OUT.left} proto esp spi 0x3003 reqid 4097 mode tunnel replay-window 32 ${gcm(FLOOD_KEY)}`);
  p.tunkitOk('left', `xfrm state add src ${OUT.right} dst ${OUT.left} proto esp spi 0x3013 reqid 4113 mode tunnel replay-window 32 ${gcm(FLOOD_KEY)} encap espinudp 4500 4500 0.0.0.0`);
}

const PINGS: readonly (readonly [string, string | null])[] = [['192.0.2.2', null], ['203.0.113.2', '203.0.113.1'], ['203.0.113.12', '203.0.113.11']];

/** Counters: name → value (one flat namespace so deltas are one subtraction). */
type Counts = Map<string, number>;

const json = <T>(p: Pair, s: SideName, args: string): T => JSON.parse(p.tunkitOk(s, args)) as T;

/** The `drops` column of this namespace's sockets whose local port (raw: the protocol) is in `ports`. */
function socketDrops(p: Pair, file: 'raw' | 'udp', ports: readonly number[]): number {
  const text = p.shOk('left', `cat /proc/net/${file}`);
  let n = 0;
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    const port = parseInt(f[1]?.split(':')[1] ?? '', 16);
    if (ports.includes(port)) n += Number(f[f.length - 1] ?? 0);
  }
  return n;
}

/** Everything the left daemon counted that a received packet can land in, plus the kernel's socket drops. */
function leftCounts(p: Pair): Counts {
  const c: Counts = new Map();
  const add = (k: string, v: number): void => { if (v !== 0) c.set(k, (c.get(k) ?? 0) + v); };
  for (const d of json<{ ifname: string; stats64: { rx: Record<string, number> }; tunkit_drops: Record<string, number> }[]>(p, 'left', '-j -s -s link show')) {
    add(`delivered:${d.ifname}`, d.stats64.rx['packets'] ?? 0);
    // Two device reasons repeat a count made elsewhere, as the kernel's counters do: NoTunnel on a
    // fallback device is the stack's own NoTunnel (TunnelStack.unmatched), and UnsupportedPayload
    // is a packet ip_tunnel_rcv already counted in rx_packets before __netif_receive_skb dropped it.
    for (const [k, v] of Object.entries(d.tunkit_drops)) if (k !== 'NoTunnel' && k !== 'UnsupportedPayload') add(`${d.ifname}:${k}`, v);
  }
  const st = json<{ unmatched_drops: Record<string, number>; nat_t: { keepalives: number; ike: number } }>(p, 'left', '-j stats');
  for (const [k, v] of Object.entries(st.unmatched_drops)) add(`stack:${k}`, v);
  add('nat-t:keepalive', st.nat_t.keepalives);
  add('nat-t:ike', st.nat_t.ike);
  for (const [k, v] of Object.entries(json<Record<string, number>>(p, 'left', '-j xfrm stat'))) if (k.startsWith('XfrmIn')) add(k, v);
  for (const x of json<{ spi: number; dst: string; curlft: { packets: number } }[]>(p, 'left', '-j xfrm state list')) {
    if (x.dst === OUT.left) add(`delivered:spi-0x${x.spi.toString(16)}`, x.curlft.packets);
  }
  add('kernel:raw-rcvbuf', socketDrops(p, 'raw', [4, 41, 47, 50]));
  add('kernel:udp-rcvbuf', socketDrops(p, 'udp', [4500]));
  return c;
}

/** What the right daemon sent the left legitimately (pings, IPv6 chatter): its tunnels' and outbound SAs' packets. */
function rightSent(p: Pair): number {
  let n = 0;
  for (const d of json<{ ifname: string; stats64: { tx: Record<string, number> } }[]>(p, 'right', '-j -s link show')) {
    if (d.ifname === 'gre1' || d.ifname === 'ipip1') n += d.stats64.tx['packets'] ?? 0;
  }
  for (const x of json<{ dst: string; curlft: { packets: number } }[]>(p, 'right', '-j xfrm state list')) if (x.dst === OUT.left) n += x.curlft.packets;
  return n;
}

const total = (c: Counts): number => [...c.values()].reduce((a, b) => a + b, 0);
function delta(a: Counts, b: Counts): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of new Set([...a.keys(), ...b.keys()])) {
    const d = (b.get(k) ?? 0) - (a.get(k) ?? 0);
    if (d !== 0) out[k] = d;
  }
  return out;
}

function rssMb(p: Pair): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p.left.daemon.pid ?? 0}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) / 1024;
}

interface FloodResult {
  readonly kind: 'bad' | 'good';
  readonly sent: number;
  readonly ms: number;
  readonly outcomes: Record<string, number>;
  readonly accounted: number;
  readonly legit: number;
  readonly pings: number;
  readonly lost: number;
}

/** Runs one flood with the pings going; waits for the counters to settle. */
async function flood(p: Pair, kind: 'bad' | 'good', n: number, seed: number): Promise<FloodResult> {
  const c0 = leftCounts(p);
  const l0 = rightSent(p);
  const only = process.env['FLOOD_ONLY'] !== undefined ? [process.env['FLOOD_ONLY']] : []; // debugging: one kind of packet
  const sender = spawn('ip', ['netns', 'exec', p.right.ns.name, process.execPath, SENDER, kind, String(n), String(seed), ...only], { stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  sender.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  const pings = PINGS.map(([dst, src]) => spawn('ip', ['netns', 'exec', p.left.ns.name, 'ping', '-n', '-i', '0.01', '-W', '1', ...(src !== null ? ['-I', src] : []), dst], { stdio: ['ignore', 'pipe', 'pipe'] }));
  const pingOut = pings.map((c) => {
    let s = '';
    c.stdout.on('data', (d: Buffer) => { s += d.toString(); });
    return new Promise<string>((res) => c.on('close', () => res(s)));
  });
  try {
    await waitOutput(sender, /built\n/, 600_000, `flood-sender ${kind} ${err}`);
    await sleep(300);
    const done = waitOutput(sender, /"sent"/, 1_800_000, `flood-sender ${kind} ${err}`);
    sender.stdin.end('go\n');
    const line = (await done).split('\n').find((l) => l.includes('"sent"'))!;
    const r = JSON.parse(line) as { sent: number; ms: number };
    await sleep(300);
    for (const c of pings) c.kill('SIGINT');
    let pinged = 0;
    let lost = 0;
    for (const s of await Promise.all(pingOut)) {
      const m = /(\d+) packets transmitted, (\d+) received/.exec(s);
      assert.ok(m !== null, `ping summary: ${s.slice(-300)}`);
      pinged += Number(m[1]);
      lost += Number(m[1]) - Number(m[2]);
    }
    // Settle: the daemon drains its sockets; read until two reads 300 ms apart agree.
    let c1 = leftCounts(p);
    for (let i = 0; i < 60; i++) {
      await sleep(300);
      const again = leftCounts(p);
      if (total(again) === total(c1)) break;
      c1 = again;
    }
    const legit = rightSent(p) - l0;
    return { kind, sent: r.sent, ms: r.ms, outcomes: delta(c0, c1), accounted: total(c1) - total(c0), legit, pings: pinged, lost };
  } finally {
    sender.kill('SIGKILL');
    for (const c of pings) c.kill('SIGKILL');
  }
}

function report(t: TestContext, f: FloodResult, rss: readonly [number, number]): void {
  const lossPct = (100 * f.lost) / Math.max(1, f.pings);
  const top = Object.entries(f.outcomes).sort((a, b) => b[1] - a[1]);
  t.diagnostic(`flood/${f.kind}: ${f.sent} packets in ${(f.ms / 1000).toFixed(2)} s (${Math.round((f.sent * 1000) / f.ms)}/s); accounted ${f.accounted} = sent ${f.sent} + legit ${f.legit}; pings lost ${f.lost}/${f.pings} (${lossPct.toFixed(2)} %); RSS ${rss[0].toFixed(1)} → ${rss[1].toFixed(1)} MB; ${top.map(([k, v]) => `${k} ${v}`).join(', ')}`);
  const out = process.env['TUNKIT_STRESS_OUT'];
  if (out !== undefined && out !== '') {
    appendFileSync(out, `${JSON.stringify({
      kind: 'flood', target: `flood/${f.kind}`, runs: f.sent, ms: f.ms, perSec: (f.sent * 1000) / f.ms, slowestMs: 0,
      outcomes: f.outcomes, pings: f.pings, lost: f.lost, lossPct, rssBeforeMb: rss[0], rssAfterMb: rss[1],
    })}\n`);
  }
}

/** Pooled two-proportion test: bad may exceed good by 3 standard errors plus one cut echo per ping. */
function lossTolerance(bad: FloodResult, good: FloodResult): number {
  const pool = (bad.lost + good.lost) / Math.max(1, bad.pings + good.pings);
  const se = Math.sqrt(pool * (1 - pool) * (1 / Math.max(1, bad.pings) + 1 / Math.max(1, good.pings)));
  return 3 * se + PINGS.length / Math.max(1, bad.pings) + PINGS.length / Math.max(1, good.pings);
}

test('flood: malformed GRE/IPIP/ESP/ESP-in-UDP at tunkitd while pings run — it lives, counts every packet, and pings lose no more than under well-formed packets', { timeout: 3_600_000 }, async (t) => {
  const n = floodPackets();
  await withPair('tkfl', async (p) => {
    configure(p);
    for (const [dst, src] of PINGS) await p.pingOk('left', dst, { count: 2, ...(src !== null ? { iface: src } : {}) });
    const rss0 = rssMb(p);
    const results: FloodResult[] = [];
    for (const kind of ['bad', 'good'] as const) {
      await step(t, p, `${kind} flood of ${n} packets: the daemon lives, every packet is accounted for`, async () => {
        const f = await flood(p, kind, n, 0x5eed + results.length);
        const rss = [rss0, rssMb(p)] as const;
        report(t, f, rss);
        results.push(f);
        assert.ok(p.isAlive('left'), 'tunkitd lives');
        assert.match(p.tunkitOk('left', 'link show gre1'), /gre1/, 'its control socket answers');
        assert.equal(f.accounted, f.sent + f.legit, `every packet counted once under a name: ${JSON.stringify(f.outcomes)}`);
        assert.ok(rss[1] - rss[0] < 128, `RSS grew ${(rss[1] - rss[0]).toFixed(1)} MB`);
        if (kind === 'good') {
          const dl = (k: string): number => f.outcomes[k] ?? 0;
          assert.ok(dl('delivered:gre1') + dl('delivered:ipip1') + dl('delivered:spi-0x3003') + dl('delivered:spi-0x3013') > 0, 'the good flood is delivered');
        }
      });
    }
    await step(t, p, 'the pings lose no more under the bad flood than under the good one', async () => {
      const [bad, good] = results as [FloodResult, FloodResult];
      const lb = bad.lost / Math.max(1, bad.pings);
      const lg = good.lost / Math.max(1, good.pings);
      const tol = lossTolerance(bad, good);
      t.diagnostic(`loss bad ${(100 * lb).toFixed(2)} % (${bad.lost}/${bad.pings}), good ${(100 * lg).toFixed(2)} % (${good.lost}/${good.pings}), tolerance ${(100 * tol).toFixed(2)} points`);
      assert.ok(bad.pings > 0 && good.pings > 0, 'the pings ran');
      assert.ok(lb <= lg + tol, `bad-flood loss ${(100 * lb).toFixed(2)} % > good-flood loss ${(100 * lg).toFixed(2)} % + ${(100 * tol).toFixed(2)}`);
      for (const [dst, src] of PINGS) await p.pingOk('left', dst, { count: 2, ...(src !== null ? { iface: src } : {}) });
    });
  });
});
