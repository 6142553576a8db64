// The fallback devices tunl0, gre0, gretap0 and sit0: ip_tunnel_init_net
// (sit_init_net for sit0) registers one per kind when the kind's module
// loads, in every namespace. tunkit "loads the module" with a kind's first
// tunnel and gives the fallback a TUN (TAP for gretap0) of its own, made
// down before the tunnel's device, so it has an ifindex and what it catches
// when up (ip_tunnel_lookup's last resort) is delivered as the kernel's is.
// When the name is taken (a host whose own module made it) or the device
// cannot be made, the fallback stays deviceless: shown with index 0, and
// what it catches is counted rx_dropped.

import { VpnError, ConfigError } from '../wire/errors.js';
import type { TunnelStack } from '../tunnel/stack.js';
import type { Tunnel } from '../tunnel/tunnel.js';
import { TunnelKind } from '../tunnel/types.js';
import type { Device, DeviceFactory } from './devices.js';
import { fallbackAddrGenMode, linkRecord } from './link-record.js';
import type { LinkRecord } from './link-record.js';
import type { MonitorEvent } from './protocol.js';

const KINDS = [TunnelKind.Ipip, TunnelKind.Gre, TunnelKind.Gretap, TunnelKind.Sit] as const;

export class Fallbacks {
  /** Kinds whose "module is loaded": their fallback devices exist from then on. */
  private readonly kinds = new Set<TunnelKind>();
  /** Fallbacks (by name) that have been up at least once: they have an inet6_dev (fallbackAddrGenMode). */
  private readonly upped = new Set<string>();
  /** The TUN/TAP behind each fallback, by name (absent: deviceless, see above). */
  private readonly devs = new Map<string, Device>();
  /** Fallbacks whose device was made and not yet handed to the data path (takeNew). */
  private readonly fresh: Tunnel[] = [];

  constructor(
    private readonly stack: TunnelStack,
    private readonly devices: DeviceFactory,
    private readonly publish: (e: MonitorEvent) => void,
    private readonly now: () => number,
  ) {}

  /** The fallback named `name` once its kind is loaded; else null. */
  get(name: unknown): Tunnel | null {
    for (const k of KINDS) {
      const fb = this.stack.table(k).fallback;
      if (fb.name === name && this.kinds.has(k)) return fb;
    }
    return null;
  }

  /** Kinds loaded so far, sorted (showLinks lists their fallbacks). */
  loadedKinds(): TunnelKind[] { return [...this.kinds].sort(); }

  /** A kind's first tunnel: its fallback and its device (`isTaken`: the name belongs to someone else). */
  load(kind: TunnelKind, isTaken: (name: string) => boolean): void {
    if (this.kinds.has(kind)) return;
    this.kinds.add(kind);
    const fb = this.stack.table(kind).fallback;
    if (isTaken(fb.name)) return;
    try {
      this.devs.set(fb.name, this.makeDevice(fb));
      this.fresh.push(fb);
    } catch {
      // stays deviceless (see above); `link show` tells by its index 0
    }
  }

  private makeDevice(fb: Tunnel): Device {
    const tap = fb.p.kind === TunnelKind.Gretap;
    const dev = this.devices.create(fb.name, tap, fb.mtu, fb.p.kind === TunnelKind.Ipip, !tap);
    dev.setUp(fb.isUp);
    return dev;
  }

  /** A fallback whose device was made since the last call, with it, for the data path to read; else null. */
  takeNew(): { readonly tunnel: Tunnel; readonly dev: Device } | null {
    const t = this.fresh.shift();
    const dev = t === undefined ? undefined : this.devs.get(t.name);
    return t === undefined || dev === undefined ? null : { tunnel: t, dev };
  }

  /** Names of the fallbacks that have a device. */
  deviceNames(): string[] { return [...this.devs.keys()]; }

  /** The device of fallback `name` vanished behind our back: a new one, up if it was; null if it had none. */
  reopen(name: string): { readonly tunnel: Tunnel; readonly dev: Device } | null {
    const old = this.devs.get(name);
    const fb = this.get(name);
    if (old === undefined || fb === null) return null;
    old.close();
    const dev = this.makeDevice(fb);
    this.devs.set(name, dev);
    return { tunnel: fb, dev };
  }

  /** `link set`: up/down switches whether it catches unmatched packets, and its device's IFF_UP; its mtu is fixed. */
  set(fb: Tunnel, args: Record<string, unknown>): LinkRecord {
    const up = args['up'];
    if (up !== undefined && typeof up !== 'boolean') throw new ConfigError('up', 'must be true or false');
    if (args['mtu'] !== undefined) throw new VpnError('EOPNOTSUPP', `${fb.name}: the fallback device's mtu is fixed`, 'mtu');
    if (typeof up === 'boolean') {
      this.devs.get(fb.name)?.setUp(up);
      this.mirror(fb, up);
    }
    return this.record(fb);
  }

  record(fb: Tunnel): LinkRecord {
    const dev = this.devs.get(fb.name);
    if (dev !== undefined) this.mirror(fb, dev.isUp());
    const r = linkRecord(fb, dev?.ifindex ?? 0, dev?.mac ?? null, null, fb.isUp, this.now());
    r.addrGenMode = fallbackAddrGenMode(r.kind, this.upped.has(fb.name));
    return r;
  }

  /** IFF_UP set with plain `ip link` on their devices, into the lookups (housekeeping). */
  sync(): void {
    for (const [name, dev] of this.devs) {
      const fb = this.get(name);
      if (fb !== null) this.mirror(fb, dev.isUp());
    }
  }

  private mirror(fb: Tunnel, up: boolean): void {
    if (up === fb.isUp) return;
    fb.isUp = up;
    if (up) this.upped.add(fb.name);
    this.publish({ type: up ? 'link.up' : 'link.down', dev: fb.name });
  }

  /** Daemon stop: the devices are let go, persistent (persist.ts), not deleted. */
  close(): void {
    for (const dev of this.devs.values()) dev.close();
    this.devs.clear();
  }
}
