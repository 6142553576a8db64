// The state of one IKE SA and its Child SAs (RFC 7296 §2), as the core's
// exchanges read and change it. Plain data plus the key helpers; the
// exchanges live in initiator.ts, responder.ts and informational.ts.
//
// Secrets held here (nonces, DH private value, SK_*) are wiped by
// IkeSa.wipe() when the SA goes; Child SA keys are wiped as soon as the
// xfrm states holding them are installed.

import { toHex } from '../wire/bytes.js';
import type { ChildSaRecord, IkeSaRecord } from '../control/ike.js';
import type { LimitsSpec } from '../control/xfrm.js';
import type { Payload } from '../wire/ike/payloads.js';
import type { TrafficSelector } from '../wire/ike/ts.js';
import { DH_NAMES, encrKeyLen, encrName, ENCRS, INTEGS, PRFS } from './algs.js';
import type { ChildConfig, ConnConfig } from './config.js';
import { Reassembler } from './frag.js';
import type { KeyExchange } from './dh.js';
import { wipeKeys } from './prf.js';
import type { ChildKeys, IkeKeys, KeyLens } from './prf.js';
import type { Chosen } from './proposal.js';
import type { SkKeys } from './sk.js';
import { tsText } from './ts.js';

/** A UDP endpoint: IPv4/IPv6 text and port. */
export interface Endpoint { addr: string; port: number }

/** Our outstanding request (window size 1): retransmitted until answered or given up. */
export interface Pending {
  readonly mid: number;
  /** The datagrams of the request: one, or its RFC 7383 fragments (all resent on a retransmission). */
  readonly data: readonly Uint8Array[];
  /** Sends so far minus one (0 after the first send). */
  sends: number;
  /** Monotonic ms of the next retransmission or the give-up. */
  deadline: number;
  /** Handles the response's payloads (decrypted when SK-protected); raw is the whole datagram. */
  readonly onResponse: (raw: Uint8Array, payloads: readonly Payload[]) => void;
  /** Called when retransmission gives up. */
  readonly onTimeout: () => void;
  /** What the request is (a peer's IKE rekey is refused while our Child SA exchange is out: §2.25.2). */
  readonly kind: 'child' | 'ike-rekey' | 'other';
}

/** A request of ours waiting for the window (one outstanding request, §2.3); run with the SA it then belongs to. */
export type QueuedRequest = (sa: IkeSa) => void;

/** Monotonic ms (the core's clock) of an SA's timed events; null = never. */
export interface Deadlines { rekeyAtMs: number | null; expireAtMs: number | null }

export class ChildSa {
  /** swanctl's child states: REKEYING while our rekey is out, REKEYED once a new SA replaces it. */
  state: 'INSTALLED' | 'REKEYING' | 'REKEYED' | 'DELETING' = 'INSTALLED';
  readonly at: Deadlines = { rekeyAtMs: null, expireAtMs: null };
  /** Its states' byte/packet limits (lifetime.ts volumeLimits), drawn once when scheduled; {} = none. */
  volume: LimitsSpec = {};
  /** Which xfrm states are in (a rekey responder holds back the outbound one: make-before-break). */
  isInInstalled = true;
  isOutInstalled = true;
  /** The outbound keys held back until the rekey initiator deletes the old SA (or outDueMs passes); wiped once used. */
  pendingOut: ChildKeys | null = null;
  outDueMs = 0;
  /** A replaced SA: when its remaining (inbound) state goes, so late packets on it still get in. */
  removeAtMs: number | null = null;
  /** The peer's rekey of this SA that crossed ours (§2.8.1): the SA it made and its lowest nonce. */
  collision: { readonly child: ChildSa; readonly minNonce: Uint8Array } | null = null;
  constructor(
    readonly uniqueId: number,
    readonly cfg: ChildConfig,
    readonly reqid: number,
    /** Our inbound SPI and the peer's (u32). */
    readonly spiIn: number,
    readonly spiOut: number,
    readonly chosen: Chosen,
    readonly localTs: readonly TrafficSelector[],
    readonly remoteTs: readonly TrafficSelector[],
    readonly encap: boolean,
    /** The endpoints the SAs are installed with (for deleting them); remote follows a NATed peer that moved (liveness.ts). */
    readonly local: Endpoint,
    public remote: Endpoint,
    readonly installTime: number,
  ) {}

  record(): ChildSaRecord {
    const e = this.chosen.encr;
    const integ = this.chosen.integ !== null ? `/${INTEGS.get(this.chosen.integ)?.name ?? this.chosen.integ}` : '';
    return {
      name: this.cfg.name, uniqueId: this.uniqueId, reqid: this.reqid, state: this.state, mode: 'TUNNEL', protocol: 'ESP', encap: this.encap,
      spiIn: hex32(this.spiIn), spiOut: hex32(this.spiOut), algorithms: `${encrName(e.id, e.keyLength)}${integ}`,
      localTs: this.localTs.map(tsText), remoteTs: this.remoteTs.map(tsText), installTime: this.installTime,
      rekeyTime: unixS(this.state === 'INSTALLED' ? this.at.rekeyAtMs : null), lifeTime: unixS(this.at.expireAtMs),
    };
  }
}

/** Unix seconds of a deadline on the core's clock (0 = none). */
const unixS = (ms: number | null): number => (ms === null ? 0 : Math.floor(ms / 1000));

export const hex32 = (v: number): string => (v >>> 0).toString(16).padStart(8, '0');

export class IkeSa {
  /** REKEYING while our IKE rekey is out; REKEYED once a new IKE SA took the children (it waits for the delete). */
  state: 'CONNECTING' | 'ESTABLISHED' | 'REKEYING' | 'REKEYED' | 'DELETING' = 'CONNECTING';
  readonly at: Deadlines = { rekeyAtMs: null, expireAtMs: null };
  /** Our requests waiting for the window. */
  queue: QueuedRequest[] = [];
  /** The peer's IKE rekey that crossed ours (§2.8.2): the SA it made and its lowest nonce. */
  collision: { readonly sa: IkeSa; readonly minNonce: Uint8Array } | null = null;
  spiR: Uint8Array = new Uint8Array(8);
  chosen: Chosen | null = null;
  ke: KeyExchange | null = null;
  ni: Uint8Array = new Uint8Array(0);
  nr: Uint8Array = new Uint8Array(0);
  keys: IkeKeys | null = null;
  skIn: SkKeys | null = null;
  skOut: SkKeys | null = null;
  /** RealMessage1 / RealMessage2 (§2.15), kept until IKE_AUTH is done. */
  msg1: Uint8Array | null = null;
  msg2: Uint8Array | null = null;
  localId = '';
  remoteId = '';
  /** NAT between us (RFC 7296 §2.23): our side (or faked with encap=yes), the peer's side. */
  isNatLocal = false;
  isNatRemote = false;
  /** Next Message ID of our requests, and of the peer's. */
  nextMid = 0;
  peerMid = 0;
  /** Our last response (its datagrams: one, or its fragments), resent when the request comes again (§2.1). */
  lastResponse: { readonly mid: number; readonly data: readonly Uint8Array[]; readonly port: number } | null = null;
  pending: Pending | null = null;
  readonly children: ChildSa[] = [];
  /** Initiator: the child asked for in IKE_AUTH, its inbound SPI, and the selectors offered. */
  childCfg: ChildConfig | null = null;
  childSpiIn = 0;
  offeredTs: { readonly i: readonly TrafficSelector[]; readonly r: readonly TrafficSelector[] } | null = null;
  /** GCM IV counter of our messages. */
  ivSeq = 0;
  establishTime = 0;
  /** Monotonic ms when the SA was created (half-open expiry). */
  createdMs = 0;
  /** Whoever waits for this SA to come up (`tunkit ike initiate`). */
  waiter: ((err: string | null) => void) | null = null;
  /** The INVALID_KE_PAYLOAD retry was used (only one: RFC 7296 §1.2). */
  isKeRetried = false;
  /** RFC 7383 §2.3: both sides announced IKEV2_FRAGMENTATION_SUPPORTED in IKE_SA_INIT. */
  isFragOk = false;
  /** Reassembly of the peer's fragmented requests and of the responses to ours (frag.ts). */
  readonly reasmReq = new Reassembler();
  readonly reasmResp = new Reassembler();
  /** A rekey made its successor (its removal is no ike-updown event: events.ts). */
  isReplaced = false;
  /** A failure event was published for it (core.failed). */
  isFailReported = false;
  /** The peer's SIGNATURE_HASH_ALGORITHMS (RFC 7427 §4) from IKE_SA_INIT; null when it sent none. */
  peerSigHashes: readonly number[] | null = null;

  constructor(
    readonly uniqueId: number,
    /** The responder may switch to another connection once it sees IDi (§2.15). */
    public conn: ConnConfig,
    readonly isInitiator: boolean,
    readonly spiI: Uint8Array,
    public local: Endpoint,
    public remote: Endpoint,
  ) {}

  /** Our own SPI (the map key), 16 hex digits. */
  get ourSpi(): string { return toHex(this.isInitiator ? this.spiI : this.spiR); }

  get isNat(): boolean { return this.isNatLocal || this.isNatRemote; }

  /** IKE SA key lengths of the chosen proposal. */
  keyLens(): KeyLens {
    const c = this.chosen!;
    const e = ENCRS.get(c.encr.id)!;
    return { encr: encrKeyLen(c.encr) + e.saltLen, integ: c.integ !== null ? INTEGS.get(c.integ)!.keyLen : 0 };
  }

  /** Sets skIn/skOut from keys: the original initiator sends with SK_ei/SK_ai. */
  setSkKeys(): void {
    const c = this.chosen!;
    const k = this.keys!;
    const encr = ENCRS.get(c.encr.id)!;
    const integ = c.integ !== null ? INTEGS.get(c.integ)! : null;
    const keyLen = encrKeyLen(c.encr);
    const i: SkKeys = { encr, keyLen, ek: k.skEi, integ, ak: k.skAi };
    const r: SkKeys = { encr, keyLen, ek: k.skEr, integ, ak: k.skAr };
    this.skOut = this.isInitiator ? i : r;
    this.skIn = this.isInitiator ? r : i;
  }

  get prfAlg(): NonNullable<ReturnType<typeof PRFS.get>> { return PRFS.get(this.chosen!.prf!)!; }

  /** Zeroes every secret the SA holds (nonces, DH private value, SK_*). */
  wipe(): void {
    this.ni.fill(0);
    this.nr.fill(0);
    this.ke?.dispose();
    this.ke = null;
    if (this.keys !== null) wipeKeys(this.keys);
    this.keys = null;
    this.skIn = null;
    this.skOut = null;
    this.msg1 = null;
    this.msg2 = null;
    this.queue = [];
    this.reasmReq.clear();
    this.reasmResp.clear();
  }

  record(): IkeSaRecord {
    const c = this.chosen;
    const algs = c === null ? '' : [
      encrName(c.encr.id, c.encr.keyLength), c.integ !== null ? INTEGS.get(c.integ)?.name : undefined,
      c.prf !== null ? PRFS.get(c.prf)?.name : undefined, c.dh !== null ? DH_NAMES.get(c.dh) : undefined,
    ].filter((x) => x !== undefined).join('/');
    return {
      name: this.conn.name, uniqueId: this.uniqueId, state: this.state, version: 2, isInitiator: this.isInitiator,
      spiI: toHex(this.spiI), spiR: toHex(this.spiR), localAddr: this.local.addr, localPort: this.local.port, localId: this.localId,
      remoteAddr: this.remote.addr, remotePort: this.remote.port, remoteId: this.remoteId, algorithms: algs,
      isNatDetected: this.isNat, establishTime: this.establishTime, children: this.children.map((ch) => ch.record()),
      rekeyTime: unixS(this.state === 'ESTABLISHED' ? this.at.rekeyAtMs : null),
    };
  }
}
