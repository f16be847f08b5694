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

/* The four int64 lanes of v, added (wrapping as uint64). */
static inline uint64_t bg_avx2_sum64(__m256i v) {
  uint64_t lanes[4];
  _mm256_storeu_si256((__m256i *)lanes, v);
  return lanes[0] + lanes[1] + lanes[2] + lanes[3];
}

/* The lane sums of a0..a3, in that order: one tree of pairwise additions for all four. */
static inline __m128i bg_avx2_sums4(__m256i a0, __m256i a1, __m256i a2, __m256i a3) {
  const __m256i s = _mm256_hadd_epi32(_mm256_hadd_epi32(a0, a1), _mm256_hadd_epi32(a2, a3)); /* per 128-bit half: a0 a1 a2 a3 */
  return _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
}

/* The same, stored into out[0..3]. */
static inline void bg_avx2_sum4(__m256i a0, __m256i a1, __m256i a2, __m256i a3, int32_t *out) {
  _mm_storeu_si128((__m128i *)out, bg_avx2_sums4(a0, a1, a2, a3));
}

/* Two groups of four rows' sums as one vector (first group in the low half): what an
 * eight-row pass hands on in a register, as a store of two halves then a load of the whole
 * would stall on store forwarding. */
static inline __m256i bg_avx2_rows4x2(__m128i first, __m128i second) { return _mm256_set_m128i(second, first); }

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

/* Four rows r0..r3 in one pass: their sums, in order. */
static inline __m128i bg_avx2_p128_rows4(const uint8_t *r0, const uint8_t *r1, const uint8_t *r2, const uint8_t *r3, const int8_t *x,
                                         int32_t cols) {
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
  return bg_avx2_sums4(a0, a1, a2, a3);
}

/* The sum of the codes x[0..n-1] (n a multiple of 32): x + 128 as unsigned bytes, summed
 * eight at a time by VPSADBW, less 128 n. */
static inline int32_t bg_avx2_codes_sum(const int8_t *x, int32_t n) {
  __m256i s = _mm256_setzero_si256();
  int32_t j;
  for (j = 0; j < n; j += 32)
    s = _mm256_add_epi64(s, _mm256_sad_epu8(_mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(x + j)), _mm256_set1_epi8((char)0x80)),
                                            _mm256_setzero_si256()));
  return (int32_t)(bg_avx2_sum64(s) - (uint64_t)128 * (uint64_t)n);
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

/* ---- normalisation and quantisation ---- */

/* The 64-bit products x * m of eight int32 lanes: even lanes' in `even`, odd lanes' in
 * `odd` (each as four int64). */
static inline void bg_avx2_products(__m256i x, __m256i m, __m256i *even, __m256i *odd) {
  *even = _mm256_mul_epi32(x, m);
  *odd = _mm256_mul_epi32(_mm256_srli_epi64(x, 32), _mm256_srli_epi64(m, 32));
}

/* (t >> 1) + (t & 1) on eight lanes: the last step of every rounded shift here. */
static inline __m256i bg_avx2_round_last_bit(__m256i t) {
  return _mm256_add_epi32(_mm256_srai_epi32(t, 1), _mm256_and_si256(t, _mm256_set1_epi32(1)));
}

/* bg_mult_apply32_unchecked(x, {m, shift}) on eight int32 lanes, for 2 <= shift <= 32: the
 * bits shift - 1 .. shift + 30 of each 64-bit product, rounded by their last bit. */
static inline __m256i bg_avx2_apply32_unchecked(__m256i x, __m256i m, int shift) {
  const __m128i sh = _mm_cvtsi32_si128(shift - 1);
  __m256i even, odd;
  bg_avx2_products(x, m, &even, &odd);
  return bg_avx2_round_last_bit(_mm256_blend_epi32(_mm256_srl_epi64(even, sh), _mm256_slli_epi64(_mm256_srl_epi64(odd, sh), 32), 0xAA));
}

/* bg_mult_apply32_high(x, {m, shift}) on eight lanes, for 33 <= shift <= 62: each
 * product's high word shifted right by shift - 33, rounded by its last bit. */
static inline __m256i bg_avx2_apply32_high(__m256i x, __m256i m, int shift) {
  __m256i even, odd;
  bg_avx2_products(x, m, &even, &odd);
  return bg_avx2_round_last_bit(_mm256_sra_epi32(_mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA), _mm_cvtsi32_si128(shift - 33)));
}

/* bg_abs32 on eight lanes (INT32_MIN gives INT32_MAX), as the running maximum's operand. */
static inline __m256i bg_avx2_abs32(__m256i v) { return _mm256_min_epu32(_mm256_abs_epi32(v), _mm256_set1_epi32(INT32_MAX)); }

/* The largest of the eight (signed) lanes. */
static inline int32_t bg_avx2_max(__m256i v) {
  __m128i m = _mm_max_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  m = _mm_max_epi32(m, _mm_shuffle_epi32(m, 0x4e));
  m = _mm_max_epi32(m, _mm_shuffle_epi32(m, 0xb1));
  return _mm_cvtsi128_si32(m);
}

/* The largest bg_abs32(y[i]) for i < n (a multiple of 8), 0 for none. */
static inline int32_t bg_avx2_amax(const int32_t *y, int32_t n) {
  __m256i m = _mm256_setzero_si256();
  int32_t i;
  for (i = 0; i < n; i += 8) m = _mm256_max_epi32(m, bg_avx2_abs32(_mm256_loadu_si256((const __m256i *)(y + i))));
  return bg_avx2_max(m);
}

/* sum x[i]^2 over i < n (a multiple of 8) in uint64, as the scalar loop adds them (the
 * lanes wrap as it does). */
static inline uint64_t bg_avx2_sum_squares(const int32_t *x, int32_t n) {
  __m256i acc = _mm256_setzero_si256();
  int32_t i;
  for (i = 0; i < n; i += 8) {
    const __m256i v = _mm256_loadu_si256((const __m256i *)(x + i));
    __m256i even, odd;
    bg_avx2_products(v, v, &even, &odd);
    acc = _mm256_add_epi64(acc, _mm256_add_epi64(even, odd));
  }
  return bg_avx2_sum64(acc);
}

/* bg_rms_codes_pass over i < n (a multiple of 8) for gains shifted by b >= 0: p = round((x
 * << e) (g << b) / 2^31) from the 64-bit products (|g << b| < 2^30, so |p| < 2^30 and the
 * low word of the shifted sum is p), into p; returns max |p|. */
static inline int32_t bg_avx2_rms_codes_pass(const int32_t *x, const int32_t *g, int32_t n, int32_t e, int32_t b, int32_t *p) {
  const __m128i xs = _mm_cvtsi32_si128(e), gs = _mm_cvtsi32_si128(b);
  const __m256i half = _mm256_set1_epi64x((int64_t)1 << 30);
  __m256i m = _mm256_setzero_si256();
  int32_t i;
  for (i = 0; i < n; i += 8) {
    const __m256i v = _mm256_sll_epi32(_mm256_loadu_si256((const __m256i *)(x + i)), xs);
    const __m256i G = _mm256_sll_epi32(_mm256_loadu_si256((const __m256i *)(g + i)), gs);
    __m256i even, odd, q;
    bg_avx2_products(v, G, &even, &odd);
    even = _mm256_srli_epi64(_mm256_add_epi64(even, half), 31);
    odd = _mm256_slli_epi64(_mm256_srli_epi64(_mm256_add_epi64(odd, half), 31), 32);
    q = _mm256_blend_epi32(even, odd, 0xAA);
    _mm256_storeu_si256((__m256i *)(p + i), q);
    m = _mm256_max_epi32(m, bg_avx2_abs32(q));
  }
  return bg_avx2_max(m);
}

/* bg_quantize_codes' two unchecked loops over i < n (a multiple of 32): codes within
 * [-127, 127], so the saturating packs are exact; VPACK works within 128-bit halves,
 * which the final permutation puts back in order. */
static inline void bg_avx2_quantize_codes(const int32_t *y, int32_t n, bg_mult inv, int8_t *q) {
  const __m256i m = _mm256_set1_epi32(inv.m), order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  const int high = inv.shift >= 33;
  int32_t i;
  for (i = 0; i < n; i += 32) {
    __m256i c[4];
    int k;
    for (k = 0; k < 4; ++k) {
      const __m256i v = _mm256_loadu_si256((const __m256i *)(y + i + 8 * k));
      c[k] = high ? bg_avx2_apply32_high(v, m, inv.shift) : bg_avx2_apply32_unchecked(v, m, inv.shift);
    }
    _mm256_storeu_si256((__m256i *)(q + i),
                        _mm256_permutevar8x32_epi32(_mm256_packs_epi16(_mm256_packs_epi32(c[0], c[1]), _mm256_packs_epi32(c[2], c[3])), order));
  }
}

/* ---- a product's rows scaled ---- */

/* out[0..7] = bg_mult_apply32_unchecked(dot lane k, k) (accumulate 0), or out[k] saturated
 * plus it (accumulate 1: the residual add, bg_sat32 of the int64 sum: a lane whose sum
 * wrapped, both operands of one sign and the sum of the other, takes that sign's bound). */
static inline void bg_avx2_scale_rows8(__m256i dot, bg_mult k, int32_t *out, int32_t accumulate) {
  const __m256i z = bg_avx2_apply32_unchecked(dot, _mm256_set1_epi32(k.m), k.shift);
  if (accumulate) {
    const __m256i a = _mm256_loadu_si256((const __m256i *)out), sum = _mm256_add_epi32(a, z);
    const __m256i wrapped = _mm256_srai_epi32(_mm256_and_si256(_mm256_xor_si256(a, sum), _mm256_xor_si256(z, sum)), 31);
    const __m256i bound = _mm256_xor_si256(_mm256_srai_epi32(a, 31), _mm256_set1_epi32(INT32_MAX));
    _mm256_storeu_si256((__m256i *)out, _mm256_blendv_epi8(sum, bound, wrapped));
  } else {
    _mm256_storeu_si256((__m256i *)out, z);
  }
}

/* ---- the gated FFN's SiLU gate ---- */

/* bg_sigmoid_q16 on eight lanes: one gather reads both interpolation points (two
 * consecutive uint16 entries); |x| >= 16 (unsigned: INT32_MIN too) gives sigma(-|x|) = 0. */
static inline __m256i bg_avx2_sigmoid_q16(__m256i x) {
  const __m256i u = _mm256_abs_epi32(x); /* INT32_MIN stays 2^31 as unsigned */
  const __m256i in_table = _mm256_cmpeq_epi32(_mm256_min_epu32(u, _mm256_set1_epi32((16 << 16) - 1)), u);
  const __m256i index = _mm256_min_epu32(_mm256_srli_epi32(u, 10), _mm256_set1_epi32(1023));
  const __m256i pair = _mm256_i32gather_epi32((const int *)(const void *)bg_sigmoid_table, index, 2);
  const __m256i a = _mm256_and_si256(pair, _mm256_set1_epi32(0xFFFF)), b = _mm256_srli_epi32(pair, 16);
  const __m256i frac = _mm256_and_si256(u, _mm256_set1_epi32(1023));
  const __m256i step = _mm256_srai_epi32(_mm256_add_epi32(_mm256_mullo_epi32(_mm256_sub_epi32(b, a), frac), _mm256_set1_epi32(512)), 10);
  const __m256i neg = _mm256_and_si256(_mm256_add_epi32(a, step), in_table);
  return _mm256_blendv_epi8(neg, _mm256_sub_epi32(_mm256_set1_epi32(65536), neg), _mm256_cmpgt_epi32(x, _mm256_set1_epi32(-1)));
}

/* h[0..7] = bg_ffn_gate_row's fast path (SiLU; the gate's bounds prove no rounding
 * saturates) for eight rows' dot products d1 (W1) and d3 (W3), with the matrices' shared
 * multipliers up and gate: silu(a) b as a sigma(a) b, each product rounded as there. */
static inline void bg_avx2_silu_gate8(const int32_t *d1, const int32_t *d3, bg_mult up, bg_mult gate, int32_t *h) {
  const __m256i a = bg_avx2_apply32_unchecked(_mm256_loadu_si256((const __m256i *)d1), _mm256_set1_epi32(up.m), up.shift);
  const __m256i b = bg_avx2_apply32_unchecked(_mm256_loadu_si256((const __m256i *)d3), _mm256_set1_epi32(gate.m), gate.shift);
  const __m256i silu = bg_avx2_apply32_unchecked(a, bg_avx2_sigmoid_q16(a), 16);
  _mm256_storeu_si256((__m256i *)h, bg_avx2_apply32_unchecked(silu, b, 16));
}

/* Four int8 rows (row_bytes apart) times x over the first n columns (a multiple of 16)
 * into dot[0..3]: bg_avx2_dot_int8's steps, each 16 activations widened once for the
 * four rows, and one tree for the four sums. */
static inline void bg_avx2_int8_rows4(const int8_t *r0, int32_t row_bytes, const int8_t *x, int32_t n, int32_t *dot) {
  const int8_t *r1 = r0 + row_bytes, *r2 = r1 + row_bytes, *r3 = r2 + row_bytes;
  __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
  int32_t j;
  for (j = 0; j < n; j += 16) {
    const __m256i v = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(x + j)));
    a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(r0 + j))), v));
    a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(r1 + j))), v));
    a2 = _mm256_add_epi32(a2, _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(r2 + j))), v));
    a3 = _mm256_add_epi32(a3, _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(r3 + j))), v));
  }
  bg_avx2_sum4(a0, a1, a2, a3, dot);
}

/* ---- attention's softmax weights ---- */

/* s[t] = bg_exp_neg_q16(bg_below_max(s[t], m)) for t < n (every s[t] <= m), four a step in
 * 64-bit lanes; returns their sum. bg_exp_neg_q30's steps on gap = m - s as an unsigned
 * 32-bit number (a gap past 2^31 - 1, INT32_MIN there, gives 0 either way, as n >= 31),
 * with its two branches folded into one expression: round(p / 2^n) = ((2p >> n) + 1) >> 1
 * also for n = 0; for n >= 31 (0 there) it is at most 1 in Q30, which rounds to 0 in Q16
 * all the same. The table's two entries by gathers; the interpolation's product (under
 * 2^40) from the lanes' low halves (VPMULUDQ reads only those). */
static inline int64_t bg_avx2_softmax_weights(int32_t *s, int32_t n, int32_t m) {
  const __m256i log2e = _mm256_set1_epi64x(BG_LOG2E_Q30), one = _mm256_set1_epi64x(1), half = _mm256_set1_epi64x(1 << (BG_EXP2_STEP_BITS - 1));
  const __m256i low30 = _mm256_set1_epi64x(0x3FFFFFFF), step = _mm256_set1_epi64x((1 << BG_EXP2_STEP_BITS) - 1);
  const int *table = (const int *)(const void *)bg_exp2_table_q30;
  __m256i sum = _mm256_setzero_si256();
  int64_t total;
  int32_t t = 0;
  for (; t + 4 <= n; t += 4) {
    const __m128i gap32 = _mm_sub_epi32(_mm_set1_epi32(m), _mm_loadu_si128((const __m128i *)(s + t)));
    const __m256i y = _mm256_mul_epu32(_mm256_cvtepu32_epi64(gap32), log2e); /* gap * log2(e), Q46 */
    const __m256i whole = _mm256_srli_epi64(y, 46);
    const __m256i f = _mm256_and_si256(_mm256_srli_epi64(y, 16), low30); /* the fraction, Q30 */
    const __m256i entry = _mm256_srli_epi64(f, BG_EXP2_STEP_BITS);
    const __m256i a = _mm256_cvtepu32_epi64(_mm256_i64gather_epi32(table, entry, 4));
    const __m256i b = _mm256_cvtepu32_epi64(_mm256_i64gather_epi32(table + 1, entry, 4));
    const __m256i p = _mm256_sub_epi64(a, _mm256_srli_epi64(_mm256_add_epi64(_mm256_mul_epu32(_mm256_sub_epi64(a, b), _mm256_and_si256(f, step)), half), BG_EXP2_STEP_BITS));
    __m256i w = _mm256_srli_epi64(_mm256_add_epi64(_mm256_srlv_epi64(_mm256_slli_epi64(p, 1), whole), one), 1); /* Q30 */
    w = _mm256_srli_epi64(_mm256_add_epi64(_mm256_srli_epi64(w, 13), one), 1); /* Q16 */
    sum = _mm256_add_epi64(sum, w);
    _mm_storeu_si128((__m128i *)(s + t), _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(w, _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6))));
  }
  total = (int64_t)bg_avx2_sum64(sum);
  for (; t < n; ++t) total += s[t] = bg_exp_neg_q16(bg_below_max(s[t], m));
  return total;
}

/* ---- attention's value sum ---- */

/* Tokens a chunk of bg_avx2_weighted_rows at most: its int32 sums stay exact (below). */
#define BG_AVX2_VALUE_CHUNK 128

/* The K limb sums of elements i0 .. i0 + 15 over the row pairs, added into acc (limb k
 * shifted by 15k). A pair's codes of one element, widened to int16 and interleaved, times
 * the pair's two limbs (one int32 of two int16) is one VPMADDWD lane. */
static inline void bg_avx2_limb_sums16(const int8_t *const *rows, const int32_t *limb_pairs, int32_t pairs, int32_t i0, int64_t *acc, const int K) {
  __m256i lo[3], hi[3]; /* lo: elements 0-3 and 8-11; hi: 4-7 and 12-15 (VPUNPCK works within 128-bit halves) */
  int32_t j;
  int k;
  for (k = 0; k < K; ++k) lo[k] = hi[k] = _mm256_setzero_si256();
  for (j = 0; j < pairs; ++j) {
    const __m256i a = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(rows[2 * j] + i0)));
    const __m256i b = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(rows[2 * j + 1] + i0)));
    const __m256i ab_lo = _mm256_unpacklo_epi16(a, b), ab_hi = _mm256_unpackhi_epi16(a, b);
    for (k = 0; k < K; ++k) {
      const __m256i limbs = _mm256_set1_epi32(limb_pairs[k * (BG_AVX2_VALUE_CHUNK / 2) + j]);
      lo[k] = _mm256_add_epi32(lo[k], _mm256_madd_epi16(ab_lo, limbs));
      hi[k] = _mm256_add_epi32(hi[k], _mm256_madd_epi16(ab_hi, limbs));
    }
  }
  for (k = 0; k < K; ++k) {
    const __m256i first8 = _mm256_permute2x128_si256(lo[k], hi[k], 0x20), last8 = _mm256_permute2x128_si256(lo[k], hi[k], 0x31);
    const __m256i part[4] = {_mm256_cvtepi32_epi64(_mm256_castsi256_si128(first8)), _mm256_cvtepi32_epi64(_mm256_extracti128_si256(first8, 1)),
                             _mm256_cvtepi32_epi64(_mm256_castsi256_si128(last8)), _mm256_cvtepi32_epi64(_mm256_extracti128_si256(last8, 1))};
    int q;
    for (q = 0; q < 4; ++q) {
      __m256i *out = (__m256i *)(acc + i0 + 4 * q);
      _mm256_storeu_si256(out, _mm256_add_epi64(_mm256_loadu_si256(out), _mm256_slli_epi64(part[q], 15 * k)));
    }
  }
}

/* The weights' 15-bit limbs, two rows' a pair: limb_pairs[k * BG_AVX2_VALUE_CHUNK / 2 + j]
 * holds limb k of rows 2j and 2j + 1 (an odd count is first padded with a zero weight);
 * returns how many limbs the largest weight needs (K). */
static inline int bg_avx2_limb_pairs(const int8_t **rows, int64_t *w, int32_t count, int32_t *limb_pairs) {
  const int32_t pairs = (count + 1) / 2;
  int64_t largest = 0;
  int32_t j, t;
  int k, K;
  if (count & 1) rows[count] = rows[count - 1], w[count] = 0;
  for (t = 0; t < count; ++t) largest |= w[t];
  K = largest < ((int64_t)1 << 15) ? 1 : largest < ((int64_t)1 << 30) ? 2 : 3;
  for (k = 0; k < K; ++k)
    for (j = 0; j < pairs; ++j)
      limb_pairs[k * (BG_AVX2_VALUE_CHUNK / 2) + j] =
          (int32_t)(((uint32_t)(w[2 * j] >> (15 * k)) & 0x7FFFu) | ((uint32_t)(w[2 * j + 1] >> (15 * k)) & 0x7FFFu) << 16);
  return K;
}

/* Elements from .. n - 1 of the value sum: sixteen a step, then one at a time. */
static inline void bg_avx2_weighted_rows_from(const int8_t **rows, const int64_t *w, const int32_t *limb_pairs, int K, int32_t count, int32_t from,
                                              int32_t n, int64_t *acc) {
  const int32_t pairs = (count + 1) / 2, n16 = n & ~15;
  int32_t i, t;
  /* K a constant in each call, so that the limb loops unroll and the sums stay in registers */
  for (i = from; i < n16; i += 16) {
    if (K == 1) bg_avx2_limb_sums16((const int8_t *const *)rows, limb_pairs, pairs, i, acc, 1);
    else if (K == 2) bg_avx2_limb_sums16((const int8_t *const *)rows, limb_pairs, pairs, i, acc, 2);
    else bg_avx2_limb_sums16((const int8_t *const *)rows, limb_pairs, pairs, i, acc, 3);
  }
  for (; i < n; ++i)
    for (t = 0; t < count; ++t) acc[i] += w[t] * rows[t][i];
}

/* acc[i] += sum_t w[t] rows[t][i] for i < n, over count <= BG_AVX2_VALUE_CHUNK rows of
 * int8 codes within [-127, 127], with weights 0 <= w < 2^45; rows and w have room for one
 * entry past count (an odd count is padded with a zero weight). Exact: each weight is split
 * into 15-bit limbs, w = l0 + l1 2^15 + l2 2^30 (as many as the largest weight needs), and
 * each limb's sum is taken in int32 lanes two rows a step: |l v + l' v'| < 2^23, and 64
 * pairs add to less than 2^29. (The form it replaced did a 32 x 32 -> 64 multiply and a
 * load and store of the int64 sums per four elements of one row.) */
static inline void bg_avx2_weighted_rows(const int8_t **rows, int64_t *w, int32_t count, int32_t n, int64_t *acc) {
  int32_t limb_pairs[3 * (BG_AVX2_VALUE_CHUNK / 2)];
  const int K = bg_avx2_limb_pairs(rows, w, count, limb_pairs);
  bg_avx2_weighted_rows_from(rows, w, limb_pairs, K, count, 0, n, acc);
}

#endif /* BITGPT_AVX2_H */
