// Key exchange (RFC 7296 §3.4) with node:crypto: MODP groups 14/15
// (RFC 3526), ECP-256/384 (RFC 5903: the KE data is x | y, the shared
// secret is x alone), Curve25519 (RFC 8031: 32-byte public value and
// secret; an all-zero secret is refused, RFC 7748 §6.1).
//
// The private value comes from the caller's random source, so tests are
// deterministic and the core reads no entropy of its own. dispose() wipes it.

import { createDiffieHellman, createECDH, createPrivateKey, createPublicKey, diffieHellman, getDiffieHellman } from 'node:crypto';
import type { ECDH, DiffieHellman } from 'node:crypto';
import { DH_ECP256, DH_ECP384, DH_MODP2048, DH_MODP3072, DH_X25519 } from '../wire/ike/consts.js';

export interface KeyExchange {
  readonly group: number;
  /** Our KE payload data. */
  readonly publicValue: Uint8Array;
  /** g^ir from the peer's KE data; null when the peer's value is malformed or degenerate. */
  shared(peer: Uint8Array): Uint8Array | null;
  dispose(): void;
}

/** Public value lengths per group (a KE payload of any other length is refused). */
export const KE_LEN: ReadonlyMap<number, number> = new Map([[DH_MODP2048, 256], [DH_MODP3072, 384], [DH_ECP256, 64], [DH_ECP384, 96], [DH_X25519, 32]]);

const X25519_PKCS8 = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20]);
const X25519_SPKI = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x03, 0x21, 0x00]);

const der = (prefix: Uint8Array, key: Uint8Array): Buffer => Buffer.concat([prefix, key]);

class X25519 implements KeyExchange {
  readonly group = DH_X25519;
  readonly publicValue: Uint8Array;
  private priv: Uint8Array;
  constructor(rnd: Uint8Array) {
    this.priv = rnd;
    const k = createPrivateKey({ key: der(X25519_PKCS8, rnd), format: 'der', type: 'pkcs8' });
    const spki = createPublicKey(k).export({ format: 'der', type: 'spki' });
    this.publicValue = new Uint8Array(spki.subarray(X25519_SPKI.length));
  }
  shared(peer: Uint8Array): Uint8Array | null {
    if (peer.length !== 32) return null;
    const privateKey = createPrivateKey({ key: der(X25519_PKCS8, this.priv), format: 'der', type: 'pkcs8' });
    const publicKey = createPublicKey({ key: der(X25519_SPKI, peer), format: 'der', type: 'spki' });
    let s: Uint8Array;
    try {
      s = new Uint8Array(diffieHellman({ privateKey, publicKey }));
    } catch {
      return null; // OpenSSL refuses a small-order point (an all-zero result) itself
    }
    return s.every((x) => x === 0) ? null : s;
  }
  dispose(): void { this.priv.fill(0); this.priv = new Uint8Array(0); }
}

class Ecp implements KeyExchange {
  readonly publicValue: Uint8Array;
  private ecdh: ECDH | null;
  constructor(readonly group: number, curve: string, rnd: Uint8Array) {
    this.ecdh = createECDH(curve);
    this.ecdh.setPrivateKey(rnd);
    this.publicValue = new Uint8Array(this.ecdh.getPublicKey().subarray(1)); // drop the 0x04 prefix: RFC 5903 §7
    rnd.fill(0);
  }
  shared(peer: Uint8Array): Uint8Array | null {
    if (this.ecdh === null || peer.length !== KE_LEN.get(this.group)) return null;
    try {
      return new Uint8Array(this.ecdh.computeSecret(Buffer.concat([Uint8Array.of(4), peer])));
    } catch {
      return null; // not a point on the curve: node:crypto throws ERR_CRYPTO_ECDH_INVALID_PUBLIC_KEY
    }
  }
  dispose(): void { this.ecdh = null; }
}

class Modp implements KeyExchange {
  readonly publicValue: Uint8Array;
  private dh: DiffieHellman | null;
  private readonly p: Buffer;
  constructor(readonly group: number, name: string, rnd: Uint8Array) {
    const g = getDiffieHellman(name);
    this.p = g.getPrime();
    this.dh = createDiffieHellman(this.p, g.getGenerator());
    this.dh.setPrivateKey(Buffer.from(rnd));
    this.dh.generateKeys();
    this.publicValue = pad(new Uint8Array(this.dh.getPublicKey()), this.p.length);
    rnd.fill(0);
  }
  shared(peer: Uint8Array): Uint8Array | null {
    if (this.dh === null || peer.length !== this.p.length) return null;
    // RFC 7296 §3.4 / NIST SP 800-56A: refuse 0, 1 and p-1 (and anything ≥ p).
    const v = Buffer.from(peer);
    if (Buffer.compare(v, this.p) >= 0) return null;
    const last = v.length - 1;
    const isSmall = v.subarray(0, last).every((x) => x === 0) && v[last]! <= 1;
    const pm1 = Buffer.from(this.p); pm1[last] = pm1[last]! - 1;
    if (isSmall || v.equals(pm1)) return null;
    try {
      return pad(new Uint8Array(this.dh.computeSecret(v)), this.p.length);
    } catch {
      return null;
    }
  }
  dispose(): void { this.dh = null; }
}

/** Left-pads to n bytes (§2.14: g^ir in MODP groups is fixed length, leading zeros kept). */
function pad(v: Uint8Array, n: number): Uint8Array {
  if (v.length >= n) return v;
  const out = new Uint8Array(n);
  out.set(v, n - v.length);
  return out;
}

/** Bytes of randomness a group's private value takes. */
export const privLen = (group: number): number => (group === DH_ECP384 ? 48 : group === DH_MODP3072 ? 48 : 32);

/** A fresh key exchange for `group` from private bytes `rnd` (privLen(group) long); null for a group we lack. */
export function newKeyExchange(group: number, rnd: Uint8Array): KeyExchange | null {
  switch (group) {
    case DH_X25519: return new X25519(rnd);
    case DH_ECP256: return new Ecp(group, 'prime256v1', rnd);
    case DH_ECP384: return new Ecp(group, 'secp384r1', rnd);
    case DH_MODP2048: return new Modp(group, 'modp14', rnd);
    case DH_MODP3072: return new Modp(group, 'modp15', rnd);
    default: return null;
  }
}
