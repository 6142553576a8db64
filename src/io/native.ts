// Loader and types for the native I/O addon (native/*.c, built by
// `npm run build:native` into build/Release/tunkit_native.node).
//
// Every function is synchronous and runs one non-blocking syscall (or one
// batch of them) on the calling thread; none allocates per packet. Slabs and
// the Int32Array/Uint32Array side arrays are preallocated by the caller and
// reused (pool.ts). Errors:
//   - a failed syscall throws an Error with `code` = errno name ('EPERM'),
//     `errno` = -errno, `syscall`, and a message naming the call and subject:
//     "TUNSETIFF tk0: EPERM (Operation not permitted)";
//   - bad arguments (wrong TypedArray type, slots outside the slab, batch
//     over 1024) throw TypeError/RangeError before any syscall (programmer
//     errors, style.md §4.2);
//   - per-packet failures inside a batch never throw: see sendBatch/writeBatch.

import { addonPath, loadAddon } from '../crypto/addon.js';
import { useNativeSum } from '../wire/checksum.js';

/** Most packets per batch call: UIO_MAXIOV, the kernel's recvmmsg/sendmmsg vlen cap. */
export const NATIVE_MAX_BATCH = 1024;

/** An opaque uv_poll_t handle from pollStart. */
export interface PollHandle { readonly __brand?: 'PollHandle' }

export interface NativeAddon {
  /**
   * open("/dev/net/tun", O_RDWR|O_NONBLOCK|O_CLOEXEC) + TUNSETIFF with IFF_TUN or
   * IFF_TAP, IFF_NO_PI, and IFF_MULTI_QUEUE if asked (drivers/net/tun.c). '' lets the
   * kernel name it; `name` is the real name. The device goes when its last fd closes,
   * unless tunSetPersist made it persistent (then this attaches to it).
   */
  tunOpen(name: string, tap: boolean, multiQueue?: boolean, vnetHdr?: boolean): { fd: number; name: string };
  /** TUNSETOFFLOAD (drivers/net/tun.c set_offload): TUN_F_* flags; throws the kernel's errno. */
  tunSetOffload(fd: number, flags: number): void;
  /**
   * TUNSETPERSIST (drivers/net/tun.c): on, the device outlives its last fd, keeping
   * IFF_UP, addresses and routes, and drops what it is sent while no fd is attached;
   * off, closing the last fd unregisters it. Throws the kernel's errno.
   */
  tunSetPersist(fd: number, on: boolean): void;
  /** SIOCGIFINDEX (netdevice(7)). */
  ifIndex(name: string): number;
  /** SIOCGIFMTU, bytes. */
  ifGetMtu(name: string): number;
  /** SIOCSIFMTU, bytes. */
  ifSetMtu(name: string, mtu: number): void;
  /** SIOCGIFFLAGS: IFF_UP = 0x1, IFF_RUNNING = 0x40, … (u16). */
  ifGetFlags(name: string): number;
  /** Sets or clears IFF_UP (SIOCGIFFLAGS + SIOCSIFFLAGS). */
  ifSetUp(name: string, up: boolean): void;
  /** SIOCGIFHWADDR: the 6-byte Ethernet address (zeros for a TUN device). */
  ifGetHwAddr(name: string): Uint8Array;
  /** SIOCSIFHWADDR with ARPHRD_ETHER (TAP only; EINVAL on TUN). */
  ifSetHwAddr(name: string, mac: Uint8Array): void;
  /**
   * socket(AF_INET, SOCK_RAW|SOCK_NONBLOCK|SOCK_CLOEXEC, proto) with IP_HDRINCL=1,
   * IP_PKTINFO=1 and 4 MiB SO_RCVBUF/SO_SNDBUF (…FORCE when permitted) — raw(7), ip(7).
   */
  rawOpen(proto: number): number;
  /** ICMP_FILTER on a raw IPPROTO_ICMP socket: types t (0..31) with bit t of dropMask set are never queued — raw(7). */
  rawIcmpFilter(fd: number, dropMask: number): void;
  /**
   * socket(AF_INET, SOCK_DGRAM|SOCK_NONBLOCK|SOCK_CLOEXEC) bound to addr:port (host-order
   * u32, 0 = any), SO_REUSEADDR, IP_PKTINFO, 4 MiB buffers — udp(7). For ESP-in-UDP
   * (RFC 3948) and IKE, with IP_RECVTOS; UDP_ENCAP is not set, the daemon demultiplexes.
   */
  udpOpen(addr: number, port: number): number;
  /** The local port a udpOpen socket is bound to (getsockname(2)): the kernel's pick after port 0. */
  udpPort(fd: number): number;
  /** close(2). */
  closeFd(fd: number): void;
  /**
   * recvmmsg(MSG_DONTWAIT|MSG_TRUNC) of up to `max` datagrams; datagram i lands at
   * slab[i*stride + offset] (at most stride-offset bytes). Fills sizes[i] (negative
   * = -real length: truncated, drop it), ifindex[i] (IP_PKTINFO) and src[i]
   * (host-order u32) and, when given, srcPort[i] (UDP sockets; 0 for raw), dst[i] (the
   * header destination, IP_PKTINFO ipi_addr) and tos[i] (IP_RECVTOS: udpOpen sockets).
   * Returns the count; 0 on EAGAIN. Raw IPv4 sockets deliver the IP header included.
   */
  recvBatch(fd: number, slab: Uint8Array, offset: number, stride: number, max: number,
    sizes: Int32Array, ifindex: Int32Array, src: Uint32Array, srcPort?: Uint16Array,
    dst?: Uint32Array, tos?: Uint8Array): number;
  /**
   * sendmmsg of slab[offsets[i], +sizes[i]) to sockaddr_in(dst[i]), i < count. Returns
   * how many were sent. A message failing alone (ENETUNREACH, EMSGSIZE, EINVAL…) is
   * skipped and counted (lastBatchErrors, lastSendError); EAGAIN stops the batch, so
   * count - sent - lastBatchErrors() messages were not attempted. status[i], when given,
   * is 1 for each message sent and 0 otherwise.
   */
  sendBatch(fd: number, slab: Uint8Array, offsets: Int32Array, sizes: Int32Array,
    dst: Uint32Array, count: number, dstPort?: Uint16Array, status?: Uint8Array): number;
  /**
   * ESP-in-UDP through a bound UDP socket (native/tk_udp_send.h): sendmmsg of payload i
   * (slab[offsets[i], +sizes[i])) to dst[i]:dstPort[i] with IP_PKTINFO source src[i] (0: the
   * route's), IP_TOS tos[i], IP_TTL ttl[i] (0: the route's) per message; runs of equal df[i]
   * under IP_MTU_DISCOVER PROBE (1) or DONT (0); SO_NO_CHECK set. sockState (Int32Array(3),
   * one per socket, initially -1s) tracks the options set. Errors and status as sendBatch.
   */
  sendUdpBatch(fd: number, slab: Uint8Array, offsets: Int32Array, sizes: Int32Array, dst: Uint32Array,
    dstPort: Uint16Array, src: Uint32Array, tos: Uint8Array, ttl: Uint8Array, df: Uint8Array, count: number,
    sockState: Int32Array, status?: Uint8Array): number;
  /** Puts back the SO_NO_CHECK and IP_MTU_DISCOVER sendUdpBatch changed (sockState as there). */
  udpSendDefaults(fd: number, sockState: Int32Array): void;
  /**
   * One readv(2) per packet from a TUN/TAP fd into slot i (as recvBatch) until EAGAIN
   * or `max`; sizes[i] negative = truncated. Returns the count, 0 on EAGAIN.
   */
  readBatch(fd: number, slab: Uint8Array, offset: number, stride: number, max: number,
    sizes: Int32Array): number;
  /**
   * One write(2) per packet; returns how many the kernel took. A refused packet
   * (EINVAL, EIO when down, …) is skipped and counted (lastBatchErrors, lastWriteError);
   * status[i], when given, is 1 for each packet written and 0 otherwise.
   */
  writeBatch(fd: number, slab: Uint8Array, offsets: Int32Array, sizes: Int32Array, count: number,
    status?: Uint8Array): number;
  /** errno name of the last skipped message of the latest sendBatch on this thread, '' if none. */
  lastSendError(): string;
  /** errno name of the last skipped packet of the latest writeBatch on this thread, '' if none. */
  lastWriteError(): string;
  /** Messages skipped with an error by the latest sendBatch or writeBatch on this thread. */
  lastBatchErrors(): number;
  /**
   * uv_poll_start(UV_READABLE) on Node's loop: onReadable() runs on this thread each
   * loop iteration while fd is readable (level-triggered). The fd must stay open
   * until pollStop.
   */
  pollStart(fd: number, onReadable: () => void): PollHandle;
  /** uv_poll_stop (paused) / uv_poll_start (resumed) on the same handle. */
  pollPause(handle: PollHandle, paused: boolean): void;
  /** Stops and closes the handle; idempotent. Does not close the fd. */
  pollStop(handle: PollHandle): void;
  /**
   * socket(AF_NETLINK, SOCK_RAW|SOCK_NONBLOCK|SOCK_CLOEXEC, NETLINK_ROUTE) with a 1 MiB
   * receive buffer, NETLINK_EXT_ACK and NETLINK_GET_STRICT_CHK (when the kernel has them),
   * bound to the RTMGRP_* multicast mask `groups` (0 = none). portId is the bound nl_pid.
   */
  /** protocol: NETLINK_ROUTE (0, default) or NETLINK_NETFILTER (12). */
  nlOpen(groups?: number, protocol?: number): { fd: number; portId: number };
  /** One sendto(2) of buf[0, len) to the kernel. */
  nlSend(fd: number, buf: Uint8Array, len: number): void;
  /**
   * Waits up to timeoutMs (0 = not at all) for one datagram from the kernel into buf.
   * Returns its length, 0 if none came, or -(real length) if it did not fit (lost).
   * Datagrams from other senders than the kernel are discarded. Throws ENOBUFS when
   * the socket overran (notifications were lost).
   */
  nlRecv(fd: number, buf: Uint8Array, timeoutMs: number): number;
  /**
   * sd_notify(3) without libsystemd: one sendto(2) of `state` (VAR=VALUE lines) on a
   * fresh AF_UNIX datagram socket to `path` ($NOTIFY_SOCKET; '@name' = abstract).
   * Non-blocking (a full queue throws EAGAIN); throws the errno otherwise.
   */
  sdNotify(path: string, state: string): void;
  /** getpwnam(user); gid from getgrnam(group) unless '' (then the user's primary group). RangeError "unknown user/group". */
  lookupUser(user: string, group: string): { uid: number; gid: number };
  /** getgrnam(group).gr_gid. RangeError "unknown group". */
  lookupGroup(group: string): number;
  /**
   * tunkitd --user (native/tk_privs.h): bounding set, setgroups(0)/setresgid/setresuid with
   * KEEPCAPS, capset to exactly CAP_NET_ADMIN + CAP_NET_RAW (permitted, effective) on this
   * thread, NO_NEW_PRIVS. Throws the errno of a failed step (the caller must then exit).
   */
  dropPrivileges(uid: number, gid: number): void;
  /**
   * getsockopt(fd, SOL_SOCKET, SO_PEERCRED) (native/tk_peercred.h): the peer's pid, effective
   * uid and gid at connect(2), and its supplementary gids (SO_PEERGROUPS; [] before Linux 4.13).
   * Throws the errno (ENOTSOCK, EBADF…) for anything but a unix socket.
   */
  peerCred(fd: number): { pid: number; uid: number; gid: number; groups: number[] };
  /**
   * clock_gettime(2) into the caller's out (Float64Array, ≥ 2): out[0] = CLOCK_MONOTONIC,
   * out[1] = CLOCK_REALTIME, whole ms (native/tk_clock.h). Allocates nothing, unlike
   * performance.now() and Date.now(), whose results V8 boxes per call.
   */
  clockRead(out: Float64Array): void;
  /**
   * The folded one's-complement sum (0..0xffff) of buf[off, off+len) as 16-bit
   * big-endian words, an odd last byte padded (native/tk_csum.h): what
   * wire/checksum.ts sum16 computes, for long ranges. RangeError outside buf.
   */
  csum16(buf: ArrayBuffer, off: number, len: number): number;
}

const EXPORTS: readonly (keyof NativeAddon)[] = [
  'tunOpen', 'tunSetOffload', 'tunSetPersist', 'ifIndex', 'ifGetMtu', 'ifSetMtu', 'ifGetFlags', 'ifSetUp', 'ifGetHwAddr', 'ifSetHwAddr',
  'rawOpen', 'rawIcmpFilter', 'udpOpen', 'udpPort', 'closeFd', 'recvBatch', 'sendBatch', 'sendUdpBatch', 'udpSendDefaults', 'readBatch', 'writeBatch', 'lastSendError',
  'lastWriteError', 'lastBatchErrors', 'pollStart', 'pollPause', 'pollStop', 'nlOpen', 'nlSend', 'nlRecv', 'sdNotify',
  'lookupUser', 'lookupGroup', 'dropPrivileges', 'peerCred', 'clockRead', 'csum16',
];

/** Absolute path of the built addon. */
export const nativePath = addonPath;

let cached: NativeAddon | null = null;

/** The addon, loaded once. Throws VpnError ERR_NATIVE_NOT_BUILT when missing or stale. */
export function loadNative(): NativeAddon {
  if (cached !== null) return cached;
  cached = loadAddon<NativeAddon>(EXPORTS);
  useNativeSum(cached.csum16); // the data path's checksums of long ranges in C from now on (same results)
  return cached;
}

/** Short alias of loadNative() for shell code: `native().ifIndex(name)`. */
export const native = loadNative;
