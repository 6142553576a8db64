/* batch.c: see tk_batch.h for the exported functions and their contracts. */
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include "tk_common.h"
#include "tk_batch.h"

/* Errors after which the descriptor is unusable: the batch call throws. */
bool tk_fatal(int err) {
  return err == EBADF || err == EBADFD || err == ENOTSOCK || err == EFAULT;
}

/* Receive-side arguments: fd, slab, offset, stride, max, sizes (argv[0..5]). */
typedef struct {
  int32_t fd, offset, stride, max;
  uint8_t *slab;
  int32_t *sizes;
} tk_slots;

static bool tk_parse_slots(napi_env env, napi_value *argv, tk_slots *s) {
  size_t slab_len, n_sizes;
  if (!tk_int(env, argv[0], "fd", &s->fd) ||
      !tk_typed(env, argv[1], napi_uint8_array, "slab", (void **)&s->slab, &slab_len) ||
      !tk_int(env, argv[2], "offset", &s->offset) || !tk_int(env, argv[3], "stride", &s->stride) ||
      !tk_int(env, argv[4], "max", &s->max) ||
      !tk_typed(env, argv[5], napi_int32_array, "sizes", (void **)&s->sizes, &n_sizes)) return false;
  if (s->max < 0 || s->max > TK_MAX_BATCH) {
    tk_throw_range(env, "max must be 0..%d, got %d", TK_MAX_BATCH, s->max);
    return false;
  }
  if (s->offset < 0 || s->stride <= s->offset || (uint64_t)s->max * (uint64_t)s->stride > slab_len) {
    tk_throw_range(env, "slots (offset %d, stride %d, max %d) exceed the %zu-byte slab",
                   s->offset, s->stride, s->max, slab_len);
    return false;
  }
  if (n_sizes < (size_t)s->max) {
    tk_throw_range(env, "sizes holds %zu entries, need %d", n_sizes, s->max);
    return false;
  }
  return true;
}

bool tk_parse_span(napi_env env, napi_value *argv, napi_value jcount, tk_span *s) {
  size_t slab_len, n_off, n_sizes;
  if (!tk_int(env, argv[0], "fd", &s->fd) ||
      !tk_typed(env, argv[1], napi_uint8_array, "slab", (void **)&s->slab, &slab_len) ||
      !tk_typed(env, argv[2], napi_int32_array, "offsets", (void **)&s->offsets, &n_off) ||
      !tk_typed(env, argv[3], napi_int32_array, "sizes", (void **)&s->sizes, &n_sizes) ||
      !tk_int(env, jcount, "count", &s->count)) return false;
  if (s->count < 0 || s->count > TK_MAX_BATCH || n_off < (size_t)s->count || n_sizes < (size_t)s->count) {
    tk_throw_range(env, "count %d must be 0..%d and fit offsets/sizes", s->count, TK_MAX_BATCH);
    return false;
  }
  for (int32_t i = 0; i < s->count; i++) {
    int64_t o = s->offsets[i], n = s->sizes[i];
    if (o < 0 || n < 0 || (uint64_t)(o + n) > slab_len) {
      tk_throw_range(env, "packet %d [%lld, +%lld) is outside the %zu-byte slab", i, (long long)o,
                     (long long)n, slab_len);
      return false;
    }
  }
  return true;
}

/* From the control messages of one datagram: the receiving interface and the header
 * destination address (IP_PKTINFO ipi_ifindex / ipi_addr, ip(7)) and the TOS byte (IP_TOS,
 * present with IP_RECVTOS); 0 when absent. */
static void tk_cmsg_info(struct msghdr *h, int32_t *ifindex, uint32_t *dst, uint8_t *tos) {
  *ifindex = 0;
  *dst = 0;
  *tos = 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c != NULL; c = CMSG_NXTHDR(h, c)) {
    if (c->cmsg_level != IPPROTO_IP) continue;
    if (c->cmsg_type == IP_PKTINFO) {
      struct in_pktinfo pi;
      memcpy(&pi, CMSG_DATA(c), sizeof pi);
      *ifindex = pi.ipi_ifindex;
      *dst = ntohl(pi.ipi_addr.s_addr);
    } else if (c->cmsg_type == IP_TOS) {
      *tos = *(uint8_t *)CMSG_DATA(c);
    }
  }
}

bool tk_opt_typed(napi_env env, napi_value v, napi_typedarray_type type, const char *name,
                  void **out, size_t need) {
  napi_valuetype t = napi_undefined;
  size_t n = 0;
  *out = NULL;
  if (napi_typeof(env, v, &t) != napi_ok || t == napi_undefined) return true;
  if (!tk_typed(env, v, type, name, out, &n)) return false;
  if (n < need) {
    tk_throw_range(env, "%s holds %zu entries, need %zu", name, n, need);
    return false;
  }
  return true;
}

/* recvBatch(fd, slab, offset, stride, max, sizes, ifindex, src[, srcPort[, dst[, tos]]]) →
 * count (0 on EAGAIN). Optional: srcPort (Uint16Array) the sender's port (UDP sockets; 0 for
 * raw), dst (Uint32Array) the header destination address (IP_PKTINFO ipi_addr), tos
 * (Uint8Array) the TOS byte (IP_RECVTOS; 0 when the socket does not ask for it). */
static napi_value tk_recv_batch(napi_env env, napi_callback_info info) {
  napi_value argv[11];
  uint32_t *dsts = NULL;
  uint8_t *toss = NULL;
  tk_slots s;
  int32_t *ifx;
  uint32_t *src;
  uint16_t *sport = NULL;
  size_t n_ifx, n_src, n_sport = 0;
  napi_valuetype t9 = napi_undefined;
  if (!tk_args(env, info, 11, argv) || !tk_parse_slots(env, argv, &s) ||
      !tk_typed(env, argv[6], napi_int32_array, "ifindex", (void **)&ifx, &n_ifx) ||
      !tk_typed(env, argv[7], napi_uint32_array, "src", (void **)&src, &n_src)) return NULL;
  if (napi_typeof(env, argv[8], &t9) == napi_ok && t9 != napi_undefined &&
      !tk_typed(env, argv[8], napi_uint16_array, "srcPort", (void **)&sport, &n_sport)) return NULL;
  if (n_ifx < (size_t)s.max || n_src < (size_t)s.max || (sport != NULL && n_sport < (size_t)s.max))
    return tk_throw_range(env, "ifindex/src/srcPort shorter than max");
  if (!tk_opt_typed(env, argv[9], napi_uint32_array, "dst", (void **)&dsts, (size_t)s.max) ||
      !tk_opt_typed(env, argv[10], napi_uint8_array, "tos", (void **)&toss, (size_t)s.max)) return NULL;
  tk_state *st = tk_state_of(env);
  size_t cap = (size_t)(s.stride - s.offset);
  for (int32_t i = 0; i < s.max; i++) {
    st->iov[i] = (struct iovec){ s.slab + (size_t)i * (size_t)s.stride + (size_t)s.offset, cap };
    st->msgs[i].msg_hdr = (struct msghdr){ .msg_name = &st->addr[i], .msg_namelen = sizeof st->addr[i],
                                           .msg_iov = &st->iov[i], .msg_iovlen = 1,
                                           .msg_control = st->ctl[i].buf, .msg_controllen = sizeof st->ctl[i].buf };
    st->msgs[i].msg_len = 0;
  }
  int n;
  /* MSG_TRUNC: msg_len reports the datagram's real length (raw(7), udp(7)). */
  do n = s.max ? recvmmsg(s.fd, st->msgs, (unsigned)s.max, MSG_DONTWAIT | MSG_TRUNC, NULL) : 0;
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    char subject[24];
    if (errno == EAGAIN || errno == EWOULDBLOCK) return tk_int_value(env, 0);
    int err = errno;
    tk_fd_subject(subject, sizeof subject, s.fd);
    return tk_throw_errno(env, err, "recvmmsg", subject);
  }
  for (int i = 0; i < n; i++) {
    struct mmsghdr *m = &st->msgs[i];
    int32_t len = (int32_t)m->msg_len;
    s.sizes[i] = (m->msg_hdr.msg_flags & MSG_TRUNC) || (size_t)len > cap ? -len : len;
    uint32_t d;
    uint8_t tos;
    tk_cmsg_info(&m->msg_hdr, &ifx[i], &d, &tos);
    if (dsts != NULL) dsts[i] = d;
    if (toss != NULL) toss[i] = tos;
    src[i] = ntohl(st->addr[i].sin_addr.s_addr);
    if (sport != NULL) sport[i] = ntohs(st->addr[i].sin_port);
  }
  return tk_int_value(env, n);
}

/* sendBatch(fd, slab, offsets, sizes, dst, count[, dstPort[, status]]) → messages sent. dstPort
 * (Uint16Array, optional) gives each message's port (UDP sockets); status (Uint8Array,
 * optional) receives 1 for each message the kernel took, 0 otherwise. sendmmsg(2) stops at
 * the first failing message without reporting it, so on failure we call again from
 * that message: it fails alone, is skipped, and the rest continue. EAGAIN ends the
 * batch (the socket buffer is full); the caller treats the rest as dropped. */
static napi_value tk_send_batch(napi_env env, napi_callback_info info) {
  napi_value argv[8];
  uint8_t *status = NULL;
  tk_span s;
  uint32_t *dst;
  uint16_t *dport = NULL;
  size_t n_dst, n_dport = 0;
  napi_valuetype t7 = napi_undefined;
  if (!tk_args(env, info, 8, argv) || !tk_parse_span(env, argv, argv[5], &s) ||
      !tk_typed(env, argv[4], napi_uint32_array, "dst", (void **)&dst, &n_dst)) return NULL;
  if (napi_typeof(env, argv[6], &t7) == napi_ok && t7 != napi_undefined &&
      !tk_typed(env, argv[6], napi_uint16_array, "dstPort", (void **)&dport, &n_dport)) return NULL;
  if (n_dst < (size_t)s.count || (dport != NULL && n_dport < (size_t)s.count))
    return tk_throw_range(env, "dst/dstPort shorter than count");
  if (!tk_opt_typed(env, argv[7], napi_uint8_array, "status", (void **)&status, (size_t)s.count)) return NULL;
  if (status != NULL) memset(status, 0, (size_t)s.count);
  tk_state *st = tk_state_of(env);
  for (int32_t i = 0; i < s.count; i++) {
    st->addr[i] = (struct sockaddr_in){ .sin_family = AF_INET, .sin_addr.s_addr = htonl(dst[i]),
                                        .sin_port = dport != NULL ? htons(dport[i]) : 0 };
    st->iov[i] = (struct iovec){ s.slab + s.offsets[i], (size_t)s.sizes[i] };
    st->msgs[i].msg_hdr = (struct msghdr){ .msg_name = &st->addr[i], .msg_namelen = sizeof st->addr[i],
                                           .msg_iov = &st->iov[i], .msg_iovlen = 1 };
  }
  int32_t i = 0, sent = 0;
  st->last_errors = 0;
  st->last_send_errno = 0;
  while (i < s.count) {
    int r = sendmmsg(s.fd, st->msgs + i, (unsigned)(s.count - i), MSG_DONTWAIT);
    if (r > 0) {
      if (status != NULL) memset(status + i, 1, (size_t)r);
      sent += r;
      i += r;
      continue;
    }
    if (r == 0 || errno == EAGAIN || errno == EWOULDBLOCK) break;
    if (errno == EINTR) continue;
    if (tk_fatal(errno)) {
      char subject[24];
      int err = errno;
      tk_fd_subject(subject, sizeof subject, s.fd);
      return tk_throw_errno(env, err, "sendmmsg", subject);
    }
    st->last_send_errno = errno;
    st->last_errors++;
    i++;
  }
  return tk_int_value(env, sent);
}

/* readBatch(fd, slab, offset, stride, max, sizes) → packets read: one readv(2) per
 * packet (a TUN/TAP fd returns exactly one packet per read, drivers/net/tun.c
 * tun_do_read) until EAGAIN or max. An error after ≥ 1 packet ends the batch
 * early; it recurs (and throws) on the next call. */
static napi_value tk_read_batch(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  tk_slots s;
  if (!tk_args(env, info, 6, argv) || !tk_parse_slots(env, argv, &s)) return NULL;
  size_t cap = (size_t)(s.stride - s.offset);
  tk_state *st = tk_state_of(env);
  struct iovec iov[2] = { { NULL, cap }, { st->overflow, sizeof st->overflow } };
  int32_t i = 0;
  while (i < s.max) {
    iov[0].iov_base = s.slab + (size_t)i * (size_t)s.stride + (size_t)s.offset;
    ssize_t n = readv(s.fd, iov, 2);
    if (n >= 0) {
      s.sizes[i++] = (size_t)n > cap ? -(int32_t)n : (int32_t)n;
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK || i > 0) break;
    char subject[24];
    int err = errno;
    tk_fd_subject(subject, sizeof subject, s.fd);
    return tk_throw_errno(env, err, "read", subject);
  }
  return tk_int_value(env, i);
}

/* writeBatch(fd, slab, offsets, sizes, count[, status]) → packets written; status (Uint8Array,
 * optional) receives 1 for each packet the kernel took, 0 otherwise. One write(2) per
 * packet; a rejected packet (EINVAL: not IPv4/IPv6 or too short; EIO: device down;
 * EAGAIN, ENOMEM: no skb) is skipped and counted, as the kernel counts rx_dropped. */
static napi_value tk_write_batch(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  tk_span s;
  uint8_t *status = NULL;
  if (!tk_args(env, info, 6, argv) || !tk_parse_span(env, argv, argv[4], &s) ||
      !tk_opt_typed(env, argv[5], napi_uint8_array, "status", (void **)&status, (size_t)s.count)) return NULL;
  tk_state *st = tk_state_of(env);
  int32_t written = 0;
  st->last_errors = 0;
  st->last_write_errno = 0;
  for (int32_t i = 0; i < s.count; i++) {
    ssize_t n;
    do n = write(s.fd, s.slab + s.offsets[i], (size_t)s.sizes[i]);
    while (n < 0 && errno == EINTR);
    if (status != NULL) status[i] = n >= 0;
    if (n >= 0) { written++; continue; }
    if (tk_fatal(errno)) {
      char subject[24];
      int err = errno;
      tk_fd_subject(subject, sizeof subject, s.fd);
      return tk_throw_errno(env, err, "write", subject);
    }
    st->last_write_errno = errno;
    st->last_errors++;
  }
  return tk_int_value(env, written);
}

static napi_value tk_errno_string(napi_env env, int err) {
  napi_value r;
  TK_NAPI(env, napi_create_string_utf8(env, err ? tk_errname(err) : "", NAPI_AUTO_LENGTH, &r));
  return r;
}

static napi_value tk_last_send_error(napi_env env, napi_callback_info info) {
  (void)info;
  return tk_errno_string(env, tk_state_of(env)->last_send_errno);
}

static napi_value tk_last_write_error(napi_env env, napi_callback_info info) {
  (void)info;
  return tk_errno_string(env, tk_state_of(env)->last_write_errno);
}

static napi_value tk_last_batch_errors(napi_env env, napi_callback_info info) {
  (void)info;
  return tk_int_value(env, tk_state_of(env)->last_errors);
}

napi_status tk_batch_init(napi_env env, napi_value exports) {
  static const tk_fn fns[] = {
    { "recvBatch", tk_recv_batch },
    { "sendBatch", tk_send_batch },
    { "readBatch", tk_read_batch },
    { "writeBatch", tk_write_batch },
    { "lastSendError", tk_last_send_error },
    { "lastWriteError", tk_last_write_error },
    { "lastBatchErrors", tk_last_batch_errors },
  };
  return tk_define(env, exports, fns, sizeof fns / sizeof fns[0]);
}
