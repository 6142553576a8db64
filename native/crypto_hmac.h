/*
 * crypto_hmac.h: HMAC (RFC 2104) keyed once, computed per packet without
 * re-keying and without allocating: the ESP integrity half of
 * authenc(hmac(H), cbc(aes)) / authencesn (crypto/authenc.c,
 * crypto/authencesn.c).
 */
#ifndef TK_CRYPTO_HMAC_H
#define TK_CRYPTO_HMAC_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/md5.h>
#include <openssl/sha.h>

/* The digest behind an ESP auth algorithm; the values are the JS API's
 * (src/crypto/native.ts HASH_ID). */
typedef enum {
  TK_MD_NONE = 0,
  TK_MD_MD5 = 1,
  TK_MD_SHA1 = 2,
  TK_MD_SHA256 = 3,
  TK_MD_SHA384 = 4,
  TK_MD_SHA512 = 5,
} tk_md_id;

/* Largest digest (SHA-512), bytes. */
#define TK_MD_MAX 64

typedef union {
  MD5_CTX md5;
  SHA_CTX sha1;
  SHA256_CTX sha256;
  SHA512_CTX sha512; /* also SHA-384 */
} tk_md_state;

typedef struct {
  tk_md_id md;
  unsigned digest_len;
  /* H after absorbing (K' XOR ipad) and (K' XOR opad): key-equivalent. */
  tk_md_state inner, outer;
} tk_hmac;

/* Digest bytes of md, 0 for an unknown id. */
unsigned tk_md_len(int md);

/* Keys h. key may be any length (longer than a block is hashed first,
 * RFC 2104 §2). Returns 0, or -1 for an unknown md. */
int tk_hmac_init(tk_hmac *h, int md, const uint8_t *key, size_t key_len);

/* out[0, digest_len) = HMAC(p[0, n) ‖ extra[0, extra_len)); extra may be
 * NULL (authencesn passes the ESN high half). */
void tk_hmac_compute(const tk_hmac *h, const uint8_t *p, size_t n,
                     const uint8_t *extra, size_t extra_len,
                     uint8_t out[TK_MD_MAX]);

/* Wipes the key-equivalent states (OPENSSL_cleanse). */
void tk_hmac_wipe(tk_hmac *h);

#endif
