/* bitgpt_smlad.h - integer dot products on the Armv7E-M DSP extension (Cortex-M4, M7,
 * M33, M55): SXTB16 unpacks four int8 activations into two int16 pairs, (x0, x2) and
 * (x1, x3); SMLAD multiplies two pairs and adds both products in one instruction. A byte
 * of 2-bit ternary codes expands through bg_smlad_w02/w13 (2 KiB of flash) straight into
 * the matching weight pairs (w0, w2) and (w1, w3); int8 weights unpack like activations.
 * Two rows are done at once so each activation word is loaded and unpacked once for both.
 *
 * The sums are the same integers as bg_row_dot's in another order, so the results are
 * bit-identical. The emitted code defines BITGPT_KERNEL_SMLAD for targets whose table
 * row says they have the DSP extension (targets/target.cpp). */
#ifndef BITGPT_SMLAD_H
#define BITGPT_SMLAD_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* For a byte b of 2-bit codes, the weights w_k = code(bits 2k..2k+1) (01 = +1, 11 = -1,
 * else 0) as int16 pairs: bg_smlad_w02[b] = w0 | w2 << 16, bg_smlad_w13[b] = w1 | w3 << 16,
 * the lanes SXTB16 gives activations in. Two tables so each is one indexed load. */
static const uint32_t bg_smlad_w02[256] = {
  0x00000000u, 0x00000001u, 0x00000000u, 0x0000ffffu, 0x00000000u, 0x00000001u, 0x00000000u, 0x0000ffffu,
  0x00000000u, 0x00000001u, 0x00000000u, 0x0000ffffu, 0x00000000u, 0x00000001u, 0x00000000u, 0x0000ffffu,
  0x00010000u, 0x00010001u, 0x00010000u, 0x0001ffffu, 0x00010000u, 0x00010001u, 0x00010000u, 0x0001ffffu,
  0x00010000u, 0x00010001u, 0x00010000u, 0x0001ffffu, 0x00010000u, 0x00010001u, 0x00010000u, 0x0001ffffu,
  0x00000000u, 0x00000001u, 0x00000000u, 0x0000ffffu, 0x00000000u, 0x00000001u, 0x00000000u, 0x0000ffffu,
  0x00000000u, 0x00000001u, 0x00000000u, 0x0000ffffu, 0x00000000u, 0x00000001u, 0x00000000u, 0x0000ffffu,
  0xffff0000u, 0xffff0001u, 0xffff0000u, 0xffffffffu, 0xffff0000u, 0xffff0001u, 0xffff0000u, 0xffffffffu,
  0xffff0000u, 0xffff0001u, 0xffff0000u, 0xffffffffu, 0xffff0000u, 0xffff0001u, 0xffff0000u, 0xffffffffu,
  0x00000000u, 0x00000001u, 0x00000000u, 0x0000ffffu, 0x00000000u, 0x00000001u, 0x00000000u, 0x0000ffffu,
  0x00000000u, 0x00000001u, 0x00000000u, 0x0000ffffu, 0x00000000u, 0x00000001u, 0x00000000u, 0x0000ffffu,
  0x00010000u, 0x00010001u, 0x00010000u, 0x0001ffffu, 0x00010000u, 0x00010001u, 0x00010000u, 0x0001ffffu,
  0x00010000u, 0x00010001u, 0x00010000u, 0x0001ffffu, 0x00010000u, 0x00010001u, 0x00010000u, 0x0001ffffu,
  0x00000000u, 0x00000001u, 0x00000000u, 0x0000ffffu, 0x00000000u, 0x00000001u, 0x00000000u, 0x0000ffffu,
  0x00000000u, 0x00000001u, 0x00000000u, 0x0000ffffu, 0x00000000u, 0x00000001u, 0x00000000u, 0x0000ffffu,
  0xffff0000u, 0xffff0001u, 0xffff0000u, 0xffffffffu, 0xffff0000u, 0xffff0001u, 0xffff0000u, 0xffffffffu,
  0xffff0000u, 0xffff0001u, 0xffff0000u, 0xffffffffu, 0xffff0000u, 0xffff0001u, 0xffff0000u, 0xffffffffu,
  0x00000000u, 0x00000001u, 0x00000000u, 0x0000ffffu, 0x00000000u, 0x00000001u, 0x00000000u, 0x0000ffffu,
  0x00000000u, 0x00000001u, 0x00000000u, 0x0000ffffu, 0x00000000u, 0x00000001u, 0x00000000u, 0x0000ffffu,
  0x00010000u, 0x00010001u, 0x00010000u, 0x0001ffffu, 0x00010000u, 0x00010001u, 0x00010000u, 0x0001ffffu,
  0x00010000u, 0x00010001u, 0x00010000u, 0x0001ffffu, 0x00010000u, 0x00010001u, 0x00010000u, 0x0001ffffu,
  0x00000000u, 0x00000001u, 0x00000000u, 0x0000ffffu, 0x00000000u, 0x00000001u, 0x00000000u, 0x0000ffffu,
  0x00000000u, 0x00000001u, 0x00000000u, 0x0000ffffu, 0x00000000u, 0x00000001u, 0x00000000u, 0x0000ffffu,
  0xffff0000u, 0xffff0001u, 0xffff0000u, 0xffffffffu, 0xffff0000u, 0xffff0001u, 0xffff0000u, 0xffffffffu,
  0xffff0000u, 0xffff0001u, 0xffff0000u, 0xffffffffu, 0xffff0000u, 0xffff0001u, 0xffff0000u, 0xffffffffu,
  0x00000000u, 0x00000001u, 0x00000000u, 0x0000ffffu, 0x00000000u, 0x00000001u, 0x00000000u, 0x0000ffffu,
  0x00000000u, 0x00000001u, 0x00000000u, 0x0000ffffu, 0x00000000u, 0x00000001u, 0x00000000u, 0x0000ffffu,
  0x00010000u, 0x00010001u, 0x00010000u, 0x0001ffffu, 0x00010000u, 0x00010001u, 0x00010000u, 0x0001ffffu,
  0x00010000u, 0x00010001u, 0x00010000u, 0x0001ffffu, 0x00010000u, 0x00010001u, 0x00010000u, 0x0001ffffu,
  0x00000000u, 0x00000001u, 0x00000000u, 0x0000ffffu, 0x00000000u, 0x00000001u, 0x00000000u, 0x0000ffffu,
  0x00000000u, 0x00000001u, 0x00000000u, 0x0000ffffu, 0x00000000u, 0x00000001u, 0x00000000u, 0x0000ffffu,
  0xffff0000u, 0xffff0001u, 0xffff0000u, 0xffffffffu, 0xffff0000u, 0xffff0001u, 0xffff0000u, 0xffffffffu,
  0xffff0000u, 0xffff0001u, 0xffff0000u, 0xffffffffu, 0xffff0000u, 0xffff0001u, 0xffff0000u, 0xffffffffu,
};
static const uint32_t bg_smlad_w13[256] = {
  0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u, 0x00000001u, 0x00000001u, 0x00000001u, 0x00000001u,
  0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u, 0x0000ffffu, 0x0000ffffu, 0x0000ffffu, 0x0000ffffu,
  0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u, 0x00000001u, 0x00000001u, 0x00000001u, 0x00000001u,
  0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u, 0x0000ffffu, 0x0000ffffu, 0x0000ffffu, 0x0000ffffu,
  0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u, 0x00000001u, 0x00000001u, 0x00000001u, 0x00000001u,
  0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u, 0x0000ffffu, 0x0000ffffu, 0x0000ffffu, 0x0000ffffu,
  0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u, 0x00000001u, 0x00000001u, 0x00000001u, 0x00000001u,
  0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u, 0x0000ffffu, 0x0000ffffu, 0x0000ffffu, 0x0000ffffu,
  0x00010000u, 0x00010000u, 0x00010000u, 0x00010000u, 0x00010001u, 0x00010001u, 0x00010001u, 0x00010001u,
  0x00010000u, 0x00010000u, 0x00010000u, 0x00010000u, 0x0001ffffu, 0x0001ffffu, 0x0001ffffu, 0x0001ffffu,
  0x00010000u, 0x00010000u, 0x00010000u, 0x00010000u, 0x00010001u, 0x00010001u, 0x00010001u, 0x00010001u,
  0x00010000u, 0x00010000u, 0x00010000u, 0x00010000u, 0x0001ffffu, 0x0001ffffu, 0x0001ffffu, 0x0001ffffu,
  0x00010000u, 0x00010000u, 0x00010000u, 0x00010000u, 0x00010001u, 0x00010001u, 0x00010001u, 0x00010001u,
  0x00010000u, 0x00010000u, 0x00010000u, 0x00010000u, 0x0001ffffu, 0x0001ffffu, 0x0001ffffu, 0x0001ffffu,
  0x00010000u, 0x00010000u, 0x00010000u, 0x00010000u, 0x00010001u, 0x00010001u, 0x00010001u, 0x00010001u,
  0x00010000u, 0x00010000u, 0x00010000u, 0x00010000u, 0x0001ffffu, 0x0001ffffu, 0x0001ffffu, 0x0001ffffu,
  0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u, 0x00000001u, 0x00000001u, 0x00000001u, 0x00000001u,
  0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u, 0x0000ffffu, 0x0000ffffu, 0x0000ffffu, 0x0000ffffu,
  0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u, 0x00000001u, 0x00000001u, 0x00000001u, 0x00000001u,
  0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u, 0x0000ffffu, 0x0000ffffu, 0x0000ffffu, 0x0000ffffu,
  0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u, 0x00000001u, 0x00000001u, 0x00000001u, 0x00000001u,
  0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u, 0x0000ffffu, 0x0000ffffu, 0x0000ffffu, 0x0000ffffu,
  0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u, 0x00000001u, 0x00000001u, 0x00000001u, 0x00000001u,
  0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u, 0x0000ffffu, 0x0000ffffu, 0x0000ffffu, 0x0000ffffu,
  0xffff0000u, 0xffff0000u, 0xffff0000u, 0xffff0000u, 0xffff0001u, 0xffff0001u, 0xffff0001u, 0xffff0001u,
  0xffff0000u, 0xffff0000u, 0xffff0000u, 0xffff0000u, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu,
  0xffff0000u, 0xffff0000u, 0xffff0000u, 0xffff0000u, 0xffff0001u, 0xffff0001u, 0xffff0001u, 0xffff0001u,
  0xffff0000u, 0xffff0000u, 0xffff0000u, 0xffff0000u, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu,
  0xffff0000u, 0xffff0000u, 0xffff0000u, 0xffff0000u, 0xffff0001u, 0xffff0001u, 0xffff0001u, 0xffff0001u,
  0xffff0000u, 0xffff0000u, 0xffff0000u, 0xffff0000u, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu,
  0xffff0000u, 0xffff0000u, 0xffff0000u, 0xffff0000u, 0xffff0001u, 0xffff0001u, 0xffff0001u, 0xffff0001u,
  0xffff0000u, 0xffff0000u, 0xffff0000u, 0xffff0000u, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu,
};

#if defined(BITGPT_USE_SMLAD)
#include <arm_acle.h>
#include <string.h>

static inline uint32_t bg_load_u32(const void *p) {
  uint32_t v;
  memcpy(&v, p, 4); /* one LDR: Armv7-M loads unaligned words */
  return v;
}

/* SXTB16 of the word rotated by 8 bits: lanes (x1, x3). GCC does not fold the rotation
 * into the instruction from C. */
static inline int32_t bg_sxtb16_ror8(uint32_t v) {
  int32_t r;
  __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(v));
  return r;
}

/* Dot products of two rows (ternary 2-bit, or int8 when int8 != 0) with x over the
 * first cols4 columns, a multiple of 4; returned in *da and *db. */
static inline void bg_smlad_dot2(const uint8_t *ra, const uint8_t *rb, int32_t int8, const int8_t *x, int32_t cols4, int32_t *da, int32_t *db) {
  const int8_t *const end = x + cols4;
  int32_t acc_a = 0, acc_b = 0;
  if (!int8) {
    const uint32_t *w02 = bg_smlad_w02, *w13 = bg_smlad_w13;
    /* Opaque to the optimiser: keeps both table addresses in registers instead of
     * reloading them from the literal pool on every iteration. */
    __asm__("" : "+r"(w02), "+r"(w13));
    for (; x < end; x += 4) {
      const uint32_t xw = bg_load_u32(x);
      const int32_t x02 = (int32_t)__sxtb16(xw), x13 = bg_sxtb16_ror8(xw);
      const uint32_t ba = *ra++, bb = *rb++;
      acc_a = __smlad((int32_t)w02[ba], x02, acc_a);
      acc_b = __smlad((int32_t)w02[bb], x02, acc_b);
      acc_a = __smlad((int32_t)w13[ba], x13, acc_a);
      acc_b = __smlad((int32_t)w13[bb], x13, acc_b);
    }
  } else {
    for (; x < end; x += 4, ra += 4, rb += 4) {
      const uint32_t xw = bg_load_u32(x), wa = bg_load_u32(ra), wb = bg_load_u32(rb);
      const int32_t x02 = (int32_t)__sxtb16(xw), x13 = bg_sxtb16_ror8(xw);
      acc_a = __smlad((int32_t)__sxtb16(wa), x02, acc_a);
      acc_a = __smlad(bg_sxtb16_ror8(wa), x13, acc_a);
      acc_b = __smlad((int32_t)__sxtb16(wb), x02, acc_b);
      acc_b = __smlad(bg_sxtb16_ror8(wb), x13, acc_b);
    }
  }
  *da = acc_a;
  *db = acc_b;
}
/* Dot product of n int8 codes (n a multiple of 4) with int8 codes: a query against a
 * cached key. */
static inline int32_t bg_smlad_dot_i8(const int8_t *a, const int8_t *b, int32_t n) {
  const int8_t *const end = a + n;
  int32_t acc = 0;
  for (; a < end; a += 4, b += 4) {
    const uint32_t wa = bg_load_u32(a), wb = bg_load_u32(b);
    acc = __smlad((int32_t)__sxtb16(wa), (int32_t)__sxtb16(wb), acc);
    acc = __smlad(bg_sxtb16_ror8(wa), bg_sxtb16_ror8(wb), acc);
  }
  return acc;
}
#endif /* BITGPT_USE_SMLAD */

#ifdef __cplusplus
}
#endif

#endif /* BITGPT_SMLAD_H */
