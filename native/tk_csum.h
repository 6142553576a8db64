/*
 * tk_csum.h: the Internet checksum's sum over a long range (RFC 1071), for
 * wire/checksum.ts sum16, which calls it for ranges of WIDE_NATIVE bytes or
 * more once io/native.ts has loaded the addon (the same result as its own
 * loop, which stays for short ranges and for processes without the addon).
 *
 *   csum16(buf, off, len)
 *       buf: an ArrayBuffer; off, len: integers with 0 <= off, 0 <= len,
 *       off + len <= buf.byteLength. Returns the one's-complement sum of
 *       buf[off, off+len) read as 16-bit big-endian words, an odd trailing
 *       byte padded with a zero low byte, folded to 16 bits (0..0xffff; 0
 *       only for all-zero data). Nothing is allocated (a small integer). Why
 *       native: a TSO split and a GRO verify sum every TCP payload byte once,
 *       about 10 % of a GRE run's CPU in JavaScript (perf, this machine); C
 *       reads 8 bytes per add. A wrong argument is a TypeError/RangeError.
 */
#ifndef TK_CSUM_H
#define TK_CSUM_H

#include <node_api.h>

/* Defines the function above on `exports`. */
napi_status tk_csum_init(napi_env env, napi_value exports);

#endif
