// Encapsulating Security Payload: RFC 4303 §2 (packet format), as Linux lays
// out the trailer (net/ipv4/esp4.c esp_output / esp_remove_trailer, called
// from esp_input_done2; include/net/esp.h esp_output_fill_trailer). No
// cryptography here: this module only frames the header and the plaintext
// trailer; xfrm/ encrypts and authenticates.
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ ----
//   |               Security Parameters Index (SPI)                 | ^Int.
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ |Cov-
//   |                      Sequence Number                          | |ered
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ | ----
//   |                    IV (per algorithm) + Payload Data ...      | |   ^
//   ~                                                               ~ |   |
//   |               |     TFC Padding (optional, §2.7)              | |   |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ |Conf.
//   |               |     Padding (0-255 bytes: 1, 2, 3, ...)       | |Cov-
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ |ered*
//   |                               |  Pad Length   | Next Header   | v   v
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ ------
//   |         Integrity Check Value-ICV   (variable)                |
//   ~                                                               ~
//
// Transmit (esp_output): blksize = ALIGN(crypto_aead_blocksize, 4);
// clen = ALIGN(payloadLen + 2 + tfclen, blksize); plen = clen - payloadLen -
// tfclen; the trailer is tfclen zero bytes, then plen - 2 pad bytes 1, 2, 3...,
// then Pad Length (= plen - 2) and Next Header.
// Receive (esp_remove_trailer): reads Pad Length and Next Header just before
// the ICV, drops when `padlen + 2 + alen >= elen`, and does NOT check the pad
// contents.

import { be32, be32s, inBounds, put32 } from './bytes.js';
import { Drop } from './drop.js';

export const ESP_HDR_LEN = 8;
/** Pad Length + Next Header. */
export const ESP_TRAILER_LEN = 2;
/** Next Header of a dummy packet (IPPROTO_NONE), RFC 4303 §2.6: discard silently. */
export const ESP_NEXT_HEADER_NONE = 59;

const SPI = 0;
const SEQ = 4;

/** A rebindable view of one ESP packet (header + encrypted body). Accessors allocate nothing. */
export class EspPacket {
  private b: Uint8Array;
  private o: number;
  private n: number;

  constructor() {
    this.b = new Uint8Array(0);
    this.o = 0;
    this.n = 0;
  }

  /** Parse gate: Truncated if shorter than the 8-byte header or the range is outside b. */
  check(b: Uint8Array, off = 0, len = b.length - off): Drop {
    if (!inBounds(b, off, len) || len < ESP_HDR_LEN) return Drop.Truncated;
    this.b = b;
    this.o = off;
    this.n = len;
    return Drop.None;
  }

  /** Binds to b[off, off+len). False if too short. Never allocates. */
  wrap(b: Uint8Array, off = 0, len = b.length - off): boolean {
    return this.check(b, off, len) === Drop.None;
  }

  /** Binds an output range (content may be garbage) of at least 8 bytes. */
  bind(b: Uint8Array, off: number, len: number): boolean {
    if (!inBounds(b, off, len) || len < ESP_HDR_LEN) return false;
    this.b = b;
    this.o = off;
    this.n = len;
    return true;
  }

  get buffer(): Uint8Array { return this.b; }
  get offset(): number { return this.o; }
  get length(): number { return this.n; }

  get spi(): number { return be32(this.b, this.o + SPI); }
  /** The SPI's bits as an int32: a small integer even for SPIs of 2^31 and up (be32s), for hot paths. */
  get spiS(): number { return be32s(this.b, this.o + SPI); }
  set spi(v: number) { put32(this.b, this.o + SPI, v); }
  /** Low 32 bits of the sequence number (the ESN high half is never sent). */
  get seq(): number { return be32(this.b, this.o + SEQ); }
  set seq(v: number) { put32(this.b, this.o + SEQ, v); }
  /** seq's bits as an int32 (be32s), for hot paths: see spiS. */
  get seqS(): number { return be32s(this.b, this.o + SEQ); }

  /** Start of IV/ciphertext in the *underlying* buffer. */
  get bodyOffset(): number { return this.o + ESP_HDR_LEN; }
  /** Same as bodyOffset (the uniform view contract's name). */
  get payloadOffset(): number { return this.o + ESP_HDR_LEN; }
  /** IV + ciphertext + ICV bytes. */
  get payloadLen(): number { return this.n - ESP_HDR_LEN; }
}

export interface EspRepr {
  readonly spi: number;
  readonly seq: number;
}

export const parseEsp = (p: EspPacket): EspRepr => ({ spi: p.spi, seq: p.seq });

/** Bytes emit writes: always ESP_HDR_LEN (the parameter keeps the Repr contract uniform). */
export function espHeaderLen(r: EspRepr): number {
  void r;
  return ESP_HDR_LEN;
}

/** Writes SPI and Sequence Number at p.offset. Throws RangeError on a short view. */
export function emitEsp(r: EspRepr, p: EspPacket): void {
  if (p.length < ESP_HDR_LEN) throw new RangeError(`ESP header needs ${ESP_HDR_LEN} bytes, view has ${p.length}`);
  p.spi = r.spi;
  p.seq = r.seq;
}

// ---- trailer layout (plaintext side) ----

/**
 * esp_output's `blksize = ALIGN(crypto_aead_blocksize(aead), 4)`: the
 * alignment of Payload..Next Header. 4 for GCM/CCM/ChaCha20-Poly1305 (block
 * size 1), 16 for AES-CBC, 8 for 3DES-CBC.
 */
export const espBlockAlign = (cipherBlockSize: number): number => (cipherBlockSize + 3) & ~3;

/**
 * esp_output's `plen`: bytes of Padding + Pad Length + Next Header, i.e.
 * clen - payloadLen - tfcLen with clen = ALIGN(payloadLen + 2 + tfcLen,
 * blockAlign). The Pad Length field is plen - 2. blockAlign is a power of two
 * as the kernel's ALIGN assumes (any positive value works here).
 */
export function espPlen(payloadLen: number, tfcLen: number, blockAlign: number): number {
  const x = payloadLen + ESP_TRAILER_LEN + tfcLen;
  const clen = x + ((blockAlign - (x % blockAlign)) % blockAlign);
  return clen - payloadLen - tfcLen;
}

/**
 * esp_output_fill_trailer: at b[off] writes tfcLen zero bytes (TFC padding,
 * RFC 4303 §2.7), pad bytes 1, 2, ..., padLen (§2.4), Pad Length, Next
 * Header. Returns the bytes written (tfcLen + padLen + 2). Throws RangeError if
 * it does not fit or padLen is outside 0..255 (programmer errors).
 */
export function emitEspTrailer(b: Uint8Array, off: number, tfcLen: number, padLen: number, nextHeader: number): number {
  const total = tfcLen + padLen + ESP_TRAILER_LEN;
  if (padLen < 0 || padLen > 255 || tfcLen < 0 || !inBounds(b, off, total)) {
    throw new RangeError(`ESP trailer of ${total} bytes (pad ${padLen}) does not fit at ${off}`);
  }
  let i = off;
  for (const end = off + tfcLen; i < end; i++) b[i] = 0;
  for (let k = 1; k <= padLen; k++, i++) b[i] = k;
  b[i] = padLen;
  b[i + 1] = nextHeader;
  return total;
}

/**
 * The trailer of one decrypted packet, read into a caller-owned reusable
 * object (no allocation per packet).
 *
 * Kernel mapping: esp_remove_trailer has elen = bytes after the ESP header
 * and IV = plainLen + alen (ICV), and drops when `padlen + 2 + alen >= elen`,
 * i.e. when padLen + 2 >= plainLen. So a packet whose plaintext is nothing
 * but padding and trailer (contentLen 0) is dropped too; read() does the
 * same and guarantees contentLen >= 1 on success. Pad contents are not
 * verified (the kernel does not; RFC 4303 §2.4 makes the check optional).
 */
export class EspTrailer {
  padLen = 0;
  nextHeader = 0;
  /** Bytes of Payload Data (+ TFC padding, which the inner header's length excludes). */
  contentLen = 0;

  /**
   * Reads b[plainOff, plainOff+plainLen), the decrypted Payload..Next Header
   * (IV and ICV excluded). Truncated when the range is outside b or
   * padLen + 2 >= plainLen; fields are updated only on success.
   */
  read(b: Uint8Array, plainOff: number, plainLen: number): Drop {
    if (!inBounds(b, plainOff, plainLen) || plainLen < ESP_TRAILER_LEN) return Drop.Truncated;
    const end = plainOff + plainLen;
    const padLen = b[end - 2]!;
    if (padLen + ESP_TRAILER_LEN >= plainLen) return Drop.Truncated;
    this.padLen = padLen;
    this.nextHeader = b[end - 1]!;
    this.contentLen = plainLen - padLen - ESP_TRAILER_LEN;
    return Drop.None;
  }
}
