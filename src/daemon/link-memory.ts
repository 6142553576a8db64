// What an admin gave tunkit's link devices (tunnels, xfrm interfaces):
// their addresses and main-table routes, remembered while each device
// exists so that a device deleted behind tunkit's back (device-gone.ts)
// comes back with them, not bare.
//
//   watch()     an RTMGRP_IPV4_IFADDR|IPV6_IFADDR|IPV4_ROUTE|IPV6_ROUTE
//               socket on Node's loop: a notification about one of our
//               devices marks it, and once per loop turn (setImmediate) the
//               marked ones are read again (address and route dumps).
//   tick()      once a second: reads any link not read yet (a device adopted
//               at start, or one just made: nothing notifies about those),
//               or whose name now is another ifindex (a reload or a delete
//               and add through tunkit made it anew between two ticks).
//   restore()   into the device made anew: the addresses, then the routes
//               (copies through the new ifindex, gateway and source kept).
//
// A deletion notifies RTM_DELADDR before RTM_DELLINK (and IPv4 routes go
// silently): a read made once the device is gone, or whose name now
// belongs to another ifindex, is discarded, so what is remembered is the
// device as it was before it went. Left out: IPv6 link-local addresses and
// routes the kernel makes itself (proto kernel): the new device gets its own.

import type { LogFn } from './log.js';
import { native } from '../io/native.js';
import type { PollHandle } from '../io/native.js';
import { NetlinkError, RtNetlink } from '../io/netlink.js';
import type { AddrInfo } from '../io/netlink.js';
import { NlMsg } from '../wire/netlink.js';
import {
  RTM_DELADDR, RTM_DELROUTE, RTM_NEWADDR, RTM_NEWROUTE, RTN_UNICAST, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_IFADDR,
  RTNLGRP_IPV6_ROUTE, RTPROT_KERNEL, RT_SCOPE_LINK, parseAddr, rtmgrp,
} from '../wire/rtnetlink.js';
import { parseRoute } from '../wire/rtnetlink-route.js';
import type { RouteRepr } from '../wire/rtnetlink-route.js';

/** Notification datagrams handled per wakeup before yielding to the loop. */
const MAX_NOTIFY_BATCH = 64;
/** Links never read that tick() reads per call (three dumps each): thousands adopted at start do not stall one turn. */
const MAX_READS_PER_TICK = 32;

/** The rtnetlink requests LinkMemory makes of the links (RtNetlink; a fake in tests). */
export type LinkNetlink = Pick<RtNetlink, 'addrDump' | 'routeDump' | 'link' | 'addrSet' | 'routeCopy' | 'close'>;

/** One device as last read. */
interface Remembered { readonly ifindex: number; readonly addrs: readonly AddrInfo[]; readonly routes: readonly RouteRepr[] }

export class LinkMemory {
  private readonly saved = new Map<string, Remembered>();
  private readonly marked = new Set<number>();
  /** Links whose read failed this tick (not retried until the next). */
  private readonly failed = new Set<string>();
  private isScheduled = false;
  private nl: LinkNetlink | null = null;
  private mon: { fd: number; handle: PollHandle } | null = null;
  private readonly rx = new Uint8Array(64 * 1024);
  private readonly m = new NlMsg();
  private readonly onTurn = (): void => { this.isScheduled = false; this.readMarked(); };

  /** links: tunkit's link devices now, name → ifindex; openNl: a request socket (opened on first use, again after a socket error). */
  constructor(
    private readonly links: () => ReadonlyMap<string, number>,
    private readonly warn: LogFn,
    private readonly openNl: () => LinkNetlink = () => RtNetlink.open(),
  ) {}

  watch(): void {
    if (this.mon !== null) return;
    const n = native();
    const s = n.nlOpen(rtmgrp(RTNLGRP_IPV4_IFADDR) | rtmgrp(RTNLGRP_IPV6_IFADDR) | rtmgrp(RTNLGRP_IPV4_ROUTE) | rtmgrp(RTNLGRP_IPV6_ROUTE));
    this.mon = { fd: s.fd, handle: n.pollStart(s.fd, () => this.onNotify()) };
  }

  stop(): void {
    if (this.mon !== null) {
      native().pollStop(this.mon.handle);
      native().closeFd(this.mon.fd);
      this.mon = null;
    }
    this.nl?.close();
    this.nl = null;
  }

  /** Reads links never read (or whose device was replaced); forgets links tunkit no longer has. */
  tick(): void {
    const now = this.links();
    for (const name of this.saved.keys()) if (!now.has(name)) this.saved.delete(name);
    let reads = 0;
    for (const [name, ix] of now) {
      if (this.saved.get(name)?.ifindex === ix || this.failed.has(name)) continue; // a replaced device is read anew, not given its predecessor's
      if (reads++ === MAX_READS_PER_TICK) break;
      this.read(name, ix);
    }
    this.failed.clear(); // tried again next tick
  }

  /**
   * Gives the device `name` (made anew, ifindex `ifindex`, up if `isUp`) the
   * addresses and routes its predecessor had; routes only when up (the
   * kernel refuses a route through a device that is down). Errors are logged,
   * one line per device. Returns how many addresses and routes went in.
   */
  restore(name: string, ifindex: number, isUp: boolean): { addrs: number; routes: number } {
    const r = this.saved.get(name);
    const done = { addrs: 0, routes: 0 };
    if (r === undefined) return done;
    const errs: string[] = [];
    for (const a of r.addrs) {
      if (this.op(errs, () => this.nlink().addrSet(a, ifindex), true)) done.addrs++;
    }
    for (const rt of isUp ? r.routes : []) {
      if (this.op(errs, () => this.nlink().routeCopy(rt, ifindex))) done.routes++;
    }
    if (errs.length > 0) this.warn('device_restore', { dev: name, err: errs.join('; ') });
    this.saved.set(name, { ...r, ifindex });
    return done;
  }

  private nlink(): LinkNetlink {
    this.nl ??= this.openNl();
    return this.nl;
  }

  /** One rtnetlink request; false (its error kept in errs) on failure; EEXIST counts as done when `existsOk`. */
  private op(errs: string[], fn: () => void, existsOk = false): boolean {
    try {
      fn();
      return true;
    } catch (e) {
      if (existsOk && e instanceof NetlinkError && e.code === 'EEXIST') return true;
      if (!(e instanceof NetlinkError)) { this.nl?.close(); this.nl = null; }
      errs.push(e instanceof Error ? e.message : String(e));
      return false;
    }
  }

  /** Dumps device `name` (ifindex ix); kept only if the name still is that device afterwards. */
  private read(name: string, ix: number): void {
    try {
      const nl = this.nlink();
      const addrs = nl.addrDump(ix).filter((a) => !(a.family === 6 && a.scope === RT_SCOPE_LINK));
      const routes = ([4, 6] as const).flatMap((f) => nl.routeDump(f, ix)).filter((r) => r.type === RTN_UNICAST && r.protocol !== RTPROT_KERNEL);
      if (nl.link(name)?.index !== ix) return; // gone meanwhile (or another device by that name): keep what it was
      this.saved.set(name, { ifindex: ix, addrs, routes });
    } catch (e) {
      this.failed.add(name);
      if (!(e instanceof NetlinkError)) { this.nl?.close(); this.nl = null; }
      // a device gone mid-dump (ENODEV): keep what was remembered
    }
  }

  private readMarked(): void {
    if (this.marked.size === 0) return;
    const byIndex = new Map<number, string>();
    for (const [name, ix] of this.links()) byIndex.set(ix, name);
    for (const ix of this.marked) {
      const name = byIndex.get(ix);
      if (name !== undefined) this.read(name, ix);
    }
    this.marked.clear();
  }

  /** Marks the devices the notifications concern; reads them on the next loop turn. */
  private onNotify(): void {
    const mon = this.mon;
    if (mon === null) return;
    try {
      for (let i = 0; i < MAX_NOTIFY_BATCH; i++) {
        const len = native().nlRecv(mon.fd, this.rx, 0);
        if (len === 0) break;
        if (len < 0) { this.markAll(); continue; } // cut short: re-read every device
        this.mark(len);
      }
    } catch (e) {
      this.markAll(); // ENOBUFS: notifications were lost; the dumps tell the truth
      if ((e as { code?: string }).code !== 'ENOBUFS') this.warn('rtnetlink_monitor', { what: 'addresses', err: e instanceof Error ? e.message : String(e) });
    }
    if (this.marked.size > 0 && !this.isScheduled) {
      this.isScheduled = true;
      setImmediate(this.onTurn);
    }
  }

  private mark(len: number): void {
    const m = this.m;
    for (let o = 0; m.wrap(this.rx, o, len - o); o = m.nextOffset) {
      if (m.type === RTM_NEWADDR || m.type === RTM_DELADDR) {
        const a = parseAddr(m);
        if (a !== null) this.marked.add(a.index);
      } else if (m.type === RTM_NEWROUTE || m.type === RTM_DELROUTE) {
        const r = parseRoute(m);
        if (r !== null && r.oif !== null) this.marked.add(r.oif);
      }
    }
  }

  private markAll(): void {
    for (const ix of this.links().values()) this.marked.add(ix);
  }
}
