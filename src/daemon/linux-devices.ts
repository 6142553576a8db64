// DeviceFactory on Linux: TUN/TAP devices through the native addon's ioctls,
// ifindex from sysfs, the underlay route from rtnetlink (io/netlink.ts: what
// `ip route get` + the device MTU tell; control path only: run when a tunnel
// is added and on the once-a-second refresh, tens of microseconds each).

import type { LogFn } from './log.js';
import { writeFileSync } from 'node:fs';
import { VpnError } from '../wire/errors.js';
import { native } from '../io/native.js';
import { NetlinkError, RtNetlink } from '../io/netlink.js';
import type { TunLinux } from '../io/tun-linux.js';
import type { Device, DeviceFactory, UnderlayRoute } from './devices.js';
import { isOwnedDevice, openOwnedTun, removeTun } from './persist.js';

/** Packets per TUN read/write batch (the data path's batch size). */
export const TUN_BATCH = 32;

/**
 * A persistent TUN/TAP device (persist.ts): close() detaches and leaves it,
 * failing closed; remove() deletes it.
 */
export class LinuxDevice implements Device {
  readonly name: string;
  readonly ifindex: number;
  readonly mac: string | null;
  private closed = false;

  constructor(readonly tun: TunLinux) {
    this.name = tun.name;
    this.ifindex = tun.ifindex;
    this.mac = tun.isTap ? formatMac(native().ifGetHwAddr(tun.name)) : null;
  }

  /**
   * SIOCSIFMTU, skipped when the device already has it (a device pre-created
   * for a tunkitd without CAP_NET_ADMIN, README "Least privilege").
   */
  setMtu(mtu: number): void {
    if (this.tun.refreshMtu() === mtu) return;
    try {
      this.tun.mtu = mtu;
    } catch (e) {
      throw needsNetAdmin(e, 'mtu', `${this.name} has mtu ${this.tun.mtu}, the tunnel needs ${mtu}`, `ip link set ${this.name} mtu ${mtu}`);
    }
  }
  /** SIOCSIFFLAGS IFF_UP, skipped when the device is already so. */
  setUp(up: boolean): void {
    if (this.isUp() === up) return;
    try {
      native().ifSetUp(this.name, up);
    } catch (e) {
      throw needsNetAdmin(e, 'up', `${this.name} is ${up ? 'down' : 'up'}`, `ip link set ${this.name} ${up ? 'up' : 'down'}`);
    }
  }
  /** IFF_UP (0x1) from SIOCGIFFLAGS; false once closed or gone. */
  isUp(): boolean {
    if (this.closed) return false;
    try {
      return (native().ifGetFlags(this.name) & 1) !== 0;
    } catch {
      return false; // the device vanished (deleted behind our back)
    }
  }
  close(): void {
    if (this.closed) return;
    this.closed = true;
    void this.tun.close();
  }
  remove(): void {
    if (this.closed) return;
    this.closed = true;
    removeTun(this.tun);
  }
}

/**
 * The kernel's error for a device change; EPERM (no CAP_NET_ADMIN) becomes
 * a VpnError naming `field`, saying what is and what to pre-configure as root.
 */
function needsNetAdmin(e: unknown, field: string, what: string, fix: string): Error {
  const err = e as NodeJS.ErrnoException;
  if (err.code !== 'EPERM') return err;
  return new VpnError('EPERM', `${what}: changing it needs CAP_NET_ADMIN, which tunkitd lacks; pre-configure it as root (${fix}) or ask for what it has`, field);
}

const formatMac = (b: Uint8Array): string => [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');

/**
 * TUN offload for tunnel devices (ipip, gre, sit): on unless TUNKIT_OFFLOAD=0.
 * In bench/net it removes the TCP retransmits and lifts GRE/IPIP from about
 * 0.9x to 1.2x the naive C forwarder; since the split and the merges
 * allocate nothing (offload.bench: 0 GCs) it costs no garbage either. Idle
 * ping RTT came out ~0.05-0.1 ms higher with it in earlier A/B runs.
 */
export const offloadFromEnv = (env: NodeJS.ProcessEnv = process.env): boolean => env.TUNKIT_OFFLOAD !== '0';

export interface LinuxDevicesOptions {
  /** Open tunnel TUNs with IFF_VNET_HDR + TUNSETOFFLOAD (datapath/offload.ts). */
  readonly offload?: boolean;
  /** Told once when the kernel refuses TUNSETOFFLOAD (the devices then run without). */
  readonly warn?: LogFn;
}

export class LinuxDevices implements DeviceFactory {
  /** Opened on first use; dropped (and reopened next time) if the socket itself fails. */
  private nl: RtNetlink | null = null;
  private hasWarned = false;

  constructor(private readonly opts: LinuxDevicesOptions = {}) {}

  create(name: string, tap: boolean, mtu: number, noIpv6 = false, offload = false): Device {
    const { tun, adopted } = openOwnedTun(name, { tap, batchSize: TUN_BATCH, offload: offload && !tap && this.opts.offload === true });
    if (tun.offloadError !== '' && !this.hasWarned) {
      this.hasWarned = true;
      this.opts.warn?.('tun_offload_refused', { dev: tun.name, err: tun.offloadError, effect: 'tunnel devices run without TSO/GRO' });
    }
    try {
      const d = new LinuxDevice(tun);
      d.setMtu(mtu);
      if (noIpv6) disableIpv6(tun.name);
      return d;
    } catch (e) {
      if (adopted) void tun.close(); // what we found stays as it was
      else removeTun(tun);
      const err = e as NodeJS.ErrnoException;
      throw new VpnError(err.code ?? 'EIO', err.message, 'mtu');
    }
  }

  isAdoptable(name: string): boolean {
    try {
      return isOwnedDevice(name);
    } catch {
      return false; // rtnetlink refused: then it is not ours to take
    }
  }

  /**
   * SIOCGIFINDEX in our own network namespace. Not /sys/class/net: sysfs
   * shows the namespace of whoever mounted it, which under systemd's
   * NetworkNamespacePath= (no /sys remount, unlike `ip netns exec`) is the host's.
   */
  ifindex(name: string): number | null {
    if (!/^[^/\0]{1,15}$/.test(name) || name === '.' || name === '..') return null;
    try {
      return native().ifIndex(name);
    } catch {
      return null; // ENODEV: no such device here
    }
  }

  route(remote: number): UnderlayRoute {
    if (remote === 0) return { ok: true, mtu: 1500, dev: '' };
    try {
      this.nl ??= RtNetlink.open();
      const r = this.nl.routeGet(4, Uint8Array.of(remote >>> 24, remote >>> 16, remote >>> 8, remote));
      return { ok: r.ok, mtu: r.mtu, dev: r.dev };
    } catch (e) {
      if (!(e instanceof NetlinkError)) { // the socket failed, not the lookup: start afresh next time
        this.nl?.close();
        this.nl = null;
      }
      return { ok: false, mtu: 1500, dev: '' };
    }
  }
}

/** net.ipv6.conf.DEV.disable_ipv6 = 1 (before the device comes up, so no router solicitation is sent). */
function disableIpv6(dev: string): void {
  try {
    writeFileSync(`/proc/sys/net/ipv6/conf/${dev}/disable_ipv6`, '1');
  } catch {
    // no IPv6 in this kernel: nothing to disable
  }
}
