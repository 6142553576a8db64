/*
 * tunkit.c: tunkit's native I/O boundary (style.md §6), a Node-API addon in C.
 * This file is the module init only; each concern is one .c file with a small
 * header listing its exports (typed in src/io/native.ts):
 *
 *   ifctl.c    tunOpen ifIndex ifGetMtu ifSetMtu ifGetFlags ifSetUp ifGetHwAddr
 *              ifSetHwAddr rawOpen udpOpen udpPort closeFd          (tk_ifctl.h)
 *   batch.c    recvBatch sendBatch readBatch writeBatch
 *              lastSendError lastWriteError lastBatchErrors         (tk_batch.h)
 *   udp_send.c sendUdpBatch udpSendDefaults (ESP-in-UDP, no raw) (tk_udp_send.h)
 *   poll.c     pollStart pollPause pollStop                         (tk_poll.h)
 *   netlink.c  nlOpen nlSend nlRecv (rtnetlink syscalls only)       (tk_netlink.h)
 *   notify.c   sdNotify (one datagram to systemd's NOTIFY_SOCKET)   (tk_notify.h)
 *   privs.c    lookupUser lookupGroup dropPrivileges (--user)      (tk_privs.h)
 *   peercred.c peerCred (SO_PEERCRED of a control client)          (tk_peercred.h)
 *   clock.c    clockRead (the data path's clocks, no garbage)       (tk_clock.h)
 *   csum.c     csum16 (the Internet checksum of a long range)      (tk_csum.h)
 *   common.c   argument/error helpers and per-thread state          (tk_common.h)
 *
 * Why native: Node's fs on a TUN fd costs one threadpool round trip per packet
 * and dgram makes one sendmsg/recvmsg per datagram with no IP_PKTINFO
 * (reference.md §0, §3). Here every call is a synchronous, non-blocking
 * syscall batch on the JS thread; readiness comes from uv_poll on Node's loop.
 */
#include "tk_common.h"
#include "tk_ifctl.h"
#include "tk_batch.h"
#include "tk_udp_send.h"
#include "tk_poll.h"
#include "tk_netlink.h"
#include "tk_notify.h"
#include "tk_privs.h"
#include "tk_peercred.h"
#include "tk_clock.h"
#include "tk_csum.h"
#include "crypto.h"

/* Run in order at load; each defines its file's functions. One line per file. */
static const tk_init_fn tk_inits[] = {
  tk_state_init,
  tk_ifctl_init,
  tk_batch_init,
  tk_udp_send_init,
  tk_poll_init,
  tk_netlink_init,
  tk_notify_init,
  tk_privs_init,
  tk_peercred_init,
  tk_clock_init,
  tk_csum_init,
  tk_crypto_init,
};

static napi_value tk_init(napi_env env, napi_value exports) {
  for (size_t i = 0; i < sizeof tk_inits / sizeof tk_inits[0]; i++) {
    if (tk_inits[i](env, exports) != napi_ok) {
      tk_throw_napi(env, "tunkit init");
      return NULL;
    }
  }
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, tk_init)
