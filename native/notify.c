/* notify.c: see tk_notify.h for the exported function and its contract. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "tk_common.h"
#include "tk_notify.h"

/* Longest notification we send: READY/STATUS/… lines are short; systemd itself
 * accepts up to NOTIFY_BUFFER_MAX (PIPE_BUF = 4096). */
#define TK_NOTIFY_MAX 4096

/* A JS string into buf (cap bytes with the terminator); *len its byte length. */
static bool tk_str(napi_env env, napi_value v, const char *name, char *buf, size_t cap, size_t *len) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_string) {
    char msg[64];
    snprintf(msg, sizeof msg, "%s must be a string", name);
    tk_throw_type(env, msg);
    return false;
  }
  if (napi_get_value_string_utf8(env, v, NULL, 0, len) != napi_ok) {
    tk_throw_napi(env, name);
    return false;
  }
  if (*len == 0 || *len >= cap) {
    tk_throw_range(env, "%s must be 1 to %zu bytes, got %zu", name, cap - 1, *len);
    return false;
  }
  napi_get_value_string_utf8(env, v, buf, cap, NULL);
  return true;
}

static napi_value tk_sd_notify(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
  char state[TK_NOTIFY_MAX];
  size_t plen = 0, slen = 0;
  if (!tk_args(env, info, 2, argv) || !tk_str(env, argv[0], "path", path, sizeof path, &plen) ||
      !tk_str(env, argv[1], "state", state, sizeof state, &slen)) return NULL;
  struct sockaddr_un sa;
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  socklen_t salen;
  if (path[0] == '@') {
    /* Abstract: sun_path[0] stays 0, the name after '@' follows, no terminator. */
    if (plen < 2) return tk_throw_range(env, "path: abstract socket name \"@\" is empty");
    memcpy(sa.sun_path + 1, path + 1, plen - 1);
    salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen);
  } else {
    memcpy(sa.sun_path, path, plen); /* plen < sizeof sun_path: the terminator fits */
    salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen + 1);
  }
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return tk_throw_errno(env, errno, "socket", "AF_UNIX/SOCK_DGRAM");
  ssize_t n = sendto(fd, state, slen, MSG_NOSIGNAL, (struct sockaddr *)&sa, salen);
  int err = errno;
  close(fd);
  if (n < 0) return tk_throw_errno(env, err, "sendto", path);
  if ((size_t)n != slen) return tk_throw_errno(env, EMSGSIZE, "sendto", path);
  return NULL;
}

napi_status tk_notify_init(napi_env env, napi_value exports) {
  static const tk_fn fns[] = {
    { "sdNotify", tk_sd_notify },
  };
  return tk_define(env, exports, fns, sizeof fns / sizeof fns[0]);
}
