/*
 * tk_udp_send.h: ESP-in-UDP (RFC 3948) sent through the bound NAT-T UDP
 * socket instead of a raw IP socket, so a tunkitd without CAP_NET_RAW
 * can send it. The caller passes each datagram's UDP payload and the outer
 * IPv4 header fields xfrm built for it; the kernel builds the IP and UDP
 * headers from them (udp(7), ip(7)).
 *
 *   sendUdpBatch(fd, slab, offsets, sizes, dst, dstPort, src, tos, ttl, df, count,
 *                sockState[, status]) → datagrams sent
 *       sendmmsg of payload i (slab[offsets[i], +sizes[i])) to dst[i]:dstPort[i]
 *       (host order) with per-message control messages: IP_PKTINFO
 *       (ipi_spec_dst = src[i], the SA's source address; omitted when 0),
 *       IP_TOS = tos[i], IP_TTL = ttl[i] (omitted when 0: the route's hop
 *       limit). DF has no per-message control: each run of equal df[i] is sent
 *       after IP_MTU_DISCOVER is set to IP_PMTUDISC_PROBE (DF set, the cached
 *       path MTU not applied: the caller sized the packet) or IP_PMTUDISC_DONT
 *       (DF clear, fragmented locally when over the path MTU). SO_NO_CHECK is
 *       set (UDP checksum 0, as esp_output_udp_encap writes it).
 *       sockState (Int32Array of 3, owned by the caller, one per socket) keeps
 *       what was set: [0] IP_MTU_DISCOVER (-1: the socket's default), [1]
 *       SO_NO_CHECK (-1: default 0), [2] the default IP_MTU_DISCOVER read
 *       before the first change; a sockopt is set only when it changes.
 *       Errors as sendBatch (tk_batch.h): a failing message is skipped and
 *       counted, EAGAIN ends the batch, a dead fd throws.
 *   udpSendDefaults(fd, sockState)
 *       Restores what sendUdpBatch changed (before the socket sends something
 *       else, e.g. IKE on 4500, which keeps checksums and default PMTU discovery).
 */
#ifndef TK_UDP_SEND_H
#define TK_UDP_SEND_H

#include <node_api.h>

/* Defines the functions above on `exports`. */
napi_status tk_udp_send_init(napi_env env, napi_value exports);

#endif
