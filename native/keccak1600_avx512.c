// keccak-256's absorb with AVX-512: the 25 lanes of Keccak-f[1600] in five 512-bit registers, five lanes
// each. 1.05 to 1.7 times as fast as OpenSSL's x86-64 assembly (bench/keccak.ts), and the gateway hashes
// every segment and rendition once (docs/architecture.md §6).
//
// Two layouts, one round in each:
// - by plane: register y holds lanes A[x][y], x = 0..4 in its lanes 0..4. Theta's column parities are
//   then the XOR of the five registers, and rho is one variable rotate per register.
// - by column: register x holds lanes A[x][y], y = 0..4. Pi moves lane A[x][y] to A[y][2x + 3y], which
//   is a shuffle within a register from one layout to the other (register y keeps its lanes), and chi
//   combines each column with the next two, a three-input logic operation per register.
// After chi a transpose (two-source shuffles) brings the state back to planes for the next round.
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

#include "keccak1600_avx512.h"

static const uint64_t ROUND_CONSTANTS[24] = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL, 0x8000000080008000ULL, 0x000000000000808bULL,
    0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL, 0x000000000000008aULL, 0x0000000000000088ULL,
    0x0000000080008009ULL, 0x000000008000000aULL, 0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL,
    0x8000000000008003ULL, 0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800aULL, 0x800000008000000aULL,
    0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL};

/* Five lanes; the upper three are never read. */
#define LANES5(a, b, c, d, e) _mm512_setr_epi64(a, b, c, d, e, 0, 0, 0)

/* ternary-logic tables (bit 4a + 2b + c of the immediate is f(a, b, c)) */
#define XOR3 0x96       /* a ^ b ^ c */
#define A_XOR_NOTB_AND_C 0xD2 /* a ^ (~b & c), chi */

__attribute__((target("avx512f"))) size_t keccak256_absorb_avx512(uint64_t state[25], const unsigned char *data, size_t len) {
  /* theta: lane x takes column x - 1 and column x + 1 */
  const __m512i prev = LANES5(4, 0, 1, 2, 3), next = LANES5(1, 2, 3, 4, 0);
  /* rho's rotation of A[x][y], by plane */
  const __m512i rho[5] = {LANES5(0, 1, 62, 28, 27), LANES5(36, 44, 6, 55, 20), LANES5(3, 10, 43, 25, 39), LANES5(41, 45, 15, 21, 8),
                          LANES5(18, 2, 61, 56, 14)};
  /* pi: plane y becomes column y, whose lane y' is A[(3y' + y) mod 5][y] */
  const __m512i pi[5] = {LANES5(0, 3, 1, 4, 2), LANES5(1, 4, 2, 0, 3), LANES5(2, 0, 3, 1, 4), LANES5(3, 1, 4, 2, 0), LANES5(4, 2, 0, 3, 1)};
  /* the transpose: columns 0, 1 (and 2, 3) interleaved by plane, planes 0-3 then plane 4 ... */
  const __m512i pairsLow = _mm512_setr_epi64(0, 8, 1, 9, 2, 10, 3, 11), pairsHigh = _mm512_setr_epi64(4, 12, 5, 13, 6, 14, 7, 15);
  /* ... then plane y's four lanes from the two interleavings, and its fifth from column 4's lane y */
  const __m512i fourOf[4] = {LANES5(0, 1, 8, 9, 0), LANES5(2, 3, 10, 11, 0), LANES5(4, 5, 12, 13, 0), LANES5(6, 7, 14, 15, 0)};
  const __m512i fifthOf[5] = {_mm512_set1_epi64(0), _mm512_set1_epi64(1), _mm512_set1_epi64(2), _mm512_set1_epi64(3), _mm512_set1_epi64(4)};
  const __mmask8 five = 0x1f;

  __m512i p0 = _mm512_maskz_loadu_epi64(five, state), p1 = _mm512_maskz_loadu_epi64(five, state + 5), p2 = _mm512_maskz_loadu_epi64(five, state + 10),
          p3 = _mm512_maskz_loadu_epi64(five, state + 15), p4 = _mm512_maskz_loadu_epi64(five, state + 20);

  /* a block is 17 lanes: planes 0-2 whole, two lanes of plane 3 (masked loads never touch the lanes left out) */
  for (; len >= KECCAK256_RATE; data += KECCAK256_RATE, len -= KECCAK256_RATE) {
    p0 = _mm512_xor_si512(p0, _mm512_maskz_loadu_epi64(five, data));
    p1 = _mm512_xor_si512(p1, _mm512_maskz_loadu_epi64(five, data + 40));
    p2 = _mm512_xor_si512(p2, _mm512_maskz_loadu_epi64(five, data + 80));
    p3 = _mm512_xor_si512(p3, _mm512_maskz_loadu_epi64(0x03, data + 120));

    for (int round = 0; round < 24; round++) {
      /* theta */
      __m512i parity = _mm512_ternarylogic_epi64(_mm512_ternarylogic_epi64(p0, p1, p2, XOR3), p3, p4, XOR3);
      __m512i left = _mm512_permutexvar_epi64(prev, parity);
      __m512i right = _mm512_rol_epi64(_mm512_permutexvar_epi64(next, parity), 1);
      /* theta's XOR, rho, and pi into columns */
      __m512i c0 = _mm512_permutexvar_epi64(pi[0], _mm512_rolv_epi64(_mm512_ternarylogic_epi64(p0, left, right, XOR3), rho[0]));
      __m512i c1 = _mm512_permutexvar_epi64(pi[1], _mm512_rolv_epi64(_mm512_ternarylogic_epi64(p1, left, right, XOR3), rho[1]));
      __m512i c2 = _mm512_permutexvar_epi64(pi[2], _mm512_rolv_epi64(_mm512_ternarylogic_epi64(p2, left, right, XOR3), rho[2]));
      __m512i c3 = _mm512_permutexvar_epi64(pi[3], _mm512_rolv_epi64(_mm512_ternarylogic_epi64(p3, left, right, XOR3), rho[3]));
      __m512i c4 = _mm512_permutexvar_epi64(pi[4], _mm512_rolv_epi64(_mm512_ternarylogic_epi64(p4, left, right, XOR3), rho[4]));
      /* chi, and iota on A[0][0] */
      __m512i d0 = _mm512_ternarylogic_epi64(c0, c1, c2, A_XOR_NOTB_AND_C);
      __m512i d1 = _mm512_ternarylogic_epi64(c1, c2, c3, A_XOR_NOTB_AND_C);
      __m512i d2 = _mm512_ternarylogic_epi64(c2, c3, c4, A_XOR_NOTB_AND_C);
      __m512i d3 = _mm512_ternarylogic_epi64(c3, c4, c0, A_XOR_NOTB_AND_C);
      __m512i d4 = _mm512_ternarylogic_epi64(c4, c0, c1, A_XOR_NOTB_AND_C);
      d0 = _mm512_mask_xor_epi64(d0, 0x01, d0, _mm512_set1_epi64((long long)ROUND_CONSTANTS[round]));
      /* back to planes */
      __m512i low01 = _mm512_permutex2var_epi64(d0, pairsLow, d1), low23 = _mm512_permutex2var_epi64(d2, pairsLow, d3);
      __m512i high01 = _mm512_permutex2var_epi64(d0, pairsHigh, d1), high23 = _mm512_permutex2var_epi64(d2, pairsHigh, d3);
      p0 = _mm512_mask_permutexvar_epi64(_mm512_permutex2var_epi64(low01, fourOf[0], low23), 0x10, fifthOf[0], d4);
      p1 = _mm512_mask_permutexvar_epi64(_mm512_permutex2var_epi64(low01, fourOf[1], low23), 0x10, fifthOf[1], d4);
      p2 = _mm512_mask_permutexvar_epi64(_mm512_permutex2var_epi64(low01, fourOf[2], low23), 0x10, fifthOf[2], d4);
      p3 = _mm512_mask_permutexvar_epi64(_mm512_permutex2var_epi64(low01, fourOf[3], low23), 0x10, fifthOf[3], d4);
      p4 = _mm512_mask_permutexvar_epi64(_mm512_permutex2var_epi64(high01, fourOf[0], high23), 0x10, fifthOf[4], d4);
    }
  }

  _mm512_mask_storeu_epi64(state, five, p0);
  _mm512_mask_storeu_epi64(state + 5, five, p1);
  _mm512_mask_storeu_epi64(state + 10, five, p2);
  _mm512_mask_storeu_epi64(state + 15, five, p3);
  _mm512_mask_storeu_epi64(state + 20, five, p4);
  return len;
}

/* rho's rotations, and where pi puts each lane: lane i (x + 5y) moves to y + 5((2x + 3y) mod 5) */
static const int RHO[25] = {0, 1, 62, 28, 27, 36, 44, 6, 55, 20, 3, 10, 43, 25, 39, 41, 45, 15, 21, 8, 18, 2, 61, 56, 14};
#define PI(x, y) ((y) + 5 * ((2 * (x) + 3 * (y)) % 5))

/* A rotation by a count known when the loops below are unrolled (vprolq takes an immediate). */
#define ROL64(v, n) ((n) == 0 ? (v) : _mm512_rol_epi64(v, n))

// Eight sponges side by side, one per 64-bit lane of each register: register i holds lane i of every
// state, and the rounds are the reference's, one vector operation for eight states. Lanes not in `active`
// are neither read nor written. Each active lane absorbs `blocks` whole blocks from data[lane].
__attribute__((target("avx512f"))) static void absorb_x8(uint64_t *const states[8], const unsigned char *data[8], __mmask8 active, size_t blocks) {
  __m512i a[25];
  const __m512i stateAt = _mm512_loadu_si512((const void *)states);
  for (int i = 0; i < 25; i++)
    a[i] = _mm512_mask_i64gather_epi64(_mm512_setzero_si512(), active, _mm512_add_epi64(stateAt, _mm512_set1_epi64(8 * i)), NULL, 1);
  __m512i dataAt = _mm512_loadu_si512((const void *)data);
  for (size_t b = 0; b < blocks; b++) {
    for (int i = 0; i < KECCAK256_RATE / 8; i++)
      a[i] = _mm512_xor_si512(a[i], _mm512_mask_i64gather_epi64(_mm512_setzero_si512(), active, _mm512_add_epi64(dataAt, _mm512_set1_epi64(8 * i)), NULL, 1));
    dataAt = _mm512_add_epi64(dataAt, _mm512_set1_epi64(KECCAK256_RATE));
    for (int round = 0; round < 24; round++) {
      __m512i parity[5], t[25];
      for (int x = 0; x < 5; x++)
        parity[x] = _mm512_ternarylogic_epi64(_mm512_ternarylogic_epi64(a[x], a[x + 5], a[x + 10], XOR3), a[x + 15], a[x + 20], XOR3);
      for (int x = 0; x < 5; x++) {
        __m512i d = _mm512_xor_si512(parity[(x + 4) % 5], _mm512_rol_epi64(parity[(x + 1) % 5], 1));
        for (int y = 0; y < 5; y++) t[PI(x, y)] = ROL64(_mm512_xor_si512(a[x + 5 * y], d), RHO[x + 5 * y]);
      }
      for (int y = 0; y < 25; y += 5)
        for (int x = 0; x < 5; x++) a[y + x] = _mm512_ternarylogic_epi64(t[y + x], t[y + (x + 1) % 5], t[y + (x + 2) % 5], A_XOR_NOTB_AND_C);
      a[0] = _mm512_xor_si512(a[0], _mm512_set1_epi64((long long)ROUND_CONSTANTS[round]));
    }
  }
  for (int i = 0; i < 25; i++) _mm512_mask_i64scatter_epi64(NULL, active, _mm512_add_epi64(stateAt, _mm512_set1_epi64(8 * i)), a[i], 1);
}

/* Below this many lanes with blocks left, one sponge at a time is quicker: eight lanes cost what one does. */
#define FEWEST_LANES 3

__attribute__((target("avx512f"))) void keccak256_absorb_avx512_lanes(uint64_t *states[], const unsigned char *data[], const size_t lengths[], size_t count,
                                                                      size_t must_finish, size_t absorbed[]) {
  for (size_t first = 0; first < count; first += 8) {
    size_t n = count - first < 8 ? count - first : 8;
    uint64_t *laneStates[8];
    const unsigned char *laneData[8];
    size_t left[8];
    for (size_t l = 0; l < 8; l++) {
      laneStates[l] = l < n ? states[first + l] : states[first];
      laneData[l] = l < n ? data[first + l] : data[first];
      left[l] = l < n ? lengths[first + l] / KECCAK256_RATE : 0;
    }
    for (;;) {
      __mmask8 active = 0;
      size_t fewest = SIZE_MAX;
      int lanes = 0;
      for (int l = 0; l < 8; l++)
        if (left[l] > 0) {
          active |= (__mmask8)(1u << l);
          lanes++;
          if (left[l] < fewest) fewest = left[l];
        }
      if (lanes < FEWEST_LANES) break;
      absorb_x8(laneStates, laneData, active, fewest);
      for (int l = 0; l < 8; l++)
        if (left[l] > 0) {
          left[l] -= fewest;
          laneData[l] += fewest * KECCAK256_RATE;
        }
    }
    for (size_t l = 0; l < n; l++) {
      if (left[l] > 0 && first + l < must_finish) {
        keccak256_absorb_avx512(laneStates[l], laneData[l], left[l] * KECCAK256_RATE);
        left[l] = 0;
      }
      absorbed[first + l] = (lengths[first + l] / KECCAK256_RATE - left[l]) * KECCAK256_RATE;
    }
  }
}

int keccak256_avx512_usable(void) { return __builtin_cpu_supports("avx512f"); }

#else
#include <stddef.h>
#include <stdint.h>

#include "keccak1600_avx512.h"

void keccak256_absorb_avx512_lanes(uint64_t *states[], const unsigned char *data[], const size_t lengths[], size_t count, size_t must_finish,
                                    size_t absorbed[]) {
  (void)states;
  (void)data;
  (void)lengths;
  (void)count;
  (void)must_finish;
  (void)absorbed;
}

size_t keccak256_absorb_avx512(uint64_t state[25], const unsigned char *data, size_t len) {
  (void)state;
  (void)data;
  return len;
}

int keccak256_avx512_usable(void) { return 0; }
#endif
