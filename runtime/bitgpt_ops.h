/* bitgpt_ops.h - the reference semantics of every IR operation, on raw buffers.
 *
 * One function per unfused operation of the bitgptc IR. The reference interpreter calls
 * these; the emitted code calls them when a fusion pass is switched off, and the fused
 * kernels in bitgpt_fused.h are built from the same per-element helpers below, so a
 * fused kernel computes exactly the integers of the chain it replaces (NormQuantize of an
 * RMSNorm, defined in bitgpt_fused.h, replaces none).
 */
#ifndef BITGPT_OPS_H
#define BITGPT_OPS_H

#include "bitgpt_numerics.h"
/* The emitted code asks for the DSP kernels on targets that have them; the same source
 * built for the host (or any compiler without the DSP extension) uses plain C, or AVX2
 * where the compiler targets it, with the same results. */
#if defined(BITGPT_KERNEL_MVE) && defined(__ARM_FEATURE_MVE) && !defined(BITGPT_KERNEL_NAIVE)
#define BITGPT_USE_MVE 1
#include "bitgpt_mve.h"
#elif defined(BITGPT_KERNEL_SMLAD) && defined(__ARM_FEATURE_DSP) && !defined(BITGPT_KERNEL_NAIVE)
#define BITGPT_USE_SMLAD 1
#include "bitgpt_smlad.h"
#elif defined(__AVX2__) && !defined(BITGPT_KERNEL_NAIVE)
/* A host build for a CPU with AVX2 (its compiler says so): the row dot products use it. */
#define BITGPT_USE_AVX2 1
#include "bitgpt_avx2.h"
#if defined(__AVX512VNNI__) && defined(__AVX512BW__) && defined(__AVX512VL__) && defined(__AVX512CD__) && defined(__AVX512DQ__)
/* and AVX-512 VNNI (--target x86-64-avx512vnni; every CPU with VNNI has CD and DQ too): the
 * row products, attention's steps and the classifier's scaling use it */
#define BITGPT_USE_AVX512_VNNI 1
#include "bitgpt_avx512.h"
#endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- constant data ---- */

/* BG_W_TERNARY_LUT4 rows are read only by the lookup kernels of bitgpt_lut.h, as are
 * BG_W_TERNARY_LUT4W rows: the same table indices in 32-bit words (bitgpt_lut.h).
 * BG_W_TERNARY_B3 packs five weights per byte as sum_k (w_k + 1) 3^k (1.6 bits each).
 * BG_W_TERNARY_P128 holds ternary weights as 2-bit fields w + 1 (0, 1 or 2) in blocks of
 * 128 weights, 32 bytes each: byte i of a block holds its weights i, i + 32, i + 64 and
 * i + 96 in bits 0-1, 2-3, 4-5 and 6-7, so that a vector kernel gets 32 consecutive
 * weights with one shift and one mask as unsigned bytes it can multiply directly, and
 * subtracts the sum of the activations once (rows are whole blocks; the packing of the
 * x86-64 targets and the cortex-m55, whose Helium kernel takes the 2-bit fields of a
 * 16-byte load with a shift and a mask).
 * BG_W_INT8_PAIRS holds int8 rows (|w| <= 127) four at a time as two row pairs, a pair's
 * weights in one int32 word w_a + w_b * 2^24: quad q (rows 4q..4q+3; rows past the last are
 * 0) is row_bytes = 8 * cols bytes, for each column j the words of rows (4q, 4q+1) and
 * (4q+2, 4q+3). One 32x32->64 multiply-accumulate (SMLAL) then takes two rows' products,
 * whose sums stay apart in the 64-bit total while the low one stays under 2^23
 * (BG_PAIR_SPAN columns at a time): Armv7-M without DSP, where an int8 weight otherwise
 * costs a load and a multiply-add of its own. 2 bytes of flash a weight.
 * BG_W_INT16_QUADS holds int8 rows widened to int16, four rows at a time in the lanes the
 * DSP extension's SXTB16 unpacks activations into: quad q (rows 4q..4q+3; rows past the
 * last are 0) is row_bytes = 32 * ceil(cols / 4) bytes, for each step of four columns
 * j..j+3 and each of its rows the words w_j | w_j+2 << 16 and w_j+1 | w_j+3 << 16
 * (columns past the last are 0). One LDM then loads two rows' weights of a step for four
 * SMLADs, with no unpacking of the weights: the SMLAD row kernel's int8 matrices. 2 bytes
 * of flash a weight. */
enum { BG_W_TERNARY2 = 0, BG_W_BINARY1 = 1, BG_W_INT8 = 2, BG_W_TERNARY_LUT4 = 3, BG_W_TERNARY_B3 = 4, BG_W_TERNARY_P128 = 5, BG_W_INT8_PAIRS = 6,
       BG_W_TERNARY_LUT4W = 7, BG_W_INT16_QUADS = 8 };

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
  int32_t gain_max; /* max |gain|: NormQuantize's gain shift (bg_rms_gain_shift) */
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

/* |v| exactly, as uint32 (2^31 for INT32_MIN), without a branch: the sign's mask flips
 * and then adds one. For the largest |v| of a vector in a loop: two instructions and an
 * unsigned maximum, capped once after the loop as bg_abs32 caps. */
static inline uint32_t bg_abs_u32(int32_t v) {
  const uint32_t sign = (uint32_t)(v >> 31);
  return ((uint32_t)v ^ sign) - sign;
}
static inline int32_t bg_abs_cap(uint32_t a) { return a > (uint32_t)INT32_MAX ? INT32_MAX : (int32_t)a; }

static inline int32_t bg_clamp(int32_t v, int32_t lo, int32_t hi) { return v < lo ? lo : (v > hi ? hi : v); }

/* A hint that *p will be read soon (a no-op where the compiler has no prefetch). Used on
 * the hosts' cached paths only: a Cortex-M has nothing to fetch ahead into. */
static inline void bg_prefetch(const void *p) {
#if defined(__GNUC__)
  __builtin_prefetch(p);
#else
  (void)p;
#endif
}

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

#include "bitgpt_rows.h"

/* ---- normalisation, split into statistics and a per-element step ---- */

typedef struct bg_norm_stats {
  int32_t mean; /* act, 0 for RMSNorm */
  uint32_t rms; /* Q16 */
  bg_mult inv_rms;
} bg_norm_stats;

/* sum x_i^2 modulo 2^64 (four squares a pass; on Thumb-2 one LDM and four SMLALs). */
static inline uint64_t bg_sum_squares(const int32_t *x, int32_t n) {
  uint64_t s = 0;
  int32_t i = 0;
#if defined(BITGPT_USE_AVX2)
  i = n & ~7;
  s = bg_avx2_sum_squares(x, i);
#elif defined(BITGPT_USE_MVE)
  i = n & ~3;
  s = bg_mve_sum_squares(x, i);
#elif defined(__GNUC__) && defined(__thumb2__)
  if (n >= 4) {
    const int32_t *p = x, *const end = x + (n & ~3);
    uint32_t lo = 0, hi = 0;
    __asm__ volatile("1:\n\tldmia %[p]!, {r8, r9, r10, r11}\n\tsmlal %[lo], %[hi], r8, r8\n\tsmlal %[lo], %[hi], r9, r9\n\t"
                     "smlal %[lo], %[hi], r10, r10\n\tsmlal %[lo], %[hi], r11, r11\n\tcmp %[p], %[end]\n\tbne 1b"
                     : [p] "+r"(p), [lo] "+r"(lo), [hi] "+r"(hi)
                     : [end] "r"(end)
                     : "r8", "r9", "r10", "r11", "cc", "memory");
    s = (uint64_t)hi << 32 | lo;
    i = n & ~3;
  }
#endif
  for (; i + 4 <= n; i += 4) {
    const int32_t a = x[i], b = x[i + 1], c = x[i + 2], d = x[i + 3];
    s += (uint64_t)((int64_t)a * a);
    s += (uint64_t)((int64_t)b * b);
    s += (uint64_t)((int64_t)c * c);
    s += (uint64_t)((int64_t)d * d);
  }
  for (; i < n; ++i) s += (uint64_t)((int64_t)x[i] * x[i]);
  return s;
}

/* The mean (LayerNorm) and 1 / RMS: rms = isqrt(sum (x_i - mean)^2 / n + eps), Q16, the
 * sum of squares modulo 2^64 (the definition: every implementation wraps alike). */
static inline bg_norm_stats bg_norm_statistics(const int32_t *x, const bg_norm_params *p) {
  bg_norm_stats s;
  uint64_t ss = 0;
  int64_t sum = 0;
  int32_t i = 0;
  s.mean = 0;
  if (p->kind == BG_NORM_LAYER) {
    for (i = 0; i < p->n; ++i) sum += x[i];
    s.mean = (int32_t)bg_div_round(sum, p->n);
    i = 0;
  }
  if (s.mean == 0) i = p->n, ss = bg_sum_squares(x, p->n);
  for (; i < p->n; ++i) {
    const int64_t d = (int64_t)x[i] - s.mean;
    ss += (uint64_t)d * (uint64_t)d; /* modulo 2^64: d * d in int64 overflows for |d| > 3.04e9 */
  }
  /* ss / n: a shift where n is a power of two (most norms' widths), not a 64-bit division */
  ss = (p->n & (p->n - 1)) == 0 ? ss >> (31 - bg_clz32((uint32_t)p->n)) : bg_udiv64(ss, (uint64_t)p->n);
  s.rms = bg_isqrt64(ss + (uint64_t)p->eps_q32);
  s.inv_rms = bg_mult_ratio(BG_ACT_ONE, s.rms);
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
  if (!pos && bg_mult_apply32_safe(tok->row_mult[token], 128)) { /* int8 codes: one rounding, no saturation */
    const int8_t *const row = tok->data + (int64_t)token * tok->cols;
    const bg_mult k = tok->row_mult[token];
#if defined(BG_HAS_SMMULR)
    bg_mult_q32 k32;
    if (bg_mult_q32_form(k, 128, &k32)) { /* one SMMULR a code */
      for (i = 0; i < tok->cols; ++i) x[i] = bg_mult_apply_q32(row[i], k32);
      return;
    }
#endif
    for (i = 0; i < tok->cols; ++i) x[i] = bg_mult_apply32_unchecked(row[i], k);
    return;
  }
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

/* Per-vector absmax quantisation to int8: q = round(127 y / amax). The largest
 * bg_abs32(y[i]): |y| unsigned, without a branch, capped once at the end. */
static inline int32_t bg_amax(const int32_t *y, int32_t n) {
  uint32_t m = 0;
  int32_t i = 0;
#if defined(BITGPT_USE_AVX2)
  i = n & ~7;
  m = (uint32_t)bg_avx2_amax(y, i);
#elif defined(BITGPT_USE_MVE)
  i = n & ~3;
  m = (uint32_t)bg_mve_amax(y, i);
#endif
  for (; i < n; ++i) { const uint32_t a = bg_abs_u32(y[i]); if (a > m) m = a; }
  return bg_abs_cap(m);
}

static inline int8_t bg_quantize_one(int32_t y, bg_mult inv, int32_t qmax) {
  return (int8_t)bg_clamp(bg_mult_apply32(y, inv), -qmax, qmax);
}

/* q[i] = bg_quantize_one(y[i], inv, 127) for values with |y| <= m and inv =
 * bg_mult_ratio(127, m). The ratio is within 2^-22 of 127/m, so |y inv| < 127.0001 rounds
 * to at most 127: the clamp never acts, and where the rounding cannot saturate either
 * (a shift in [33, 62], or one bg_mult_apply32_safe proves) it goes without range checks. */
static inline void bg_quantize_codes(const int32_t *y, int32_t n, bg_mult inv, int32_t m, int8_t *q) {
  int32_t i = 0;
  const int high = inv.shift >= 33 && inv.shift <= 62;
#if defined(BITGPT_USE_AVX2)
  if (high || bg_mult_apply32_safe(inv, m)) {
    i = n & ~31;
    bg_avx2_quantize_codes(y, i, inv, q);
  }
#elif defined(BITGPT_USE_MVE)
  if (high || bg_mult_apply32_safe(inv, m)) {
    i = n & ~3;
    bg_mve_quantize_codes(y, i, inv, q);
  }
#endif
#if defined(BG_HAS_SMMULR) && defined(__thumb2__) && defined(__ARM_FEATURE_UNALIGNED) && defined(__BYTE_ORDER__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  /* four codes a pass in one block of assembly: one LDM for the four values, two
   * instructions a code (`code`, on register R), three BFIs and one (unaligned) word store:
   * 15 instructions for four codes, where GCC's loop of the same steps took 19 */
#define BG_CODE4(code) code("r8") code("r9") code("r10") code("r11")
#define BG_CODES_BY_WORDS(code, ...)                                                                                    \
  if (n - i >= 4) {                                                                                                     \
    const int32_t *yp = y + i;                                                                                         \
    int8_t *qp = q + i;                                                                                                \
    const int32_t *const end = y + i + ((n - i) & ~3);                                                                 \
    __asm__ volatile("1:\n\tldmia %[y]!, {r8, r9, r10, r11}\n\t" BG_CODE4(code) "bfi r8, r9, #8, #8\n\t"             \
                     "bfi r8, r10, #16, #8\n\tbfi r8, r11, #24, #8\n\tstr r8, [%[q]], #4\n\tcmp %[y], %[end]\n\tbne 1b" \
                     : [y] "+r"(yp), [q] "+r"(qp)                                                                       \
                     : [end] "r"(end), __VA_ARGS__                                                                      \
                     : "r8", "r9", "r10", "r11", "cc", "memory");                                                     \
    i += (n - i) & ~3;                                                                                                  \
  }
/* bg_mult_apply32_high: SMMLA with the rounding's half, then the shift */
#define BG_CODE_HIGH_ASM(r) "smmla " r ", " r ", %[m], %[half]\n\tasr " r ", " r ", %[j]\n\t"
/* bg_mult_apply_q32: the pre-shift, then SMMULR */
#define BG_CODE_Q32_ASM(r) "lsl " r ", " r ", %[pre]\n\tsmmulr " r ", " r ", %[m]\n\t"
#else
#define BG_CODES_BY_WORDS(code, ...)
#endif
  if (high) {
    BG_CODES_BY_WORDS(BG_CODE_HIGH_ASM, [m] "r"(inv.m), [half] "r"((int32_t)1 << (inv.shift - 33)), [j] "r"(inv.shift - 32))
    for (; i < n; ++i) q[i] = (int8_t)bg_mult_apply32_high(y[i], inv);
  } else if (bg_mult_apply32_safe(inv, m)) {
#if defined(BG_HAS_SMMULR)
    bg_mult_q32 k32;
    if (bg_mult_q32_form(inv, m, &k32)) { /* one SMMULR a code: the same integers */
      BG_CODES_BY_WORDS(BG_CODE_Q32_ASM, [m] "r"(k32.m), [pre] "r"(k32.pre))
      for (; i < n; ++i) q[i] = (int8_t)bg_mult_apply_q32(y[i], k32);
      return;
    }
#endif
    for (; i < n; ++i) q[i] = (int8_t)bg_mult_apply32_unchecked(y[i], inv);
  } else {
    for (i = 0; i < n; ++i) q[i] = bg_quantize_one(y[i], inv, 127);
  }
#undef BG_CODES_BY_WORDS
#undef BG_CODE4
#undef BG_CODE_HIGH_ASM
#undef BG_CODE_Q32_ASM
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
  int32_t r = 0, k, n;
#if defined(BITGPT_USE_AVX2)
  if (rows.fast && (w->dtype == BG_W_TERNARY_P128 || w->dtype == BG_W_INT8)) { /* eight rows scaled at once */
    const int32_t sum_x = w->dtype == BG_W_TERNARY_P128 ? bg_codes_sum(x, w->cols) : 0;
    for (; r + 8 <= w->rows; r += 8) {
      const uint8_t *row = w->data + (int64_t)r * w->row_bytes;
      __m256i dots;
      if (w->dtype == BG_W_TERNARY_P128) {
        dots = bg_p128_rows4x2(row, row + 4 * w->row_bytes, w->row_bytes, x, sum_x, w->cols);
      } else { /* int8: one pass of eight or two of four */
        int32_t dot[8];
        if (bg_row_dots(w, r, x, dot) == 4) bg_row_dots(w, r + 4, x, dot + 4);
        dots = _mm256_loadu_si256((const __m256i *)dot);
      }
      bg_avx2_scale_rows8(dots, rows.shared, out + r, accumulate);
    }
  }
#endif
  for (; r < w->rows; r += n) {
    int32_t dot[BG_ROW_DOTS_MAX];
    n = bg_row_dots(w, r, x, dot);
#if defined(BITGPT_USE_MVE)
    if (n == 4 && rows.fast) { /* four rows scaled at once */
      bg_mve_scale_rows4(dot, rows.shared, out + r, accumulate);
      continue;
    }
#endif
    for (k = 0; k < n; ++k) {
      const int32_t z = bg_row_scale(&rows, r + k, dot[k]);
      out[r + k] = accumulate ? bg_add_sat32(out[r + k], z) : z;
    }
  }
}

/* Two or three products of one input, each stored to an output of its own (the
 * attention's wq, wk and wv; w3 and out3 NULL for two): bg_op_matvec on each. */
static inline void bg_op_matvecs(const bg_matrix *w1, const bg_matrix *w2, const bg_matrix *w3, const int8_t *x, int32_t amax, int32_t *out1,
                                 int32_t *out2, int32_t *out3) {
  bg_op_matvec(w1, x, amax, out1, BG_STORE);
  bg_op_matvec(w2, x, amax, out2, BG_STORE);
  if (w3) bg_op_matvec(w3, x, amax, out3, BG_STORE);
}

static inline void bg_op_add(const int32_t *a, const int32_t *b, int32_t *out, int32_t n) {
  int32_t i;
  for (i = 0; i < n; ++i) out[i] = bg_add_sat32(a[i], b[i]);
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

#include "bitgpt_attention.h"

#ifdef __cplusplus
}
#endif

#endif /* BITGPT_OPS_H */
