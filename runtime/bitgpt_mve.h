/* bitgpt_mve.h - Helium (M-profile Vector Extension, Cortex-M55) forms of the runtime's
 * integer steps.
 *
 * Dot products: sixteen int8 activations per vector load, sixteen products summed into a
 * scalar by one VMLADAVA. A 2-bit ternary row is expanded in registers: a gather load puts
 * byte j / 4 of the four weight bytes in lane j, a per-lane left shift moves the lane's
 * 2-bit field to the top, and an arithmetic shift right by 6 sign-extends it into the
 * weight; rows of 128-weight blocks (BG_W_TERNARY_P128) take a shift and a mask a group.
 * The sums are the same integers as bg_row_dot's in another order, so the results are
 * bit-identical.
 *
 * Element-wise steps (attention's value sum, the FFN's gating, norms, quantisation, row
 * scaling), four 32-bit lanes at a time: each is the scalar helper's arithmetic lane by
 * lane, taken only where the scalar code takes the same fast path.
 *
 * The emitted code defines BITGPT_KERNEL_MVE for targets whose table row says they have
 * MVE (targets/target.cpp). */
#ifndef BITGPT_MVE_H
#define BITGPT_MVE_H

#include <arm_mve.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The gather offsets and shifts that expand four bytes of 2-bit codes into sixteen lanes. */
static const uint8_t bg_mve_byte_of_lane[16] = {0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3};
static const int8_t bg_mve_field_to_top[16] = {6, 4, 2, 0, 6, 4, 2, 0, 6, 4, 2, 0, 6, 4, 2, 0};

/* Sixteen weights of a 2-bit ternary row (four bytes at row) as int8 lanes. */
static inline int8x16_t bg_mve_trits(const uint8_t *row, uint8x16_t offsets, int8x16_t shifts) {
  return vshrq_n_s8(vshlq_s8(vreinterpretq_s8_u8(vldrbq_gather_offset_u8(row, offsets)), shifts), 6);
}

/* Dot product of a 2-bit ternary row with x over n columns (a multiple of 16). */
static inline int32_t bg_mve_dot_ternary2(const uint8_t *row, const int8_t *x, int32_t n) {
  const uint8x16_t offsets = vld1q_u8(bg_mve_byte_of_lane);
  const int8x16_t shifts = vld1q_s8(bg_mve_field_to_top);
  int32_t acc = 0, j;
  for (j = 0; j < n; j += 16, row += 4) acc = vmladavaq_s8(acc, vld1q_s8(x + j), bg_mve_trits(row, offsets, shifts));
  return acc;
}

/* Four rows r0..r3 (int8, or 2-bit ternary) against x over n columns (a multiple of 16):
 * each activation vector is loaded once for the four rows. */
static inline void bg_mve_dot4(const uint8_t *r0, const uint8_t *r1, const uint8_t *r2, const uint8_t *r3, int32_t int8, const int8_t *x, int32_t n,
                               int32_t *dot) {
  int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, j;
  if (int8) {
    for (j = 0; j < n; j += 16) {
      const int8x16_t v = vld1q_s8(x + j);
      a0 = vmladavaq_s8(a0, v, vld1q_s8((const int8_t *)r0 + j));
      a1 = vmladavaq_s8(a1, v, vld1q_s8((const int8_t *)r1 + j));
      a2 = vmladavaq_s8(a2, v, vld1q_s8((const int8_t *)r2 + j));
      a3 = vmladavaq_s8(a3, v, vld1q_s8((const int8_t *)r3 + j));
    }
  } else {
    const uint8x16_t offsets = vld1q_u8(bg_mve_byte_of_lane);
    const int8x16_t shifts = vld1q_s8(bg_mve_field_to_top);
    for (j = 0; j < n; j += 16, r0 += 4, r1 += 4, r2 += 4, r3 += 4) {
      const int8x16_t v = vld1q_s8(x + j);
      a0 = vmladavaq_s8(a0, v, bg_mve_trits(r0, offsets, shifts));
      a1 = vmladavaq_s8(a1, v, bg_mve_trits(r1, offsets, shifts));
      a2 = vmladavaq_s8(a2, v, bg_mve_trits(r2, offsets, shifts));
      a3 = vmladavaq_s8(a3, v, bg_mve_trits(r3, offsets, shifts));
    }
  }
  dot[0] = a0, dot[1] = a1, dot[2] = a2, dot[3] = a3;
}

/* Four rows of BG_W_TERNARY_P128 blocks (bitgpt_ops.h) against x over cols (a multiple
 * of 128): a 16-byte load of a row holds four groups of 16 consecutive weights as w + 1
 * in 2-bit fields (groups 32 weights apart), each pulled out by a shift and a mask;
 * VMLADAVA sums x times (w + 1), and the codes' sum, taken once for the four rows, comes
 * off at the end. 0.24 instructions a weight in GCC's loop, against 0.41 for the 2-bit
 * rows' gather, shift and sign extension. */
static inline void bg_mve_p128_dot4(const uint8_t *r0, const uint8_t *r1, const uint8_t *r2, const uint8_t *r3, const int8_t *x, int32_t cols,
                                    int32_t *dot) {
  const uint8x16_t three = vdupq_n_u8(3);
  int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, sum_x = 0, at;
  /* the four groups' activations, then one row at a time: seven vector registers live */
  for (at = 0; at < cols / 4; at += 16) { /* bytes at.. of each row: half of a block */
    const int8_t *xb = x + 128 * (at >> 5) + (at & 31); /* the block's activations, the half's first group */
    const int8x16_t x0 = vld1q_s8(xb), x1 = vld1q_s8(xb + 32), x2 = vld1q_s8(xb + 64), x3 = vld1q_s8(xb + 96);
    sum_x = vaddvaq_s8(vaddvaq_s8(vaddvaq_s8(vaddvaq_s8(sum_x, x0), x1), x2), x3);
#define BG_MVE_P128_ROW(a, r)                                                      \
  {                                                                                \
    const uint8x16_t b = vld1q_u8(r + at);                                         \
    a = vmladavaq_s8(a, x0, vreinterpretq_s8_u8(vandq_u8(b, three)));              \
    a = vmladavaq_s8(a, x1, vreinterpretq_s8_u8(vandq_u8(vshrq_n_u8(b, 2), three))); \
    a = vmladavaq_s8(a, x2, vreinterpretq_s8_u8(vandq_u8(vshrq_n_u8(b, 4), three))); \
    a = vmladavaq_s8(a, x3, vreinterpretq_s8_u8(vshrq_n_u8(b, 6)));                \
  }
    /* each row's load made to wait for the previous row's sum (an empty asm ties the
     * pointer to it): loaded together, the four rows' blocks would not fit the eight
     * vector registers beside the activations, and the compilers spill them */
    BG_MVE_P128_ROW(a0, r0)
    __asm__("" : "+r"(r1) : "r"(a0));
    BG_MVE_P128_ROW(a1, r1)
    __asm__("" : "+r"(r2) : "r"(a1));
    BG_MVE_P128_ROW(a2, r2)
    __asm__("" : "+r"(r3) : "r"(a2));
    BG_MVE_P128_ROW(a3, r3)
#undef BG_MVE_P128_ROW
  }
  dot[0] = a0 - sum_x, dot[1] = a1 - sum_x, dot[2] = a2 - sum_x, dot[3] = a3 - sum_x;
}

/* Dot product of two int8 vectors over n elements (a multiple of 16): int8 weight rows,
 * and a query against a cached key. */
static inline int32_t bg_mve_dot_int8(const int8_t *a, const int8_t *b, int32_t n) {
  int32_t acc = 0, j;
  for (j = 0; j < n; j += 16) acc = vmladavaq_s8(acc, vld1q_s8(a + j), vld1q_s8(b + j));
  return acc;
}

/* acc[i] += sum over four tokens of w * their cached value element i, i < n: each
 * value row is at base + its lane's offset; a gather load puts the four rows' element i
 * in the lanes and one VMLALDAVA adds the four 32 x 32-bit products into the 64-bit
 * sum (weights that fit 32 bits; unused lanes weigh 0). */
static inline void bg_mve_weighted_rows4(const int8_t *base, uint32x4_t offsets, int32x4_t w, int32_t n, int64_t *acc) {
  int32_t i;
  for (i = 0; i < n; ++i) acc[i] = vmlaldavaq_s32(acc[i], w, vldrbq_gather_offset_s32(base + i, offsets));
}

/* The same over eight tokens, as two groups of four lanes, in one pass over acc. */
static inline void bg_mve_weighted_rows8(const int8_t *base, uint32x4_t offsets_a, int32x4_t w_a, uint32x4_t offsets_b, int32x4_t w_b, int32_t n,
                                         int64_t *acc) {
  int32_t i;
  for (i = 0; i < n; ++i)
    acc[i] = vmlaldavaq_s32(vmlaldavaq_s32(acc[i], w_a, vldrbq_gather_offset_s32(base + i, offsets_a)), w_b,
                            vldrbq_gather_offset_s32(base + i, offsets_b));
}

/* ---- element-wise steps, four lanes: the scalar definitions' integers ---- */

/* bg_mult_apply32_unchecked on four lanes, each with its own multiplier m (shift in
 * [2, 32], and bounds the caller has proven keep the shifted product within 32 bits): the
 * product's bits from shift - 1 up, assembled from its high word (VMULH) and low word
 * (VMUL), then rounded by the last bit: VRSHR #1 is (t + 1) >> 1 without overflow, which
 * is (t >> 1) + (t & 1). */
static inline int32x4_t bg_mve_apply32_unchecked(int32x4_t x, int32x4_t m, int32_t shift) {
  const int32_t sh = shift - 1; /* 1..31 */
  const uint32x4_t low = vshlq_r_u32(vreinterpretq_u32_s32(vmulq_s32(x, m)), -sh);
  const int32x4_t high = vshlq_r_s32(vmulhq_s32(x, m), 32 - sh);
  return vrshrq_n_s32(vorrq_s32(vreinterpretq_s32_u32(low), high), 1);
}

/* The largest bg_abs32(v) of four lanes and m: VQABS saturates INT32_MIN to INT32_MAX
 * as bg_abs32 does. */
static inline int32x4_t bg_mve_max_abs(int32x4_t m, int32x4_t v) { return vmaxq_s32(m, vqabsq_s32(v)); }

/* sum x[i]^2 over i < n (a multiple of 4) in 64 bits: VMLALDAVA's sum wraps modulo 2^64
 * as the scalar loop's uint64 does. */
static inline uint64_t bg_mve_sum_squares(const int32_t *x, int32_t n) {
  int64_t acc = 0;
  int32_t i;
  for (i = 0; i < n; i += 4) {
    const int32x4_t v = vld1q_s32(x + i);
    acc = vmlaldavaq_s32(acc, v, v);
  }
  return (uint64_t)acc;
}

/* bg_amax over i < n (a multiple of 4). */
static inline int32_t bg_mve_amax(const int32_t *y, int32_t n) {
  int32x4_t m = vdupq_n_s32(0);
  int32_t i;
  for (i = 0; i < n; i += 4) m = bg_mve_max_abs(m, vld1q_s32(y + i));
  return vmaxvq_s32(0, m);
}

/* bg_rms_codes_pass over i < n (a multiple of 4) for gains shifted by b >= 0: p = round((x
 * << e) (g << b) / 2^31), one VQRDMULH a lane (|g << b| < 2^30: it never saturates), into
 * p; returns max |p|. */
static inline int32_t bg_mve_rms_codes_pass(const int32_t *x, const int32_t *g, int32_t n, int32_t e, int32_t b, int32_t *p) {
  int32x4_t m = vdupq_n_s32(0);
  int32_t i;
  for (i = 0; i < n; i += 4) {
    const int32x4_t xe = vreinterpretq_s32_u32(vshlq_r_u32(vld1q_u32((const uint32_t *)(x + i)), e));
    const int32x4_t q = vqrdmulhq_s32(xe, vshlq_r_s32(vld1q_s32(g + i), b));
    vst1q_s32(p + i, q);
    m = bg_mve_max_abs(m, q);
  }
  return vmaxvq_s32(0, m);
}

/* bg_quantize_codes' two unchecked loops over i < n (a multiple of 4): for a shift in
 * [33, 62] the product's high word (VMULH) shifted and rounded by its last bit, else
 * bg_mve_apply32_unchecked; codes within [-127, 127], stored as bytes. */
static inline void bg_mve_quantize_codes(const int32_t *y, int32_t n, bg_mult inv, int8_t *q) {
  const int32x4_t m = vdupq_n_s32(inv.m);
  int32_t i;
  if (inv.shift >= 33)
    for (i = 0; i < n; i += 4) vstrbq_s32(q + i, vrshrq_n_s32(vshlq_r_s32(vmulhq_s32(vld1q_s32(y + i), m), 33 - inv.shift), 1));
  else
    for (i = 0; i < n; i += 4) vstrbq_s32(q + i, bg_mve_apply32_unchecked(vld1q_s32(y + i), m, inv.shift));
}

/* out[0..3] = bg_mult_apply32_unchecked(dot[k], k) (accumulate 0), or out[k] plus it
 * saturated (accumulate 1: the residual add; VQADD is bg_sat32 of the 64-bit sum). */
static inline void bg_mve_scale_rows4(const int32_t *dot, bg_mult k, int32_t *out, int32_t accumulate) {
  const int32x4_t z = bg_mve_apply32_unchecked(vld1q_s32(dot), vdupq_n_s32(k.m), k.shift);
  vst1q_s32(out, accumulate ? vqaddq_s32(vld1q_s32(out), z) : z);
}

/* bg_sigmoid_q16 on four lanes: both table entries by gather loads, the interpolation,
 * 0 past the table, mirrored for x >= 0. */
static inline int32x4_t bg_mve_sigmoid_q16(int32x4_t x) {
  const uint32x4_t u = vreinterpretq_u32_s32(vabsq_s32(x)); /* INT32_MIN stays 2^31 as unsigned, past the table */
  const mve_pred16_t past_table = vcmpcsq_n_u32(u, 16u << 16); /* u >= 16 in Q16 */
  const uint32x4_t index = vminq_u32(vshrq_n_u32(u, 10), vdupq_n_u32(1023));
  const int32x4_t a = vreinterpretq_s32_u32(vldrhq_gather_shifted_offset_u32(bg_sigmoid_table, index));
  const int32x4_t b = vreinterpretq_s32_u32(vldrhq_gather_shifted_offset_u32(bg_sigmoid_table + 1, index));
  const int32x4_t frac = vreinterpretq_s32_u32(vandq_u32(u, vdupq_n_u32(1023)));
  const int32x4_t step = vshrq_n_s32(vaddq_n_s32(vmulq_s32(vsubq_s32(b, a), frac), 512), 10);
  const int32x4_t neg = vpselq_s32(vdupq_n_s32(0), vaddq_s32(a, step), past_table);
  return vpselq_s32(vsubq_s32(vdupq_n_s32(65536), neg), neg, vcmpgeq_n_s32(x, 0));
}

/* h[0..3] = bg_ffn_gate_row's fast path (SiLU; the gate's bounds prove no rounding
 * saturates) for four rows from their dot products as two four-row passes over rows r,
 * r + 1 of W1 and W3 leave them in d[0..7] (W1's two, W3's two; then rows r + 2, r + 3), with the
 * matrices' shared multipliers up and gate: silu(a) b as a sigma(a) b, each product
 * rounded as there. d may be h itself: both gathers read it before the store. */
#if defined(__GNUC__)
__attribute__((noinline)) /* its vector temporaries in a frame of its own, smaller than the row kernel's */
#endif
static void bg_mve_silu_gate4(const int32_t *d, bg_mult up, bg_mult gate, int32_t *h) {
  static const uint32_t w1_lanes[4] = {0, 1, 4, 5}, w3_lanes[4] = {2, 3, 6, 7};
  const int32x4_t d1 = vldrwq_gather_shifted_offset_s32(d, vld1q_u32(w1_lanes)), d3 = vldrwq_gather_shifted_offset_s32(d, vld1q_u32(w3_lanes));
  const int32x4_t a = bg_mve_apply32_unchecked(d1, vdupq_n_s32(up.m), up.shift);
  const int32x4_t b = bg_mve_apply32_unchecked(d3, vdupq_n_s32(gate.m), gate.shift);
  const int32x4_t silu = bg_mve_apply32_unchecked(a, bg_mve_sigmoid_q16(a), 16);
  vst1q_s32(h, bg_mve_apply32_unchecked(silu, b, 16));
}

#ifdef __cplusplus
}
#endif

#endif /* BITGPT_MVE_H */
