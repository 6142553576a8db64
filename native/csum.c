/* csum.c: see tk_csum.h for the exported function and its contract. */
#include <stdint.h>
#include <string.h>
#include "tk_common.h"
#include "tk_csum.h"

/* Host-order one's-complement sum of p[0, len), folded to 16 bits. Words are
 * taken in host byte order (RFC 1071 §2(B): the sum is byte-order independent,
 * so the caller swaps the folded result once on a little-endian host). */
static uint32_t tk_csum_host(const uint8_t *p, size_t len) {
  uint64_t acc = 0;
  size_t i = 0;
  for (; i + 32 <= len; i += 32) { /* four 64-bit loads, each split in 32-bit halves: no carry is lost */
    uint64_t a, b, c, d;
    memcpy(&a, p + i, 8);
    memcpy(&b, p + i + 8, 8);
    memcpy(&c, p + i + 16, 8);
    memcpy(&d, p + i + 24, 8);
    acc += (a & 0xffffffffu) + (a >> 32) + (b & 0xffffffffu) + (b >> 32) +
           (c & 0xffffffffu) + (c >> 32) + (d & 0xffffffffu) + (d >> 32);
  }
  for (; i + 4 <= len; i += 4) {
    uint32_t w;
    memcpy(&w, p + i, 4);
    acc += w;
  }
  if (i + 2 <= len) {
    uint16_t h;
    memcpy(&h, p + i, 2);
    acc += h;
    i += 2;
  }
  if (i < len) { /* the odd byte is the high byte of a big-endian word */
    uint16_t h = 0;
    memcpy(&h, p + i, 1); /* its first byte in memory: the host-order word's low byte on x86 */
    acc += h;
  }
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  return (uint32_t)acc;
}

static napi_value tk_csum16(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  void *data;
  size_t cap;
  int32_t off, len;
  if (!tk_args(env, info, 3, argv)) return NULL;
  if (napi_get_arraybuffer_info(env, argv[0], &data, &cap) != napi_ok) return tk_throw_type(env, "buf (an ArrayBuffer)");
  if (!tk_int(env, argv[1], "off", &off) || !tk_int(env, argv[2], "len", &len)) return NULL;
  if (off < 0 || len < 0 || (size_t)off + (size_t)len > cap)
    return tk_throw_range(env, "checksum range [%d, +%d) outside a %zu-byte buffer", off, len, cap);
  uint32_t s = tk_csum_host((const uint8_t *)data + off, (size_t)len);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  s = ((s & 0xff) << 8) | (s >> 8);
#endif
  return tk_int_value(env, (int32_t)s);
}

napi_status tk_csum_init(napi_env env, napi_value exports) {
  static const tk_fn fns[] = {
    { "csum16", tk_csum16 },
  };
  return tk_define(env, exports, fns, sizeof fns / sizeof fns[0]);
}
