// PacketConn over an ordinary UDP socket (udp(7)): the NAT-T port 4500 for
// ESP-in-UDP (RFC 3948) and, later, IKE. Unlike a raw IPPROTO_UDP socket it
// sees only datagrams addressed to its port, and the kernel has already
// checked their UDP checksum. Each received datagram is its UDP payload at
// b.offset, with the sender's address (src) and port (meta.srcPort), the
// local address it was sent to and the receiving ifindex (IP_PKTINFO), and
// the IPv4 TOS byte (IP_RECVTOS, for ECN decapsulation). send() takes the
// destination ports from conn.dstPort. Same batching, bounds and error rules
// as raw.ts.

import { loadNative } from './native.js';
import { RawConn } from './raw.js';
import type { RawOptions } from './raw.js';

/** IPPROTO_UDP: what RawConn.proto reports for a UDP conn. */
const IPPROTO_UDP = 17;

/** Opens a UDP socket bound to addr:port (host-order u32, 0 = any); port < 1024 needs CAP_NET_BIND_SERVICE. */
export function openUdp(addr: number, port: number, opts: Omit<RawOptions, 'isUdp'> = {}): RawConn {
  const n = loadNative();
  const open = (): number => n.udpOpen(addr, port);
  return new RawConn(n, open(), IPPROTO_UDP, { ...opts, isUdp: true, reopen: open, label: `udp ${port}` });
}
