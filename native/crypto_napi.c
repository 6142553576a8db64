/*
 * crypto_napi.c: N-API argument checks and context handles for crypto.c
 * (see crypto_napi.h for the contracts).
 */
#include "crypto_napi.h"

#include <openssl/err.h>

/* Marks our externals, so a foreign external is a TypeError, not a crash. */
static const napi_type_tag SA_TAG = {0x746b2d6372797074ULL, 0x6f2d73612d637478ULL};

void *tkc_type_error(napi_env env, const char *msg) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
  return NULL;
}

void *tkc_range_error(napi_env env, const char *msg) {
  napi_throw_range_error(env, "ERR_OUT_OF_RANGE", msg);
  return NULL;
}

/* An OpenSSL call failed: its error queue is this thread's, shared with
 * node:crypto, so it is emptied before the JS error is thrown. */
void *tkc_openssl_error(napi_env env, const char *msg) {
  ERR_clear_error();
  napi_throw_error(env, "ERR_CRYPTO_OPERATION_FAILED", msg);
  return NULL;
}

bool tkc_argv_of(napi_env env, napi_callback_info info, size_t n, napi_value *argv) {
  size_t argc = n;
  return napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == napi_ok;
}

/* Our context, live or released; NULL with a TypeError pending otherwise. */
tk_sa *tkc_sa_of(napi_env env, napi_value v) {
  bool ok = false;
  void *p = NULL;
  if (napi_check_object_type_tag(env, v, &SA_TAG, &ok) != napi_ok || !ok ||
      napi_get_value_external(env, v, &p) != napi_ok) {
    napi_value pending; /* V8's own, for null/undefined: replaced by ours */
    bool is_pending = false;
    if (napi_is_exception_pending(env, &is_pending) == napi_ok && is_pending) {
      napi_get_and_clear_last_exception(env, &pending);
    }
    return tkc_type_error(env, "not a tunkit crypto context");
  }
  return (tk_sa *)p;
}

tk_sa *tkc_live_sa_of(napi_env env, napi_value v) {
  tk_sa *sa = tkc_sa_of(env, v);
  if (sa != NULL && !sa->is_live) {
    napi_throw_error(env, "ERR_CRYPTO_DESTROYED", "crypto context used after destroy");
    return NULL;
  }
  return sa;
}

/* A Uint8Array (or Buffer): its bytes, already at its byteOffset. */
bool tkc_bytes_of(napi_env env, napi_value v, uint8_t **p, size_t *len, const char *what) {
  napi_typedarray_type t;
  void *data = NULL;
  if (napi_get_typedarray_info(env, v, &t, len, &data, NULL, NULL) != napi_ok || t != napi_uint8_array) {
    tkc_type_error(env, what);
    return false;
  }
  *p = (uint8_t *)data;
  return true;
}

/* 1: an integer in [0, TK_MAX_LEN] stored in *out; 0: a number, but not one of
 * those; -1: not a number (TypeError pending). */
int tkc_index_of(napi_env env, napi_value v, size_t *out) {
  double d = 0;
  if (napi_get_value_double(env, v, &d) != napi_ok) {
    tkc_type_error(env, "offsets and lengths must be numbers");
    return -1;
  }
  if (!(d >= 0 && d <= TK_MAX_LEN) || d != (double)(int64_t)d) return 0;
  *out = (size_t)(int64_t)d;
  return 1;
}

/* Two indices; on 0 the range is impossible, on -1 a TypeError is pending. */
int tkc_range_of(napi_env env, napi_value off, napi_value len, size_t *o, size_t *n) {
  int a = tkc_index_of(env, off, o);
  if (a < 0) return -1;
  int b = tkc_index_of(env, len, n);
  if (b < 0) return -1;
  return a && b;
}

bool tkc_u32_of(napi_env env, napi_value v, uint32_t *out) {
  if (napi_get_value_uint32(env, v, out) != napi_ok) {
    tkc_type_error(env, "seqHi must be a number");
    return false;
  }
  return true;
}

napi_value tkc_boolean(napi_env env, bool b) {
  napi_value v = NULL;
  napi_get_boolean(env, b, &v);
  return v;
}

static void finalize_sa(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  tk_sa_free((tk_sa *)data);
}

/* Hands sa to a new external (whose finalizer then owns it). */
napi_value tkc_wrap_sa(napi_env env, tk_sa *sa, const char *err) {
  napi_value ext = NULL;
  if (sa == NULL) {
    ERR_clear_error();
    return tkc_range_error(env, err);
  }
  if (napi_create_external(env, sa, finalize_sa, NULL, &ext) != napi_ok) {
    tk_sa_free(sa);
    napi_throw_error(env, "ERR_NAPI", "napi_create_external");
    return NULL;
  }
  if (napi_type_tag_object(env, ext, &SA_TAG) != napi_ok) {
    napi_throw_error(env, "ERR_NAPI", "napi_type_tag_object");
    return NULL;
  }
  return ext;
}

bool tkc_flag_of(napi_env env, napi_value v, bool *out) {
  if (napi_get_value_bool(env, v, out) != napi_ok) {
    tkc_type_error(env, "flags must be booleans");
    return false;
  }
  return true;
}

/* A typed array of element type want: its data and element count. */
bool tkc_typed_of(napi_env env, napi_value v, napi_typedarray_type want, void **data, size_t *n,
                  const char *what) {
  napi_typedarray_type t;
  if (napi_get_typedarray_info(env, v, &t, n, data, NULL, NULL) != napi_ok || t != want) {
    tkc_type_error(env, what);
    return false;
  }
  return true;
}
