// The IKE daemon's source address for an initiation with local_addrs = %any:
// what the kernel would send from toward the peer, asked over rtnetlink as
// `ip route get PEER` does (RTM_GETROUTE; the answer's RTA_PREFSRC), the
// way charon's kernel-netlink plugin answers get_source_addr. The socket is
// opened on first use and reopened after a socket failure (as
// LinuxDevices.route does); a kernel answer of "no route" is just null.

import { NetlinkError, RtNetlink } from '../io/netlink.js';
import { formatIp4, formatIp6, parseIp4, parseIp6 } from '../wire/addr.js';
import { be32 } from '../wire/bytes.js';

export class RouteSource {
  private nl: RtNetlink | null = null;

  /** The preferred source toward `remote` (IPv4 or IPv6 text), or null: not an address, no route, or no source in the answer. */
  sourceFor(remote: string): string | null {
    const v4 = parseIp4(remote);
    const dst = v4 !== null ? Uint8Array.of(v4 >>> 24, v4 >>> 16, v4 >>> 8, v4) : parseIp6(remote);
    if (dst === null) return null;
    const family = v4 !== null ? 4 : 6;
    try {
      this.nl ??= RtNetlink.open();
      const r = this.nl.routeGet(family, dst);
      if (!r.ok || r.src === null || r.src.length !== dst.length) return null;
      return family === 4 ? formatIp4(be32(r.src, 0)) : formatIp6(r.src);
    } catch (e) {
      if (!(e instanceof NetlinkError)) this.close(); // the socket failed, not the lookup: start afresh next time
      return null;
    }
  }

  close(): void {
    this.nl?.close();
    this.nl = null;
  }
}
