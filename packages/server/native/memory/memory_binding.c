// The C allocator's free memory handed back to the system. glibc keeps what a process frees in
// its arenas for later use, and returns only a free stretch at the very top of each; after a
// burst of uploads (thousands of 64 KiB socket buffers, spread over the arenas of several
// threads) that is tens of MB the process no longer uses. malloc_trim(0) gives back every whole
// free page in every arena. Elsewhere than glibc it does nothing and says so.
#include <node_api.h>
#include <stdlib.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

static napi_value trim(napi_env env, napi_callback_info info) {
  (void)info;
  bool trimmed = false;
#if defined(__GLIBC__)
  trimmed = malloc_trim(0) != 0;
#endif
  napi_value result;
  if (napi_get_boolean(env, trimmed, &result) != napi_ok) return NULL;
  return result;
}

NAPI_MODULE_INIT() {
  napi_value function;
  if (napi_create_function(env, "trim", NAPI_AUTO_LENGTH, trim, NULL, &function) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "trim", function) != napi_ok) return NULL;
  return exports;
}
