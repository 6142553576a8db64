/* udp_send.c: see tk_udp_send.h for the exported functions and their contracts. */
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include "tk_common.h"
#include "tk_batch.h"
#include "tk_udp_send.h"

/* sockState slots (see tk_udp_send.h). */
enum { TK_SS_PMTUDISC = 0, TK_SS_NOCHECK = 1, TK_SS_DEFAULT = 2, TK_SS_LEN = 3 };

/* Sets an int socket option to v unless state[slot] already says so; saves the default
 * IP_MTU_DISCOVER first. Returns false with errno set on failure. */
static bool tk_udp_opt(int fd, int32_t *state, int slot, int level, int opt, int v) {
  if (state[slot] == v) return true;
  if (slot == TK_SS_PMTUDISC && state[slot] == -1) {
    int d = 0;
    socklen_t len = sizeof d;
    if (getsockopt(fd, level, opt, &d, &len) < 0) return false;
    state[TK_SS_DEFAULT] = d;
  }
  if (setsockopt(fd, level, opt, &v, sizeof v) < 0) return false;
  state[slot] = v;
  return true;
}

/* Control messages of message i: IP_PKTINFO (when src != 0), IP_TOS, IP_TTL (when ttl != 0). */
static size_t tk_udp_cmsgs(tk_cmsgbuf *cb, uint32_t src, uint8_t tos, uint8_t ttl) {
  struct msghdr h = { .msg_control = cb->buf, .msg_controllen = sizeof cb->buf };
  struct cmsghdr *c = CMSG_FIRSTHDR(&h);
  size_t used = 0;
  if (src != 0) {
    struct in_pktinfo pi = { .ipi_ifindex = 0, .ipi_spec_dst.s_addr = htonl(src) };
    c->cmsg_level = IPPROTO_IP;
    c->cmsg_type = IP_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof pi);
    memcpy(CMSG_DATA(c), &pi, sizeof pi);
    used += CMSG_SPACE(sizeof pi);
    c = (struct cmsghdr *)(cb->buf + used);
  }
  int v = tos;
  c->cmsg_level = IPPROTO_IP;
  c->cmsg_type = IP_TOS;
  c->cmsg_len = CMSG_LEN(sizeof v);
  memcpy(CMSG_DATA(c), &v, sizeof v);
  used += CMSG_SPACE(sizeof v);
  if (ttl != 0) {
    c = (struct cmsghdr *)(cb->buf + used);
    v = ttl;
    c->cmsg_level = IPPROTO_IP;
    c->cmsg_type = IP_TTL;
    c->cmsg_len = CMSG_LEN(sizeof v);
    memcpy(CMSG_DATA(c), &v, sizeof v);
    used += CMSG_SPACE(sizeof v);
  }
  return used;
}

typedef struct {
  uint32_t *dst, *src;
  uint16_t *dport;
  uint8_t *tos, *ttl, *df, *status;
  int32_t *state;
} tk_udp_meta;

static bool tk_udp_parse_meta(napi_env env, napi_value *argv, int32_t count, tk_udp_meta *m) {
  size_t n[7];
  if (!tk_typed(env, argv[4], napi_uint32_array, "dst", (void **)&m->dst, &n[0]) ||
      !tk_typed(env, argv[5], napi_uint16_array, "dstPort", (void **)&m->dport, &n[1]) ||
      !tk_typed(env, argv[6], napi_uint32_array, "src", (void **)&m->src, &n[2]) ||
      !tk_typed(env, argv[7], napi_uint8_array, "tos", (void **)&m->tos, &n[3]) ||
      !tk_typed(env, argv[8], napi_uint8_array, "ttl", (void **)&m->ttl, &n[4]) ||
      !tk_typed(env, argv[9], napi_uint8_array, "df", (void **)&m->df, &n[5]) ||
      !tk_typed(env, argv[11], napi_int32_array, "sockState", (void **)&m->state, &n[6])) return false;
  for (int k = 0; k < 6; k++) {
    if (n[k] < (size_t)count) {
      tk_throw_range(env, "dst/dstPort/src/tos/ttl/df shorter than count %d", count);
      return false;
    }
  }
  if (n[6] < TK_SS_LEN) {
    tk_throw_range(env, "sockState holds %zu entries, need %d", n[6], TK_SS_LEN);
    return false;
  }
  return tk_opt_typed(env, argv[12], napi_uint8_array, "status", (void **)&m->status, (size_t)count);
}

/* Sends messages [i, end) (one DF value); returns false after throwing on a dead fd. */
static bool tk_udp_run(napi_env env, tk_state *st, int fd, int32_t i, int32_t end, uint8_t *status, int32_t *sent) {
  while (i < end) {
    int r = sendmmsg(fd, st->msgs + i, (unsigned)(end - i), MSG_DONTWAIT);
    if (r > 0) {
      if (status != NULL) memset(status + i, 1, (size_t)r);
      *sent += r;
      i += r;
      continue;
    }
    if (r == 0 || errno == EAGAIN || errno == EWOULDBLOCK) return true; /* caller stops too */
    if (errno == EINTR) continue;
    if (tk_fatal(errno)) {
      char subject[24];
      int err = errno;
      tk_fd_subject(subject, sizeof subject, fd);
      tk_throw_errno(env, err, "sendmmsg", subject);
      return false;
    }
    st->last_send_errno = errno;
    st->last_errors++;
    i++;
  }
  return true;
}

static napi_value tk_send_udp_batch(napi_env env, napi_callback_info info) {
  napi_value argv[13];
  tk_span s;
  tk_udp_meta m;
  if (!tk_args(env, info, 13, argv) || !tk_parse_span(env, argv, argv[10], &s) ||
      !tk_udp_parse_meta(env, argv, s.count, &m)) return NULL;
  if (m.status != NULL) memset(m.status, 0, (size_t)s.count);
  tk_state *st = tk_state_of(env);
  for (int32_t i = 0; i < s.count; i++) {
    st->addr[i] = (struct sockaddr_in){ .sin_family = AF_INET, .sin_addr.s_addr = htonl(m.dst[i]),
                                        .sin_port = htons(m.dport[i]) };
    st->iov[i] = (struct iovec){ s.slab + s.offsets[i], (size_t)s.sizes[i] };
    st->msgs[i].msg_hdr = (struct msghdr){ .msg_name = &st->addr[i], .msg_namelen = sizeof st->addr[i],
                                           .msg_iov = &st->iov[i], .msg_iovlen = 1, .msg_control = st->ctl[i].buf,
                                           .msg_controllen = tk_udp_cmsgs(&st->ctl[i], m.src[i], m.tos[i], m.ttl[i]) };
  }
  st->last_errors = 0;
  st->last_send_errno = 0;
  int32_t sent = 0;
  char subject[24];
  if (s.count > 0 && !tk_udp_opt(s.fd, m.state, TK_SS_NOCHECK, SOL_SOCKET, SO_NO_CHECK, 1)) goto sockopt_failed;
  for (int32_t i = 0; i < s.count;) {
    int32_t end = i + 1;
    while (end < s.count && (m.df[end] != 0) == (m.df[i] != 0)) end++;
    if (!tk_udp_opt(s.fd, m.state, TK_SS_PMTUDISC, IPPROTO_IP, IP_MTU_DISCOVER,
                    m.df[i] != 0 ? IP_PMTUDISC_PROBE : IP_PMTUDISC_DONT)) goto sockopt_failed;
    int32_t before = sent + st->last_errors;
    if (!tk_udp_run(env, st, s.fd, i, end, m.status, &sent)) return NULL;
    if (sent + st->last_errors - before < end - i) break; /* EAGAIN: the rest is dropped */
    i = end;
  }
  return tk_int_value(env, sent);
sockopt_failed:;
  int err = errno;
  tk_fd_subject(subject, sizeof subject, s.fd);
  return tk_throw_errno(env, err, "setsockopt", subject);
}

static napi_value tk_udp_send_defaults(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t fd, *state;
  size_t n;
  char subject[24];
  if (!tk_args(env, info, 2, argv) || !tk_int(env, argv[0], "fd", &fd) ||
      !tk_typed(env, argv[1], napi_int32_array, "sockState", (void **)&state, &n)) return NULL;
  if (n < TK_SS_LEN) return tk_throw_range(env, "sockState holds %zu entries, need %d", n, TK_SS_LEN);
  int zero = 0;
  if (state[TK_SS_NOCHECK] > 0 && setsockopt(fd, SOL_SOCKET, SO_NO_CHECK, &zero, sizeof zero) < 0) goto failed;
  state[TK_SS_NOCHECK] = -1;
  if (state[TK_SS_PMTUDISC] != -1 &&
      setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &state[TK_SS_DEFAULT], sizeof state[TK_SS_DEFAULT]) < 0) goto failed;
  state[TK_SS_PMTUDISC] = -1;
  return NULL;
failed:;
  int err = errno;
  tk_fd_subject(subject, sizeof subject, fd);
  return tk_throw_errno(env, err, "setsockopt", subject);
}

napi_status tk_udp_send_init(napi_env env, napi_value exports) {
  static const tk_fn fns[] = {
    { "sendUdpBatch", tk_send_udp_batch },
    { "udpSendDefaults", tk_udp_send_defaults },
  };
  return tk_define(env, exports, fns, sizeof fns / sizeof fns[0]);
}
