// EspCrypto over the addon's per-SA context (src/crypto/native.ts,
// native/crypto_sa.c): the key is scheduled once when the SA is added; per
// packet one N-API call seals or opens b in place, building the nonce, AAD,
// IV (crypto/seqiv.c for AEAD, a CSPRNG pool for CBC) and ICV in C exactly as
// the node:crypto reference (test/xfrm/ref/) does. Bounds and alignment are
// checked in C against the typed array. Nothing is allocated per packet.

import type { CryptoAddon, CryptoCtx } from '../crypto/native.js';
import type { EspCrypto } from './esp-crypto.js';

export class NativeEsp implements EspCrypto {
  readonly ivLen: number;
  readonly icvLen: number;
  readonly blockAlign: number;
  private readonly addon: CryptoAddon;
  private readonly ctx: CryptoCtx;

  /** ctx from cryptoAeadNew/cryptoAuthencNew; the sizes are the ones it was made with. */
  constructor(addon: CryptoAddon, ctx: CryptoCtx, ivLen: number, icvLen: number, blockAlign: number) {
    this.addon = addon;
    this.ctx = ctx;
    this.ivLen = ivLen;
    this.icvLen = icvLen;
    this.blockAlign = blockAlign;
  }

  seal(b: Uint8Array, espOff: number, ptLen: number, seqHi: number): void {
    this.addon.cryptoEspSeal(this.ctx, b, espOff, ptLen, seqHi, false);
  }

  sealWithIv(b: Uint8Array, espOff: number, ptLen: number, seqHi: number): void {
    this.addon.cryptoEspSeal(this.ctx, b, espOff, ptLen, seqHi, true);
  }

  open(b: Uint8Array, espOff: number, espLen: number, seqHi: number): boolean {
    return this.addon.cryptoEspOpen(this.ctx, b, espOff, espLen, seqHi);
  }

  sealBatch(slab: Uint8Array, offs: Int32Array, ptLens: Int32Array, seqHi: Uint32Array, count: number): void {
    this.addon.cryptoEspSealBatch(this.ctx, slab, offs, ptLens, seqHi, count, false);
  }

  openBatch(slab: Uint8Array, offs: Int32Array, espLens: Int32Array, seqHi: Uint32Array, ok: Uint8Array, count: number): number {
    return this.addon.cryptoEspOpenBatch(this.ctx, slab, offs, espLens, seqHi, ok, count);
  }

  destroy(): void {
    this.addon.cryptoDestroy(this.ctx);
  }
}
