/*
 * tk_common.h: what every .c file of the tunkit addon shares (common.c):
 * argument and error helpers, the per-thread state, and the type of a
 * per-file init function.
 *
 * Error contract (style.md §4):
 *  - A failed syscall throws a JS Error whose `code` is the errno name
 *    (strerrorname_np(3)), `errno` is the negated errno (as Node's own
 *    system errors), `syscall` names the call, and the message reads
 *    "<CALL> <subject>: <CODE> (<strerror>)", e.g. "TUNSETIFF tk0: EPERM
 *    (Operation not permitted)".
 *  - A wrong argument (type, range, slab bounds) is a programmer error:
 *    TypeError/RangeError with code ERR_INVALID_ARG_TYPE / ERR_OUT_OF_RANGE,
 *    thrown before any syscall runs.
 *  - Helpers returning bool/NULL have thrown when they return false/NULL:
 *    the caller returns NULL to JS at once.
 */
#ifndef TK_COMMON_H
#define TK_COMMON_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <node_api.h>

/* Most messages per recvBatch/sendBatch/readBatch/writeBatch call: UIO_MAXIOV,
 * the kernel's cap on recvmmsg/sendmmsg vlen (net/socket.c). */
#define TK_MAX_BATCH 1024

/* Bails out of a napi callback when a napi call failed (an exception is then
 * pending, or we raise a generic one). */
#define TK_NAPI(env, call)                                                     \
  do {                                                                         \
    if ((call) != napi_ok) {                                                   \
      tk_throw_napi(env, #call);                                               \
      return NULL;                                                             \
    }                                                                          \
  } while (0)

typedef union {
  /* receive: IP_PKTINFO and, on UDP sockets with IP_RECVTOS, IP_TOS;
   * send (sendUdpBatch): IP_PKTINFO, IP_TOS and IP_TTL */
  char buf[CMSG_SPACE(sizeof(struct in_pktinfo)) + 2 * CMSG_SPACE(sizeof(int))];
  struct cmsghdr align;
} tk_cmsgbuf;

/* Per-thread state: napi instance data, so worker_threads each get their own
 * and may drive their own IFF_MULTI_QUEUE fd. Holds batch.c's scratch for one
 * batch call; nothing is allocated per packet or per call. */
typedef struct {
  struct mmsghdr msgs[TK_MAX_BATCH];
  struct iovec iov[TK_MAX_BATCH];
  struct sockaddr_in addr[TK_MAX_BATCH];
  tk_cmsgbuf ctl[TK_MAX_BATCH];
  /* readBatch's second iovec: tun_put_user silently truncates to the buffer and
   * returns the copied length, so bytes landing here reveal a packet longer
   * than its slot (up to 64 KiB over, enough for any TUN/TAP frame). */
  uint8_t overflow[65536];
  int last_send_errno;  /* errno of the last skipped message of the latest sendBatch, 0 if none */
  int last_write_errno; /* same for writeBatch */
  int32_t last_errors;  /* messages skipped by the latest sendBatch or writeBatch */
} tk_state;

/* One exported JS function. */
typedef struct {
  const char *name;
  napi_callback fn;
} tk_fn;

/* A per-file init: defines that file's functions on `exports`. On failure a
 * JS exception is pending and the module load fails. */
typedef napi_status (*tk_init_fn)(napi_env env, napi_value exports);

/* Allocates this thread's tk_state as napi instance data (freed with the env). */
napi_status tk_state_init(napi_env env, napi_value exports);
tk_state *tk_state_of(napi_env env);

/* Defines fns[0..n) on exports (enumerable, not writable). */
napi_status tk_define(napi_env env, napi_value exports, const tk_fn *fns, size_t n);

/* errno name (strerrorname_np(3)), "EUNKNOWN" when the libc has none. */
const char *tk_errname(int err);
void tk_throw_napi(napi_env env, const char *what);
void tk_set_prop(napi_env env, napi_value obj, const char *key, napi_value v);
/* Throws the system error described above; returns NULL for `return tk_throw_errno(...)`. */
napi_value tk_throw_errno(napi_env env, int err, const char *call, const char *subject);
/* Throws a RangeError (code ERR_OUT_OF_RANGE) formatted like printf. */
napi_value tk_throw_range(napi_env env, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
napi_value tk_throw_type(napi_env env, const char *what);

/* Reads up to `want` arguments; missing ones are `undefined`. */
bool tk_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv);
/* A JS number that is an int32 (fd, count, offset …). */
bool tk_int(napi_env env, napi_value v, const char *name, int32_t *out);
/* A boolean, or `dflt` when undefined. */
bool tk_bool(napi_env env, napi_value v, bool dflt, bool *out);
/* An interface name: at most cap-1 bytes (IFNAMSIZ-1 = 15, include/uapi/linux/if.h). */
bool tk_ifname(napi_env env, napi_value v, char *buf, size_t cap, const char *call);
/* A TypedArray of the given element type: its data pointer and element count. */
bool tk_typed(napi_env env, napi_value v, napi_typedarray_type want, const char *name, void **data,
              size_t *len);
napi_value tk_int_value(napi_env env, int32_t v);
/* "fd=N", the subject of errors on a descriptor. */
void tk_fd_subject(char *buf, size_t cap, int fd);

#endif
