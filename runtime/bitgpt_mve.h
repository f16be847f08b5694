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

/* Dot product of a 2-bit ternary row with x over n columns (a multiple of 16). */
static inline int32_t bg_mve_dot_ternary2(const uint8_t *row, const int8_t *x, int32_t n) {
  static const uint8_t byte_of_lane[16] = {0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3};
  static const int8_t field_to_top[16] = {6, 4, 2, 0, 6, 4, 2, 0, 6, 4, 2, 0, 6, 4, 2, 0};
  const uint8x16_t offsets = vld1q_u8(byte_of_lane);
  const int8x16_t shifts = vld1q_s8(field_to_top);
  int32_t acc = 0, j;
  for (j = 0; j < n; j += 16, row += 4) {
    const int8x16_t codes = vreinterpretq_s8_u8(vldrbq_gather_offset_u8(row, offsets));
    const int8x16_t w = vshrq_n_s8(vshlq_s8(codes, shifts), 6);
    acc = vmladavaq_s8(acc, vld1q_s8(x + j), w);
  }
  return acc;
}

/* Dot product of two int8 vectors over n elements (a multiple of 16): int8 weight rows,
 * and a query against a cached key. */
static inline int32_t bg_mve_dot_int8(const int8_t *a, const int8_t *b, int32_t n) {
  int32_t acc = 0, j;
  for (j = 0; j < n; j += 16) acc = vmladavaq_s8(acc, vld1q_s8(a + j), vld1q_s8(b + j));
  return acc;
}

#ifdef __cplusplus
}
#endif

#endif /* BITGPT_MVE_H */
