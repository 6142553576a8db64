// The I/O boundary (style.md §6): what the shells hand the sans-I/O cores and
// take back from them. Implementations: tun-linux.ts and raw.ts over the
// native addon (native/tunkit.c), mem.ts for tests; all pass the shared
// compliance suite in test/io/compliance.ts.
//
// Buffer ownership and units (style.md §9):
//   - All sizes and offsets are in bytes; addresses are IPv4 as host-order
//     u32 (192.0.2.1 = 0xc0000201), interface indexes as the kernel's ifindex.
//   - A PacketBatch belongs to whoever allocated it (pool.ts allocBatch). An
//     implementation only borrows it for the duration of the call:
//       read(b)   writes packets into b and sets b.sizes/b.count; it keeps no
//                 reference once the promise settles;
//       write(b) / send(b, dst)  read b.bufs[i][b.offset, +b.sizes[i]) for
//                 i < b.count and copy them to the kernel before returning, so
//                 the caller may reuse b as soon as the call returns.
//   - onReceive batches are the implementation's own: valid only until the
//     callback returns, then overwritten by the next receive. Copy (or
//     process in place) before returning.

import { VpnError } from '../wire/errors.js';

/**
 * A batch of packets in pooled slabs.
 * Invariants: bufs.length === the owner's batchSize; 0 <= count <= bufs.length;
 * packet i is bufs[i][offset, offset + sizes[i]) for i < count;
 * 0 <= offset and offset + sizes[i] <= bufs[i].length.
 */
export interface PacketBatch {
  /** Pooled slots (HEADROOM + MTU + TAILROOM bytes each), length === batchSize. */
  readonly bufs: Uint8Array[];
  /** Valid bytes in bufs[i] after `offset`. A reader sets 0 for a packet it had to drop (truncated). */
  readonly sizes: Int32Array;
  /** Headroom before each packet, bytes: outer headers are prepended in place into it. */
  offset: number;
  /** Packets in the batch. */
  count: number;
}

/** A UDP peer (io/udp.ts, IKE and ESP-in-UDP): dotted-quad or IPv6 text, port 0..65535. */
export interface Endpoint { readonly addr: string; readonly port: number }

/** A TUN (layer 3: bare IPv4/IPv6 packets) or TAP (layer 2: Ethernet frames) device. */
export interface TunDevice {
  readonly name: string;
  /** Device MTU, bytes of L3 packet (a TAP frame may be MTU + 14 Ethernet header bytes). */
  readonly mtu: number;
  /** Most packets one read() returns and one write() accepts. */
  readonly batchSize: number;
  /**
   * Fills up to batchSize packets at b.offset; resolves with b.count.
   * Resolves 0 once the device is closed (also for a read pending at close).
   * At most one read may be pending (programmer error otherwise).
   */
  read(b: PacketBatch): Promise<number>;
  /**
   * Writes b.count packets from b.offset. Rejects only on device failure
   * (bad fd, closed device), never because of one bad packet: a rejected
   * packet (zero-length, malformed, oversize) is counted and skipped.
   */
  write(b: PacketBatch): Promise<void>;
  /** Stops delivery and releases the device (a non-persistent TUN disappears). Idempotent. */
  close(): Promise<void>;
}

/**
 * Raw IPv4 datagrams, IP header included both ways (raw(7) with IP_HDRINCL),
 * for one IP protocol: 4 (IPIP), 41 (SIT), 47 (GRE), or 1 (ICMP errors).
 *
 * send() is synchronous: sendmmsg on a non-blocking socket never waits, so a
 * Promise would only add an allocation per batch and a microtask hop on the
 * transmit path (style.md §5). When the socket buffer is full (EAGAIN) the
 * rest of the batch is dropped and counted, as the kernel's own tunnel
 * transmit drops when the device queue is full (dev_queue_xmit → tx_dropped):
 * waiting would stall the TUN reader on the same thread, and the inner
 * transport recovers from loss anyway.
 */
export interface PacketConn {
  readonly batchSize: number;
  /**
   * Sends packet i of b (a complete IPv4 packet) to dst[i] (host-order u32),
   * i < b.count. Returns how many the kernel accepted; per-packet failures
   * (unroutable, oversize, zero-length) and the EAGAIN remainder are counted,
   * never thrown. Throws only on programmer error (b.count > batchSize) or a
   * dead socket.
   */
  send(b: PacketBatch, dst: Uint32Array): number;
  /**
   * Registers the receive callback (replacing any previous one) and starts
   * delivery. Per batch: packet i is b.bufs[i][b.offset, +b.sizes[i]), the
   * whole IPv4 packet; ifindex[i] is the receiving interface (IP_PKTINFO, 0 if
   * unknown) and src[i] the sender's address. b, ifindex and src are the
   * conn's own and valid only until the callback returns.
   */
  onReceive(cb: (b: PacketBatch, ifindex: Int32Array, src: Uint32Array) => void): void;
  /** Stops delivery and closes the socket. Idempotent; send() after close throws. */
  close(): void;
}

/** Monotonic time in milliseconds; FakeClock in tests. */
export interface Clock { now(): number }

/**
 * Counters every implementation keeps (not part of the §6 interfaces, so
 * fakes need not have them; the shells read them for `ip -s link`-style output).
 */
export interface IoStats {
  /** Packets delivered to the caller (read/onReceive). */
  rxPackets: number;
  /** Packets longer than their slot: reported with size 0 and counted here. */
  rxTruncated: number;
  /** Packets the kernel (or peer) accepted. */
  txPackets: number;
  /** Packets refused one by one (EINVAL, ENETUNREACH, EMSGSIZE, …). */
  txErrors: number;
  /** Packets never attempted because the socket buffer was full (EAGAIN). */
  txDropped: number;
  /** errno name of the latest per-packet failure, '' if none yet. */
  lastError: string;
}

/** Implemented by the devices and conns of this directory. */
export interface HasStats { readonly stats: IoStats }

/** Fresh zeroed counters. */
export const newIoStats = (): IoStats => ({
  rxPackets: 0, rxTruncated: 0, txPackets: 0, txErrors: 0, txDropped: 0, lastError: '',
});

/** Use after close(): code ERR_CLOSED. */
export class ClosedError extends VpnError {
  constructor(what: string) {
    super('ERR_CLOSED', `${what} is closed`);
  }
}
