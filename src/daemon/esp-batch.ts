// Slab geometry and batch scratch shared by the IPsec pumps (xfrm-datapath.ts,
// xfrmi-datapath.ts). Packet i of a slab sits at i*ESP_STRIDE + ESP_HEADROOM;
// an IP packet is at most 65535 bytes, so every slot keeps ESP_TAILROOM free
// after its packet for the trailer ESP appends in place. Nothing here
// allocates per packet.

import { native } from '../io/native.js';
import type { XfrmResult } from '../xfrm/result.js';

/** Outer headers ESP may prepend: IPv4 20 + UDP 8 + non-IKE marker 8 + ESP 8 + IV 16, rounded up. */
export const ESP_HEADROOM = 128;
/** Trailer: padding (≤ 15) + 2 + ICV (≤ 32), and room for TFC padding. */
export const ESP_TAILROOM = 2048;
export const ESP_BATCH = 32;
export const ESP_STRIDE = ESP_HEADROOM + 65536 + ESP_TAILROOM;

/** A slab of ESP_BATCH slots. */
export const espSlab = (): Uint8Array => new Uint8Array(ESP_BATCH * ESP_STRIDE);

/** The outer packets of one drain, sent with one sendmmsg. */
export class EspSendBatch {
  private readonly offs = new Int32Array(ESP_BATCH);
  private readonly lens = new Int32Array(ESP_BATCH);
  private readonly dsts = new Uint32Array(ESP_BATCH);
  count = 0;

  /** Queues the Xmit result r (its packet lies in the slab passed to flush). */
  add(r: XfrmResult): void {
    this.offs[this.count] = r.off;
    this.lens[this.count] = r.len;
    this.dsts[this.count] = r.dst;
    this.count++;
  }

  /** Sends what was queued from `slab` on raw socket fd; returns how many the kernel took. */
  flush(fd: number, slab: Uint8Array): number {
    const n = this.count;
    this.count = 0;
    return n > 0 ? native().sendBatch(fd, slab, this.offs, this.lens, this.dsts, n) : 0;
  }
}

/** Writes one packet b[off, off+len) into a TUN fd; true when the kernel took it. */
export class OneWriter {
  private readonly one = new Int32Array(1);
  private readonly oneLen = new Int32Array(1);

  write(fd: number, b: Uint8Array, off: number, len: number): boolean {
    this.one[0] = off;
    this.oneLen[0] = len;
    return native().writeBatch(fd, b, this.one, this.oneLen, 1) === 1;
  }
}
