/* peercred.c: see tk_peercred.h for the exported function and its contract. */
#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>
#include "tk_common.h"
#include "tk_peercred.h"

static napi_value tk_peer_cred(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd = -1;
  if (!tk_args(env, info, 1, argv) || !tk_int(env, argv[0], "fd", &fd)) return NULL;
  if (fd < 0) return tk_throw_range(env, "fd must be >= 0, got %d", fd);
  struct ucred cred;
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    char subject[32];
    snprintf(subject, sizeof subject, "fd %d", fd);
    return tk_throw_errno(env, errno, "getsockopt(SO_PEERCRED)", subject);
  }
  napi_value out, v;
  TK_NAPI(env, napi_create_object(env, &out));
  TK_NAPI(env, napi_create_int32(env, cred.pid, &v));
  tk_set_prop(env, out, "pid", v);
  TK_NAPI(env, napi_create_uint32(env, cred.uid, &v));
  tk_set_prop(env, out, "uid", v);
  TK_NAPI(env, napi_create_uint32(env, cred.gid, &v));
  tk_set_prop(env, out, "gid", v);
  return out;
}

napi_status tk_peercred_init(napi_env env, napi_value exports) {
  static const tk_fn fns[] = {
    { "peerCred", tk_peer_cred },
  };
  return tk_define(env, exports, fns, sizeof fns / sizeof fns[0]);
}
