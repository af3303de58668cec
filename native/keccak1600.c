// keccak-256's sponge through OpenSSL's Keccak-f[1600] (SHA3_absorb), which the node binary carries and
// exports for addons: its x86-64 assembly absorbs about 1.5 times as fast as the WebAssembly build the
// gateway uses otherwise (src/lib/keccak.ts), and every segment and rendition passes through it once.
// The symbol is looked up when the module loads, so a node built against a system OpenSSL that keeps it
// private makes the module fail to load (and the WebAssembly one is used), never a call fail later.
#include <dlfcn.h>
#include <node_api.h>
#include <stddef.h>
#include <stdint.h>

typedef size_t (*absorb_fn)(uint64_t A[5][5], const unsigned char *inp, size_t len, size_t r);

static absorb_fn sha3_absorb;

#define STATE_BYTES 200
/* keccak-256's rate: 1600 − 2 × 256 bits */
#define RATE_BYTES 136

static int bytes_of(napi_env env, napi_value v, unsigned char **data, size_t *len) {
  napi_typedarray_type type;
  napi_value buffer;
  size_t offset;
  void *p;
  if (napi_get_typedarray_info(env, v, &type, len, &p, &buffer, &offset) != napi_ok || type != napi_uint8_array) return 0;
  *data = p;
  return 1;
}

// absorb(state: Uint8Array(200), data: Uint8Array): the whole blocks of data go into the state (its 25
// lanes, little-endian, as the reference keeps them); returns how many bytes at the end were left over.
static napi_value absorb(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  unsigned char *state, *data;
  size_t state_len, data_len;
  napi_value out;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2 || !bytes_of(env, argv[0], &state, &state_len) ||
      !bytes_of(env, argv[1], &data, &data_len) || state_len != STATE_BYTES || ((uintptr_t)state & 7) != 0) {
    napi_throw_type_error(env, NULL, "absorb(state: 8-byte aligned Uint8Array(200), data: Uint8Array)");
    return NULL;
  }
  size_t left = sha3_absorb((uint64_t (*)[5])state, data, data_len, RATE_BYTES);
  napi_create_uint32(env, (uint32_t)left, &out);
  return out;
}

NAPI_MODULE_INIT() {
  sha3_absorb = (absorb_fn)dlsym(RTLD_DEFAULT, "SHA3_absorb");
  if (sha3_absorb == NULL) {
    napi_throw_error(env, NULL, "this node does not export OpenSSL's SHA3_absorb");
    return NULL;
  }
  napi_value fn;
  napi_create_function(env, "absorb", NAPI_AUTO_LENGTH, absorb, NULL, &fn);
  napi_set_named_property(env, exports, "absorb", fn);
  return exports;
}
