/* bitgpt_fused.h - fused kernels: the same integers as a chain of bitgpt_ops.h
 * operations, without materialising the intermediate buffers.
 *
 * Each kernel recomputes rather than stores: that is what lets a model run in a few
 * kilobytes of SRAM. They call the per-element helpers of bitgpt_ops.h, so the result is
 * bit-identical to the unfused chain (the tests check this on every model). One is not a
 * fusion but an operation of its own: NormQuantize of an RMSNorm (below), which the
 * lowering emits with no unfused chain to equal.
 */
#ifndef BITGPT_FUSED_H
#define BITGPT_FUSED_H

#include "bitgpt_ops.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- RMSNorm into int8 codes: its 1/RMS on the codes' scale, not on each element ----
 *
 * An RMSNorm (with no bias) that feeds int8 codes is one operation, NormQuantize, from the
 * lowering on (frontend/lower.cpp), and this is its definition. The 1/RMS multiplies every
 * element alike, and the codes' own scale (127 / the largest |value|) takes any common
 * factor out again; so the codes are those of x times the gain alone, brought up by a
 * power of two for their precision, and the 1/RMS goes on their scale:
 *   rms = isqrt(sum x_i^2 / n + eps) (Q16, the sum modulo 2^64), k = bg_mult_ratio(1.0, rms),
 *   e = the most with B 2^e < 2^30 (0 where B >= 2^30), B = bg_sqrt_ceil_pow2(n) (rms + 1) >= max |x_i|
 *       (where the sum is exact: max^2 <= sum < n (rms + 1)^2),
 *   p_i = round((x_i 2^e) G_i / 2^31), G_i = g_i 2^b (b: bg_rms_gain_shift, |G_i| <= 2^30),
 *   codes = bg_quantize_codes(p, 127 / max|p|),
 *   amax = sat32(round(max|p| k 2^(15 - b - e))),
 * which is max|y| for y_i = x_i k g_i / 2^16, the normalised vector, up to rounding.
 * Without a gain p_i = x_i 2^e (b = 15: a gain of 1). Shifts of x are modulo 2^32, so a
 * sum of squares that wrapped (|x| ~ 2^31) gives defined integers, as it gives a
 * meaningless rms in every norm. Per element: a square in one pass, one rounding high
 * multiply in the next, where normalising each element first took two roundings (and a
 * range proof) in a pass of its own. */

/* The smallest power of two whose square is at least n (n >= 1): 2^ceil(ceil(log2 n) / 2). */
static inline int64_t bg_sqrt_ceil_pow2(int32_t n) {
  const int32_t log2_up = n > 1 ? 32 - bg_clz32((uint32_t)(n - 1)) : 0; /* ceil(log2 n) */
  return (int64_t)1 << ((log2_up + 1) >> 1);
}

/* b of G_i = g_i 2^b: the most that keeps every |G_i| below 2^30 (gain_max = max |g_i|);
 * negative for gains of 2^30 and more (G_i = g_i >> -b, floored); 15 without a gain. */
static inline int32_t bg_rms_gain_shift(const bg_norm_params *p) {
  if (!p->gain) return 15;
  if (p->gain_max <= 0) return 0;
  return 29 - (31 - bg_clz32((uint32_t)p->gain_max));
}

/* e for an RMS of rms (Q16) over n elements (see above). */
static inline int32_t bg_rms_codes_shift(uint32_t rms, int32_t n) {
  const uint64_t bound = (uint64_t)bg_sqrt_ceil_pow2(n) * ((uint64_t)rms + 1);
  const int32_t bits = 64 - bg_clz64(bound); /* bound < 2^bits */
  return bits < 30 ? 30 - bits : 0;
}

/* p = round(xe G / 2^31) for xe = x 2^e (modulo 2^32) and G = g 2^b (g >> -b for b < 0),
 * |G| <= 2^30 (2^30 only as -2^30, from g = INT32_MIN, so 2G fits): one SMMULR of xe and 2G where the core has it (round(xe 2G / 2^32), ties
 * up: the same integer). */
static inline int32_t bg_gain_q31(int32_t x, int32_t e, int32_t g, int32_t b) {
  const int32_t xe = (int32_t)((uint32_t)x << e), G = b >= 0 ? (int32_t)((uint32_t)g << b) : g >> -b;
#if defined(BG_HAS_SMMULR)
  int32_t r;
  __asm__("smmulr %0, %1, %2" : "=r"(r) : "r"(xe), "r"((int32_t)((uint32_t)G << 1)));
  return r;
#else
  return (int32_t)bg_shr_round(bg_mul32x32(xe, G), 31);
#endif
}

/* p_i: bg_gain_q31 of x_i with a gain, x_i 2^e (modulo 2^32) without one. */
static inline int32_t bg_rms_code_value(int32_t x, int32_t e, const int32_t *g, int32_t i, int32_t b) {
  return g ? bg_gain_q31(x, e, g[i], b) : (int32_t)((uint32_t)x << e);
}

/* p_i into p (which may be x itself, or nowhere when p is NULL); returns max |p_i|
 * (capped at INT32_MAX: an ungained 2^31). Where there is a gain, a buffer and b >= 0:
 * with AVX2 eight lanes, with Helium four, at a time; on Thumb-2 with SMMULR two
 * elements a block of assembly (paired loads and store: 21 instructions for two, where
 * GCC's loop took 14 for one). */
static inline int32_t bg_rms_codes_pass(const int32_t *x, const bg_norm_params *np, int32_t e, int32_t b, int32_t *p) {
  const int32_t n = np->n, *const g = np->gain;
  uint32_t m = 0;
  int32_t i = 0;
#if defined(BITGPT_USE_AVX2)
  if (g && p && b >= 0) {
    i = n & ~7;
    m = (uint32_t)bg_avx2_rms_codes_pass(x, g, i, e, b, p);
  }
#elif defined(BITGPT_USE_MVE)
  if (g && p && b >= 0) {
    i = n & ~3;
    m = (uint32_t)bg_mve_rms_codes_pass(x, g, i, e, b, p);
  }
#endif
#if defined(BG_HAS_SMMULR) && defined(__thumb2__)
  if (g && p && b >= 0 && n - i >= 2) {
    const int32_t *xp = x + i, *gp = g + i;
    int32_t *pp = p + i, *const end = p + i + ((n - i) & ~1);
    const int32_t b1 = b + 1;
    uint32_t t0, t1, u0, u1;
    __asm__ volatile("1:\n\tldrd %[t0], %[t1], [%[xp]], #8\n\tldrd %[u0], %[u1], [%[gp]], #8\n\t"
                     "lsl %[t0], %[t0], %[e]\n\tlsl %[t1], %[t1], %[e]\n\tlsl %[u0], %[u0], %[b1]\n\tlsl %[u1], %[u1], %[b1]\n\t"
                     "smmulr %[t0], %[t0], %[u0]\n\tsmmulr %[t1], %[t1], %[u1]\n\tstrd %[t0], %[t1], [%[pp]], #8\n\t"
                     "eor %[u0], %[t0], %[t0], asr #31\n\tsub %[u0], %[u0], %[t0], asr #31\n\tcmp %[u0], %[m]\n\tit hi\n\tmovhi %[m], %[u0]\n\t"
                     "eor %[u1], %[t1], %[t1], asr #31\n\tsub %[u1], %[u1], %[t1], asr #31\n\tcmp %[u1], %[m]\n\tit hi\n\tmovhi %[m], %[u1]\n\t"
                     "cmp %[pp], %[end]\n\tbne 1b"
                     : [xp] "+r"(xp), [gp] "+r"(gp), [pp] "+r"(pp), [m] "+r"(m), [t0] "=&r"(t0), [t1] "=&r"(t1), [u0] "=&r"(u0), [u1] "=&r"(u1)
                     : [end] "r"(end), [e] "r"(e), [b1] "r"(b1)
                     : "cc", "memory");
    i += (n - i) & ~1;
  }
#endif
  if (g && p && b >= 0) /* the usual case, with no per-element test (the cores without SMMULR) */
    for (; i < n; ++i) {
      const int32_t v = bg_gain_q31(x[i], e, g[i], b);
      const uint32_t a = bg_abs_u32(v);
      p[i] = v;
      if (a > m) m = a;
    }
  for (; i < n; ++i) {
    const int32_t v = bg_rms_code_value(x[i], e, g, i, b);
    const uint32_t a = bg_abs_u32(v);
    if (p) p[i] = v;
    if (a > m) m = a;
  }
  return bg_abs_cap(m);
}

/* The 1/RMS of x and the shifts the codes pass takes. */
typedef struct bg_rms_codes_form {
  bg_mult k;     /* 1 / rms */
  int32_t e, b;  /* x's and the gain's shifts */
} bg_rms_codes_form;

static inline bg_rms_codes_form bg_rms_codes_begin(const int32_t *x, const bg_norm_params *p) {
  const bg_norm_stats s = bg_norm_statistics(x, p);
  bg_rms_codes_form f;
  f.k = s.inv_rms;
  f.e = bg_rms_codes_shift(s.rms, p->n);
  f.b = bg_rms_gain_shift(p);
  return f;
}

/* amax from max|p| m: the scale the codes stand for. */
static inline int32_t bg_rms_codes_amax(const bg_rms_codes_form *f, int32_t m) {
  return bg_sat32(bg_shr_round((int64_t)m * f->k.m, f->k.shift + f->b + f->e - 15));
}

/* Whether a norm takes that definition when it feeds int8 codes: RMSNorm with no bias. */
static inline int bg_rms_codes_norm(const bg_norm_params *p) { return p->kind == BG_NORM_RMS && !p->bias; }

/* NormQuantize of an RMSNorm, p_i kept in y (scratch, or x itself when x is not read again). */
static inline void bg_rms_norm_codes_via(const int32_t *x, const bg_norm_params *p, int32_t *y, int8_t *q, int32_t *amax) {
  const bg_rms_codes_form f = bg_rms_codes_begin(x, p);
  const int32_t m = bg_rms_codes_pass(x, p, f.e, f.b, y);
  bg_quantize_codes(y, p->n, bg_mult_ratio(127, m), m, q);
  *amax = bg_rms_codes_amax(&f, m);
}

/* The same with no buffer: each p_i computed twice. */
static inline void bg_rms_norm_codes(const int32_t *x, const bg_norm_params *p, int8_t *q, int32_t *amax) {
  const bg_rms_codes_form f = bg_rms_codes_begin(x, p);
  const int32_t m = bg_rms_codes_pass(x, p, f.e, f.b, 0);
  const bg_mult inv = bg_mult_ratio(127, m);
  int32_t i;
  for (i = 0; i < p->n; ++i) q[i] = bg_quantize_one(bg_rms_code_value(x[i], f.e, p->gain, i, f.b), inv, 127);
  *amax = bg_rms_codes_amax(&f, m);
}

/* norm -> quantize: int8 codes of the normalised x without storing the normalised x.
 * Replaces bg_op_norm + bg_op_quantize; normalised elements are computed twice. An
 * RMSNorm with no bias: bg_rms_norm_codes, its definition. */
static inline void bg_fused_norm_quantize(const int32_t *x, const bg_norm_params *p, int8_t *q, int32_t *amax) {
  bg_norm_stats s;
  int32_t i, m = 0;
  bg_mult inv;
  if (bg_rms_codes_norm(p)) {
    bg_rms_norm_codes(x, p, q, amax);
    return;
  }
  s = bg_norm_statistics(x, p);
  for (i = 0; i < p->n; ++i) { const int32_t a = bg_abs32(bg_norm_element(x, i, p, &s)); if (a > m) m = a; }
  inv = bg_mult_ratio(127, m);
  for (i = 0; i < p->n; ++i) q[i] = bg_quantize_one(bg_norm_element(x, i, p, &s), inv, 127);
  *amax = m;
}

/* The same with a buffer y for the normalised values, so each is computed once: y is
 * scratch, or x itself when x is not read again. Same helpers, same integers. */
static inline void bg_fused_norm_quantize_via(const int32_t *x, const bg_norm_params *p, int32_t *y, int8_t *q, int32_t *amax) {
  bg_norm_stats s;
  const int32_t n = p->n;
  int32_t i, m = 0;
  if (bg_rms_codes_norm(p)) {
    bg_rms_norm_codes_via(x, p, y, q, amax);
    return;
  }
  s = bg_norm_statistics(x, p);
  for (i = 0; i < n; ++i) {
    const int32_t v = bg_norm_element(x, i, p, &s), a = bg_abs32(v);
    y[i] = v;
    if (a > m) m = a;
  }
  bg_quantize_codes(y, n, bg_mult_ratio(127, m), m, q);
  *amax = m;
}

#if defined(BITGPT_USE_MVE)
/* bg_fused_ffn_up's rows of 2-bit or P128 ternary W1 and W3 with the gate's fast path (up and
 * gate its shared multipliers), four at a time while eight rows are left: their dot
 * products by the four-row kernel, then their gates at once (bg_mve_silu_gate4); returns
 * the first row not done. The dot products go to h's next eight rows, not yet written
 * (no input shares h's buffer). Out of line and with no array of its own: the FFN step's
 * frame stays as it was, within the Helium target's stack reserve. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static int32_t bg_mve_ffn_gated_rows(const bg_matrix *w1, const bg_matrix *w3, const int8_t *x, bg_mult up, bg_mult gate, int32_t *h) {
  const int32_t rb = w1->row_bytes;
  int32_t r = 0;
  if ((w1->dtype != BG_W_TERNARY2 && w1->dtype != BG_W_TERNARY_P128) || w3->dtype != w1->dtype || w1->cols != w3->cols || w3->row_bytes != rb) return 0;
  for (; r + 8 <= w1->rows; r += 4) {
    bg_vector_rows4(w1->data + (int64_t)r * rb, w3->data + (int64_t)r * rb, rb, w1->cols, w1->dtype, x, h + r);
    bg_vector_rows4(w1->data + (int64_t)(r + 2) * rb, w3->data + (int64_t)(r + 2) * rb, rb, w1->cols, w1->dtype, x, h + r + 4);
    bg_mve_silu_gate4(h + r, up, gate, h + r);
  }
  return r;
}
#endif

/* The FFN's first half, row by row: h = act(W1 x) * (W3 x) when gated, else act(W1 x).
 * Replaces two bg_op_matvec, bg_op_activation and bg_op_mul; no W1 x or W3 x buffer. */
static inline void bg_fused_ffn_up(const bg_matrix *w1, const bg_matrix *w3, int32_t act, const int8_t *x, int32_t amax, int32_t *h) {
  const bg_ffn_gate gate = bg_ffn_gate_begin(w1, w3 ? w3 : w1, act, amax);
  int32_t r;
  if (!w3) {
    bg_op_matvec(w1, x, amax, h, 0);
    for (r = 0; r < w1->rows; ++r) h[r] = bg_activation(act, h[r]);
    return;
  }
  r = 0;
#if defined(BITGPT_USE_AVX2)
  if (gate.fast) { /* the dot products of 32 rows, then their gates eight at once */
    const int p128 = w1->dtype == BG_W_TERNARY_P128 && w3->dtype == BG_W_TERNARY_P128 && w1->cols == w3->cols && w1->row_bytes == w3->row_bytes;
    const int32_t sum_x = p128 ? bg_codes_sum(x, w1->cols) : 0;
    for (; r + 32 <= w1->rows; r += 32) {
      int32_t d1[32], d3[32], d[4], k;
      if (p128)
        for (k = 0; k < 32; k += 8) { /* rows r + k .. r + k + 7 of w1 and of w3, four and four */
          const int64_t at1 = (int64_t)(r + k) * w1->row_bytes, at3 = (int64_t)(r + k) * w3->row_bytes, next = 4 * (int64_t)w1->row_bytes;
          const __m256i lo = bg_p128_rows4x2(w1->data + at1, w3->data + at3, w1->row_bytes, x, sum_x, w1->cols);
          const __m256i hi = bg_p128_rows4x2(w1->data + at1 + next, w3->data + at3 + next, w1->row_bytes, x, sum_x, w1->cols);
          _mm256_storeu_si256((__m256i *)(d1 + k), _mm256_permute2x128_si256(lo, hi, 0x20));
          _mm256_storeu_si256((__m256i *)(d3 + k), _mm256_permute2x128_si256(lo, hi, 0x31));
        }
      else
        for (k = 0; k < 32; k += 2) {
          bg_row_dot2x2(w1, w3, r + k, x, d);
          d1[k] = d[0], d1[k + 1] = d[1], d3[k] = d[2], d3[k + 1] = d[3];
        }
      for (k = 0; k < 32; k += 8) bg_avx2_silu_gate8(d1 + k, d3 + k, gate.up.shared, gate.gate.shared, h + r + k);
    }
  }
#elif defined(BITGPT_USE_MVE)
  if (gate.fast) r = bg_mve_ffn_gated_rows(w1, w3, x, gate.up.shared, gate.gate.shared, h);
#endif
  for (; r < w1->rows; r += 2) {
    int32_t d[4], k; /* rows r, r + 1 of w1, then of w3 */
    const int32_t n = r + 1 < w1->rows ? 2 : 1;
    if (n == 2) bg_row_dot2x2(w1, w3, r, x, d);
    else bg_row_dot2(w1, r, w3, r, x, &d[0], &d[2]);
    for (k = 0; k < n; ++k) h[r + k] = bg_ffn_gate_row(&gate, r + k, d[k], d[2 + k]);
  }
}

#if defined(BITGPT_USE_SMLAD)
/* scores[t - first] = bg_attn_score(..., t, ...) for the window's tokens first..position
 * of an 8-bit cache, two keys a pass (bg_smlad_dot_i8x2: the query's words loaded and
 * unpacked once for both); returns the largest. Out of line: inlined, its registers cost
 * the value sum that follows in bg_fused_attention an instruction an element. (Two
 * bg_attn_score calls a pass, where there is no two-key dot product, measured slower on
 * the cortex-m3 and rv32imac than one a pass.) */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static int32_t bg_smlad_attn_scores8(const bg_kv_layer *c, const bg_attn_shape *a, int32_t g, int32_t first, int32_t position, const int8_t *q8,
                                     bg_mult qk, int32_t *scores) {
  const int32_t n4 = a->head_dim & ~3, room = bg_attn_dot_headroom(a);
  int32_t t, m = INT32_MIN;
  for (t = first; t < position; t += 2) {
    const int32_t at0 = bg_kv_at(a, g, t), at1 = bg_kv_at(a, g, t + 1);
    const int8_t *k0 = (const int8_t *)c->k + (int64_t)at0 * a->head_dim, *k1 = (const int8_t *)c->k + (int64_t)at1 * a->head_dim;
    int32_t d0, d1, i, s0, s1;
    bg_smlad_dot_i8x2(q8, k0, k1, n4, &d0, &d1);
    for (i = n4; i < a->head_dim; ++i) d0 += q8[i] * k0[i], d1 += q8[i] * k1[i];
    scores[t - first] = s0 = bg_attn_scaled_score(c, at0, d0, qk, room);
    scores[t + 1 - first] = s1 = bg_attn_scaled_score(c, at1, d1, qk, room);
    if (s0 > m) m = s0;
    if (s1 > m) m = s1;
  }
  if (t == position) {
    const int32_t s = scores[t - first] = bg_attn_score(c, a, g, t, q8, qk);
    if (s > m) m = s;
  }
  return m;
}
#endif

/* Attention over the cached window, one head at a time, without the n_heads x window
 * score matrix: one pass over the keys scores them (into `scores`, window int32) and finds
 * the largest, a second turns each score into its weight and adds the value it weighs
 * (with AVX2 or Helium: the weights in place, then bg_attn_value_sum). Replaces bg_op_attn_scores +
 * bg_op_attn_softmax + bg_op_attn_weighted_sum. q8 is head_dim bytes and acc head_dim
 * int64 of scratch. */
static inline void bg_fused_attention(const bg_kv_layer *c, const bg_attn_shape *a, int32_t position, const int32_t *q, int8_t *q8, int64_t *acc,
                                      int32_t *scores, int32_t *out) {
  const int32_t first = bg_attn_first(a, position), group = a->n_heads / a->n_kv_heads;
  int32_t h, shift = 0;
#if !defined(BITGPT_USE_AVX2) && !defined(BITGPT_USE_MVE)
  int32_t i, t;
#endif
  for (h = 0; h < a->n_heads; ++h) {
    const int32_t g = h / group;
    const bg_mult qk = bg_attn_query(a, q + h * a->head_dim, q8);
    if (h % group == 0) shift = bg_attn_value_shift(c, a, g, first, position); /* one per KV group, its heads share it */
#if defined(BITGPT_USE_AVX2) || defined(BITGPT_USE_MVE)
    /* the vector value sum takes the weights all at once */
    const int32_t m = bg_attn_scores(c, a, g, first, position, q8, qk, scores);
    const int64_t sum = bg_attn_softmax_weights(scores, position - first + 1, m);
    bg_attn_value_sum(c, a, g, first, position, scores, shift, acc);
#else
    int32_t m;
    int64_t sum = 0;
#if defined(BITGPT_USE_SMLAD)
    if (a->kv_bits == 8) m = bg_smlad_attn_scores8(c, a, g, first, position, q8, qk, scores);
    else
#endif
    {
      m = scores[0] = bg_attn_score(c, a, g, first, q8, qk);
      for (t = first + 1; t <= position; ++t) {
        const int32_t s = scores[t - first] = bg_attn_score(c, a, g, t, q8, qk);
        if (s > m) m = s;
      }
    }
    /* the weights of four tokens at a time, then one pass over acc for the four
     * (bg_attn_accumulate4: a load and a store of each sum per four tokens, not per
     * token); on Armv6-M one token at a time (the four-token pass measured 1.3 % more on
     * the cortex-m0plus) */
#if defined(BG_ROWS8_STRIDE)
    if (bg_attn_rows8_fit(a, first, position)) { /* a full window: the weights in place, then eight slots a pass */
      sum = bg_attn_softmax_weights(scores, position - first + 1, m);
      bg_attn_value_rows8(c, a, g, first, scores, shift, acc);
      bg_attn_finish(a, acc, sum, shift, out + h * a->head_dim);
      continue;
    }
#endif
    for (i = 0; i < a->head_dim; ++i) acc[i] = 0;
#if defined(BG_FEW_REGISTERS)
    for (t = first; t <= position; ++t) { /* each weight used as soon as it is computed */
      const int32_t p = bg_exp_neg_q16(bg_below_max(scores[t - first], m));
      sum += p;
      bg_attn_accumulate(c, a, g, t, p, shift, acc);
    }
#else
    for (t = first; t <= position; t += 4) {
      int32_t p[4], k;
      const int32_t n = position + 1 - t < 4 ? position + 1 - t : 4;
      for (k = 0; k < n; ++k) sum += p[k] = bg_exp_neg_q16(bg_below_max(scores[t + k - first], m));
      bg_attn_accumulate4(c, a, g, t, p, n, shift, acc);
    }
#endif
#endif
    bg_attn_finish(a, acc, sum, shift, out + h * a->head_dim);
  }
}

/* bg_fused_classify_sample's rows from row r on when the choice is greedy: each block of
 * dot products scaled in place, then hashed and compared in row order. With one
 * multiplier that no dot product can saturate (rows->fast), one SMMULR a row where the
 * core has it; with one scale a row, each row's multiplier by bg_row_mult_by (amax's
 * top bit found once, in rows->norm) and applied by bg_mult_apply32_row (one SMMULR
 * where the core has it and the dot products' bound leaves room). The sampler s (greedy) goes on
 * over the rows to the first with the largest logit, *hash over the logits. Out of line, with no flag tested per
 * row: in the general loop the hash, the sampler's state and the flags did not fit the
 * registers (about 100 instructions a logit of per-row scales on the cortex-m4). */
#if !defined(BG_FEW_REGISTERS) /* Armv6-M: its frame beside the step's outgrew the stack reserve */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void bg_greedy_rows(const bg_matrix *w, int32_t r, const int8_t *x, const uint32_t *pairs, const bg_row_scaler *rows, uint64_t *hash,
                           bg_sampler *s) {
  uint64_t h = *hash;
  int32_t best = s->best, best_score = s->best_score, n, i; /* rows before r may have been offered */
  const int32_t headroom = bg_headroom(bg_row_dot_bound(w));
#if defined(BG_HAS_SMMULR)
  bg_mult_q32 k32 = {0, 0};
  const int q32 = rows->fast && bg_mult_q32_form(rows->shared, bg_row_dot_bound(w), &k32);
#endif
  const int32_t quads_end = bg_quad16_rows4_end(w, r, pairs);
  if (!rows->fast && w->per_row) /* the tied classifier: scaled, hashed and offered in one loop a block */
    for (; r < w->rows; r += n) {
      int32_t dot[BG_ROW_DOTS_MAX];
      n = bg_classifier_dots(w, r, quads_end, x, pairs, dot);
      for (i = 0; i < n; ++i) {
        const int32_t v = bg_mult_apply32_row(dot[i], bg_row_mult_by(w->scales[r + i], rows->norm), headroom);
        h = bg_fnv_i32(h, v);
        if (best < 0 || v > best_score) best = r + i, best_score = v; /* bg_sampler_offer, greedy */
      }
    }
  for (; r < w->rows; r += n) {
    int32_t dot[BG_ROW_DOTS_MAX];
    n = bg_classifier_dots(w, r, quads_end, x, pairs, dot);
#if defined(BG_HAS_SMMULR)
    if (q32)
      for (i = 0; i < n; ++i) dot[i] = bg_mult_apply_q32(dot[i], k32);
    else
#endif
    if (rows->fast)
      for (i = 0; i < n; ++i) dot[i] = bg_mult_apply32_unchecked(dot[i], rows->shared);
    else
      for (i = 0; i < n; ++i) dot[i] = bg_mult_apply32(dot[i], rows->shared);
    for (i = 0; i < n; ++i) {
      h = bg_fnv_i32(h, dot[i]);
      if (best < 0 || dot[i] > best_score) best = r + i, best_score = dot[i]; /* bg_sampler_offer, greedy */
    }
  }
  *hash = h;
  s->best = best;
  s->best_score = best_score;
}
#endif

/* Classifier and sampling in one pass: each logit is hashed and offered to the sampler
 * as soon as it is computed; no logits buffer. Replaces bg_op_matvec + bg_op_sample.
 * x_pairs: scratch of 2 bytes a column for x unpacked once (bg_row_input), or NULL. */
static inline int32_t bg_fused_classify_sample(const bg_matrix *w, const int8_t *x, uint32_t *x_pairs, int32_t amax, int32_t temperature_q16,
                                               uint64_t *rng, uint64_t *checksum) {
  const uint32_t *pairs = bg_row_input(w, x, x_pairs);
  bg_sampler s = bg_sampler_begin(temperature_q16, rng);
  const bg_row_scaler rows = bg_row_scaler_begin(w, amax);
  uint64_t hash = *checksum; /* in registers, not through the pointer, per logit */
  int32_t r = 0, k, n, quads_end;
#if defined(BITGPT_USE_AVX512_VNNI)
  if (w->dtype == BG_W_INT8 && w->per_row) /* eight rows' logits scaled at once */
    for (; r + 8 <= w->rows; r += 8) {
      int32_t dot[8], logit[8];
      __mmask8 exact;
      const __m256i dots = bg_avx512_int8_rows8((const int8_t *)(w->data + (int64_t)r * w->row_bytes), w->row_bytes, x, w->cols);
      _mm256_storeu_si256((__m256i *)logit, bg_avx512_scale_rows8(dots, w->scales + r, rows.norm, &exact));
      _mm256_storeu_si256((__m256i *)dot, dots);
      for (k = 0; k < 8; ++k) {
        if (!((exact >> k) & 1)) logit[k] = bg_row_scale(&rows, r + k, dot[k]); /* a shift outside [1, 62] */
        hash = bg_fnv_i32(hash, logit[k]);
        bg_sampler_offer(&s, r + k, logit[k]);
      }
    }
#endif
#if !defined(BG_FEW_REGISTERS)
  if (s.temperature == 0) { /* greedy */
    bg_greedy_rows(w, r, x, pairs, &rows, &hash, &s);
    *checksum = hash;
    return s.best;
  }
#endif
  for (quads_end = bg_quad16_rows4_end(w, r, pairs); r < w->rows; r += n) {
    int32_t dot[BG_ROW_DOTS_MAX];
    n = bg_classifier_dots(w, r, quads_end, x, pairs, dot);
    for (k = 0; k < n; ++k) { /* in row order: the checksum and the sampler see r, then r + 1 */
      const int32_t logit = bg_row_scale(&rows, r + k, dot[k]);
      hash = bg_fnv_i32(hash, logit);
      bg_sampler_offer(&s, r + k, logit);
    }
  }
  *checksum = hash;
  return s.best;
}

#ifdef __cplusplus
}
#endif

#endif /* BITGPT_FUSED_H */
