/*
 * common.c: helpers shared by the addon's .c files and the per-thread state
 * (declared, with the error contract, in tk_common.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tk_common.h"

static void tk_state_free(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  free(data);
}

napi_status tk_state_init(napi_env env, napi_value exports) {
  (void)exports;
  tk_state *st = (tk_state *)calloc(1, sizeof *st);
  if (st == NULL) {
    tk_throw_errno(env, ENOMEM, "calloc", "tunkit state");
    return napi_generic_failure;
  }
  napi_status s = napi_set_instance_data(env, st, tk_state_free, NULL);
  if (s != napi_ok) {
    free(st);
    tk_throw_napi(env, "napi_set_instance_data");
  }
  return s;
}

tk_state *tk_state_of(napi_env env) {
  void *p = NULL;
  napi_get_instance_data(env, &p);
  return (tk_state *)p;
}

napi_status tk_define(napi_env env, napi_value exports, const tk_fn *fns, size_t n) {
  for (size_t i = 0; i < n; i++) {
    const napi_property_descriptor d = { fns[i].name, NULL, fns[i].fn, NULL, NULL, NULL, napi_enumerable, NULL };
    napi_status s = napi_define_properties(env, exports, 1, &d);
    if (s != napi_ok) {
      tk_throw_napi(env, fns[i].name);
      return s;
    }
  }
  return napi_ok;
}

void tk_fd_subject(char *buf, size_t cap, int fd) { snprintf(buf, cap, "fd=%d", fd); }

const char *tk_errname(int err) {
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

void tk_throw_napi(napi_env env, const char *what) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) napi_throw_error(env, "ERR_NAPI", what);
}

void tk_set_prop(napi_env env, napi_value obj, const char *key, napi_value v) {
  napi_set_named_property(env, obj, key, v);
}

napi_value tk_throw_errno(napi_env env, int err, const char *call, const char *subject) {
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
napi_value tk_throw_range(napi_env env, const char *fmt, ...) {
  char msg[192];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  napi_throw_range_error(env, "ERR_OUT_OF_RANGE", msg);
  return NULL;
}

napi_value tk_throw_type(napi_env env, const char *what) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", what);
  return NULL;
}

/* Reads up to `want` arguments; missing ones are `undefined`. */
bool tk_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) {
    tk_throw_napi(env, "napi_get_cb_info");
    return false;
  }
  return true;
}

/* A JS number that is an int32 (fd, count, offset …). */
bool tk_int(napi_env env, napi_value v, const char *name, int32_t *out) {
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

bool tk_bool(napi_env env, napi_value v, bool dflt, bool *out) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) return false;
  if (t == napi_undefined) { *out = dflt; return true; }
  if (t != napi_boolean) { tk_throw_type(env, "flag must be a boolean"); return false; }
  napi_get_value_bool(env, v, out);
  return true;
}

/* An interface name: at most IFNAMSIZ-1 = 15 bytes (include/uapi/linux/if.h). */
bool tk_ifname(napi_env env, napi_value v, char *buf, size_t cap, const char *call) {
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
bool tk_typed(napi_env env, napi_value v, napi_typedarray_type want, const char *name, void **data,
              size_t *len) {
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

napi_value tk_int_value(napi_env env, int32_t v) {
  napi_value r;
  TK_NAPI(env, napi_create_int32(env, v, &r));
  return r;
}
