// What the daemon needs from the host for its devices, as an interface so
// the link logic is testable without root: the Linux implementation lives
// in linux-devices.ts, a fake in the tests.

import type { TunDevice } from '../io/types.js';

/** A TUN (L3) or TAP (gretap) device the daemon owns. */
export interface Device {
  readonly name: string;
  readonly ifindex: number;
  /** MAC address text for TAP devices, else null. */
  readonly mac: string | null;
  /** Its packets, through the I/O boundary (the data path reads and writes here). */
  readonly tun: TunDevice;
  setMtu(mtu: number): void;
  setUp(up: boolean): void;
  /** IFF_UP as the kernel sees it now (someone may have run `ip link set … down`). */
  isUp(): boolean;
  /**
   * Detaches (daemon stop or death): a persistent device stays, with its
   * routes, and the kernel drops what is routed into it (fail closed).
   */
  close(): void;
  /** Deletes the device (`link del`): its routes go with it. */
  remove(): void;
}

/** Facts about the underlay route toward a remote (`ip route get`). */
export interface UnderlayRoute {
  /** False when there is no route (the tunnel then counts tx_carrier_errors). */
  readonly ok: boolean;
  /** MTU of the route's device (1500 when unknown). */
  readonly mtu: number;
  /** Name of the device the route uses ('' when none). */
  readonly dev: string;
}

export interface DeviceFactory {
  /**
   * Creates the TUN/TAP device `name` (or adopts ours, see isAdoptable); throws VpnError (EEXIST, EPERM, …) on
   * failure. `noIpv6`: the tunnel cannot carry IPv6 (ipip), so the device gets
   * no IPv6 configuration — a kernel ipip device has no link-local address.
   * `offload`: a TUN (tunnel or xfrm interface) that may take TSO/GRO offload (io/types.ts
   * TunDevice.vnetHdr), when the factory has offload enabled.
   */
  create(name: string, tap: boolean, mtu: number, noIpv6?: boolean, offload?: boolean): Device;
  /**
   * `name` exists and is a device tunkitd made before (persist.ts: its alias),
   * which create() adopts as it is — addresses, routes and all — instead of
   * refusing it as taken.
   */
  isAdoptable(name: string): boolean;
  /** ifindex of an existing device, or null. */
  ifindex(name: string): number | null;
  /** The route toward `remote` (u32; 0 = none configured → a default-ish answer). */
  route(remote: number): UnderlayRoute;
}
