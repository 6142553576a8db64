/*
 * tk_batch.h: the per-packet data path. One N-API call moves a whole batch
 * between the kernel and a caller-owned slab; nothing is allocated per packet
 * or per call (the mmsghdr/iovec/cmsg arrays live in per-thread state).
 *
 * Slab layouts (all offsets and sizes in bytes):
 *   receive side (recvBatch, readBatch): slot i is slab[i*stride, (i+1)*stride);
 *     packet i is written at slab[i*stride + offset], at most stride-offset bytes.
 *   send side (sendBatch, writeBatch): packet i is slab[offsets[i], +sizes[i]).
 * A packet longer than its slot is reported as sizes[i] = -(its real length):
 * the bytes in the slot are a truncated prefix and must be dropped.
 *
 * Per-message failures never throw (style.md §4.1): the message is skipped,
 * counted (lastBatchErrors) and its errno name kept (lastSendError /
 * lastWriteError). Only a dead descriptor (EBADF, EBADFD, ENOTSOCK, EFAULT)
 * throws.
 */
#ifndef TK_BATCH_H
#define TK_BATCH_H

#include <stdbool.h>
#include <stdint.h>
#include <node_api.h>

/* Helpers shared with udp_send.c. */

/* Errors after which the descriptor is unusable: the batch call throws. */
bool tk_fatal(int err);

/* Send-side arguments: fd, slab, offsets, sizes (argv[0..3]) and `count`, bounds-checked. */
typedef struct {
  int32_t fd, count;
  uint8_t *slab;
  int32_t *offsets, *sizes;
} tk_span;
bool tk_parse_span(napi_env env, napi_value *argv, napi_value jcount, tk_span *s);

/* An optional trailing TypedArray argument of at least `need` elements; *out stays NULL when
 * the argument is undefined. */
bool tk_opt_typed(napi_env env, napi_value v, napi_typedarray_type type, const char *name,
                  void **out, size_t need);

/* Defines the functions above on `exports`. */
napi_status tk_batch_init(napi_env env, napi_value exports);

#endif
