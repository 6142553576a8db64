/* netlink.c: see tk_netlink.h for the exported functions and their contracts. */
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include "tk_common.h"
#include "tk_netlink.h"

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11 /* include/uapi/linux/netlink.h, Linux 4.12 */
#endif
#ifndef NETLINK_GET_STRICT_CHK
#define NETLINK_GET_STRICT_CHK 12 /* Linux 4.20 */
#endif

#define TK_NL_RCVBUF (1024 * 1024)
#define TK_NL_SNDBUF (32 * 1024)

/* An optional netlink socket option: absent on old kernels (ENOPROTOOPT) is fine. */
static int tk_nl_opt(int fd, int opt) {
  int one = 1;
  if (setsockopt(fd, SOL_NETLINK, opt, &one, sizeof one) == 0 || errno == ENOPROTOOPT) return 0;
  return -1;
}

/* NETLINK_NETFILTER: an nf_tables batch is one datagram, bounded by the send buffer. */
#define TK_NFT_SNDBUF (4 * 1024 * 1024)

static int tk_nl_bufs(int fd, int proto) {
  int rcv = TK_NL_RCVBUF, snd = proto == NETLINK_NETFILTER ? TK_NFT_SNDBUF : TK_NL_SNDBUF;
  if (proto == NETLINK_NETFILTER && setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &snd, sizeof snd) == 0) snd = 0;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof rcv) < 0 &&
      setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv) < 0) return -1;
  return snd == 0 ? 0 : setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &snd, sizeof snd);
}

/* nlOpen(groups?, protocol?): NETLINK_ROUTE (0, the default) or NETLINK_NETFILTER (12, nf_tables). */
static napi_value tk_nl_open(napi_env env, napi_callback_info info) {
  napi_value argv[2], out, jfd, jport;
  int32_t groups = 0, proto = NETLINK_ROUTE;
  napi_valuetype t = napi_undefined;
  if (!tk_args(env, info, 2, argv)) return NULL;
  if (napi_typeof(env, argv[0], &t) == napi_ok && t != napi_undefined && !tk_int(env, argv[0], "groups", &groups)) return NULL;
  t = napi_undefined;
  if (napi_typeof(env, argv[1], &t) == napi_ok && t != napi_undefined && !tk_int(env, argv[1], "protocol", &proto)) return NULL;
  if (proto != NETLINK_ROUTE && proto != NETLINK_NETFILTER) return tk_throw_range(env, "protocol %d is neither NETLINK_ROUTE nor NETLINK_NETFILTER", proto);
  const char *what = proto == NETLINK_ROUTE ? "AF_NETLINK/NETLINK_ROUTE" : "AF_NETLINK/NETLINK_NETFILTER";
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
  if (fd < 0) return tk_throw_errno(env, errno, "socket", what);
  struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_pid = 0, .nl_groups = (uint32_t)groups };
  socklen_t salen = sizeof sa;
  const char *failed = NULL;
  if (tk_nl_bufs(fd, proto) < 0) failed = "SO_RCVBUF";
  else if (tk_nl_opt(fd, NETLINK_EXT_ACK) < 0) failed = "NETLINK_EXT_ACK";
  else if (tk_nl_opt(fd, NETLINK_GET_STRICT_CHK) < 0) failed = "NETLINK_GET_STRICT_CHK";
  else if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) failed = "bind";
  else if (getsockname(fd, (struct sockaddr *)&sa, &salen) < 0) failed = "getsockname";
  if (failed != NULL) {
    int err = errno;
    close(fd);
    return tk_throw_errno(env, err, failed, what);
  }
  TK_NAPI(env, napi_create_object(env, &out));
  TK_NAPI(env, napi_create_int32(env, fd, &jfd));
  TK_NAPI(env, napi_create_uint32(env, sa.nl_pid, &jport));
  tk_set_prop(env, out, "fd", jfd);
  tk_set_prop(env, out, "portId", jport);
  return out;
}

static napi_value tk_nl_send(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int32_t fd, len;
  uint8_t *buf;
  size_t cap;
  char subject[24];
  if (!tk_args(env, info, 3, argv) || !tk_int(env, argv[0], "fd", &fd) ||
      !tk_typed(env, argv[1], napi_uint8_array, "buf", (void **)&buf, &cap) ||
      !tk_int(env, argv[2], "len", &len)) return NULL;
  if (len < 0 || (size_t)len > cap) return tk_throw_range(env, "len %d outside the %zu-byte buffer", len, cap);
  struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
  ssize_t n;
  do n = sendto(fd, buf, (size_t)len, 0, (struct sockaddr *)&kernel, sizeof kernel);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    int err = errno;
    tk_fd_subject(subject, sizeof subject, fd);
    return tk_throw_errno(env, err, "sendto", subject);
  }
  return NULL;
}

static int64_t tk_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One datagram from the kernel into buf: its length, 0 on EAGAIN, -1 with errno set on error. */
static ssize_t tk_nl_recv1(int fd, uint8_t *buf, size_t cap) {
  for (;;) {
    struct sockaddr_nl from;
    socklen_t fromlen = sizeof from;
    ssize_t n = recvfrom(fd, buf, cap, MSG_DONTWAIT | MSG_TRUNC, (struct sockaddr *)&from, &fromlen);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
    if (fromlen >= sizeof from && from.nl_pid != 0) continue; /* not the kernel: ignore */
    return n;
  }
}

static napi_value tk_nl_recv(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int32_t fd, timeout;
  uint8_t *buf;
  size_t cap;
  char subject[24];
  if (!tk_args(env, info, 3, argv) || !tk_int(env, argv[0], "fd", &fd) ||
      !tk_typed(env, argv[1], napi_uint8_array, "buf", (void **)&buf, &cap) ||
      !tk_int(env, argv[2], "timeoutMs", &timeout)) return NULL;
  if (timeout < 0) return tk_throw_range(env, "timeoutMs must be >= 0, got %d", timeout);
  const int64_t deadline = tk_now_ms() + timeout;
  for (;;) {
    ssize_t n = tk_nl_recv1(fd, buf, cap);
    if (n < 0) {
      int err = errno;
      tk_fd_subject(subject, sizeof subject, fd);
      return tk_throw_errno(env, err, "recvfrom", subject);
    }
    if (n > 0) return tk_int_value(env, (size_t)n > cap ? -(int32_t)n : (int32_t)n);
    int64_t left = deadline - tk_now_ms();
    if (left <= 0) return tk_int_value(env, 0);
    struct pollfd p = { .fd = fd, .events = POLLIN };
    if (poll(&p, 1, (int)left) < 0 && errno != EINTR) {
      int err = errno;
      tk_fd_subject(subject, sizeof subject, fd);
      return tk_throw_errno(env, err, "poll", subject);
    }
  }
}

napi_status tk_netlink_init(napi_env env, napi_value exports) {
  static const tk_fn fns[] = {
    { "nlOpen", tk_nl_open },
    { "nlSend", tk_nl_send },
    { "nlRecv", tk_nl_recv },
  };
  return tk_define(env, exports, fns, sizeof fns / sizeof fns[0]);
}
