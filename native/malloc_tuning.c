// The settings of glibc's allocator for the gateway process (scripts/mallocTuning.mjs says why): the size
// from which an allocation gets pages of its own from the kernel (mmap) rather than the heap, how much
// free memory the heap's top may hold before it is given back, and how far the heap grows at a time.
#include <node_api.h>
#include <stdint.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

// setHeapRule(mmapThreshold, trimThreshold, topPad) -> true when all three are set, false where the
// allocator is not glibc's
static napi_value set_heap_rule(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], out;
  int64_t bytes[3] = {0, 0, 0};
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  for (size_t i = 0; i < 3; i++) {
    if (i >= argc || napi_get_value_int64(env, argv[i], &bytes[i]) != napi_ok || bytes[i] <= 0 || bytes[i] > INT32_MAX) {
      napi_throw_range_error(env, NULL, "setHeapRule(mmapThreshold, trimThreshold, topPad): whole numbers of bytes up to 2^31 - 1");
      return NULL;
    }
  }
  int set = 0;
#if defined(__GLIBC__)
  // mmap threshold first: setting it turns glibc's own sliding rule off, which also fixed the others
  set = mallopt(M_MMAP_THRESHOLD, (int)bytes[0]) == 1 && mallopt(M_TRIM_THRESHOLD, (int)bytes[1]) == 1 &&
        mallopt(M_TOP_PAD, (int)bytes[2]) == 1;
#endif
  napi_get_boolean(env, set, &out);
  return out;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "setHeapRule", NAPI_AUTO_LENGTH, set_heap_rule, NULL, &fn);
  napi_set_named_property(env, exports, "setHeapRule", fn);
  return exports;
}
