// Puts one of this process's threads under SCHED_BATCH with the system call itself (src/node/helperThreads.ts
// says why): chrt would need a child process, and fork() marks every page of a gateway holding a
// gigabyte of segments copy-on-write, each faulted again as it is next written.
#define _GNU_SOURCE  // SCHED_BATCH
#include <node_api.h>
#include <stdint.h>
#if defined(__linux__)
#include <sched.h>
#endif

// setBatchPolicy(tid) -> true when the thread is now under SCHED_BATCH, false where it could not be set
static napi_value set_batch_policy(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out;
  int64_t tid = 0;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || napi_get_value_int64(env, argv[0], &tid) != napi_ok || tid <= 0 || tid > INT32_MAX) {
    napi_throw_range_error(env, NULL, "setBatchPolicy(tid): a thread id");
    return NULL;
  }
  int set = 0;
#if defined(__linux__) && defined(SCHED_BATCH)
  struct sched_param param = {0};
  // given a thread id, sched_setscheduler changes that thread alone
  set = sched_setscheduler((pid_t)tid, SCHED_BATCH, &param) == 0;
#endif
  napi_get_boolean(env, set, &out);
  return out;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "setBatchPolicy", NAPI_AUTO_LENGTH, set_batch_policy, NULL, &fn);
  napi_set_named_property(env, exports, "setBatchPolicy", fn);
  return exports;
}
