// keccak-256's absorb for src/lib/keccak.ts, where every segment and rendition passes once. Two
// implementations: AVX-512 (native/keccak1600_avx512.c) where the CPU has it, 1.05 to 1.7 times OpenSSL's;
// otherwise OpenSSL's Keccak-f[1600] (SHA3_absorb), which the node binary carries and exports for addons,
// its x86-64 assembly about 1.5 times the WebAssembly build the gateway uses when neither is here.
// The choice is made when the module loads: a node built against a system OpenSSL that keeps SHA3_absorb
// private, on a CPU without AVX-512, makes the module fail to load (and the WebAssembly one is used), never
// a call fail later. `implementation` names the one chosen; `absorbWith` runs either, for tests and bench/;
// `absorbLanes` takes up to 64 sponges at once, eight side by side with AVX-512 (src/lib/keccakLanes.ts).
#include <dlfcn.h>
#include <node_api.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "keccak1600_avx512.h"

typedef size_t (*absorb_fn)(uint64_t A[5][5], const unsigned char *inp, size_t len, size_t r);

static absorb_fn sha3_absorb;
static int avx512;

#define STATE_BYTES 200

static int bytes_of(napi_env env, napi_value v, unsigned char **data, size_t *len) {
  napi_typedarray_type type;
  napi_value buffer;
  size_t offset;
  void *p;
  if (napi_get_typedarray_info(env, v, &type, len, &p, &buffer, &offset) != napi_ok || type != napi_uint8_array) return 0;
  *data = p;
  return 1;
}

static size_t absorb_openssl(uint64_t *state, const unsigned char *data, size_t len) {
  return sha3_absorb((uint64_t (*)[5])state, data, len, KECCAK256_RATE);
}

/* Checks absorb's arguments; throws and returns 0 when they are not (state, data). */
static int absorb_args(napi_env env, napi_value *argv, size_t argc, unsigned char **state, unsigned char **data, size_t *data_len) {
  size_t state_len;
  if (argc < 2 || !bytes_of(env, argv[0], state, &state_len) || !bytes_of(env, argv[1], data, data_len) || state_len != STATE_BYTES ||
      ((uintptr_t)*state & 7) != 0) {
    napi_throw_type_error(env, NULL, "absorb(state: 8-byte aligned Uint8Array(200), data: Uint8Array)");
    return 0;
  }
  return 1;
}

// absorb(state: Uint8Array(200), data: Uint8Array): the whole blocks of data go into the state (its 25
// lanes, little-endian, as the reference keeps them); returns how many bytes at the end were left over.
static napi_value absorb(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  unsigned char *state, *data;
  size_t data_len;
  napi_value out;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || !absorb_args(env, argv, argc, &state, &data, &data_len))
    return NULL;
  size_t left = avx512 ? keccak256_absorb_avx512((uint64_t *)state, data, data_len) : absorb_openssl((uint64_t *)state, data, data_len);
  napi_create_uint32(env, (uint32_t)left, &out);
  return out;
}

// absorbWith(name: 'avx512' | 'openssl', state, data): absorb through the one named; throws when it
// cannot run here.
static napi_value absorb_with(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  char name[16];
  size_t name_len;
  unsigned char *state, *data;
  size_t data_len;
  napi_value out;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 3 ||
      napi_get_value_string_utf8(env, argv[0], name, sizeof name, &name_len) != napi_ok) {
    napi_throw_type_error(env, NULL, "absorbWith(name: 'avx512' | 'openssl', state, data)");
    return NULL;
  }
  if (!absorb_args(env, argv + 1, argc - 1, &state, &data, &data_len)) return NULL;
  size_t left;
  if (strcmp(name, "avx512") == 0 && avx512)
    left = keccak256_absorb_avx512((uint64_t *)state, data, data_len);
  else if (strcmp(name, "openssl") == 0 && sha3_absorb != NULL)
    left = absorb_openssl((uint64_t *)state, data, data_len);
  else {
    napi_throw_error(env, NULL, "no such keccak implementation here");
    return NULL;
  }
  napi_create_uint32(env, (uint32_t)left, &out);
  return out;
}

/* The most sponges one absorbLanes call takes: the arrays below are on the stack. */
#define MAX_LANES 64

// absorbLanes(states: Uint8Array(200)[], pieces: Uint8Array[], mustFinish = states.length): number[]: each
// state absorbs the whole blocks of its piece (what is left over, under a block, is the caller's), eight
// sponges at a time where AVX-512 runs; sponges from index mustFinish on may stop where fewer than three
// have blocks left. Returns the bytes of each piece absorbed.
static napi_value absorb_lanes(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  uint32_t must_finish;
  size_t absorbed[MAX_LANES];
  napi_value out;
  uint32_t count = 0, pieces_count = 0;
  bool arrays = false, pieces_array = false;
  uint64_t *states[MAX_LANES];
  const unsigned char *data[MAX_LANES];
  size_t lengths[MAX_LANES];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 || napi_is_array(env, argv[0], &arrays) != napi_ok || !arrays ||
      napi_is_array(env, argv[1], &pieces_array) != napi_ok || !pieces_array || napi_get_array_length(env, argv[0], &count) != napi_ok ||
      napi_get_array_length(env, argv[1], &pieces_count) != napi_ok || count != pieces_count || count > MAX_LANES) {
    napi_throw_type_error(env, NULL, "absorbLanes(states: Uint8Array(200)[], pieces: Uint8Array[], mustFinish?), as many of each, at most 64");
    return NULL;
  }
  must_finish = count;
  if (argc >= 3) {
    napi_valuetype type;
    if (napi_typeof(env, argv[2], &type) != napi_ok || (type != napi_undefined && (type != napi_number || napi_get_value_uint32(env, argv[2], &must_finish) != napi_ok))) {
      napi_throw_type_error(env, NULL, "absorbLanes: mustFinish is a count of sponges");
      return NULL;
    }
  }
  for (uint32_t i = 0; i < count; i++) {
    napi_value state, piece;
    unsigned char *state_bytes, *piece_bytes;
    size_t state_len, piece_len;
    if (napi_get_element(env, argv[0], i, &state) != napi_ok || napi_get_element(env, argv[1], i, &piece) != napi_ok ||
        !bytes_of(env, state, &state_bytes, &state_len) || !bytes_of(env, piece, &piece_bytes, &piece_len) || state_len != STATE_BYTES ||
        ((uintptr_t)state_bytes & 7) != 0) {
      napi_throw_type_error(env, NULL, "absorbLanes: each state an 8-byte aligned Uint8Array(200), each piece a Uint8Array");
      return NULL;
    }
    // two lanes on one state (or on overlapping ones) would each start from it, and the last written win
    for (uint32_t j = 0; j < i; j++) {
      uintptr_t a = (uintptr_t)states[j], b = (uintptr_t)state_bytes;
      if ((a > b ? a - b : b - a) < STATE_BYTES) {
        napi_throw_type_error(env, NULL, "absorbLanes: a state given twice, or two that overlap");
        return NULL;
      }
    }
    states[i] = (uint64_t *)state_bytes;
    data[i] = piece_bytes;
    lengths[i] = piece_len;
  }
  if (avx512)
    keccak256_absorb_avx512_lanes(states, data, lengths, count, must_finish, absorbed);
  else
    for (uint32_t i = 0; i < count; i++) absorbed[i] = lengths[i] - absorb_openssl(states[i], data[i], lengths[i]);
  napi_create_array_with_length(env, count, &out);
  for (uint32_t i = 0; i < count; i++) {
    napi_value n;
    napi_create_double(env, (double)absorbed[i], &n);
    napi_set_element(env, out, i, n);
  }
  return out;
}

NAPI_MODULE_INIT() {
  sha3_absorb = (absorb_fn)dlsym(RTLD_DEFAULT, "SHA3_absorb");
  avx512 = keccak256_avx512_usable();
  if (sha3_absorb == NULL && !avx512) {
    napi_throw_error(env, NULL, "no AVX-512, and this node does not export OpenSSL's SHA3_absorb");
    return NULL;
  }
  napi_value fn, with, name, names, entry;
  napi_create_function(env, "absorb", NAPI_AUTO_LENGTH, absorb, NULL, &fn);
  napi_set_named_property(env, exports, "absorb", fn);
  napi_create_function(env, "absorbWith", NAPI_AUTO_LENGTH, absorb_with, NULL, &with);
  napi_set_named_property(env, exports, "absorbWith", with);
  napi_value lanes;
  napi_create_function(env, "absorbLanes", NAPI_AUTO_LENGTH, absorb_lanes, NULL, &lanes);
  napi_set_named_property(env, exports, "absorbLanes", lanes);
  napi_create_string_utf8(env, avx512 ? "avx512" : "openssl", NAPI_AUTO_LENGTH, &name);
  napi_set_named_property(env, exports, "implementation", name);
  // the implementations this process can run, the chosen one first
  uint32_t count = 0;
  napi_create_array(env, &names);
  if (avx512) {
    napi_create_string_utf8(env, "avx512", NAPI_AUTO_LENGTH, &entry);
    napi_set_element(env, names, count++, entry);
  }
  if (sha3_absorb != NULL) {
    napi_create_string_utf8(env, "openssl", NAPI_AUTO_LENGTH, &entry);
    napi_set_element(env, names, count++, entry);
  }
  napi_set_named_property(env, exports, "available", names);
  return exports;
}
