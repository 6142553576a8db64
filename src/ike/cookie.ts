// Responder COOKIEs (RFC 7296 §2.6): once half-open IKE SAs reach
// charon.cookie_threshold (or cookie_threshold_ip from one address), an
// IKE_SA_INIT without a valid cookie gets only N(COOKIE) back, and no state
// is kept: a flood from spoofed addresses costs a hash, not a DH.
//
//   Cookie = <VersionIDofSecret (4)> | SHA-256(Ni | IPi | SPIi | <secret>)
//
// The secret is renewed after COOKIE_REUSE cookies; cookies made with the
// one before are still accepted (§2.6: an initiator may be mid-retry).

import { createHash } from 'node:crypto';
import { be32, put32 } from '../wire/bytes.js';
import { FLAG_R, IKE_SA_INIT, IKE_VERSION, N, PL } from '../wire/ike/consts.js';
import { emitMessage } from '../wire/ike/message.js';
import type { IkeMessage } from '../wire/ike/message.js';
import { authEqual } from './auth.js';
import type { Endpoint, IkeCore } from './core.js';
import { findNotify, first, notify } from './core.js';
import { addrBytes } from './ts.js';

/** Cookies made with one secret before it is renewed (charon's COOKIE_REUSE). */
export const COOKIE_REUSE = 10_000;

export class Cookies {
  private version = 0;
  private secret: Uint8Array | null = null;
  private previous: Uint8Array | null = null;
  private uses = 0;
  /** COOKIEs sent (for tests and logs). */
  sent = 0;

  constructor(private readonly core: IkeCore) {}

  private make(version: number, secret: Uint8Array, ni: Uint8Array, from: string, spiI: Uint8Array): Uint8Array {
    const out = new Uint8Array(36);
    put32(out, 0, version);
    out.set(createHash('sha256').update(ni).update(addrBytes(from) ?? new Uint8Array(0)).update(spiI).update(secret).digest(), 4);
    return out;
  }

  private isValid(c: Uint8Array, ni: Uint8Array, from: string, spiI: Uint8Array): boolean {
    if (c.length !== 36) return false;
    const v = be32(c, 0);
    const s = v === this.version ? this.secret : v === ((this.version - 1) >>> 0) ? this.previous : null;
    return s !== null && authEqual(c, this.make(v, s, ni, from, spiI));
  }

  private load(from: string): { total: number; ip: number } {
    let ip = 0;
    for (const sa of this.core.halfOpen.values()) if (sa.remote.addr === from) ip++;
    return { total: this.core.halfOpen.size, ip };
  }

  /**
   * Called for a new IKE_SA_INIT request: true when it was answered with a
   * COOKIE (the caller keeps no state), false when it may go on.
   */
  challenge(m: IkeMessage, from: Endpoint, local: Endpoint): boolean {
    const ni = first(m.payloads, PL.NONCE)?.data;
    if (ni === undefined) return false; // the responder refuses it with INVALID_SYNTAX
    const given = findNotify(m.payloads, N.COOKIE);
    if (given !== undefined && this.isValid(given.data, ni, from.addr, m.header.spiI)) return false;
    const s = this.core.charon;
    const l = this.load(from.addr);
    if (l.total < s.cookieThreshold && l.ip < s.cookieThresholdIp) return false;
    if (this.secret === null || this.uses >= COOKIE_REUSE) {
      this.previous?.fill(0);
      this.previous = this.secret;
      this.secret = this.core.host.random(32);
      this.version = (this.version + 1) >>> 0;
      this.uses = 0;
    }
    this.uses++;
    this.sent++;
    const data = emitMessage({ spiI: m.header.spiI, spiR: new Uint8Array(8), version: IKE_VERSION, exchange: IKE_SA_INIT, flags: FLAG_R, messageId: 0 },
      [notify(N.COOKIE, this.make(this.version, this.secret, ni, from.addr, m.header.spiI))]);
    this.core.host.send(from, local.port, data);
    this.core.host.log('debug', `IKE_SA_INIT from ${from.addr}[${from.port}]: ${l.total} half-open IKE_SAs (${l.ip} from it): asking for a COOKIE`);
    return true;
  }

  /** Zeroes the secrets (daemon stop). */
  wipe(): void {
    this.secret?.fill(0);
    this.previous?.fill(0);
  }
}
