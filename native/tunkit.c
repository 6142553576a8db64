/*
 * tunkit.c: tunkit's native I/O boundary (style.md §6), a Node-API addon in C.
 *
 * Why native: Node's fs on a TUN fd costs one threadpool round trip per packet
 * and dgram makes one sendmsg/recvmsg per datagram with no IP_PKTINFO
 * (reference.md §0, §3). Here every call is a synchronous, non-blocking
 * syscall batch on the JS thread; readiness comes from uv_poll on Node's loop.
 *
 * Exports (typed in src/io/native.ts):
 *   control   tunOpen ifIndex ifGetMtu ifSetMtu ifGetFlags ifSetUp
 *             ifGetHwAddr ifSetHwAddr rawOpen udpOpen closeFd  (tk_ifctl.h)
 *   data      recvBatch sendBatch readBatch writeBatch
 *             lastSendError lastWriteError lastBatchErrors      (tk_batch.h)
 *   readiness pollStart pollPause pollStop                      (tk_poll.h)
 *
 * One translation unit: the headers hold static functions by topic. Per-thread
 * scratch (tk_state) is napi instance data, so worker_threads each get their
 * own and may drive their own IFF_MULTI_QUEUE fd.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdlib.h>
#include "tk_common.h"
#include "tk_ifctl.h"
#include "tk_batch.h"
#include "tk_poll.h"
#include "crypto.h"

static void tk_state_free(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  free(data);
}

static napi_value tk_init(napi_env env, napi_value exports) {
  tk_state *st = (tk_state *)calloc(1, sizeof *st);
  if (st == NULL) return tk_throw_errno(env, ENOMEM, "calloc", "tunkit state");
  if (napi_set_instance_data(env, st, tk_state_free, NULL) != napi_ok) {
    free(st);
    tk_throw_napi(env, "napi_set_instance_data");
    return NULL;
  }
  const napi_property_descriptor fns[] = {
#define TK_FN(js, c) { js, NULL, c, NULL, NULL, NULL, napi_enumerable, NULL }
    TK_FN("tunOpen", tk_tun_open),
    TK_FN("ifIndex", tk_if_index),
    TK_FN("ifGetMtu", tk_if_get_mtu),
    TK_FN("ifSetMtu", tk_if_set_mtu),
    TK_FN("ifGetFlags", tk_if_get_flags),
    TK_FN("ifSetUp", tk_if_set_up),
    TK_FN("ifGetHwAddr", tk_if_get_hwaddr),
    TK_FN("ifSetHwAddr", tk_if_set_hwaddr),
    TK_FN("rawOpen", tk_raw_open),
    TK_FN("udpOpen", tk_udp_open),
    TK_FN("closeFd", tk_close_fd),
    TK_FN("recvBatch", tk_recv_batch),
    TK_FN("sendBatch", tk_send_batch),
    TK_FN("readBatch", tk_read_batch),
    TK_FN("writeBatch", tk_write_batch),
    TK_FN("lastSendError", tk_last_send_error),
    TK_FN("lastWriteError", tk_last_write_error),
    TK_FN("lastBatchErrors", tk_last_batch_errors),
    TK_FN("pollStart", tk_poll_start),
    TK_FN("pollPause", tk_poll_pause),
    TK_FN("pollStop", tk_poll_stop),
#undef TK_FN
  };
  TK_NAPI(env, napi_define_properties(env, exports, sizeof fns / sizeof fns[0], fns));
  TK_NAPI(env, tk_crypto_init(env, exports));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, tk_init)
