// Puts one of this process's threads under SCHED_BATCH with the system call itself (src/node/helperThreads.ts
// says why): chrt would need a child process, and fork() marks every page of a gateway holding a
// gigabyte of segments copy-on-write, each faulted again as it is next written.
#define _GNU_SOURCE  // SCHED_BATCH
#include <stdint.h>
#include "napi_whole_args.h"
#if defined(__linux__)
#include <sched.h>
#endif

// setBatchPolicy(tid) -> true when the thread is now under SCHED_BATCH, false where it could not be set
static napi_value set_batch_policy(napi_env env, napi_callback_info info) {
  napi_value out;
  int64_t tid;
  if (!napi_whole_args(env, info, 1, 1, INT32_MAX, "setBatchPolicy(tid): a thread id", &tid)) return NULL;
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
