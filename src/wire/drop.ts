// Drop codes: every packet the data path refuses gets exactly one of these,
// and the caller does `drops[code]++` (style.md §4; gVisor's per-reason
// MalformedPacketsReceived). Codes are small dense integers so a Uint32Array
// indexed by code is the counter table. Names are stable: they appear in
// `tunkit -s link show`, traces and JSON output.

export const Drop = {
  None: 0,
  // ---- malformed input (wire/) ----
  /** Shorter than the fixed header of the protocol being parsed. */
  Truncated: 1,
  /** IP version nibble is not the one expected. */
  BadVersion: 2,
  /** IPv4 IHL < 5 or header longer than the packet. */
  BadHeaderLen: 3,
  /** IP total/payload length inconsistent with the bytes received. */
  BadTotalLen: 4,
  /** IPv4 header checksum does not verify. */
  BadIpChecksum: 5,
  /** Outer packet is a fragment (the kernel reassembles before tunnel rcv). */
  Fragment: 6,
  /** IPv6 extension header chain truncated or malformed. */
  BadExtHeader: 7,
  /** GRE version != 0 (gre_parse_header: -EINVAL). */
  GreVersion: 8,
  /** GRE routing (R) bit set (gre_parse_header: -EINVAL). */
  GreRouting: 9,
  /** GRE checksum present but wrong (skb_checksum_simple_validate). */
  GreChecksum: 10,
  /** UDP length field inconsistent, or bad UDP checksum. */
  BadUdp: 11,
  /** ICMP/ICMPv6 message malformed or bad checksum. */
  BadIcmp: 12,
  /** Ethernet frame shorter than 14 bytes. */
  BadEthernet: 13,
  // ---- tunnel receive (tunnel/, ip_tunnel_rcv & friends) ----
  /** No tunnel matched and the fallback device is down (ip_tunnel_lookup → NULL). */
  NoTunnel: 20,
  /** Checksum presence differs from the tunnel's icsum (ip_tunnel_rcv → rx_crc_errors). */
  CsumMismatch: 21,
  /** iseq set but the packet has no S bit (ip_tunnel_rcv → rx_fifo_errors). */
  SeqMissing: 22,
  /** Sequence number behind the expected one (ip_tunnel_rcv → rx_fifo_errors). */
  SeqOutOfOrder: 23,
  /** Inner header cannot be pulled (pskb_inet_may_pull → rx_length_errors). */
  InnerTruncated: 24,
  /** RFC 6040 drop: outer CE over a not-ECT inner (IP_ECN_decapsulate → rx_frame_errors). */
  EcnDrop: 25,
  /** Payload protocol not accepted by the tunnel's mode (ipip_tunnel_rcv/ipip6_rcv proto check). */
  ProtoMismatch: 26,
  /** Inner payload type the device cannot carry (e.g. non-IP on an L3 gre device). */
  UnsupportedPayload: 27,
  /** sit anti-spoofing failed (packet_is_spoofed → rx_errors). */
  Spoofed: 28,
  /** Tunnel device is administratively down. */
  DeviceDown: 29,
  // ---- tunnel transmit ----
  /** Inner protocol the tunnel type cannot encapsulate (…_xmit tx_error → tx_dropped). */
  TxUnsupported: 40,
  /** Inner packet too big for the path MTU: ICMP sent back (tnl_update_pmtu → -E2BIG). */
  TxTooBig: 41,
  /** No destination for an NBMA tunnel (ip_tunnel_xmit → tx_fifo_errors). */
  TxNoDest: 42,
  /** No route to the remote (ip_tunnel_xmit → tx_carrier_errors). */
  TxNoRoute: 43,
  /** Route to the remote points back into the tunnel, or MTU below 68 (→ collisions). */
  TxLoop: 44,
  /** Inner packet malformed on transmit (pskb_inet_may_pull fails → tx_dropped). */
  TxMalformed: 45,
  // ---- TUN offload (offload/, virtio_net_hdr with IFF_VNET_HDR) ----
  /**
   * virtio_net_hdr unusable: unknown gso_type, gso_size 0, GSO type and IP
   * version disagree, csum_start/csum_offset outside the packet or not at the
   * TCP checksum (the kernel's __virtio_net_hdr_to_skb answers -EINVAL).
   */
  VnetBadHeader: 50,
  /** The packet behind a TCP GSO header is not an unfragmented IPv4/IPv6 TCP packet with a whole TCP header. */
  GsoBadPacket: 51,
  /** GSO tunkit does not segment: UFO/USO (never offered: no TUN_F_USO*), IPv6 extension headers. */
  GsoUnsupported: 52,
  /** The caller's slots cannot hold the segments (too few, or one too small for a segment). */
  GsoNoRoom: 53,
} as const;

export type Drop = (typeof Drop)[keyof typeof Drop];

/** Size of a per-code counter table: `new Uint32Array(DROP_TABLE_SIZE)`. */
export const DROP_TABLE_SIZE = 64;

const NAMES: Record<number, string> = {};
for (const [k, v] of Object.entries(Drop)) NAMES[v] = k;

/** Stable name of a drop code ("SeqOutOfOrder"); "Drop#N" for unknown codes. */
export const dropName = (code: number): string => NAMES[code] ?? `Drop#${code}`;

/** All defined codes except None, in numeric order (for printing counter tables). */
export const DROP_CODES: readonly number[] = Object.values(Drop)
  .filter((v) => v !== 0)
  .sort((a, b) => a - b);
