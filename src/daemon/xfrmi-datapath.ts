// Packet pumps of the xfrm interfaces (xfrm-links.ts), mirroring
// net/xfrm/xfrm_interface.c:
//
//   xfrmi TUN readable → XfrmStack.output(if_id) → sendmmsg on the raw ESP
//     socket. Counters as xfrmi_xmit / xfrmi_xmit2 keep them: success
//     tx_packets/tx_bytes (inner length); no policy, no state or a block
//     policy (xfrm_lookup_with_ifid fails) → tx_carrier_errors + tx_errors +
//     tx_dropped (tx_err_link_failure, then xfrmi_xmit's tx_err); too big →
//     ICMP back, tx_errors + tx_dropped; a refusal after the lookup
//     (expired state, sequence exhausted) → tx_errors + tx_aborted_errors.
//   decrypted by a state of if_id N (XfrmDatapath) → written into the
//     interface with if_id N, rx_packets/rx_bytes (xfrmi_rcv_cb).

import { native } from '../io/native.js';
import type { PollHandle } from '../io/native.js';
import { XfrmStat } from '../xfrm/mib.js';
import { XDrop, XfrmResult, XVerdict } from '../xfrm/result.js';
import type { XfrmStack } from '../xfrm/xfrm.js';
import { ESP_BATCH, ESP_HEADROOM, ESP_STRIDE, EspSendBatch, espSlab, OneWriter } from './esp-batch.js';
import type { XfrmLink, XfrmLinks } from './xfrm-links.js';

const HEADROOM = ESP_HEADROOM;
const BATCH = ESP_BATCH;
const STRIDE = ESP_STRIDE;

interface Pump { readonly link: XfrmLink; readonly fd: number; readonly handle: PollHandle; readonly slab: Uint8Array; scheduled: boolean }

/** Refusals that happen in xfrm_lookup (→ tx_err_link_failure). */
const isLookupFailure = (r: XfrmResult): boolean =>
  r.drop === XDrop.NoPolicy || r.mib === XfrmStat.OutNoStates || r.mib === XfrmStat.OutPolBlock;

export class XfrmiDatapath {
  private readonly res = new XfrmResult();
  private readonly sizes = new Int32Array(BATCH);
  private readonly out = new EspSendBatch();
  private readonly writer = new OneWriter();
  private readonly pumps = new Map<string, Pump>();

  constructor(
    private readonly xfrm: XfrmStack, private readonly links: XfrmLinks, private readonly sendFd: () => number,
    private readonly onError: (where: string, e: unknown) => void, private readonly now: () => number,
  ) {}

  attach(l: XfrmLink, fd: number): void {
    const pump: Pump = { link: l, fd, slab: espSlab(), scheduled: false, handle: native().pollStart(fd, () => this.drain(pump, fd)) };
    this.pumps.set(l.name, pump);
  }

  detach(name: string): void {
    const p = this.pumps.get(name);
    if (p === undefined) return;
    native().pollStop(p.handle);
    this.pumps.delete(name);
  }

  stop(): void {
    for (const name of [...this.pumps.keys()]) this.detach(name);
  }

  /** A packet a state of `ifId` decrypted: onto that interface. False when none has the if_id. */
  deliver(ifId: number, b: Uint8Array, off: number, len: number): boolean {
    const l = this.links.byIfId(ifId);
    const p = l !== undefined ? this.pumps.get(l.name) : undefined;
    if (l === undefined || p === undefined) return false;
    if (!this.writer.write(p.fd, b, off, len)) {
      l.stats.rx_dropped++;
      return true;
    }
    l.stats.rx_packets++;
    l.stats.rx_bytes += len;
    return true;
  }

  private drain(p: Pump, fd: number): void {
    p.scheduled = false;
    const l = p.link;
    let count: number;
    try {
      count = native().readBatch(fd, p.slab, HEADROOM, STRIDE, BATCH, this.sizes); // stride = slot spacing; IP packets ≤ 65535 leave TAILROOM free
    } catch (e) {
      this.onError(`read ${l.name}`, e);
      return;
    }
    const r = this.res;
    const now = this.now();
    for (let i = 0; i < count; i++) {
      const len = this.sizes[i]!;
      if (len <= 0) continue;
      if (this.xfrm.output(p.slab, i * STRIDE + HEADROOM, len, l.ifId, false, now, r) === XVerdict.Xmit) {
        this.out.add(r);
        l.stats.tx_packets++;
        l.stats.tx_bytes += len;
        continue;
      }
      this.countRefusal(l, fd, r);
    }
    const queued = this.out.count;
    const sent = this.out.flush(this.sendFd(), p.slab);
    if (sent < queued) {
      l.stats.tx_errors += queued - sent;
      l.stats.tx_aborted_errors += queued - sent;
    }
    if (count === BATCH && !p.scheduled) {
      p.scheduled = true;
      setImmediate(() => this.drain(p, fd));
    }
  }

  private countRefusal(l: XfrmLink, fd: number, r: XfrmResult): void {
    l.stats.tx_errors++;
    if (isLookupFailure(r)) {
      l.stats.tx_carrier_errors++;
      l.stats.tx_dropped++;
    } else if (r.drop === XDrop.TooBig) {
      l.stats.tx_dropped++;
      if (r.icmpLen > 0) this.writer.write(fd, r.icmp, 0, r.icmpLen);
    } else {
      l.stats.tx_aborted_errors++;
    }
  }
}

