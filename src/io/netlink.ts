// A small synchronous rtnetlink client for the control path (routes and
// links), over the addon's NETLINK_ROUTE socket (native/netlink.c) and the
// codecs in wire/netlink.ts, wire/rtnetlink.ts, wire/rtnetlink-route.ts.
// It replaces forking `ip`: a request is one sendto and, normally, one
// recvfrom of a reply the kernel queued before sendto returned (rtnetlink
// runs requests in the sender's context), so a call costs microseconds.
//
//   request  → nlSend(one message, NLM_F_REQUEST [|ACK|DUMP], seq = ++seq)
//   replies  ← nlRecv(…, timeout) until, for our seq and port id:
//                NLMSG_ERROR (0 = ACK, else NetlinkError with the kernel's text),
//                NLMSG_DONE (end of a dump), or the one reply of a GET.
//   Messages with another seq (the late reply of a timed-out request) are skipped.
//
// A reply that never comes throws NetlinkError ETIMEDOUT after
// REPLY_TIMEOUT_MS: the daemon never hangs on the kernel. Not for the data
// path; one client per owner (it keeps its own socket and buffers).

import { getSystemErrorName } from 'node:util';
import { VpnError } from '../wire/errors.js';
import {
  NLMSG_DONE, NLMSG_ERROR, NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_MULTI, NLM_F_REPLACE, NLM_F_REQUEST, NlMsg,
  parseNlDone, parseNlErr,
} from '../wire/netlink.js';
import type { NlHdrRepr } from '../wire/netlink.js';
import {
  AF_INET, AF_INET6, AF_UNSPEC, RTM_DELADDR, RTM_DELLINK, RTM_DELROUTE, RTM_GETADDR, RTM_GETLINK, RTM_GETROUTE, RTM_NEWADDR,
  RTM_NEWLINK, RTM_NEWROUTE, RTN_BLACKHOLE, RTN_THROW, RTPROT_TUNKIT, RTPROT_UNSPEC, RT_SCOPE_UNIVERSE, RT_TABLE_MAIN,
  addrMsgLen, emitAddr, emitLink, linkMsgLen, parseAddr, parseLink,
} from '../wire/rtnetlink.js';
import type { AddrRepr, LinkRepr } from '../wire/rtnetlink.js';
import { emitRoute, parseRoute, routeMsgLen } from '../wire/rtnetlink-route.js';
import { emitRule, FR_ACT_TO_TBL, ruleMsgLen, RTM_DELRULE, RTM_NEWRULE } from '../wire/rtnetlink-rule.js';
import type { RuleRepr } from '../wire/rtnetlink-rule.js';
import type { RouteRepr } from '../wire/rtnetlink-route.js';
import { addrLen, af, linkGetRequest, routeGetRequest, routeSetRequest } from './netlink-requests.js';
import type { IpPrefix } from './netlink-requests.js';
import { native } from './native.js';

export type { IpPrefix };

/** Longest wait for the kernel's answer to one request, ms. */
export const REPLY_TIMEOUT_MS = 1000;
/** Receive buffer: a dump datagram is at most 32 KiB (netlink_recvmsg's max_recvmsg_len). */
const RX_BYTES = 64 * 1024;
const TX_BYTES = 4096;

/** A rtnetlink failure: `code` is the errno name ('ENETDOWN'), `extack` the kernel's message if it gave one. */
export class NetlinkError extends VpnError {
  constructor(code: string, message: string, readonly errno: number, readonly extack: string | null) {
    super(code, message);
  }
}

/** What `ip route get DST` plus the device's MTU tell. */
export interface RouteInfo {
  /** False when the kernel has no route (ENETUNREACH, …). */
  readonly ok: boolean;
  /** Output device name ('' when !ok). */
  readonly dev: string;
  readonly ifindex: number;
  /** RTAX_MTU of the route (configured, or a learnt PMTU) if it has one, else the device MTU; 1500 when !ok. */
  readonly mtu: number;
  /**
   * RTA_PREFSRC of the answer: the source address the kernel picks toward
   * DST (inet_rtm_getroute / inet6_rtm_getroute fill it from the flow's
   * saddr), the way `ip route get` prints "src"; null when !ok or absent.
   */
  readonly src: Uint8Array | null;
}

export interface LinkInfo {
  readonly index: number;
  readonly name: string;
  readonly mtu: number;
  /** IFF_* (IFF_UP = 1, IFF_RUNNING = 0x40, IFF_LOWER_UP = 0x10000). */
  readonly flags: number;
  /** IF_OPER_* (IF_OPER_UP = 6, IF_OPER_DOWN = 2), 0 if absent. */
  readonly operstate: number;
  /** ARPHRD_* (ARPHRD_NONE 0xfffe for a TUN, ARPHRD_ETHER 1 for a TAP). */
  readonly type: number;
  /** IFLA_IFALIAS ('' when none). */
  readonly alias: string;
}

/** IFA_F_NODAD: no duplicate address detection (a tunnel has no neighbours to ask). */
const IFA_F_NODAD = 0x02;

/** An interface address as `ip addr` shows it: the local address and its prefix length, and its scope. */
export interface AddrInfo extends IpPrefix { readonly scope: number }

const linkInfo = (r: LinkRepr): LinkInfo => ({
  index: r.index, name: r.ifname ?? '', mtu: r.mtu ?? 0, flags: r.flags, operstate: r.operstate ?? 0, type: r.type, alias: r.ifalias ?? '',
});

const noRoute: RouteInfo = { ok: false, dev: '', ifindex: 0, mtu: 1500, src: null };

export class RtNetlink {
  private readonly tx = new Uint8Array(TX_BYTES);
  private readonly rx = new Uint8Array(RX_BYTES);
  private readonly m = new NlMsg();
  private seq: number;
  private closed = false;

  private constructor(readonly fd: number, readonly portId: number) {
    this.seq = Math.floor(Date.now() / 1000) >>> 0; // as iproute2: distinct across restarts
  }

  /** Opens a NETLINK_ROUTE socket (no multicast groups). Throws the errno as the addon does. */
  static open(): RtNetlink {
    const s = native().nlOpen(0);
    return new RtNetlink(s.fd, s.portId);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    native().closeFd(this.fd);
  }

  /** `ip route get DST` + the output device's name and MTU (RTM_GETROUTE, then RTM_GETLINK of its oif). */
  routeGet(family: 4 | 6, dst: Uint8Array): RouteInfo {
    const req = routeGetRequest(family, dst);
    let r: RouteRepr | null;
    try {
      r = this.one(RTM_GETROUTE, NLM_F_REQUEST, routeMsgLen(req), (h, p) => emitRoute(h, req, p), RTM_NEWROUTE, parseRoute);
    } catch (e) {
      if (e instanceof NetlinkError && e.errno !== 0) return noRoute; // the kernel answered: no route
      throw e;
    }
    if (r === null || r.oif === null) return noRoute;
    const link = this.link(r.oif);
    if (link === null) return noRoute;
    return { ok: true, dev: link.name, ifindex: link.index, mtu: r.mtu ?? link.mtu, src: r.prefsrc };
  }

  /**
   * `ip route replace PREFIX dev IFINDEX [mtu N]`: NLM_F_CREATE|NLM_F_REPLACE,
   * one atomic change (the old route, if any, is swapped out in place by
   * fib_table_insert / fib6_add_rt2node; never absent in between). Main
   * table, proto boot, scope link (IPv4) / universe (IPv6), as iproute2.
   */
  routeReplace(prefix: IpPrefix, ifindex: number, mtu: number | null = null, table = RT_TABLE_MAIN): void {
    this.ack(RTM_NEWROUTE, NLM_F_REQUEST | NLM_F_ACK | NLM_F_REPLACE | NLM_F_CREATE, routeSetRequest(prefix, ifindex, mtu, false, table));
  }

  /**
   * `ip route replace blackhole PREFIX metric METRIC proto 116 [table T]`
   * (del: `ip route del …`): traffic to PREFIX is dropped while no route of a
   * better (lower) metric exists. Tagged RTPROT_TUNKIT (as throw routes):
   * tunkitd's own, whoever reads the table.
   */
  blackhole(prefix: IpPrefix, metric: number, del = false, table = RT_TABLE_MAIN): void {
    this.typed(prefix, RTN_BLACKHOLE, metric, del, table);
  }

  /**
   * `ip route replace throw PREFIX table TABLE` (del: `ip route del …`): a
   * lookup in TABLE that lands here ends without a match, so the next rule
   * (the main table) decides — a hole in a table that would otherwise swallow PREFIX.
   */
  throwRoute(prefix: IpPrefix, table: number, del = false): void {
    this.typed(prefix, RTN_THROW, null, del, table);
  }

  /** `ip rule add pref PRIORITY lookup TABLE` (del: `ip rule del …`). EEXIST (add) and ENOENT (del) are thrown. */
  rule(family: 4 | 6, priority: number, table: number, del = false): void {
    const r: RuleRepr = { family: af(family), action: FR_ACT_TO_TBL, priority, table };
    const flags = del ? NLM_F_REQUEST | NLM_F_ACK : NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
    this.exchange(del ? RTM_DELRULE : RTM_NEWRULE, flags, ruleMsgLen(), (h, m) => emitRule(h, r, m), () => undefined);
  }

  /** A route of a type without a device (blackhole, throw), created or replaced, or deleted. */
  private typed(prefix: IpPrefix, type: number, metric: number | null, del: boolean, table: number): void {
    const r: RouteRepr = {
      ...routeSetRequest(prefix, 0, null, del, table), scope: RT_SCOPE_UNIVERSE, type, oif: null, priority: metric,
      protocol: del ? RTPROT_UNSPEC : RTPROT_TUNKIT,
    };
    if (del) this.ack(RTM_DELROUTE, NLM_F_REQUEST | NLM_F_ACK, r);
    else this.ack(RTM_NEWROUTE, NLM_F_REQUEST | NLM_F_ACK | NLM_F_REPLACE | NLM_F_CREATE, r);
  }

  /** `ip route del PREFIX dev IFINDEX`: only the route through that device. Throws NetlinkError (ESRCH when absent). */
  routeDel(prefix: IpPrefix, ifindex: number, table = RT_TABLE_MAIN): void {
    this.ack(RTM_DELROUTE, NLM_F_REQUEST | NLM_F_ACK, routeSetRequest(prefix, ifindex, null, true, table));
  }

  /**
   * `ip addr add ADDR/PLEN dev IFINDEX` (`del`: `ip addr del`), as iproute2
   * sends it: IPv4 with IFA_LOCAL = IFA_ADDRESS = ADDR; IPv6 with IFA_ADDRESS
   * and IFA_F_NODAD (usable at once). Throws NetlinkError (EEXIST, EADDRNOTAVAIL, …).
   */
  addrSet(p: IpPrefix, ifindex: number, del = false): void {
    const a = p.bytes.subarray(0, addrLen(p.family));
    const r: AddrRepr = {
      family: af(p.family), prefixLen: p.plen, flags: p.family === 6 && !del ? IFA_F_NODAD : 0, scope: RT_SCOPE_UNIVERSE,
      index: ifindex, address: a, local: p.family === 4 ? a : null, label: null,
    };
    const flags = del ? NLM_F_REQUEST | NLM_F_ACK : NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
    this.exchange(del ? RTM_DELADDR : RTM_NEWADDR, flags, addrMsgLen(r), (h, m) => emitAddr(h, r, m), () => undefined);
  }

  /** Every address of a device, IPv4 and IPv6 (RTM_GETADDR dump), the local address of each. */
  addrDump(ifindex: number): AddrInfo[] {
    const req: AddrRepr = { family: AF_UNSPEC, prefixLen: 0, flags: 0, scope: 0, index: ifindex, address: null, local: null, label: null };
    const out: AddrInfo[] = [];
    this.exchange(RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, addrMsgLen(req), (h, m) => emitAddr(h, req, m), (m) => {
      if (m.type !== RTM_NEWADDR) return;
      const r = parseAddr(m);
      const bytes = r?.local ?? r?.address ?? null;
      if (r === null || r.index !== ifindex || bytes === null || (r.family !== AF_INET && r.family !== AF_INET6)) return;
      out.push({ family: r.family === AF_INET ? 4 : 6, bytes, plen: r.prefixLen, scope: r.scope });
    });
    return out;
  }

  /** RTM_GETLINK by ifindex or name; null if there is no such device (ENODEV). */
  link(which: number | string): LinkInfo | null {
    const req = linkGetRequest(which);
    let r: LinkRepr | null;
    try {
      r = this.one(RTM_GETLINK, NLM_F_REQUEST, linkMsgLen(req), (h, p) => emitLink(h, req, p), RTM_NEWLINK, parseLink);
    } catch (e) {
      if (e instanceof NetlinkError && e.code === 'ENODEV') return null;
      throw e;
    }
    return r === null ? null : linkInfo(r);
  }

  /** Every device of the namespace (RTM_GETLINK dump). */
  linkDump(): LinkInfo[] {
    const req: LinkRepr = { ...linkGetRequest(0), ifname: null };
    const out: LinkInfo[] = [];
    this.exchange(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, linkMsgLen(req), (h, p) => emitLink(h, req, p), (p) => {
      const r = p.type === RTM_NEWLINK ? parseLink(p) : null;
      if (r !== null) out.push(linkInfo(r));
    });
    return out;
  }

  /** `ip link set dev IFINDEX alias TEXT` (RTM_NEWLINK with IFLA_IFALIAS). Throws NetlinkError. */
  linkSetAlias(ifindex: number, alias: string): void {
    const r: LinkRepr = { family: AF_UNSPEC, type: 0, index: ifindex, flags: 0, change: 0, extMask: null, ifname: null, mtu: null, operstate: null, ifalias: alias };
    this.exchange(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, linkMsgLen(r), (h, p) => emitLink(h, r, p), () => undefined);
  }

  /** `ip link del dev IFINDEX` (RTM_DELLINK; a TUN/TAP device goes even when persistent). Throws NetlinkError (ENODEV). */
  linkDel(ifindex: number): void {
    const r: LinkRepr = { family: AF_UNSPEC, type: 0, index: ifindex, flags: 0, change: 0, extMask: null, ifname: null, mtu: null, operstate: null };
    this.exchange(RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK, linkMsgLen(r), (h, p) => emitLink(h, r, p), () => undefined);
  }

  /** Every route of the main table, of any type and device (RTM_GETROUTE dump). */
  routeDumpMain(family: 4 | 6): RouteRepr[] { return this.routeDumpTable(family, RT_TABLE_MAIN); }

  /** Every route of `table`, of any type and device (RTM_GETROUTE dump, filtered here). */
  routeDumpTable(family: 4 | 6, table: number): RouteRepr[] {
    const req: RouteRepr = {
      family: af(family), dstLen: 0, srcLen: 0, tos: 0, table: 0, protocol: 0, scope: 0, type: 0, flags: 0,
      tableId: table, dst: null, src: null, oif: null, gateway: null, prefsrc: null, priority: null, mtu: null,
    };
    const out: RouteRepr[] = [];
    this.exchange(RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP, routeMsgLen(req), (h, p) => emitRoute(h, req, p), (p) => {
      const r = p.type === RTM_NEWROUTE ? parseRoute(p) : null;
      if (r !== null && (r.tableId ?? r.table) === table) out.push(r);
    });
    return out;
  }

  /**
   * Installs the route `r` as a dump reported it (destination, gateway,
   * preferred source, metric, protocol, MTU…) through device `oif` instead of
   * its own: `ip route replace` of a copy. Throws NetlinkError (ENETDOWN, …).
   */
  routeCopy(r: RouteRepr, oif: number): void {
    this.ack(RTM_NEWROUTE, NLM_F_REQUEST | NLM_F_ACK | NLM_F_REPLACE | NLM_F_CREATE, { ...r, oif, flags: 0 });
  }

  /** Deletes exactly the route `r` as a dump reported it (its type, device, metric and protocol). Throws NetlinkError (ESRCH). */
  routeDelExact(r: RouteRepr): void {
    this.ack(RTM_DELROUTE, NLM_F_REQUEST | NLM_F_ACK, { ...r, flags: 0, mtu: null });
  }

  /** Every route of `table` (the main one by default) through `ifindex` (RTM_GETROUTE dump, filtered by the kernel under strict checking). */
  routeDump(family: 4 | 6, ifindex: number, table = RT_TABLE_MAIN): RouteRepr[] {
    const req: RouteRepr = {
      family: af(family), dstLen: 0, srcLen: 0, tos: 0, table: 0, protocol: 0, scope: 0, type: 0, flags: 0,
      tableId: table, dst: null, src: null, oif: ifindex, gateway: null, prefsrc: null, priority: null, mtu: null,
    };
    const out: RouteRepr[] = [];
    this.exchange(RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP, routeMsgLen(req), (h, p) => emitRoute(h, req, p), (p) => {
      if (p.type !== RTM_NEWROUTE) return;
      const r = parseRoute(p);
      if (r !== null && r.oif === ifindex && (r.tableId ?? r.table) === table) out.push(r);
    });
    return out;
  }

  /** A request answered by an ACK; throws NetlinkError on a kernel error. */
  private ack(type: number, flags: number, r: RouteRepr): void {
    this.exchange(type, flags, routeMsgLen(r), (h, p) => emitRoute(h, r, p), () => undefined);
  }

  /** A GET answered by one message of `replyType`, parsed; null if it does not parse. */
  private one<T>(type: number, flags: number, len: number, emit: (h: NlHdrRepr, p: NlMsg) => void, replyType: number,
    parse: (p: NlMsg) => T | null): T | null {
    let out: T | null = null;
    this.exchange(type, flags, len, emit, (p) => { if (p.type === replyType) out = parse(p); });
    return out;
  }

  /**
   * Sends one request and feeds each reply message for it to `onReply` until
   * the exchange ends: an ACK or error (NLMSG_ERROR), NLMSG_DONE, or — for a
   * GET without NLM_F_ACK or DUMP — its single reply.
   */
  private exchange(type: number, flags: number, len: number, emit: (h: NlHdrRepr, p: NlMsg) => void,
    onReply: (p: NlMsg) => void): void {
    if (this.closed) throw new VpnError('EBADF', 'rtnetlink socket is closed');
    this.seq = (this.seq + 1) >>> 0 || 1;
    const seq = this.seq;
    if (!this.m.bind(this.tx, 0, len)) throw new RangeError(`netlink request of ${len} bytes exceeds ${TX_BYTES}`);
    emit({ type, flags, seq, pid: 0 }, this.m);
    native().nlSend(this.fd, this.tx, len);
    const single = (flags & (NLM_F_ACK | NLM_F_DUMP)) === 0;
    const deadline = performance.now() + REPLY_TIMEOUT_MS;
    for (;;) {
      const wait = Math.max(0, Math.ceil(deadline - performance.now()));
      const n = native().nlRecv(this.fd, this.rx, wait);
      if (n === 0) throw new NetlinkError('ETIMEDOUT', `${msgName(type)}: no answer from the kernel within ${REPLY_TIMEOUT_MS} ms`, 0, null);
      if (n < 0) throw new NetlinkError('EMSGSIZE', `${msgName(type)}: a ${-n}-byte reply exceeds the ${RX_BYTES}-byte buffer`, 0, null);
      if (this.datagram(n, seq, type, single, onReply)) return;
    }
  }

  /** Handles one received datagram of n bytes; true when the exchange for `seq` is over. */
  private datagram(n: number, seq: number, type: number, single: boolean, onReply: (p: NlMsg) => void): boolean {
    const p = this.m;
    for (let o = 0; o < n && p.wrap(this.rx, o, n - o); o = p.nextOffset) {
      if (p.seq !== seq || p.pid !== this.portId) continue; // a stale reply, or not ours
      if (p.type === NLMSG_ERROR) {
        const e = parseNlErr(p);
        if (e === null) throw new NetlinkError('EPROTO', `${msgName(type)}: malformed NLMSG_ERROR`, 0, null);
        if (e.error === 0) return true;
        const code = errnoName(-e.error);
        throw new NetlinkError(code, `${msgName(type)}: ${code}${e.msg !== null ? `: ${e.msg}` : ''}`, -e.error, e.msg);
      }
      if (p.type === NLMSG_DONE) {
        const err = parseNlDone(p) ?? 0;
        if (err < 0) throw new NetlinkError(errnoName(-err), `${msgName(type)} dump: ${errnoName(-err)}`, -err, null);
        return true;
      }
      onReply(p);
      if (single && (p.flags & NLM_F_MULTI) === 0) return true;
    }
    return false;
  }
}

function errnoName(errno: number): string {
  try {
    return getSystemErrorName(-errno);
  } catch {
    return `E${errno}`; // not an errno Node knows: keep the number
  }
}

const NAMES: Readonly<Record<number, string>> = {
  [RTM_NEWROUTE]: 'RTM_NEWROUTE', [RTM_DELROUTE]: 'RTM_DELROUTE', [RTM_GETROUTE]: 'RTM_GETROUTE', [RTM_GETLINK]: 'RTM_GETLINK',
  [RTM_NEWLINK]: 'RTM_NEWLINK', [RTM_DELLINK]: 'RTM_DELLINK',
  [RTM_NEWADDR]: 'RTM_NEWADDR', [RTM_DELADDR]: 'RTM_DELADDR', [RTM_GETADDR]: 'RTM_GETADDR',
  [RTM_NEWRULE]: 'RTM_NEWRULE', [RTM_DELRULE]: 'RTM_DELRULE',
};
const msgName = (type: number): string => NAMES[type] ?? `netlink type ${type}`;
