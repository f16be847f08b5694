/* bitgpt_avx512.h - the rows of 128-weight blocks (BG_W_TERNARY_P128) and int8 rows with AVX-512 VNNI,
 * for host builds whose compiler targets it (-march=x86-64-v4 -mavx512vnni, or
 * -march=native on Ice Lake, Zen 4 and later; --target x86-64-avx512vnni). Part of
 * bitgpt_ops.h, which includes it with bitgpt_avx2.h when __AVX512VNNI__, __AVX512BW__ and
 * __AVX512VL__ are defined; not included on its own. */
#ifndef BITGPT_AVX512_H
#define BITGPT_AVX512_H

#include <immintrin.h>

/* 64 activations: x[0..31] and x[128..159], the columns of quarter k of two consecutive
 * blocks when x points at the first's quarter. */
static inline __m512i bg_avx512_x_of_two_blocks(const int8_t *x) {
  /* (the zero-masking forms of insert and extract: GCC 12's plain ones warn at -Wall) */
  return _mm512_maskz_inserti64x4(0xFF, _mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)x)), _mm256_loadu_si256((const __m256i *)(x + 128)), 1);
}

/* Weights 32k .. 32k + 31 of each block in `packed`, as w + 1 in unsigned bytes. */
static inline __m512i bg_avx512_p128_quarter(__m512i packed, int k) {
  return _mm512_and_si512(_mm512_srli_epi16(packed, 2 * k), _mm512_set1_epi8(3));
}

/* The lane sums of a - b (512 bits) and c - d (256 bits), in 256 bits. */
static inline __m256i bg_avx512_fold(__m512i a, __m512i b, __m256i c, __m256i d) {
  const __m512i ab = _mm512_sub_epi32(a, b);
  return _mm256_add_epi32(_mm256_add_epi32(_mm512_maskz_extracti64x4_epi64(0xF, ab, 0), _mm512_maskz_extracti64x4_epi64(0xF, ab, 1)), _mm256_sub_epi32(c, d));
}

/* Four rows r0..r3 in one pass, into dot[0..3]: bg_avx2_p128_rows4's sums, two blocks a
 * step. VPDPBUSD multiplies the fields w + 1 (unsigned bytes) by the activation codes,
 * adds each four products and accumulates in int32 lanes: one instruction per 64 weights
 * and row after the shift and the mask, and no int16 stage (so no span: a row's sum of
 * (w + 1) x is at most 2 * 127 * cols). The activations' sum, VPDPBUSD of ones, is shared
 * by the four rows. An odd last block goes through the 256-bit form. */
static inline void bg_avx512_p128_rows4(const uint8_t *r0, const uint8_t *r1, const uint8_t *r2, const uint8_t *r3, const int8_t *x,
                                        int32_t cols, int32_t *dot) {
  const __m512i ones = _mm512_set1_epi8(1);
  __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0, sx = a0;
  __m256i b0 = _mm256_setzero_si256(), b1 = b0, b2 = b0, b3 = b0, bx = b0; /* the odd last block's */
  int32_t j;
  for (j = 0; j + 256 <= cols; j += 256) {
    const __m512i p0 = _mm512_loadu_si512(r0 + (j >> 2)), p1 = _mm512_loadu_si512(r1 + (j >> 2));
    const __m512i p2 = _mm512_loadu_si512(r2 + (j >> 2)), p3 = _mm512_loadu_si512(r3 + (j >> 2));
    int k;
#if defined(__GNUC__)
#pragma GCC unroll 4
#endif
    for (k = 0; k < 4; ++k) {
      const __m512i xk = bg_avx512_x_of_two_blocks(x + j + 32 * k);
      sx = _mm512_dpbusd_epi32(sx, ones, xk);
      a0 = _mm512_dpbusd_epi32(a0, bg_avx512_p128_quarter(p0, k), xk), a1 = _mm512_dpbusd_epi32(a1, bg_avx512_p128_quarter(p1, k), xk);
      a2 = _mm512_dpbusd_epi32(a2, bg_avx512_p128_quarter(p2, k), xk), a3 = _mm512_dpbusd_epi32(a3, bg_avx512_p128_quarter(p3, k), xk);
    }
  }
  if (j < cols) { /* one block left */
    const __m256i ones8 = _mm256_set1_epi8(1);
    const __m256i p0 = _mm256_loadu_si256((const __m256i *)(r0 + (j >> 2))), p1 = _mm256_loadu_si256((const __m256i *)(r1 + (j >> 2)));
    const __m256i p2 = _mm256_loadu_si256((const __m256i *)(r2 + (j >> 2))), p3 = _mm256_loadu_si256((const __m256i *)(r3 + (j >> 2)));
    int k;
    for (k = 0; k < 4; ++k) {
      const __m256i xk = _mm256_loadu_si256((const __m256i *)(x + j + 32 * k));
      bx = _mm256_dpbusd_epi32(bx, ones8, xk);
      b0 = _mm256_dpbusd_epi32(b0, bg_avx2_p128_quarter(p0, k), xk);
      b1 = _mm256_dpbusd_epi32(b1, bg_avx2_p128_quarter(p1, k), xk);
      b2 = _mm256_dpbusd_epi32(b2, bg_avx2_p128_quarter(p2, k), xk);
      b3 = _mm256_dpbusd_epi32(b3, bg_avx2_p128_quarter(p3, k), xk);
    }
  }
  bg_avx2_sum4(bg_avx512_fold(a0, sx, b0, bx), bg_avx512_fold(a1, sx, b1, bx), bg_avx512_fold(a2, sx, b2, bx), bg_avx512_fold(a3, sx, b3, bx), dot);
}

/* Four int8 rows (row_bytes apart) times x over n columns into dot[0..3], 64 a step:
 * VPDPBUSD takes unsigned bytes, so the activations go in as x + 128 (x XOR 0x80) and
 * each row's weights times 128 (VPDPBUSD of 128s) take the 128 back: sum (x + 128) w -
 * sum 128 w, exact in int32 (at most 255 * 128 * n). The last step's loads are masked:
 * a column past n reads w = 0, which adds nothing to either sum. */
static inline void bg_avx512_int8_rows4(const int8_t *r0, int32_t row_bytes, const int8_t *x, int32_t n, int32_t *dot) {
  const int8_t *r1 = r0 + row_bytes, *r2 = r1 + row_bytes, *r3 = r2 + row_bytes;
  const __m512i flip = _mm512_set1_epi8((char)0x80); /* also 128 as unsigned bytes */
  __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0, s0 = a0, s1 = a0, s2 = a0, s3 = a0;
  int32_t j;
  for (j = 0; j < n; j += 64) {
    const __mmask64 in = n - j >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << (n - j)) - 1);
    const __m512i v = _mm512_xor_si512(_mm512_maskz_loadu_epi8(in, x + j), flip);
    const __m512i w0 = _mm512_maskz_loadu_epi8(in, r0 + j), w1 = _mm512_maskz_loadu_epi8(in, r1 + j);
    const __m512i w2 = _mm512_maskz_loadu_epi8(in, r2 + j), w3 = _mm512_maskz_loadu_epi8(in, r3 + j);
    a0 = _mm512_dpbusd_epi32(a0, v, w0), s0 = _mm512_dpbusd_epi32(s0, flip, w0);
    a1 = _mm512_dpbusd_epi32(a1, v, w1), s1 = _mm512_dpbusd_epi32(s1, flip, w1);
    a2 = _mm512_dpbusd_epi32(a2, v, w2), s2 = _mm512_dpbusd_epi32(s2, flip, w2);
    a3 = _mm512_dpbusd_epi32(a3, v, w3), s3 = _mm512_dpbusd_epi32(s3, flip, w3);
  }
  {
    const __m256i none = _mm256_setzero_si256();
    bg_avx2_sum4(bg_avx512_fold(a0, s0, none, none), bg_avx512_fold(a1, s1, none, none),
                 bg_avx512_fold(a2, s2, none, none), bg_avx512_fold(a3, s3, none, none), dot);
  }
}

#endif /* BITGPT_AVX512_H */
