/*
 * crypto_napi.h: the N-API side of crypto.c — argument checks and context
 * handles. Every helper returning false/NULL/-1 has left a JS exception
 * pending (TypeError ERR_INVALID_ARG_TYPE, RangeError ERR_OUT_OF_RANGE, or
 * Error ERR_CRYPTO_DESTROYED / ERR_CRYPTO_OPERATION_FAILED); none allocates.
 */
#ifndef TK_CRYPTO_NAPI_H
#define TK_CRYPTO_NAPI_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <node_api.h>
#include "crypto_sa.h"

/* Largest buffer offset or length accepted (EVP lengths are int). */
#define TK_MAX_LEN ((double)(INT_MAX / 2))

/* Throw and return NULL (for `return tkc_type_error(...)`). The OpenSSL one
 * empties this thread's OpenSSL error queue first (shared with node:crypto). */
void *tkc_type_error(napi_env env, const char *msg);
void *tkc_range_error(napi_env env, const char *msg);
void *tkc_openssl_error(napi_env env, const char *msg);

/* The first n arguments (missing ones are undefined). */
bool tkc_argv_of(napi_env env, napi_callback_info info, size_t n, napi_value *argv);

/* Our context (type-tagged external), live or released / live only. */
tk_sa *tkc_sa_of(napi_env env, napi_value v);
tk_sa *tkc_live_sa_of(napi_env env, napi_value v);

/* A new external owning sa (freed by its finalizer); sa NULL → RangeError err. */
napi_value tkc_wrap_sa(napi_env env, tk_sa *sa, const char *err);

/* A Uint8Array (or Buffer): its bytes at its byteOffset and its length. */
bool tkc_bytes_of(napi_env env, napi_value v, uint8_t **p, size_t *len, const char *what);
/* A typed array of element type want: its data and element count. */
bool tkc_typed_of(napi_env env, napi_value v, napi_typedarray_type want, void **data, size_t *n,
                  const char *what);

/* 1: an integer in [0, TK_MAX_LEN] in *out; 0: a number but not such an
 * integer (the caller decides: RangeError or false); -1: not a number. */
int tkc_index_of(napi_env env, napi_value v, size_t *out);
/* Two indices: 1 both fine, 0 either impossible, -1 either not a number. */
int tkc_range_of(napi_env env, napi_value off, napi_value len, size_t *o, size_t *n);

bool tkc_u32_of(napi_env env, napi_value v, uint32_t *out);
bool tkc_flag_of(napi_env env, napi_value v, bool *out);
napi_value tkc_boolean(napi_env env, bool b);

#endif
