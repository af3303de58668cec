// The settings of glibc's allocator for the gateway process (scripts/mallocTuning.mjs says why): the size
// from which an allocation gets pages of its own from the kernel (mmap) rather than the heap, how much
// free memory the heap's top may hold before it is given back, and how far the heap grows at a time; and a
// thread that faults in the heap's new top ahead of its use, in one system call per growth; and the one
// way to start this process again, the same process, when its heap has no room to grow.
#define _GNU_SOURCE  // pthread_setname_np
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "napi_whole_args.h"
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#if defined(__linux__)
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <errno.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  // Linux 5.14
#endif
#endif

// setHeapRule(mmapThreshold, trimThreshold, topPad) -> true when all three are set, false where the
// allocator is not glibc's
static napi_value set_heap_rule(napi_env env, napi_callback_info info) {
  napi_value out;
  int64_t bytes[3];
  if (!napi_whole_args(env, info, 3, 1, INT32_MAX, "setHeapRule(mmapThreshold, trimThreshold, topPad): whole numbers of bytes up to 2^31 - 1", bytes))
    return NULL;
  int set = 0;
#if defined(__GLIBC__)
  // mmap threshold first: setting it turns glibc's own sliding rule off, which also fixed the others
  set = mallopt(M_MMAP_THRESHOLD, (int)bytes[0]) == 1 && mallopt(M_TRIM_THRESHOLD, (int)bytes[1]) == 1 &&
        mallopt(M_TOP_PAD, (int)bytes[2]) == 1;
#endif
  napi_get_boolean(env, set, &out);
  return out;
}

#if defined(__linux__)
static unsigned prefault_interval_ms;
static uintptr_t page_mask;
/** The end of the heap as far as it has been faulted in: only the prefault thread reads or writes it. */
static uintptr_t prefaulted_to;
/** Faulted in at most this much per call (a huge page), aligned to it. */
#define POPULATE_STEP ((uintptr_t)2 << 20)

// Looks at the heap's end (the program break) every interval; what the heap grew by since is faulted in
// with MADV_POPULATE_WRITE: one system call per 2 MiB rather than a trap per page as it is first
// written (on the bench machine's VM 4.7 us a page against 10). Pages already there are left as they are:
// the range's start may already hold the allocation that grew the heap, written by its owner meanwhile.
// The range is marked MADV_HUGEPAGE first, so where the kernel's transparent huge pages are on for those
// who ask ("madvise", as on the bench machine) it is faulted in 2 MiB at a time: the heap grows by whole
// segments and keeps them a playlist window, so no page of it sits half used for long.
static void *prefault_heap_top(void *unused) {
  (void)unused;
  // (the gateway puts it under SCHED_BATCH with its other helper threads, src/node/helperThreads.ts)
  pthread_setname_np(pthread_self(), "heap-prefault");  // as top -H and perf name it
  struct timespec nap = {prefault_interval_ms / 1000, (long)(prefault_interval_ms % 1000) * 1000000L};
  for (;;) {
    nanosleep(&nap, NULL);
    uintptr_t end = (uintptr_t)sbrk(0);
    if (end == (uintptr_t)-1) continue;
    // trimmed: what lies above the new end was given back and will be new again when the heap regrows
    if (end < prefaulted_to) prefaulted_to = end;
    // from the start of the page it is in (the break need not be page-aligned; that page is there
    // already); a failure (the heap trimmed between the two calls) is looked at again next time
    uintptr_t from = prefaulted_to & page_mask;
    if (end <= prefaulted_to) continue;
    madvise((void *)from, end - from, MADV_HUGEPAGE);  // a kernel without them says no, and nothing changes
    // a huge page at a time, giving the core up between them: under SCHED_BATCH a thread is not preempted
    // when the event loop wakes, so one call over a 16-MiB growth could keep the loop waiting until it ended
    while (from < end) {
      uintptr_t to = (from + POPULATE_STEP) & ~(POPULATE_STEP - 1);
      if (to > end) to = end;
      if (madvise((void *)from, to - from, MADV_POPULATE_WRITE) != 0) break;
      prefaulted_to = from = to;
      sched_yield();
    }
  }
  return NULL;
}

/** A page of this library's own writable data, to ask the kernel whether it knows MADV_POPULATE_WRITE. */
static char probe_page[1 << 13];
#endif

// startHeapPrefault(intervalMs) -> true when the thread runs (once per process), false where it cannot:
// not Linux, a kernel before 5.14, or the thread not started
static napi_value start_heap_prefault(napi_env env, napi_callback_info info) {
  napi_value out;
  int64_t ms;
  if (!napi_whole_args(env, info, 1, 1, 10000, "startHeapPrefault(intervalMs): 1 to 10000 ms", &ms)) return NULL;
  int started = 0;
#if defined(__linux__)
  static int running = 0;
  if (running) {
    started = 1;
  } else {
    long page = sysconf(_SC_PAGESIZE);
    page_mask = ~((uintptr_t)page - 1);
    uintptr_t probe = ((uintptr_t)probe_page + (uintptr_t)page - 1) & page_mask;
    if (page > 0 && page <= (long)sizeof probe_page / 2 && madvise((void *)probe, (size_t)page, MADV_POPULATE_WRITE) == 0) {
      prefault_interval_ms = (unsigned)ms;
      prefaulted_to = (uintptr_t)sbrk(0);
      pthread_attr_t attr;
      pthread_t thread;
      pthread_attr_init(&attr);
      pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
      pthread_attr_setstacksize(&attr, 64 * 1024);
      running = started = pthread_create(&thread, &attr, prefault_heap_top, NULL) == 0;
      pthread_attr_destroy(&attr);
    }
  }
#endif
  napi_get_boolean(env, started, &out);
  return out;
}

/** The strings of a JS array as a NULL-terminated array of C strings (one allocation); NULL on a mistake. */
static char **c_strings(napi_env env, napi_value array) {
  uint32_t n = 0;
  if (napi_get_array_length(env, array, &n) != napi_ok || n > 100000) return NULL;
  size_t total = 0;
  for (uint32_t i = 0; i < n; i++) {
    napi_value v;
    size_t len = 0;
    if (napi_get_element(env, array, i, &v) != napi_ok || napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) return NULL;
    total += len + 1;
  }
  char **out = malloc((n + 1) * sizeof(char *) + total);
  if (out == NULL) return NULL;
  char *at = (char *)(out + n + 1);
  for (uint32_t i = 0; i < n; i++) {
    napi_value v;
    size_t len = 0;
    napi_get_element(env, array, i, &v);
    napi_get_value_string_utf8(env, v, at, total, &len);
    // a string with a NUL inside would end early in the kernel's eyes: refused rather than cut
    if (strlen(at) != len) {
      free(out);
      return NULL;
    }
    out[i] = at;
    at += len + 1;
    total -= len + 1;
  }
  out[n] = NULL;
  return out;
}

// replaceProcess(path, argv, env, keepFds): execve(2). This process (its pid, CPU affinity, scheduling
// policy, and the descriptors not marked close-on-exec) runs `path` from the start. node marks even its
// standard input, output and error close-on-exec, so the descriptors in keepFds are unmarked first. It
// returns only by throwing: the kernel refused (errno in the message), or an argument is not as above
// (arrays of strings without NUL, argv not empty; keepFds whole numbers).
static napi_value replace_process(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value args[4];
  napi_get_cb_info(env, info, &argc, args, NULL, NULL);
  uint32_t keep_count = 0;
  if (argc < 4 || napi_get_array_length(env, args[3], &keep_count) != napi_ok || keep_count > 1024) {
    napi_throw_type_error(env, NULL, "replaceProcess(path, argv, env, keepFds): keepFds an array of descriptors");
    return NULL;
  }
  int keep[1024];
  for (uint32_t i = 0; i < keep_count; i++) {
    napi_value v;
    if (napi_get_element(env, args[3], i, &v) != napi_ok || napi_get_value_int32(env, v, &keep[i]) != napi_ok || keep[i] < 0) {
      napi_throw_type_error(env, NULL, "replaceProcess(path, argv, env, keepFds): keepFds an array of descriptors");
      return NULL;
    }
  }
  char path[4096];
  size_t len = 0;
  char **argv = NULL, **envp = NULL;
  if (napi_get_value_string_utf8(env, args[0], path, sizeof path, &len) != napi_ok || len == 0 ||
      len >= sizeof path - 1 || strlen(path) != len || (argv = c_strings(env, args[1])) == NULL || argv[0] == NULL ||
      (envp = c_strings(env, args[2])) == NULL) {
    free(argv);
    napi_throw_type_error(env, NULL, "replaceProcess(path, argv, env, keepFds): a path and two arrays of strings, argv not empty");
    return NULL;
  }
#if defined(__linux__)
  for (uint32_t i = 0; i < keep_count; i++) {
    int flags = fcntl(keep[i], F_GETFD);
    if (flags >= 0) fcntl(keep[i], F_SETFD, flags & ~FD_CLOEXEC);
  }
  execve(path, argv, envp);
  char message[256];
  snprintf(message, sizeof message, "replaceProcess: execve failed: %s", strerror(errno));
#else
  char message[] = "replaceProcess: not on this system";
#endif
  free(argv);
  free(envp);
  napi_throw_error(env, NULL, message);
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "replaceProcess", NAPI_AUTO_LENGTH, replace_process, NULL, &fn);
  napi_set_named_property(env, exports, "replaceProcess", fn);
  napi_create_function(env, "setHeapRule", NAPI_AUTO_LENGTH, set_heap_rule, NULL, &fn);
  napi_set_named_property(env, exports, "setHeapRule", fn);
  napi_create_function(env, "startHeapPrefault", NAPI_AUTO_LENGTH, start_heap_prefault, NULL, &fn);
  napi_set_named_property(env, exports, "startHeapPrefault", fn);
  return exports;
}
