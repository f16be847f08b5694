/* bitgpt_ops.h - the reference semantics of every IR operation, on raw buffers.
 *
 * One function per unfused operation of the bitgptc IR. The reference interpreter calls
 * these; the emitted code calls them when a fusion pass is switched off, and the fused
 * kernels in bitgpt_fused.h are built from the same per-element helpers below, so a
 * fused kernel computes exactly the integers of the chain it replaces.
 */
#ifndef BITGPT_OPS_H
#define BITGPT_OPS_H

#include "bitgpt_numerics.h"
/* The emitted code asks for the DSP kernels on targets that have them; the same source
 * built for the host (or any compiler without the DSP extension) uses plain C, with the
 * same results. */
#if defined(BITGPT_KERNEL_MVE) && defined(__ARM_FEATURE_MVE) && !defined(BITGPT_KERNEL_NAIVE)
#define BITGPT_USE_MVE 1
#include "bitgpt_mve.h"
#elif defined(BITGPT_KERNEL_SMLAD) && defined(__ARM_FEATURE_DSP) && !defined(BITGPT_KERNEL_NAIVE)
#define BITGPT_USE_SMLAD 1
#include "bitgpt_smlad.h"
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- constant data ---- */

/* BG_W_TERNARY_LUT4 rows are read only by the lookup kernels of bitgpt_lut.h.
 * BG_W_TERNARY_B3 packs five weights per byte as sum_k (w_k + 1) 3^k (1.6 bits each). */
enum { BG_W_TERNARY2 = 0, BG_W_BINARY1 = 1, BG_W_INT8 = 2, BG_W_TERNARY_LUT4 = 3, BG_W_TERNARY_B3 = 4 };

/* A weight matrix in flash: rows of packed codes and the multipliers scale/127 that turn
 * (integer dot product) x (activation amax) into act units. */
typedef struct bg_matrix {
  const uint8_t *data;
  const bg_mult *scales; /* rows entries when per_row, else 1 */
  int32_t rows, cols, row_bytes;
  int32_t dtype, per_row;
} bg_matrix;

/* An int8 table (token or position embeddings): row r is codes * mult[r] in act units. */
typedef struct bg_table {
  const int8_t *data;
  const bg_mult *row_mult;
  int32_t rows, cols;
} bg_table;

enum { BG_NORM_RMS = 0, BG_NORM_LAYER = 1 };

typedef struct bg_norm_params {
  int32_t kind, n;
  const int32_t *gain; /* Q16, or NULL */
  const int32_t *bias; /* Q16, or NULL */
  int64_t eps_q32;
  int32_t gain_max; /* max |gain|: with a bound on the normalised values, proves the gain's rounding cannot saturate */
} bg_norm_params;

/* One layer's KV cache: a ring of `window` slots, each with n_kv_heads key and value
 * vectors of head_dim codes (int8, or int4 packed two per byte) and a scale16 each. */
typedef struct bg_kv_layer {
  uint8_t *k, *v;
  uint16_t *k_scale, *v_scale;
} bg_kv_layer;

typedef struct bg_attn_shape {
  int32_t n_heads, n_kv_heads, head_dim, window, kv_bits;
  bg_mult score_mult; /* 1 / (127 * kv_qmax * sqrt(head_dim) * 65536) */
} bg_attn_shape;

enum { BG_ACT_SILU = 0, BG_ACT_RELU2 = 1, BG_ACT_GELU = 2 };

/* ---- small helpers shared with the fused kernels ---- */

static inline int32_t bg_abs32(int32_t v) { return v < 0 ? (v == INT32_MIN ? INT32_MAX : -v) : v; }

static inline int32_t bg_clamp(int32_t v, int32_t lo, int32_t hi) { return v < lo ? lo : (v > hi ? hi : v); }

/* round(a / b) for b > 0, ties away from zero. */
static inline int64_t bg_div_round(int64_t a, int64_t b) {
  return a >= 0 ? (a + b / 2) / b : -((-a + b / 2) / b);
}

static inline int32_t bg_mul_q16(int32_t a, int32_t b) {
  return bg_round_shift_sat32(bg_mul32x32(a, b), 16);
}

static inline int32_t bg_activation(int32_t kind, int32_t x) {
  return kind == BG_ACT_SILU ? bg_silu_q16(x) : (kind == BG_ACT_RELU2 ? bg_relu2_q16(x) : bg_gelu_q16(x));
}

static inline int32_t bg_kv_qmax(int32_t bits) { return bits == 4 ? 7 : 127; }

/* ---- matrix rows ---- */

/* The ternary weight in the low two bits of c: 01 = +1, 11 = -1, 00 = 0. */
static inline int32_t bg_trit(uint32_t c) { return (int32_t)(c & 1u) * (1 - (int32_t)(c & 2u)); }

/* The same weight, read as a sign-extended 2-bit field (one SBFX on Armv7-M). */
static inline int32_t bg_trit_at(uint32_t b, int k) { return (int32_t)(b << (30 - 2 * k)) >> 30; }

/* Base-3 byte -> its five weights as 2-bit fields (weight k at bits 2k, 01 = +1, 11 = -1),
 * so that a packed byte decodes with one table load (486 bytes of flash) and then exactly
 * like the 2-bit packing. Entry b is sum_k code(digit_k(b) - 1) << 2k. */
static const uint16_t bg_b3_fields[243] = {
  1023, 1020, 1021, 1011, 1008, 1009, 1015, 1012, 1013, 975, 972, 973, 963, 960, 961, 967,
  964, 965, 991, 988, 989, 979, 976, 977, 983, 980, 981, 831, 828, 829, 819, 816,
  817, 823, 820, 821, 783, 780, 781, 771, 768, 769, 775, 772, 773, 799, 796, 797,
  787, 784, 785, 791, 788, 789, 895, 892, 893, 883, 880, 881, 887, 884, 885, 847,
  844, 845, 835, 832, 833, 839, 836, 837, 863, 860, 861, 851, 848, 849, 855, 852,
  853, 255, 252, 253, 243, 240, 241, 247, 244, 245, 207, 204, 205, 195, 192, 193,
  199, 196, 197, 223, 220, 221, 211, 208, 209, 215, 212, 213, 63, 60, 61, 51,
  48, 49, 55, 52, 53, 15, 12, 13, 3, 0, 1, 7, 4, 5, 31, 28,
  29, 19, 16, 17, 23, 20, 21, 127, 124, 125, 115, 112, 113, 119, 116, 117,
  79, 76, 77, 67, 64, 65, 71, 68, 69, 95, 92, 93, 83, 80, 81, 87,
  84, 85, 511, 508, 509, 499, 496, 497, 503, 500, 501, 463, 460, 461, 451, 448,
  449, 455, 452, 453, 479, 476, 477, 467, 464, 465, 471, 468, 469, 319, 316, 317,
  307, 304, 305, 311, 308, 309, 271, 268, 269, 259, 256, 257, 263, 260, 261, 287,
  284, 285, 275, 272, 273, 279, 276, 277, 383, 380, 381, 371, 368, 369, 375, 372,
  373, 335, 332, 333, 323, 320, 321, 327, 324, 325, 351, 348, 349, 339, 336, 337,
  343, 340, 341,
};

/* Integer dot product of weight row r with int8 codes x. */
static inline int32_t bg_row_dot(const bg_matrix *w, int32_t r, const int8_t *x) {
  const uint8_t *row = w->data + (int64_t)r * w->row_bytes;
  int32_t acc = 0, j = 0;
#if defined(BITGPT_USE_MVE)
  if (w->dtype == BG_W_TERNARY2 || w->dtype == BG_W_INT8) { /* whole vectors, then the tail below */
    j = w->cols & ~15;
    acc = w->dtype == BG_W_INT8 ? bg_mve_dot_int8((const int8_t *)row, x, j) : bg_mve_dot_ternary2(row, x, j);
  }
#endif
  if (w->dtype == BG_W_TERNARY2) {
#if defined(BITGPT_KERNEL_NAIVE)
    /* the baseline the benchmarks compare against: decode each code, then multiply */
    for (j = 0; j < w->cols; ++j) acc += bg_trit((uint32_t)row[j >> 2] >> (2 * (j & 3))) * x[j];
#else
    for (; j + 4 <= w->cols; j += 4) {
      const uint32_t b = row[j >> 2];
      acc += bg_trit_at(b, 0) * x[j] + bg_trit_at(b, 1) * x[j + 1] + bg_trit_at(b, 2) * x[j + 2] + bg_trit_at(b, 3) * x[j + 3];
    }
    for (; j < w->cols; ++j) acc += bg_trit_at(row[j >> 2], j & 3) * x[j];
#endif
  } else if (w->dtype == BG_W_TERNARY_B3) {
    for (j = 0; j + 5 <= w->cols; j += 5) {
      const uint32_t f = bg_b3_fields[row[j / 5]];
      acc += bg_trit_at(f, 0) * x[j] + bg_trit_at(f, 1) * x[j + 1] + bg_trit_at(f, 2) * x[j + 2] + bg_trit_at(f, 3) * x[j + 3] +
             bg_trit_at(f, 4) * x[j + 4];
    }
    for (; j < w->cols; ++j) acc += bg_trit_at(bg_b3_fields[row[j / 5]], j % 5) * x[j];
  } else if (w->dtype == BG_W_BINARY1) {
    for (j = 0; j < w->cols; ++j) acc += ((row[j >> 3] >> (j & 7)) & 1u) ? x[j] : -x[j];
  } else {
    const int8_t *r8 = (const int8_t *)row;
    for (; j < w->cols; ++j) acc += r8[j] * x[j];
  }
  return acc;
}

/* Dot products of row ra of wa and row rb of wb (same cols) with x: two bg_row_dot
 * calls, or one pass of the DSP kernel (bitgpt_smlad.h) that loads each activation
 * word once for both rows. */
static inline void bg_row_dot2(const bg_matrix *wa, int32_t ra, const bg_matrix *wb, int32_t rb, const int8_t *x, int32_t *da, int32_t *db) {
#if defined(BITGPT_USE_SMLAD)
  if (wa->dtype == wb->dtype && (wa->dtype == BG_W_TERNARY2 || wa->dtype == BG_W_INT8) && wa->cols == wb->cols) {
    const int32_t cols4 = wa->cols & ~3, int8 = wa->dtype == BG_W_INT8;
    const uint8_t *rowa = wa->data + (int64_t)ra * wa->row_bytes, *rowb = wb->data + (int64_t)rb * wb->row_bytes;
    int32_t j;
    bg_smlad_dot2(rowa, rowb, int8, x, cols4, da, db);
    for (j = cols4; j < wa->cols; ++j) {
      *da += (int8 ? (int8_t)rowa[j] : bg_trit_at(rowa[j >> 2], j & 3)) * x[j];
      *db += (int8 ? (int8_t)rowb[j] : bg_trit_at(rowb[j >> 2], j & 3)) * x[j];
    }
    return;
  }
#endif
  *da = bg_row_dot(wa, ra, x);
  *db = bg_row_dot(wb, rb, x);
}

#if defined(BITGPT_USE_SMLAD)
/* Four ternary rows ra, ra + row_bytes, rb, rb + row_bytes: the assembly kernel over the
 * columns in whole words, then the last cols % 4 one by one. */
static inline void bg_smlad_rows4(const uint8_t *ra, const uint8_t *rb, int32_t row_bytes, int32_t cols, int32_t int8, const int8_t *x, int32_t *dot) {
  const int32_t cols4 = cols & ~3;
  const uint8_t *rows[4];
  int32_t j, k;
  rows[0] = ra;
  rows[1] = ra + row_bytes;
  rows[2] = rb;
  rows[3] = rb + row_bytes;
  if (int8) bg_smlad_int8_dot4(ra, rb, row_bytes, x, cols4, dot);
  else bg_smlad_ternary_dot4(ra, rb, row_bytes, x, cols4, dot);
  if (cols4 == cols) return; /* the usual case: no tail, and no empty loop to step through */
  for (k = 0; k < 4; ++k)
    for (j = cols4; j < cols; ++j) dot[k] += (int8 ? (int8_t)rows[k][j] : bg_trit_at(rows[k][j >> 2], j & 3)) * x[j];
}
#endif

/* Dot products of rows r and r + 1 of wa, then of wb (same shape), in dot[0..3]: one
 * pass of the four-row DSP kernel for ternary rows, else two bg_row_dot2. */
static inline void bg_row_dot2x2(const bg_matrix *wa, const bg_matrix *wb, int32_t r, const int8_t *x, int32_t *dot) {
#if defined(BITGPT_USE_SMLAD)
  if (wa->dtype == BG_W_TERNARY2 && wb->dtype == BG_W_TERNARY2 && wa->cols == wb->cols && wa->row_bytes == wb->row_bytes) {
    bg_smlad_rows4(wa->data + (int64_t)r * wa->row_bytes, wb->data + (int64_t)r * wb->row_bytes, wa->row_bytes, wa->cols, 0, x, dot);
    return;
  }
#endif
  bg_row_dot2(wa, r, wa, r + 1, x, &dot[0], &dot[1]);
  bg_row_dot2(wb, r, wb, r + 1, x, &dot[2], &dot[3]);
}

/* Dot products of rows r, r + 1, ... of w with x, as many as the kernel does at once
 * (up to 4, and no more than the rows left); returns how many. */
static inline int32_t bg_row_dots(const bg_matrix *w, int32_t r, const int8_t *x, int32_t *dot) {
  const int32_t left = w->rows - r;
#if defined(BITGPT_USE_SMLAD)
  if (left >= 4 && (w->dtype == BG_W_TERNARY2 || w->dtype == BG_W_INT8)) {
    const uint8_t *row = w->data + (int64_t)r * w->row_bytes;
    bg_smlad_rows4(row, row + 2 * w->row_bytes, w->row_bytes, w->cols, w->dtype == BG_W_INT8, x, dot);
    return 4;
  }
#endif
  if (left >= 2) {
    bg_row_dot2(w, r, w, r + 1, x, &dot[0], &dot[1]);
    return 2;
  }
  dot[0] = bg_row_dot(w, r, x);
  return 1;
}

/* The multiplier that turns row r's dot product into act units: scale / 127 * amax.
 * With one scale per matrix it is the same for every row: compute it once. */
static inline bg_mult bg_row_mult(const bg_matrix *w, int32_t r, int32_t amax) {
  return bg_mult_scale(w->scales[w->per_row ? r : 0], amax);
}

typedef struct bg_row_scaler {
  const bg_matrix *w;
  int32_t amax;
  bg_mult shared; /* valid when !w->per_row */
  int32_t fast;   /* one multiplier that no dot product of w can saturate */
} bg_row_scaler;

/* The largest |dot product| a row of w can have with int8 codes (|code| <= 127). */
static inline int64_t bg_row_dot_bound(const bg_matrix *w) { return (int64_t)127 * (w->dtype == BG_W_INT8 ? 128 : 1) * w->cols; }

static inline bg_row_scaler bg_row_scaler_begin(const bg_matrix *w, int32_t amax) {
  bg_row_scaler s;
  s.w = w;
  s.amax = amax;
  s.shared = bg_row_mult(w, 0, amax);
  s.fast = !w->per_row && bg_mult_apply32_safe(s.shared, bg_row_dot_bound(w));
  return s;
}

/* Row r's dot product in act units: dot * amax * scale / 127. The per-row multiplier is
 * built out of line so that the usual per-matrix case inlines into the row loops. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static bg_mult bg_row_mult_out_of_line(const bg_matrix *w, int32_t r, int32_t amax) { return bg_row_mult(w, r, amax); }

static inline int32_t bg_row_scale(const bg_row_scaler *s, int32_t r, int32_t dot) {
  if (s->fast) return bg_mult_apply32_unchecked(dot, s->shared);
  return bg_mult_apply32(dot, s->w->per_row ? bg_row_mult_out_of_line(s->w, r, s->amax) : s->shared);
}

/* The most |bg_row_scale| can return for a fast scaler. */
static inline int64_t bg_row_scale_bound(const bg_row_scaler *s) { return bg_mult_apply_bound(s->shared, bg_row_dot_bound(s->w)); }

/* A gated FFN row's value from its two dot products: act(up(d1)) * gate(d3), Q16. */
typedef struct bg_ffn_gate {
  bg_row_scaler up, gate;
  int32_t act;
  int32_t fast; /* SiLU, and the bounds prove that none of the roundings can saturate */
} bg_ffn_gate;

static inline bg_ffn_gate bg_ffn_gate_begin(const bg_matrix *w1, const bg_matrix *w3, int32_t act, int32_t amax) {
  bg_ffn_gate g;
  g.up = bg_row_scaler_begin(w1, amax);
  g.gate = bg_row_scaler_begin(w3, amax);
  g.act = act;
  g.fast = 0;
  if (act == BG_ACT_SILU && g.up.fast && g.gate.fast) {
    /* |a| < 2^30 keeps a sigma(a) / 2^15 in 32 bits; |silu(a)| <= |a| + 1 and |b| bound
     * the final product */
    const int64_t a = bg_row_scale_bound(&g.up), b = bg_row_scale_bound(&g.gate);
    const bg_mult by_b = {(int32_t)b, 16};
    g.fast = a < ((int64_t)1 << 30) && b < ((int64_t)1 << 31) && bg_mult_apply32_safe(by_b, a + 1);
  }
  return g;
}

static inline int32_t bg_ffn_gate_row(const bg_ffn_gate *g, int32_t r, int32_t d1, int32_t d3) {
  if (g->fast) {
    const int32_t a = bg_mult_apply32_unchecked(d1, g->up.shared);
    const bg_mult sigma = {bg_sigmoid_q16(a), 16}, b = {bg_mult_apply32_unchecked(d3, g->gate.shared), 16};
    return bg_mult_apply32_unchecked(bg_mult_apply32_unchecked(a, sigma), b);
  }
  return bg_mul_q16(bg_activation(g->act, bg_row_scale(&g->up, r, d1)), bg_row_scale(&g->gate, r, d3));
}



/* ---- normalisation, split into statistics and a per-element step ---- */

typedef struct bg_norm_stats {
  int32_t mean; /* act, 0 for RMSNorm */
  bg_mult inv_rms;
  int64_t bound; /* >= max |x - mean|: sqrt(sum of squares) < sqrt(n) (rms + 1) <= n (rms + 1) */
} bg_norm_stats;

static inline bg_norm_stats bg_norm_statistics(const int32_t *x, const bg_norm_params *p) {
  bg_norm_stats s;
  uint64_t ss = 0;
  int64_t sum = 0;
  int32_t i;
  uint32_t rms;
  s.mean = 0;
  if (p->kind == BG_NORM_LAYER) {
    for (i = 0; i < p->n; ++i) sum += x[i];
    s.mean = (int32_t)bg_div_round(sum, p->n);
  }
  if (s.mean == 0) {
    for (i = 0; i < p->n; ++i) ss += (uint64_t)((int64_t)x[i] * x[i]); /* SMLAL */
  } else {
    for (i = 0; i < p->n; ++i) {
      const int64_t d = (int64_t)x[i] - s.mean;
      ss += (uint64_t)(d * d);
    }
  }
  rms = bg_isqrt64(ss / (uint64_t)p->n + (uint64_t)p->eps_q32); /* Q16 */
  s.inv_rms = bg_mult_ratio(BG_ACT_ONE, rms);
  s.bound = (int64_t)p->n * ((int64_t)rms + 1);
  if (s.bound > INT32_MAX) s.bound = (int64_t)INT32_MAX + 1; /* |x| itself is at most that */
  return s;
}

static inline int32_t bg_norm_element(const int32_t *x, int32_t i, const bg_norm_params *p, const bg_norm_stats *s) {
  int32_t y = s->mean == 0 ? bg_mult_apply32(x[i], s->inv_rms) : bg_mult_apply((int64_t)x[i] - s->mean, s->inv_rms);
  if (p->gain) y = bg_mul_q16(y, p->gain[i]);
  if (p->bias) y = bg_sat32((int64_t)y + p->bias[i]);
  return y;
}

/* ---- the unfused operations ---- */

/* x = token row (+ position row). */
static inline void bg_op_embed(int32_t *x, const bg_table *tok, const bg_table *pos, int32_t token, int32_t position) {
  int32_t i;
  for (i = 0; i < tok->cols; ++i) {
    int64_t v = bg_mult_apply(tok->data[(int64_t)token * tok->cols + i], tok->row_mult[token]);
    if (pos) v += bg_mult_apply(pos->data[(int64_t)position * pos->cols + i], pos->row_mult[position]);
    x[i] = bg_sat32(v);
  }
}

static inline void bg_op_norm(const int32_t *x, const bg_norm_params *p, int32_t *y) {
  const bg_norm_stats s = bg_norm_statistics(x, p);
  int32_t i;
  for (i = 0; i < p->n; ++i) y[i] = bg_norm_element(x, i, p, &s);
}

/* Per-vector absmax quantisation to int8: q = round(127 y / amax). */
static inline int32_t bg_amax(const int32_t *y, int32_t n) {
  int32_t m = 0, i;
  for (i = 0; i < n; ++i) { const int32_t a = bg_abs32(y[i]); if (a > m) m = a; }
  return m;
}

static inline int8_t bg_quantize_one(int32_t y, bg_mult inv, int32_t qmax) {
  return (int8_t)bg_clamp(bg_mult_apply32(y, inv), -qmax, qmax);
}

/* q[i] = bg_quantize_one(y[i], inv, 127) for values with |y| <= m and inv =
 * bg_mult_ratio(127, m). The ratio is within 2^-22 of 127/m, so |y inv| < 127.0001 rounds
 * to at most 127: the clamp never acts, and where the rounding cannot saturate either
 * (a shift in [33, 62], or one bg_mult_apply32_safe proves) it goes without range checks. */
static inline void bg_quantize_codes(const int32_t *y, int32_t n, bg_mult inv, int32_t m, int8_t *q) {
  int32_t i;
  if (inv.shift >= 33 && inv.shift <= 62) {
    for (i = 0; i < n; ++i) q[i] = (int8_t)bg_mult_apply32_high(y[i], inv);
  } else if (bg_mult_apply32_safe(inv, m)) {
    for (i = 0; i < n; ++i) q[i] = (int8_t)bg_mult_apply32_unchecked(y[i], inv);
  } else {
    for (i = 0; i < n; ++i) q[i] = bg_quantize_one(y[i], inv, 127);
  }
}

static inline void bg_op_quantize(const int32_t *y, int32_t n, int8_t *q, int32_t *amax) {
  const int32_t m = bg_amax(y, n);
  bg_quantize_codes(y, n, bg_mult_ratio(127, m), m, q);
  *amax = m;
}

/* out = W x (accumulate = BG_STORE), or out += W x (BG_ACCUMULATE: the residual add). */
#define BG_STORE 0
#define BG_ACCUMULATE 1
static inline void bg_op_matvec(const bg_matrix *w, const int8_t *x, int32_t amax, int32_t *out, int32_t accumulate) {
  const bg_row_scaler rows = bg_row_scaler_begin(w, amax);
  int32_t r, k, n;
  for (r = 0; r < w->rows; r += n) {
    int32_t dot[4];
    n = bg_row_dots(w, r, x, dot);
    for (k = 0; k < n; ++k) {
      const int32_t z = bg_row_scale(&rows, r + k, dot[k]);
      out[r + k] = accumulate ? bg_sat32((int64_t)out[r + k] + z) : z;
    }
  }
}

static inline void bg_op_add(const int32_t *a, const int32_t *b, int32_t *out, int32_t n) {
  int32_t i;
  for (i = 0; i < n; ++i) out[i] = bg_sat32((int64_t)a[i] + b[i]);
}

static inline void bg_op_mul(const int32_t *a, const int32_t *b, int32_t *out, int32_t n) {
  int32_t i;
  for (i = 0; i < n; ++i) out[i] = bg_mul_q16(a[i], b[i]);
}

static inline void bg_op_activation(int32_t kind, const int32_t *x, int32_t *out, int32_t n) {
  int32_t i;
  for (i = 0; i < n; ++i) out[i] = bg_activation(kind, x[i]);
}

/* cos and sin (Q30) of each pair's RoPE angle at `position`, interleaved in cs: once
 * per token, for every layer's queries and keys. freq_q40[i] is pair i's angle step in
 * turns (Q40); the angle wraps modulo one turn in unsigned arithmetic. */
static inline void bg_op_rope_angles(int32_t *cs, const uint64_t *freq_q40, int32_t pairs, int32_t position) {
  int32_t i;
  for (i = 0; i < pairs; ++i) {
    const uint32_t turn = (uint32_t)(((uint64_t)(uint32_t)position * freq_q40[i]) >> 8);
    cs[2 * i] = bg_cos_turn_q30(turn);
    cs[2 * i + 1] = bg_sin_turn_q30(turn);
  }
}

/* Rotary embedding on interleaved pairs, in place, with the token's angles from
 * bg_op_rope_angles. */
static inline void bg_op_rope(int32_t *v, int32_t n_heads, int32_t head_dim, const int32_t *cs) {
  int32_t h, i;
  for (i = 0; i < head_dim / 2; ++i) {
    const int64_t c = cs[2 * i], s = cs[2 * i + 1];
    for (h = 0; h < n_heads; ++h) {
      int32_t *p = v + h * head_dim + 2 * i;
      const int64_t a = p[0], b = p[1];
      p[0] = bg_sat32(bg_shr_round(a * c - b * s, 30));
      p[1] = bg_sat32(bg_shr_round(a * s + b * c, 30));
    }
  }
}

/* ---- the KV cache ---- */

static inline int32_t bg_kv_row_bytes(const bg_attn_shape *a) {
  return a->kv_bits == 4 ? (a->head_dim + 1) / 2 : a->head_dim;
}

static inline int32_t bg_kv_code(const uint8_t *row, int32_t i, int32_t bits) {
  if (bits == 8) return (int8_t)row[i];
  {
    const int32_t nib = (row[i >> 1] >> (4 * (i & 1))) & 0xF;
    return nib >= 8 ? nib - 16 : nib;
  }
}

/* Quantises one head vector into a cache row and returns its scale16. */
static inline uint16_t bg_kv_store_row(const int32_t *x, int32_t n, int32_t bits, uint8_t *row) {
  const uint16_t s16 = bg_scale16_encode(bg_amax(x, n));
  const int32_t qmax = bg_kv_qmax(bits);
  const bg_mult inv = bg_mult_ratio(qmax, bg_scale16_decode(s16));
  int32_t i;
  if (bits == 8) {
    for (i = 0; i < n; ++i) row[i] = (uint8_t)bg_quantize_one(x[i], inv, qmax);
  } else {
    for (i = 0; i < (n + 1) / 2; ++i) row[i] = 0;
    for (i = 0; i < n; ++i) row[i >> 1] |= (uint8_t)((bg_quantize_one(x[i], inv, qmax) & 0xF) << (4 * (i & 1)));
  }
  return s16;
}

/* Writes the keys and values of the token at `position` into its ring slot. */
static inline void bg_op_kv_write(const bg_kv_layer *c, const bg_attn_shape *a, int32_t position, const int32_t *k, const int32_t *v) {
  const int32_t slot = position % a->window, rb = bg_kv_row_bytes(a);
  int32_t g;
  for (g = 0; g < a->n_kv_heads; ++g) {
    const int32_t at = slot * a->n_kv_heads + g;
    c->k_scale[at] = bg_kv_store_row(k + g * a->head_dim, a->head_dim, a->kv_bits, c->k + (int64_t)at * rb);
    c->v_scale[at] = bg_kv_store_row(v + g * a->head_dim, a->head_dim, a->kv_bits, c->v + (int64_t)at * rb);
  }
}

/* ---- attention, in three steps the fused kernel reproduces ---- */

static inline int32_t bg_attn_first(const bg_attn_shape *a, int32_t position) {
  return position - a->window + 1 > 0 ? position - a->window + 1 : 0;
}

/* Quantises query head h to int8; returns the multiplier that turns a q.k code dot
 * product into a Q16 score once scaled by the key's amax. */
static inline bg_mult bg_attn_query(const bg_attn_shape *a, const int32_t *q_head, int8_t *q8) {
  int32_t amax;
  bg_op_quantize(q_head, a->head_dim, q8, &amax);
  return bg_mult_scale(a->score_mult, amax);
}

/* q8 . codes of a cached row, with the loop specialised per code width. */
static inline int32_t bg_kv_dot(const int8_t *q8, const uint8_t *row, int32_t n, int32_t bits) {
  int32_t dot = 0, i = 0;
  if (bits == 8) {
#if defined(BITGPT_USE_MVE)
    i = n & ~15;
    dot = bg_mve_dot_int8(q8, (const int8_t *)row, i);
#elif defined(BITGPT_USE_SMLAD)
    i = n & ~3;
    dot = bg_smlad_dot_i8(q8, (const int8_t *)row, i);
#endif
    for (; i < n; ++i) dot += q8[i] * (int8_t)row[i];
  } else {
    for (i = 0; i + 2 <= n; i += 2) {
      const int32_t b = (int8_t)row[i >> 1];
      dot += q8[i] * ((int32_t)((uint32_t)b << 28) >> 28) + q8[i + 1] * (b >> 4);
    }
    if (i < n) dot += q8[i] * ((int32_t)((uint32_t)row[i >> 1] << 28) >> 28);
  }
  return dot;
}

/* Score of query codes q8 against the key of token t: q.k / sqrt(head_dim), Q16. */
static inline int32_t bg_attn_score(const bg_kv_layer *c, const bg_attn_shape *a, int32_t g, int32_t t, const int8_t *q8, bg_mult qk) {
  const int32_t at = (t % a->window) * a->n_kv_heads + g, rb = bg_kv_row_bytes(a);
  const int32_t dot = bg_kv_dot(q8, c->k + (int64_t)at * rb, a->head_dim, a->kv_bits);
  return bg_mult_apply32(dot, bg_mult_scale(qk, bg_scale16_decode(c->k_scale[at])));
}

/* Adds weight p (the unnormalised softmax weight, Q16) times token t's value to acc. */
static inline void bg_attn_accumulate(const bg_kv_layer *c, const bg_attn_shape *a, int32_t g, int32_t t, int32_t p, int64_t *acc) {
  const int32_t at = (t % a->window) * a->n_kv_heads + g, rb = bg_kv_row_bytes(a);
  const uint8_t *vrow = c->v + (int64_t)at * rb;
  const int64_t w = (int64_t)p * bg_scale16_decode(c->v_scale[at]);
  int32_t i;
  if (a->kv_bits == 8 && w == (int32_t)w) { /* the usual case: one SMLAL per element */
    for (i = 0; i < a->head_dim; ++i) acc[i] += bg_mul32x32((int32_t)w, (int8_t)vrow[i]);
  } else if (a->kv_bits == 8) {
    for (i = 0; i < a->head_dim; ++i) acc[i] += w * (int8_t)vrow[i];
  } else {
    for (i = 0; i < a->head_dim; ++i) acc[i] += w * bg_kv_code(vrow, i, 4);
  }
}

/* out = acc / (weight sum * qmax), Q16: one reciprocal per head, not a 64-bit division
 * per element. acc is first shifted to 39 significant bits so the product fits int64. */
static inline void bg_attn_finish(const bg_attn_shape *a, const int64_t *acc, int64_t weight_sum, int32_t *out) {
  const int64_t den = weight_sum * bg_kv_qmax(a->kv_bits);
  const bg_mult inv = bg_mult_ratio(1, den > 0 ? den : 1);
  int32_t i;
  for (i = 0; i < a->head_dim; ++i) {
    const int64_t v = acc[i];
    const uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    const int lead = 63 - bg_clz64(mag | 1u);
    const int k = lead > 38 ? lead - 38 : 0;
    out[i] = den > 0 ? bg_sat32(bg_shr_round((v >> k) * inv.m, inv.shift - k)) : 0;
  }
}

/* Step 1: scores[h][t - first] for every query head. q8 is head_dim scratch bytes. */
static inline void bg_op_attn_scores(const bg_kv_layer *c, const bg_attn_shape *a, int32_t position, const int32_t *q, int8_t *q8, int32_t *scores) {
  const int32_t first = bg_attn_first(a, position), group = a->n_heads / a->n_kv_heads;
  int32_t h, t;
  for (h = 0; h < a->n_heads; ++h) {
    const bg_mult qk = bg_attn_query(a, q + h * a->head_dim, q8);
    for (t = first; t <= position; ++t)
      scores[h * a->window + (t - first)] = bg_attn_score(c, a, h / group, t, q8, qk);
  }
}

/* Step 2: scores become unnormalised weights exp(s - max) in place. */
static inline void bg_op_attn_softmax(const bg_attn_shape *a, int32_t position, int32_t *scores) {
  const int32_t n = position - bg_attn_first(a, position) + 1;
  int32_t h, t;
  for (h = 0; h < a->n_heads; ++h) {
    int32_t *s = scores + h * a->window, m = s[0];
    for (t = 1; t < n; ++t) if (s[t] > m) m = s[t];
    for (t = 0; t < n; ++t) s[t] = bg_exp_neg_q16(bg_below_max(s[t], m));
  }
}

/* Step 3: out[h] = sum_t w[t] v[t] / sum_t w[t]. acc is head_dim int64 scratch. */
static inline void bg_op_attn_weighted_sum(const bg_kv_layer *c, const bg_attn_shape *a, int32_t position, const int32_t *weights, int64_t *acc, int32_t *out) {
  const int32_t first = bg_attn_first(a, position), group = a->n_heads / a->n_kv_heads;
  int32_t h, t, i;
  for (h = 0; h < a->n_heads; ++h) {
    int64_t sum = 0;
    for (i = 0; i < a->head_dim; ++i) acc[i] = 0;
    for (t = first; t <= position; ++t) {
      const int32_t p = weights[h * a->window + (t - first)];
      sum += p;
      bg_attn_accumulate(c, a, h / group, t, p, acc);
    }
    bg_attn_finish(a, acc, sum, out + h * a->head_dim);
  }
}

/* ---- choosing the next token ---- */

typedef struct bg_sampler {
  int32_t temperature; /* Q16; 0 = greedy */
  bg_mult inv_temperature;
  uint64_t *rng;
  int32_t best, best_score;
} bg_sampler;

static inline bg_sampler bg_sampler_begin(int32_t temperature_q16, uint64_t *rng) {
  bg_sampler s;
  s.temperature = temperature_q16 > 0 ? temperature_q16 : 0;
  s.inv_temperature = bg_mult_ratio(BG_ACT_ONE, s.temperature > 0 ? s.temperature : 1);
  s.rng = rng;
  s.best = -1;
  s.best_score = INT32_MIN;
  return s;
}

/* Greedy keeps the first largest logit; sampling is the Gumbel-max trick, which draws
 * from softmax(logits / T) in one pass: argmax of logit / T + Gumbel noise. */
static inline void bg_sampler_offer(bg_sampler *s, int32_t index, int32_t logit) {
  int32_t score = logit;
  if (s->temperature > 0)
    score = bg_sat32((int64_t)bg_mult_apply(logit, s->inv_temperature) + bg_gumbel_q16(bg_rand32(s->rng)));
  if (s->best < 0 || score > s->best_score) { s->best = index; s->best_score = score; }
}

/* Hashes the logits into the checksum and picks the next token. */
static inline int32_t bg_op_sample(const int32_t *logits, int32_t n, int32_t temperature_q16, uint64_t *rng, uint64_t *checksum) {
  bg_sampler s = bg_sampler_begin(temperature_q16, rng);
  int32_t i;
  for (i = 0; i < n; ++i) {
    *checksum = bg_fnv_i32(*checksum, logits[i]);
    bg_sampler_offer(&s, i, logits[i]);
  }
  return s.best;
}

#ifdef __cplusplus
}
#endif

#endif /* BITGPT_OPS_H */
