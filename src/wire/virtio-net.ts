// struct virtio_net_hdr: include/uapi/linux/virtio_net.h (VIRTIO 1.2 §5.1.6),
// the 10-byte header a TUN device opened with IFF_VNET_HDR puts in front of
// every packet it hands out (read) and expects in front of every packet it is
// given (write).
//
//    0               1               2               3
//   +---------------+---------------+-------------------------------+
//   |     flags     |   gso_type    |       hdr_len (le16)          |
//   +---------------+---------------+-------------------------------+
//   |       gso_size (le16)         |      csum_start (le16)        |
//   +-------------------------------+-------------------------------+
//   |      csum_offset (le16)       |   ... IP packet (TUN, no PI)
//   +-------------------------------+
//
// flags:    NEEDS_CSUM (1): the L4 checksum is partial (CHECKSUM_PARTIAL):
//               the field at csum_start + csum_offset holds the folded
//               pseudo-header sum; whoever consumes the packet sums from
//               csum_start to the end and stores the complement there.
//           DATA_VALID (2): checksum already verified (CHECKSUM_UNNECESSARY).
// gso_type: NONE 0, TCPV4 1, UDP 3 (UFO), TCPV6 4, UDP_L4 5 (USO), plus the
//           ECN bit 0x80 (SKB_GSO_TCP_ECN: CWR set on the first segment).
// hdr_len:  bytes of L3+L4 headers. From the kernel only "a hint as to how
//           much should be linear" (virtio_net_hdr_from_skb sets it to
//           skb_headlen, which can be the whole first segment on a forwarding
//           path); never trust it, recompute it from the packet.
// gso_size: payload bytes per segment (the MSS), 0 when gso_type is NONE.
// csum_start / csum_offset: bytes from the start of the IP header to the L4
//           header, and from there to its checksum field (16 for TCP, 6 UDP).
//
// Byte order: the u16 fields are __virtio16, converted by tun16_to_cpu() in
// drivers/net/tun.c: little-endian when the device is little-endian
// (TUNSETVNETLE, or any little-endian host: virtio_legacy_is_little_endian()),
// big-endian only after TUNSETVNETBE on a kernel built with
// CONFIG_TUN_VNET_CROSS_LE. tunkit runs on little-endian hosts (x86-64,
// arm64), where the fields are little-endian without any ioctl, so this codec
// is little-endian; a big-endian host would call TUNSETVNETLE to keep it so.
// The header size is 10 unless TUNSETVNETHDRSZ changes it (12 for
// virtio_net_hdr_mrg_rxbuf); tunkit keeps the default.
//
// The kernel's checks on write (__virtio_net_hdr_to_skb): gso_type must be a
// known type (else -EINVAL), gso_size != 0 for GSO, with NEEDS_CSUM
// csum_start >= the minimal IP header and the checksum field inside the
// packet, and for TCP GSO csum_offset == 16. The kernel's side on read:
// virtio_net_hdr_from_skb (memset 0, then fields as above).

import { spanOk } from './bytes.js';

export const VIRTIO_NET_HDR_LEN = 10;

export const VIRTIO_NET_HDR_F_NEEDS_CSUM = 1;
export const VIRTIO_NET_HDR_F_DATA_VALID = 2;

export const VIRTIO_NET_HDR_GSO_NONE = 0;
export const VIRTIO_NET_HDR_GSO_TCPV4 = 1;
export const VIRTIO_NET_HDR_GSO_UDP = 3;
export const VIRTIO_NET_HDR_GSO_TCPV6 = 4;
export const VIRTIO_NET_HDR_GSO_UDP_L4 = 5;
export const VIRTIO_NET_HDR_GSO_ECN = 0x80;

/** offsetof(struct tcphdr, check): the only csum_offset the kernel accepts for TCP GSO. */
export const TCP_CSUM_OFFSET = 16;
/** offsetof(struct udphdr, check). */
export const UDP_CSUM_OFFSET = 6;

const FLAGS = 0;
const GSO_TYPE = 1;
const HDR_LEN = 2;
const GSO_SIZE = 4;
const CSUM_START = 6;
const CSUM_OFFSET = 8;

const le16 = (b: Uint8Array, i: number): number => b[i]! | (b[i + 1]! << 8);
function putLe16(b: Uint8Array, i: number, v: number): void {
  b[i] = v;
  b[i + 1] = v >>> 8;
}

/**
 * A rebindable view of one virtio_net_hdr. wrap() is the only bounds gate: it
 * needs 10 bytes; every field value is then readable (the header has no
 * length field of its own). Semantic checks belong to the consumer (the
 * offload core), as they depend on the packet behind the header.
 */
export class VirtioNetHdr {
  private b: Uint8Array = new Uint8Array(0);
  private o = 0;

  /** Binds to b[off, off+len). False if len < 10 or the range is outside b. Never allocates. */
  wrap(b: Uint8Array, off = 0, len = b.length - off): boolean {
    if (!spanOk(b, off, len) || len < VIRTIO_NET_HDR_LEN) return false;
    this.b = b;
    this.o = off;
    return true;
  }

  get buffer(): Uint8Array { return this.b; }
  get offset(): number { return this.o; }
  /** Absolute index of the packet after the header. */
  get packetOffset(): number { return this.o + VIRTIO_NET_HDR_LEN; }

  get flags(): number { return this.b[this.o + FLAGS]!; }
  set flags(v: number) { this.b[this.o + FLAGS] = v; }
  get gsoType(): number { return this.b[this.o + GSO_TYPE]!; }
  set gsoType(v: number) { this.b[this.o + GSO_TYPE] = v; }
  get hdrLen(): number { return le16(this.b, this.o + HDR_LEN); }
  set hdrLen(v: number) { putLe16(this.b, this.o + HDR_LEN, v); }
  get gsoSize(): number { return le16(this.b, this.o + GSO_SIZE); }
  set gsoSize(v: number) { putLe16(this.b, this.o + GSO_SIZE, v); }
  get csumStart(): number { return le16(this.b, this.o + CSUM_START); }
  set csumStart(v: number) { putLe16(this.b, this.o + CSUM_START, v); }
  get csumOffset(): number { return le16(this.b, this.o + CSUM_OFFSET); }
  set csumOffset(v: number) { putLe16(this.b, this.o + CSUM_OFFSET, v); }

  get needsCsum(): boolean { return (this.b[this.o + FLAGS]! & VIRTIO_NET_HDR_F_NEEDS_CSUM) !== 0; }
  /** gso_type without the ECN bit. */
  get gsoKind(): number { return this.b[this.o + GSO_TYPE]! & ~VIRTIO_NET_HDR_GSO_ECN; }
  get gsoEcn(): boolean { return (this.b[this.o + GSO_TYPE]! & VIRTIO_NET_HDR_GSO_ECN) !== 0; }

  /** Writes an all-zero header (gso NONE, no checksum work): a plain packet. */
  clear(): void {
    for (let i = 0; i < VIRTIO_NET_HDR_LEN; i++) this.b[this.o + i] = 0;
  }
}

/** A decoded header (control plane, tests, traces). */
export interface VirtioNetHdrRepr {
  readonly flags: number;
  /** Including the ECN bit. */
  readonly gsoType: number;
  readonly hdrLen: number;
  readonly gsoSize: number;
  readonly csumStart: number;
  readonly csumOffset: number;
}

/** Decodes the bound header. Every 10-byte pattern decodes (validation is the consumer's). */
export function parseVirtioNetHdr(p: VirtioNetHdr): VirtioNetHdrRepr {
  return {
    flags: p.flags,
    gsoType: p.gsoType,
    hdrLen: p.hdrLen,
    gsoSize: p.gsoSize,
    csumStart: p.csumStart,
    csumOffset: p.csumOffset,
  };
}

/** Bytes emitVirtioNetHdr writes: always 10 (the parameter keeps the Repr contract uniform). */
export function virtioNetHdrLen(r: VirtioNetHdrRepr): number {
  void r;
  return VIRTIO_NET_HDR_LEN;
}

function assertField(name: string, v: number, max: number): void {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new RangeError(`virtio_net_hdr ${name} ${v} outside [0, ${max}]`);
}

/** Writes the 10 bytes at p.offset. Throws RangeError on a field out of range (programmer error). */
export function emitVirtioNetHdr(r: VirtioNetHdrRepr, p: VirtioNetHdr): void {
  assertField('flags', r.flags, 0xff);
  assertField('gsoType', r.gsoType, 0xff);
  assertField('hdrLen', r.hdrLen, 0xffff);
  assertField('gsoSize', r.gsoSize, 0xffff);
  assertField('csumStart', r.csumStart, 0xffff);
  assertField('csumOffset', r.csumOffset, 0xffff);
  p.flags = r.flags;
  p.gsoType = r.gsoType;
  p.hdrLen = r.hdrLen;
  p.gsoSize = r.gsoSize;
  p.csumStart = r.csumStart;
  p.csumOffset = r.csumOffset;
}
