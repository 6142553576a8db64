// The in direction's device writes: packets a receive batch delivers are
// queued per device (by reference into the receive slab) and written with
// one write call per device once the batch is handled; then each packet's
// device counters by its result. ICMP errors the cores build go out at once.

import { GatherBatch } from '../io/pool.js';
import { xfrmiRxDone } from '../xfrm/xfrmi.js';
import type { Port } from './port.js';

export class DeviceWrites {
  /**
   * Ports whose write queues hold packets of the receive batch being handled:
   * dirtyPorts[0, dirtyCount). A count, not length = 0, empties it: V8 frees
   * an emptied array's backing store, and the next push would allocate one
   * per receive batch.
   */
  private readonly dirtyPorts: Port[] = [];
  private dirtyCount = 0;
  private readonly one = new GatherBatch(1);
  /** The port an offload flush is counting for (done() is bound once). */
  private counting: Port | null = null;
  private readonly doneBound = (len: number, isWritten: boolean): void => this.done(this.counting!, len, isWritten);

  /** Queues slab[off, off+len) for p's device (flushed before the receive callback returns). */
  queue(p: Port, slab: Uint8Array, off: number, len: number): void {
    const q = p.writes;
    if (q.batch.isFull) this.flushPort(p);
    q.batch.add(slab, off, len);
    if (!q.isQueued) {
      q.isQueued = true;
      this.dirtyPorts[this.dirtyCount++] = p;
    }
  }

  /** One write call per device with queued packets. */
  flush(): void {
    for (let k = 0; k < this.dirtyCount; k++) {
      const p = this.dirtyPorts[k]!;
      p.writes.isQueued = false;
      this.flushPort(p);
    }
    this.dirtyCount = 0;
  }

  /** One write call for p's queue; a refused packet is rx_dropped (netif_rx failing), xfrmi counts its own. */
  private flushPort(p: Port): void {
    const q = p.writes;
    const count = q.batch.count;
    if (count === 0) return;
    if (p.taps !== null) p.taps.gather(p.taps.inner, q.batch);
    if (p.offload !== null && p.isOpen) {
      this.counting = p;
      try {
        p.offload.flush(q.batch, this.doneBound);
      } finally {
        q.batch.clear();
      }
      return;
    }
    if (p.isOpen) p.dev.write(q.batch, q.ok);
    else q.ok.fill(0, 0, count);
    for (let i = 0; i < count; i++) this.done(p, q.batch.sizes[i]!, q.ok[i] === 1);
    q.batch.clear();
  }

  /** One written (or refused) packet's device counters. */
  private done(p: Port, len: number, isWritten: boolean): void {
    if (p.xstats !== null) xfrmiRxDone(p.xstats, len, isWritten);
    else if (!isWritten && p.tunnel !== null) p.tunnel.stats.rx_dropped++;
  }

  /** Writes one packet (an ICMP error the cores built) into p's device now. */
  writeOne(p: Port, buf: Uint8Array, len: number): void {
    if (!p.isOpen) return;
    if (p.taps !== null) p.taps.one(p.taps.inner, buf, 0, len);
    if (p.offload !== null) {
      p.offload.writeOne(buf, len);
      return;
    }
    const b = this.one;
    b.clear();
    b.add(buf, 0, len);
    p.dev.write(b);
  }

  /** Forgets everything queued (after a device failed mid-flush). */
  reset(): void {
    for (let k = 0; k < this.dirtyCount; k++) {
      const p = this.dirtyPorts[k]!;
      p.writes.isQueued = false;
      p.writes.batch.clear();
    }
    this.dirtyCount = 0;
  }
}
