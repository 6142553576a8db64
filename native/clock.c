/* clock.c: see tk_clock.h for the exported function and its contract. */
#include <time.h>
#include "tk_common.h"
#include "tk_clock.h"

/* Whole milliseconds of clock `id` (exact in a double for ~285 000 years). */
static double tk_clock_ms(clockid_t id) {
  struct timespec ts;
  if (clock_gettime(id, &ts) != 0) return 0; /* cannot fail for these ids on Linux */
  return (double)((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static napi_value tk_clock_read(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  void *data;
  size_t len;
  if (!tk_args(env, info, 1, argv) || !tk_typed(env, argv[0], napi_float64_array, "out", &data, &len)) return NULL;
  if (len < 2) return tk_throw_range(env, "out holds %zu clocks, 2 needed", len);
  double *out = (double *)data;
  out[0] = tk_clock_ms(CLOCK_MONOTONIC);
  out[1] = tk_clock_ms(CLOCK_REALTIME);
  return NULL;
}

napi_status tk_clock_init(napi_env env, napi_value exports) {
  static const tk_fn fns[] = {
    { "clockRead", tk_clock_read },
  };
  return tk_define(env, exports, fns, sizeof fns / sizeof fns[0]);
}
