// `npm run demo` (offline edition, issue #3): two tunkit "hosts" exchange
// packets through every tunnel type using only the sans-I/O cores, then show
// the kernel rules at work — PMTU, key/seq/csum checks, ECN — with per-packet
// traces and `ip -s -s link`-style counters. No sockets, no devices, no root.
//
//   left  198.51.100.1  ── outer IPv4 ──  right 198.51.100.2

import { formatDrops } from '../cli/format.js';
import { formatLinkShow } from '../cli/link-show.js';
import { toDeviceInfo } from '../cli/link.js';
import { linkRecord } from '../daemon/link-record.js';
import { dropName } from '../wire/drop.js';
import { Ip4Packet } from '../wire/ip4.js';
import { makeTunnelParams } from '../tunnel/params.js';
import type { TunnelConfig } from '../tunnel/params.js';
import { PacketResult, TxOutcome, Verdict } from '../tunnel/result.js';
import { TunnelStack } from '../tunnel/stack.js';
import { formatTrace } from '../tunnel/trace.js';
import type { Tunnel } from '../tunnel/tunnel.js';
import { tunnelXmit, txDone } from '../tunnel/xmit.js';
import { formatPacket } from '../wire/pretty.js';
import { echo4, echo6, frame } from './packets.js';

const HEADROOM = 128;
const left = new TunnelStack();
const right = new TunnelStack();
const res = new PacketResult();
const buf = new Uint8Array(HEADROOM + 2048);
let nowMs = 0;
const say = (s: string): void => { process.stdout.write(`${s}\n`); };

/** A tunnel on the left only (for the refusal cases). */
function leftOnly(name: string, cfg: Omit<TunnelConfig, 'name' | 'local' | 'remote'>): Tunnel {
  const l = left.add(makeTunnelParams({ ...cfg, name, local: '198.51.100.1', remote: '198.51.100.2' }), 0x3000);
  l.isUp = true;
  l.trace = traceLine;
  return l;
}

function traceLine(dir: number, dev: string, drop: number, fn: string, counter: string): void {
  if (drop !== 0 || fn === 'IP_ECN_decapsulate') say(`  trace: ${formatTrace(dir, dev, drop, fn, counter)}`);
}

function pair(name: string, cfg: Omit<TunnelConfig, 'name' | 'local' | 'remote'>): [Tunnel, Tunnel] {
  const l = left.add(makeTunnelParams({ ...cfg, name, local: '198.51.100.1', remote: '198.51.100.2' }), 0x1000);
  const r = right.add(makeTunnelParams({ ...cfg, name, local: '198.51.100.2', remote: '198.51.100.1' }), 0x2000);
  l.isUp = r.isUp = true;
  return [l, r];
}

/**
 * Sends `inner` into `from` and hands the outer packet to `to`; prints both
 * sides. `onWire` may change the outer packet in flight (a router marking CE).
 */
function send(from: Tunnel, to: TunnelStack, inner: Uint8Array, link: 'eth' | 'ip', onWire?: (outer: Uint8Array) => void): Uint8Array | null {
  buf.set(inner, HEADROOM);
  nowMs += 1;
  if (tunnelXmit(from, buf, HEADROOM, inner.length, nowMs, res) !== Verdict.Xmit) {
    say(`  ${from.name}: not sent (${dropName(res.drop)})`);
    if (res.icmpLen > 0) say(`  ${from.name} → sender: ${formatPacket(res.icmp, 0, res.icmpLen, link)}`);
    return null;
  }
  txDone(from, res.innerLen, TxOutcome.Sent); // the offline "wire" takes every packet
  say(`  wire: ${formatPacket(buf, res.off, res.len, 'ip')}`);
  const outer = new Uint8Array(buf.subarray(res.off, res.off + res.len)); // a copy: buf is reused
  if (onWire !== undefined) {
    onWire(outer);
    say(`  wire after a router: ${formatPacket(outer, 0, outer.length, 'ip')}`);
  }
  if (to.receive(outer, 0, outer.length, 0, res) !== Verdict.Deliver || res.tunnel === null) return null;
  const got = new Uint8Array(outer.subarray(res.off, res.off + res.len));
  say(`  ${res.tunnel.name} delivers: ${formatPacket(got, 0, got.length, link)}`);
  return got;
}

function scenario(title: string, l: Tunnel, r: Tunnel, req: Uint8Array, reply: Uint8Array, link: 'eth' | 'ip'): void {
  say(`\n== ${title}`);
  send(l, right, req, link);
  send(r, left, reply, link);
}

function traffic(): void {
  const [ipL, ipR] = pair('ipip1', { kind: 'ipip' });
  scenario('ipip (ttl inherit, pmtudisc)', ipL, ipR, echo4('192.0.2.1', '192.0.2.2', 1), echo4('192.0.2.2', '192.0.2.1', 1, true), 'ip');
  const [gL, gR] = pair('gre1', { kind: 'gre', key: 42, seq: true, csum: true });
  scenario('gre key 42 seq csum', gL, gR, echo4('192.0.2.5', '192.0.2.6', 1), echo4('192.0.2.6', '192.0.2.5', 1, true), 'ip');
  scenario('gre carrying IPv6', gL, gR, echo6('2001:db8:5::1', '2001:db8:5::2', 2), echo6('2001:db8:5::2', '2001:db8:5::1', 2, true), 'ip');
  const [tL, tR] = pair('gretap1', { kind: 'gretap', key: 7 });
  const macL = new Uint8Array([0x02, 0, 0x5e, 0, 0, 1]);
  const macR = new Uint8Array([0x02, 0, 0x5e, 0, 0, 2]);
  scenario('gretap key 7 (Ethernet inside)', tL, tR, frame(echo4('192.0.2.13', '192.0.2.14', 1), macL, macR),
    frame(echo4('192.0.2.14', '192.0.2.13', 1, true), macR, macL), 'eth');
  const [sL, sR] = pair('sit1', { kind: 'sit' });
  scenario('sit (6in4)', sL, sR, echo6('2001:db8:4::1', '2001:db8:4::2', 1), echo6('2001:db8:4::2', '2001:db8:4::1', 1, true), 'ip');
}

function rules(): void {
  for (const t of [...left.all(), ...right.all()]) t.trace = traceLine;
  right.trace = traceLine;
  const gL = left.find('gre1')!;
  const ipL = left.find('ipip1')!;
  say('\n== PMTU: ipip1 MTU raised to 1500 over a 1500-byte underlay; a 1500-byte DF packet');
  ipL.mtu = 1500;
  send(ipL, right, echo4('192.0.2.1', '192.0.2.2', 9, false, { dataLen: 1472 }), 'ip');
  say('\n== A learnt path MTU of 1400 (ICMP frag-needed from the underlay) lowers it further');
  ipL.updatePmtu(1400, nowMs);
  send(ipL, right, echo4('192.0.2.1', '192.0.2.2', 10, false, { dataLen: 1372 }), 'ip');
  say('\n== ECN: inner CE travels as ECT(0) outside (INET_ECN_encapsulate)');
  send(gL, right, echo4('192.0.2.5', '192.0.2.6', 11, false, { tos: 0x03 }), 'ip');
  say('\n== ECN: a router marks CE on an ECT(0) outer packet: the inner becomes CE (RFC 6040)');
  send(gL, right, echo4('192.0.2.5', '192.0.2.6', 12, false, { tos: 0x02 }), 'ip', markCe);
  say('\n== ECN: CE on the outer over a not-ECT inner packet must be dropped (RFC 6040)');
  send(gL, right, echo4('192.0.2.5', '192.0.2.6', 13), 'ip', markCe);
  say('\n== Sequence: gre1 on the right expects seq ≥ its last + 1; a replayed old packet is refused');
  gL.oSeqno = 1;
  send(gL, right, echo4('192.0.2.5', '192.0.2.6', 14), 'ip');
  say('\n== Key mismatch: a gre tunnel with key 43 on the left talks to key 42 on the right');
  send(leftOnly('gre43', { kind: 'gre', key: 43, csum: true, seq: true }), right, echo4('192.0.2.5', '192.0.2.6', 15), 'ip');
  say('\n== Missing checksum: ocsum off on the left, icsum on the right');
  send(leftOnly('grenc', { kind: 'gre', okey: 42, ikey: 44, oseq: true }), right, echo4('192.0.2.5', '192.0.2.6', 16), 'ip');
  say(`\n== right: packets that matched no tunnel: ${formatDrops(right.drops) || 'none'}`);
}

/** A router setting CE in the outer header (with the RFC 1624 checksum update). */
function markCe(outer: Uint8Array): void {
  const ip = new Ip4Packet();
  if (ip.wrap(outer)) ip.setTosIncremental(ip.tos | 0x03);
}

function counters(): void {
  for (const [side, stack] of [['left', left], ['right', right]] as const) {
    say(`\n== ${side} (tunkit -s -s link show)`);
    stack.all().filter((x) => x.isUp).forEach((t, i) => {
      const rec = linkRecord(t, 10 + i, t.hhLen !== 0 ? '02:00:5e:00:00:0a' : null, null, true, nowMs);
      say(formatLinkShow([toDeviceInfo(rec)], { statsLevel: 2, hasDetails: false, isJson: false, isPretty: false }));
    });
  }
}

say('tunkit offline demo: the kernel tunnel data paths as sans-I/O cores (no sockets, no root).');
traffic();
rules();
counters();
