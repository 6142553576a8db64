/*
 * tk_ifctl.h: opening TUN/TAP devices and raw sockets, and interface
 * ioctls (netdevice(7)). Control plane: called rarely, all synchronous.
 *
 *   tunOpen(name, tap, multiQueue?, vnetHdr?) → { fd, name }
 *       open("/dev/net/tun", O_RDWR|O_NONBLOCK|O_CLOEXEC) + TUNSETIFF with
 *       IFF_TUN|IFF_TAP, IFF_NO_PI (no struct tun_pi before each packet) and
 *       optionally IFF_MULTI_QUEUE (drivers/net/tun.c tun_set_iff). An empty
 *       name lets the kernel pick tun%d/tap%d; the returned name is the real one.
 *       The device lives until its last fd is closed unless tunSetPersist made
 *       it persistent; opening an existing persistent device attaches to it.
 *       vnetHdr: IFF_VNET_HDR, a 10-byte struct virtio_net_hdr before every packet.
 *   tunSetOffload(fd, flags): TUNSETOFFLOAD (TUN_F_CSUM|TUN_F_TSO4|TUN_F_TSO6 ...).
 *   tunSetPersist(fd, on): TUNSETPERSIST: the device outlives its fds (and
 *       drops what it is sent while none is attached), or no longer does.
 *   ifIndex/ifGetMtu/ifSetMtu/ifGetFlags/ifSetUp/ifGetHwAddr/ifSetHwAddr(name …)
 *       SIOCGIFINDEX, SIOCGIFMTU, SIOCSIFMTU, SIOCGIFFLAGS, SIOCSIFFLAGS,
 *       SIOCGIFHWADDR, SIOCSIFHWADDR on a throwaway AF_INET datagram socket of
 *       the caller's network namespace.
 *   rawOpen(proto) → fd
 *       socket(AF_INET, SOCK_RAW|SOCK_NONBLOCK|SOCK_CLOEXEC, proto) (raw(7)) with
 *       IP_HDRINCL=1 (we send whole IPv4 packets; the kernel still fills
 *       tot_len and the checksum, and ID/saddr when zero), IP_PKTINFO=1
 *       (ip(7): the receiving ifindex arrives as a cmsg) and 4 MiB buffers
 *       (SO_*BUFFORCE, falling back to SO_*BUF, capped by net.core.*mem_max).
 *   rawIcmpFilter(fd, dropMask)
 *       ICMP_FILTER (SOL_RAW) on a raw IPPROTO_ICMP socket: ICMP types whose bit
 *       is set in dropMask (0..31) are never queued on it (raw(7)).
 *   closeFd(fd)
 */
#ifndef TK_IFCTL_H
#define TK_IFCTL_H

#include <node_api.h>

/* Defines the functions above on `exports`. */
napi_status tk_ifctl_init(napi_env env, napi_value exports);

#endif
