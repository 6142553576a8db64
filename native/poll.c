/* poll.c: see tk_poll.h for the exported functions and their contracts. */
#include <stdio.h>
#include <stdlib.h>
#include <uv.h>
#include "tk_common.h"
#include "tk_poll.h"

typedef struct {
  uv_poll_t poll;
  napi_env env;
  napi_ref cb;    /* strong reference to onReadable, NULL once stopped */
  napi_ref self;  /* strong reference to the JS handle, NULL once stopped */
  napi_async_context actx;
  bool stopped;   /* pollStop ran (or env teardown did) */
  bool uv_closed; /* libuv's close callback ran */
  bool js_gone;   /* the JS handle was finalized */
} tk_poll;

static void tk_poll_maybe_free(tk_poll *p) {
  if (p->uv_closed && p->js_gone) free(p);
}

static void tk_poll_on_close(uv_handle_t *h) {
  tk_poll *p = (tk_poll *)h->data;
  p->uv_closed = true;
  tk_poll_maybe_free(p);
}

static void tk_poll_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  tk_poll *p = (tk_poll *)data;
  p->js_gone = true;
  tk_poll_maybe_free(p);
}

static void tk_poll_cleanup_hook(void *arg);

/* Stops delivery and releases the references; the struct itself goes later. */
static void tk_poll_release(tk_poll *p, bool from_hook) {
  if (p->stopped) return;
  p->stopped = true;
  uv_poll_stop(&p->poll);
  uv_close((uv_handle_t *)&p->poll, tk_poll_on_close);
  if (!from_hook) napi_remove_env_cleanup_hook(p->env, tk_poll_cleanup_hook, p);
  napi_delete_reference(p->env, p->cb);
  napi_delete_reference(p->env, p->self);
  napi_async_destroy(p->env, p->actx);
  p->cb = NULL;
  p->self = NULL;
}

static void tk_poll_cleanup_hook(void *arg) { tk_poll_release((tk_poll *)arg, true); }

static void tk_poll_on_event(uv_poll_t *h, int status, int events) {
  (void)status; /* on error the callback still runs: the read it triggers reports the errno */
  (void)events;
  tk_poll *p = (tk_poll *)h->data;
  if (p->stopped) return;
  napi_env env = p->env;
  napi_handle_scope scope;
  napi_value fn, recv, result;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  /* napi_make_callback converts the receiver ToObject: pass globalThis, not undefined. */
  if (napi_get_reference_value(env, p->cb, &fn) == napi_ok && napi_get_global(env, &recv) == napi_ok) {
    napi_status st = napi_make_callback(env, p->actx, recv, fn, 0, NULL, &result);
    if (st == napi_pending_exception) {
      napi_value exc;
      napi_get_and_clear_last_exception(env, &exc);
      napi_fatal_exception(env, exc);
    }
  }
  napi_close_handle_scope(env, scope);
}

/* Frees a handle whose setup failed before uv_poll_init succeeded. */
static napi_value tk_poll_fail(napi_env env, tk_poll *p, int uverr, int fd) {
  char subject[24];
  snprintf(subject, sizeof subject, "fd=%d", fd);
  free(p);
  return tk_throw_errno(env, -uverr, "uv_poll_init", subject);
}

static napi_value tk_poll_start(napi_env env, napi_callback_info info) {
  napi_value argv[2], obj, name;
  int32_t fd;
  napi_valuetype t;
  uv_loop_t *loop;
  if (!tk_args(env, info, 2, argv) || !tk_int(env, argv[0], "fd", &fd)) return NULL;
  if (napi_typeof(env, argv[1], &t) != napi_ok || t != napi_function) return tk_throw_type(env, "onReadable must be a function");
  TK_NAPI(env, napi_get_uv_event_loop(env, &loop));
  tk_poll *p = (tk_poll *)calloc(1, sizeof *p);
  if (p == NULL) return tk_throw_errno(env, ENOMEM, "calloc", "uv_poll_t");
  p->env = env;
  int rc = uv_poll_init(loop, &p->poll, fd);
  if (rc < 0) return tk_poll_fail(env, p, rc, fd);
  p->poll.data = p;
  rc = uv_poll_start(&p->poll, UV_READABLE, tk_poll_on_event);
  if (napi_create_object(env, &obj) != napi_ok || napi_wrap(env, obj, p, tk_poll_finalize, NULL, NULL) != napi_ok) {
    p->stopped = p->js_gone = true;
    uv_close((uv_handle_t *)&p->poll, tk_poll_on_close);
    tk_throw_napi(env, "pollStart: napi_wrap");
    return NULL;
  }
  napi_create_string_utf8(env, "tunkit:poll", NAPI_AUTO_LENGTH, &name);
  napi_create_reference(env, argv[1], 1, &p->cb);
  napi_create_reference(env, obj, 1, &p->self);
  napi_async_init(env, obj, name, &p->actx);
  napi_add_env_cleanup_hook(env, tk_poll_cleanup_hook, p);
  if (rc < 0) { /* e.g. EPERM for a regular file: report after wiring, so release is uniform */
    tk_poll_release(p, false);
    return tk_throw_errno(env, -rc, "uv_poll_start", "fd");
  }
  return obj;
}

static tk_poll *tk_poll_of(napi_env env, napi_value v) {
  void *p = NULL;
  if (napi_unwrap(env, v, &p) != napi_ok || p == NULL) {
    tk_throw_type(env, "not a poll handle");
    return NULL;
  }
  return (tk_poll *)p;
}

static napi_value tk_poll_pause(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  bool paused = true;
  tk_poll *p;
  if (!tk_args(env, info, 2, argv) || (p = tk_poll_of(env, argv[0])) == NULL ||
      !tk_bool(env, argv[1], true, &paused)) return NULL;
  if (p->stopped) return NULL;
  int rc = paused ? uv_poll_stop(&p->poll) : uv_poll_start(&p->poll, UV_READABLE, tk_poll_on_event);
  if (rc < 0) return tk_throw_errno(env, -rc, paused ? "uv_poll_stop" : "uv_poll_start", "handle");
  return NULL;
}

static napi_value tk_poll_stop(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  tk_poll *p;
  if (!tk_args(env, info, 1, argv) || (p = tk_poll_of(env, argv[0])) == NULL) return NULL;
  tk_poll_release(p, false);
  return NULL;
}

napi_status tk_poll_init(napi_env env, napi_value exports) {
  static const tk_fn fns[] = {
    { "pollStart", tk_poll_start },
    { "pollPause", tk_poll_pause },
    { "pollStop", tk_poll_stop },
  };
  return tk_define(env, exports, fns, sizeof fns / sizeof fns[0]);
}
