// What the data path tells its owner (events), the clocks it reads, and what
// the loop itself counts (device counters live in the cores' stats).

import type { Clock } from '../io/types.js';
import { Drop } from '../wire/drop.js';
import type { XfrmState } from '../xfrm/state.js';

export interface DatapathEvents {
  /** A tunnel path MTU was learnt from an underlay FRAG_NEEDED (ipv4_update_pmtu). */
  pmtu(remote: string, mtu: number, devs: string[]): void;
  /** esp4_err lowered an SA's path MTU (FRAG_NEEDED quoting one of its packets). */
  xfrmPmtu(x: XfrmState): void;
  /** The xfrm core queued events (expire, acquire, mapping): publish them. */
  xfrmEvents(): void;
  /**
   * An IKE message on the NAT-T port (RFC 3948: the non-ESP marker already
   * removed): b[off, off+len), from src:srcPort to our address dst (host-order
   * u32s; 0 when unknown). Valid only during the call.
   */
  ike(b: Uint8Array, off: number, len: number, src: number, srcPort: number, dst: number): void;
  /**
   * A fault or device error, already rate-limited (FaultLog) or logged once
   * per condition (ConditionLog); isRecovery: the line says a condition ended.
   */
  log(msg: string, isRecovery?: boolean): void;
  /**
   * Reads of device `name` (a tunnel's, the policy TUN, an xfrm interface)
   * fail because the device is gone (deleted behind tunkit's back:
   * EBADFD/ENODEV). Called once per loss; the owner may open it again and
   * attach it anew (attachTunnel, attachPolicy, attachXfrmi).
   */
  deviceGone?(name: string): void;
}

export interface DatapathClocks extends Clock {
  /** Monotonic ms for the tunnel cores (PMTU ageing, link-failure pacing). */
  now(): number;
  /** Wall-clock ms for the xfrm core (lifetimes, use times). */
  wallNow(): number;
}

/** What the loop itself counts (device counters live in the cores' stats). */
export class DatapathStats {
  /** Packets dropped because handling them threw. */
  faults = 0;
  /** Receive calls on a conn that failed (anything but EAGAIN; the conn retries them: io/raw.ts). */
  recvErrors = 0;
  /** Devices found deleted behind tunkit's back (deviceGone told). */
  devicesGone = 0;
  /** Packets read from a device that did not fit their slot (MTU raised behind our back). */
  truncated = 0;
  /** Offload reads refused by TSO split or checksum completion (also the device's tx_dropped). */
  offloadDrops = 0;
  /** Last such refusal (a Drop code), for the log and tests. */
  lastOffloadDrop: Drop = Drop.None;
}
