// Scale benchmark (not a test): does per-packet cost stay flat as the
// tables grow? Stacks with 1, 1,000 and 10,000 objects:
//   tunnels   N gre tunnels (keyed: key i+1) on the receiver; the
//             measured one is the FIRST added (the last a newest-first scan
//             would reach). ip_tunnel_lookup alone, TunnelStack.receive of
//             its packet, tunnelXmit.
//   ipsec     a hub with N sites: per site an out and an in SA (tunnel mode
//             over IPv4 carrying IPv6, selector ::/0, AES-GCM-128, reqid
//             i+1, SPIs by i) and an out and an in policy (2001:db8:ffff::/48
//             <-> 2001:db8:HI:LO::/64: the in policies all share one daddr
//             prefix). The first site's packet: Spd.lookup out/in (one
//             steady flow: the flow memo answers; "miss": 1,024 distinct
//             flows in turn, more than the memo holds, so the index answers
//             each), Sad.findOut, Sad.lookupIn, XfrmStack.output of a
//             1400-byte IPv6 inner packet and XfrmStack.input of an ESP
//             packet (replay window 0 so the same packet is accepted again).
//             "linear" is the old scan (test/xfrm/ref-linear.ts) for comparison.
// Addresses (doc-addrs.ts): documentation ranges only. IPv4 documentation
// space (768 addresses) cannot give 10,000 distinct remotes or sites, so the
// tunnels' remotes and the sites' peers cycle through its 760 hosts — each
// tunnel keeps a distinct key, each site distinct SPIs and reqid, so the
// tunnel buckets (by remote and key) and the SAD hashes (byspi; daddr,
// saddr, reqid) still hold one object per key — and the sites' inner
// prefixes are IPv6 inside 2001:db8::/32. Until this change the remotes were
// distinct shared-space (RFC 6598) addresses and the selectors private IPv4
// /24s: the SPD tries now walk 64-bit site and 48-bit hub prefixes instead of
// 24 + 24 bits, so the spd and linear columns are not comparable with runs
// from before.
// Setup time per object (building the stack, one tunnel or one site = 2 SAs
// + 2 policies) and heap bytes per object (heapUsed delta after global.gc();
// run with --expose-gc, else heap is not reported). Prints tables and the
// per-packet ratio 10,000 vs 1; numbers only (a shared 2-CPU machine makes
// them indicative).
//
//   node --expose-gc dist/bench/scale.bench.js [packets]   (default 200 000)

import { performance } from 'node:perf_hooks';
import { makeTunnelParams } from '../src/tunnel/params.js';
import { PacketResult, Verdict } from '../src/tunnel/result.js';
import { TunnelStack } from '../src/tunnel/stack.js';
import type { Tunnel } from '../src/tunnel/tunnel.js';
import { tunnelXmit } from '../src/tunnel/xmit.js';
import { makeSaConfig } from '../src/xfrm/config.js';
import { XfrmResult, XVerdict } from '../src/xfrm/result.js';
import { Flow, parseXAddr } from '../src/xfrm/selector.js';
import type { StateSpec } from '../src/xfrm/spec.js';
import { XFRM_POLICY_IN, XFRM_POLICY_OUT } from '../src/xfrm/spd.js';
import { XfrmStack } from '../src/xfrm/xfrm.js';
import { refPolicyLookup } from '../test/xfrm/ref-linear.js';
import { a4, ip4, ip6 } from '../test/util/packets.js';
import { HUB, HUB_HOST, HUB_NET, LOCAL, peer, site, siteHost } from './doc-addrs.js';

const SIZES = [1, 1_000, 10_000] as const;
const HEAD = 256;
const GCM = { aead: { name: 'rfc4106(gcm(aes))', keyHex: '11'.repeat(20), bits: 128 } };
const gc = (globalThis as { gc?: () => void }).gc;

function heap(): number {
  if (gc === undefined) return NaN;
  gc(); gc();
  return process.memoryUsage().heapUsed;
}

/** ns per call of step: the best of 3 rounds of n/3 calls, after a warm-up (the machine is shared: the minimum is the least disturbed). */
function timed(n: number, step: () => void): number {
  for (let i = 0; i < Math.min(n, 20_000); i++) step();
  const m = Math.max(1, Math.floor(n / 3));
  let best = Infinity;
  for (let round = 0; round < 3; round++) {
    const t0 = performance.now();
    for (let i = 0; i < m; i++) step();
    best = Math.min(best, ((performance.now() - t0) * 1e6) / m);
  }
  return best;
}

interface Built<T> { value: T; setupUs: number; heapB: number }

function build<T>(count: number, make: () => T): Built<T> {
  const h0 = heap();
  const t0 = performance.now();
  const value = make();
  const setupUs = ((performance.now() - t0) * 1e3) / count;
  return { value, setupUs, heapB: (heap() - h0) / count };
}

/** N gre tunnels on the receiver, the first one from HUB; its outer packet. */
function tunnels(count: number, n: number): Record<string, number> {
  const b = build(count, () => {
    const s = new TunnelStack();
    for (let i = 0; i < count; i++) {
      const t = s.add(makeTunnelParams({ name: `g${i}`, kind: 'gre', local: LOCAL, remote: i === 0 ? HUB : peer(i), key: i + 1 }));
      t.isUp = true;
    }
    return s;
  });
  const rxStack = b.value;
  const tx = new TunnelStack().add(makeTunnelParams({ name: 'tx', kind: 'gre', local: HUB, remote: LOCAL, key: 1 }));
  tx.isUp = true;
  const inner = ip4({ src: '203.0.113.1', dst: '203.0.113.2', payloadLen: 1380 });
  const buf = new Uint8Array(HEAD + inner.length);
  buf.set(inner, HEAD);
  const r = new PacketResult();
  if (tunnelXmit(tx, buf, HEAD, inner.length, 0, r) !== Verdict.Xmit) throw new Error('xmit failed');
  const off = r.off;
  const len = r.len;
  const rr = new PacketResult();
  if (rxStack.receive(buf, off, len, 0, rr) !== Verdict.Deliver || rr.tunnel?.name !== 'g0') throw new Error('receive failed');
  const remote = a4(HUB) | 0;
  const local = a4(LOCAL) | 0;
  const hit: { t: Tunnel | null } = { t: null };
  const lookupNs = timed(n, () => { hit.t = rxStack.gre.lookup(0, true, false, 1, remote, local); });
  if (hit.t?.name !== 'g0') throw new Error('lookup failed');
  const rcvNs = timed(n, () => { rxStack.receive(buf, off, len, 0, rr); });
  const xmitNs = timed(n, () => { tunnelXmit(tx, buf, HEAD, inner.length, 0, r); });
  return { lookupNs, rcvNs, xmitNs, setupUs: b.setupUs, heapB: b.heapB };
}

/** An IPv4 tunnel-mode SA carrying IPv6 (selector ::/0, as `ip xfrm state add … sel src ::/0 dst ::/0`). */
const sa = (src: string, dst: string, spi: number, reqid: number, extra: Partial<StateSpec> = {}): StateSpec =>
  ({ src, dst, proto: 'esp', spi, mode: 'tunnel', reqid, replayWindow: 32, sel: { src: '::/0', dst: '::/0' }, ...GCM, ...extra });

/** One site's two SAs on the hub (or, mirrored, on the site for site 0); distinct SPIs and reqid per site, whatever its peer. */
function addSiteStates(x: XfrmStack, i: number, asHub: boolean): void {
  const [me, them] = asHub ? [HUB, peer(i)] : [peer(i), HUB];
  const outSpi = asHub ? 0x1000 + i : 0x80000000 + i;
  const inSpi = asHub ? 0x80000000 + i : 0x1000 + i;
  const outSa = sa(me, them, outSpi, i + 1);
  const inSa = sa(them, me, inSpi, i + 1, { replayWindow: 0 });
  x.sad.add(makeSaConfig(outSa, () => null), outSa, 0);
  x.sad.add(makeSaConfig(inSa, () => null), inSa, 0);
}

/** One site's out and in policies. */
function addSitePolicies(x: XfrmStack, i: number, asHub: boolean): void {
  const [me, them] = asHub ? [HUB, peer(i)] : [peer(i), HUB];
  const [mine, theirs] = asHub ? [HUB_NET, site(i)] : [site(i), HUB_NET];
  const tmpl = (src: string, dst: string) => ({ src, dst, proto: 'esp' as const, mode: 'tunnel' as const, reqid: i + 1 });
  x.spd.insert(x.spd.make({ sel: { src: mine, dst: theirs }, dir: 'out', tmpls: [tmpl(me, them)] }, () => null, 0, 0), false);
  x.spd.insert(x.spd.make({ sel: { src: theirs, dst: mine }, dir: 'in', tmpls: [tmpl(them, me)] }, () => null, 0, 0), false);
}

function flowOf(p: Uint8Array): Flow {
  const f = new Flow();
  if (!f.decode(p, 0, p.length, 0)) throw new Error('flow');
  return f;
}

/** `count` flows of IPv6 packet `p`'s addresses with the last bytes of both varied (one policy's selector still matches each). */
function manyFlows(p: Uint8Array, count: number): Flow[] {
  const out: Flow[] = [];
  for (let i = 0; i < count; i++) {
    const q = p.slice();
    q[23] = (q[23]! + (i >>> 8)) & 0xff; // source, bytes 8..23
    q[39] = i & 0xff; // destination, bytes 24..39
    out.push(flowOf(q));
  }
  return out;
}

function ipsec(count: number, n: number): Record<string, number> {
  const hub = new XfrmStack();
  const bs = build(2 * count, () => { for (let i = 0; i < count; i++) addSiteStates(hub, i, true); });
  const bp = build(2 * count, () => { for (let i = 0; i < count; i++) addSitePolicies(hub, i, true); });
  const site0 = new XfrmStack();
  addSiteStates(site0, 0, false);
  addSitePolicies(site0, 0, false);
  const outInner = ip6({ src: HUB_HOST, dst: siteHost(0), payloadLen: 1360 });
  const inInner = ip6({ src: siteHost(0), dst: HUB_HOST, payloadLen: 1360 });
  const fo = flowOf(outInner);
  const fi = flowOf(inInner);
  const out = hub.spd.lookup(XFRM_POLICY_OUT, fo, 0);
  if (out === null || hub.spd.lookup(XFRM_POLICY_IN, fi, 0) === null) throw new Error('no policy');
  const t = out.tmpls[0]!;
  // Peers repeat every PEER_COUNT sites: the template's reqid must still pick site 0's own out SA.
  if (hub.sad.findOut(t, fo, 0)?.cfg.spi !== 0x1000) throw new Error('findOut: not site 0\'s SA');
  const peerIp = parseXAddr('d', HUB).bytes;
  const sink = { p: 0 };
  const spdOut = timed(n, () => { if (hub.spd.lookup(XFRM_POLICY_OUT, fo, 0) !== null) sink.p++; });
  const spdIn = timed(n, () => { if (hub.spd.lookup(XFRM_POLICY_IN, fi, 0) !== null) sink.p++; });
  const many = manyFlows(outInner, 1024);
  let k = 0;
  const spdMiss = timed(n, () => { if (hub.spd.lookup(XFRM_POLICY_OUT, many[k++ & 1023]!, 0) !== null) sink.p++; });
  if (sink.p < 3 * n) throw new Error('a lookup found no policy');
  const linIn = timed(Math.max(30, Math.floor(n / count)), () => { if (refPolicyLookup(hub.spd.list('in'), fi, 0) !== null) sink.p++; });
  const find = timed(n, () => { if (hub.sad.findOut(t, fo, 0) !== null) sink.p++; });
  const lookIn = timed(n, () => { if (hub.sad.lookupIn(0x80000000, 4, peerIp, 0) !== null) sink.p++; });
  const r = new XfrmResult();
  const ob = new Uint8Array(4096);
  const outputNs = timed(n / 10, () => { ob.set(outInner, HEAD); hub.output(ob, HEAD, outInner.length, 0, false, 0, r); });
  const verdict = (): XVerdict => r.verdict;
  if (verdict() !== XVerdict.Xmit) throw new Error(`output: ${r.verdict} mib ${r.mib}`);
  ob.set(inInner, HEAD);
  if (site0.output(ob, HEAD, inInner.length, 0, false, 0, r) !== XVerdict.Xmit) throw new Error('site output');
  const wire = ob.slice(r.off, r.off + r.len);
  const ib = new Uint8Array(4096);
  const inputNs = timed(n / 10, () => { ib.set(wire, HEAD); hub.input(ib, HEAD, wire.length, 0, 0, r); });
  if (verdict() !== XVerdict.Deliver) throw new Error(`input: ${r.verdict} mib ${r.mib}`);
  return { spdOut, spdIn, spdMiss, linIn, find, lookIn, outputNs, inputNs, saUs: bs.setupUs, saB: bs.heapB, polUs: bp.setupUs, polB: bp.heapB };
}

function print(title: string, cols: readonly [string, string][], rows: Map<number, Record<string, number>>): void {
  const head = ['objects', ...cols.map((c) => c[1])];
  const fmt = (v: number): string => (Number.isNaN(v) ? '-' : v >= 100 ? v.toFixed(0) : v.toFixed(1));
  const body = [...rows].map(([k, r]) => [String(k), ...cols.map(([key]) => fmt(r[key]!))]);
  const first = rows.get(SIZES[0])!;
  const last = rows.get(SIZES[2])!;
  body.push([`ratio ${SIZES[2]}/${SIZES[0]}`, ...cols.map(([key]) => (last[key]! / first[key]!).toFixed(2))]);
  const all = [head, ...body];
  const w = head.map((_, i) => Math.max(...all.map((row) => row[i]!.length)));
  const line = (row: readonly string[]): string => row.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ');
  console.log([title, line(head), w.map((x) => '-'.repeat(x)).join('  '), ...body.map(line), ''].join('\n'));
}

const n = Number(process.argv[2] ?? 200_000);
if (!Number.isInteger(n) || n < 100) throw new Error(`packets must be an integer >= 100, got "${process.argv[2] ?? ''}"`);
// A throwaway round first, so that the 1-object rows are not the ones paying for JIT warm-up.
tunnels(1, Math.min(n, 20_000));
ipsec(1, Math.min(n, 20_000));
const tun = new Map<number, Record<string, number>>();
const esp = new Map<number, Record<string, number>>();
for (const k of SIZES) tun.set(k, tunnels(k, n));
for (const k of SIZES) esp.set(k, ipsec(k, n));
console.log(`scale bench, node ${process.version}, ${n} packets per lookup phase (${n / 10} for output/input)${gc === undefined ? ', heap not measured (run with --expose-gc)' : ''}\n`);
print('gre tunnels (ns per packet; setup µs and heap B per tunnel)', [
  ['lookupNs', 'lookup ns'], ['rcvNs', 'receive ns'], ['xmitNs', 'xmit ns'], ['setupUs', 'setup µs'], ['heapB', 'heap B'],
], tun);
print('ipsec sites: 2 SAs + 2 policies each (ns per packet; setup µs and heap B per SA and per policy)', [
  ['spdOut', 'spd out ns'], ['spdIn', 'spd in ns'], ['spdMiss', 'spd miss ns'], ['linIn', 'in linear ns'], ['find', 'findOut ns'], ['lookIn', 'lookupIn ns'],
  ['outputNs', 'output ns'], ['inputNs', 'input ns'], ['saUs', 'SA setup µs'], ['saB', 'SA heap B'], ['polUs', 'policy setup µs'], ['polB', 'policy heap B'],
], esp);
