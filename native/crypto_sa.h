/*
 * crypto_sa.h: one SA's ESP cryptography over OpenSSL, keyed once (no N-API
 * here; crypto.c is the JS binding). The ESP framing is the kernel's
 * (net/ipv4/esp4.c esp_output_tail / esp_input):
 *
 *   | SPI (4) | Seq low (4) | IV (iv_len) | plaintext/ciphertext | ICV (icv_len) |
 *   esp ^                     esp + 8       esp + 8 + iv_len
 *
 *   AEAD     rfc4106(gcm(aes)), rfc7539esp(chacha20,poly1305):
 *            nonce = salt ‖ IV (RFC 4106 §4, RFC 7634 §2),
 *            AAD = SPI ‖ [seqHi ‖] seqLo (RFC 4106 §5, esp_output_set_extra),
 *            IV = (seqHi ‖ seqLo) XOR a per-SA random mask (crypto/seqiv.c).
 *   AUTHENC  cbc(aes) or ecb(cipher_null), then hmac(H) truncated to icv_len:
 *            ICV = HMAC(SPI ‖ seqLo ‖ IV ‖ ct [‖ seqHi])  (crypto/authencesn.c,
 *            RFC 4303 §3.3.2.1); checked before decrypting (esp_input);
 *            CBC IV from a per-SA CSPRNG pool (RFC 3602 §2).
 *
 * Every length here has been checked by the caller against the buffer.
 * Contexts are per SA and per direction: `enc` seals, `dec` opens.
 */
#ifndef TK_CRYPTO_SA_H
#define TK_CRYPTO_SA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>
#include "crypto_hmac.h"

/* Kinds; the values are the JS API's (src/crypto/native.ts). */
#define TK_SA_GCM 1
#define TK_SA_CHACHA 2
#define TK_SA_AUTHENC 3

#define TK_ESP_HDR 8
#define TK_AEAD_NONCE 12
#define TK_AEAD_SALT 4
#define TK_AEAD_IV 8
#define TK_IV_POOL 4096

typedef struct tk_sa {
  int kind;
  bool is_live;   /* false after tk_sa_release */
  bool is_esn;    /* XFRM_STATE_ESN: seqHi is authenticated */
  bool has_mac;
  unsigned iv_len;    /* on the wire: 8 AEAD, 16 CBC, 0 cipher_null */
  unsigned icv_len;   /* on the wire */
  unsigned align;     /* esp_output's blksize: ALIGN(block, 4) */
  unsigned block;     /* ciphertext must be a multiple: 16 CBC, else 1 */
  EVP_CIPHER_CTX *enc; /* NULL for cipher_null */
  EVP_CIPHER_CTX *dec;
  uint8_t salt[TK_AEAD_SALT];
  uint8_t iv_mask[TK_AEAD_IV];
  tk_hmac mac;
  unsigned pool_pos;
  uint8_t iv_pool[TK_IV_POOL];
} tk_sa;

/* A keyed AEAD SA (kind GCM: key 16/24/32 bytes, tag 8/12/16; CHACHA: key 32,
 * tag 16). NULL with *err set on a bad size or an OpenSSL failure. */
tk_sa *tk_sa_new_aead(int kind, const uint8_t *key, size_t key_len,
                      const uint8_t salt[TK_AEAD_SALT], unsigned tag_len,
                      bool is_esn, const char **err);

/* A keyed authenc SA: enc key 16/24/32 bytes (cbc(aes)) or 0 (cipher_null);
 * md TK_MD_NONE (no ICV) or a digest with 0 < icv_len <= its length. */
tk_sa *tk_sa_new_authenc(const uint8_t *enc_key, size_t enc_key_len, int md,
                         const uint8_t *auth_key, size_t auth_key_len,
                         unsigned icv_len, bool is_esn, const char **err);

/* Frees the OpenSSL contexts and wipes every secret (keys, salt, pads, IV
 * pool); the struct stays allocated (is_live false) until tk_sa_free. */
void tk_sa_release(tk_sa *sa);
void tk_sa_free(tk_sa *sa);

/* Seals esp[0, 8 + iv_len + pt_len + icv_len) in place; pt_len is a multiple
 * of align. With has_iv the IV is already at esp + 8. 0, or -1 if OpenSSL
 * failed (the packet is then garbage). */
int tk_esp_seal(tk_sa *sa, uint8_t *esp, size_t pt_len, uint32_t seq_hi, bool has_iv);

/* Opens esp[0, esp_len) in place. false for a length the SA cannot have or a
 * bad ICV; the buffer is then as it was. */
bool tk_esp_open(tk_sa *sa, uint8_t *esp, size_t esp_len, uint32_t seq_hi);

/* Generic AEAD on an AEAD SA: p[0, len) encrypted in place, the tag written
 * at p + len (seal); checked at p + len, plaintext only if it verifies
 * (open, buffer as it was on false). len <= INT_MAX, aad_len <= INT_MAX. */
int tk_aead_seal(tk_sa *sa, const uint8_t nonce[TK_AEAD_NONCE], const uint8_t *aad,
                 size_t aad_len, uint8_t *p, size_t len);
bool tk_aead_open(tk_sa *sa, const uint8_t nonce[TK_AEAD_NONCE], const uint8_t *aad,
                  size_t aad_len, uint8_t *p, size_t len);

#endif
