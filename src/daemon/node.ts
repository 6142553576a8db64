// The daemon's "kernel": one network namespace's tunnels and the devices
// behind them. Link operations validate everything before changing
// anything, and roll back on a half-done add, so a bad request leaves the
// running state untouched.

import { ConfigError, VpnError } from '../wire/errors.js';
import { dropName, DROP_CODES } from '../wire/drop.js';
import { isIp4Multicast } from '../wire/addr.js';
import { checkMtu, defaultMtu, makeTunnelParams, tunnelHlen } from '../tunnel/params.js';
import { LINK_STAT_NAMES } from '../tunnel/stats.js';
import type { TunnelConfig } from '../tunnel/params.js';
import { TunnelStack } from '../tunnel/stack.js';
import type { Tunnel } from '../tunnel/tunnel.js';
import { KIND_NAMES, TunnelKind } from '../tunnel/types.js';
import type { Device, DeviceFactory, UnderlayRoute } from './devices.js';
import { linkRecord } from './link-record.js';
import { Fallbacks } from './fallbacks.js';
import type { LinkRecord } from './link-record.js';
import type { MonitorEvent } from './protocol.js';
import { XfrmLinks } from './xfrm-links.js';
import type { XfrmLink } from './xfrm-links.js';
import { wordTable } from '../wire/table.js';

export interface Entry {
  readonly tunnel: Tunnel;
  readonly dev: Device;
  readonly linkName: string | null;
  /** The `link.add` arguments it was made with, without mtu (what `tunkit save` writes back). */
  readonly args: Readonly<Record<string, string | number | boolean>>;
}

/** Keys `link.add` accepts and their JSON types (everything else is refused, naming the key). */
const ADD_KEYS: Record<string, 'string' | 'number' | 'boolean' | 'number|string'> = wordTable({
  name: 'string', kind: 'string', local: 'string', remote: 'string', dev: 'string',
  ttl: 'number|string', tos: 'number|string', key: 'number|string', ikey: 'number|string', okey: 'number|string',
  seq: 'boolean', iseq: 'boolean', oseq: 'boolean', csum: 'boolean', icsum: 'boolean', ocsum: 'boolean',
  pmtudisc: 'boolean', ignoreDf: 'boolean', mode: 'string', mtu: 'number', bare: 'boolean',
});

export class TunkitNode {
  readonly stack = new TunnelStack();
  /** Route-based IPsec devices (`type xfrm`). */
  readonly xfrmLinks: XfrmLinks;
  private readonly entries = new Map<string, Entry>();
  private identSeed = 1;
  /** tunl0, gre0, gretap0, sit0 (fallbacks.ts). */
  readonly fallbacks: Fallbacks;

  constructor(
    private readonly devices: DeviceFactory,
    private readonly publish: (e: MonitorEvent) => void,
    private readonly now: () => number,
  ) {
    this.xfrmLinks = new XfrmLinks(devices);
    this.fallbacks = new Fallbacks(this.stack, devices, publish, now);
  }

  /** A fallback device (tunl0, gre0, gretap0, sit0) by name, once a tunnel of its kind exists; else null. */
  fallback(name: unknown): Tunnel | null { return this.fallbacks.get(name); }

  /** The entry for a device name, or throws ENODEV naming it. */
  entry(name: unknown): Entry {
    if (typeof name !== 'string') throw new ConfigError('dev', 'a device name is required');
    const e = this.entries.get(name);
    if (e === undefined) throw new VpnError('ENODEV', `Cannot find device "${name}"`, 'dev');
    return e;
  }

  /** Every tunnel entry (for the data path). */
  get all(): ReadonlyMap<string, Entry> { return this.entries; }

  /** `link add`: validate, register the tunnel, create its device; nothing remains on failure. */
  addLink(args: Record<string, unknown>): LinkRecord {
    if (args['kind'] === 'xfrm') {
      const l = this.xfrmLinks.add(args, (n) => this.entries.has(n) || this.fallback(n) !== null || this.isTaken(n));
      this.publish({ type: 'link.add', dev: l.name, kind: 'xfrm' });
      return this.xfrmLinks.record(l);
    }
    const cfg = configFromArgs(args);
    if (this.entries.has(cfg.name) || this.xfrmLinks.get(cfg.name) !== undefined || this.isTaken(cfg.name)) {
      throw new VpnError('EEXIST', `device "${cfg.name}" already exists`, 'name');
    }
    let link = 0;
    const linkName = typeof args['dev'] === 'string' ? args['dev'] : null;
    if (linkName !== null) {
      const ix = this.devices.ifindex(linkName);
      if (ix === null) throw new VpnError('ENODEV', `Cannot find device "${linkName}"`, 'dev');
      link = ix;
    }
    const p = makeTunnelParams({ ...cfg, link });
    this.fallbacks.load(p.kind, (n) => this.isTaken(n));
    const t = this.stack.add(p, (this.identSeed = (this.identSeed * 1103515245 + 12345) & 0x7fffffff));
    try {
      this.applyRoute(t);
      if (p.mtu === 0) t.mtu = defaultMtu(p, t.underlayMtu);
      const dev = this.devices.create(p.name, p.kind === TunnelKind.Gretap, t.mtu, p.kind === TunnelKind.Ipip, p.kind !== TunnelKind.Gretap);
      const { mtu: _mtu, ...made } = args as Record<string, string | number | boolean>;
      this.entries.set(p.name, { tunnel: t, dev, linkName, args: made });
    } catch (e) {
      this.stack.remove(t);
      throw e;
    }
    this.publish({ type: 'link.add', dev: p.name, kind: KIND_NAMES[p.kind] });
    return this.record(p.name);
  }

  /**
   * `tunnel change` (SIOCCHGTUNNEL: ip_tunnel_ctl, then ip_tunnel_update):
   * new parameters for an existing tunnel of the same kind. The device, its
   * ifindex, up state, counters and GRE sequence numbers stay. The MTU is
   * re-derived when the underlay device changes (ip_tunnel_bind_dev), else a
   * gre tunnel's moves by its header growth (ipgre_link_update, at least
   * 68). Refused, changing nothing: another kind (EINVAL, the kind's ioctl
   * checks the protocol), a remote that would flip the device between
   * point-to-point, broadcast and neither (EINVAL), another tunnel's
   * endpoints (EEXIST). Returns the old tunnel, the new one and the record.
   */
  changeLink(args: Record<string, unknown>): { readonly old: Tunnel; readonly t: Tunnel; readonly rec: LinkRecord } {
    const cfg = configFromArgs(args);
    if (this.fallback(cfg.name) !== null) throw new VpnError('ENOENT', `${cfg.name} is a fallback device`, 'name');
    const e = this.entry(cfg.name);
    const old = e.tunnel;
    if (cfg.kind !== KIND_NAMES[old.kind]) throw new VpnError('EINVAL', `${old.name} is a ${KIND_NAMES[old.kind]} tunnel, not ${cfg.kind}`, 'mode');
    const linkName = typeof args['dev'] === 'string' ? args['dev'] : null;
    const link = linkName === null ? 0 : this.devices.ifindex(linkName);
    if (link === null) throw new VpnError('ENODEV', `Cannot find device "${linkName ?? ''}"`, 'dev');
    const p = makeTunnelParams({ ...cfg, link });
    const flags = (remote: number): number => (isIp4Multicast(remote) ? 2 : remote !== 0 ? 1 : 0);
    if (flags(p.remote) !== flags(old.p.remote)) {
      throw new VpnError('EINVAL', 'the remote cannot change between none, unicast and multicast (IFF_POINTOPOINT / IFF_BROADCAST)', 'remote');
    }
    this.stack.remove(old);
    let t: Tunnel;
    try {
      t = this.stack.add(p, old.ident);
    } catch (err) {
      this.stack.table(old.kind).add(old);
      throw err;
    }
    carryState(old, t);
    this.applyRoute(t);
    const mtu = p.link !== old.p.link ? defaultMtu(p, t.underlayMtu)
      : t.isGre ? Math.max(old.mtu - (tunnelHlen(p) - tunnelHlen(old.p)), 68) : old.mtu;
    t.mtu = old.mtu;
    const { mtu: _mtu, ...made } = args as Record<string, string | number | boolean>;
    this.entries.set(p.name, { tunnel: t, dev: e.dev, linkName, args: made });
    if (mtu !== old.mtu) {
      e.dev.setMtu(mtu);
      t.mtu = mtu;
      this.publish({ type: 'link.mtu', dev: p.name, mtu });
    }
    return { old, t, rec: this.record(p.name) };
  }

  /**
   * Re-reads the underlay route facts for a tunnel (route changes, PMTU
   * floor); routes, when given, keeps lookups by remote for reuse (one
   * housekeeping tick: housekeeping.ts).
   */
  applyRoute(t: Tunnel, routes?: Map<number, UnderlayRoute>): void {
    let r = routes?.get(t.p.remote);
    if (r === undefined) {
      r = this.devices.route(t.p.remote);
      routes?.set(t.p.remote, r);
    }
    t.hasRoute = r.ok;
    t.underlayMtu = r.mtu;
    t.routeLoops = r.ok && r.dev === t.name;
  }

  /** A device of that name exists that is not one tunkitd left to adopt (persist.ts). */
  private isTaken(name: string): boolean {
    return this.devices.ifindex(name) !== null && !this.devices.isAdoptable(name);
  }

  /**
   * `link del`: removes the tunnel and deletes its device (fallback devices
   * cannot be deleted). `keepDevice` (daemon stop): the persistent device
   * stays and keeps failing closed.
   */
  delLink(name: unknown, keepDevice = false): void {
    if (this.fallback(name) !== null) throw new VpnError('EOPNOTSUPP', `${String(name)} is a fallback device and cannot be deleted`, 'dev');
    if (typeof name === 'string' && this.xfrmLinks.del(name, keepDevice) !== null) {
      this.publish({ type: 'link.del', dev: name });
      return;
    }
    const e = this.entry(name);
    this.stack.remove(e.tunnel);
    this.entries.delete(e.tunnel.name);
    if (keepDevice) e.dev.close();
    else e.dev.remove();
    this.publish({ type: 'link.del', dev: e.tunnel.name });
  }

  /**
   * Tunnel `name`'s device vanished behind our back (`ip link del` of the
   * TUN: its reads fail with EBADFD): a new device of the same name, kind and
   * MTU, up if the tunnel was. The tunnel, its counters and GRE sequence
   * numbers stay; the new device is bare: its addresses and routes are put
   * back by the caller (device-gone.ts, from LinkMemory). Returns the entry to attach, or null
   * when the tunnel itself is gone. Throws when the device cannot be made.
   */
  reopenLink(name: string): Entry | null {
    const f = this.fallbacks.reopen(name);
    if (f !== null) return { ...f, linkName: null, args: {} };
    const e = this.entries.get(name);
    if (e === undefined) return null;
    const t = e.tunnel;
    const wasUp = t.isUp;
    e.dev.close();
    const tap = t.p.kind === TunnelKind.Gretap;
    const dev = this.devices.create(name, tap, t.mtu, t.p.kind === TunnelKind.Ipip, !tap);
    const fresh: Entry = { ...e, dev };
    this.entries.set(name, fresh);
    if (wasUp) dev.setUp(true);
    t.isUp = wasUp;
    this.publish({ type: 'link.add', dev: name, kind: KIND_NAMES[t.p.kind] });
    return fresh;
  }

  /** The xfrm interface `name`'s device vanished behind our back: made anew (XfrmLinks.reopen); null if the link is gone. */
  reopenXfrmLink(name: string): XfrmLink | null {
    const l = this.xfrmLinks.reopen(name);
    if (l !== null) this.publish({ type: 'link.add', dev: name, kind: 'xfrm' });
    return l;
  }

  /** `link set NAME [up|down] [mtu N]`: validated fully before anything changes. */
  setLink(name: unknown, args: Record<string, unknown>): LinkRecord {
    const fb = this.fallback(name);
    if (fb !== null) return this.fallbacks.set(fb, args);
    const xl = typeof name === 'string' ? this.xfrmLinks.get(name) : undefined;
    if (xl !== undefined) {
      const wasUp = xl.dev.isUp();
      this.xfrmLinks.set(xl, args);
      if (xl.dev.isUp() !== wasUp) this.publish({ type: wasUp ? 'link.down' : 'link.up', dev: xl.name });
      return this.xfrmLinks.record(xl);
    }
    const e = this.entry(name);
    const up = args['up'];
    const mtu = args['mtu'];
    if (up !== undefined && typeof up !== 'boolean') throw new ConfigError('up', 'must be true or false');
    if (mtu !== undefined) {
      if (typeof mtu !== 'number') throw new ConfigError('mtu', 'must be a number');
      checkMtu(e.tunnel.p, mtu);
    }
    if (typeof mtu === 'number' && mtu !== e.tunnel.mtu) {
      e.dev.setMtu(mtu);
      e.tunnel.mtu = mtu;
      this.publish({ type: 'link.mtu', dev: e.tunnel.name, mtu });
    }
    if (typeof up === 'boolean') {
      e.dev.setUp(up);
      this.syncUp(e);
    }
    return this.record(e.tunnel.name);
  }

  /** Mirrors the device's IFF_UP into the tunnel (lookups skip down devices); publishes changes. */
  syncUp(e: Entry): void {
    const up = e.dev.isUp();
    if (up === e.tunnel.isUp) return;
    e.tunnel.isUp = up;
    this.publish({ type: up ? 'link.up' : 'link.down', dev: e.tunnel.name });
  }

  /** `link show [NAME] [type KIND]`. */
  showLinks(name?: unknown, kind?: unknown): LinkRecord[] {
    if (name !== undefined && name !== null) {
      const xl = typeof name === 'string' ? this.xfrmLinks.get(name) : undefined;
      if (xl !== undefined) return [this.xfrmLinks.record(xl)];
      const fb = this.fallback(name);
      return [fb !== null ? this.fallbacks.record(fb) : this.record(this.entry(name).tunnel.name)];
    }
    if (kind !== undefined && kind !== null && (typeof kind !== 'string' || (kind !== 'xfrm' && !Object.values(KIND_NAMES).includes(kind)))) {
      throw new ConfigError('type', `unknown type ${JSON.stringify(kind)}`);
    }
    const wanted = (k: TunnelKind): boolean => kind === undefined || kind === null || KIND_NAMES[k] === kind;
    const fallbacks = this.fallbacks.loadedKinds().filter(wanted).map((k) => this.fallbacks.record(this.stack.table(k).fallback));
    const tunnels = [...this.entries.values()].filter((e) => wanted(e.tunnel.kind)).map((e) => this.record(e.tunnel.name));
    const xfrms = kind === undefined || kind === null || kind === 'xfrm' ? [...this.xfrmLinks.all.values()].map((l) => this.xfrmLinks.record(l)) : [];
    // By ifindex, as the kernel dumps; a deviceless fallback (index 0) first. The sort is stable.
    return [...fallbacks, ...tunnels, ...xfrms].sort((a, b) => a.ifindex - b.ifindex);
  }

  record(name: string): LinkRecord {
    const e = this.entry(name);
    this.syncUp(e);
    return linkRecord(e.tunnel, e.dev.ifindex, e.dev.mac, e.linkName, e.tunnel.isUp, this.now());
  }

  /**
   * Drops of packets that reached no device (malformed outer headers, GRE
   * version/routing/checksum, no tunnel): the kernel counts these in its
   * SNMP MIBs, not on a device. By drop name, non-zero only.
   */
  stackDrops(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const c of DROP_CODES) {
      const n = this.stack.drops[c] ?? 0;
      if (n > 0) out[dropName(c)] = n;
    }
    return out;
  }

  /** Lets go of every device (daemon shutdown): they stay, persistent, failing closed (persist.ts). */
  close(): void {
    this.xfrmLinks.close();
    for (const name of [...this.entries.keys()]) this.delLink(name, true);
    this.fallbacks.close();
  }
}

/** What a changed tunnel keeps of the one it replaces: up state, counters, sequence numbers, IP ID, trace hook. */
function carryState(old: Tunnel, t: Tunnel): void {
  t.isUp = old.isUp;
  for (const k of LINK_STAT_NAMES) t.stats[k] = old.stats[k];
  t.stats.ecn_logged = old.stats.ecn_logged;
  t.stats.drops.set(old.stats.drops);
  t.oSeqno = old.oSeqno;
  t.iSeqno = old.iSeqno;
  t.ident = old.ident;
  t.trace = old.trace;
}

/** Type-checks link.add arguments field by field; the error names the field. */
export function configFromArgs(args: Record<string, unknown>): TunnelConfig {
  for (const [k, v] of Object.entries(args)) {
    const want = ADD_KEYS[k];
    if (want === undefined) throw new ConfigError(k, 'unknown parameter');
    const ok = want === 'number|string' ? typeof v === 'number' || typeof v === 'string' : typeof v === want;
    if (!ok) throw new ConfigError(k, `must be a ${want}`);
  }
  if (typeof args['name'] !== 'string') throw new ConfigError('name', 'a device name is required');
  if (typeof args['kind'] !== 'string') throw new ConfigError('type', 'a tunnel type is required');
  const num = (k: string): number | 'inherit' | undefined => {
    const v = args[k];
    if (v === undefined || typeof v === 'number') return v;
    if (v === 'inherit') return 'inherit';
    throw new ConfigError(k, `"${String(v)}" is not a number or inherit`);
  };
  const { dev: _dev, ttl: _ttl, tos: _tos, ...rest } = args;
  return { ...(rest as unknown as TunnelConfig), ttl: num('ttl'), tos: num('tos') };
}
