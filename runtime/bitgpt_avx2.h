/* bitgpt_avx2.h - row dot products with x86 AVX2, for host builds whose compiler targets
 * it (-mavx2, -march=x86-64-v3 or -march=native; --target x86-64-v3): 32 weights a step,
 * exactly the integers of the plain C loop (integer sums; no saturation: a pair of int8
 * products stays within int16). Part of bitgpt_ops.h, which includes it when __AVX2__ is defined; not included
 * on its own. */
#ifndef BITGPT_AVX2_H
#define BITGPT_AVX2_H

#include <immintrin.h>

/* The eight int32 lanes of v, added. */
static inline int32_t bg_avx2_sum(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
  return _mm_cvtsi128_si32(s);
}

/* Ternary row (2-bit fields, weight j at bits 2(j % 4) of byte j / 4: 01 = +1, 11 = -1)
 * times x, over the first n columns (a multiple of 32). Each of 8 bytes is spread over
 * four lanes; a lane's field is tested with its own mask (bit 0 set: not zero; bit 1 set:
 * negative) into the weight as an int8 (-1, 0, +1), which signs the activation. x holds
 * activation codes, which are within [-127, 127] (bg_quantize_one), so the sign is exact. */
/* (The unused field 10 would read as -1 here and -2 in the C loop: the packers never
 * write it, and the loaders refuse it.) */
static inline int32_t bg_avx2_dot_ternary2(const uint8_t *row, const int8_t *x, int32_t n) {
  const __m256i spread = _mm256_setr_epi8(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 7);
  const __m256i nonzero_bit = _mm256_set1_epi32(0x40100401), negative_bit = _mm256_set1_epi32((int32_t)0x80200802);
  const __m256i ones8 = _mm256_set1_epi8(1), ones16 = _mm256_set1_epi16(1);
  __m256i acc = _mm256_setzero_si256();
  int32_t j;
  for (j = 0; j < n; j += 32) {
    const __m256i packed = _mm256_broadcastq_epi64(_mm_loadl_epi64((const __m128i *)(row + (j >> 2))));
    const __m256i fields = _mm256_shuffle_epi8(packed, spread);
    const __m256i nonzero = _mm256_cmpeq_epi8(_mm256_and_si256(fields, nonzero_bit), nonzero_bit);
    const __m256i negative = _mm256_cmpeq_epi8(_mm256_and_si256(fields, negative_bit), negative_bit);
    const __m256i weight = _mm256_or_si256(_mm256_and_si256(nonzero, ones8), negative); /* 1, 0 or -1 (0xff) */
    const __m256i products = _mm256_sign_epi8(_mm256_loadu_si256((const __m256i *)(x + j)), weight);
    acc = _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(ones8, products), ones16));
  }
  return bg_avx2_sum(acc);
}

/* BG_W_TERNARY_P128 rows (cols a multiple of 128) times x. A block's 32 bytes give 32
 * consecutive weights' fields w + 1 with one shift and one mask: unsigned bytes that
 * multiply the activation codes directly (VPMADDUBSW), so a dot product is
 * sum (w + 1) x - sum x, and the second sum is shared by the rows of one pass: about four
 * instructions per 32 weights and row, each activation loaded once for all rows.
 * Exactness: a pair of products is at most 2 * 2 * 127 = 508 in magnitude (no saturation).
 * The int16 lanes add modulo 2^16, so a row's sum may wrap; what is widened is its
 * difference with the activations' sum, a lane's sum (w x) over the span, within
 * 32 blocks * 4 * 254 = 32,512: exact when the span is at most 32 blocks. */
#define BG_P128_SPAN (32 * 128)

/* Weights 32k .. 32k + 31 of a block, as w + 1 in unsigned bytes. */
static inline __m256i bg_avx2_p128_quarter(__m256i packed, int k) {
  return _mm256_and_si256(_mm256_srli_epi16(packed, 2 * k), _mm256_set1_epi8(3));
}

/* s plus sum (w + 1) x over 32 columns, in int16 lanes. */
static inline __m256i bg_avx2_p128_mac(__m256i s, __m256i packed, int k, __m256i xk) {
  return _mm256_add_epi16(s, _mm256_maddubs_epi16(bg_avx2_p128_quarter(packed, k), xk));
}

/* The int16 sums of one span, minus the activations', widened into acc. */
static inline __m256i bg_avx2_p128_widen(__m256i acc, __m256i sum, __m256i sum_x) {
  return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_sub_epi16(sum, sum_x), _mm256_set1_epi16(1)));
}

/* Four rows r0..r3 in one pass, into dot[0..3]. */
static inline void bg_avx2_p128_rows4(const uint8_t *r0, const uint8_t *r1, const uint8_t *r2, const uint8_t *r3, const int8_t *x,
                                      int32_t cols, int32_t *dot) {
  const __m256i ones8 = _mm256_set1_epi8(1);
  __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
  int32_t j0, j;
  for (j0 = 0; j0 < cols; j0 += BG_P128_SPAN) {
    const int32_t end = cols - j0 < BG_P128_SPAN ? cols : j0 + BG_P128_SPAN;
    __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0, sx = s0;
    for (j = j0; j < end; j += 128) {
      const __m256i p0 = _mm256_loadu_si256((const __m256i *)(r0 + (j >> 2))), p1 = _mm256_loadu_si256((const __m256i *)(r1 + (j >> 2)));
      const __m256i p2 = _mm256_loadu_si256((const __m256i *)(r2 + (j >> 2))), p3 = _mm256_loadu_si256((const __m256i *)(r3 + (j >> 2)));
      int k;
#if defined(__GNUC__)
#pragma GCC unroll 4
#endif
      for (k = 0; k < 4; ++k) {
        const __m256i xk = _mm256_loadu_si256((const __m256i *)(x + j + 32 * k));
        sx = _mm256_add_epi16(sx, _mm256_maddubs_epi16(ones8, xk));
        s0 = bg_avx2_p128_mac(s0, p0, k, xk), s1 = bg_avx2_p128_mac(s1, p1, k, xk);
        s2 = bg_avx2_p128_mac(s2, p2, k, xk), s3 = bg_avx2_p128_mac(s3, p3, k, xk);
      }
    }
    a0 = bg_avx2_p128_widen(a0, s0, sx), a1 = bg_avx2_p128_widen(a1, s1, sx);
    a2 = bg_avx2_p128_widen(a2, s2, sx), a3 = bg_avx2_p128_widen(a3, s3, sx);
  }
  dot[0] = bg_avx2_sum(a0), dot[1] = bg_avx2_sum(a1), dot[2] = bg_avx2_sum(a2), dot[3] = bg_avx2_sum(a3);
}

/* One row: the four-row pass on it four times over (rows left over after the passes of
 * four, rare: the matrices of usual shapes have rows in multiples of 4). */
static inline int32_t bg_avx2_dot_ternary_p128(const uint8_t *row, const int8_t *x, int32_t cols) {
  int32_t dot[4];
  bg_avx2_p128_rows4(row, row, row, row, x, cols, dot);
  return dot[0];
}

/* int8 row times x over the first n columns (a multiple of 32): widened to int16, then
 * multiplied and added in pairs. */
static inline int32_t bg_avx2_dot_int8(const int8_t *row, const int8_t *x, int32_t n) {
  __m256i acc = _mm256_setzero_si256();
  int32_t j;
  for (j = 0; j < n; j += 16) {
    const __m256i w = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(row + j)));
    const __m256i v = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(x + j)));
    acc = _mm256_add_epi32(acc, _mm256_madd_epi16(w, v));
  }
  return bg_avx2_sum(acc);
}

/* Four int8 codes as int64 lanes. */
static inline __m256i bg_avx2_codes4(const int8_t *v) {
  int32_t four;
  __builtin_memcpy(&four, v, 4);
  return _mm256_cvtepi8_epi64(_mm_cvtsi32_si128(four));
}

/* acc[0..3] += the four lanes of product. */
static inline void bg_avx2_add4(int64_t *acc, __m256i product) {
  _mm256_storeu_si256((__m256i *)acc, _mm256_add_epi64(_mm256_loadu_si256((const __m256i *)acc), product));
}

/* acc[i] += w * v[i] (64-bit) for the first n elements (a multiple of 4), four a step:
 * one signed 32 x 32 -> 64 multiply a lane when w fits 32 bits (the usual case, the
 * weights being divided by their common power of two, bg_attn_value_shift); else, when
 * |w| < 2^47, w split as (w >> 16) * 2^16 + (w & 0xffff), each part times v in one such
 * multiply, exactly. Returns how many elements it did (0 for a larger w: the caller's loop
 * does them all). */
static inline int32_t bg_avx2_accumulate_int8(int64_t w, const int8_t *v, int32_t n, int64_t *acc) {
  int32_t i;
  if (w >= ((int64_t)1 << 47) || w <= -((int64_t)1 << 47)) return 0;
  if (w == (int32_t)w) {
    const __m256i w32 = _mm256_set1_epi64x(w);
    for (i = 0; i < n; i += 4) bg_avx2_add4(acc + i, _mm256_mul_epi32(w32, bg_avx2_codes4(v + i)));
    return n;
  }
  const __m256i high = _mm256_set1_epi64x(w >> 16), low = _mm256_set1_epi64x(w & 0xffff);
  for (i = 0; i < n; i += 4) {
    const __m256i vi = bg_avx2_codes4(v + i);
    bg_avx2_add4(acc + i, _mm256_add_epi64(_mm256_slli_epi64(_mm256_mul_epi32(high, vi), 16), _mm256_mul_epi32(low, vi)));
  }
  return n;
}

#endif /* BITGPT_AVX2_H */
