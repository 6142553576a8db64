// Shared by test/reliability/scale.test.ts (bounded, asserts) and
// bench/scale-cli.bench.ts (prints): a running tunkitd filled through the
// CLI (`tunkit -batch -`) with N GRE tunnels and N SA pairs with their
// policies, and the per-packet cost of tunnel 1 / site 1 through the
// sans-I/O cores with N objects beside it.
//
// Objects (documentation ranges only; 2,000 IPv4 prefixes do not fit in
// them, so the sites' networks are IPv6, carried in IPv4 ESP):
//   tunnel i   t<i> type gre local 198.51.100.1 remote 203.0.113.(i%250+1) key i+1
//   site i     SAs 198.51.100.1 ↔ 192.0.2.(i%250+1) (SPI 0x1000+i out,
//              0x80000000+i in, reqid i+1), policies 2001:db8:ffff::/48 ↔
//              2001:db8:<i+1>::/48 out and in

import { performance } from 'node:perf_hooks';
import { readFileSync } from 'node:fs';
import { makeTunnelParams } from '../../src/tunnel/params.js';
import { PacketResult, Verdict } from '../../src/tunnel/result.js';
import { TunnelStack } from '../../src/tunnel/stack.js';
import { tunnelXmit } from '../../src/tunnel/xmit.js';
import type { Tunnel } from '../../src/tunnel/tunnel.js';
import { makeSaConfig } from '../../src/xfrm/config.js';
import { XfrmResult, XVerdict } from '../../src/xfrm/result.js';
import type { StateSpec } from '../../src/xfrm/spec.js';
import { XfrmStack } from '../../src/xfrm/xfrm.js';
import { ip4, ip6 } from '../util/packets.js';
import { runAsync, TUNKIT } from '../netns/pair.js';
import type { Pair } from '../netns/pair.js';

const HEAD = 256;
const HUB = '198.51.100.1';
const KEY = `0x${'11'.repeat(20)}`;
const GCM = { aead: { name: 'rfc4106(gcm(aes))', keyHex: KEY, bits: 128 } };

const tunPeer = (i: number): string => `203.0.113.${(i % 250) + 1}`; // tunnels told apart by key
const sitePeer = (i: number): string => `192.0.2.${(i % 250) + 1}`; // SAs told apart by SPI and reqid
const siteNet = (i: number): string => `2001:db8:${(i + 1).toString(16)}::/48`;
const HUB_NET = '2001:db8:ffff::/48';

/** The batch lines for n tunnels (up) and n sites. */
export function batchText(n: number): { tunnels: string; ipsec: string } {
  const t: string[] = [];
  const x: string[] = [];
  for (let i = 0; i < n; i++) {
    t.push(`link add t${i} type gre local ${HUB} remote ${tunPeer(i)} key ${i + 1}`, `link set t${i} up`);
    const p = sitePeer(i);
    x.push(`xfrm state add src ${HUB} dst ${p} proto esp spi ${0x1000 + i} reqid ${i + 1} mode tunnel sel src ::/0 dst ::/0 aead rfc4106(gcm(aes)) ${KEY} 128`);
    x.push(`xfrm state add src ${p} dst ${HUB} proto esp spi ${0x80000000 + i} reqid ${i + 1} mode tunnel sel src ::/0 dst ::/0 aead rfc4106(gcm(aes)) ${KEY} 128`);
    x.push(`xfrm policy add src ${HUB_NET} dst ${siteNet(i)} dir out tmpl src ${HUB} dst ${p} proto esp reqid ${i + 1} mode tunnel`);
    x.push(`xfrm policy add src ${siteNet(i)} dst ${HUB_NET} dir in tmpl src ${p} dst ${HUB} proto esp reqid ${i + 1} mode tunnel`);
  }
  return { tunnels: `${t.join('\n')}\n`, ipsec: `${x.join('\n')}\n` };
}

/** Resident set of a process, MiB (VmRSS). */
export function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? NaN : Number(m[1]) / 1024;
}

export interface CliScale {
  readonly n: number;
  readonly rssIdleMiB: number;
  readonly addTunnelsS: number;
  /** RSS once the tunnels are in (before the SAs and policies), MiB. */
  readonly rssTunnelsMiB: number;
  readonly addIpsecS: number;
  readonly rssMiB: number;
  readonly listLinksS: number;
  readonly listStatesS: number;
  readonly listPoliciesS: number;
  readonly links: number;
  readonly states: number;
  readonly policies: number;
}

/** Fills p's left daemon through `tunkit -batch -` and lists it back; throws if a batch fails. */
export async function cliScale(p: Pair, n: number, progress: (s: string) => void = () => undefined): Promise<CliScale> {
  const pid = p.left.daemon.pid!;
  const rssIdleMiB = rssMiB(pid);
  const text = batchText(n);
  const run = async (what: string, input: string): Promise<number> => {
    const t0 = performance.now();
    const r = await runAsync('ip', ['netns', 'exec', p.left.ns.name, process.execPath, TUNKIT, '--socket', p.left.sock, '-batch', '-'], 3_600_000, input);
    if (r.code !== 0) throw new Error(`tunkit -batch - (${what}) exited ${r.code}: ${r.stderr.split('\n').filter((l) => !l.includes('warning')).join('\n').slice(0, 2000)}`);
    const s = (performance.now() - t0) / 1000;
    progress(`${what}: ${s.toFixed(1)} s`);
    return s;
  };
  const addTunnelsS = await run(`${n} tunnels`, text.tunnels);
  const rssTunnelsMiB = rssMiB(pid);
  const addIpsecS = await run(`${n} SA pairs + policies`, text.ipsec);
  // The batch returns when the last request is answered; work the daemon queued (policy routes)
  // may still run: wait until it answers a small request again, and report how long that took.
  const t0 = performance.now();
  for (let i = 0; i < 120 && (await runAsync('ip', ['netns', 'exec', p.left.ns.name, process.execPath, TUNKIT, '--socket', p.left.sock, 'link', 'show', 't0'], 15_000)).code !== 0; i++);
  progress(`daemon answering again ${((performance.now() - t0) / 1000).toFixed(1)} s after the batch`);
  const timedOut = (args: string): { s: number; out: string } => {
    const t0 = performance.now();
    const out = p.tunkitOk('left', args);
    return { s: (performance.now() - t0) / 1000, out };
  };
  const links = timedOut('-j link show');
  const states = timedOut('-j xfrm state list');
  const policies = timedOut('-j xfrm policy list');
  return {
    n, rssIdleMiB, addTunnelsS, rssTunnelsMiB, addIpsecS, rssMiB: rssMiB(pid),
    listLinksS: links.s, listStatesS: states.s, listPoliciesS: policies.s,
    links: (JSON.parse(links.out) as { ifname: string }[]).filter((l) => /^t\d+$/.test(l.ifname)).length,
    states: (JSON.parse(states.out) as unknown[]).length,
    policies: (JSON.parse(policies.out) as unknown[]).length,
  };
}

/** Least ns per call of step over 5 rounds of m calls (a shared machine: the least disturbed round). */
function timed(m: number, step: () => void): number {
  for (let i = 0; i < Math.min(m, 5000); i++) step();
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const t0 = performance.now();
    for (let i = 0; i < m; i++) step();
    best = Math.min(best, ((performance.now() - t0) * 1e6) / m);
  }
  return best;
}

/** ns per packet for tunnel 1 (the first added) among n: GRE receive + xmit through TunnelStack. */
export function tunnelCost(n: number, m: number): number {
  const s = new TunnelStack();
  let first: Tunnel | null = null;
  for (let i = 0; i < n; i++) {
    const t = s.add(makeTunnelParams({ name: `t${i}`, kind: 'gre', local: HUB, remote: tunPeer(i), key: i + 1 }));
    t.isUp = true;
    first ??= t;
  }
  const peer = new TunnelStack().add(makeTunnelParams({ name: 'p', kind: 'gre', local: tunPeer(0), remote: HUB, key: 1 }));
  peer.isUp = true;
  const inner = ip4({ src: '203.0.113.1', dst: '203.0.113.2', payloadLen: 1380 });
  const rx = new Uint8Array(HEAD + inner.length);
  rx.set(inner, HEAD);
  const r = new PacketResult();
  if (tunnelXmit(peer, rx, HEAD, inner.length, 0, r) !== Verdict.Xmit) throw new Error('peer xmit');
  const [off, len] = [r.off, r.len];
  const tx = new Uint8Array(HEAD + inner.length);
  tx.set(inner, HEAD);
  if (s.receive(rx, off, len, 0, r) !== Verdict.Deliver || r.tunnel !== first) throw new Error('receive missed tunnel 1');
  return timed(m, () => {
    s.receive(rx, off, len, 0, r);
    tunnelXmit(first!, tx, HEAD, inner.length, 0, r);
  });
}

const spec = (src: string, dst: string, spi: number, reqid: number, replayWindow: number): StateSpec =>
  ({ src, dst, proto: 'esp', spi, mode: 'tunnel', reqid, replayWindow, sel: { src: '::/0', dst: '::/0' }, ...GCM }); // IPv6 inside

/** ns per packet for site 1 among n: XfrmStack.output of a 1400-byte packet + input of one ESP packet. */
export function ipsecCost(n: number, m: number): number {
  const hub = new XfrmStack();
  const add = (x: XfrmStack, s: StateSpec): void => { x.sad.add(makeSaConfig(s, () => null), s, 0); };
  const pol = (x: XfrmStack, src: string, dst: string, dir: 'in' | 'out', ts: string, td: string, reqid: number): void => {
    x.spd.insert(x.spd.make({ sel: { src, dst }, dir, tmpls: [{ src: ts, dst: td, proto: 'esp', mode: 'tunnel', reqid }] }, () => null, 0, 0), false);
  };
  for (let i = 0; i < n; i++) {
    add(hub, spec(HUB, sitePeer(i), 0x1000 + i, i + 1, 32));
    add(hub, spec(sitePeer(i), HUB, 0x80000000 + i, i + 1, 0)); // window 0: the same packet is accepted again
    pol(hub, HUB_NET, siteNet(i), 'out', HUB, sitePeer(i), i + 1);
    pol(hub, siteNet(i), HUB_NET, 'in', sitePeer(i), HUB, i + 1);
  }
  const site = new XfrmStack();
  add(site, spec(sitePeer(0), HUB, 0x80000000, 1, 32));
  pol(site, siteNet(0), HUB_NET, 'out', sitePeer(0), HUB, 1);
  const out = ip6({ src: '2001:db8:ffff::1', dst: '2001:db8:1::1', payloadLen: 1360 });
  const back = ip6({ src: '2001:db8:1::1', dst: '2001:db8:ffff::1', payloadLen: 1360 });
  const r = new XfrmResult();
  const b = new Uint8Array(4096);
  b.set(back, HEAD);
  if (site.output(b, HEAD, back.length, 0, false, 0, r) !== XVerdict.Xmit) throw new Error(`site output ${r.mib}`);
  const wire = b.slice(r.off, r.off + r.len);
  const ob = new Uint8Array(4096);
  const ib = new Uint8Array(4096);
  const once = (): void => {
    ob.set(out, HEAD);
    if (hub.output(ob, HEAD, out.length, 0, false, 0, r) !== XVerdict.Xmit) throw new Error(`output ${r.mib}`);
    ib.set(wire, HEAD);
    if (hub.input(ib, HEAD, wire.length, 0, 0, r) !== XVerdict.Deliver) throw new Error(`input ${r.mib}`);
  };
  once();
  return timed(m, once);
}
