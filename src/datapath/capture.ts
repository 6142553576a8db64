// `tunkit capture`: taps on a device's packets in the data path, as pcap
// records for a sink (the control server streams them to the CLI).
//
//   inner  what the device carries: read from it (out) and written to it
//          (in), as the kernel's tcpdump on the device would show them —
//          LINKTYPE_RAW for TUN, LINKTYPE_ETHERNET for TAP;
//   outer  the encapsulated IPv4 packets sent for it and received for it
//          (LINKTYPE_RAW), as tcpdump on the underlay would show them.
//
// Cost: a Port without taps has `taps === null`, checked once per read batch,
// send flush and write flush (and once per delivered packet on receive,
// where the port is found per packet). With taps, each record is copied
// (PcapWriter.record) only if the sink has room; a full sink drops the packet
// and counts it: a slow client never holds the data path back.

import type { GatherBatch, PooledBatch } from '../io/pool.js';
import type { Port } from './port.js';
import { LINKTYPE_ETHERNET, LINKTYPE_RAW, PcapWriter } from '../wire/pcap.js';

export type CaptureSide = 'inner' | 'outer';

/** Where one capture's records go (the control server's per-client stream). */
export interface CaptureSink {
  /** True when the client is behind: the next record is dropped and counted. */
  isFull(): boolean;
  /** One pcap record (header + data, its own bytes). */
  push(rec: Uint8Array): void;
  /** The device went away: no more records. */
  end(): void;
}

/** One client's capture of one side of one device. */
export class CaptureTap {
  captured = 0;
  dropped = 0;
  readonly writer: PcapWriter;

  constructor(readonly side: CaptureSide, linktype: number, private readonly sink: CaptureSink, private readonly wallNow: () => number) {
    this.writer = new PcapWriter(linktype);
  }

  /** Records buf[off, off+len) (microsecond timestamps from the wall clock, ms). */
  packet(buf: Uint8Array, off: number, len: number): void {
    if (this.sink.isFull()) {
      this.dropped++;
      return;
    }
    const ms = this.wallNow();
    const sec = Math.floor(ms / 1000);
    this.sink.push(this.writer.record(sec >>> 0, Math.floor((ms - sec * 1000) * 1000), buf, off, len));
    this.captured++;
  }

  end(): void { this.sink.end(); }
}

/** The linktype of a side: TAP inner frames are Ethernet, everything else raw IP. */
export function captureLinktype(side: CaptureSide, l2Len: number): number {
  return side === 'inner' && l2Len > 0 ? LINKTYPE_ETHERNET : LINKTYPE_RAW;
}

/** A port's taps; the port holds null instead of an empty one. */
export class PortTaps {
  readonly inner: CaptureTap[] = [];
  readonly outer: CaptureTap[] = [];

  get isEmpty(): boolean { return this.inner.length === 0 && this.outer.length === 0; }

  /** Packets 0..n of a device read batch (slot starts past any virtio-net header). */
  readBatch(b: PooledBatch, n: number): void {
    for (let i = 0; i < n; i++) {
      const len = b.sizes[i]!;
      if (len > 0) this.one(this.inner, b.slab, b.start(i), len);
    }
  }

  /** Every packet queued in a gather batch (a send or write queue). */
  gather(taps: readonly CaptureTap[], b: GatherBatch): void {
    for (let i = 0; i < b.count; i++) this.one(taps, b.bufs[i]!, b.starts[i]!, b.sizes[i]!);
  }

  one(taps: readonly CaptureTap[], buf: Uint8Array, off: number, len: number): void {
    for (let k = 0; k < taps.length; k++) taps[k]!.packet(buf, off, len);
  }
}

/** Adds a tap on `side` of p; stop() removes it (and p's PortTaps once empty). */
export function addTap(p: Port, side: CaptureSide, sink: CaptureSink, wallNow: () => number): { tap: CaptureTap; stop: () => void } {
  const tap = new CaptureTap(side, captureLinktype(side, p.l2Len), sink, wallNow);
  const taps = p.taps ?? new PortTaps();
  const list = side === 'inner' ? taps.inner : taps.outer;
  list.push(tap);
  p.taps = taps;
  return {
    tap,
    stop: () => {
      const i = list.indexOf(tap);
      if (i >= 0) list.splice(i, 1);
      if (taps.isEmpty && p.taps === taps) p.taps = null;
    },
  };
}
