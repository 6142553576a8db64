// PacketConn over a raw IPv4 socket for one IP protocol (raw(7)): 4 (IPIP),
// 41 (SIT), 47 (GRE), or 1 (ICMP, for the errors ipip_err/ipgre_err react to).
//
// Both directions carry whole IPv4 packets. Send: IP_HDRINCL, so the packet
// is ours except what raw(7) says the kernel always fills in (tot_len and the
// header checksum) or fills in when zero (ID, source address); the route is
// chosen by dst[i], not by the header's destination. Receive: every packet of
// the protocol that reaches this namespace (after reassembly), each with its
// receiving ifindex (IP_PKTINFO) and source address.
//
// Receive flow: uv_poll (level-triggered) → recvmmsg of at most batchSize
// datagrams (bounded drain, style.md §5) → callback. If more are queued the
// poll fires again on the next loop iteration, after other I/O and
// setImmediate callbacks had their turn, so no extra setImmediate is needed.
// A recvmmsg that fails (anything but EAGAIN, which is 0 packets) never
// throws out of the poll callback: the failure is counted (stats.rxErrors),
// told to onReceiveFault, and the poll paused for RECV_RETRY_MS — a
// level-triggered poll on a socket in error would otherwise wake the loop
// on every iteration — then the receive is tried again. A socket whose fd
// is dead (EBADF, ENOTSOCK: closed behind our back, the number maybe
// reused) is opened anew first, with the same protocol or address and port;
// the dead number is never closed (it may be someone else's now).

import { loadNative } from './native.js';
import type { NativeAddon, PollHandle } from './native.js';
import { allocBatch, checkOutgoing, IDEAL_BATCH_SIZE, MTU_MAX, oneSlab, packetStart } from './pool.js';
import type { PooledBatch } from './pool.js';
import { ClosedError, newIoStats, newRecvMeta } from './types.js';
import type { HasStats, IoStats, PacketBatch, PacketConn, ReceiveCallback, ReceiveFaultCallback, RecvMeta } from './types.js';

/** A failed receive is tried again after this many ms (the poll is paused meanwhile). */
export const RECV_RETRY_MS = 100;
/** recvmmsg errnos that mean the fd is no longer our socket: open a new one. */
const DEAD_FD = new Set(['EBADF', 'ENOTSOCK']);

export interface RawOptions {
  /** Datagrams per send()/receive callback (default 128). */
  readonly batchSize?: number;
  /** Largest datagram received intact, bytes (default MTU_MAX = 65535); longer ones are counted as truncated. */
  readonly mtu?: number;
  /** A UDP socket (udp.ts): payloads only, ports in meta.srcPort and dstPort. */
  readonly isUdp?: boolean;
  /**
   * proto 1 only: the ICMP types (0..31) to receive; the kernel drops every
   * other type before it is queued (ICMP_FILTER, raw(7)). Default: all.
   */
  readonly icmpTypes?: readonly number[];
  /**
   * The batch to receive into (its slots must hold `mtu`; batchSize is then
   * its size): a data path places it beside its GRO staging slab, so the
   * copy of a received packet into it is a copyWithin. Default: its own.
   */
  readonly rx?: PooledBatch;
  /**
   * Opens the same socket again (a new fd) when the old fd is dead (EBADF,
   * ENOTSOCK); openRaw/openUdp supply it. Without it a dead socket is
   * retried as it is, every RECV_RETRY_MS.
   */
  readonly reopen?: () => number;
  /** What onReceiveFault calls the socket (default "raw proto N", or "udp"). */
  readonly label?: string;
}

/** ICMP_FILTER's drop mask for a socket that receives only `types` (raw(7): bit t set = type t dropped). */
export function icmpDropMask(types: readonly number[]): number {
  let keep = 0;
  for (const t of types) {
    if (!Number.isInteger(t) || t < 0 || t > 31) throw new RangeError(`ICMP type must be 0..31, got ${t}`);
    keep |= 1 << t;
  }
  return ~keep;
}


/** Opens a raw IPv4 socket for `proto` (needs CAP_NET_RAW). */
export function openRaw(proto: number, opts: RawOptions = {}): RawConn {
  const n = loadNative();
  const open = (): number => {
    const fd = n.rawOpen(proto);
    try {
      if (opts.icmpTypes !== undefined) n.rawIcmpFilter(fd, icmpDropMask(opts.icmpTypes));
    } catch (e) {
      n.closeFd(fd);
      throw e;
    }
    return fd;
  };
  return new RawConn(n, open(), proto, { ...opts, reopen: open });
}

export class RawConn implements PacketConn, HasStats {
  readonly stats: IoStats = newIoStats();
  readonly batchSize: number;
  private readonly rx: PooledBatch;
  private readonly ifindex: Int32Array;
  private readonly src: Uint32Array;
  private readonly offsets: Int32Array;
  private readonly one = new Int32Array(1);
  private readonly oneSize = new Int32Array(1);
  private readonly oneDst = new Uint32Array(1);
  private readonly onePort = new Uint16Array(1);
  private readonly meta: RecvMeta;
  /** UDP sockets: the destination port of packet i of the next send() (set by the caller). */
  readonly dstPort: Uint16Array | undefined;
  private cb: ReceiveCallback | null = null;
  private faultCb: ReceiveFaultCallback | null = null;
  private handle: PollHandle | null = null;
  protected isClosed = false;
  /** Receives are failing: paused until the retry timer (a good receive tells faultCb null). */
  private isFailing = false;
  private retry: NodeJS.Timeout | null = null;
  /** Per-message errors of the latest sendEach. */
  private eachErrors = 0;
  private readonly reopen: (() => number) | null;
  /** For onReceiveFault: "raw proto 47", "udp 4500" (the socket, not a packet). */
  readonly what: string;
  private readonly onReadable = (): void => { this.receive(); };
  private readonly onRetry = (): void => { this.retryReceive(); };

  constructor(
    protected readonly n: NativeAddon,
    /** The socket (O_NONBLOCK), owned by this object until close(); replaced if it dies (opts.reopen). */
    private sock: number,
    /** IP protocol number this socket sends and receives. */
    readonly proto: number,
    opts: RawOptions,
  ) {
    this.reopen = opts.reopen ?? null;
    this.what = opts.label ?? (opts.isUdp === true ? 'udp' : `raw proto ${proto}`);
    this.batchSize = opts.rx?.batchSize ?? opts.batchSize ?? IDEAL_BATCH_SIZE;
    this.rx = opts.rx ?? allocBatch({ batchSize: this.batchSize, mtu: opts.mtu ?? MTU_MAX });
    if (this.rx.stride - this.rx.offset < (opts.mtu ?? MTU_MAX)) throw new RangeError(`rx slots of ${this.rx.stride - this.rx.offset} bytes hold no ${opts.mtu ?? MTU_MAX}-byte datagram`);
    this.ifindex = new Int32Array(this.batchSize);
    this.src = new Uint32Array(this.batchSize);
    this.offsets = new Int32Array(this.batchSize);
    this.meta = newRecvMeta(this.batchSize);
    this.dstPort = opts.isUdp === true ? new Uint16Array(this.batchSize) : undefined;
  }

  /** The socket's fd now (a dead one is replaced: opts.reopen). */
  get fd(): number { return this.sock; }

  send(b: PacketBatch, dst: Uint32Array, ok?: Uint8Array): number {
    if (this.isClosed) throw new ClosedError(`raw socket (proto ${this.proto})`);
    checkOutgoing(b, this.batchSize);
    if (dst.length < b.count) throw new RangeError(`dst holds ${dst.length} addresses for ${b.count} packets`);
    const slab = oneSlab(b, this.offsets);
    const sent = slab !== null
      ? this.n.sendBatch(this.sock, slab, this.offsets, b.sizes, dst, b.count, this.dstPort, ok)
      : this.sendEach(b, dst, ok);
    this.stats.txPackets += sent;
    const errors = slab !== null ? this.n.lastBatchErrors() : this.eachErrors;
    if (errors > 0) {
      this.stats.txErrors += errors;
      if (slab !== null) this.stats.lastError = this.n.lastSendError();
    }
    this.stats.txDropped += b.count - sent - errors;
    return sent;
  }

  onReceive(cb: ReceiveCallback): void {
    if (this.isClosed) throw new ClosedError(`raw socket (proto ${this.proto})`);
    this.cb = cb;
    if (this.handle === null && !this.isFailing) this.handle = this.n.pollStart(this.sock, this.onReadable);
  }

  onReceiveFault(cb: ReceiveFaultCallback): void { this.faultCb = cb; }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.cb = null;
    this.faultCb = null;
    if (this.retry !== null) clearTimeout(this.retry);
    this.retry = null;
    if (this.handle !== null) this.n.pollStop(this.handle);
    this.handle = null;
    if (this.sock >= 0) this.n.closeFd(this.sock);
  }

  private receive(): void {
    const cb = this.cb;
    if (cb === null || this.isClosed || this.isFailing) return;
    const rx = this.rx;
    const m = this.meta;
    let n: number;
    try {
      n = this.n.recvBatch(this.sock, rx.slab, rx.offset, rx.stride, this.batchSize, rx.sizes, this.ifindex, this.src,
        m.srcPort, m.dst, m.tos);
    } catch (e) {
      this.receiveFailed(e);
      return;
    }
    if (n === 0) return;
    let truncated = 0;
    for (let i = 0; i < n; i++) {
      if (rx.sizes[i]! < 0) { rx.sizes[i] = 0; truncated++; }
    }
    this.stats.rxPackets += n - truncated;
    this.stats.rxTruncated += truncated;
    rx.count = n;
    cb(rx, this.ifindex, this.src, m);
  }

  /** A failed recvmmsg: counted, told, the poll stopped; a retry in RECV_RETRY_MS (a dead fd dropped first). */
  private receiveFailed(e: unknown): void {
    const err = e instanceof Error ? e : new Error(String(e));
    const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
    this.stats.rxErrors++;
    this.stats.lastRxError = code;
    this.isFailing = true;
    if (this.handle !== null) this.n.pollStop(this.handle); // level-triggered: it would fire on every loop turn
    this.handle = null;
    if (DEAD_FD.has(code) && this.reopen !== null) this.sock = -1; // not ours any more: never closed
    this.faultCb?.(this.what, err);
    if (!this.isClosed && this.retry === null) this.retry = setTimeout(this.onRetry, RECV_RETRY_MS).unref();
  }

  /** The retry timer: a new socket if the old one died, then one receive; polled again if it worked. */
  private retryReceive(): void {
    this.retry = null;
    if (this.isClosed) return;
    if (this.sock < 0) {
      try {
        this.sock = this.reopen!();
      } catch (e) {
        this.receiveFailed(e);
        return;
      }
      this.reopened();
    }
    this.isFailing = false;
    this.receive();
    if (this.isFailing || this.isClosed) return;
    if (this.cb !== null && this.handle === null) {
      try {
        this.handle = this.n.pollStart(this.sock, this.onReadable);
      } catch (e) {
        this.receiveFailed(e); // a timer callback: a throw here would be an uncaughtException
        return;
      }
    }
    this.faultCb?.(this.what, null);
  }

  /** The dead fd was replaced by a new socket (opts.reopen): per-socket state a subclass keeps starts over. */
  protected reopened(): void { /* RawConn keeps none */ }

  /** Slow path for batches that are not one slab; EAGAIN ends it like sendBatch does. */
  private sendEach(b: PacketBatch, dst: Uint32Array, ok: Uint8Array | undefined): number {
    let sent = 0;
    this.eachErrors = 0;
    if (ok !== undefined) ok.fill(0, 0, b.count);
    for (let i = 0; i < b.count; i++) {
      this.one[0] = packetStart(b, i);
      this.oneSize[0] = b.sizes[i]!;
      this.oneDst[0] = dst[i]!;
      if (this.dstPort !== undefined) this.onePort[0] = this.dstPort[i]!;
      const took = this.n.sendBatch(this.sock, b.bufs[i]!, this.one, this.oneSize, this.oneDst, 1,
        this.dstPort !== undefined ? this.onePort : undefined);
      const failed = this.n.lastBatchErrors();
      if (took === 0 && failed === 0) break; // EAGAIN: the rest is dropped
      if (ok !== undefined) ok[i] = took;
      sent += took;
      this.eachErrors += failed;
      if (failed > 0) this.stats.lastError = this.n.lastSendError();
    }
    return sent;
  }
}
