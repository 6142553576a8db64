// IKEv2 fragmentation (RFC 7383), sans-I/O: splitting an SK-protected
// message of ours into Encrypted Fragment (SKF) payloads when it would not
// fit one datagram, and reassembling the peer's.
//
//   negotiation (§2.3)  IKEV2_FRAGMENTATION_SUPPORTED in IKE_SA_INIT, both ways
//                       (initiator.ts, responder.ts); swanctl `fragmentation`:
//                         yes     announce, and fragment our oversized messages
//                         accept  announce, never fragment our own (strongSwan's meaning)
//                         force   as yes (strongSwan's force is for IKEv1 only)
//                         no      do not announce, never fragment
//                       Fragments from the peer are reassembled whatever the mode.
//   send (§2.5)         the SK message > budget → content split into n pieces,
//                       each sealed on its own (its own IV and ICV); fragment 1
//                       carries the first inner type, the others 0. The budget is
//                       charon.fragment_size (a whole IP datagram) less the IP and
//                       UDP headers and the non-ESP marker on 4500 (§2.5.1).
//                       A retransmission resends every fragment (core.ts).
//   receive (§2.6)      each fragment is authenticated and decrypted alone before
//                       it counts; duplicates and fragments with fewer Total
//                       Fragments than the stored ones are dropped; more Total
//                       Fragments (the sender re-fragmented smaller) restart the
//                       reassembly; at most MAX_FRAGMENTS pieces and
//                       charon.max_packet bytes of content per message.
//                       Network input never throws: drops come back as an IkeDecodeError.

import { IKE_HDR_LEN } from '../wire/ike/consts.js';
import { IkeDecodeError } from '../wire/ike/header.js';
import type { IkeHeader } from '../wire/ike/header.js';
import type { HeaderFields } from '../wire/ike/message.js';
import { chainLen, emitChain, firstType, parseChain } from '../wire/ike/payloads.js';
import type { Payload } from '../wire/ike/payloads.js';
import { parseSkfHeader, SKF_HDR_LEN } from '../wire/ike/skf.js';
import { openContent, sealContent, sealedLen } from './sk.js';
import type { SkKeys } from './sk.js';

/** swanctl.conf `connections.<conn>.fragmentation` (strongSwan's default: yes). */
export type FragMode = 'yes' | 'accept' | 'force' | 'no';
export const FRAG_MODES: readonly FragMode[] = ['yes', 'accept', 'force', 'no'];

/** We announce support (§2.3). */
export const announcesFrag = (m: FragMode): boolean => m !== 'no';
/** We fragment our own messages once both sides announced support. */
export const sendsFrag = (m: FragMode): boolean => m === 'yes' || m === 'force';

/** Most fragments one message may arrive in (tunkit's bound; Total Fragments is 16 bits on the wire). */
export const MAX_FRAGMENTS = 255;

/**
 * UDP payload bytes one IKE datagram of ours may take: fragment_size (a
 * whole IP datagram; 0 = 576 for IPv4, 1280 for IPv6, as charon's 0) less
 * the IPv4 (20) or IPv6 (40) header, UDP (8) and, on 4500, the non-ESP
 * marker (4) (RFC 7383 §2.5.1; no IP options assumed).
 */
export function datagramBudget(fragmentSize: number, remoteAddr: string, isNatT: boolean): number {
  const isV6 = remoteAddr.includes(':');
  const ipLen = fragmentSize !== 0 ? fragmentSize : isV6 ? 1280 : 576;
  return ipLen - (isV6 ? 40 : 20) - 8 - (isNatT ? 4 : 0);
}

/** Content bytes one SKF fragment carries within `maxLen` datagram bytes (at least 1, else a RangeError). */
export function fragContentLen(maxLen: number, k: SkKeys): number {
  const e = k.encr;
  const avail = maxLen - IKE_HDR_LEN - SKF_HDR_LEN - e.ivLen - (e.isAead ? e.icvLen : k.integ!.icvLen);
  const n = Math.floor(avail / e.blockLen) * e.blockLen - 1; // the Pad Length byte; no padding past it
  if (n < 1) throw new RangeError(`fragContentLen: ${maxLen} bytes leave no room for content`);
  return n;
}

/**
 * Seals `inner` as one SK message, or, when `maxLen` is given and that
 * message would be longer, as SKF fragments of at most maxLen bytes each.
 * `nextIv` yields a fresh IV per datagram (never reused: GCM).
 */
export function sealMaybeFragmented(h: HeaderFields, inner: readonly Payload[], k: SkKeys, nextIv: () => Uint8Array, maxLen: number | null): Uint8Array[] {
  const content = new Uint8Array(chainLen(inner));
  emitChain(inner, content, 0);
  const first = firstType(inner);
  try {
    if (maxLen === null || sealedLen(content.length, k, false) <= maxLen) return [sealContent(h, first, null, content, k, nextIv())];
    const per = fragContentLen(maxLen, k);
    const totalFrags = Math.ceil(content.length / per);
    if (totalFrags > 0xffff) throw new RangeError(`sealMaybeFragmented: ${totalFrags} fragments`);
    const out: Uint8Array[] = [];
    for (let i = 0; i < totalFrags; i++) {
      const piece = content.subarray(i * per, Math.min(content.length, (i + 1) * per));
      out.push(sealContent(h, i === 0 ? first : 0, { fragNum: i + 1, totalFrags }, piece, k, nextIv()));
    }
    return out;
  } finally {
    content.fill(0);
  }
}

/** Reassembly limits: content bytes (charon.max_packet) and fragments per message. */
export interface ReassemblyLimits { readonly maxPacket: number; readonly maxFragments: number }

/**
 * One direction's reassembly (the peer's requests, or the responses to
 * ours): at most one message at a time, the one whose Message ID the core
 * expects (the core checks the ID before calling add).
 */
export class Reassembler {
  private mid = -1;
  private parts: (Uint8Array | null)[] = [];
  private count = 0;
  private bytes = 0;
  private firstInner = 0;

  /** Fragments held now (for tests and logs). */
  get held(): number { return this.count; }

  /**
   * One SKF datagram `msg` (header h, SKF payload at skOff, running to the
   * end). Returns the reassembled inner payloads when this was the last
   * piece, null when more are awaited, or an IkeDecodeError saying why the
   * fragment was dropped. Never throws on network input.
   */
  add(msg: Uint8Array, h: IkeHeader, skOff: number, k: SkKeys, lim: ReassemblyLimits): Payload[] | IkeDecodeError | null {
    const f = parseSkfHeader(msg, skOff, h.length - skOff);
    if (f instanceof IkeDecodeError) return f;
    if (f.totalFrags > lim.maxFragments) return new IkeDecodeError(`${f.totalFrags} fragments exceed the limit of ${lim.maxFragments}`);
    const isNew = this.mid !== h.messageId; // what is held is stale, but dropped only once this one authenticates
    const total = isNew ? 0 : this.parts.length;
    if (total !== 0 && f.totalFrags < total) return new IkeDecodeError(`fragment ${f.fragNum} of ${f.totalFrags}, fewer than the ${total} being reassembled`);
    if (f.totalFrags === total && this.parts[f.fragNum - 1] !== null) return new IkeDecodeError(`fragment ${f.fragNum} of ${total} is a duplicate`);
    const content = openContent(msg, h, skOff, SKF_HDR_LEN, k);
    if (content instanceof IkeDecodeError) return new IkeDecodeError(`fragment ${f.fragNum} of ${f.totalFrags}: ${content.why}`);
    if (isNew || f.totalFrags > total) { // §2.6: more Total Fragments = re-fragmented by the sender; restart (authenticated: a forgery cannot reset us)
      this.clear();
      this.mid = h.messageId;
      this.parts = new Array<Uint8Array | null>(f.totalFrags).fill(null);
    }
    if (this.bytes + content.length > lim.maxPacket) {
      content.fill(0);
      this.clear();
      return new IkeDecodeError(`reassembled message would exceed ${lim.maxPacket} bytes: all fragments dropped`);
    }
    this.parts[f.fragNum - 1] = content;
    this.count++;
    this.bytes += content.length;
    if (f.fragNum === 1) this.firstInner = f.nextPayload;
    return this.count === this.parts.length ? this.finish() : null;
  }

  private finish(): Payload[] | IkeDecodeError {
    const all = new Uint8Array(this.bytes);
    let o = 0;
    for (const p of this.parts) { all.set(p!, o); o += p!.length; }
    const out = parseChain(all, 0, all.length, this.firstInner);
    all.fill(0);
    this.clear();
    return out;
  }

  /** Drops (and wipes) whatever is held. */
  clear(): void {
    for (const p of this.parts) p?.fill(0);
    this.parts = [];
    this.mid = -1;
    this.count = 0;
    this.bytes = 0;
    this.firstInner = 0;
  }
}

/** True when msg's SKF payload is an authentic fragment number 1 (RFC 7383 §2.6.1: it alone triggers a response retransmission). */
export function isFirstFragment(msg: Uint8Array, h: IkeHeader, skOff: number, k: SkKeys): boolean {
  const f = parseSkfHeader(msg, skOff, h.length - skOff);
  if (f instanceof IkeDecodeError || f.fragNum !== 1) return false;
  const c = openContent(msg, h, skOff, SKF_HDR_LEN, k);
  if (c instanceof IkeDecodeError) return false;
  c.fill(0);
  return true;
}

/** What the core counts of fragmentation (all SAs), and its one log line per fragmented message. */
export class FragCounters {
  /** Fragments of the peer's accepted (authenticated, new), and messages reassembled from them. */
  rxFragments = 0;
  rxReassembled = 0;
  /** Fragments of the peer's dropped (malformed, bad ICV, duplicate, over a bound), by the reason's first words. */
  readonly rxDropped = new Map<string, number>();
  /** Messages of ours sent as fragments, and the fragments. */
  txFragmented = 0;
  txFragments = 0;

  /** Reassembler.add, counted and never throwing; a drop's why is counted under `kind`. */
  add(r: Reassembler, msg: Uint8Array, h: IkeHeader, skOff: number, k: SkKeys, lim: { readonly maxPacket: number }): Payload[] | IkeDecodeError | null {
    const out = r.add(msg, h, skOff, k, { maxPacket: lim.maxPacket, maxFragments: MAX_FRAGMENTS });
    if (out instanceof IkeDecodeError) {
      const kind = dropKind(out.why);
      this.rxDropped.set(kind, (this.rxDropped.get(kind) ?? 0) + 1);
      return out;
    }
    this.rxFragments++;
    if (out !== null) this.rxReassembled++;
    return out;
  }

  /** Counts a message of ours sent as `out.length` fragments and logs it as charon does. */
  sent(host: { log(level: 'info', msg: string): void }, what: string, out: readonly Uint8Array[]): void {
    this.txFragmented++;
    this.txFragments += out.length;
    host.log('info', `${what}: splitting IKE message (${out.reduce((n, d) => n + d.length, 0)} bytes) into ${out.length} fragments`);
  }

  /** Total fragments dropped. */
  get rxDroppedTotal(): number { let n = 0; for (const v of this.rxDropped.values()) n += v; return n; }
}

/** A drop reason's class, for the counters. */
function dropKind(why: string): string {
  if (why.includes('duplicate')) return 'duplicate';
  if (why.includes('integrity') || why.includes('does not fit') || why.includes('pad length')) return 'auth';
  if (why.includes('exceed')) return 'limit';
  if (why.includes('fewer than')) return 'stale';
  return 'malformed';
}
