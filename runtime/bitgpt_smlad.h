/* bitgpt_smlad.h - integer dot products on the Armv7E-M DSP extension (Cortex-M4, M7,
 * M33, M55): SXTB16 unpacks four int8 activations into two int16 pairs, (x0, x2) and
 * (x1, x3); SMLAD multiplies two pairs and adds both products in one instruction. A byte
 * of 2-bit ternary codes expands through bg_smlad_pairs (2 KiB of flash) straight into
 * the matching weight pairs (w0, w2) and (w1, w3); int8 weights unpack like activations,
 * or, stored as int16 quads (BG_W_INT16_QUADS), come already in those lanes.
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
 * else 0) as int16 pairs in the lanes SXTB16 gives activations in:
 * bg_smlad_pairs[b] = {w0 | w2 << 16, w1 | w3 << 16}. */
static const uint32_t bg_smlad_pairs[256][2] = {
  {0x00000000u, 0x00000000u}, {0x00000001u, 0x00000000u}, {0x00000000u, 0x00000000u}, {0x0000ffffu, 0x00000000u},
  {0x00000000u, 0x00000001u}, {0x00000001u, 0x00000001u}, {0x00000000u, 0x00000001u}, {0x0000ffffu, 0x00000001u},
  {0x00000000u, 0x00000000u}, {0x00000001u, 0x00000000u}, {0x00000000u, 0x00000000u}, {0x0000ffffu, 0x00000000u},
  {0x00000000u, 0x0000ffffu}, {0x00000001u, 0x0000ffffu}, {0x00000000u, 0x0000ffffu}, {0x0000ffffu, 0x0000ffffu},
  {0x00010000u, 0x00000000u}, {0x00010001u, 0x00000000u}, {0x00010000u, 0x00000000u}, {0x0001ffffu, 0x00000000u},
  {0x00010000u, 0x00000001u}, {0x00010001u, 0x00000001u}, {0x00010000u, 0x00000001u}, {0x0001ffffu, 0x00000001u},
  {0x00010000u, 0x00000000u}, {0x00010001u, 0x00000000u}, {0x00010000u, 0x00000000u}, {0x0001ffffu, 0x00000000u},
  {0x00010000u, 0x0000ffffu}, {0x00010001u, 0x0000ffffu}, {0x00010000u, 0x0000ffffu}, {0x0001ffffu, 0x0000ffffu},
  {0x00000000u, 0x00000000u}, {0x00000001u, 0x00000000u}, {0x00000000u, 0x00000000u}, {0x0000ffffu, 0x00000000u},
  {0x00000000u, 0x00000001u}, {0x00000001u, 0x00000001u}, {0x00000000u, 0x00000001u}, {0x0000ffffu, 0x00000001u},
  {0x00000000u, 0x00000000u}, {0x00000001u, 0x00000000u}, {0x00000000u, 0x00000000u}, {0x0000ffffu, 0x00000000u},
  {0x00000000u, 0x0000ffffu}, {0x00000001u, 0x0000ffffu}, {0x00000000u, 0x0000ffffu}, {0x0000ffffu, 0x0000ffffu},
  {0xffff0000u, 0x00000000u}, {0xffff0001u, 0x00000000u}, {0xffff0000u, 0x00000000u}, {0xffffffffu, 0x00000000u},
  {0xffff0000u, 0x00000001u}, {0xffff0001u, 0x00000001u}, {0xffff0000u, 0x00000001u}, {0xffffffffu, 0x00000001u},
  {0xffff0000u, 0x00000000u}, {0xffff0001u, 0x00000000u}, {0xffff0000u, 0x00000000u}, {0xffffffffu, 0x00000000u},
  {0xffff0000u, 0x0000ffffu}, {0xffff0001u, 0x0000ffffu}, {0xffff0000u, 0x0000ffffu}, {0xffffffffu, 0x0000ffffu},
  {0x00000000u, 0x00010000u}, {0x00000001u, 0x00010000u}, {0x00000000u, 0x00010000u}, {0x0000ffffu, 0x00010000u},
  {0x00000000u, 0x00010001u}, {0x00000001u, 0x00010001u}, {0x00000000u, 0x00010001u}, {0x0000ffffu, 0x00010001u},
  {0x00000000u, 0x00010000u}, {0x00000001u, 0x00010000u}, {0x00000000u, 0x00010000u}, {0x0000ffffu, 0x00010000u},
  {0x00000000u, 0x0001ffffu}, {0x00000001u, 0x0001ffffu}, {0x00000000u, 0x0001ffffu}, {0x0000ffffu, 0x0001ffffu},
  {0x00010000u, 0x00010000u}, {0x00010001u, 0x00010000u}, {0x00010000u, 0x00010000u}, {0x0001ffffu, 0x00010000u},
  {0x00010000u, 0x00010001u}, {0x00010001u, 0x00010001u}, {0x00010000u, 0x00010001u}, {0x0001ffffu, 0x00010001u},
  {0x00010000u, 0x00010000u}, {0x00010001u, 0x00010000u}, {0x00010000u, 0x00010000u}, {0x0001ffffu, 0x00010000u},
  {0x00010000u, 0x0001ffffu}, {0x00010001u, 0x0001ffffu}, {0x00010000u, 0x0001ffffu}, {0x0001ffffu, 0x0001ffffu},
  {0x00000000u, 0x00010000u}, {0x00000001u, 0x00010000u}, {0x00000000u, 0x00010000u}, {0x0000ffffu, 0x00010000u},
  {0x00000000u, 0x00010001u}, {0x00000001u, 0x00010001u}, {0x00000000u, 0x00010001u}, {0x0000ffffu, 0x00010001u},
  {0x00000000u, 0x00010000u}, {0x00000001u, 0x00010000u}, {0x00000000u, 0x00010000u}, {0x0000ffffu, 0x00010000u},
  {0x00000000u, 0x0001ffffu}, {0x00000001u, 0x0001ffffu}, {0x00000000u, 0x0001ffffu}, {0x0000ffffu, 0x0001ffffu},
  {0xffff0000u, 0x00010000u}, {0xffff0001u, 0x00010000u}, {0xffff0000u, 0x00010000u}, {0xffffffffu, 0x00010000u},
  {0xffff0000u, 0x00010001u}, {0xffff0001u, 0x00010001u}, {0xffff0000u, 0x00010001u}, {0xffffffffu, 0x00010001u},
  {0xffff0000u, 0x00010000u}, {0xffff0001u, 0x00010000u}, {0xffff0000u, 0x00010000u}, {0xffffffffu, 0x00010000u},
  {0xffff0000u, 0x0001ffffu}, {0xffff0001u, 0x0001ffffu}, {0xffff0000u, 0x0001ffffu}, {0xffffffffu, 0x0001ffffu},
  {0x00000000u, 0x00000000u}, {0x00000001u, 0x00000000u}, {0x00000000u, 0x00000000u}, {0x0000ffffu, 0x00000000u},
  {0x00000000u, 0x00000001u}, {0x00000001u, 0x00000001u}, {0x00000000u, 0x00000001u}, {0x0000ffffu, 0x00000001u},
  {0x00000000u, 0x00000000u}, {0x00000001u, 0x00000000u}, {0x00000000u, 0x00000000u}, {0x0000ffffu, 0x00000000u},
  {0x00000000u, 0x0000ffffu}, {0x00000001u, 0x0000ffffu}, {0x00000000u, 0x0000ffffu}, {0x0000ffffu, 0x0000ffffu},
  {0x00010000u, 0x00000000u}, {0x00010001u, 0x00000000u}, {0x00010000u, 0x00000000u}, {0x0001ffffu, 0x00000000u},
  {0x00010000u, 0x00000001u}, {0x00010001u, 0x00000001u}, {0x00010000u, 0x00000001u}, {0x0001ffffu, 0x00000001u},
  {0x00010000u, 0x00000000u}, {0x00010001u, 0x00000000u}, {0x00010000u, 0x00000000u}, {0x0001ffffu, 0x00000000u},
  {0x00010000u, 0x0000ffffu}, {0x00010001u, 0x0000ffffu}, {0x00010000u, 0x0000ffffu}, {0x0001ffffu, 0x0000ffffu},
  {0x00000000u, 0x00000000u}, {0x00000001u, 0x00000000u}, {0x00000000u, 0x00000000u}, {0x0000ffffu, 0x00000000u},
  {0x00000000u, 0x00000001u}, {0x00000001u, 0x00000001u}, {0x00000000u, 0x00000001u}, {0x0000ffffu, 0x00000001u},
  {0x00000000u, 0x00000000u}, {0x00000001u, 0x00000000u}, {0x00000000u, 0x00000000u}, {0x0000ffffu, 0x00000000u},
  {0x00000000u, 0x0000ffffu}, {0x00000001u, 0x0000ffffu}, {0x00000000u, 0x0000ffffu}, {0x0000ffffu, 0x0000ffffu},
  {0xffff0000u, 0x00000000u}, {0xffff0001u, 0x00000000u}, {0xffff0000u, 0x00000000u}, {0xffffffffu, 0x00000000u},
  {0xffff0000u, 0x00000001u}, {0xffff0001u, 0x00000001u}, {0xffff0000u, 0x00000001u}, {0xffffffffu, 0x00000001u},
  {0xffff0000u, 0x00000000u}, {0xffff0001u, 0x00000000u}, {0xffff0000u, 0x00000000u}, {0xffffffffu, 0x00000000u},
  {0xffff0000u, 0x0000ffffu}, {0xffff0001u, 0x0000ffffu}, {0xffff0000u, 0x0000ffffu}, {0xffffffffu, 0x0000ffffu},
  {0x00000000u, 0xffff0000u}, {0x00000001u, 0xffff0000u}, {0x00000000u, 0xffff0000u}, {0x0000ffffu, 0xffff0000u},
  {0x00000000u, 0xffff0001u}, {0x00000001u, 0xffff0001u}, {0x00000000u, 0xffff0001u}, {0x0000ffffu, 0xffff0001u},
  {0x00000000u, 0xffff0000u}, {0x00000001u, 0xffff0000u}, {0x00000000u, 0xffff0000u}, {0x0000ffffu, 0xffff0000u},
  {0x00000000u, 0xffffffffu}, {0x00000001u, 0xffffffffu}, {0x00000000u, 0xffffffffu}, {0x0000ffffu, 0xffffffffu},
  {0x00010000u, 0xffff0000u}, {0x00010001u, 0xffff0000u}, {0x00010000u, 0xffff0000u}, {0x0001ffffu, 0xffff0000u},
  {0x00010000u, 0xffff0001u}, {0x00010001u, 0xffff0001u}, {0x00010000u, 0xffff0001u}, {0x0001ffffu, 0xffff0001u},
  {0x00010000u, 0xffff0000u}, {0x00010001u, 0xffff0000u}, {0x00010000u, 0xffff0000u}, {0x0001ffffu, 0xffff0000u},
  {0x00010000u, 0xffffffffu}, {0x00010001u, 0xffffffffu}, {0x00010000u, 0xffffffffu}, {0x0001ffffu, 0xffffffffu},
  {0x00000000u, 0xffff0000u}, {0x00000001u, 0xffff0000u}, {0x00000000u, 0xffff0000u}, {0x0000ffffu, 0xffff0000u},
  {0x00000000u, 0xffff0001u}, {0x00000001u, 0xffff0001u}, {0x00000000u, 0xffff0001u}, {0x0000ffffu, 0xffff0001u},
  {0x00000000u, 0xffff0000u}, {0x00000001u, 0xffff0000u}, {0x00000000u, 0xffff0000u}, {0x0000ffffu, 0xffff0000u},
  {0x00000000u, 0xffffffffu}, {0x00000001u, 0xffffffffu}, {0x00000000u, 0xffffffffu}, {0x0000ffffu, 0xffffffffu},
  {0xffff0000u, 0xffff0000u}, {0xffff0001u, 0xffff0000u}, {0xffff0000u, 0xffff0000u}, {0xffffffffu, 0xffff0000u},
  {0xffff0000u, 0xffff0001u}, {0xffff0001u, 0xffff0001u}, {0xffff0000u, 0xffff0001u}, {0xffffffffu, 0xffff0001u},
  {0xffff0000u, 0xffff0000u}, {0xffff0001u, 0xffff0000u}, {0xffff0000u, 0xffff0000u}, {0xffffffffu, 0xffff0000u},
  {0xffff0000u, 0xffffffffu}, {0xffff0001u, 0xffffffffu}, {0xffff0000u, 0xffffffffu}, {0xffffffffu, 0xffffffffu},
};

#if defined(BITGPT_USE_SMLAD)
#include <arm_acle.h>
#if defined(__GNUC__)
#define BG_MEMCPY __builtin_memcpy /* GCC and clang: no C library header needed */
#else
#include <string.h>
#define BG_MEMCPY memcpy
#endif

static inline uint32_t bg_load_u32(const void *p) {
  uint32_t v;
  BG_MEMCPY(&v, p, 4); /* one LDR: Armv7-M loads unaligned words */
  return v;
}

/* SXTB16 of the word rotated by 8 bits: lanes (x1, x3). GCC does not fold the rotation
 * into the instruction from C. */
static inline int32_t bg_sxtb16_ror8(uint32_t v) {
  int32_t r;
  __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(v));
  return r;
}

/* Dot products of int8 codes q with two int8 vectors at once (two cached keys, two int8
 * rows) over n elements, a multiple of 4: q's words are loaded and unpacked once for
 * both. In assembly where optimising (15 instructions a step of four elements): clang,
 * which sees the head size as a constant in the object backend's kernels, unrolled the C
 * loop and spilled the query's unpacked words. */
static inline void bg_smlad_dot_i8x2(const int8_t *q, const int8_t *ka, const int8_t *kb, int32_t n, int32_t *da, int32_t *db) {
  const int8_t *const end = q + n;
  int32_t acc_a = 0, acc_b = 0;
#if defined(__OPTIMIZE__)
  if (n > 0) {
    uint32_t wq, wa, wb, q02, t;
    __asm__ volatile(
        "1:\n\t"
        "ldr     %[wq], [%[q]], #4\n\t"
        "ldr     %[wa], [%[ka]], #4\n\t"
        "ldr     %[wb], [%[kb]], #4\n\t"
        "sxtb16  %[q02], %[wq]\n\t"
        "sxtb16  %[wq], %[wq], ror #8\n\t"
        "sxtb16  %[t], %[wa]\n\t"
        "smlad   %[a], %[t], %[q02], %[a]\n\t"
        "sxtb16  %[t], %[wa], ror #8\n\t"
        "smlad   %[a], %[t], %[wq], %[a]\n\t"
        "sxtb16  %[t], %[wb]\n\t"
        "smlad   %[b], %[t], %[q02], %[b]\n\t"
        "sxtb16  %[t], %[wb], ror #8\n\t"
        "smlad   %[b], %[t], %[wq], %[b]\n\t"
        "cmp     %[q], %[end]\n\t"
        "bne     1b"
        : [q] "+r"(q), [ka] "+r"(ka), [kb] "+r"(kb), [a] "+r"(acc_a), [b] "+r"(acc_b), [wq] "=&r"(wq), [wa] "=&r"(wa), [wb] "=&r"(wb),
          [q02] "=&r"(q02), [t] "=&r"(t)
        : [end] "r"(end)
        : "cc", "memory");
  }
#else
  for (; q < end; q += 4, ka += 4, kb += 4) {
    const uint32_t wq = bg_load_u32(q), wa = bg_load_u32(ka), wb = bg_load_u32(kb);
    const int32_t q02 = (int32_t)__sxtb16(wq), q13 = bg_sxtb16_ror8(wq);
    acc_a = __smlad((int32_t)__sxtb16(wa), q02, acc_a);
    acc_a = __smlad(bg_sxtb16_ror8(wa), q13, acc_a);
    acc_b = __smlad((int32_t)__sxtb16(wb), q02, acc_b);
    acc_b = __smlad(bg_sxtb16_ror8(wb), q13, acc_b);
  }
#endif
  *da = acc_a;
  *db = acc_b;
}

/* Dot products of two rows (ternary 2-bit, or int8 when int8 != 0) with x over the
 * first cols4 columns, a multiple of 4; returned in *da and *db. */
static inline void bg_smlad_dot2(const uint8_t *ra, const uint8_t *rb, int32_t int8, const int8_t *x, int32_t cols4, int32_t *da, int32_t *db) {
  const int8_t *const end = x + cols4;
  int32_t acc_a = 0, acc_b = 0;
  if (!int8) {
    /* Two base pointers into the interleaved table, so each pair is one LDR with a
     * scaled index; the empty asm keeps them in registers instead of the literal pool. */
    const uint32_t *w02 = &bg_smlad_pairs[0][0], *w13 = &bg_smlad_pairs[0][1];
    __asm__("" : "+r"(w02), "+r"(w13));
    for (; x < end; x += 4) {
      const uint32_t xw = bg_load_u32(x);
      const int32_t x02 = (int32_t)__sxtb16(xw), x13 = bg_sxtb16_ror8(xw);
      const uint32_t ba = 2u * *ra++, bb = 2u * *rb++;
      acc_a = __smlad((int32_t)w02[ba], x02, acc_a);
      acc_b = __smlad((int32_t)w02[bb], x02, acc_b);
      acc_a = __smlad((int32_t)w13[ba], x13, acc_a);
      acc_b = __smlad((int32_t)w13[bb], x13, acc_b);
    }
  } else {
    bg_smlad_dot_i8x2(x, (const int8_t *)ra, (const int8_t *)rb, cols4, &acc_a, &acc_b);
  }
  *da = acc_a;
  *db = acc_b;
}
#if defined(__OPTIMIZE__) && (!defined(__clang__) || defined(BITGPT_OMIT_FRAME_POINTER))
/* The four-row kernels in assembly need 13 registers, and one more under clang, which
 * addresses every memory operand through a register of its own: GCC finds them when it
 * optimises, clang when r7 is not the frame pointer (built with -fomit-frame-pointer:
 * say so with -DBITGPT_OMIT_FRAME_POINTER, as the object backend's kernels do). Without
 * optimisation (a Debug build: r7 is the frame pointer) and otherwise under clang the
 * kernels below run as two two-row passes in C, the same integers. */
#define BG_SMLAD_ASM_DOT4 1
/* The assembly loops below run two steps of four columns per pass (the loop test costs
 * three instructions, so this saves 1.5 per 16 weights); an odd number of steps enters
 * the first pass at its second step. */
#if defined(__clang__)
/* clang: the end pointer and the odd flag through one register, {end, odd} */
#define BG_SMLAD_LOAD_ODD "ldr %[t], [%[lim], #4]\n\t"
#define BG_SMLAD_LOOP_TEST "ldr %[t], [%[lim]]\n\tcmp %[x], %[t]\n\tbcc 1b\n\t"
#define BG_SMLAD_LIMITS [lim] "r"(limits)
#else
/* GCC: both on the stack, addressed from sp */
#define BG_SMLAD_LOAD_ODD "ldr %[t], %[odd]\n\t"
#define BG_SMLAD_LOOP_TEST "ldr %[t], %[end]\n\tcmp %[x], %[t]\n\tbcc 1b\n\t"
#define BG_SMLAD_LIMITS [end] "m"(limits[0]), [odd] "m"(limits[1])
#endif
#define BG_SMLAD_ENTER BG_SMLAD_LOAD_ODD "cmp %[t], #0\n\tbne 2f\n\t"
/* Four steps a pass (the int16 quads, whose step is the shortest: 13 instructions, so the
 * loop test weighs most): limits[1] is then the number of steps mod 4, and the first pass
 * is entered at its (4 - that)-th step, mod 4. Saves 0.75 instructions per 16 weights
 * against two steps a pass. */
#define BG_SMLAD_ENTER4 BG_SMLAD_LOAD_ODD "cmp %[t], #1\n\tbeq 4f\n\tcmp %[t], #2\n\tbeq 3f\n\tcmp %[t], #3\n\tbeq 2f\n\t"

/* One step of four columns of the ternary kernel: an activation word unpacked into two
 * int16 pairs, and for each row a byte of four weights expanded through the pair table. */
#define BG_SMLAD_TERNARY_ROW(acc, addr) \
  "ldrb    %[b], " addr "\n\t" \
  "add     %[b], %[tab], %[b], lsl #3\n\t" \
  "ldrd    %[t], %[b], [%[b]]\n\t" \
  "smlad   %[" acc "], %[t], %[x02], %[" acc "]\n\t" \
  "smlad   %[" acc "], %[b], %[x13], %[" acc "]\n\t"
#define BG_SMLAD_TERNARY_STEP \
  "ldr     %[x13], [%[x]], #4\n\t" \
  "sxtb16  %[x02], %[x13]\n\t" \
  "sxtb16  %[x13], %[x13], ror #8\n\t" \
  BG_SMLAD_TERNARY_ROW("a1", "[%[r0], %[st]]") \
  BG_SMLAD_TERNARY_ROW("a0", "[%[r0]], #1") \
  BG_SMLAD_TERNARY_ROW("a3", "[%[r2], %[st]]") \
  BG_SMLAD_TERNARY_ROW("a2", "[%[r2]], #1")

/* Dot products of four ternary 2-bit rows, ra, ra + stride, rb and rb + stride (in that
 * order in dot), with x over cols4 columns: one activation word unpacked serves four
 * rows (rows r..r+3 of a matrix, or rows r, r+1 of w1 and of w3). Written in assembly:
 * GCC spills the four accumulators of the C version. 13 registers; the end pointer
 * stays in memory. */
static inline void bg_smlad_ternary_dot4(const uint8_t *ra, const uint8_t *rb, int32_t stride, const int8_t *x, int32_t cols4, int32_t *dot) {
  const uintptr_t limits[2] = {(uintptr_t)(x + cols4), (uintptr_t)((cols4 >> 2) & 1)}; /* end, odd */
  const uint8_t *r0 = ra, *r2 = rb;
  const uint32_t *tab = &bg_smlad_pairs[0][0];
  int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
  uint32_t x02, x13, b, t;
  if (cols4 <= 0) { dot[0] = dot[1] = dot[2] = dot[3] = 0; return; }
  __asm__ volatile(
      BG_SMLAD_ENTER "1:\n\t" BG_SMLAD_TERNARY_STEP "2:\n\t" BG_SMLAD_TERNARY_STEP BG_SMLAD_LOOP_TEST
      : [x] "+r"(x), [r0] "+r"(r0), [r2] "+r"(r2), [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3),
        [x02] "=&r"(x02), [x13] "=&r"(x13), [b] "=&r"(b), [t] "=&r"(t)
      : [st] "r"(stride), [tab] "r"(tab), BG_SMLAD_LIMITS
      : "cc", "memory");
  dot[0] = a0;
  dot[1] = a1;
  dot[2] = a2;
  dot[3] = a3;
}

/* One step of four columns of the int8 kernel: each weight word unpacks like the
 * activations. */
#define BG_SMLAD_INT8_ROW(acc, addr) \
  "ldr     %[w], " addr "\n\t" \
  "sxtb16  %[t], %[w]\n\t" \
  "sxtb16  %[w], %[w], ror #8\n\t" \
  "smlad   %[" acc "], %[t], %[x02], %[" acc "]\n\t" \
  "smlad   %[" acc "], %[w], %[x13], %[" acc "]\n\t"
#define BG_SMLAD_INT8_STEP \
  "ldr     %[x13], [%[x]], #4\n\t" \
  "sxtb16  %[x02], %[x13]\n\t" \
  "sxtb16  %[x13], %[x13], ror #8\n\t" \
  BG_SMLAD_INT8_ROW("a1", "[%[r0], %[st]]") \
  BG_SMLAD_INT8_ROW("a0", "[%[r0]], #4") \
  BG_SMLAD_INT8_ROW("a3", "[%[r2], %[st]]") \
  BG_SMLAD_INT8_ROW("a2", "[%[r2]], #4")

/* The same for four int8 rows. */
static inline void bg_smlad_int8_dot4(const uint8_t *ra, const uint8_t *rb, int32_t stride, const int8_t *x, int32_t cols4, int32_t *dot) {
  const uintptr_t limits[2] = {(uintptr_t)(x + cols4), (uintptr_t)((cols4 >> 2) & 1)}; /* end, odd */
  const uint8_t *r0 = ra, *r2 = rb;
  int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
  uint32_t x02, x13, w, t;
  if (cols4 <= 0) { dot[0] = dot[1] = dot[2] = dot[3] = 0; return; }
  __asm__ volatile(
      BG_SMLAD_ENTER "1:\n\t" BG_SMLAD_INT8_STEP "2:\n\t" BG_SMLAD_INT8_STEP BG_SMLAD_LOOP_TEST
      : [x] "+r"(x), [r0] "+r"(r0), [r2] "+r"(r2), [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3),
        [x02] "=&r"(x02), [x13] "=&r"(x13), [w] "=&r"(w), [t] "=&r"(t)
      : [st] "r"(stride), BG_SMLAD_LIMITS
      : "cc", "memory");
  dot[0] = a0;
  dot[1] = a1;
  dot[2] = a2;
  dot[3] = a3;
}

/* One step of four columns of the int16-quad kernel: the activation word unpacked once,
 * each LDM two rows' weight pairs (BG_W_INT16_QUADS: already in SXTB16's lanes). */
#define BG_SMLAD_QUAD16_ROWS(a, b) \
  "ldmia   %[p]!, {r8, r9, r10, r11}\n\t" \
  "smlad   %[" a "], r8, %[x02], %[" a "]\n\t" \
  "smlad   %[" a "], r9, %[x13], %[" a "]\n\t" \
  "smlad   %[" b "], r10, %[x02], %[" b "]\n\t" \
  "smlad   %[" b "], r11, %[x13], %[" b "]\n\t"
#define BG_SMLAD_QUAD16_STEP \
  "ldr     %[x13], [%[x]], #4\n\t" \
  "sxtb16  %[x02], %[x13]\n\t" \
  "sxtb16  %[x13], %[x13], ror #8\n\t" \
  BG_SMLAD_QUAD16_ROWS("a0", "a1") BG_SMLAD_QUAD16_ROWS("a2", "a3")

/* The same with x already unpacked (bg_smlad_unpack_codes: a step's two words, x02 then x13):
 * one LDRD in place of the load and the two SXTB16s, 11 instructions a step. */
#define BG_SMLAD_QUAD16_PAIRS_STEP \
  "ldrd    %[x02], %[x13], [%[x]], #8\n\t" \
  BG_SMLAD_QUAD16_ROWS("a0", "a1") BG_SMLAD_QUAD16_ROWS("a2", "a3")

/* The body of both quad kernels: `x` stepped by STEP to `end`, four steps a pass
 * (BG_SMLAD_ENTER4), the four rows' sums into dot. */
#define BG_SMLAD_QUAD16_DOTS(STEP, end)                                                                                            \
  const uintptr_t limits[2] = {(uintptr_t)(end), (uintptr_t)((cols4 >> 2) & 3)}; /* end, steps mod 4 */                           \
  const uint8_t *p = quad;                                                                                                         \
  int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;                                                                                          \
  uint32_t x02, x13, t;                                                                                                            \
  if (cols4 <= 0) { dot[0] = dot[1] = dot[2] = dot[3] = 0; return; }                                                               \
  __asm__ volatile(BG_SMLAD_ENTER4 "1:\n\t" STEP "2:\n\t" STEP "3:\n\t" STEP "4:\n\t" STEP BG_SMLAD_LOOP_TEST                           \
                   : [x] "+r"(x), [p] "+r"(p), [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [x02] "=&r"(x02), [x13] "=&r"(x13), \
                     [t] "=&r"(t)                                                                                                  \
                   : BG_SMLAD_LIMITS                                                                                               \
                   : "r8", "r9", "r10", "r11", "cc", "memory");                                                                    \
  dot[0] = a0;                                                                                                                     \
  dot[1] = a1;                                                                                                                     \
  dot[2] = a2;                                                                                                                     \
  dot[3] = a3;

/* Dot products of the four int16 rows of a quad (BG_W_INT16_QUADS) with x over cols4
 * columns: 13 instructions a step of 16 products (the int8 kernel above takes 23), four
 * steps a pass (BG_SMLAD_ENTER4). */
static inline void bg_smlad_quad16_dot4(const uint8_t *quad, const int8_t *x, int32_t cols4, int32_t *dot) {
  BG_SMLAD_QUAD16_DOTS(BG_SMLAD_QUAD16_STEP, x + cols4)
}

static inline void bg_smlad_quad16_pairs_dot4(const uint8_t *quad, const uint32_t *x, int32_t cols4, int32_t *dot) {
  BG_SMLAD_QUAD16_DOTS(BG_SMLAD_QUAD16_PAIRS_STEP, x + cols4 / 2)
}
#undef BG_SMLAD_QUAD16_DOTS

/* The same for the classifier's quads where x spans whole passes of four steps (a multiple
 * of 16 columns), out of line and lean: its end in a register, no entry dispatch, a leaf
 * whose frame is its saved registers. ~12 instructions a quad around the loop, where the
 * general kernel's out-of-line copy took ~43 (128 quads a token on the shipped example). */
__attribute__((noinline, unused))
static void bg_smlad_quad16_pairs_rows4(const uint8_t *quad, const uint32_t *x, const uint32_t *end, int32_t *dot) {
  const uint8_t *p = quad;
  int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
  uint32_t x02, x13;
  __asm__ volatile("1:\n\t" BG_SMLAD_QUAD16_PAIRS_STEP BG_SMLAD_QUAD16_PAIRS_STEP BG_SMLAD_QUAD16_PAIRS_STEP BG_SMLAD_QUAD16_PAIRS_STEP
                   "cmp %[x], %[end]\n\tbcc 1b"
                   : [x] "+r"(x), [p] "+r"(p), [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [x02] "=&r"(x02), [x13] "=&r"(x13)
                   : [end] "r"(end)
                   : "r8", "r9", "r10", "r11", "cc", "memory");
  dot[0] = a0;
  dot[1] = a1;
  dot[2] = a2;
  dot[3] = a3;
}
#define BG_SMLAD_QUAD16_ROWS4 1

#else
static inline void bg_smlad_ternary_dot4(const uint8_t *ra, const uint8_t *rb, int32_t stride, const int8_t *x, int32_t cols4, int32_t *dot) {
  bg_smlad_dot2(ra, ra + stride, 0, x, cols4, &dot[0], &dot[1]);
  bg_smlad_dot2(rb, rb + stride, 0, x, cols4, &dot[2], &dot[3]);
}

static inline void bg_smlad_int8_dot4(const uint8_t *ra, const uint8_t *rb, int32_t stride, const int8_t *x, int32_t cols4, int32_t *dot) {
  bg_smlad_dot2(ra, ra + stride, 1, x, cols4, &dot[0], &dot[1]);
  bg_smlad_dot2(rb, rb + stride, 1, x, cols4, &dot[2], &dot[3]);
}

static inline void bg_smlad_quad16_dot4(const uint8_t *quad, const int8_t *x, int32_t cols4, int32_t *dot) {
  const int8_t *const end = x + cols4;
  int32_t k;
  for (k = 0; k < 4; ++k) dot[k] = 0;
  for (; x < end; x += 4, quad += 32) {
    const uint32_t xw = bg_load_u32(x);
    const int32_t x02 = (int32_t)__sxtb16(xw), x13 = bg_sxtb16_ror8(xw);
    for (k = 0; k < 4; ++k) dot[k] = __smlad((int32_t)bg_load_u32(quad + 8 * k + 4), x13, __smlad((int32_t)bg_load_u32(quad + 8 * k), x02, dot[k]));
  }
}

static inline void bg_smlad_quad16_pairs_dot4(const uint8_t *quad, const uint32_t *pairs, int32_t cols4, int32_t *dot) {
  const uint32_t *const end = pairs + cols4 / 2;
  int32_t k;
  for (k = 0; k < 4; ++k) dot[k] = 0;
  for (; pairs < end; pairs += 2, quad += 32)
    for (k = 0; k < 4; ++k)
      dot[k] = __smlad((int32_t)bg_load_u32(quad + 8 * k + 4), (int32_t)pairs[1], __smlad((int32_t)bg_load_u32(quad + 8 * k), (int32_t)pairs[0], dot[k]));
}
#endif /* BG_SMLAD_ASM_DOT4 */

/* x's codes over cols4 columns (a multiple of 4) as SXTB16 unpacks them, two words a step
 * of four columns: (x[j], x[j + 2]) in int16 lanes, then (x[j + 1], x[j + 3]). For the
 * int16-quad kernel, which otherwise unpacks x again for every quad of rows. */
static inline void bg_smlad_unpack_codes(const int8_t *x, int32_t cols4, uint32_t *pairs) {
  int32_t j;
  for (j = 0; j < cols4; j += 4, pairs += 2) {
    const uint32_t w = bg_load_u32(x + j);
    pairs[0] = (uint32_t)__sxtb16(w);
    pairs[1] = (uint32_t)bg_sxtb16_ror8(w);
  }
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
