/*
 * build/malloc-tuning.node: sets how much freed memory glibc's allocator keeps for reuse (see
 * src/lib/freedMemory.ts for why). One function, keepFreedMemory(trimBytes, mmapBytes), which returns
 * true when both settings were taken; false where the C library is not glibc, or glibc refused one.
 */
#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>

#ifdef __GLIBC__
#include <malloc.h>
#endif

static napi_value keep_freed_memory(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int64_t trim = -1, mmap_threshold = -1;
  bool taken = false;
  napi_value result;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2 ||
      napi_get_value_int64(env, argv[0], &trim) != napi_ok || napi_get_value_int64(env, argv[1], &mmap_threshold) != napi_ok ||
      trim < 0 || trim > INT32_MAX || mmap_threshold < 0 || mmap_threshold > INT32_MAX) {
    napi_throw_type_error(env, NULL, "keepFreedMemory(trimBytes, mmapBytes): two byte counts up to 2^31 - 1");
    return NULL;
  }
#ifdef __GLIBC__
  /* the mmap threshold first: setting either makes glibc stop adjusting both by itself */
  taken = mallopt(M_MMAP_THRESHOLD, (int)mmap_threshold) == 1 && mallopt(M_TRIM_THRESHOLD, (int)trim) == 1;
#endif
  napi_get_boolean(env, taken, &result);
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "keepFreedMemory", NAPI_AUTO_LENGTH, keep_freed_memory, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "keepFreedMemory", fn) != napi_ok) return NULL;
  return exports;
}
