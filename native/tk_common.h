/*
 * tk_common.h: shared helpers of the tunkit addon (one translation unit:
 * tunkit.c includes every native header once, so all functions are static).
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
 */
#ifndef TK_COMMON_H
#define TK_COMMON_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
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

static const char *tk_errname(int err) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
  const char *n = strerrorname_np(err);
  if (n != NULL) return n;
#endif
  switch (err) {
    case EAGAIN: return "EAGAIN";
    case EINVAL: return "EINVAL";
    case EPERM: return "EPERM";
    case EBADF: return "EBADF";
    default: return "EUNKNOWN";
  }
}

static void tk_throw_napi(napi_env env, const char *what) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) napi_throw_error(env, "ERR_NAPI", what);
}

static void tk_set_prop(napi_env env, napi_value obj, const char *key, napi_value v) {
  napi_set_named_property(env, obj, key, v);
}

/* Throws the system error described above; returns NULL for `return tk_throw_errno(...)`. */
static napi_value tk_throw_errno(napi_env env, int err, const char *call, const char *subject) {
  char msg[192];
  const char *code = tk_errname(err);
  snprintf(msg, sizeof msg, "%s %s: %s (%s)", call, subject, code, strerror(err));
  napi_value jcode, jmsg, jerr, jerrno, jcall;
  if (napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &jcode) != napi_ok ||
      napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &jmsg) != napi_ok ||
      napi_create_error(env, jcode, jmsg, &jerr) != napi_ok) {
    tk_throw_napi(env, msg);
    return NULL;
  }
  napi_create_int32(env, -err, &jerrno);
  napi_create_string_utf8(env, call, NAPI_AUTO_LENGTH, &jcall);
  tk_set_prop(env, jerr, "errno", jerrno);
  tk_set_prop(env, jerr, "syscall", jcall);
  napi_throw(env, jerr);
  return NULL;
}

/* Throws a RangeError (code ERR_OUT_OF_RANGE) formatted like printf. */
static napi_value tk_throw_range(napi_env env, const char *fmt, ...) {
  char msg[192];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  napi_throw_range_error(env, "ERR_OUT_OF_RANGE", msg);
  return NULL;
}

static napi_value tk_throw_type(napi_env env, const char *what) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", what);
  return NULL;
}

/* Reads up to `want` arguments; missing ones are `undefined`. */
static bool tk_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) {
    tk_throw_napi(env, "napi_get_cb_info");
    return false;
  }
  return true;
}

/* A JS number that is an int32 (fd, count, offset …). */
static bool tk_int(napi_env env, napi_value v, const char *name, int32_t *out) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_number) {
    char msg[96];
    snprintf(msg, sizeof msg, "%s must be a number", name);
    tk_throw_type(env, msg);
    return false;
  }
  napi_get_value_int32(env, v, out);
  return true;
}

static bool tk_bool(napi_env env, napi_value v, bool dflt, bool *out) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) return false;
  if (t == napi_undefined) { *out = dflt; return true; }
  if (t != napi_boolean) { tk_throw_type(env, "flag must be a boolean"); return false; }
  napi_get_value_bool(env, v, out);
  return true;
}

/* An interface name: at most IFNAMSIZ-1 = 15 bytes (include/uapi/linux/if.h). */
static bool tk_ifname(napi_env env, napi_value v, char *buf, size_t cap, const char *call) {
  napi_valuetype t;
  size_t len = 0;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_string) {
    tk_throw_type(env, "interface name must be a string");
    return false;
  }
  napi_get_value_string_utf8(env, v, NULL, 0, &len);
  if (len >= cap) {
    char shown[64];
    napi_get_value_string_utf8(env, v, shown, sizeof shown, NULL);
    tk_throw_errno(env, ENAMETOOLONG, call, shown);
    return false;
  }
  napi_get_value_string_utf8(env, v, buf, cap, NULL);
  return true;
}

/* A TypedArray of the given element type: its data pointer and element count. */
static bool tk_typed(napi_env env, napi_value v, napi_typedarray_type want, const char *name,
                     void **data, size_t *len) {
  bool is = false;
  napi_typedarray_type type;
  napi_value ab;
  size_t off;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is ||
      napi_get_typedarray_info(env, v, &type, len, data, &ab, &off) != napi_ok || type != want) {
    char msg[96];
    snprintf(msg, sizeof msg, "%s has the wrong type", name);
    tk_throw_type(env, msg);
    return false;
  }
  return true;
}

static napi_value tk_int_value(napi_env env, int32_t v) {
  napi_value r;
  TK_NAPI(env, napi_create_int32(env, v, &r));
  return r;
}

#endif
