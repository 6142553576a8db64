// The policy TUN's routes (what strongSwan's kernel-libipsec installs): one
// route per out-policy destination prefix into the TUN, carrying the SA's
// payload MTU, kept in step with the SPD/SAD and with the device, over
// rtnetlink (io/netlink.ts; no `ip`):
//
//   sync(want)  for each wanted prefix: RTM_NEWROUTE NLM_F_CREATE|REPLACE —
//               replaced in place when only its MTU changed, so it is never
//               absent — and a fail-closed backup (below); RTM_DELROUTE for
//               prefixes no longer wanted. Only operations that succeeded are
//               recorded, so the next sync retries the others; each failure
//               is logged once per prefix and error text.
//   watch()     an RTMGRP_LINK|RTMGRP_IPV4_ROUTE|RTMGRP_IPV6_ROUTE socket on
//               Node's loop: when the TUN's IFF_UP changes or one of our routes
//               is deleted behind our back (`ip link set ipsec0 down` flushes
//               them; `ip link set ipsec0 up` brings none back), re-read the
//               kernel's routes (a dump) and sync again.
//   relink()    the TUN was made anew (deleted behind our back): the same
//               resync, for the new ifindex.
//   stop()      deletes every route it made; stop(true) (daemon stop) keeps
//               them, failing closed, for the next start to adopt (persist.ts).
//
// A PolicyRoutes works in one routing table: the main one, or (full
// tunnels, xfrm-routes.ts) tunkit's own table, which then also holds `throw`
// routes (holes through which a lookup falls to the next rule: the peers'
// underlay addresses) and is consulted by one `ip rule` per family at
// `rulePref`, added while the table holds anything and removed with it.
//
// Fail closed: each wanted prefix also gets a blackhole route of the worst
// metric (BACKUP_METRIC). While the TUN route exists it wins; when the kernel
// drops it (device down, or tunkitd gone and its TUN with it), protected
// traffic is dropped instead of leaving in clear by the default route, as the
// kernel's own xfrm drops traffic whose policy has no usable state.

import type { LogFn } from './log.js';
import { formatIp4, formatIp6 } from '../wire/addr.js';
import { be32 } from '../wire/bytes.js';
import { NlMsg } from '../wire/netlink.js';
import {
  IFF_UP, RTM_DELLINK, RTM_DELROUTE, RTM_NEWLINK, RTN_BLACKHOLE, RTN_THROW, RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE, RTNLGRP_LINK,
  RT_TABLE_MAIN, parseLink, rtmgrp,
} from '../wire/rtnetlink.js';
import { parseRoute } from '../wire/rtnetlink-route.js';
import type { RouteRepr } from '../wire/rtnetlink-route.js';
import { native } from '../io/native.js';
import type { PollHandle } from '../io/native.js';
import { NetlinkError, RtNetlink } from '../io/netlink.js';
import { network } from '../io/netlink-requests.js';
import type { IpPrefix } from '../io/netlink.js';

/** Metric of the fail-closed blackhole routes: the worst, so any real route wins. */
export const BACKUP_METRIC = 0xffffffff;
/** Notification datagrams handled per wakeup before yielding to the loop (level-triggered: the rest come next). */
const MAX_NOTIFY_BATCH = 64;

export interface WantedRoute { readonly prefix: IpPrefix; readonly mtu: number | null }

/** "NETWORK/PLEN" with host bits cleared: how the kernel keys (and dumps) the route. */
export function routeKey(p: IpPrefix): string {
  const b = network(p);
  return `${p.family === 4 ? formatIp4(be32(b, 0)) : formatIp6(b, 0)}/${p.plen}`;
}

function keyOf(r: RouteRepr): string | null {
  if (r.family !== 2 && r.family !== 10) return null;
  const family = r.family === 2 ? 4 : 6;
  return routeKey({ family, bytes: r.dst ?? new Uint8Array(16), plen: r.dstLen });
}

export class PolicyRoutes {
  private nl: RtNetlink | null = null;
  private want: ReadonlyMap<string, WantedRoute> = new Map();
  /** Routes into the TUN that the kernel has, as far as we know: key → what was installed. */
  private readonly installed = new Map<string, WantedRoute>();
  private readonly backups = new Map<string, IpPrefix>();
  /** Throw routes installed (key → prefix), and the families whose rule is installed. */
  private readonly throws = new Map<string, IpPrefix>();
  private readonly ruleOn = new Set<4 | 6>();
  private wantThrows: ReadonlyMap<string, IpPrefix> = new Map();
  private readonly errors = new Map<string, string>();
  /** An EPERM (no CAP_NET_ADMIN) was logged: further ones are not. */
  private isPermWarned = false;
  private ifindex = 0;
  private isUp = false;
  private mon: { fd: number; handle: PollHandle } | null = null;
  private readonly rx = new Uint8Array(64 * 1024);
  private readonly m = new NlMsg();

  /**
   * warn: a structured log line (log.ts), e.g. event=route_install dev=ipsec0 op="route replace …" err="…".
   * table: the routing table of every route made here; rulePref: with a table other than main, the
   * preference of its `ip rule … lookup TABLE` (null: no rule).
   */
  constructor(private readonly dev: string, private readonly warn: LogFn, private readonly table = RT_TABLE_MAIN,
    private readonly rulePref: number | null = null) {}

  /** " table N" for the log lines of a table other than main. */
  private get t(): string { return this.table === RT_TABLE_MAIN ? '' : ` table ${this.table}`; }

  /**
   * Brings the kernel's routes into line with `want` (key from routeKey). The
   * blackholes need no device, so they are kept (and removed) even when the
   * TUN is missing; a new prefix gets its blackhole before its TUN route.
   */
  sync(want: ReadonlyMap<string, WantedRoute>, throws: ReadonlyMap<string, IpPrefix> = new Map()): void {
    this.want = want;
    this.wantThrows = throws;
    const t = this.t;
    const hasDev = this.refreshLink();
    this.syncRule(false);
    for (const [k, r] of this.installed) {
      if (!hasDev || want.has(k)) continue;
      if (this.op(`${k} dev`, `route del ${k} dev ${this.dev}${t}`, (nl) => nl.routeDel(r.prefix, this.ifindex, this.table), true)) this.installed.delete(k);
    }
    for (const [k, p] of this.backups) {
      if (!want.has(k) && this.op(`${k} blackhole`, `route del blackhole ${k}${t}`, (nl) => nl.blackhole(p, BACKUP_METRIC, true, this.table), true)) this.backups.delete(k);
    }
    for (const [k, p] of this.throws) {
      if (!throws.has(k) && this.op(`${k} throw`, `route del throw ${k}${t}`, (nl) => nl.throwRoute(p, this.table, true), true)) this.throws.delete(k);
    }
    for (const [k, p] of throws) {
      if (!this.throws.has(k) && this.op(`${k} throw`, `route replace throw ${k}${t}`, (nl) => nl.throwRoute(p, this.table))) this.throws.set(k, p);
    }
    for (const [k, w] of want) {
      if (!this.backups.has(k) && this.op(`${k} blackhole`, `route replace blackhole ${k} metric ${BACKUP_METRIC}${t}`, (nl) => nl.blackhole(w.prefix, BACKUP_METRIC, false, this.table))) {
        this.backups.set(k, w.prefix);
      }
      if (!hasDev || (this.installed.has(k) && this.installed.get(k)?.mtu === w.mtu)) continue;
      const what = `route replace ${k} dev ${this.dev}${w.mtu !== null ? ` mtu ${w.mtu}` : ''}${t}`;
      if (this.op(`${k} dev`, what, (nl) => nl.routeReplace(w.prefix, this.ifindex, w.mtu, this.table))) this.installed.set(k, w);
    }
    this.syncRule(true);
    for (const e of this.errors.keys()) {
      const k = e.split(' ')[0] ?? '';
      if (k.includes('/') && !want.has(k) && !this.installed.has(k) && !this.backups.has(k) && !this.throws.has(k)) this.errors.delete(e);
    }
  }

  /**
   * The table's `ip rule` per family: wanted while the table is to hold a
   * route or a throw of that family. isAdd false removes the unwanted ones
   * (before the routes go), true adds the wanted ones (after they are in).
   */
  private syncRule(isAdd: boolean): void {
    const pref = this.rulePref;
    if (pref === null) return;
    const fams = new Set<4 | 6>();
    for (const w of this.want.values()) fams.add(w.prefix.family);
    for (const p of this.wantThrows.values()) fams.add(p.family);
    for (const f of [4, 6] as const) {
      const what = `rule ${isAdd ? 'add' : 'del'} pref ${pref} lookup ${this.table}${f === 6 ? ' (ipv6)' : ''}`;
      if (isAdd && fams.has(f) && !this.ruleOn.has(f)) {
        const ok = this.op(`rule${f}`, what, (nl) => {
          try { nl.rule(f, pref, this.table); } catch (e) { if (!(e instanceof NetlinkError && e.code === 'EEXIST')) throw e; }
        });
        if (ok) this.ruleOn.add(f);
      } else if (!isAdd && !fams.has(f) && this.ruleOn.has(f)) {
        const ok = this.op(`rule${f}`, what, (nl) => {
          try { nl.rule(f, pref, this.table, true); } catch (e) { if (!(e instanceof NetlinkError && e.code === 'ENOENT')) throw e; }
        });
        if (ok) this.ruleOn.delete(f);
      }
    }
  }

  /** Subscribes to link and route notifications (call once the TUN exists). */
  watch(): void {
    if (this.mon !== null) return;
    const n = native();
    const s = n.nlOpen(rtmgrp(RTNLGRP_LINK) | rtmgrp(RTNLGRP_IPV4_ROUTE) | rtmgrp(RTNLGRP_IPV6_ROUTE));
    this.mon = { fd: s.fd, handle: n.pollStart(s.fd, () => this.onNotify()) };
  }

  /** Removes every route made here (unless `keepRoutes`) and closes the sockets. */
  stop(keepRoutes = false): void {
    if (this.mon !== null) {
      native().pollStop(this.mon.handle);
      native().closeFd(this.mon.fd);
      this.mon = null;
    }
    if (!keepRoutes) this.sync(new Map());
    this.nl?.close();
    this.nl = null;
  }

  /** The TUN's ifindex and IFF_UP, read from the kernel; false (logged once) if it is missing. */
  private refreshLink(): boolean {
    return this.op('link', `link ${this.dev}`, (nl) => {
      const l = nl.link(this.dev);
      if (l === null) throw new NetlinkError('ENODEV', `${this.dev} does not exist`, 19, null);
      this.ifindex = l.index;
      this.isUp = (l.flags & IFF_UP) !== 0;
    });
  }

  /**
   * Runs one rtnetlink operation; true on success (a delete of a route already
   * gone counts). A failure is logged when its text differs from the last one
   * under `errKey` ("PREFIX dev", "PREFIX blackhole", "link", "dump"): once,
   * not on every sync that retries it.
   */
  private op(errKey: string, what: string, fn: (nl: RtNetlink) => void, isDel = false): boolean {
    try {
      this.nl ??= RtNetlink.open();
      fn(this.nl);
      this.errors.delete(errKey);
      return true;
    } catch (e) {
      if (isDel && e instanceof NetlinkError && e.code === 'ESRCH') return true;
      if (!(e instanceof NetlinkError)) { this.nl?.close(); this.nl = null; } // the socket failed: reopen next time
      const err = e instanceof Error ? e.message : String(e);
      const text = `${what}: ${err}`;
      if ((e as { code?: string }).code === 'EPERM') { // no CAP_NET_ADMIN (README "Least privilege"): said once, not per route
        if (!this.isPermWarned) this.warn('route_install', { dev: this.dev, op: what, err, effect: 'needs CAP_NET_ADMIN: policy routes and blackholes are not installed' });
        this.isPermWarned = true;
      } else if (this.errors.get(errKey) !== text) this.warn('route_install', { dev: this.dev, op: what, err });
      this.errors.set(errKey, text);
      return false;
    }
  }

  /** Monitor socket readable: resync if a notification concerns our device or our routes. */
  private onNotify(): void {
    const mon = this.mon;
    if (mon === null) return;
    let stale = false;
    try {
      for (let i = 0; i < MAX_NOTIFY_BATCH; i++) {
        const len = native().nlRecv(mon.fd, this.rx, 0);
        if (len === 0) break;
        stale = (len < 0 || this.concernsUs(len)) || stale; // len < 0: a notification was cut short
      }
    } catch (e) {
      stale = true; // ENOBUFS: notifications were lost; the dump below tells the truth
      if ((e as { code?: string }).code !== 'ENOBUFS') this.warn('rtnetlink_monitor', { dev: this.dev, err: e instanceof Error ? e.message : String(e) });
    }
    if (stale) this.resync();
  }

  /** True when the datagram holds a change of the TUN's IFF_UP or the deletion of one of our routes. */
  private concernsUs(len: number): boolean {
    const m = this.m;
    for (let o = 0; m.wrap(this.rx, o, len - o); o = m.nextOffset) {
      if (m.type === RTM_NEWLINK || m.type === RTM_DELLINK) {
        const l = parseLink(m);
        if (l !== null && l.index === this.ifindex && (m.type === RTM_DELLINK || ((l.flags & IFF_UP) !== 0) !== this.isUp)) return true;
      } else if (m.type === RTM_DELROUTE) {
        const r = parseRoute(m);
        const k = r !== null ? keyOf(r) : null;
        if (r === null || k === null) continue;
        if ((r.tableId ?? r.table) !== this.table) continue;
        if (r.type === RTN_BLACKHOLE ? this.backups.has(k) : r.type === RTN_THROW ? this.throws.has(k) : r.oif === this.ifindex && this.installed.has(k)) return true;
      }
    }
    return false;
  }

  /**
   * The TUN was made anew (deleted behind our back, a new ifindex): its
   * routes went with the old one; install them again into the new one. The
   * blackholes stayed meanwhile (fail closed).
   */
  relink(): void { this.resync(); }

  /** Re-reads the TUN's routes from the kernel, forgets what is gone, and syncs again. */
  private resync(): void {
    if (this.want.size === 0 && this.wantThrows.size === 0 && this.installed.size === 0 && this.throws.size === 0) return; // nothing of ours to check
    if (!this.refreshLink()) return;
    const have = new Map<string, number | null>();
    const read = this.op('dump', `route dump dev ${this.dev}${this.t}`, (nl) => {
      for (const family of [4, 6] as const) {
        let routes: RouteRepr[];
        try {
          routes = nl.routeDump(family, this.ifindex, this.table);
        } catch (e) {
          if (e instanceof NetlinkError && e.code === 'ENOENT') continue; // a table of our own that holds nothing of this family yet
          throw e;
        }
        for (const r of routes) {
          const k = keyOf(r);
          if (k !== null) have.set(k, r.mtu);
        }
      }
    });
    if (!read) return;
    for (const [k, w] of this.installed) if (have.get(k) !== w.mtu || !have.has(k)) this.installed.delete(k);
    this.backups.clear(); // re-assert them all: replacing an existing one changes nothing
    this.throws.clear();
    this.sync(this.want, this.wantThrows);
  }
}
