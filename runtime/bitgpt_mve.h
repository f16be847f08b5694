/* bitgpt_mve.h - integer dot products on Helium (M-profile Vector Extension, Cortex-M55):
 * sixteen int8 activations per vector load, sixteen products summed into a scalar by one
 * VMLADAVA. A 2-bit ternary row is expanded in registers: a gather load puts byte j / 4
 * of the four weight bytes in lane j, a per-lane left shift moves the lane's 2-bit field
 * to the top, and an arithmetic shift right by 6 sign-extends it into the weight.
 *
 * The sums are the same integers as bg_row_dot's in another order, so the results are
 * bit-identical. The emitted code defines BITGPT_KERNEL_MVE for targets whose table row
 * says they have MVE (targets/target.cpp). */
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

#ifdef __cplusplus
}
#endif

#endif /* BITGPT_MVE_H */
