// Classic libpcap savefile format (pcap-savefile(5); draft-ietf-opsawg-pcap
// §4 "File Header", §5 "Packet Record"). Not pcapng.
//
// File header (24 bytes, in the writer's byte order, detected from the magic):
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  0|                          Magic Number                         |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  4|        Major Version (2)      |       Minor Version (4)       |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  8|                  thiszone (Reserved1, 0)                      |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// 12|                  sigfigs (Reserved2, 0)                       |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// 16|                            SnapLen                            |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// 20| FCS |f|     (reserved)        |           LinkType            |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// Magic 0xa1b2c3d4: ts_frac is microseconds; 0xa1b23c4d: nanoseconds.
// Read as 0xd4c3b2a1 / 0x4d3cb2a1 the file was written in the other byte order.
//
// Packet record (16-byte header + incl_len bytes of data):
//  0 ts_sec | 4 ts_frac (usec or nsec) | 8 incl_len (captured) | 12 orig_len (on the wire)
//
// Control plane and tests only: allocation is fine here, but readPcap never
// throws for any input (a file is untrusted); it returns a PcapError instead.

/** LINKTYPE_ETHERNET: IEEE 802.3 with a 14-byte Ethernet II header. */
export const LINKTYPE_ETHERNET = 1;
/** LINKTYPE_RAW: raw IPv4 or IPv6, the version nibble decides. */
export const LINKTYPE_RAW = 101;
/** LINKTYPE_IPV4: raw IPv4 only. */
export const LINKTYPE_IPV4 = 228;
/** LINKTYPE_IPV6: raw IPv6 only. */
export const LINKTYPE_IPV6 = 229;

export const PCAP_MAGIC_USEC = 0xa1b2c3d4;
export const PCAP_MAGIC_NSEC = 0xa1b23c4d;
export const PCAP_VERSION_MAJOR = 2;
export const PCAP_VERSION_MINOR = 4;
export const PCAP_FILE_HDR_LEN = 24;
export const PCAP_REC_HDR_LEN = 16;
/** libpcap's MAXIMUM_SNAPLEN (tcpdump's default -s 0): also our sanity cap on incl_len. */
export const PCAP_MAX_SNAPLEN = 262144;
/** pcapng Section Header Block type, recognised only to give a clear error. */
const PCAPNG_MAGIC = 0x0a0d0d0a;

export interface PcapRecord {
  readonly tsSec: number;
  /** Microseconds, or nanoseconds when the file's `nanos` is true. */
  readonly tsFrac: number;
  /** Length on the wire; may exceed data.length when the capture was truncated to snaplen. */
  readonly origLen: number;
  /** incl_len captured bytes: a subarray view of the input, not a copy. */
  readonly data: Uint8Array;
}

export interface PcapFile {
  /** Low 16 bits of the header's LinkType word (FCS-length bits masked off). */
  readonly linktype: number;
  readonly snaplen: number;
  readonly nanos: boolean;
  /** Byte order the file was written in (tcpdump on x86: true). */
  readonly littleEndian: boolean;
  readonly records: readonly PcapRecord[];
}

export interface PcapError {
  readonly error: string;
  /** Byte offset in the input where the problem starts (the record header for record errors). */
  readonly offset: number;
}

export const isPcapError = (r: PcapFile | PcapError): r is PcapError => 'error' in r;

/** u32 at b[i] in the given byte order; caller proved i + 4 <= b.length. */
function u32(b: Uint8Array, i: number, le: boolean): number {
  return le
    ? (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0
    : ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
}

function u16(b: Uint8Array, i: number, le: boolean): number {
  return le ? b[i]! | (b[i + 1]! << 8) : (b[i]! << 8) | b[i + 1]!;
}

/** Byte order and precision from the magic; null if it is not a classic pcap magic. */
function decodeMagic(b: Uint8Array): { le: boolean; nanos: boolean } | null {
  const m = u32(b, 0, true);
  if (m === PCAP_MAGIC_USEC) return { le: true, nanos: false };
  if (m === PCAP_MAGIC_NSEC) return { le: true, nanos: true };
  const mb = u32(b, 0, false);
  if (mb === PCAP_MAGIC_USEC) return { le: false, nanos: false };
  if (mb === PCAP_MAGIC_NSEC) return { le: false, nanos: true };
  return null;
}

/**
 * Parses a whole classic pcap file. Never throws.
 *
 * Errors: input shorter than 24 bytes; unknown magic (pcapng gets its own
 * message); major version != 2 or minor > 4 (libpcap's "unsupported
 * version"); a record header or record data running past the end; incl_len
 * above PCAP_MAX_SNAPLEN (a corrupt length; libpcap rejects it the same way).
 * incl_len above the file's own snaplen but within the cap is accepted, as
 * libpcap does for files from old buggy writers.
 *
 * A truncated LAST record (e.g. a capture killed mid-write) is an error, not a
 * silently shortened file: its `offset` is where that record starts, so a
 * caller that wants the complete records before it can call
 * `readPcap(bytes.subarray(0, err.offset))`.
 */
export function readPcap(bytes: Uint8Array): PcapFile | PcapError {
  if (bytes.length < PCAP_FILE_HDR_LEN) return { error: 'truncated file header', offset: 0 };
  const magic = decodeMagic(bytes);
  if (magic === null) {
    const isNg = u32(bytes, 0, true) === PCAPNG_MAGIC;
    return { error: isNg ? 'pcapng is not supported (classic pcap only)' : 'bad magic', offset: 0 };
  }
  const { le, nanos } = magic;
  const major = u16(bytes, 4, le);
  const minor = u16(bytes, 6, le);
  if (major !== PCAP_VERSION_MAJOR || minor > PCAP_VERSION_MINOR) {
    return { error: `unsupported version ${major}.${minor}`, offset: 4 };
  }
  const snaplen = u32(bytes, 16, le);
  const linktype = u32(bytes, 20, le) & 0xffff;
  const records: PcapRecord[] = [];
  let off = PCAP_FILE_HDR_LEN;
  while (off < bytes.length) {
    if (bytes.length - off < PCAP_REC_HDR_LEN) return { error: 'truncated record header', offset: off };
    const incl = u32(bytes, off + 8, le);
    if (incl > PCAP_MAX_SNAPLEN) return { error: `incl_len ${incl} exceeds ${PCAP_MAX_SNAPLEN}`, offset: off };
    const dataOff = off + PCAP_REC_HDR_LEN;
    if (bytes.length - dataOff < incl) return { error: 'truncated record data', offset: off };
    records.push({
      tsSec: u32(bytes, off, le),
      tsFrac: u32(bytes, off + 4, le),
      origLen: u32(bytes, off + 12, le),
      data: bytes.subarray(dataOff, dataOff + incl),
    });
    off = dataOff + incl;
  }
  return { linktype, snaplen, nanos, littleEndian: le, records };
}

function putLe32(b: Uint8Array, i: number, v: number): void {
  b[i] = v;
  b[i + 1] = v >>> 8;
  b[i + 2] = v >>> 16;
  b[i + 3] = v >>> 24;
}

const isU32 = (v: number): boolean => Number.isInteger(v) && v >= 0 && v <= 0xffffffff;

/**
 * Produces a classic pcap stream piece by piece, little-endian with
 * thiszone = sigfigs = 0, exactly as tcpdump writes on x86. The caller writes
 * header() once, then record(...) per packet. Bad arguments are programmer
 * errors and throw RangeError.
 */
export class PcapWriter {
  readonly linktype: number;
  readonly snaplen: number;
  readonly nanos: boolean;

  constructor(linktype: number, snaplen = PCAP_MAX_SNAPLEN, nanos = false) {
    if (!Number.isInteger(linktype) || linktype < 0 || linktype > 0xffff) throw new RangeError(`linktype ${linktype}`);
    if (!Number.isInteger(snaplen) || snaplen < 1 || snaplen > PCAP_MAX_SNAPLEN) throw new RangeError(`snaplen ${snaplen}`);
    this.linktype = linktype;
    this.snaplen = snaplen;
    this.nanos = nanos;
  }

  /** The 24-byte file header. */
  header(): Uint8Array {
    const h = new Uint8Array(PCAP_FILE_HDR_LEN); // thiszone, sigfigs stay 0
    putLe32(h, 0, this.nanos ? PCAP_MAGIC_NSEC : PCAP_MAGIC_USEC);
    h[4] = PCAP_VERSION_MAJOR;
    h[6] = PCAP_VERSION_MINOR;
    putLe32(h, 16, this.snaplen);
    putLe32(h, 20, this.linktype);
    return h;
  }

  /**
   * One record: the 16-byte header plus data[off, off+len) cut to snaplen
   * (incl_len = min(len, snaplen); orig_len as given, default len). The bytes
   * are copied, so the caller may reuse its buffer at once.
   */
  record(tsSec: number, tsFrac: number, data: Uint8Array, off: number, len: number, origLen = len): Uint8Array {
    if (!isU32(tsSec) || !isU32(tsFrac) || !isU32(origLen)) throw new RangeError('timestamp/origLen must be u32');
    if (!Number.isInteger(off) || !Number.isInteger(len) || off < 0 || len < 0 || off + len > data.length) {
      throw new RangeError(`record range ${off}+${len} outside ${data.length} bytes`);
    }
    const incl = Math.min(len, this.snaplen);
    const r = new Uint8Array(PCAP_REC_HDR_LEN + incl);
    putLe32(r, 0, tsSec);
    putLe32(r, 4, tsFrac);
    putLe32(r, 8, incl);
    putLe32(r, 12, origLen);
    r.set(data.subarray(off, off + incl), PCAP_REC_HDR_LEN);
    return r;
  }
}

/**
 * A whole little-endian pcap file from records (control plane and tests).
 * writePcap(f.linktype, f.records) reproduces a tcpdump-written x86 file
 * byte for byte.
 */
export function writePcap(
  linktype: number,
  records: readonly PcapRecord[],
  snaplen = PCAP_MAX_SNAPLEN,
  nanos = false,
): Uint8Array {
  const w = new PcapWriter(linktype, snaplen, nanos);
  const parts = [w.header()];
  for (const r of records) parts.push(w.record(r.tsSec, r.tsFrac, r.data, 0, r.data.length, r.origLen));
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
