// One-line packet pretty-printer for traces, the demo and tests (smoltcp's
// PrettyPrinter, `tcpdump -n` in spirit). One " | "-separated segment per
// layer, outermost first:
//
//   Ether 52:54:00:00:00:02 > e2:49:46:90:ac:34 type 0x0800 | IPv4 198.51.100.2 > 198.51.100.1
//   ttl 64 id 1802 DF proto 4 len 104 | IPv4 192.0.2.2 > 192.0.2.1 ttl 64 id 64108 DF proto 1
//   len 84 | ICMP echo-request id 172 seq 0                                     (one line)
//
// Layers: Ethernet (+802.1Q/802.1ad tag, ARP), IPv4, IPv6 + extension headers,
// GRE (RFC 2784/2890; TEB 0x6558 -> Ethernet), IPIP (4), IPv6-in-IPv4 (41),
// UDP (port 4500 per RFC 3948: NAT keepalive 0xff, non-ESP marker -> IKE,
// else ESP), ESP, ICMP, ICMPv6 (error messages quote the offending packet,
// printed as "quoted IPv4 ..." and decoded leniently since quotes are cut).
// A layer that fails its view's check() (or checksum) ends with
// "[malformed: <Drop name>]". Encapsulation is capped at PRETTY_MAX_DEPTH
// network headers, so hostile nesting cannot recurse without bound.
//
// Contract: never throws and never reads outside [off, off+len) for ANY input.
// Allocates (strings, views): call only when tracing is on.

import { be16, be32, inBounds } from './bytes.js';
import { formatIp4, formatIp6 } from './addr.js';
import { Drop, dropName } from './drop.js';
import { EspPacket } from './esp.js';
import { ETH_P_8021AD, ETH_P_8021Q, ETH_P_ARP, ETH_P_IP, ETH_P_IPV6, ETH_P_TEB, EthFrame, formatMac } from './eth.js';
import { GRE_CSUM, GRE_KEY, GRE_SEQ, GrePacket } from './gre.js';
import { ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, ICMP_PARAMETERPROB, ICMP_REDIRECT, Icmp4Packet, isIcmp4Error } from './icmp4.js';
import {
  ICMPV6_PARAMPROB, ICMPV6_PKT_TOOBIG, Icmp6Packet, NDISC_NEIGHBOUR_ADVERTISEMENT, NDISC_NEIGHBOUR_SOLICITATION,
  isIcmp6Error,
} from './icmp6.js';
import { IP4_HDR_LEN, Ip4Packet } from './ip4.js';
import { IP6_HDR_LEN, Ip6Packet } from './ip6.js';
import {
  IPPROTO_AH, IPPROTO_ESP, IPPROTO_FRAGMENT, IPPROTO_GRE, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_IPIP, IPPROTO_IPV6,
  IPPROTO_NONE, IPPROTO_ROUTING, IPPROTO_TCP, IPPROTO_UDP,
} from './ipproto.js';
import { UDP_PORT_IKE, UDP_PORT_NAT_T, UdpPacket } from './udp.js';

/** At most this many network headers (Ethernet, VLAN, IPv4, IPv6, GRE) are decoded per packet. */
export const PRETTY_MAX_DEPTH = 8;

/** How formatPacket interprets the first byte: an Ethernet frame or a bare IP packet (version nibble). */
export type PrettyLink = 'eth' | 'ip';

const ICMP4_TYPES: Record<number, string> = {
  0: 'echo-reply', 3: 'dest-unreach', 4: 'source-quench', 5: 'redirect', 8: 'echo-request', 11: 'time-exceeded',
  12: 'param-problem', 13: 'timestamp', 14: 'timestamp-reply', 15: 'info-request', 16: 'info-reply',
  17: 'mask-request', 18: 'mask-reply',
};
const ICMP4_CODES: Record<number, readonly string[]> = {
  3: ['net-unreach', 'host-unreach', 'proto-unreach', 'port-unreach', 'frag-needed', 'sr-failed', 'net-unknown',
    'host-unknown', 'host-isolated', 'net-prohibited', 'host-prohibited', 'net-tos', 'host-tos', 'filtered',
    'prec-violation', 'prec-cutoff'],
  5: ['net', 'host', 'tos-net', 'tos-host'],
  11: ['ttl', 'frag-reassembly'],
};
const ICMP6_TYPES: Record<number, string> = {
  1: 'dest-unreach', 2: 'packet-too-big', 3: 'time-exceeded', 4: 'param-problem', 128: 'echo-request',
  129: 'echo-reply', 130: 'mld-query', 131: 'mld-report', 132: 'mld-done', 133: 'router-solicit',
  134: 'router-advert', 135: 'neighbor-solicit', 136: 'neighbor-advert', 137: 'redirect', 143: 'mld2-report',
};
const ICMP6_CODES: Record<number, readonly string[]> = {
  1: ['no-route', 'admin-prohibited', 'beyond-scope', 'addr-unreach', 'port-unreach', 'policy-fail', 'reject-route'],
  3: ['hop-limit', 'frag-reassembly'],
  4: ['header-field', 'unknown-next-header', 'unknown-option', 'header-incomplete'],
};
const EXT_NAMES: Record<number, string> = { 0: 'HopOpts', 43: 'Routing', 60: 'DstOpts', 135: 'MH', 139: 'HIP', 140: 'Shim6' };
const IKE_EXCHANGES: Record<number, string> = { 34: 'IKE_SA_INIT', 35: 'IKE_AUTH', 36: 'CREATE_CHILD_SA', 37: 'INFORMATIONAL' };

const hex = (v: number, digits: number): string => `0x${v.toString(16).padStart(digits, '0')}`;
const bad = (d: number): string => ` [malformed: ${dropName(d)}]`;
const codeName = (names: readonly string[] | undefined, code: number): string => names?.[code] ?? `code ${code}`;

/** Where an upper-layer header came from: its IP addresses (for pseudo-header checksums) and trust level. */
interface IpCtx {
  /** 4 or 6. */
  readonly v: number;
  readonly src4: number;
  readonly dst4: number;
  /** Absolute offsets of the IPv6 addresses in the buffer (v === 6). */
  readonly src6: number;
  readonly dst6: number;
  /** Inside an ICMP quote or a first fragment: bytes are cut, so skip length and checksum verdicts. */
  readonly partial: boolean;
}

/** Accumulates segments for one packet; all methods stay inside the ranges they are given. */
class Printer {
  readonly out: string[] = [];
  depth = 0;

  constructor(readonly b: Uint8Array) {}

  /** Counts one network header; false (and a marker) once the cap is reached. */
  private enter(): boolean {
    if (this.depth >= PRETTY_MAX_DEPTH) {
      this.out.push('[depth limit]');
      return false;
    }
    this.depth++;
    return true;
  }

  ip(off: number, len: number, partial: boolean, quoted = false): void {
    const v = len > 0 ? this.b[off]! >>> 4 : -1;
    if (v === 6) this.ip6(off, len, partial, quoted);
    else if (v === 4 || len < IP4_HDR_LEN) this.ip4(off, len, partial, quoted);
    else this.out.push(`${quoted ? 'quoted ' : ''}IP version ${v}${bad(Drop.BadVersion)}`);
  }

  eth(off: number, len: number): void {
    if (!this.enter()) return;
    const p = new EthFrame();
    const d = p.check(this.b, off, len);
    if (d !== Drop.None) {
      this.out.push(`Ether${bad(d)}`);
      return;
    }
    const type = p.etherType;
    this.out.push(`Ether ${formatMac(this.b, p.srcOffset)} > ${formatMac(this.b, p.dstOffset)} type ${hex(type, 4)}`);
    this.ethPayload(type, p.payloadOffset, p.payloadLen);
  }

  private ethPayload(type: number, off: number, len: number): void {
    if (type === ETH_P_IP || type === ETH_P_IPV6) this.ip(off, len, false);
    else if (type === ETH_P_ARP) this.arp(off, len);
    else if (type === ETH_P_8021Q || type === ETH_P_8021AD) {
      if (!this.enter()) return;
      if (len < 4) {
        this.out.push(`VLAN${bad(Drop.Truncated)}`);
        return;
      }
      const tci = be16(this.b, off);
      const inner = be16(this.b, off + 2);
      this.out.push(`VLAN ${tci & 0xfff} pcp ${tci >>> 13} type ${hex(inner, 4)}`);
      this.ethPayload(inner, off + 4, len - 4);
    }
  }

  /** RFC 826 for Ethernet/IPv4 (28 bytes); anything else shows its opcode only. */
  private arp(off: number, len: number): void {
    if (len < 8) {
      this.out.push(`ARP${bad(Drop.Truncated)}`);
      return;
    }
    const op = be16(this.b, off + 6);
    const isEthIp = be16(this.b, off) === 1 && be16(this.b, off + 2) === ETH_P_IP && be16(this.b, off + 4) === 0x0604;
    if (!isEthIp || len < 28) this.out.push(`ARP op ${op}`);
    else if (op === 1) this.out.push(`ARP who-has ${formatIp4(be32(this.b, off + 24))} tell ${formatIp4(be32(this.b, off + 14))}`);
    else if (op === 2) this.out.push(`ARP reply ${formatIp4(be32(this.b, off + 14))} is-at ${formatMac(this.b, off + 8)}`);
    else this.out.push(`ARP op ${op}`);
  }

  private ip4(off: number, len: number, partial: boolean, quoted: boolean): void {
    if (!this.enter()) return;
    const tag = quoted ? 'quoted IPv4' : 'IPv4';
    const p = new Ip4Packet();
    const d = p.check(this.b, off, len);
    // A quote or a damaged length still has a readable fixed header: show it.
    const readable = (d === Drop.BadTotalLen || d === Drop.BadHeaderLen) && p.bind(this.b, off, len);
    if (d !== Drop.None && !readable) {
      this.out.push(`${tag}${bad(d)}`);
      return;
    }
    let s = `${tag} ${formatIp4(p.src)} > ${formatIp4(p.dst)}`;
    if (p.tos !== 0) s += ` tos ${hex(p.tos, 2)}`;
    s += ` ttl ${p.ttl} id ${p.ident}${p.df ? ' DF' : ''}${p.mf ? ' MF' : ''}`;
    if (p.fragOffset !== 0) s += ` frag ${p.fragOffset}`;
    s += ` proto ${p.protocol} len ${p.totalLen}`;
    if (p.headerLen > IP4_HDR_LEN) s += ` opts ${p.headerLen - IP4_HDR_LEN}`;
    const hl = p.headerLen;
    if (d !== Drop.None && !(quoted && d === Drop.BadTotalLen && hl <= len)) {
      this.out.push(s + bad(d));
      return;
    }
    if (!quoted && !p.verifyChecksum()) s += bad(Drop.BadIpChecksum);
    this.out.push(s);
    if (p.fragOffset !== 0) return; // a later fragment: no upper-layer header here
    const ctx: IpCtx = { v: 4, src4: p.src, dst4: p.dst, src6: 0, dst6: 0, partial: partial || p.mf };
    const avail = Math.min(p.totalLen, len) - hl;
    this.proto(p.protocol, off + hl, Math.max(0, avail), ctx);
  }

  private ip6(off: number, len: number, partial: boolean, quoted: boolean): void {
    if (!this.enter()) return;
    const tag = quoted ? 'quoted IPv6' : 'IPv6';
    const p = new Ip6Packet();
    const d = p.check(this.b, off, len);
    const readable = d === Drop.BadTotalLen && p.bind(this.b, off, len);
    if (d !== Drop.None && !readable) {
      this.out.push(`${tag}${bad(d)}`);
      return;
    }
    let s = `${tag} ${formatIp6(this.b, p.srcOffset)} > ${formatIp6(this.b, p.dstOffset)} hlim ${p.hopLimit}`;
    if (p.trafficClass !== 0) s += ` tc ${hex(p.trafficClass, 2)}`;
    if (p.flowLabel !== 0) s += ` flow ${hex(p.flowLabel, 1)}`;
    s += ` next ${p.nextHeader} len ${p.payloadLen}`;
    const ctx: IpCtx = { v: 6, src4: 0, dst4: 0, src6: p.srcOffset, dst6: p.dstOffset, partial: partial || quoted };
    if (d !== Drop.None) {
      // Cut quote: no extension walk over missing bytes; decode a directly following upper layer.
      this.out.push(quoted ? s : s + bad(d));
      if (quoted && EXT_NAMES[p.nextHeader] === undefined && p.nextHeader !== IPPROTO_FRAGMENT && p.nextHeader !== IPPROTO_AH) {
        this.proto(p.nextHeader, p.payloadOffset, len - IP6_HDR_LEN, ctx);
      }
      return;
    }
    const w = p.walkExtensions();
    if (w !== Drop.None) {
      this.out.push(s + bad(w));
      return;
    }
    this.out.push(s);
    this.extensions(p);
    if (!p.isFirstFragment) return;
    const end = p.payloadOffset + p.payloadLen;
    const up: IpCtx = p.fragMore ? { ...ctx, partial: true } : ctx;
    this.proto(p.upperProtocol, p.upperOffset, end - p.upperOffset, up);
  }

  /** One segment per extension header between the fixed header and upperOffset (already validated by walkExtensions). */
  private extensions(p: Ip6Packet): void {
    let nh = p.nextHeader;
    let pos = p.payloadOffset;
    for (let i = 0; i < 64 && pos < p.upperOffset; i++) {
      const next = this.b[pos]!;
      let hlen: number;
      if (nh === IPPROTO_FRAGMENT) {
        hlen = 8;
        const frag = `Frag off ${p.fragOffset}${p.fragMore ? ' M' : ''} id ${hex(p.fragIdent, 8)}`;
        this.out.push(`${frag} next ${next}`);
      } else if (nh === IPPROTO_AH) {
        hlen = (this.b[pos + 1]! + 2) << 2; // >= 8; the sequence number needs 12
        const seq = hlen >= 12 ? ` seq ${be32(this.b, pos + 8)}` : '';
        this.out.push(`AH spi ${hex(be32(this.b, pos + 4), 8)}${seq} next ${next}`);
      } else {
        hlen = (this.b[pos + 1]! + 1) << 3;
        const extra = nh === IPPROTO_ROUTING ? ` type ${this.b[pos + 2]!} segleft ${this.b[pos + 3]!}` : '';
        this.out.push(`${EXT_NAMES[nh] ?? `ext ${nh}`} len ${hlen}${extra} next ${next}`);
      }
      nh = next;
      pos += hlen;
    }
  }

  private proto(proto: number, off: number, len: number, ctx: IpCtx): void {
    switch (proto) {
      case IPPROTO_IPIP: this.ip4(off, len, ctx.partial, false); return;
      case IPPROTO_IPV6: this.ip6(off, len, ctx.partial, false); return;
      case IPPROTO_GRE: this.gre(off, len, ctx); return;
      case IPPROTO_UDP: this.udp(off, len, ctx); return;
      case IPPROTO_ESP: this.esp(off, len); return;
      case IPPROTO_ICMP: this.icmp4(off, len, ctx); return;
      case IPPROTO_ICMPV6: this.icmp6(off, len, ctx); return;
      case IPPROTO_NONE: this.out.push('no-next-header'); return;
      case IPPROTO_TCP:
        this.out.push(len < 4 ? `TCP${bad(Drop.Truncated)}` : `TCP ${be16(this.b, off)} > ${be16(this.b, off + 2)} len ${len}`);
        return;
      default: this.out.push(`proto ${proto} len ${len}`);
    }
  }

  private gre(off: number, len: number, ctx: IpCtx): void {
    if (!this.enter()) return;
    const p = new GrePacket();
    const d = p.check(this.b, off, len);
    if (d !== Drop.None) {
      this.out.push(`GRE${bad(d)}`);
      return;
    }
    const f = p.flags;
    const flags = `${f & GRE_CSUM ? 'C' : ''}${f & GRE_KEY ? 'K' : ''}${f & GRE_SEQ ? 'S' : ''}`;
    let s = flags === '' ? 'GRE' : `GRE flags ${flags}`;
    if (p.hasChecksum) s += ` csum ${hex(p.checksum, 4)}`;
    if (p.hasKey) s += ` key ${p.key}`;
    if (p.hasSeq) s += ` seq ${p.seq}`;
    const type = p.protocolType;
    s += ` proto ${hex(type, 4)}`;
    if (!ctx.partial && !p.verifyChecksum()) s += bad(Drop.GreChecksum);
    this.out.push(s);
    if (type === ETH_P_IP || type === ETH_P_IPV6) this.ip(p.payloadOffset, p.payloadLen, ctx.partial);
    else if (type === ETH_P_TEB) this.eth(p.payloadOffset, p.payloadLen);
  }

  private udp(off: number, len: number, ctx: IpCtx): void {
    const p = new UdpPacket();
    const d = p.check(this.b, off, len);
    // A quote cut inside the datagram: the fixed header is still readable.
    if (d !== Drop.None && !(ctx.partial && d === Drop.BadUdp && p.bind(this.b, off, len))) {
      this.out.push(`UDP${bad(d)}`);
      return;
    }
    const sport = p.srcPort;
    const dport = p.dstPort;
    let s = `UDP ${sport} > ${dport} len ${p.length}`;
    if (!ctx.partial && !this.udpChecksumOk(p, ctx)) s += bad(Drop.BadUdp);
    this.out.push(s);
    const po = p.payloadOffset;
    const pl = p.payloadLen;
    if (sport === UDP_PORT_NAT_T || dport === UDP_PORT_NAT_T) this.natT(po, pl);
    else if (sport === UDP_PORT_IKE || dport === UDP_PORT_IKE) this.ike(po, pl);
  }

  private udpChecksumOk(p: UdpPacket, ctx: IpCtx): boolean {
    if (ctx.v === 4) return p.verifyChecksum4(ctx.src4, ctx.dst4);
    return p.verifyChecksum6(this.b, ctx.src6, this.b, ctx.dst6);
  }

  /** RFC 3948 §2.2/§2.3: 0xff keepalive, 4 zero bytes = non-ESP marker (IKE follows), else ESP. */
  private natT(off: number, len: number): void {
    if (len === 1 && this.b[off] === 0xff) this.out.push('NAT-keepalive');
    else if (len >= 4 && be32(this.b, off) === 0) {
      this.out.push('non-ESP marker');
      this.ike(off + 4, len - 4);
    } else this.esp(off, len);
  }

  /** RFC 7296 §3.1 header: exchange type, I/R flags, message ID. */
  private ike(off: number, len: number): void {
    if (len < 28) {
      this.out.push(`IKE${bad(Drop.Truncated)}`);
      return;
    }
    const exch = this.b[off + 18]!;
    const flags = this.b[off + 19]!;
    const role = `${flags & 0x08 ? ' I' : ''}${flags & 0x20 ? ' R' : ''}`;
    this.out.push(`IKE ${IKE_EXCHANGES[exch] ?? `exch ${exch}`}${role} msgid ${be32(this.b, off + 20)} len ${be32(this.b, off + 24)}`);
  }

  private esp(off: number, len: number): void {
    const p = new EspPacket();
    const d = p.check(this.b, off, len);
    if (d !== Drop.None) this.out.push(`ESP${bad(d)}`);
    else this.out.push(`ESP spi ${hex(p.spi, 8)} seq ${p.seq} encrypted len ${len}`);
  }

  private icmp4(off: number, len: number, ctx: IpCtx): void {
    const p = new Icmp4Packet();
    const d = p.check(this.b, off, len);
    if (d !== Drop.None) {
      this.out.push(`ICMP${bad(d)}`);
      return;
    }
    const type = p.type;
    const code = p.code;
    let s = `ICMP ${ICMP4_TYPES[type] ?? `type ${type}`}`;
    if (type === 0 || type === 8) s += ` id ${p.echoId} seq ${p.echoSeq}`;
    else if (ICMP4_CODES[type] !== undefined) s += ` ${codeName(ICMP4_CODES[type], code)}`;
    else if (code !== 0) s += ` code ${code}`;
    if (type === ICMP_DEST_UNREACH && code === ICMP_FRAG_NEEDED) s += ` mtu ${p.nextHopMtu}`;
    if (type === ICMP_REDIRECT) s += ` gw ${formatIp4(p.gateway)}`;
    if (type === ICMP_PARAMETERPROB) s += ` ptr ${p.pointer}`;
    if (!ctx.partial && !p.verifyChecksum()) s += bad(Drop.BadIcmp);
    this.out.push(s);
    if (isIcmp4Error(type) && !ctx.partial && p.payloadLen > 0) this.ip(p.payloadOffset, p.payloadLen, true, true);
  }

  private icmp6(off: number, len: number, ctx: IpCtx): void {
    const p = new Icmp6Packet();
    const d = p.check(this.b, off, len);
    if (d !== Drop.None) {
      this.out.push(`ICMPv6${bad(d)}`);
      return;
    }
    const type = p.type;
    const code = p.code;
    let s = `ICMPv6 ${ICMP6_TYPES[type] ?? `type ${type}`}`;
    if (type === 128 || type === 129) s += ` id ${p.echoId} seq ${p.echoSeq}`;
    else if (ICMP6_CODES[type] !== undefined) s += ` ${codeName(ICMP6_CODES[type], code)}`;
    else if (code !== 0) s += ` code ${code}`;
    if (type === ICMPV6_PKT_TOOBIG) s += ` mtu ${p.mtu}`;
    if (type === ICMPV6_PARAMPROB) s += ` ptr ${p.pointer}`;
    const isNd = type === NDISC_NEIGHBOUR_SOLICITATION || type === NDISC_NEIGHBOUR_ADVERTISEMENT;
    if (isNd && len >= 24) s += ` target ${formatIp6(this.b, p.payloadOffset)}`;
    if (!ctx.partial && !this.icmp6ChecksumOk(p, ctx)) s += bad(Drop.BadIcmp);
    this.out.push(s);
    if (isIcmp6Error(type) && !ctx.partial && p.payloadLen > 0) this.ip(p.payloadOffset, p.payloadLen, true, true);
  }

  /** The IPv6 pseudo-header checksum (RFC 4443 §2.3); ICMPv6 straight over IPv4 has no defined one: no verdict. */
  private icmp6ChecksumOk(p: Icmp6Packet, ctx: IpCtx): boolean {
    return ctx.v !== 6 || p.verifyChecksum(this.b, ctx.src6, this.b, ctx.dst6);
  }
}

/**
 * Formats the packet in b[off, off+len) as one line. `link` says whether it
 * starts with an Ethernet header or directly with IPv4/IPv6. Never throws,
 * whatever the bytes or arguments (bad off/len give "[malformed: Truncated]").
 */
export function formatPacket(b: Uint8Array, off: number, len: number, link: PrettyLink): string {
  if (!(b instanceof Uint8Array) || !Number.isInteger(off) || !Number.isInteger(len) || !inBounds(b, off, len)) {
    return `[malformed: ${dropName(Drop.Truncated)}]`;
  }
  const pr = new Printer(b);
  if (link === 'eth') pr.eth(off, len);
  else pr.ip(off, len, false);
  return pr.out.join(' | ');
}
