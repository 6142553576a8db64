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
//       write(b) / send(b, dst)  read packet i (i < b.count) and copy it to
//                 the kernel before returning, so the caller may reuse b as
//                 soon as the call returns. Both are synchronous: the fds are
//                 non-blocking, so a Promise would only add an allocation and
//                 a microtask hop per batch (style.md §5).
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
  /**
   * Outgoing batches only, optional: packet i is bufs[i][starts[i], +sizes[i])
   * and `offset` is not used. Packets whose outer headers were prepended in
   * place start at different offsets; a gather batch (pool.ts GatherBatch)
   * points every bufs[i] at one slab and names each packet by its start.
   */
  readonly starts?: Int32Array;
}

/** Per-datagram receive facts beyond ifindex and source (the conn's own arrays, valid during the callback). */
export interface RecvMeta {
  /** Sender's UDP port (0 on raw sockets). */
  readonly srcPort: Uint16Array;
  /** The datagram's destination address, host-order u32 (IP_PKTINFO ipi_addr; 0 if unknown). */
  readonly dst: Uint32Array;
  /** The IPv4 TOS byte (IP_RECVTOS; 0 if unknown). */
  readonly tos: Uint8Array;
}

/** A UDP peer (io/udp.ts, IKE and ESP-in-UDP): dotted-quad or IPv6 text, port 0..65535. */
export interface Endpoint { readonly addr: string; readonly port: number }

/** readInto's result: n packets read (0: closed), or err (then n is 0). */
export type ReadDone = (n: number, err: unknown) => void;

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
   * read() without a Promise (optional): the same contract, the result
   * delivered by calling done(n, null) or done(0, err) — synchronously from
   * the device's readiness callback, so a busy loop allocates nothing per
   * batch and takes no microtask hop. done may be called before readInto
   * returns only if it throws nothing itself. One read pending at a time,
   * shared with read().
   */
  readInto?(b: PacketBatch, done: ReadDone): void;
  /**
   * Writes b.count packets; returns how many the device took. Throws only on
   * device failure (bad fd, closed device: ClosedError), never because of one
   * bad packet: a rejected packet (zero-length, malformed, oversize, device
   * down) is counted and skipped, and ok[i] (when given) says 1 for each
   * packet taken, 0 for each refused.
   */
  write(b: PacketBatch, ok?: Uint8Array): number;
  /** Stops delivery and releases the device (a non-persistent TUN disappears). Idempotent. */
  close(): Promise<void>;
  /**
   * IFF_VNET_HDR (optional, default false). When true, every packet carries a
   * 10-byte struct virtio_net_hdr (include/uapi/linux/virtio_net.h) right
   * before it, in the headroom: read() writes it at bufs[i][offset - 10,
   * offset) and the packet at offset as usual (sizes[i] counts the packet
   * only); write() takes it from the 10 bytes before each packet's start
   * (offset or starts[i]), which must be ≥ 10 and filled (zeros: no offload).
   */
  readonly vnetHdr?: boolean;
  /**
   * With vnetHdr: the kernel may hand read() TCP super-packets (TUN_F_TSO4/6,
   * up to 64 KiB: the read slots must be that large) and packets with a
   * partial checksum (TUN_F_CSUM, VIRTIO_NET_HDR_F_NEEDS_CSUM).
   */
  readonly gso?: boolean;
  /** Re-reads the MTU from the host (it may be changed behind our back, `ip link set … mtu`); bytes. Optional. */
  refreshMtu?(): number;
}

/**
 * Raw IPv4 datagrams, IP header included both ways (raw(7) with IP_HDRINCL),
 * for one IP protocol: 4 (IPIP), 41 (SIT), 47 (GRE), 50 (ESP) or 1 (ICMP
 * errors); or UDP payloads (udp.ts: the NAT-T socket), with the addresses
 * and ports in the receive arrays.
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
   * never thrown; ok[i] (when given) is 1 for each packet the kernel took, 0
   * otherwise. Throws only on programmer error (b.count > batchSize) or a
   * dead socket.
   */
  send(b: PacketBatch, dst: Uint32Array, ok?: Uint8Array): number;
  /**
   * Registers the receive callback (replacing any previous one) and starts
   * delivery. Per batch: packet i is b.bufs[i][b.offset, +b.sizes[i]), the
   * whole IPv4 packet; ifindex[i] is the receiving interface (IP_PKTINFO, 0 if
   * unknown) and src[i] the sender's address; meta has the rest (UDP source
   * port, destination address, TOS). b, ifindex, src and meta are the conn's
   * own and valid only until the callback returns.
   */
  onReceive(cb: ReceiveCallback): void;
  /**
   * Optional: where receive failures are told. A receive call failing with
   * anything but EAGAIN (a pending socket error, ENOMEM, a dead fd: EBADF)
   * is never thrown out of the readiness callback: the conn counts it
   * (stats.rxErrors), stops polling, tries again RECV_RETRY_MS later (raw.ts;
   * a dead socket is opened anew first) and calls cb(what, err) for each
   * failure, then cb(what, null) once a receive works again. `what` names
   * the socket ("raw proto 47", "udp 4500"), a short fixed string.
   */
  onReceiveFault?(cb: ReceiveFaultCallback): void;
  /** Stops delivery and closes the socket. Idempotent; send() after close throws. */
  close(): void;
}

export type ReceiveCallback = (b: PacketBatch, ifindex: Int32Array, src: Uint32Array, meta: RecvMeta) => void;

/** PacketConn.onReceiveFault's callback: err non-null for each failed receive, null once receiving works again. */
export type ReceiveFaultCallback = (what: string, err: Error | null) => void;

/** A RecvMeta of zeros for batchSize datagrams. */
export const newRecvMeta = (batchSize: number): RecvMeta => ({
  srcPort: new Uint16Array(batchSize), dst: new Uint32Array(batchSize), tos: new Uint8Array(batchSize),
});

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
  /** Receive calls that failed with an error other than EAGAIN (the socket is retried, never thrown out). */
  rxErrors: number;
  /** errno name of the latest failed receive call, '' if none yet. */
  lastRxError: string;
}

/** Implemented by the devices and conns of this directory. */
export interface HasStats { readonly stats: IoStats }

/** Fresh zeroed counters. */
export const newIoStats = (): IoStats => ({
  rxPackets: 0, rxTruncated: 0, txPackets: 0, txErrors: 0, txDropped: 0, lastError: '', rxErrors: 0, lastRxError: '',
});

/** Use after close(): code ERR_CLOSED. */
export class ClosedError extends VpnError {
  constructor(what: string) {
    super('ERR_CLOSED', `${what} is closed`);
  }
}
