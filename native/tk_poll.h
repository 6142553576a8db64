/*
 * tk_poll.h: readiness on the Node event loop (uv_poll_t, UV_READABLE).
 *
 *   pollStart(fd, onReadable) → handle   starts watching; onReadable() runs on
 *       the JS thread with no arguments each loop iteration while fd is
 *       readable (libuv's epoll backend is level-triggered), through
 *       napi_make_callback, so promise jobs and nextTicks queued by the
 *       callback run before the loop moves on, as after any Node I/O callback.
 *       A throw from onReadable becomes an 'uncaughtException'.
 *   pollPause(handle, paused)            uv_poll_stop / uv_poll_start on the
 *       same handle: lets a pull-style reader stop wakeups while nobody waits.
 *   pollStop(handle)                     stops and closes; idempotent. The fd
 *       stays open (closeFd is separate) and must outlive the handle, as
 *       libuv requires (uv_poll_t docs: close the handle before the fd).
 *
 * Lifetime: while started, the handle object and callback are held by strong
 * references, so dropping the JS handle does not stop delivery; pollStop (or
 * environment teardown, for worker threads) releases them. The C struct is
 * freed once both libuv's close callback and the JS finalizer have run.
 */
#ifndef TK_POLL_H
#define TK_POLL_H

#include <node_api.h>

/* Defines the functions above on `exports`. */
napi_status tk_poll_init(napi_env env, napi_value exports);

#endif
