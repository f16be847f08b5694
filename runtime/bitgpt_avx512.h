/* bitgpt_avx512.h - AVX-512 VNNI forms of the host's hot steps, the same integers as the
 * plain C definitions: the rows of 128-weight blocks (BG_W_TERNARY_P128) and int8 rows,
 * eight a pass; attention's scores, value sum, softmax weights and output; the
 * classifier's per-row scaling. For host builds whose compiler targets it
 * (-march=x86-64-v4 -mavx512vnni, or -march=native on Ice Lake, Zen 4 and later; --target
 * x86-64-avx512vnni). Part of bitgpt_ops.h, which includes it with bitgpt_avx2.h when
 * __AVX512VNNI__, BW, VL, CD and DQ are defined; not included on its own. GCC 12's plain
 * 512-bit forms of many intrinsics warn at -Wall (an undefined source operand inside its
 * headers), so this file uses their zero-masking forms with every lane kept. */
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

/* acc plus, in each int32 lane, four products (w + 1) x of quarter k of two blocks:
 * VPDPBUSD multiplies the fields w + 1 (unsigned bytes) by the activation codes, adds
 * each four products and accumulates, one instruction per 64 weights after the shift and
 * the mask. No int16 stage, so no span: a row's sum of (w + 1) x is at most 2 * 127 * cols. */
static inline __m512i bg_avx512_p128_mac(__m512i acc, __m512i packed, int k, __m512i xk) {
  return _mm512_dpbusd_epi32(acc, bg_avx512_p128_quarter(packed, k), xk);
}

/* The odd last block of a pass (at column j) for four rows, through the 256-bit form:
 * each row's sum of (w + 1) x into b[0..3], the activations' into *bx. */
static inline void bg_avx512_p128_last_block(const uint8_t *r0, const uint8_t *r1, const uint8_t *r2, const uint8_t *r3, const int8_t *x, int32_t j,
                                             __m256i *b, __m256i *bx) {
  const __m256i p0 = _mm256_loadu_si256((const __m256i *)(r0 + (j >> 2))), p1 = _mm256_loadu_si256((const __m256i *)(r1 + (j >> 2)));
  const __m256i p2 = _mm256_loadu_si256((const __m256i *)(r2 + (j >> 2))), p3 = _mm256_loadu_si256((const __m256i *)(r3 + (j >> 2)));
  int k;
  for (k = 0; k < 4; ++k) {
    const __m256i xk = _mm256_loadu_si256((const __m256i *)(x + j + 32 * k));
    *bx = _mm256_dpbusd_epi32(*bx, _mm256_set1_epi8(1), xk);
    b[0] = _mm256_dpbusd_epi32(b[0], bg_avx2_p128_quarter(p0, k), xk), b[1] = _mm256_dpbusd_epi32(b[1], bg_avx2_p128_quarter(p1, k), xk);
    b[2] = _mm256_dpbusd_epi32(b[2], bg_avx2_p128_quarter(p2, k), xk), b[3] = _mm256_dpbusd_epi32(b[3], bg_avx2_p128_quarter(p3, k), xk);
  }
}

/* Four rows r0..r3 in one pass: bg_avx2_p128_rows4's sums, two blocks a step. The
 * activations' sum, VPDPBUSD of ones, is shared by the four rows. */
static inline __m128i bg_avx512_p128_rows4(const uint8_t *r0, const uint8_t *r1, const uint8_t *r2, const uint8_t *r3, const int8_t *x,
                                           int32_t cols) {
  const __m512i ones = _mm512_set1_epi8(1);
  __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0, sx = a0;
  __m256i b[4] = {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256()}, bx = b[0];
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
      a0 = bg_avx512_p128_mac(a0, p0, k, xk), a1 = bg_avx512_p128_mac(a1, p1, k, xk);
      a2 = bg_avx512_p128_mac(a2, p2, k, xk), a3 = bg_avx512_p128_mac(a3, p3, k, xk);
    }
  }
  if (j < cols) bg_avx512_p128_last_block(r0, r1, r2, r3, x, j, b, &bx);
  return bg_avx2_sums4(bg_avx512_fold(a0, sx, b[0], bx), bg_avx512_fold(a1, sx, b[1], bx), bg_avx512_fold(a2, sx, b[2], bx),
                       bg_avx512_fold(a3, sx, b[3], bx));
}

/* Eight rows in one pass: a, a + row_bytes, a + 2 row_bytes, a + 3 row_bytes, then the
 * same four from b: each row's sum (w + 1) x minus sum_x, the codes' sum, which the caller
 * forms once for every pass over x (VPDPBUSD's throughput is what bounds these kernels,
 * and the activations' sum inside a pass would cost one VPDPBUSD in nine). */
static inline __m256i bg_avx512_p128_rows8(const uint8_t *a, const uint8_t *b, int32_t row_bytes, const int8_t *x, int32_t sum_x, int32_t cols) {
  const __m512i none = _mm512_setzero_si512();
  __m512i a0 = none, a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
  __m256i la[4] = {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256()}, lb[4], lx = la[0];
  int32_t j, k;
  lb[0] = lb[1] = lb[2] = lb[3] = lx;
  for (j = 0; j + 256 <= cols; j += 256) {
    const uint8_t *pa = a + (j >> 2), *pb = b + (j >> 2);
    const __m512i p0 = _mm512_loadu_si512(pa), p1 = _mm512_loadu_si512(pa + row_bytes);
    const __m512i p2 = _mm512_loadu_si512(pa + 2 * row_bytes), p3 = _mm512_loadu_si512(pa + 3 * row_bytes);
    const __m512i p4 = _mm512_loadu_si512(pb), p5 = _mm512_loadu_si512(pb + row_bytes);
    const __m512i p6 = _mm512_loadu_si512(pb + 2 * row_bytes), p7 = _mm512_loadu_si512(pb + 3 * row_bytes);
#if defined(__GNUC__)
#pragma GCC unroll 4
#endif
    for (k = 0; k < 4; ++k) {
      const __m512i xk = bg_avx512_x_of_two_blocks(x + j + 32 * k);
      a0 = bg_avx512_p128_mac(a0, p0, k, xk), a1 = bg_avx512_p128_mac(a1, p1, k, xk);
      a2 = bg_avx512_p128_mac(a2, p2, k, xk), a3 = bg_avx512_p128_mac(a3, p3, k, xk);
      a4 = bg_avx512_p128_mac(a4, p4, k, xk), a5 = bg_avx512_p128_mac(a5, p5, k, xk);
      a6 = bg_avx512_p128_mac(a6, p6, k, xk), a7 = bg_avx512_p128_mac(a7, p7, k, xk);
    }
  }
  if (j < cols) {
    __m256i unused = lx; /* (the last block's activations' sum: in sum_x already) */
    bg_avx512_p128_last_block(a, a + row_bytes, a + 2 * row_bytes, a + 3 * row_bytes, x, j, la, &unused);
    bg_avx512_p128_last_block(b, b + row_bytes, b + 2 * row_bytes, b + 3 * row_bytes, x, j, lb, &unused);
  }
  return _mm256_sub_epi32(bg_avx2_rows4x2(bg_avx2_sums4(bg_avx512_fold(a0, none, la[0], lx), bg_avx512_fold(a1, none, la[1], lx),
                                                         bg_avx512_fold(a2, none, la[2], lx), bg_avx512_fold(a3, none, la[3], lx)),
                                           bg_avx2_sums4(bg_avx512_fold(a4, none, lb[0], lx), bg_avx512_fold(a5, none, lb[1], lx),
                                                         bg_avx512_fold(a6, none, lb[2], lx), bg_avx512_fold(a7, none, lb[3], lx))),
                          _mm256_set1_epi32(sum_x));
}

/* int8 rows: VPDPBUSD takes one operand as unsigned bytes, so each row's weights go in as
 * w + 128 (w XOR 0x80) against the signed codes x, and the activations' sum times 128
 * (VPDPBUSD of 128s and x), shared by the rows of a pass, takes the 128 back:
 * sum (w + 128) x - 128 sum x, exact in int32 (at most 255 * 127 * n). A step's loads are
 * masked to the columns left: a column past n reads w = 0 and x = 0, which adds nothing
 * to either sum. */
static inline __m512i bg_avx512_int8_mac(__m512i acc, const int8_t *row, __mmask64 in, __m512i xj) {
  return _mm512_dpbusd_epi32(acc, _mm512_xor_si512(_mm512_maskz_loadu_epi8(in, row), _mm512_set1_epi8((char)0x80)), xj);
}

/* The columns of the step at j that are below n. */
static inline __mmask64 bg_avx512_columns_in(int32_t j, int32_t n) {
  return n - j >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << (n - j)) - 1);
}

/* Four int8 rows (row_bytes apart) times x over n columns into dot[0..3], 64 a step. */
static inline void bg_avx512_int8_rows4(const int8_t *r0, int32_t row_bytes, const int8_t *x, int32_t n, int32_t *dot) {
  const int8_t *r1 = r0 + row_bytes, *r2 = r1 + row_bytes, *r3 = r2 + row_bytes;
  const __m512i flip = _mm512_set1_epi8((char)0x80); /* 128 as unsigned bytes */
  const __m256i none = _mm256_setzero_si256();
  __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0, sx = a0;
  int32_t j;
  for (j = 0; j < n; j += 64) {
    const __mmask64 in = bg_avx512_columns_in(j, n);
    const __m512i xj = _mm512_maskz_loadu_epi8(in, x + j);
    sx = _mm512_dpbusd_epi32(sx, flip, xj);
    a0 = bg_avx512_int8_mac(a0, r0 + j, in, xj), a1 = bg_avx512_int8_mac(a1, r1 + j, in, xj);
    a2 = bg_avx512_int8_mac(a2, r2 + j, in, xj), a3 = bg_avx512_int8_mac(a3, r3 + j, in, xj);
  }
  bg_avx2_sum4(bg_avx512_fold(a0, sx, none, none), bg_avx512_fold(a1, sx, none, none), bg_avx512_fold(a2, sx, none, none),
               bg_avx512_fold(a3, sx, none, none), dot);
}

/* Eight int8 rows (row_bytes apart): the four-row pass's sums, the activations' loads and
 * sum shared by eight rows. */
static inline __m256i bg_avx512_int8_rows8(const int8_t *r0, int32_t row_bytes, const int8_t *x, int32_t n) {
  const int8_t *r4 = r0 + 4 * row_bytes;
  const __m512i flip = _mm512_set1_epi8((char)0x80);
  const __m256i none = _mm256_setzero_si256();
  __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, sx = a0;
  int32_t j;
  for (j = 0; j < n; j += 64) {
    const __mmask64 in = bg_avx512_columns_in(j, n);
    const __m512i xj = _mm512_maskz_loadu_epi8(in, x + j);
    sx = _mm512_dpbusd_epi32(sx, flip, xj);
    a0 = bg_avx512_int8_mac(a0, r0 + j, in, xj), a1 = bg_avx512_int8_mac(a1, r0 + row_bytes + j, in, xj);
    a2 = bg_avx512_int8_mac(a2, r0 + 2 * row_bytes + j, in, xj), a3 = bg_avx512_int8_mac(a3, r0 + 3 * row_bytes + j, in, xj);
    a4 = bg_avx512_int8_mac(a4, r4 + j, in, xj), a5 = bg_avx512_int8_mac(a5, r4 + row_bytes + j, in, xj);
    a6 = bg_avx512_int8_mac(a6, r4 + 2 * row_bytes + j, in, xj), a7 = bg_avx512_int8_mac(a7, r4 + 3 * row_bytes + j, in, xj);
  }
  return bg_avx2_rows4x2(bg_avx2_sums4(bg_avx512_fold(a0, sx, none, none), bg_avx512_fold(a1, sx, none, none), bg_avx512_fold(a2, sx, none, none),
                                       bg_avx512_fold(a3, sx, none, none)),
                         bg_avx2_sums4(bg_avx512_fold(a4, sx, none, none), bg_avx512_fold(a5, sx, none, none), bg_avx512_fold(a6, sx, none, none),
                                       bg_avx512_fold(a7, sx, none, none)));
}

/* ---- attention's scores, eight cached keys a step ---- */

/* VPUNPCK{L,H}{DQ,QDQ} through their zero-masking forms with every lane kept: GCC 12's
 * plain 512-bit forms warn at -Wall (an undefined source operand in the header). */
static inline __m512i bg_avx512_unpacklo32(__m512i a, __m512i b) { return _mm512_maskz_unpacklo_epi32(0xFFFF, a, b); }
static inline __m512i bg_avx512_unpackhi32(__m512i a, __m512i b) { return _mm512_maskz_unpackhi_epi32(0xFFFF, a, b); }
static inline __m512i bg_avx512_unpacklo64(__m512i a, __m512i b) { return _mm512_maskz_unpacklo_epi64(0xFF, a, b); }
static inline __m512i bg_avx512_unpackhi64(__m512i a, __m512i b) { return _mm512_maskz_unpackhi_epi64(0xFF, a, b); }

/* The lane sums of a0..a7, in order: pairs of rows interleaved and added, then quads,
 * then the four 128-bit quarters. */
static inline __m256i bg_avx512_sums8(__m512i a0, __m512i a1, __m512i a2, __m512i a3, __m512i a4, __m512i a5, __m512i a6, __m512i a7) {
  const __m512i s01 = _mm512_add_epi32(bg_avx512_unpacklo32(a0, a1), bg_avx512_unpackhi32(a0, a1));
  const __m512i s23 = _mm512_add_epi32(bg_avx512_unpacklo32(a2, a3), bg_avx512_unpackhi32(a2, a3));
  const __m512i s45 = _mm512_add_epi32(bg_avx512_unpacklo32(a4, a5), bg_avx512_unpackhi32(a4, a5));
  const __m512i s67 = _mm512_add_epi32(bg_avx512_unpacklo32(a6, a7), bg_avx512_unpackhi32(a6, a7));
  /* each quarter: rows 0..3's (then 4..7's) sums over that quarter's lanes */
  const __m512i q0 = _mm512_add_epi32(bg_avx512_unpacklo64(s01, s23), bg_avx512_unpackhi64(s01, s23));
  const __m512i q4 = _mm512_add_epi32(bg_avx512_unpacklo64(s45, s67), bg_avx512_unpackhi64(s45, s67));
  /* quarters (0 + 1, 2 + 3) of q0, then of q4; then the two halves of each pair */
  const __m512i z = _mm512_add_epi32(_mm512_maskz_shuffle_i32x4(0xFFFF, q0, q4, _MM_SHUFFLE(2, 0, 2, 0)), _mm512_maskz_shuffle_i32x4(0xFFFF, q0, q4, _MM_SHUFFLE(3, 1, 3, 1)));
  const __m512i w = _mm512_maskz_shuffle_i32x4(0xFFFF, z, z, _MM_SHUFFLE(3, 1, 2, 0));
  return _mm256_add_epi32(_mm512_maskz_extracti64x4_epi64(0xF, w, 0), _mm512_maskz_extracti64x4_epi64(0xF, w, 1));
}

/* acc plus q . row over the columns in `in`: VPDPBUSD multiplies unsigned by signed bytes,
 * so |q| goes in unsigned and the row with q's sign (negated where q < 0: codes are
 * within [-127, 127], so the negation is exact). */
static inline __m512i bg_avx512_signed_dot_step(__m512i acc, __m512i q_abs, __mmask64 q_neg, const int8_t *row, __mmask64 in) {
  const __m512i k = _mm512_maskz_loadu_epi8(in, row);
  return _mm512_dpbusd_epi32(acc, q_abs, _mm512_mask_sub_epi8(k, q_neg, _mm512_setzero_si512(), k));
}

/* q . row for eight rows of n int8 codes. */
static inline __m256i bg_avx512_dots8(const int8_t *q, const int8_t *const *rows, int32_t n) {
  __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
  int32_t j;
  for (j = 0; j < n; j += 64) {
    const __mmask64 in = bg_avx512_columns_in(j, n);
    const __m512i qj = _mm512_maskz_loadu_epi8(in, q + j);
    const __m512i q_abs = _mm512_abs_epi8(qj);
    const __mmask64 q_neg = _mm512_movepi8_mask(qj);
    a0 = bg_avx512_signed_dot_step(a0, q_abs, q_neg, rows[0] + j, in), a1 = bg_avx512_signed_dot_step(a1, q_abs, q_neg, rows[1] + j, in);
    a2 = bg_avx512_signed_dot_step(a2, q_abs, q_neg, rows[2] + j, in), a3 = bg_avx512_signed_dot_step(a3, q_abs, q_neg, rows[3] + j, in);
    a4 = bg_avx512_signed_dot_step(a4, q_abs, q_neg, rows[4] + j, in), a5 = bg_avx512_signed_dot_step(a5, q_abs, q_neg, rows[5] + j, in);
    a6 = bg_avx512_signed_dot_step(a6, q_abs, q_neg, rows[6] + j, in), a7 = bg_avx512_signed_dot_step(a7, q_abs, q_neg, rows[7] + j, in);
  }
  return bg_avx512_sums8(a0, a1, a2, a3, a4, a5, a6, a7);
}

/* sat32(round(p / 2^s)) in eight 64-bit lanes, as bg_round_shift_sat32 for a shift s in
 * [1, 62]: ((p >> (s - 1)) + 1) >> 1, then clamped to int32. *in_range gets the lanes
 * whose s is in [1, 62]; the others' results are not that. */
static inline __m512i bg_avx512_round_shift_sat32(__m512i p, __m512i s, __mmask8 *in_range) {
  const __m512i one = _mm512_set1_epi64(1);
  const __m512i w = _mm512_maskz_srav_epi64(0xFF, p, _mm512_sub_epi64(s, one));
  const __m512i r = _mm512_add_epi64(_mm512_maskz_srai_epi64(0xFF, w, 1), _mm512_and_si512(w, one));
  *in_range = (__mmask8)(_mm512_cmpge_epi64_mask(s, one) & _mm512_cmple_epi64_mask(s, _mm512_set1_epi64(62)));
  return _mm512_maskz_min_epi64(0xFF, _mm512_maskz_max_epi64(0xFF, r, _mm512_set1_epi64(INT32_MIN)), _mm512_set1_epi64(INT32_MAX));
}

/* bg_mult_apply32(dot, bg_mult_scale16(k, s16)) for eight dot products and their keys'
 * scale16s: each mantissa the high word of (k.m << 8) (mant << 20), each shift k.shift -
 * exponent - 4. *exact as bg_avx512_round_shift_sat32's in_range. */
static inline __m256i bg_avx512_scale_scores8(__m256i dots, __m128i s16, bg_mult k, __mmask8 *exact) {
  const __m512i s = _mm512_maskz_cvtepu16_epi64(0xFF, s16);
  const __m512i mant = _mm512_maskz_slli_epi64(0xFF, _mm512_and_si512(s, _mm512_set1_epi64(0xFFF)), 20);
  const __m512i m = _mm512_maskz_srli_epi64(0xFF, _mm512_maskz_mul_epu32(0xFF, _mm512_set1_epi64((uint32_t)k.m << 8), mant), 32);
  const __m512i shift = _mm512_sub_epi64(_mm512_set1_epi64(k.shift - 4), _mm512_maskz_srli_epi64(0xFF, s, 12));
  const __m512i p = _mm512_maskz_mul_epi32(0xFF, _mm512_maskz_cvtepi32_epi64(0xFF, dots), m);
  return _mm512_maskz_cvtepi64_epi32(0xFF, bg_avx512_round_shift_sat32(p, shift, exact));
}

/* bg_mult_apply32(dot, bg_row_mult_by(scales[k], norm)) for eight rows' dot products and
 * multipliers (bg_row_scale of a per-row matrix): each mantissa the high word of (m << 8)
 * * up, its shift plus 7 - lead. The eight bg_mult load as one vector, m in each lane's low half
 * and shift in its high. *exact as bg_avx512_round_shift_sat32's in_range (a shift in
 * [1, 62]); the caller recomputes the other lanes one at a time. */
static inline __m256i bg_avx512_scale_rows8(__m256i dots, const bg_mult *scales, bg_amax_norm norm, __mmask8 *exact) {
  const __m512i ms = _mm512_loadu_si512(scales);
  /* (m << 8) modulo 2^32 in each lane's low half: VPMULUDQ reads only that half */
  const __m512i m = _mm512_maskz_srli_epi64(0xFF, _mm512_maskz_mul_epu32(0xFF, _mm512_maskz_slli_epi64(0xFF, ms, 8), _mm512_set1_epi64(norm.up)), 32);
  const __m512i shift = _mm512_add_epi64(_mm512_maskz_srai_epi64(0xFF, ms, 32), _mm512_set1_epi64(7 - norm.lead));
  const __m512i p = _mm512_maskz_mul_epi32(0xFF, _mm512_maskz_cvtepi32_epi64(0xFF, dots), m);
  return _mm512_maskz_cvtepi64_epi32(0xFF, bg_avx512_round_shift_sat32(p, shift, exact));
}

/* ---- attention's value sum ---- */

/* acc[0..3] += lo's lanes << shift, acc[4..7] += hi's: eight elements' limb sums. */
static inline void bg_avx512_add_limb_sums(int64_t *acc, __m128i lo, __m128i hi, int shift) {
  __m256i *out_lo = (__m256i *)acc, *out_hi = out_lo + 1;
  _mm256_storeu_si256(out_lo, _mm256_add_epi64(_mm256_loadu_si256(out_lo), _mm256_slli_epi64(_mm256_cvtepi32_epi64(lo), shift)));
  _mm256_storeu_si256(out_hi, _mm256_add_epi64(_mm256_loadu_si256(out_hi), _mm256_slli_epi64(_mm256_cvtepi32_epi64(hi), shift)));
}

/* bg_avx2_limb_sums16 for 32 elements i0 .. i0 + 31 a pass: a pair's codes widened to
 * int16 and interleaved, times the pair's two limbs, added into int32 lanes by VPDPWSSD
 * (no saturation; the sums' bounds are bg_avx2_weighted_rows'). */
static inline void bg_avx512_limb_sums32(const int8_t *const *rows, const int32_t *limb_pairs, int32_t pairs, int32_t i0, int64_t *acc, const int K) {
  __m512i lo[3], hi[3]; /* each 128-bit quarter q: lo elements 8q .. 8q + 3, hi 8q + 4 .. 8q + 7 */
  int32_t j;
  int k;
  for (k = 0; k < K; ++k) lo[k] = hi[k] = _mm512_setzero_si512();
  for (j = 0; j < pairs; ++j) {
    const __m512i a = _mm512_maskz_cvtepi8_epi16(0xFFFFFFFF, _mm256_loadu_si256((const __m256i *)(rows[2 * j] + i0)));
    const __m512i b = _mm512_maskz_cvtepi8_epi16(0xFFFFFFFF, _mm256_loadu_si256((const __m256i *)(rows[2 * j + 1] + i0)));
    const __m512i ab_lo = _mm512_maskz_unpacklo_epi16(0xFFFFFFFF, a, b), ab_hi = _mm512_maskz_unpackhi_epi16(0xFFFFFFFF, a, b);
    for (k = 0; k < K; ++k) {
      const __m512i limbs = _mm512_set1_epi32(limb_pairs[k * (BG_AVX2_VALUE_CHUNK / 2) + j]);
      lo[k] = _mm512_dpwssd_epi32(lo[k], ab_lo, limbs);
      hi[k] = _mm512_dpwssd_epi32(hi[k], ab_hi, limbs);
    }
  }
  for (k = 0; k < K; ++k) { /* (the quarter's index must be a constant for clang) */
    bg_avx512_add_limb_sums(acc + i0, _mm512_maskz_extracti32x4_epi32(0xF, lo[k], 0), _mm512_maskz_extracti32x4_epi32(0xF, hi[k], 0), 15 * k);
    bg_avx512_add_limb_sums(acc + i0 + 8, _mm512_maskz_extracti32x4_epi32(0xF, lo[k], 1), _mm512_maskz_extracti32x4_epi32(0xF, hi[k], 1), 15 * k);
    bg_avx512_add_limb_sums(acc + i0 + 16, _mm512_maskz_extracti32x4_epi32(0xF, lo[k], 2), _mm512_maskz_extracti32x4_epi32(0xF, hi[k], 2), 15 * k);
    bg_avx512_add_limb_sums(acc + i0 + 24, _mm512_maskz_extracti32x4_epi32(0xF, lo[k], 3), _mm512_maskz_extracti32x4_epi32(0xF, hi[k], 3), 15 * k);
  }
}

/* bg_avx2_weighted_rows with 32 elements a pass, then AVX2's for the rest. */
static inline void bg_avx512_weighted_rows(const int8_t **rows, int64_t *w, int32_t count, int32_t n, int64_t *acc) {
  int32_t limb_pairs[3 * (BG_AVX2_VALUE_CHUNK / 2)];
  const int K = bg_avx2_limb_pairs(rows, w, count, limb_pairs);
  const int32_t pairs = (count + 1) / 2, n32 = n & ~31;
  int32_t i;
  for (i = 0; i < n32; i += 32) {
    if (K == 1) bg_avx512_limb_sums32((const int8_t *const *)rows, limb_pairs, pairs, i, acc, 1);
    else if (K == 2) bg_avx512_limb_sums32((const int8_t *const *)rows, limb_pairs, pairs, i, acc, 2);
    else bg_avx512_limb_sums32((const int8_t *const *)rows, limb_pairs, pairs, i, acc, 3);
  }
  bg_avx2_weighted_rows_from(rows, w, limb_pairs, K, count, n32, n, acc);
}

/* ---- attention's output ---- */

/* bg_attn_finish's step for eight accumulators acc[0..7] into out[0..7] (the weight sum
 * positive): each brought to 39 significant bits with the 2^shift (leading bit by
 * VPLZCNTQ), times inv.m (VPMULLQ: under 2^62), rounded by 2^(inv.shift - k) and
 * saturated. Returns the lanes done exactly, those whose rounding shift is within
 * [1, 62]; the caller redoes the others one at a time. */
static inline __mmask8 bg_avx512_attn_finish8(const int64_t *acc, int32_t shift, bg_mult inv, int32_t *out) {
  const __m512i one = _mm512_set1_epi64(1), zero = _mm512_setzero_si512(), sh = _mm512_set1_epi64(shift);
  const __m512i v = _mm512_loadu_si512(acc);
  const __m512i mag = _mm512_maskz_abs_epi64(0xFF, v); /* INT64_MIN stays 2^63 as unsigned */
  const __m512i lead = _mm512_add_epi64(_mm512_sub_epi64(_mm512_set1_epi64(63), _mm512_maskz_lzcnt_epi64(0xFF, _mm512_or_si512(mag, one))), sh);
  const __m512i k = _mm512_maskz_max_epi64(0xFF, _mm512_sub_epi64(lead, _mm512_set1_epi64(38)), zero);
  const __mmask8 down = _mm512_cmpge_epi64_mask(k, sh);
  const __m512i top = _mm512_mask_blend_epi64(down, _mm512_maskz_sllv_epi64(0xFF, v, _mm512_sub_epi64(sh, k)), _mm512_maskz_srav_epi64(0xFF, v, _mm512_sub_epi64(k, sh)));
  __mmask8 in_range;
  const __m512i r = bg_avx512_round_shift_sat32(_mm512_maskz_mullo_epi64(0xFF, top, _mm512_set1_epi64(inv.m)),
                                                _mm512_sub_epi64(_mm512_set1_epi64(inv.shift), k), &in_range);
  _mm256_storeu_si256((__m256i *)out, _mm512_maskz_cvtepi64_epi32(0xFF, r));
  return in_range;
}

/* ---- attention's softmax weights ---- */

/* bg_avx2_softmax_weights' steps eight a step (the same 64-bit lane arithmetic: the
 * result is bg_exp_neg_q16(bg_below_max(s[t], m)) exactly); the last n % 8 through the
 * AVX2 form. Returns the weights' sum. */
static inline int64_t bg_avx512_softmax_weights(int32_t *s, int32_t n, int32_t m) {
  const __m512i log2e = _mm512_set1_epi64(BG_LOG2E_Q30), one = _mm512_set1_epi64(1), half = _mm512_set1_epi64(1 << (BG_EXP2_STEP_BITS - 1));
  const __m512i low30 = _mm512_set1_epi64(0x3FFFFFFF), step = _mm512_set1_epi64((1 << BG_EXP2_STEP_BITS) - 1);
  const int *table = (const int *)(const void *)bg_exp2_table_q30;
  __m512i sum = _mm512_setzero_si512();
  int32_t t = 0;
  for (; t + 8 <= n; t += 8) {
    const __m256i gap32 = _mm256_sub_epi32(_mm256_set1_epi32(m), _mm256_loadu_si256((const __m256i *)(s + t)));
    const __m512i y = _mm512_maskz_mul_epu32(0xFF, _mm512_maskz_cvtepu32_epi64(0xFF, gap32), log2e); /* gap * log2(e), Q46 */
    const __m512i whole = _mm512_maskz_srli_epi64(0xFF, y, 46);
    const __m512i f = _mm512_and_si512(_mm512_maskz_srli_epi64(0xFF, y, 16), low30); /* the fraction, Q30 */
    const __m512i entry = _mm512_maskz_srli_epi64(0xFF, f, BG_EXP2_STEP_BITS);
    const __m512i a = _mm512_maskz_cvtepu32_epi64(0xFF, _mm512_mask_i64gather_epi32(_mm256_setzero_si256(), 0xFF, entry, table, 4));
    const __m512i b = _mm512_maskz_cvtepu32_epi64(0xFF, _mm512_mask_i64gather_epi32(_mm256_setzero_si256(), 0xFF, entry, table + 1, 4));
    const __m512i d = _mm512_maskz_mul_epu32(0xFF, _mm512_sub_epi64(a, b), _mm512_and_si512(f, step));
    const __m512i p = _mm512_sub_epi64(a, _mm512_maskz_srli_epi64(0xFF, _mm512_add_epi64(d, half), BG_EXP2_STEP_BITS));
    __m512i w = _mm512_maskz_srli_epi64(0xFF, _mm512_add_epi64(_mm512_maskz_srlv_epi64(0xFF, _mm512_maskz_slli_epi64(0xFF, p, 1), whole), one), 1); /* Q30 */
    w = _mm512_maskz_srli_epi64(0xFF, _mm512_add_epi64(_mm512_maskz_srli_epi64(0xFF, w, 13), one), 1);                                  /* Q16 */
    sum = _mm512_add_epi64(sum, w);
    _mm256_storeu_si256((__m256i *)(s + t), _mm512_maskz_cvtepi64_epi32(0xFF, w));
  }
  return (int64_t)bg_avx2_sum64(_mm256_add_epi64(_mm512_maskz_extracti64x4_epi64(0xF, sum, 0), _mm512_maskz_extracti64x4_epi64(0xF, sum, 1))) +
         bg_avx2_softmax_weights(s + t, n - t, m);
}

#endif /* BITGPT_AVX512_H */
