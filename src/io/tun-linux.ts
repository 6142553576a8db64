// TunDevice over a Linux TUN/TAP fd (drivers/net/tun.c) through the native
// addon: non-blocking fd, readiness from uv_poll on Node's loop, one readv(2)
// or write(2) per packet, one N-API call per batch.
//
// Read flow (pull: the consumer calls readInto() or read() once per batch):
//   readInto(b, done) parks b as the pending batch (read(b) is readInto with
//   a Promise around it), then resumes the poll (uv_poll, level-triggered) →
//   drain when readable. If the previous drain left packets queued, the fd
//   is still readable and the poll fires again on the next loop iteration,
//   after other I/O had its turn (as raw.ts relies on): no setImmediate,
//   which would allocate an Immediate per batch.
//   drain: readBatch of at most batchSize packets (bounded drain, style.md §5);
//     0 packets → keep waiting on the poll; n > 0 → done(n, null), called
//     synchronously from the poll callback (no Promise, no microtask hop).
//   A poll wakeup with no pending read pauses the poll (otherwise a readable
//   fd would wake the loop every iteration while the consumer is busy).
// Write (synchronous: the fd is non-blocking): writeBatch; refused packets are
// counted in stats, never thrown.

import { loadNative } from './native.js';
import type { NativeAddon, PollHandle } from './native.js';
import { checkOutgoing, IDEAL_BATCH_SIZE, oneSlab, packetStart, PooledBatch } from './pool.js';
import { ClosedError, newIoStats } from './types.js';
import type { HasStats, IoStats, PacketBatch, ReadDone, TunDevice } from './types.js';

/** SIOCGIFFLAGS bit (include/uapi/linux/if.h). */
export const IFF_UP = 0x1;

export interface TunOptions {
  /** TAP (Ethernet frames) instead of TUN (bare IP packets). */
  readonly tap?: boolean;
  /** IFF_MULTI_QUEUE: open the same name again for one queue per worker thread. */
  readonly multiQueue?: boolean;
  /** Most packets per read()/write() (default 128). */
  readonly batchSize?: number;
  /**
   * IFF_VNET_HDR + TUNSETOFFLOAD(TUN_F_CSUM|TUN_F_TSO4|TUN_F_TSO6): reads may
   * be TCP super-packets of up to 64 KiB with a partial checksum, writes may
   * be GRO super-packets; every packet carries its virtio_net_hdr at
   * offset - 10 (the contract in types.ts, TunDevice.vnetHdr). If the kernel
   * refuses TUNSETOFFLOAD the device keeps the vnet header with no offload
   * (offloadError says why): reads are then never GSO.
   */
  readonly offload?: boolean;
}

/** TUN_F_* (include/uapi/linux/if_tun.h). */
export const TUN_F_CSUM = 0x01;
export const TUN_F_TSO4 = 0x02;
export const TUN_F_TSO6 = 0x04;
/** virtio_net_hdr bytes before each packet with IFF_VNET_HDR (tun->vnet_hdr_sz default). */
export const VNET_HDR_LEN = 10;

const RESOLVED: Promise<void> = Promise.resolve();
const ZERO: Promise<number> = Promise.resolve(0);

/** Opens (creating if needed) the TUN/TAP device `name` ('' = kernel-chosen tunN/tapN). Needs CAP_NET_ADMIN. */
export function openTun(name: string, opts: TunOptions = {}): TunLinux {
  const n = loadNative();
  const vnet = opts.offload ?? false;
  const { fd, name: real } = n.tunOpen(name, opts.tap ?? false, opts.multiQueue ?? false, vnet);
  try {
    const t = new TunLinux(n, fd, real, opts.tap ?? false, opts.batchSize ?? IDEAL_BATCH_SIZE, vnet);
    if (vnet) t.setOffload(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6);
    return t;
  } catch (err) {
    n.closeFd(fd);
    throw err;
  }
}

export class TunLinux implements TunDevice, HasStats {
  readonly stats: IoStats = newIoStats();
  /** TUN_F_* flags the kernel accepted (0 without offload or when it refused them). */
  offloadFlags = 0;
  /** Why TUNSETOFFLOAD failed ('' if it did not): the device then runs without offload. */
  offloadError = '';
  /** Packet sizes + VNET_HDR_LEN for a write with vnet headers. */
  private readonly vsizes: Int32Array;
  private mtuBytes: number;
  private readonly handle: PollHandle;
  private isPaused = false;
  private isClosed = false;
  private pending: PacketBatch | null = null;
  /** The pending read's callback (readInto's, or read()'s Promise settling). */
  private done: ReadDone | null = null;
  /** Slab offsets of the packets of a batch being written. */
  private readonly offsets: Int32Array;
  /** One-packet scratch for batches that are not PooledBatch. */
  private readonly one = new Int32Array(1);
  private readonly oneSize = new Int32Array(1);
  private readonly onReadable = (): void => {
    if (this.pending === null) this.pause();
    else this.drain();
  };

  constructor(
    private readonly n: NativeAddon,
    /** The TUN/TAP file descriptor (O_NONBLOCK), owned by this object until close(). */
    readonly fd: number,
    readonly name: string,
    readonly isTap: boolean,
    readonly batchSize: number,
    /** IFF_VNET_HDR: each packet's virtio_net_hdr sits at its start - 10 (types.ts). */
    readonly vnetHdr = false,
  ) {
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 1024) throw new RangeError(`batchSize must be 1..1024, got ${batchSize}`);
    this.offsets = new Int32Array(batchSize);
    this.vsizes = new Int32Array(batchSize);
    this.mtuBytes = n.ifGetMtu(name);
    this.handle = n.pollStart(fd, this.onReadable);
    this.pause();
  }

  /** TUNSETOFFLOAD; a refusal is kept in offloadError (never thrown: the link works without). */
  setOffload(flags: number): void {
    try {
      this.n.tunSetOffload(this.fd, flags);
      this.offloadFlags = flags;
      this.offloadError = '';
    } catch (e) {
      this.offloadFlags = 0;
      this.offloadError = e instanceof Error ? e.message : String(e);
    }
  }

  /** TSO super-packets may be read (TUN_F_TSO4 or TUN_F_TSO6 granted). */
  get gso(): boolean { return (this.offloadFlags & (TUN_F_TSO4 | TUN_F_TSO6)) !== 0; }

  /** Device MTU in bytes (SIOCGIFMTU at open, then what was set here). */
  get mtu(): number { return this.mtuBytes; }
  /** Re-reads the MTU from the kernel (someone may have run `ip link set NAME mtu N`); bytes. */
  refreshMtu(): number {
    this.mtuBytes = this.n.ifGetMtu(this.name);
    return this.mtuBytes;
  }
  /** SIOCSIFMTU; throws the kernel's error (EINVAL outside 68..65535 for TUN). */
  set mtu(v: number) {
    this.n.ifSetMtu(this.name, v);
    this.mtuBytes = v;
  }

  get ifindex(): number { return this.n.ifIndex(this.name); }
  get isUp(): boolean { return (this.n.ifGetFlags(this.name) & IFF_UP) !== 0; }
  /** `ip link set NAME up`. */
  up(): void { this.n.ifSetUp(this.name, true); }
  /** `ip link set NAME down`. */
  down(): void { this.n.ifSetUp(this.name, false); }

  read(b: PacketBatch): Promise<number> {
    if (this.isClosed) return ZERO;
    this.checkRead(b);
    return new Promise<number>((resolve, reject) => {
      this.readInto(b, (n, err) => (err !== null ? reject(err) : resolve(n)));
    });
  }

  readInto(b: PacketBatch, done: ReadDone): void {
    if (this.isClosed) {
      done(0, null);
      return;
    }
    this.checkRead(b);
    this.done = done;
    this.pending = b;
    this.resume();
  }

  /** Programmer errors of read()/readInto(), thrown at the call. */
  private checkRead(b: PacketBatch): void {
    if (this.pending !== null) throw new Error(`TUN ${this.name}: read() while another read is pending`);
    if (b.bufs.length === 0) throw new RangeError('read() into a batch without buffers');
  }

  write(b: PacketBatch, ok?: Uint8Array): number {
    if (this.isClosed) throw new ClosedError(`TUN ${this.name}`);
    checkOutgoing(b, this.batchSize);
    const slab = oneSlab(b, this.offsets);
    let sizes = b.sizes;
    if (this.vnetHdr) { // the header is the 10 bytes before each packet (types.ts TunDevice.vnetHdr)
      sizes = this.vsizes;
      for (let i = 0; i < b.count; i++) {
        this.offsets[i] = this.offsets[i]! - VNET_HDR_LEN;
        sizes[i] = b.sizes[i]! + VNET_HDR_LEN;
      }
    }
    const written = slab !== null
      ? this.n.writeBatch(this.fd, slab, this.offsets, sizes, b.count, ok)
      : this.writeEach(b, ok);
    const errors = b.count - written;
    this.stats.txPackets += written;
    if (errors > 0) {
      this.stats.txErrors += errors;
      if (slab !== null) this.stats.lastError = this.n.lastWriteError();
    }
    return written;
  }

  close(): Promise<void> {
    if (this.isClosed) return RESOLVED;
    this.isClosed = true;
    this.n.pollStop(this.handle);
    this.n.closeFd(this.fd);
    if (this.pending !== null) this.settle(0, null);
    return RESOLVED;
  }

  private pause(): void {
    if (this.isPaused || this.isClosed) return;
    this.n.pollPause(this.handle, true);
    this.isPaused = true;
  }

  private resume(): void {
    if (!this.isPaused || this.isClosed) return;
    this.n.pollPause(this.handle, false);
    this.isPaused = false;
  }

  /** Reads at most one batch into the pending batch; resolves it if anything came. */
  private drain(): void {
    const b = this.pending!;
    const max = Math.min(this.batchSize, b.bufs.length);
    let n: number;
    const at = this.vnetHdr ? b.offset - VNET_HDR_LEN : b.offset;
    try {
      n = b instanceof PooledBatch
        ? this.n.readBatch(this.fd, b.slab, at, b.stride, max, b.sizes)
        : this.readEach(b, at, max);
    } catch (err) {
      this.settle(0, err);
      return;
    }
    if (n === 0) {
      this.resume();
      return;
    }
    let truncated = 0;
    const hdr = this.vnetHdr ? VNET_HDR_LEN : 0;
    for (let i = 0; i < n; i++) {
      const s = b.sizes[i]! - hdr;
      if (s < 0 || b.sizes[i]! < 0) { b.sizes[i] = 0; truncated++; } else b.sizes[i] = s;
    }
    this.stats.rxPackets += n - truncated;
    this.stats.rxTruncated += truncated;
    b.count = n;
    this.settle(n, null);
  }

  private settle(n: number, err: unknown): void {
    const done = this.done!;
    this.pending = null;
    this.done = null;
    done(n, err);
  }

  /** Slow path for a batch whose bufs are not one slab: one native call per packet. */
  private readEach(b: PacketBatch, at: number, max: number): number {
    let i = 0;
    for (; i < max; i++) {
      const buf = b.bufs[i]!;
      if (this.n.readBatch(this.fd, buf, at, buf.length, 1, this.oneSize) === 0) break;
      b.sizes[i] = this.oneSize[0]!;
    }
    return i;
  }

  /** Slow path for a batch whose packets are not in one slab: one native call per packet. */
  private writeEach(b: PacketBatch, ok: Uint8Array | undefined): number {
    let written = 0;
    for (let i = 0; i < b.count; i++) {
      const hdr = this.vnetHdr ? VNET_HDR_LEN : 0;
      this.one[0] = packetStart(b, i) - hdr;
      this.oneSize[0] = b.sizes[i]! + hdr;
      const took = this.n.writeBatch(this.fd, b.bufs[i]!, this.one, this.oneSize, 1);
      if (took === 0) this.stats.lastError = this.n.lastWriteError();
      if (ok !== undefined) ok[i] = took;
      written += took;
    }
    return written;
  }
}
