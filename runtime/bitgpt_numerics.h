/* bitgpt_numerics.h - the integer arithmetic that defines bitgptc's numerics.
 *
 * Both the compiler's reference interpreter and the emitted firmware include this file,
 * so every rounding decision is made by the same source. Everything here is integer
 * arithmetic on fixed-width types: no floating point, no libm, no division by a value
 * that is not checked first. The results are identical on any two's-complement target
 * whose compiler implements >> on negative values as an arithmetic shift (GCC and Clang
 * document that they do).
 *
 * Formats
 *   act   int32, Q16.16: real = act / 65536 (the residual stream and every activation)
 *   q8    int8 codes with an absmax "amax" (act units): real = code * amax / 127
 *   mult  a positive real as mantissa * 2^-shift, mantissa in [2^22, 2^23) (or 0); the
 *         per-row and per-key multipliers (bg_row_mult_by, bg_mult_scale16) keep 29-31-bit
 *         truncated mantissas
 *
 * Valid in C11 and C++11 or later (bitgpt_rows.h's row scaler has an anonymous union).
 */
#ifndef BITGPT_NUMERICS_H
#define BITGPT_NUMERICS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Armv6-M (Thumb-1): eight low registers, no 32x32->64 multiply-accumulate. Loops that
 * keep many values live (the logits' hash unrolled, attention's four-token value pass)
 * spill there, so those take their simple forms. */
#if defined(__thumb__) && !defined(__thumb2__)
#define BG_FEW_REGISTERS 1
#endif

#define BG_ACT_ONE 65536
#define BG_MULT_BITS 23

typedef struct bg_mult {
  int32_t m;     /* 0 or in [2^22, 2^23) */
  int32_t shift; /* real = m * 2^-shift */
} bg_mult;

static inline int32_t bg_sat32(int64_t v) {
  /* in range iff the high word is the sign of the low one: one compare on 32-bit Arm */
  return (int64_t)(int32_t)v == v ? (int32_t)v : (v > 0 ? INT32_MAX : INT32_MIN);
}

/* sat32(a + b): one QADD where the core has the DSP extension (a saturating 32-bit add:
 * the same integer), else the add in 64 bits and bg_sat32 (five instructions on 32-bit
 * Arm). The residual stream's adds. */
static inline int32_t bg_add_sat32(int32_t a, int32_t b) {
#if defined(__GNUC__) && defined(__ARM_FEATURE_DSP)
  int32_t r;
  __asm__("qadd %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
  return r;
#else
  return bg_sat32((int64_t)a + b);
#endif
}

/* v, with GCC's knowledge of where it came from taken away (an empty asm): a multiply
 * with it as an operand stays a 32x32 one (bg_mul32x32). Armv6-M has no such multiply:
 * nothing to pin. */
static inline int32_t bg_pin32(int32_t v) {
#if defined(__GNUC__) && (defined(__thumb2__) || defined(__riscv))
  __asm__("" : "+r"(v));
#endif
  return v;
}

/* a * b from int32 operands: one SMULL on 32-bit Arm, MUL + MULH on RISC-V. After
 * inlining, GCC can lose track of an operand's width and emit a 64x64 multiply, or merge
 * a loop of these with a 64-bit one beside it (the attention value sum on rv32: 19
 * instructions an element instead of 14), so b, the operand that varies, is pinned
 * (bg_pin32). a is most often loop-invariant (a multiplier, a token's value weight);
 * pinned as well, it was copied into a fresh register every iteration. A caller whose a
 * varies too pins it (bg_ffn_gate_fast_row). */
static inline int64_t bg_mul32x32(int32_t a, int32_t b) { return (int64_t)a * bg_pin32(b); }

/* round(v / 2^s), ties toward +infinity; s may be negative (a saturating left shift).
 * For s >= 1 it is computed as floor((w + 1) / 2) with w = floor(v / 2^(s-1)), the same
 * integer as floor((v + 2^(s-1)) / 2^s) without building the 64-bit rounding constant;
 * written as (w >> 1) + (w & 1) so that w = INT64_MAX (v = INT64_MAX, s = 1) cannot overflow. */
static inline int64_t bg_shr_round(int64_t v, int s) {
  if (s >= 1 && s <= 62) {
    const int64_t w = v >> (s - 1);
    return (w >> 1) + (w & 1);
  }
  if (s <= 0) {
    if (s < -62) return v == 0 ? 0 : (v > 0 ? INT64_MAX : INT64_MIN);
    {
      const int64_t lim = INT64_MAX >> (-s);
      if (v > lim) return INT64_MAX;
      if (v < -lim) return INT64_MIN;
    }
    return v * ((int64_t)1 << (-s));
  }
  return 0; /* s > 62 */
}

static inline int bg_clz64(uint64_t v) {
#if defined(__GNUC__)
  return v == 0 ? 64 : __builtin_clzll(v); /* CLZ on Armv7-M; a libgcc routine on Armv6-M */
#else
  int n = 0;
  if (v == 0) return 64;
  while (!(v & 0x8000000000000000ull)) { v <<= 1; ++n; }
  return n;
#endif
}

static inline int bg_clz32(uint32_t v) {
#if defined(__GNUC__)
  return v == 0 ? 32 : __builtin_clz(v);
#else
  int n = 0;
  if (v == 0) return 32;
  while (!(v & 0x80000000u)) { v <<= 1; ++n; }
  return n;
#endif
}

/* Normalises a positive mantissa (up to 2^63) and shift into a bg_mult: the mantissa
 * rounded (half up) to BG_MULT_BITS bits. In 32-bit pieces: the 23 or 24 bits kept
 * always fit one word, so no 64-bit shift is needed (it runs per attention slot and per
 * classifier row). */
static inline bg_mult bg_mult_normalize(uint64_t m, int shift) {
  const uint32_t hi = (uint32_t)(m >> 32), lo = (uint32_t)m;
  bg_mult r;
  int lead;
  if (m == 0) { r.m = 0; r.shift = 0; return r; }
  lead = hi ? 63 - bg_clz32(hi) : 31 - bg_clz32(lo); /* the top set bit */
  if (lead > BG_MULT_BITS - 1) {
    const int drop = lead - (BG_MULT_BITS - 1); /* 1..41 */
    /* t = m >> (drop - 1) < 2^(BG_MULT_BITS + 1), then rounded: ((t + 1) >> 1) */
    uint32_t t = drop > 32 ? hi >> (drop - 33) : drop == 1 ? lo : (lo >> (drop - 1)) | (hi << (33 - drop));
    t = (t + 1u) >> 1;
    shift -= drop;
    if (t >> BG_MULT_BITS) { t >>= 1; shift -= 1; } /* rounding carried into a new bit */
    r.m = (int32_t)t;
  } else {
    r.m = (int32_t)(lo << ((BG_MULT_BITS - 1) - lead));
    shift += (BG_MULT_BITS - 1) - lead;
  }
  r.shift = shift;
  return r;
}

/* round(x * k); |x| < 2^40 keeps the product inside int64. Saturates to int32. */
static inline int32_t bg_mult_apply(int64_t x, bg_mult k) {
  return bg_sat32(bg_shr_round(x * (int64_t)k.m, k.shift));
}

/* sat32(round(v / 2^s)), as bg_sat32(bg_shr_round(v, s)), with 32-bit operations in the
 * usual cases: for s >= 33 the result is the high word shifted (it always fits), and for
 * 2 <= s <= 32 the shifted value t = v >> (s - 1) is assembled from both words and, when
 * it fits 32 bits, rounded there. Anything else takes the general 64-bit path. */
static inline int32_t bg_round_shift_sat32(int64_t v, int s) {
  const uint32_t lo = (uint32_t)v;
  const int32_t hi = (int32_t)((uint64_t)v >> 32);
  if (s >= 33 && s <= 62) {
    const int32_t t = hi >> (s - 33);
    return (t >> 1) + (t & 1);
  }
  if (s >= 2 && s <= 32) {
    const int sh = s - 1;
    const int32_t t = (int32_t)((lo >> sh) | ((uint32_t)hi << (32 - sh)));
    if ((hi >> sh) == (t >> 31)) return (t >> 1) + (t & 1);
  }
  return bg_sat32(bg_shr_round(v, s));
}

/* bg_mult_apply for an int32 x: one 32x32->64 multiply and a 32-bit rounding shift. */
static inline int32_t bg_mult_apply32(int32_t x, bg_mult k) {
  return bg_round_shift_sat32(bg_mul32x32(k.m, x), k.shift);
}

/* Whether bg_mult_apply32(x, k) has a shift in [2, 32] and cannot saturate for any
 * |x| <= xmax: then bg_mult_apply32_unchecked(x, k) is the same integer. Decided once
 * per vector, it takes the range checks out of a row loop. */
static inline int bg_mult_apply32_safe(bg_mult k, int64_t xmax) {
  return k.shift >= 2 && k.shift <= 32 && xmax >= 0 && xmax < ((int64_t)1 << 40) && k.m >= 0 &&
         ((uint64_t)xmax * (uint64_t)k.m) >> (k.shift - 1) < (uint64_t)INT32_MAX;
}

/* bg_mult_apply32 where bg_mult_apply32_safe(k, |x|) holds: x * m shifted right by
 * shift - 1 fits 32 bits, so the rounding is two 32-bit operations. */
static inline int32_t bg_mult_apply32_unchecked(int32_t x, bg_mult k) {
  const uint64_t v = (uint64_t)bg_mul32x32(k.m, x);
  const int sh = k.shift - 1; /* 1..31 */
  const int32_t t = (int32_t)(((uint32_t)v >> sh) | ((uint32_t)(v >> 32) << (32 - sh)));
  return (t >> 1) + (t & 1);
}

/* SMMULR and SMMLA: Armv6 and later with the DSP extension, where the emitted code asks for the DSP
 * kernels (BITGPT_KERNEL_SMLAD, not the naive baseline), as bitgpt_ops.h's SMLAD paths */
#if defined(__GNUC__) && defined(__ARM_FEATURE_DSP) && defined(__ARM_ARCH) && __ARM_ARCH >= 6 && defined(BITGPT_KERNEL_SMLAD) && \
    !defined(BITGPT_KERNEL_NAIVE)
#define BG_HAS_SMMULR 1
#endif

/* bg_mult_apply32 for a shift in [33, 62]: the product's high word h shifted and rounded,
 * which always fits (bg_round_shift_sat32's first case, without the range test). The two
 * roundings in one: with j = shift - 32, floor((floor(h / 2^(j-1)) + 1) / 2) = floor((h +
 * 2^(j-1)) / 2^j), and h + 2^(j-1) stays inside int32 (|h| < 2^30 for |x| <= 2^31 and |m| <
 * 2^31, and 2^(j-1) <= 2^29). */
static inline int32_t bg_mult_apply32_high(int32_t x, bg_mult k) {
  const int32_t j = k.shift - 32, half = (int32_t)1 << (j - 1);
#if defined(BG_HAS_SMMULR)
  int32_t h; /* SMMLA: half + floor(x m / 2^32), the rounding's addition in the multiply */
  __asm__("smmla %0, %1, %2, %3" : "=r"(h) : "r"(x), "r"(k.m), "r"(half));
  return h >> j;
#else
  const int32_t h = (int32_t)((uint64_t)bg_mul32x32(k.m, x) >> 32);
  return (h + half) >> j;
#endif
}

/* bg_mult_apply32 with a multiplier that varies (a row's, a key's): its usual shift, [33,
 * 62], by bg_mult_apply32_high, which cannot saturate for any 0 <= m < 2^31 (|h| < 2^30,
 * the rounding's half at most 2^29); the same integer. */
static inline int32_t bg_mult_apply32_any(int32_t x, bg_mult k) {
  return k.shift >= 33 && k.shift <= 62 ? bg_mult_apply32_high(x, k) : bg_mult_apply32(x, k);
}

/* bg_mult_apply32_unchecked as one rounding high multiply where the core has one (SMMULR
 * on Armv7E-M: the high word of a b + 2^31): with m shifted up by q and x by pre, q + pre =
 * 32 - shift, that high word is round(x m / 2^shift), the same integer in 2 instructions
 * instead of 6. Formed once per vector for |x| <= xmax; 0 when the shifts do not fit. */
typedef struct bg_mult_q32 {
  int32_t m;   /* k.m << q, q = min(32 - shift, 8): under 2^31 */
  int32_t pre; /* x's shift: x 2^pre fits int32 for every |x| <= xmax */
} bg_mult_q32;

static inline int bg_mult_q32_form(bg_mult k, int64_t xmax, bg_mult_q32 *out) {
  int q, pre;
  if (k.shift < 2 || k.shift > 32 || k.m < 0 || k.m >= (1 << BG_MULT_BITS) || xmax < 0 || xmax >= ((int64_t)1 << 31)) return 0;
  q = 32 - k.shift < 8 ? 32 - k.shift : 8;
  pre = 32 - k.shift - q;
  if ((xmax << pre) >= ((int64_t)1 << 31)) return 0;
  out->m = k.m << q;
  out->pre = pre;
  return 1;
}


static inline int32_t bg_mult_apply_q32(int32_t x, bg_mult_q32 k) {
  const int32_t a = (int32_t)((uint32_t)x << k.pre);
#if defined(BG_HAS_SMMULR)
  int32_t r;
  __asm__("smmulr %0, %1, %2" : "=r"(r) : "r"(a), "r"(k.m));
  return r;
#else
  return (int32_t)((bg_mul32x32(k.m, a) + ((int64_t)1 << 31)) >> 32);
#endif
}

/* The most |bg_mult_apply32(x, k)| can be for |x| <= xmax, where
 * bg_mult_apply32_safe(k, xmax) holds: floor(xmax m / 2^shift), +1 for the rounding. */
static inline int64_t bg_mult_apply_bound(bg_mult k, int64_t xmax) {
  return (int64_t)(((uint64_t)xmax * (uint64_t)k.m) >> k.shift) + 1;
}

/* Same, without the int32 saturation (for wide intermediates). */
static inline int64_t bg_mult_apply64(int64_t x, bg_mult k) {
  return bg_shr_round(x * (int64_t)k.m, k.shift);
}

/* k * v for a non-negative integer v < 2^40. */
static inline bg_mult bg_mult_scale(bg_mult k, int64_t v) {
  if (v <= 0 || k.m == 0) { bg_mult z = {0, 0}; return z; }
  return bg_mult_normalize((uint64_t)k.m * (uint64_t)v, k.shift);
}

/* amax in the form a per-row multiplier takes it: up = amax << (31 - lead) in [2^31,
 * 2^32), lead its top set bit (found once per vector); up 0 when amax <= 0. */
typedef struct bg_amax_norm {
  uint32_t up;
  int32_t lead;
} bg_amax_norm;

static inline bg_amax_norm bg_amax_norm_of(int32_t amax) {
  bg_amax_norm a;
  a.lead = amax > 0 ? 31 - bg_clz32((uint32_t)amax) : 0;
  a.up = amax > 0 ? (uint32_t)amax << (31 - a.lead) : 0u;
  return a;
}

/* Row scale k times amax as a per-row matrix's multiplier: the mantissa is the high word
 * of (k.m << 8) up, truncated, and the shift moves by 7 - lead ((k.m << 8) up 2^-(shift +
 * 39 - lead) is the exact product). With k.m in [2^22, 2^23), as the compiler stores
 * every scale, the mantissa is in [2^29, 2^31) (within 2^-29 of the exact product), a
 * positive int32 as SMMULR takes it. One multiply a row where normalising the product to
 * 23 bits, as bg_mult_scale does, took about 20 instructions on the cortex-m4 (per
 * classifier row and token), and the wide mantissa lets bg_mult_apply32_row scale by one
 * high multiply. Per-matrix multipliers keep bg_mult_scale. */
static inline bg_mult bg_row_mult_by(bg_mult k, bg_amax_norm a) {
  bg_mult r;
  r.m = (int32_t)(uint32_t)(((uint64_t)((uint32_t)k.m << 8) * a.up) >> 32);
  r.shift = k.shift - a.lead + 7;
  return r;
}

/* The largest p with xmax 2^p < 2^31 (0 when xmax >= 2^30; 31 for xmax <= 0): how far a
 * value of at most xmax in magnitude may be shifted up inside int32: 31 less xmax's bit
 * length. */
static inline int32_t bg_headroom(int64_t xmax) {
  const int32_t bits = xmax > 0 ? 64 - bg_clz64((uint64_t)xmax) : 0;
  return bits >= 31 ? 0 : 31 - bits;
}

/* bg_mult_apply32_any kept out of line: the rare way of bg_mult_apply32_row, which
 * inlined would take registers from the row loops around it. */
#if defined(__GNUC__)
__attribute__((noinline, unused))
#endif
static int32_t bg_mult_apply32_any_out_of_line(int32_t x, int32_t m, int32_t shift) { /* k's fields apart: not built in memory a row */
  const bg_mult k = {m, shift};
  return bg_mult_apply32_any(x, k);
}

/* bg_mult_apply32(x, k) for a per-row multiplier (bg_row_mult_by: 0 <= m < 2^31) and |x|
 * <= some xmax with headroom bg_headroom(xmax): where the core has SMMULR and the shift
 * is in [32 - headroom, 32], one rounding high multiply of x 2^(32 - shift) and m, which
 * is round(x m / 2^shift) (ties up, as bg_shr_round) and cannot saturate (|product| <
 * 2^62); else bg_mult_apply32_any. The same integer either way. */
static inline int32_t bg_mult_apply32_row(int32_t x, bg_mult k, int32_t headroom) {
#if defined(BG_HAS_SMMULR)
  const uint32_t pre = (uint32_t)(32 - k.shift);
  if (__builtin_expect(pre <= (uint32_t)headroom, 1)) { /* the usual way, laid out straight */
    int32_t r;
    __asm__("smmulr %0, %1, %2" : "=r"(r) : "r"((int32_t)((uint32_t)x << pre)), "r"(k.m));
    return r;
  }
  return bg_mult_apply32_any_out_of_line(x, k.m, k.shift);
#else
  (void)headroom;
  return bg_mult_apply32_any(x, k);
#endif
}

/* floor(n / d) for a 64-bit n and 0 < d < 2^32 in 32-bit divisions: the high word's
 * quotient, then the 64/32 division of the remainder and the low word by two 16-bit digit
 * steps on the normalised divisor (Knuth's algorithm D, each digit estimated by one UDIV
 * and corrected at most twice). The same integer as n / d; on 32-bit cores with a
 * hardware divide ~45 instructions a call (the cortex-m4) where the library's 64-bit
 * division took ~70 with its call (bg_udiv64 uses it there). Out of line, as the library
 * call was: inlined into the attention step it cost its value loop a register (+1
 * instruction an element). */
#if defined(__GNUC__)
__attribute__((noinline, unused))
#endif
static uint64_t bg_udiv64_32(uint64_t n, uint32_t d) {
  const uint32_t hi = (uint32_t)(n >> 32), lo = (uint32_t)n, qh = hi / d;
  const uint32_t r = hi - qh * d; /* < d: the 64/32 quotient below fits 32 bits */
  const int s = bg_clz32(d);
  const uint32_t v = d << s, v1 = v >> 16, v0 = v & 0xFFFFu;
  const uint32_t u32 = s ? (r << s) | (lo >> (32 - s)) : r, u10 = lo << s, u1 = u10 >> 16, u0 = u10 & 0xFFFFu;
  uint32_t q1 = u32 / v1, rhat = u32 - q1 * v1, u21, q0;
  while (q1 >> 16 || q1 * v0 > ((rhat << 16) | u1)) {
    --q1;
    rhat += v1;
    if (rhat >> 16) break;
  }
  u21 = (u32 << 16) + u1 - q1 * v; /* modulo 2^32: the true remainder is < v */
  q0 = u21 / v1;
  rhat = u21 - q0 * v1;
  while (q0 >> 16 || q0 * v0 > ((rhat << 16) | u0)) {
    --q0;
    rhat += v1;
    if (rhat >> 16) break;
  }
  return (uint64_t)qh << 32 | q1 << 16 | q0;
}

/* n / d for d > 0: bg_udiv64_32 where the core divides 32-bit words in hardware and d
 * fits one (Armv7-M and later, RV32M), else the compiler's 64-bit division. */
static inline uint64_t bg_udiv64(uint64_t n, uint64_t d) {
#if (defined(__ARM_FEATURE_IDIV) && !defined(__aarch64__)) || (defined(__riscv_div) && __riscv_xlen == 32)
  if (d >> 32 == 0) return bg_udiv64_32(n, (uint32_t)d);
#endif
  return n / d;
}

/* The multiplier num / den for positive integers (den < 2^40, num < 2^23). */
static inline bg_mult bg_mult_ratio(int64_t num, int64_t den) {
  /* num * 2^s / den with s chosen so the quotient has about 40 significant bits */
  bg_mult z = {0, 0};
  int s, lead_den;
  if (num <= 0 || den <= 0) return z;
  lead_den = 63 - bg_clz64((uint64_t)den);
  s = 40 + lead_den - (63 - bg_clz64((uint64_t)num));
  if (s > 62 - (63 - bg_clz64((uint64_t)num))) s = 62 - (63 - bg_clz64((uint64_t)num));
  return bg_mult_normalize(bg_udiv64((uint64_t)num << s, (uint64_t)den), s);
}

/* floor(sqrt(v)) for a 64-bit unsigned value (bit by bit, no division), from the largest
 * power of 4 not above v (found by counting leading zeros, not by a loop of shifts). On
 * cores with a single-precision FPU the root of v as a float (within ~2^-23 of v, so the
 * root within ~2^-23 of its own) is the estimate: exact to within two below 2^22, one
 * integer Newton step above (then within one), and steps of one make it the floor: the
 * same integer, ~30 instructions where the bit-by-bit loop took ~210 on the cortex-m4. */
static inline uint32_t bg_isqrt64(uint64_t v) {
  uint64_t res = 0, bit;
  if (v == 0) return 0;
#if defined(__GNUC__) && defined(__ARM_FP) && (__ARM_FP & 4)
  {
    const float f = (float)(uint32_t)(v >> 32) * 4294967296.0f + (float)(uint32_t)v;
    float root;
    uint32_t r;
    __asm__("vsqrt.f32 %0, %1" : "=t"(root) : "t"(f));
    r = (uint32_t)root; /* truncated; VCVT saturates 2^32 to 2^32 - 1 */
    if (r >= (1u << 22)) r = (uint32_t)(((uint64_t)r + bg_udiv64_32(v, r)) >> 1);
    while ((uint64_t)r * r > v) --r;
    while (((uint64_t)r + 1) * ((uint64_t)r + 1) <= v) ++r;
    return r;
  }
#endif
  bit = (uint64_t)1 << ((63 - bg_clz64(v)) & ~1);
  while (bit) {
    if (v >= res + bit) { v -= res + bit; res = (res >> 1) + bit; }
    else res >>= 1;
    bit >>= 2;
  }
  return (uint32_t)res;
}

/* ---- transcendental functions in fixed point (polynomials; tables for exp and the sigmoid) ---- */

#define BG_Q30_ONE 1073741824LL
#define BG_LOG2E_Q30 1549082005LL /* log2(e) */

/* 2^(-i/1024) in Q30 for i = 0..1024, rounded: the fraction's power of two in
 * bg_exp_neg_q30, read with linear interpolation (4 KiB of flash). A table instead of
 * the Taylor series it replaced (9 Horner steps, 93 instructions a softmax weight on the
 * cortex-m4, the table ~22): the interpolation's error, at most (1/1024)^2 / 8 (ln 2)^2 ~
 * 5.8e-8 of the value, is under a 250th of the Q16 weight's last bit (docs/numerics.md;
 * 256 and 512 entries, 16 and 4 times that error, each turned two of stories260K's 256
 * teacher-forced greedy tokens, e2e.real_checkpoints, where 1024 keep every one). */
#define BG_EXP2_STEP_BITS 20 /* the bits of a Q30 fraction between two entries: 30 - log2(1024) */
static const uint32_t bg_exp2_table_q30[1025] = {
    1073741824, 1073015252, 1072289173, 1071563584, 1070838486, 1070113879, 1069389763, 1068666136,
    1067942999, 1067220351, 1066498193, 1065776523, 1065055341, 1064334647, 1063614442, 1062894723,
    1062175491, 1061456746, 1060738488, 1060020715, 1059303428, 1058586627, 1057870310, 1057154479,
    1056439131, 1055724268, 1055009888, 1054295992, 1053582579, 1052869649, 1052157201, 1051445235,
    1050733751, 1050022748, 1049312227, 1048602186, 1047892626, 1047183546, 1046474945, 1045766824,
    1045059183, 1044352020, 1043645336, 1042939130, 1042233401, 1041528151, 1040823377, 1040119081,
    1039415261, 1038711917, 1038009049, 1037306657, 1036604740, 1035903298, 1035202331, 1034501838,
    1033801819, 1033102274, 1032403202, 1031704603, 1031006477, 1030308823, 1029611642, 1028914932,
    1028218693, 1027522926, 1026827629, 1026132803, 1025438448, 1024744562, 1024051145, 1023358198,
    1022665720, 1021973710, 1021282168, 1020591095, 1019900489, 1019210350, 1018520679, 1017831474,
    1017142735, 1016454463, 1015766656, 1015079314, 1014392438, 1013706027, 1013020080, 1012334597,
    1011649578, 1010965022, 1010280930, 1009597301, 1008914134, 1008231430, 1007549187, 1006867406,
    1006186087, 1005505229, 1004824831, 1004144893, 1003465416, 1002786399, 1002107841, 1001429742,
    1000752102, 1000074921, 999398197, 998721932, 998046124, 997370774, 996695881, 996021444,
    995347464, 994673939, 994000871, 993328258, 992656100, 991984397, 991313148, 990642354,
    989972014, 989302127, 988632693, 987963713, 987295185, 986627109, 985959486, 985292314,
    984625594, 983959325, 983293507, 982628139, 981963222, 981298754, 980634736, 979971168,
    979308048, 978645377, 977983155, 977321381, 976660054, 975999175, 975338743, 974678758,
    974019220, 973360128, 972701482, 972043282, 971385527, 970728217, 970071352, 969414931,
    968758955, 968103422, 967448333, 966793688, 966139485, 965485725, 964832407, 964179532,
    963527098, 962875106, 962223554, 961572444, 960921775, 960271545, 959621756, 958972406,
    958323496, 957675025, 957026993, 956379399, 955732243, 955085525, 954439245, 953793402,
    953147997, 952503028, 951858495, 951214399, 950570738, 949927513, 949284723, 948642368,
    948000448, 947358962, 946717910, 946077292, 945437108, 944797357, 944158038, 943519153,
    942880699, 942242678, 941605088, 940967930, 940331203, 939694906, 939059041, 938423605,
    937788600, 937154024, 936519878, 935886160, 935252872, 934620012, 933987580, 933355577,
    932724001, 932092852, 931462130, 930831836, 930201967, 929572525, 928943509, 928314918,
    927686753, 927059013, 926431698, 925804807, 925178340, 924552298, 923926678, 923301483,
    922676710, 922052360, 921428433, 920804927, 920181844, 919559182, 918936942, 918315122,
    917693724, 917072746, 916452188, 915832050, 915212331, 914593032, 913974152, 913355691,
    912737649, 912120024, 911502818, 910886029, 910269657, 909653703, 909038165, 908423044,
    907808339, 907194050, 906580177, 905966719, 905353676, 904741048, 904128835, 903517036,
    902905651, 902294679, 901684121, 901073976, 900464244, 899854925, 899246018, 898637523,
    898029440, 897421768, 896814507, 896207657, 895601218, 894995190, 894389571, 893784362,
    893179563, 892575173, 891971192, 891367619, 890764456, 890161700, 889559352, 888957411,
    888355878, 887754752, 887154033, 886553720, 885953814, 885354313, 884755218, 884156529,
    883558244, 882960365, 882362890, 881765819, 881169153, 880572890, 879977030, 879381574,
    878786521, 878191870, 877597622, 877003775, 876410331, 875817288, 875224647, 874632406,
    874040567, 873449128, 872858089, 872267449, 871677210, 871087370, 870497929, 869908887,
    869320244, 868731999, 868144152, 867556702, 866969651, 866382996, 865796739, 865210878,
    864625413, 864040345, 863455673, 862871396, 862287515, 861704028, 861120937, 860538240,
    859955938, 859374029, 858792514, 858211393, 857630665, 857050330, 856470387, 855890838,
    855311680, 854732914, 854154540, 853576557, 852998965, 852421764, 851844954, 851268534,
    850692504, 850116863, 849541613, 848966751, 848392279, 847818195, 847244500, 846671193,
    846098274, 845525742, 844953598, 844381841, 843810471, 843239488, 842668891, 842098680,
    841528855, 840959416, 840390362, 839821693, 839253408, 838685509, 838117993, 837550862,
    836984114, 836417750, 835851769, 835286171, 834720956, 834156123, 833591673, 833027604,
    832463917, 831900612, 831337688, 830775144, 830212982, 829651199, 829089797, 828528775,
    827968132, 827407869, 826847985, 826288480, 825729353, 825170605, 824612234, 824054242,
    823496627, 822939390, 822382529, 821826045, 821269938, 820714208, 820158853, 819603874,
    819049271, 818495042, 817941189, 817387711, 816834607, 816281878, 815729522, 815177541,
    814625932, 814074697, 813523835, 812973346, 812423229, 811873485, 811324113, 810775112,
    810226483, 809678225, 809130338, 808582821, 808035676, 807488900, 806942495, 806396459,
    805850792, 805305495, 804760567, 804216008, 803671817, 803127995, 802584540, 802041453,
    801498734, 800956381, 800414396, 799872778, 799331526, 798790640, 798250121, 797709967,
    797170178, 796630755, 796091697, 795553004, 795014675, 794476710, 793939110, 793401873,
    792865000, 792328490, 791792343, 791256559, 790721137, 790186078, 789651381, 789117046,
    788583072, 788049459, 787516208, 786983317, 786450787, 785918618, 785386808, 784855359,
    784324269, 783793538, 783263166, 782733154, 782203500, 781674204, 781145267, 780616687,
    780088465, 779560601, 779033094, 778505943, 777979150, 777452713, 776926632, 776400907,
    775875538, 775350524, 774825866, 774301562, 773777614, 773254020, 772730780, 772207894,
    771685363, 771163184, 770641359, 770119888, 769598769, 769078002, 768557588, 768037527,
    767517817, 766998459, 766479452, 765960796, 765442492, 764924538, 764406934, 763889681,
    763372778, 762856225, 762340021, 761824166, 761308661, 760793504, 760278696, 759764237,
    759250125, 758736361, 758222945, 757709877, 757197155, 756684781, 756172753, 755661072,
    755149737, 754638748, 754128104, 753617807, 753107854, 752598247, 752088984, 751580066,
    751071493, 750563263, 750055378, 749547836, 749040637, 748533782, 748027270, 747521101,
    747015274, 746509789, 746004646, 745499845, 744995386, 744491268, 743987492, 743484056,
    742980960, 742478206, 741975791, 741473716, 740971982, 740470586, 739969530, 739468813,
    738968435, 738468395, 737968694, 737469331, 736970306, 736471618, 735973268, 735475255,
    734977579, 734480240, 733983238, 733486571, 732990241, 732494247, 731998588, 731503265,
    731008277, 730513624, 730019305, 729525321, 729031671, 728538356, 728045374, 727552725,
    727060411, 726568429, 726076780, 725585464, 725094480, 724603828, 724113509, 723623521,
    723133865, 722644540, 722155547, 721666884, 721178552, 720690550, 720202879, 719715537,
    719228525, 718741843, 718255490, 717769467, 717283772, 716798406, 716313368, 715828658,
    715344277, 714860223, 714376497, 713893098, 713410026, 712927281, 712444863, 711962771,
    711481005, 710999566, 710518452, 710037663, 709557200, 709077063, 708597250, 708117761,
    707638598, 707159758, 706681242, 706203051, 705725183, 705247638, 704770416, 704293517,
    703816941, 703340688, 702864756, 702389147, 701913860, 701438894, 700964249, 700489926,
    700015924, 699542242, 699068881, 698595841, 698123120, 697650719, 697178638, 696706877,
    696235434, 695764311, 695293506, 694823020, 694352853, 693883003, 693413472, 692944258,
    692475362, 692006783, 691538521, 691070576, 690602947, 690135635, 689668639, 689201960,
    688735596, 688269547, 687803814, 687338396, 686873293, 686408505, 685944031, 685479872,
    685016026, 684552495, 684089277, 683626372, 683163781, 682701503, 682239538, 681777885,
    681316545, 680855517, 680394800, 679934396, 679474303, 679014521, 678555051, 678095891,
    677637043, 677178504, 676720276, 676262358, 675804750, 675347452, 674890463, 674433783,
    673977412, 673521350, 673065597, 672610152, 672155015, 671700186, 671245665, 670791451,
    670337545, 669883946, 669430654, 668977669, 668524990, 668072618, 667620551, 667168791,
    666717336, 666266187, 665815343, 665364804, 664914570, 664464640, 664015016, 663565695,
    663116678, 662667965, 662219556, 661771450, 661323648, 660876148, 660428952, 659982058,
    659535466, 659089176, 658643189, 658197503, 657752119, 657307036, 656862255, 656417774,
    655973594, 655529715, 655086136, 654642857, 654199878, 653757199, 653314820, 652872739,
    652430958, 651989476, 651548293, 651107408, 650666822, 650226533, 649786543, 649346850,
    648907455, 648468357, 648029557, 647591053, 647152846, 646714935, 646277321, 645840003,
    645402981, 644966254, 644529823, 644093688, 643657847, 643222302, 642787051, 642352095,
    641917433, 641483065, 641048991, 640615211, 640181724, 639748530, 639315630, 638883023,
    638450708, 638018686, 637586957, 637155519, 636724373, 636293520, 635862957, 635432686,
    635002706, 634573018, 634143620, 633714512, 633285695, 632857168, 632428931, 632000983,
    631573326, 631145957, 630718878, 630292088, 629865587, 629439374, 629013450, 628587814,
    628162466, 627737405, 627312633, 626888148, 626463950, 626040039, 625616415, 625193077,
    624770026, 624347262, 623924783, 623502590, 623080683, 622659062, 622237725, 621816674,
    621395908, 620975426, 620555229, 620135317, 619715688, 619296344, 618877283, 618458506,
    618040012, 617621801, 617203873, 616786229, 616368866, 615951786, 615534989, 615118473,
    614702239, 614286287, 613870617, 613455227, 613040119, 612625292, 612210745, 611796479,
    611382493, 610968787, 610555361, 610142215, 609729349, 609316762, 608904454, 608492425,
    608080675, 607669204, 607258010, 606847096, 606436459, 606026100, 605616019, 605206215,
    604796689, 604387439, 603978467, 603569772, 603161352, 602753210, 602345343, 601937753,
    601530438, 601123399, 600716635, 600310147, 599903933, 599497995, 599092331, 598686942,
    598281827, 597876986, 597472419, 597068126, 596664106, 596260360, 595856887, 595453687,
    595050760, 594648106, 594245724, 593843614, 593441776, 593040210, 592638916, 592237894,
    591837143, 591436663, 591036454, 590636516, 590236848, 589837451, 589438325, 589039468,
    588640881, 588242564, 587844516, 587446738, 587049229, 586651989, 586255018, 585858315,
    585461881, 585065715, 584669817, 584274187, 583878825, 583483730, 583088903, 582694343,
    582300049, 581906023, 581512263, 581118770, 580725543, 580332582, 579939887, 579547457,
    579155293, 578763395, 578371762, 577980393, 577589290, 577198451, 576807877, 576417567,
    576027521, 575637739, 575248221, 574858966, 574469975, 574081247, 573692782, 573304580,
    572916640, 572528963, 572141549, 571754396, 571367506, 570980877, 570594510, 570208404,
    569822560, 569436977, 569051654, 568666593, 568281792, 567897251, 567512971, 567128950,
    566745190, 566361689, 565978447, 565595465, 565212742, 564830279, 564448073, 564066127,
    563684439, 563303009, 562921837, 562540924, 562160268, 561779869, 561399728, 561019845,
    560640218, 560260848, 559881735, 559502878, 559124278, 558745934, 558367846, 557990014,
    557612438, 557235117, 556858051, 556481240, 556104685, 555728384, 555352338, 554976546,
    554601009, 554225726, 553850696, 553475921, 553101399, 552727130, 552353115, 551979353,
    551605844, 551232587, 550859583, 550486832, 550114332, 549742085, 549370090, 548998346,
    548626854, 548255613, 547884624, 547513886, 547143398, 546773161, 546403175, 546033439,
    545663953, 545294717, 544925731, 544556995, 544188508, 543820271, 543452283, 543084543,
    542717053, 542349811, 541982818, 541616073, 541249576, 540883328, 540517327, 540151574,
    539786068, 539420810, 539055798, 538691034, 538326517, 537962246, 537598222, 537234444,
    536870912,
};

/* exp(x) for x <= 0 in Q16, result in Q30 (1.0 = 2^30), as 2^-n 2^-f with 2^-f
 * interpolated in bg_exp2_table_q30; 0 from n = zero_from (at most 31, where the value
 * rounds to 0) on: a caller that keeps fewer bits passes the n from which its own
 * rounding gives 0 (bg_exp_neg_q16). */
static inline int64_t bg_exp_neg_q30_from(int32_t x, int32_t zero_from) {
  int64_t y;
  uint32_t f, a, b, p;
  int32_t n;
  if (x >= 0) return BG_Q30_ONE;
  y = (int64_t)x * -BG_LOG2E_Q30; /* -x*log2(e), Q46; int32 operands: one SMULL */
  n = (int32_t)(y >> 46);
  if (n >= zero_from) return 0;
  f = (uint32_t)(y >> 16) & 0x3FFFFFFFu; /* the fraction, Q30: an entry, then the bits between it and the next */
  a = bg_exp2_table_q30[f >> BG_EXP2_STEP_BITS];
  b = bg_exp2_table_q30[(f >> BG_EXP2_STEP_BITS) + 1];
  /* a - b < 2^20 and the 20 bits below: the product fits 40 bits (one UMULL on 32-bit Arm).
   * The product's share is rounded half up, so the interpolated value rounds half down. */
  p = a - (uint32_t)(((uint64_t)(a - b) * (f & ((1u << BG_EXP2_STEP_BITS) - 1)) + (1u << (BG_EXP2_STEP_BITS - 1))) >> BG_EXP2_STEP_BITS);
  /* round(p / 2^n) in 32 bits: p <= 2^30 and 0 <= n <= 30 */
  return n == 0 ? (int64_t)p : (int64_t)(((p >> (n - 1)) + 1u) >> 1);
}

static inline int64_t bg_exp_neg_q30(int32_t x) { return bg_exp_neg_q30_from(x, 31); }

/* s - m for a score s <= m, the maximum of its row, as the softmax's exp argument: exact
 * while it fits an int32, else INT32_MIN, whose exp is 0 like the exact value's. (The
 * plain difference of two int32 scores can overflow when the weights' scales are huge.) */
static inline int32_t bg_below_max(int32_t s, int32_t m) {
  const uint32_t gap = (uint32_t)m - (uint32_t)s; /* 0 <= m - s < 2^32 */
  return gap > 0x7FFFFFFFu ? INT32_MIN : -(int32_t)gap;
}

/* exp(x) for x <= 0, Q16 in and out: the softmax weight. */
static inline int32_t bg_exp_neg_q16(int32_t x) {
  /* from n = 18 on, the Q30 value is at most 2^12, which rounds to 0 here: the scores far
   * below their row's maximum (12.5 and more) skip the table's interpolation */
  return (int32_t)(((uint32_t)bg_exp_neg_q30_from(x, 18) >> 13) + 1u) >> 1; /* round(/2^14); the Q30 value is <= 2^30 */
}

/* sigma(-i/64) in Q16 for i = 0..1024, round(65536 / (1 + e^(i/64))): the sigmoid of the
 * activations, read with linear interpolation (2 KiB of flash). A table instead of
 * e / (1 + e) because the FFN takes a sigmoid per hidden unit, and the exp polynomial and
 * the division cost ~75 instructions more per unit on a Cortex-M4. Its error,
 * interpolation and table rounding together, is < 1.2 Q16 units; sigma(-16) is 0.007. */
static const uint16_t bg_sigmoid_table[1025] = {
  32768, 32512, 32256, 32000, 31744, 31489, 31233, 30978, 30723, 30468, 30213, 29959, 29705, 29451, 29198, 28945,
  28693, 28441, 28190, 27939, 27689, 27440, 27191, 26943, 26695, 26448, 26202, 25957, 25712, 25468, 25226, 24984,
  24743, 24502, 24263, 24025, 23788, 23551, 23316, 23082, 22849, 22617, 22386, 22156, 21928, 21700, 21474, 21249,
  21025, 20803, 20582, 20362, 20143, 19926, 19710, 19495, 19282, 19070, 18859, 18650, 18442, 18236, 18031, 17827,
  17625, 17425, 17226, 17028, 16832, 16637, 16444, 16252, 16062, 15873, 15686, 15500, 15316, 15134, 14952, 14773,
  14595, 14418, 14243, 14070, 13898, 13728, 13559, 13392, 13226, 13062, 12899, 12738, 12579, 12420, 12264, 12109,
  11955, 11803, 11653, 11504, 11357, 11211, 11066, 10923, 10782, 10642, 10503, 10366, 10230, 10096, 9964, 9832,
  9702, 9574, 9447, 9321, 9197, 9074, 8953, 8833, 8714, 8597, 8481, 8366, 8252, 8140, 8030, 7920,
  7812, 7705, 7600, 7495, 7392, 7290, 7190, 7090, 6992, 6895, 6799, 6705, 6611, 6519, 6428, 6338,
  6249, 6161, 6074, 5989, 5904, 5821, 5739, 5657, 5577, 5498, 5420, 5342, 5266, 5191, 5117, 5044,
  4971, 4900, 4830, 4760, 4692, 4624, 4557, 4492, 4427, 4363, 4299, 4237, 4176, 4115, 4055, 3996,
  3938, 3880, 3824, 3768, 3713, 3658, 3605, 3552, 3500, 3448, 3398, 3348, 3298, 3250, 3202, 3155,
  3108, 3062, 3017, 2972, 2928, 2885, 2842, 2800, 2758, 2717, 2677, 2637, 2598, 2559, 2521, 2483,
  2446, 2410, 2374, 2338, 2303, 2269, 2235, 2201, 2168, 2136, 2104, 2072, 2041, 2010, 1980, 1950,
  1921, 1892, 1864, 1836, 1808, 1781, 1754, 1727, 1701, 1675, 1650, 1625, 1601, 1576, 1553, 1529,
  1506, 1483, 1461, 1438, 1417, 1395, 1374, 1353, 1333, 1312, 1292, 1273, 1253, 1234, 1215, 1197,
  1179, 1161, 1143, 1126, 1109, 1092, 1075, 1059, 1042, 1027, 1011, 995, 980, 965, 951, 936,
  922, 908, 894, 880, 867, 853, 840, 827, 815, 802, 790, 778, 766, 754, 743, 731,
  720, 709, 698, 687, 677, 666, 656, 646, 636, 626, 617, 607, 598, 589, 580, 571,
  562, 553, 545, 537, 528, 520, 512, 504, 497, 489, 481, 474, 467, 460, 452, 445,
  439, 432, 425, 419, 412, 406, 400, 393, 387, 381, 376, 370, 364, 358, 353, 347,
  342, 337, 332, 327, 321, 317, 312, 307, 302, 297, 293, 288, 284, 279, 275, 271,
  267, 263, 259, 255, 251, 247, 243, 239, 236, 232, 228, 225, 221, 218, 215, 211,
  208, 205, 202, 198, 195, 192, 189, 186, 184, 181, 178, 175, 172, 170, 167, 165,
  162, 160, 157, 155, 152, 150, 148, 145, 143, 141, 139, 137, 134, 132, 130, 128,
  126, 124, 122, 120, 119, 117, 115, 113, 111, 110, 108, 106, 105, 103, 101, 100,
  98, 97, 95, 94, 92, 91, 90, 88, 87, 85, 84, 83, 82, 80, 79, 78,
  77, 75, 74, 73, 72, 71, 70, 69, 68, 67, 66, 65, 64, 63, 62, 61,
  60, 59, 58, 57, 56, 55, 54, 54, 53, 52, 51, 50, 50, 49, 48, 47,
  47, 46, 45, 44, 44, 43, 42, 42, 41, 40, 40, 39, 39, 38, 37, 37,
  36, 36, 35, 35, 34, 34, 33, 32, 32, 31, 31, 31, 30, 30, 29, 29,
  28, 28, 27, 27, 27, 26, 26, 25, 25, 25, 24, 24, 23, 23, 23, 22,
  22, 22, 21, 21, 21, 20, 20, 20, 19, 19, 19, 19, 18, 18, 18, 17,
  17, 17, 17, 16, 16, 16, 16, 15, 15, 15, 15, 14, 14, 14, 14, 14,
  13, 13, 13, 13, 13, 12, 12, 12, 12, 12, 11, 11, 11, 11, 11, 11,
  10, 10, 10, 10, 10, 10, 9, 9, 9, 9, 9, 9, 9, 8, 8, 8,
  8, 8, 8, 8, 8, 7, 7, 7, 7, 7, 7, 7, 7, 7, 6, 6,
  6, 6, 6, 6, 6, 6, 6, 6, 6, 5, 5, 5, 5, 5, 5, 5,
  5, 5, 5, 5, 5, 5, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
  4, 4, 4, 4, 4, 4, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
  3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 2,
  2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
  2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0,
};

/* sigmoid(x), Q16 in and out: the table at |x| (64 entries per unit, the low 10 bits
 * interpolating, rounded half up), mirrored as 1 - sigma(|x|) for x >= 0; 0 or 1 beyond 16. */
static inline int32_t bg_sigmoid_q16(int32_t x) {
  const uint32_t u = x >= 0 ? (uint32_t)x : 0u - (uint32_t)x;
  int32_t neg = 0; /* sigma(-|x|) */
  if (u < (16u << 16)) {
    int32_t a, b; /* the two table neighbours */
#if defined(__ARM_FEATURE_UNALIGNED) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    /* both in one (unaligned) word load, the low half the first: an instruction fewer
     * than two halfword loads and the index's increment */
    uint32_t pair;
    __builtin_memcpy(&pair, bg_sigmoid_table + (u >> 10), 4);
    a = (int32_t)(pair & 0xFFFFu), b = (int32_t)(pair >> 16);
#else
    a = bg_sigmoid_table[u >> 10], b = bg_sigmoid_table[(u >> 10) + 1];
#endif
    neg = a + (((b - a) * (int32_t)(u & 1023u) + 512) >> 10);
  }
  return x >= 0 ? 65536 - neg : neg;
}

/* x * sigmoid(x): SiLU, Q16. */
static inline int32_t bg_silu_q16(int32_t x) {
  return bg_round_shift_sat32(bg_mul32x32(x, bg_sigmoid_q16(x)), 16);
}

/* tanh-GELU: 0.5x(1 + tanh(sqrt(2/pi)(x + 0.044715x^3))) = x * sigmoid(2*sqrt(2/pi)(...)). */
static inline int32_t bg_gelu_q16(int32_t x) {
  const int32_t xc = x > (16 << 16) ? (16 << 16) : (x < -(16 << 16) ? -(16 << 16) : x);
  const int64_t x3 = bg_shr_round(bg_shr_round((int64_t)xc * xc, 16) * xc, 16);
  const int64_t inner = xc + bg_shr_round(x3 * 48012366LL, 30); /* 0.044715 in Q30 */
  const int64_t z = bg_shr_round(inner * 1713444047LL, 30);      /* 2*sqrt(2/pi) in Q30 */
  return bg_round_shift_sat32(bg_mul32x32(x, bg_sigmoid_q16(bg_sat32(z))), 16);
}

/* max(x, 0)^2, Q16. */
static inline int32_t bg_relu2_q16(int32_t x) {
  return x <= 0 ? 0 : bg_round_shift_sat32(bg_mul32x32(x, x), 16);
}

/* sin(2*pi*u) for a turn fraction u in Q32 (u = 2^32 is one whole turn); result Q30. */
static inline int32_t bg_sin_turn_q30(uint32_t u) {
  /* fold into the first quarter turn, then an odd Taylor polynomial (error < 6e-8) */
  const uint32_t quadrant = u >> 30;
  uint32_t f = u & 0x3FFFFFFFu; /* position inside the quadrant, Q30 of a quarter turn */
  int64_t x, x2, p;
  if (quadrant & 1u) f = 0x40000000u - f;
  x = bg_shr_round((int64_t)f * 1686629713LL, 30); /* angle in radians, Q30: f * pi/2 */
  x2 = bg_shr_round(x * x, 30);
  /* x * (1 - x^2/3! + x^4/5! - ...): Horner in x^2 with the 1/k! in Q30 */
  p = -27;                                      /* -1/11! */
  p = 2959 + bg_shr_round(p * x2, 30);          /*  1/9!  */
  p = -213044 + bg_shr_round(p * x2, 30);       /* -1/7!  */
  p = 8947849 + bg_shr_round(p * x2, 30);       /*  1/5!  */
  p = -178956971 + bg_shr_round(p * x2, 30);    /* -1/3!  */
  p = BG_Q30_ONE + bg_shr_round(p * x2, 30);    /*  1/1!  */
  p = bg_shr_round(p * x, 30);
  if (p > BG_Q30_ONE) p = BG_Q30_ONE;
  return (int32_t)(quadrant >= 2u ? -p : p);
}

static inline int32_t bg_cos_turn_q30(uint32_t u) { return bg_sin_turn_q30(u + 0x40000000u); }

/* ln(v / 2^frac) for v > 0, Q32 result. */
static inline int64_t bg_ln_q32(uint64_t v, int frac) {
  /* v = 2^e * (1 + m), ln(1+m) = 2 atanh(m / (2 + m)) */
  const int e = 63 - bg_clz64(v);
  int64_t m, s, s2, p, lnm;
  if (v == 0) return INT64_MIN;
  m = e >= 32 ? (int64_t)((v >> (e - 32)) - ((uint64_t)1 << 32))
              : (int64_t)((v << (32 - e)) - ((uint64_t)1 << 32)); /* Q32 in [0,1) */
  s = (m << 30) / (((int64_t)2 << 32) + m);                      /* Q30, in [0, 1/3) */
  s2 = bg_shr_round(s * s, 30);
  p = BG_Q30_ONE / 11;
  p = BG_Q30_ONE / 9 + bg_shr_round(p * s2, 30);
  p = BG_Q30_ONE / 7 + bg_shr_round(p * s2, 30);
  p = BG_Q30_ONE / 5 + bg_shr_round(p * s2, 30);
  p = BG_Q30_ONE / 3 + bg_shr_round(p * s2, 30);
  p = BG_Q30_ONE + bg_shr_round(p * s2, 30);
  lnm = bg_shr_round(2 * p * s, 28); /* Q32 */
  return lnm + (int64_t)(e - frac) * 2977044472LL; /* ln(2) in Q32 */
}

/* ---- pseudo-random numbers and the logits checksum ---- */

/* splitmix64: one 32-bit draw per call. */
static inline uint32_t bg_rand32(uint64_t *state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return (uint32_t)((z ^ (z >> 31)) >> 32);
}

/* Gumbel noise -ln(-ln(u)) for u = (2r+1)/2^33 in (0,1), Q16. */
static inline int32_t bg_gumbel_q16(uint32_t r) {
  int64_t a = -bg_ln_q32(2 * (uint64_t)r + 1, 33); /* -ln(u) > 0, Q32 */
  if (a < 1) a = 1;
  return bg_sat32(bg_shr_round(-bg_ln_q32((uint64_t)a, 32), 16));
}

#define BG_FNV_OFFSET 0xcbf29ce484222325ull

/* The logits checksum: FNV-1a 64 taken a 32-bit word at a time, h = (h ^ v) * prime
 * modulo 2^64 for each logit v (one step a logit, not the textbook's four byte steps:
 * ~5 instructions a logit on a 32-bit core where the four took ~26, 2 % of a token of
 * the example on the cortex-m4). The prime 0x100000001b3 is 2^40 + 0x1b3, so h * prime =
 * h * 0x1b3 + (h << 40): on 32-bit cores one 32x32->64 multiply, one multiply-add and one
 * shifted add, instead of a general 64-bit multiply. */
static inline uint64_t bg_fnv_i32(uint64_t h, int32_t v) {
  const uint32_t lo = (uint32_t)h ^ (uint32_t)v, hi = (uint32_t)(h >> 32);
  const uint64_t low = (uint64_t)lo * 0x1b3u;
  return (uint64_t)(hi * 0x1b3u + (uint32_t)(low >> 32) + (lo << 8)) << 32 | (uint32_t)low;
}

/* ---- scale16: a non-negative act-unit magnitude in 16 bits (KV-cache scales) ---- */
/* value = mant << exp with a 12-bit mantissa and 4-bit exponent; encoding rounds up so the
 * decoded value never falls below the amax it encodes (quantisation never clips). */
static inline uint16_t bg_scale16_encode(int32_t amax) {
  uint32_t v = amax > 0 ? (uint32_t)amax : 0u;
  uint32_t e = 0;
  while ((v >> e) > 0xFFFu && e < 15u) ++e;
  {
    uint32_t mant = (v + ((1u << e) - 1u)) >> e;
    if (mant > 0xFFFu) { ++e; mant = (v + ((1u << e) - 1u)) >> e; }
    if (mant > 0xFFFu) mant = 0xFFFu;
    return (uint16_t)((e << 12) | mant);
  }
}

static inline uint32_t bg_scale16_mantissa(uint16_t s) { return s & 0xFFFu; }
static inline int32_t bg_scale16_exponent(uint16_t s) { return s >> 12; }

static inline int32_t bg_scale16_decode(uint16_t s) {
  return (int32_t)(bg_scale16_mantissa(s) << bg_scale16_exponent(s));
}

/* A key's score multiplier (bg_attn_score): k times the decoded scale16 s, its mantissa
 * the high word of (k.m << 8) (mant << 20) = k.m mant / 16, truncated (in [2^29, 2^31)
 * for a normalised k and a mantissa with its top bit at 11, as every scale16 with an
 * exponent has; within 2^-29 of the product), its shift k.shift - exponent - 4. One
 * multiply where normalising the product to 23 bits took ~15 instructions on the
 * cortex-m4, and a mantissa wide enough for bg_mult_apply32_row's one high multiply. */
static inline bg_mult bg_mult_scale16(bg_mult k, uint16_t s) {
  bg_mult r;
  r.m = (int32_t)(uint32_t)(((uint64_t)((uint32_t)k.m << 8) * (bg_scale16_mantissa(s) << 20)) >> 32);
  r.shift = k.shift - bg_scale16_exponent(s) - 4;
  return r;
}

/* ---- the temperature a user types, parsed without floating point ---- */
/* "0.8" -> 52429 (Q16). Returns -1 on a malformed or negative number. */
static inline int32_t bg_parse_q16(const char *s) {
  int64_t whole = 0, frac_num = 0, frac_den = 1;
  int digits = 0;
  if (!s || !*s) return -1;
  while (*s >= '0' && *s <= '9') {
    whole = whole * 10 + (*s++ - '0');
    ++digits;
    if (whole > 30000) return -1;
  }
  if (*s == '.') {
    ++s;
    while (*s >= '0' && *s <= '9') {
      if (frac_den < 1000000000LL) { frac_num = frac_num * 10 + (*s - '0'); frac_den *= 10; }
      ++s;
      ++digits;
    }
  }
  if (*s != '\0' || digits == 0) return -1;
  return (int32_t)((whole << 16) + ((frac_num << 16) + frac_den / 2) / frac_den);
}

#ifdef __cplusplus
}
#endif

#endif /* BITGPT_NUMERICS_H */
