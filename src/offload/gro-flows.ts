// The scan half of GRO (gro.ts): classifies each packet of a batch and
// chains mergeable TCP segments into runs, one open run per flow. A flow is
// (IP version, source, destination, ports); its open run is found through an
// open-addressing hash table that maps the flow to the latest run it started.
// Same-flow order is kept by construction: a segment either extends its
// flow's open run (it is then the run's last packet) or closes it.
//
// State is typed arrays sized at construction (maxBatch packets, as many
// runs); scan() overwrites what it uses and reads nothing left from an
// earlier batch except through what it has just written.

import { be32s, bytesEqual } from '../wire/bytes.js';
import { Drop } from '../wire/drop.js';
import { Ip4Packet } from '../wire/ip4.js';
import { Ip6Packet } from '../wire/ip6.js';
import { TCP_PSH, TcpHeader } from '../wire/tcp.js';
import {
  ip4Compatible, ip4GroCandidate, ip6Compatible, ip6GroCandidate, mix, tcpChecksumOk4, tcpChecksumOk6,
  tcpCompatible, tcpMergeable,
} from './gro-match.js';
import type { SegmentSlots } from './tso.js';

const OPEN = 1;
const PSH = 2;
const VERIFIED = 4;
const DISSOLVED = 8;
/** IPv4 ID pattern of a run, decided by its second packet (inet_gro_flush). */
const ID_INCREMENTING = 16;
const ID_FIXED = 32;

const NOT_TCP = 0;
const TCP_PASS = 1;
const TCP_MERGEABLE = 2;

export class GroFlows {
  // Per packet.
  private readonly pRun: Int32Array;
  private readonly pNext: Int32Array;
  private readonly pV6: Uint8Array;
  private readonly pHdr: Int32Array;
  private readonly pPayload: Int32Array;
  private readonly pHash: Int32Array;
  // Per run.
  private readonly rHead: Int32Array;
  private readonly rLast: Int32Array;
  private readonly rCount: Int32Array;
  private readonly rPayload: Int32Array;
  private readonly rMss: Int32Array;
  /** Next expected sequence number of run r, as a signed int32 (TcpHeader.seqS): never a heap number. */
  private readonly rNextSeq: Int32Array;
  private readonly rState: Int32Array;
  private runs = 0;
  // Flow table: slot → run index, −1 empty.
  private readonly table: Int32Array;
  private readonly mask: number;
  // Views: a* for a run's head, b* for the packet being placed.
  private readonly ip4a = new Ip4Packet();
  private readonly ip4b = new Ip4Packet();
  private readonly ip6a = new Ip6Packet();
  private readonly ip6b = new Ip6Packet();
  private readonly tcpa = new TcpHeader();
  private readonly tcpb = new TcpHeader();
  private bufs: readonly Uint8Array[] = [];
  private off = 0;
  private sizes: Int32Array = new Int32Array(0);

  /** verify: check every merged segment's TCP checksum (see GroCoalescer). */
  constructor(maxBatch: number, private readonly verify: boolean) {
    if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new RangeError(`GRO maxBatch ${maxBatch}`);
    this.pRun = new Int32Array(maxBatch);
    this.pNext = new Int32Array(maxBatch);
    this.pV6 = new Uint8Array(maxBatch);
    this.pHdr = new Int32Array(maxBatch);
    this.pPayload = new Int32Array(maxBatch);
    this.pHash = new Int32Array(maxBatch);
    this.rHead = new Int32Array(maxBatch);
    this.rLast = new Int32Array(maxBatch);
    this.rCount = new Int32Array(maxBatch);
    this.rPayload = new Int32Array(maxBatch);
    this.rMss = new Int32Array(maxBatch);
    this.rNextSeq = new Int32Array(maxBatch);
    this.rState = new Int32Array(maxBatch);
    let size = 16;
    while (size < maxBatch * 2) size *= 2;
    this.table = new Int32Array(size);
    this.mask = size - 1;
  }

  runOf(i: number): number { return this.pRun[i]!; }
  next(i: number): number { return this.pNext[i]!; }
  isV6(i: number): boolean { return this.pV6[i] === 1; }
  /** IP + TCP header bytes of packet i. */
  hdrLen(i: number): number { return this.pHdr[i]!; }
  payloadLen(i: number): number { return this.pPayload[i]!; }
  runHead(r: number): number { return this.rHead[r]!; }
  runCount(r: number): number { return this.rCount[r]!; }
  runPayload(r: number): number { return this.rPayload[r]!; }
  runMss(r: number): number { return this.rMss[r]!; }
  runPsh(r: number): boolean { return (this.rState[r]! & PSH) !== 0; }
  runDissolved(r: number): boolean { return (this.rState[r]! & DISSOLVED) !== 0; }
  dissolve(r: number): void { this.rState[r] = this.rState[r]! | DISSOLVED; }

  /** Classifies batch packets 0..count-1 and builds runs (sizes already checked by the caller). */
  scan(batch: SegmentSlots, count: number): void {
    this.bufs = batch.bufs;
    this.off = batch.offset;
    this.sizes = batch.sizes;
    this.runs = 0;
    this.table.fill(-1);
    for (let i = 0; i < count; i++) {
      this.pRun[i] = -1;
      this.pNext[i] = -1;
      const kind = this.classify(i);
      if (kind === NOT_TCP) continue;
      const slot = this.lookup(i);
      const r = this.table[slot]!;
      const open = r >= 0 && (this.rState[r]! & OPEN) !== 0;
      if (kind === TCP_PASS) {
        if (open) this.rState[r] = this.rState[r]! & ~OPEN;
        continue;
      }
      if (open && this.tryAppend(r, i)) continue;
      if (open) this.rState[r] = this.rState[r]! & ~OPEN;
      if (this.pRun[i] === -2) { // refused for a bad checksum: written alone
        this.pRun[i] = -1;
        continue;
      }
      this.table[slot] = this.startRun(i);
    }
  }

  /** Binds the b* views to packet i and records its shape; NOT_TCP, TCP_PASS or TCP_MERGEABLE. */
  private classify(i: number): number {
    const b = this.bufs[i]!;
    const size = this.sizes[i]!;
    const o = this.off;
    let l3: number;
    let h: number;
    if (size > 0 && b[o]! >>> 4 === 4) {
      const ip = this.ip4b;
      if (ip.check(b, o, size) !== Drop.None || !ip4GroCandidate(ip, size)) return NOT_TCP;
      l3 = 20;
      // Addresses as signed words (no uint32 heap number), as the IPv6 loop below.
      h = mix(mix(0x4, be32s(b, o + 12)), be32s(b, o + 16));
      this.pV6[i] = 0;
    } else if (size > 0 && b[o]! >>> 4 === 6) {
      const ip = this.ip6b;
      if (ip.check(b, o, size) !== Drop.None || !ip6GroCandidate(ip, size)) return NOT_TCP;
      l3 = 40;
      h = 0x6;
      for (let k = 8; k < 40; k += 4) h = mix(h, be32s(b, o + k));
      this.pV6[i] = 1;
    } else {
      return NOT_TCP;
    }
    const tcp = this.tcpb;
    if (!tcp.check(b, o + l3, size - l3)) return NOT_TCP;
    this.pHash[i] = mix(h, (tcp.srcPort << 16) | tcp.dstPort);
    this.pHdr[i] = l3 + tcp.headerLen;
    this.pPayload[i] = tcp.payloadLen;
    return tcpMergeable(tcp) ? TCP_MERGEABLE : TCP_PASS;
  }

  /** Table slot holding packet i's flow, or the empty slot where it would go. */
  private lookup(i: number): number {
    let slot = this.pHash[i]! & this.mask;
    for (;;) {
      const r = this.table[slot]!;
      if (r < 0 || this.sameFlow(this.rHead[r]!, i)) return slot;
      slot = (slot + 1) & this.mask;
    }
  }

  private sameFlow(a: number, i: number): boolean {
    if (this.pHash[a] !== this.pHash[i] || this.pV6[a] !== this.pV6[i]) return false;
    const ba = this.bufs[a]!;
    const bi = this.bufs[i]!;
    const o = this.off;
    const l3 = this.pV6[i] === 1 ? 40 : 20;
    const addr = this.pV6[i] === 1 ? 8 : 12;
    return bytesEqual(ba, o + addr, bi, o + addr, l3 - addr) && bytesEqual(ba, o + l3, bi, o + l3, 4);
  }

  private startRun(i: number): number {
    const r = this.runs++;
    this.rHead[r] = i;
    this.rLast[r] = i;
    this.rCount[r] = 1;
    this.rPayload[r] = this.pPayload[i]!;
    this.rMss[r] = this.pPayload[i]!;
    this.rNextSeq[r] = (this.tcpb.seqS + this.pPayload[i]!) | 0;
    this.rState[r] = OPEN | ((this.tcpb.flags & TCP_PSH) !== 0 ? PSH : 0);
    if ((this.rState[r]! & PSH) !== 0) this.rState[r] = this.rState[r]! & ~OPEN;
    this.pRun[i] = r;
    return r;
  }

  /**
   * Appends packet i (b* views bound) to open run r when every GRO rule
   * holds. False leaves r unchanged; pRun[i] = −2 flags a checksum failure.
   */
  private tryAppend(r: number, i: number): boolean {
    const mss = this.rMss[r]!;
    const n = this.pPayload[i]!;
    const last = this.rLast[r]!;
    if (this.pPayload[last] !== mss || n > mss || this.tcpb.seqS !== this.rNextSeq[r]) return false;
    const v6 = this.pV6[i] === 1;
    const l3 = v6 ? 40 : 20;
    if ((v6 ? this.pHdr[i]! - l3 : this.pHdr[i]!) + this.rPayload[r]! + n > 0xffff) return false;
    const h = this.rHead[r]!;
    const hb = this.bufs[h]!;
    const size = this.sizes[h]!;
    this.tcpa.check(hb, this.off + l3, size - l3);
    if (!tcpCompatible(this.tcpa, this.tcpb)) return false;
    if (v6) {
      this.ip6a.bind(hb, this.off, size);
      if (!ip6Compatible(this.ip6a, this.ip6b)) return false;
    } else {
      this.ip4a.bind(hb, this.off, size);
      if (!ip4Compatible(this.ip4a, this.ip4b) || !this.ip4IdFits(r)) return false;
    }
    if (!this.checksumsOk(r, i, v6)) return false;
    this.pRun[i] = r;
    this.pNext[last] = i;
    this.rLast[r] = i;
    this.rCount[r] = this.rCount[r]! + 1;
    this.rPayload[r] = this.rPayload[r]! + n;
    this.rNextSeq[r] = (this.rNextSeq[r]! + n) | 0;
    if ((this.tcpb.flags & TCP_PSH) !== 0) this.rState[r] = (this.rState[r]! | PSH) & ~OPEN;
    return true;
  }

  /**
   * IPv4 IDs in a run either increase by one per packet, or (with DF) stay
   * fixed; the second packet decides (inet_gro_flush). Sets the mode then.
   */
  private ip4IdFits(r: number): boolean {
    const delta = (this.ip4b.ident - this.ip4a.ident) & 0xffff;
    const st = this.rState[r]!;
    const k = this.rCount[r]!;
    if ((st & ID_INCREMENTING) !== 0) return delta === k;
    if ((st & ID_FIXED) !== 0) return delta === 0;
    if (delta === 1) this.rState[r] = st | ID_INCREMENTING;
    else if (delta === 0 && this.ip4a.df) this.rState[r] = st | ID_FIXED;
    else return false;
    return true;
  }

  /** Verifies packet i's TCP checksum, and the head's once; a failing head dissolves run r. */
  private checksumsOk(r: number, i: number, v6: boolean): boolean {
    if (!this.verify) return true;
    if ((this.rState[r]! & VERIFIED) === 0) {
      const ok = v6 ? tcpChecksumOk6(this.ip6a, this.tcpa) : tcpChecksumOk4(this.ip4a, this.tcpa);
      if (!ok) {
        this.pRun[this.rHead[r]!] = -1; // the head goes alone; packet i starts over
        return false;
      }
      this.rState[r] = this.rState[r]! | VERIFIED;
    }
    const ok = v6 ? tcpChecksumOk6(this.ip6b, this.tcpb) : tcpChecksumOk4(this.ip4b, this.tcpb);
    if (!ok) this.pRun[i] = -2;
    return ok;
  }
}
