/*
 * crypto.c: the N-API binding of the per-SA ESP contexts (crypto_sa.c);
 * argument checks and handles are in crypto_napi.c.
 *
 * A context is a napi external, type-tagged, whose finalizer frees it;
 * cryptoDestroy releases it at once and wipes the key material (an SA
 * deleted or expired). Buffers are Uint8Arrays used in place; nothing is
 * allocated per packet on either side of the boundary.
 *
 * Errors (style.md §4): a wrong argument type is a TypeError
 * (ERR_INVALID_ARG_TYPE), an offset/length outside the buffer or a length
 * the algorithm cannot take a RangeError (ERR_OUT_OF_RANGE), sealing on a
 * destroyed context an Error (ERR_CRYPTO_DESTROYED) — all programmer errors.
 * Opening never throws for a range or length: false, as for a bad ICV,
 * because those lengths come from the network (EspCrypto.open's contract).
 * No message ever carries key bytes.
 */
#include "crypto.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <openssl/err.h>
#include "crypto_napi.h"
#include "crypto_sa.h"

/* cryptoAeadNew(kind, key, salt, tagLen, isEsn): kind 1 = AES-GCM,
 * 2 = ChaCha20-Poly1305; salt 4 bytes; tagLen in bytes. */
static napi_value aead_new(napi_env env, napi_callback_info info) {
  napi_value a[5];
  uint8_t *key, *salt;
  size_t key_len, salt_len, tag_len;
  int32_t kind;
  bool is_esn;
  if (!tkc_argv_of(env, info, 5, a)) return NULL;
  if (napi_get_value_int32(env, a[0], &kind) != napi_ok) return tkc_type_error(env, "kind must be a number");
  if (!tkc_bytes_of(env, a[1], &key, &key_len, "key must be a Uint8Array") ||
      !tkc_bytes_of(env, a[2], &salt, &salt_len, "salt must be a Uint8Array") ||
      tkc_index_of(env, a[3], &tag_len) < 0 || !tkc_flag_of(env, a[4], &is_esn)) {
    return NULL;
  }
  if (salt_len != TK_AEAD_SALT) return tkc_range_error(env, "salt must be 4 bytes");
  const char *err = "bad AEAD parameters";
  tk_sa *sa = tk_sa_new_aead(kind, key, key_len, salt, (unsigned)tag_len, is_esn, &err);
  return tkc_wrap_sa(env, sa, err);
}

/* cryptoAuthencNew(encKey, hash, authKey, icvLen, isEsn): encKey empty =
 * cipher_null; hash 0 = none, 1..5 = md5 sha1 sha256 sha384 sha512. */
static napi_value authenc_new(napi_env env, napi_callback_info info) {
  napi_value a[5];
  uint8_t *ekey, *akey;
  size_t ekey_len, akey_len, icv_len;
  int32_t md;
  bool is_esn;
  if (!tkc_argv_of(env, info, 5, a)) return NULL;
  if (!tkc_bytes_of(env, a[0], &ekey, &ekey_len, "encKey must be a Uint8Array")) return NULL;
  if (napi_get_value_int32(env, a[1], &md) != napi_ok) return tkc_type_error(env, "hash must be a number");
  if (!tkc_bytes_of(env, a[2], &akey, &akey_len, "authKey must be a Uint8Array") ||
      tkc_index_of(env, a[3], &icv_len) < 0 || !tkc_flag_of(env, a[4], &is_esn)) {
    return NULL;
  }
  const char *err = "bad authenc parameters";
  tk_sa *sa = tk_sa_new_authenc(ekey, ekey_len, md, akey, akey_len, (unsigned)icv_len, is_esn, &err);
  return tkc_wrap_sa(env, sa, err);
}

/* cryptoEspSeal(ctx, b, espOff, ptLen, seqHi, hasIv) */
static napi_value esp_seal(napi_env env, napi_callback_info info) {
  napi_value a[6];
  uint8_t *b;
  size_t len, off, pt_len;
  uint32_t seq_hi;
  bool has_iv;
  if (!tkc_argv_of(env, info, 6, a)) return NULL;
  tk_sa *sa = tkc_live_sa_of(env, a[0]);
  if (sa == NULL || !tkc_bytes_of(env, a[1], &b, &len, "b must be a Uint8Array")) return NULL;
  int r = tkc_range_of(env, a[2], a[3], &off, &pt_len);
  if (r < 0 || !tkc_u32_of(env, a[4], &seq_hi) || !tkc_flag_of(env, a[5], &has_iv)) return NULL;
  if (r == 0 || pt_len % sa->align != 0) return tkc_range_error(env, "ESP plaintext length is not a multiple of the block alignment");
  if (off > len || len - off < TK_ESP_HDR + sa->iv_len + pt_len + sa->icv_len) {
    return tkc_range_error(env, "ESP packet does not fit in the buffer");
  }
  if (tk_esp_seal(sa, b + off, pt_len, seq_hi, has_iv) != 0) tkc_openssl_error(env, "OpenSSL failed to seal an ESP packet");
  return NULL;
}

/* cryptoEspOpen(ctx, b, espOff, espLen, seqHi) → boolean */
static napi_value esp_open(napi_env env, napi_callback_info info) {
  napi_value a[5];
  uint8_t *b;
  size_t len, off, esp_len;
  uint32_t seq_hi;
  if (!tkc_argv_of(env, info, 5, a)) return NULL;
  tk_sa *sa = tkc_sa_of(env, a[0]);
  if (sa == NULL || !tkc_bytes_of(env, a[1], &b, &len, "b must be a Uint8Array")) return NULL;
  int r = tkc_range_of(env, a[2], a[3], &off, &esp_len);
  if (r < 0 || !tkc_u32_of(env, a[4], &seq_hi)) return NULL;
  if (r == 0 || !sa->is_live || off > len || len - off < esp_len) return tkc_boolean(env, false);
  return tkc_boolean(env, tk_esp_open(sa, b + off, esp_len, seq_hi));
}


/* The batch arguments (ctx, slab, offs, lens, seqHi, [ok,] count). */
typedef struct {
  tk_sa *sa;
  uint8_t *slab;
  size_t slab_len, count;
  const int32_t *offs, *lens;
  const uint32_t *seq_hi;
} batch_args;

static bool batch_args_of(napi_env env, napi_value *a, size_t count_at, bool need_live, batch_args *x) {
  void *offs, *lens, *hi;
  size_t n_offs, n_lens, n_hi;
  x->sa = need_live ? tkc_live_sa_of(env, a[0]) : tkc_sa_of(env, a[0]);
  if (x->sa == NULL || !tkc_bytes_of(env, a[1], &x->slab, &x->slab_len, "slab must be a Uint8Array") ||
      !tkc_typed_of(env, a[2], napi_int32_array, &offs, &n_offs, "offs must be an Int32Array") ||
      !tkc_typed_of(env, a[3], napi_int32_array, &lens, &n_lens, "lens must be an Int32Array") ||
      !tkc_typed_of(env, a[4], napi_uint32_array, &hi, &n_hi, "seqHi must be a Uint32Array")) {
    return false;
  }
  int r = tkc_index_of(env, a[count_at], &x->count);
  if (r < 0) return false;
  if (r == 0 || x->count > n_offs || x->count > n_lens || x->count > n_hi) {
    tkc_range_error(env, "count exceeds a side array");
    return false;
  }
  x->offs = (const int32_t *)offs;
  x->lens = (const int32_t *)lens;
  x->seq_hi = (const uint32_t *)hi;
  return true;
}

/* Throws ERR_CRYPTO_OPERATION_FAILED with `sealed` = i (see esp_seal_batch). */
static napi_value seal_failed_at(napi_env env, size_t i) {
  napi_value code, msg, err, at;
  ERR_clear_error();
  if (napi_create_string_utf8(env, "ERR_CRYPTO_OPERATION_FAILED", NAPI_AUTO_LENGTH, &code) != napi_ok ||
      napi_create_string_utf8(env, "OpenSSL failed to seal an ESP packet", NAPI_AUTO_LENGTH, &msg) != napi_ok ||
      napi_create_error(env, code, msg, &err) != napi_ok || napi_create_uint32(env, (uint32_t)i, &at) != napi_ok ||
      napi_set_named_property(env, err, "sealed", at) != napi_ok) {
    return tkc_openssl_error(env, "OpenSSL failed to seal an ESP packet");
  }
  napi_throw(env, err);
  return NULL;
}

/* cryptoEspSealBatch(ctx, slab, offs, ptLens, seqHi, count, hasIv): packet i
 * at slab[offs[i]]; every range is checked before any packet is sealed. An
 * OpenSSL failure on packet i stops the batch there: packets before i are
 * sealed, i and later are not, and the error's `sealed` property is i (so the
 * caller drops packet i alone and seals the rest again). */
static napi_value esp_seal_batch(napi_env env, napi_callback_info info) {
  napi_value a[7];
  batch_args x;
  bool has_iv;
  if (!tkc_argv_of(env, info, 7, a) || !batch_args_of(env, a, 5, true, &x) || !tkc_flag_of(env, a[6], &has_iv)) return NULL;
  size_t fixed = TK_ESP_HDR + x.sa->iv_len + x.sa->icv_len;
  for (size_t i = 0; i < x.count; i++) {
    int32_t off = x.offs[i], pt = x.lens[i];
    if (off < 0 || pt < 0 || (size_t)pt % x.sa->align != 0 || (size_t)off > x.slab_len ||
        x.slab_len - (size_t)off < fixed + (size_t)pt) {
      return tkc_range_error(env, "an ESP packet of the batch does not fit or is not aligned");
    }
  }
  for (size_t i = 0; i < x.count; i++) {
    if (tk_esp_seal(x.sa, x.slab + x.offs[i], (size_t)x.lens[i], x.seq_hi[i], has_iv) != 0) {
      return seal_failed_at(env, i);
    }
  }
  return NULL;
}

/* cryptoEspOpenBatch(ctx, slab, offs, espLens, seqHi, ok, count) → opened:
 * ok[i] = 1 if packet i opened, else 0 (bad ICV or impossible range). */
static napi_value esp_open_batch(napi_env env, napi_callback_info info) {
  napi_value a[7];
  batch_args x;
  uint8_t *ok;
  size_t n_ok;
  napi_value out;
  if (!tkc_argv_of(env, info, 7, a) || !batch_args_of(env, a, 6, false, &x) ||
      !tkc_bytes_of(env, a[5], &ok, &n_ok, "ok must be a Uint8Array")) {
    return NULL;
  }
  if (x.count > n_ok) return tkc_range_error(env, "count exceeds a side array");
  uint32_t opened = 0;
  for (size_t i = 0; i < x.count; i++) {
    int32_t off = x.offs[i], len = x.lens[i];
    bool fits = x.sa->is_live && off >= 0 && len >= 0 && (size_t)off <= x.slab_len &&
                x.slab_len - (size_t)off >= (size_t)len;
    ok[i] = fits && tk_esp_open(x.sa, x.slab + off, (size_t)len, x.seq_hi[i]);
    opened += ok[i];
  }
  if (napi_create_uint32(env, opened, &out) != napi_ok) return NULL;
  return out;
}

/* The AEAD arguments (ctx, nonce, aad, b, off, len): false with an exception
 * pending; *bad set when the nonce is not 12 bytes. */
typedef struct {
  tk_sa *sa;
  uint8_t *nonce, *aad, *p;
  size_t nonce_len, aad_len, len;
} aead_args;

static bool aead_args_of(napi_env env, napi_callback_info info, aead_args *x, bool *bad) {
  napi_value a[6];
  uint8_t *b;
  size_t blen, off;
  if (!tkc_argv_of(env, info, 6, a)) return false;
  x->sa = tkc_live_sa_of(env, a[0]);
  if (x->sa == NULL) return false;
  if (x->sa->kind == TK_SA_AUTHENC) {
    tkc_type_error(env, "not an AEAD context");
    return false;
  }
  if (!tkc_bytes_of(env, a[1], &x->nonce, &x->nonce_len, "nonce must be a Uint8Array") ||
      !tkc_bytes_of(env, a[2], &x->aad, &x->aad_len, "aad must be a Uint8Array") ||
      !tkc_bytes_of(env, a[3], &b, &blen, "b must be a Uint8Array")) {
    return false;
  }
  int r = tkc_range_of(env, a[4], a[5], &off, &x->len);
  if (r < 0) return false;
  if (r == 0 || off > blen || blen - off < x->len + x->sa->icv_len || x->aad_len > (size_t)TK_MAX_LEN) {
    tkc_range_error(env, "AEAD range does not fit in the buffer");
    return false;
  }
  x->p = b + off;
  *bad = x->nonce_len != TK_AEAD_NONCE;
  return true;
}

/* cryptoAeadSeal(ctx, nonce, aad, b, off, len): b[off, off+len) in place,
 * tag at b[off+len]. */
static napi_value aead_seal(napi_env env, napi_callback_info info) {
  aead_args x;
  bool bad = false;
  if (!aead_args_of(env, info, &x, &bad)) return NULL;
  if (bad) return tkc_range_error(env, "AEAD nonce must be 12 bytes");
  if (tk_aead_seal(x.sa, x.nonce, x.aad, x.aad_len, x.p, x.len) != 0) tkc_openssl_error(env, "OpenSSL failed to seal");
  return NULL;
}

/* cryptoAeadOpen(ctx, nonce, aad, b, off, len) → boolean; tag at b[off+len]. */
static napi_value aead_open(napi_env env, napi_callback_info info) {
  aead_args x;
  bool bad = false;
  if (!aead_args_of(env, info, &x, &bad)) return NULL;
  return tkc_boolean(env, !bad && tk_aead_open(x.sa, x.nonce, x.aad, x.aad_len, x.p, x.len));
}

/* cryptoMac(ctx, b, off, len, out, outOff): the context's truncated HMAC of
 * b[off, off+len) at out[outOff, +icvLen). */
static napi_value mac(napi_env env, napi_callback_info info) {
  napi_value a[6];
  uint8_t *b, *out, d[TK_MD_MAX];
  size_t blen, olen, off, len, ooff;
  if (!tkc_argv_of(env, info, 6, a)) return NULL;
  tk_sa *sa = tkc_live_sa_of(env, a[0]);
  if (sa == NULL) return NULL;
  if (!sa->has_mac) return tkc_type_error(env, "not an HMAC context");
  if (!tkc_bytes_of(env, a[1], &b, &blen, "b must be a Uint8Array") ||
      !tkc_bytes_of(env, a[4], &out, &olen, "out must be a Uint8Array")) {
    return NULL;
  }
  int r = tkc_range_of(env, a[2], a[3], &off, &len);
  if (r < 0 || tkc_index_of(env, a[5], &ooff) < 0) return NULL;
  if (r == 0 || off > blen || blen - off < len || ooff > olen || olen - ooff < sa->icv_len) {
    return tkc_range_error(env, "HMAC range does not fit in the buffer");
  }
  tk_hmac_compute(&sa->mac, b + off, len, NULL, 0, d);
  memcpy(out + ooff, d, sa->icv_len);
  return NULL;
}

/* cryptoDestroy(ctx): frees the OpenSSL contexts and wipes the keys now;
 * idempotent. */
static napi_value destroy(napi_env env, napi_callback_info info) {
  napi_value a[1];
  if (!tkc_argv_of(env, info, 1, a)) return NULL;
  tk_sa *sa = tkc_sa_of(env, a[0]);
  if (sa != NULL) tk_sa_release(sa);
  return NULL;
}

napi_status tk_crypto_init(napi_env env, napi_value exports) {
  const napi_property_descriptor fns[] = {
#define FN(js, c) {js, NULL, c, NULL, NULL, NULL, napi_enumerable, NULL}
      FN("cryptoAeadNew", aead_new),   FN("cryptoAuthencNew", authenc_new),
      FN("cryptoEspSeal", esp_seal),   FN("cryptoEspOpen", esp_open),
      FN("cryptoEspSealBatch", esp_seal_batch), FN("cryptoEspOpenBatch", esp_open_batch),
      FN("cryptoAeadSeal", aead_seal), FN("cryptoAeadOpen", aead_open),
      FN("cryptoMac", mac),            FN("cryptoDestroy", destroy),
#undef FN
  };
  return napi_define_properties(env, exports, sizeof fns / sizeof fns[0], fns);
}
