// The one way the one-file addons read their arguments: the first `count` arguments as whole numbers in
// [min, max], or a RangeError naming the call's usage.
#ifndef NAPI_WHOLE_ARGS_H
#define NAPI_WHOLE_ARGS_H
#include <node_api.h>
#include <stdint.h>

#define NAPI_WHOLE_ARGS_MAX 4

// 1 with `out` filled; 0 with a RangeError thrown (the caller returns NULL)
static int napi_whole_args(napi_env env, napi_callback_info info, size_t count, int64_t min, int64_t max, const char *usage, int64_t *out) {
  size_t argc = NAPI_WHOLE_ARGS_MAX;
  napi_value argv[NAPI_WHOLE_ARGS_MAX];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  // (more than NAPI_WHOLE_ARGS_MAX asked for is the addon's own mistake, refused like a missing argument)
  for (size_t i = 0; i < count; i++) {
    if (count > NAPI_WHOLE_ARGS_MAX || i >= argc || napi_get_value_int64(env, argv[i], &out[i]) != napi_ok || out[i] < min || out[i] > max) {
      napi_throw_range_error(env, NULL, usage);
      return 0;
    }
  }
  return 1;
}
#endif
