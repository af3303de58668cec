// keccak-256's absorb with AVX-512 (native/keccak1600_avx512.c), for the addon in native/keccak1600.c.
#ifndef KECCAK1600_AVX512_H
#define KECCAK1600_AVX512_H
#include <stddef.h>
#include <stdint.h>

/* keccak-256's rate: 1600 − 2 × 256 bits */
#define KECCAK256_RATE 136

/* Absorbs the whole 136-byte blocks of data into the state (its 25 lanes in the reference order, as
   OpenSSL's SHA3_absorb takes them); returns how many bytes at the end were left over. Only where
   keccak256_avx512_usable() says so. */
size_t keccak256_absorb_avx512(uint64_t state[25], const unsigned char *data, size_t len);

/* Absorbs the whole blocks of data[i] (lengths[i] bytes) into states[i], for each of `count` sponges,
   eight at a time in the lanes of the registers while three or more have blocks left. The first
   `must_finish` sponges then absorb the rest of their blocks one at a time; the others stop there.
   absorbed[i]: the bytes of data[i] absorbed. */
void keccak256_absorb_avx512_lanes(uint64_t *states[], const unsigned char *data[], const size_t lengths[], size_t count, size_t must_finish,
                                   size_t absorbed[]);

/* Whether this CPU and its operating system run AVX-512F. */
int keccak256_avx512_usable(void);
#endif
