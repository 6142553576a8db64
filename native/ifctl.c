/* ifctl.c: see tk_ifctl.h for the exported functions and their contracts. */
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/if_tun.h>
#include <linux/icmp.h> /* ICMP_FILTER, struct icmp_filter (raw(7)) */
#include "tk_common.h"
#include "tk_ifctl.h"

#define TK_SOCKBUF_BYTES (4 * 1024 * 1024)

static napi_value tk_tun_open(napi_env env, napi_callback_info info) {
  napi_value argv[4], out, jfd, jname;
  char name[IFNAMSIZ];
  bool tap = false, mq = false, vnet = false;
  if (!tk_args(env, info, 4, argv) || !tk_ifname(env, argv[0], name, sizeof name, "TUNSETIFF") ||
      !tk_bool(env, argv[1], false, &tap) || !tk_bool(env, argv[2], false, &mq) ||
      !tk_bool(env, argv[3], false, &vnet)) return NULL;
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return tk_throw_errno(env, errno, "open", "/dev/net/tun");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  memcpy(ifr.ifr_name, name, strlen(name));
  /* IFF_VNET_HDR: every read and write carries a struct virtio_net_hdr first; its
   * size stays the default 10 bytes (tun->vnet_hdr_sz = sizeof(struct virtio_net_hdr)
   * in tun_set_iff, drivers/net/tun.c), so no TUNSETVNETHDRSZ. */
  ifr.ifr_flags = (short)((tap ? IFF_TAP : IFF_TUN) | IFF_NO_PI | (mq ? IFF_MULTI_QUEUE : 0) |
                          (vnet ? IFF_VNET_HDR : 0));
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    int err = errno;
    close(fd);
    return tk_throw_errno(env, err, "TUNSETIFF", name[0] ? name : "(auto)");
  }
  ifr.ifr_name[IFNAMSIZ - 1] = '\0';
  TK_NAPI(env, napi_create_object(env, &out));
  TK_NAPI(env, napi_create_int32(env, fd, &jfd));
  TK_NAPI(env, napi_create_string_utf8(env, ifr.ifr_name, NAPI_AUTO_LENGTH, &jname));
  tk_set_prop(env, out, "fd", jfd);
  tk_set_prop(env, out, "name", jname);
  return out;
}

/* Runs one SIOC* ioctl on `ifr` (ifr_name already set). 0, or throws and returns -1. */
static int tk_ifioctl(napi_env env, unsigned long req, const char *reqname, struct ifreq *ifr) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) {
    tk_throw_errno(env, errno, "socket", "AF_INET/SOCK_DGRAM");
    return -1;
  }
  int rc = ioctl(s, req, ifr);
  int err = errno;
  close(s);
  if (rc < 0) {
    tk_throw_errno(env, err, reqname, ifr->ifr_name);
    return -1;
  }
  return 0;
}

/* Parses argv[0] as an interface name into a zeroed ifreq. */
static bool tk_ifreq(napi_env env, napi_value name, struct ifreq *ifr, const char *reqname) {
  memset(ifr, 0, sizeof *ifr);
  return tk_ifname(env, name, ifr->ifr_name, IFNAMSIZ, reqname);
}

static napi_value tk_if_index(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  struct ifreq ifr;
  if (!tk_args(env, info, 1, argv) || !tk_ifreq(env, argv[0], &ifr, "SIOCGIFINDEX")) return NULL;
  if (tk_ifioctl(env, SIOCGIFINDEX, "SIOCGIFINDEX", &ifr) < 0) return NULL;
  return tk_int_value(env, ifr.ifr_ifindex);
}

static napi_value tk_if_get_mtu(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  struct ifreq ifr;
  if (!tk_args(env, info, 1, argv) || !tk_ifreq(env, argv[0], &ifr, "SIOCGIFMTU")) return NULL;
  if (tk_ifioctl(env, SIOCGIFMTU, "SIOCGIFMTU", &ifr) < 0) return NULL;
  return tk_int_value(env, ifr.ifr_mtu);
}

static napi_value tk_if_set_mtu(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  struct ifreq ifr;
  int32_t mtu;
  if (!tk_args(env, info, 2, argv) || !tk_ifreq(env, argv[0], &ifr, "SIOCSIFMTU") ||
      !tk_int(env, argv[1], "mtu", &mtu)) return NULL;
  ifr.ifr_mtu = mtu;
  if (tk_ifioctl(env, SIOCSIFMTU, "SIOCSIFMTU", &ifr) < 0) return NULL;
  return NULL;
}

static napi_value tk_if_get_flags(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  struct ifreq ifr;
  if (!tk_args(env, info, 1, argv) || !tk_ifreq(env, argv[0], &ifr, "SIOCGIFFLAGS")) return NULL;
  if (tk_ifioctl(env, SIOCGIFFLAGS, "SIOCGIFFLAGS", &ifr) < 0) return NULL;
  return tk_int_value(env, (uint16_t)ifr.ifr_flags);
}

/* Read-modify-write of IFF_UP, as `ip link set NAME up|down` does. */
static napi_value tk_if_set_up(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  struct ifreq ifr;
  bool up = false;
  if (!tk_args(env, info, 2, argv) || !tk_ifreq(env, argv[0], &ifr, "SIOCSIFFLAGS") ||
      !tk_bool(env, argv[1], true, &up)) return NULL;
  if (tk_ifioctl(env, SIOCGIFFLAGS, "SIOCGIFFLAGS", &ifr) < 0) return NULL;
  if (up) ifr.ifr_flags |= IFF_UP;
  else ifr.ifr_flags &= (short)~IFF_UP;
  tk_ifioctl(env, SIOCSIFFLAGS, "SIOCSIFFLAGS", &ifr);
  return NULL;
}

static napi_value tk_if_get_hwaddr(napi_env env, napi_callback_info info) {
  napi_value argv[1], ab, out;
  struct ifreq ifr;
  void *data;
  if (!tk_args(env, info, 1, argv) || !tk_ifreq(env, argv[0], &ifr, "SIOCGIFHWADDR")) return NULL;
  if (tk_ifioctl(env, SIOCGIFHWADDR, "SIOCGIFHWADDR", &ifr) < 0) return NULL;
  TK_NAPI(env, napi_create_arraybuffer(env, 6, &data, &ab));
  memcpy(data, ifr.ifr_hwaddr.sa_data, 6);
  TK_NAPI(env, napi_create_typedarray(env, napi_uint8_array, 6, ab, 0, &out));
  return out;
}

/* Sets a TAP device's Ethernet address (ARPHRD_ETHER; a TUN device has none: EINVAL). */
static napi_value tk_if_set_hwaddr(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  struct ifreq ifr;
  void *mac;
  size_t len;
  if (!tk_args(env, info, 2, argv) || !tk_ifreq(env, argv[0], &ifr, "SIOCSIFHWADDR") ||
      !tk_typed(env, argv[1], napi_uint8_array, "mac", &mac, &len)) return NULL;
  if (len != 6) return tk_throw_range(env, "mac must be 6 bytes, got %zu", len);
  ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
  memcpy(ifr.ifr_hwaddr.sa_data, mac, 6);
  tk_ifioctl(env, SIOCSIFHWADDR, "SIOCSIFHWADDR", &ifr);
  return NULL;
}

/* setsockopt(SOL_SOCKET, force) falling back to `plain` when not CAP_NET_ADMIN. */
static int tk_sockbuf(int fd, int force, int plain) {
  int v = TK_SOCKBUF_BYTES;
  if (setsockopt(fd, SOL_SOCKET, force, &v, sizeof v) == 0) return 0;
  if (errno != EPERM) return -1;
  return setsockopt(fd, SOL_SOCKET, plain, &v, sizeof v);
}

static napi_value tk_raw_open(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t proto;
  char subject[32];
  if (!tk_args(env, info, 1, argv) || !tk_int(env, argv[0], "proto", &proto)) return NULL;
  if (proto < 0 || proto > 255) return tk_throw_range(env, "proto must be 0..255, got %d", proto);
  snprintf(subject, sizeof subject, "AF_INET/SOCK_RAW/%d", proto);
  int fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
  if (fd < 0) return tk_throw_errno(env, errno, "socket", subject);
  int one = 1;
  const char *failed = NULL;
  if (setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof one) < 0) failed = "IP_HDRINCL";
  else if (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one) < 0) failed = "IP_PKTINFO";
  else if (tk_sockbuf(fd, SO_RCVBUFFORCE, SO_RCVBUF) < 0) failed = "SO_RCVBUF";
  else if (tk_sockbuf(fd, SO_SNDBUFFORCE, SO_SNDBUF) < 0) failed = "SO_SNDBUF";
  if (failed != NULL) {
    int err = errno;
    close(fd);
    return tk_throw_errno(env, err, failed, subject);
  }
  return tk_int_value(env, fd);
}

/* rawIcmpFilter(fd, dropMask): ICMP_FILTER on a raw IPPROTO_ICMP socket (raw(7)); bit t of
 * dropMask set = ICMP type t (0..31) is never queued on this socket (net/ipv4/raw.c icmp_filter),
 * so a type nobody reads costs no wakeup. Types >= 32 always pass. */
static napi_value tk_raw_icmp_filter(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t fd, mask;
  if (!tk_args(env, info, 2, argv) || !tk_int(env, argv[0], "fd", &fd) || !tk_int(env, argv[1], "dropMask", &mask)) return NULL;
  struct icmp_filter f = { .data = (uint32_t)mask };
  if (setsockopt(fd, SOL_RAW, ICMP_FILTER, &f, sizeof f) < 0) return tk_throw_errno(env, errno, "ICMP_FILTER", "AF_INET/SOCK_RAW/1");
  return NULL;
}

/* udpOpen(addr, port) → fd: socket(AF_INET, SOCK_DGRAM|SOCK_NONBLOCK|SOCK_CLOEXEC) bound to
 * addr:port (host-order u32, 0 = INADDR_ANY), SO_REUSEADDR, IP_PKTINFO, IP_RECVTOS (the outer
 * TOS byte, for ECN decapsulation of ESP-in-UDP) and 4 MiB buffers.
 * UDP_ENCAP is not set (that would hand ESP to the kernel's own xfrm): the daemon reads every
 * datagram and tells IKE (non-ESP marker), ESP and NAT keepalives apart (RFC 3948 §2). */
static napi_value tk_udp_open(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t addr, port;
  char subject[48];
  if (!tk_args(env, info, 2, argv) || !tk_int(env, argv[0], "addr", &addr) || !tk_int(env, argv[1], "port", &port)) return NULL;
  if (port < 0 || port > 65535) return tk_throw_range(env, "port must be 0..65535, got %d", port);
  snprintf(subject, sizeof subject, "AF_INET/SOCK_DGRAM port %d", port);
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return tk_throw_errno(env, errno, "socket", subject);
  int one = 1;
  const char *failed = NULL;
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl((uint32_t)addr) };
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0) failed = "SO_REUSEADDR";
  else if (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one) < 0) failed = "IP_PKTINFO";
  else if (setsockopt(fd, IPPROTO_IP, IP_RECVTOS, &one, sizeof one) < 0) failed = "IP_RECVTOS";
  else if (tk_sockbuf(fd, SO_RCVBUFFORCE, SO_RCVBUF) < 0) failed = "SO_RCVBUF";
  else if (tk_sockbuf(fd, SO_SNDBUFFORCE, SO_SNDBUF) < 0) failed = "SO_SNDBUF";
  else if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) failed = "bind";
  if (failed != NULL) {
    int err = errno;
    close(fd);
    return tk_throw_errno(env, err, failed, subject);
  }
  return tk_int_value(env, fd);
}

/* tunSetOffload(fd, flags): TUNSETOFFLOAD (TUN_F_CSUM 1, TUN_F_TSO4 2, TUN_F_TSO6 4, ...):
 * which offloads the kernel may leave to us on reads (set_offload, drivers/net/tun.c).
 * Throws the kernel's errno (EINVAL for flags it does not know). */
static napi_value tk_tun_set_offload(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t fd, flags;
  char subject[24];
  if (!tk_args(env, info, 2, argv) || !tk_int(env, argv[0], "fd", &fd) || !tk_int(env, argv[1], "flags", &flags)) return NULL;
  if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)(uint32_t)flags) < 0) {
    int err = errno;
    snprintf(subject, sizeof subject, "fd=%d", fd);
    return tk_throw_errno(env, err, "TUNSETOFFLOAD", subject);
  }
  return NULL;
}

/* tunSetPersist(fd, on): TUNSETPERSIST (drivers/net/tun.c tun_chr_ioctl). With it set the
 * device outlives its last fd: it stays registered, keeps IFF_UP, its addresses and routes,
 * and drops what it is sent while no fd is attached (tun_net_xmit finds no queue). Cleared,
 * closing the last fd unregisters the device. Throws the kernel's errno. */
static napi_value tk_tun_set_persist(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t fd;
  bool on = false;
  char subject[24];
  if (!tk_args(env, info, 2, argv) || !tk_int(env, argv[0], "fd", &fd) || !tk_bool(env, argv[1], true, &on)) return NULL;
  if (ioctl(fd, TUNSETPERSIST, (unsigned long)(on ? 1 : 0)) < 0) {
    int err = errno;
    snprintf(subject, sizeof subject, "fd=%d", fd);
    return tk_throw_errno(env, err, "TUNSETPERSIST", subject);
  }
  return NULL;
}

/* udpPort(fd) → the local port an AF_INET socket is bound to (getsockname(2)): udpOpen with
 * port 0 lets the kernel pick one (strongSwan's charon.port = 0, a random port). */
static napi_value tk_udp_port(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  char subject[24];
  struct sockaddr_in sa;
  socklen_t salen = sizeof sa;
  if (!tk_args(env, info, 1, argv) || !tk_int(env, argv[0], "fd", &fd)) return NULL;
  if (getsockname(fd, (struct sockaddr *)&sa, &salen) < 0) {
    int err = errno;
    snprintf(subject, sizeof subject, "fd=%d", fd);
    return tk_throw_errno(env, err, "getsockname", subject);
  }
  return tk_int_value(env, ntohs(sa.sin_port));
}

static napi_value tk_close_fd(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  char subject[24];
  if (!tk_args(env, info, 1, argv) || !tk_int(env, argv[0], "fd", &fd)) return NULL;
  if (close(fd) < 0 && errno != EINTR) {
    int err = errno; /* close(2): EINTR still releases the fd on Linux */
    snprintf(subject, sizeof subject, "fd=%d", fd);
    return tk_throw_errno(env, err, "close", subject);
  }
  return NULL;
}

napi_status tk_ifctl_init(napi_env env, napi_value exports) {
  static const tk_fn fns[] = {
    { "tunOpen", tk_tun_open },
    { "tunSetOffload", tk_tun_set_offload },
    { "tunSetPersist", tk_tun_set_persist },
    { "ifIndex", tk_if_index },
    { "ifGetMtu", tk_if_get_mtu },
    { "ifSetMtu", tk_if_set_mtu },
    { "ifGetFlags", tk_if_get_flags },
    { "ifSetUp", tk_if_set_up },
    { "ifGetHwAddr", tk_if_get_hwaddr },
    { "ifSetHwAddr", tk_if_set_hwaddr },
    { "rawOpen", tk_raw_open },
    { "rawIcmpFilter", tk_raw_icmp_filter },
    { "udpOpen", tk_udp_open },
    { "udpPort", tk_udp_port },
    { "closeFd", tk_close_fd },
  };
  return tk_define(env, exports, fns, sizeof fns / sizeof fns[0]);
}
