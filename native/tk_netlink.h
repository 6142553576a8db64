/*
 * tk_netlink.h: an rtnetlink socket (netlink(7), rtnetlink(7)). Only the
 * syscalls live here; every message is built and parsed in TypeScript
 * (src/wire/netlink.ts, src/wire/rtnetlink.ts, src/io/netlink.ts).
 *
 *   nlOpen(groups?) → { fd, portId }
 *       socket(AF_NETLINK, SOCK_RAW|SOCK_NONBLOCK|SOCK_CLOEXEC, NETLINK_ROUTE),
 *       SO_RCVBUF 1 MiB (SO_RCVBUFFORCE when permitted; iproute2's rtnl_open
 *       size: a full link dump fits), SO_SNDBUF 32 KiB, NETLINK_EXT_ACK=1
 *       (errors carry the kernel's message, NLMSGERR_ATTR_MSG) and
 *       NETLINK_GET_STRICT_CHK=1 (requests are validated strictly,
 *       net/core/rtnetlink.c), each skipped when the kernel lacks it
 *       (ENOPROTOOPT), then bind(nl_pid 0 = the kernel picks the port id,
 *       nl_groups = `groups`, the RTMGRP_* bit mask of multicast groups to
 *       receive notifications from; 0 = none). portId is the bound nl_pid:
 *       replies to our requests carry it in nlmsg_pid.
 *   nlSend(fd, buf, len)
 *       one sendto(2) of buf[0, len) to the kernel (nl_pid 0): one request,
 *       or several back to back. Throws the errno (ENOBUFS, …).
 *   nlRecv(fd, buf, timeoutMs) → bytes
 *       waits up to timeoutMs (poll(2), 0 = do not wait) for one datagram
 *       from the kernel and copies it to buf[0, …). Returns its length, 0 if
 *       none came in time (so a missing reply can never hang the caller),
 *       or -(real length) if it was longer than buf (the tail is lost: the
 *       caller treats the exchange as failed). Datagrams whose sender is
 *       not the kernel (nl_pid ≠ 0: another process writing to our port)
 *       are discarded. ENOBUFS (the socket overran: notifications were
 *       lost) is thrown, so a monitor knows to resynchronize.
 */
#ifndef TK_NETLINK_H
#define TK_NETLINK_H

#include <node_api.h>

/* Defines the functions above on `exports`. */
napi_status tk_netlink_init(napi_env env, napi_value exports);

#endif
