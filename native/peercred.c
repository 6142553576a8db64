/* peercred.c: see tk_peercred.h for the exported function and its contract. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
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
  /* SO_PEERGROUPS (Linux 4.13): the supplementary groups at connect; the kernel
   * caps them at NGROUPS_MAX (65536). ENOPROTOOPT on older kernels: none. */
  socklen_t glen = 0;
  gid_t *groups = NULL;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, NULL, &glen) != 0 && errno == ERANGE && glen > 0) {
    groups = malloc(glen);
    if (groups == NULL) return tk_throw_errno(env, ENOMEM, "getsockopt(SO_PEERGROUPS)", "groups");
    if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &glen) != 0) glen = 0;
  } else {
    glen = 0;
  }
  napi_value out, v, arr;
  if (napi_create_array(env, &arr) != napi_ok) {
    free(groups);
    tk_throw_napi(env, "groups");
    return NULL;
  }
  for (uint32_t i = 0; i < glen / sizeof(gid_t); i++) {
    if (napi_create_uint32(env, groups[i], &v) != napi_ok || napi_set_element(env, arr, i, v) != napi_ok) break;
  }
  free(groups);
  TK_NAPI(env, napi_create_object(env, &out));
  tk_set_prop(env, out, "groups", arr);
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
