// One setting of glibc's allocator for the gateway process (scripts/mallocTuning.mjs says why): the size
// from which an allocation gets pages of its own from the kernel (mmap) rather than the heap.
#include <node_api.h>
#include <stdint.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

// setMmapThreshold(bytes) -> true when set, false where the allocator is not glibc's
static napi_value set_mmap_threshold(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out;
  int64_t bytes = 0;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || napi_get_value_int64(env, argv[0], &bytes) != napi_ok || bytes <= 0 || bytes > INT32_MAX) {
    napi_throw_range_error(env, NULL, "setMmapThreshold(bytes): a whole number of bytes up to 2^31 - 1");
    return NULL;
  }
  int set = 0;
#if defined(__GLIBC__)
  set = mallopt(M_MMAP_THRESHOLD, (int)bytes) == 1;
#endif
  napi_get_boolean(env, set, &out);
  return out;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "setMmapThreshold", NAPI_AUTO_LENGTH, set_mmap_threshold, NULL, &fn);
  napi_set_named_property(env, exports, "setMmapThreshold", fn);
  return exports;
}
