/*
 * tk_clock.h: the data path's clocks, read into a caller's array.
 *
 *   clockRead(out)
 *       out: a Float64Array of at least 2 elements, owned by the caller and
 *       reused for every call. Sets out[0] = CLOCK_MONOTONIC and out[1] =
 *       CLOCK_REALTIME (clock_gettime(2)), each in whole milliseconds
 *       (rounded down): the clocks performance.now() and Date.now() read.
 *       Returns nothing. Why not those two: each returns a number that is
 *       not a small integer, which V8 boxes on the heap, one box per call,
 *       so reading them once per batch is an allocation per batch. Here the
 *       numbers go into the caller's array and nothing is allocated; the
 *       caller (src/datapath/clock.ts) turns them into a JS number only when
 *       the millisecond changed. A wrong argument is a TypeError/RangeError.
 */
#ifndef TK_CLOCK_H
#define TK_CLOCK_H

#include <node_api.h>

/* Defines the function above on `exports`. */
napi_status tk_clock_init(napi_env env, napi_value exports);

#endif
