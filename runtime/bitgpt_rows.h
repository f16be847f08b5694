/* bitgpt_rows.h - dot products of matrix rows with int8 vectors, and their scaling:
 * the row kernels (plain C, SMLAD, Helium, AVX2 on hosts) and the helpers the fused kernels share.
 * Part of bitgpt_ops.h, which includes it where its types are defined; not included
 * on its own. */
#ifndef BITGPT_ROWS_H
#define BITGPT_ROWS_H

/* ---- matrix rows ---- */

/* The ternary weight in the low two bits of c: 01 = +1, 11 = -1, 00 = 0. */
static inline int32_t bg_trit(uint32_t c) { return (int32_t)(c & 1u) * (1 - (int32_t)(c & 2u)); }

/* The same weight, read as a sign-extended 2-bit field (one SBFX on Armv7-M). */
static inline int32_t bg_trit_at(uint32_t b, int k) { return (int32_t)(b << (30 - 2 * k)) >> 30; }

/* Weight k of a BG_W_TERNARY_P128 byte: its field holds w + 1. */
static inline int32_t bg_p128_weight(uint32_t b, int k) { return (int32_t)((b >> (2 * k)) & 3u) - 1; }

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

/* Columns [from, cols) of one int8 or 2-bit ternary row against x: the tail a multi-row
 * kernel leaves after its whole steps. */
static inline int32_t bg_row_tail(const uint8_t *row, int32_t from, int32_t cols, int32_t int8, const int8_t *x) {
  int32_t acc = 0, j;
  for (j = from; j < cols; ++j) acc += (int8 ? (int8_t)row[j] : bg_trit_at(row[j >> 2], j & 3)) * x[j];
  return acc;
}

#if defined(BITGPT_USE_AVX2)
/* The four-row pass of this build: AVX-512 VNNI's where the compiler targets it
 * (bitgpt_avx512.h, the same integers), else AVX2's. */
static inline void bg_p128_rows4(const uint8_t *r0, const uint8_t *r1, const uint8_t *r2, const uint8_t *r3, const int8_t *x, int32_t cols,
                                 int32_t *dot) {
#if defined(BITGPT_USE_AVX512_VNNI)
  _mm_storeu_si128((__m128i *)dot, bg_avx512_p128_rows4(r0, r1, r2, r3, x, cols));
#else
  _mm_storeu_si128((__m128i *)dot, bg_avx2_p128_rows4(r0, r1, r2, r3, x, cols));
#endif
}

/* The sum of the codes x[0..n-1], which the eight-row pass below takes from its caller:
 * one sum for every pass over the same x. */
static inline int32_t bg_codes_sum(const int8_t *x, int32_t n) {
  const int32_t whole = n & ~31;
  int32_t s = bg_avx2_codes_sum(x, whole), j;
  for (j = whole; j < n; ++j) s += x[j];
  return s;
}

/* Eight rows' dot products, in one vector: four row_bytes apart from a, then four from b;
 * sum_x = bg_codes_sum(x, cols). One pass with AVX-512 VNNI (the activations shared by
 * eight rows), else two (AVX2's, which sum the codes by spans and ignore sum_x). */
static inline __m256i bg_p128_rows4x2(const uint8_t *a, const uint8_t *b, int32_t row_bytes, const int8_t *x, int32_t sum_x, int32_t cols) {
#if defined(BITGPT_USE_AVX512_VNNI)
  return bg_avx512_p128_rows8(a, b, row_bytes, x, sum_x, cols);
#else
  (void)sum_x;
  return bg_avx2_rows4x2(bg_avx2_p128_rows4(a, a + row_bytes, a + 2 * row_bytes, a + 3 * row_bytes, x, cols),
                         bg_avx2_p128_rows4(b, b + row_bytes, b + 2 * row_bytes, b + 3 * row_bytes, x, cols));
#endif
}

/* Four int8 rows (row_bytes apart), likewise: every column with AVX-512 VNNI; else AVX2's
 * 16-column steps, then the columns left one at a time. */
static inline void bg_int8_rows4(const int8_t *r0, int32_t row_bytes, const int8_t *x, int32_t cols, int32_t *dot) {
#if defined(BITGPT_USE_AVX512_VNNI)
  bg_avx512_int8_rows4(r0, row_bytes, x, cols, dot);
#else
  const int32_t whole = cols & ~15;
  int32_t k;
  bg_avx2_int8_rows4(r0, row_bytes, x, whole, dot);
  for (k = 0; k < 4; ++k) dot[k] += bg_row_tail((const uint8_t *)r0 + (int64_t)k * row_bytes, whole, cols, 1, x);
#endif
}
#endif

/* ---- int8 rows in pairs (BG_W_INT8_PAIRS, bitgpt_ops.h) ---- */
/* Compiled where BITGPT_INT8_PAIRS is defined: by the emitted code of a plan that stores
 * int8 rows in pairs, and in the compiler (its interpreter runs every plan); other
 * builds carry no code for them. */
#if defined(BITGPT_INT8_PAIRS)

#define BG_PAIR_SHIFT 24
/* Columns one 64-bit pair sum takes before it is split: the low row's sum stays within
 * +-2^23 (512 * 127 * 128 < 2^23), so its 24 low bits hold it exactly. */
#define BG_PAIR_SPAN 512

/* The low 24 bits of v, sign-extended: the low row's part of a pair word or sum. */
static inline int32_t bg_pair_low(uint32_t v) { return (int32_t)(v << 8) >> 8; }

/* Weight (r, j) of a BG_W_INT8_PAIRS matrix. */
static inline int32_t bg_pair_weight(const bg_matrix *w, int32_t r, int32_t j) {
  const int32_t word = ((const int32_t *)(w->data + (int64_t)(r >> 2) * w->row_bytes))[2 * j + ((r >> 1) & 1)];
  const int32_t low = bg_pair_low((uint32_t)word);
  return (r & 1) ? (word - low) >> BG_PAIR_SHIFT : low;
}

/* Sums over n columns of one quad's words (two a column) with x: *a and *b get the two
 * pairs' 64-bit totals added. Thumb-2: two columns a pass, an activation load, a
 * two-word load and two SMLALs a column (1.25 instructions a weight). */
static inline void bg_pair_sums(const int32_t *p, const int8_t *x, int32_t n, int64_t *a, int64_t *b) {
  int64_t sa = *a, sb = *b;
#if defined(__GNUC__) && defined(__thumb2__)
  if (n >= 2) {
    const int8_t *const end = x + (n & ~1);
    uint32_t alo = (uint32_t)sa, ahi = (uint32_t)((uint64_t)sa >> 32), blo = (uint32_t)sb, bhi = (uint32_t)((uint64_t)sb >> 32);
    int32_t v, w0, w1;
    __asm__ volatile(
        "1:\n\t"
        "ldrsb %[v], [%[x]], #2\n\t"
        "ldrd %[w0], %[w1], [%[p]], #16\n\t"
        "smlal %[alo], %[ahi], %[w0], %[v]\n\t"
        "smlal %[blo], %[bhi], %[w1], %[v]\n\t"
        "ldrsb %[v], [%[x], #-1]\n\t"
        "ldrd %[w0], %[w1], [%[p], #-8]\n\t"
        "smlal %[alo], %[ahi], %[w0], %[v]\n\t"
        "smlal %[blo], %[bhi], %[w1], %[v]\n\t"
        "cmp %[x], %[end]\n\t"
        "bne 1b"
        : [x] "+r"(x), [p] "+r"(p), [alo] "+r"(alo), [ahi] "+r"(ahi), [blo] "+r"(blo), [bhi] "+r"(bhi), [v] "=&r"(v), [w0] "=&r"(w0),
          [w1] "=&r"(w1)
        : [end] "r"(end)
        : "cc", "memory");
    sa = (int64_t)((uint64_t)ahi << 32 | alo), sb = (int64_t)((uint64_t)bhi << 32 | blo);
    n &= 1;
  }
#endif
  for (; n > 0; --n, p += 2) {
    const int32_t v = *x++;
    sa += (int64_t)p[0] * v;
    sb += (int64_t)p[1] * v;
  }
  *a = sa, *b = sb;
}

/* The four rows of quad q of a BG_W_INT8_PAIRS matrix against x. Out of line: its 64-bit
 * sums stay out of the frames of the callers that inline bg_row_dots (the stack reserve). */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void bg_int8_quad_dots(const bg_matrix *w, int32_t q, const int8_t *x, int32_t *dot) {
  const int32_t *quad = (const int32_t *)(w->data + (int64_t)q * w->row_bytes);
  int32_t j, k;
  for (k = 0; k < 4; ++k) dot[k] = 0;
  for (j = 0; j < w->cols; j += BG_PAIR_SPAN) {
    int64_t s[2] = {0, 0};
    bg_pair_sums(quad + 2 * j, x + j, w->cols - j < BG_PAIR_SPAN ? w->cols - j : BG_PAIR_SPAN, &s[0], &s[1]);
    for (k = 0; k < 2; ++k) { /* s = low + high * 2^24, |low| < 2^23 */
      const int32_t low = bg_pair_low((uint32_t)s[k]);
      dot[2 * k] += low;
      dot[2 * k + 1] += (int32_t)((s[k] - low) >> BG_PAIR_SHIFT);
    }
  }
}

#endif /* BITGPT_INT8_PAIRS */

/* ---- int8 rows as int16 quads (BG_W_INT16_QUADS, bitgpt_ops.h) ---- */
/* Compiled where BITGPT_INT16_QUADS is defined: by the emitted code of a plan that stores
 * int8 rows so, and in the compiler (its interpreter runs every plan). */
#if defined(BITGPT_INT16_QUADS)

/* Halfword h of step s of row k in a quad: the packed order w0, w2, w1, w3 a step. */
static inline int32_t bg_quad16_at(const uint8_t *quad, int32_t s, int32_t k, int32_t h) {
  const uint8_t *p = quad + 32 * s + 8 * k + 2 * h;
  return (int16_t)(uint16_t)(p[0] | p[1] << 8); /* little-endian bytes, any host */
}

/* Weight (r, j) of a BG_W_INT16_QUADS matrix. */
static inline int32_t bg_quad16_weight(const bg_matrix *w, int32_t r, int32_t j) {
  return bg_quad16_at(w->data + (int64_t)(r >> 2) * w->row_bytes, j >> 2, r & 3, 2 * (j & 1) + ((j >> 1) & 1));
}

/* The four rows of quad q of a BG_W_INT16_QUADS matrix against x: SMLAD's assembly over
 * whole steps of four columns where the core has it (on x's codes unpacked once, pairs,
 * when the caller has them: bg_row_input), then the columns left one by one. */
static inline void bg_quad16_dots(const bg_matrix *w, int32_t q, const int8_t *x, const uint32_t *pairs, int32_t *dot) {
  const uint8_t *quad = w->data + (int64_t)q * w->row_bytes;
  const int32_t whole = w->cols & ~3;
  int32_t j, k;
#if defined(BITGPT_USE_SMLAD)
  if (pairs) bg_smlad_quad16_pairs_dot4(quad, pairs, whole, dot);
  else bg_smlad_quad16_dot4(quad, x, whole, dot);
#else
  (void)pairs;
  for (k = 0; k < 4; ++k) dot[k] = 0;
  for (j = 0; j < whole; j += 4)
    for (k = 0; k < 4; ++k)
      dot[k] += bg_quad16_at(quad, j >> 2, k, 0) * x[j] + bg_quad16_at(quad, j >> 2, k, 1) * x[j + 2] +
                bg_quad16_at(quad, j >> 2, k, 2) * x[j + 1] + bg_quad16_at(quad, j >> 2, k, 3) * x[j + 3];
#endif
  for (j = whole; j < w->cols; ++j) /* rare: out of the usual path */
    for (k = 0; k < 4; ++k) dot[k] += bg_quad16_weight(w, 4 * q + k, j) * x[j];
}

#endif /* BITGPT_INT16_QUADS */

/* Integer dot product of weight row r with int8 codes x. */
static inline int32_t bg_row_dot(const bg_matrix *w, int32_t r, const int8_t *x) {
  const uint8_t *row;
  int32_t acc = 0, j = 0;
#if defined(BITGPT_INT8_PAIRS)
  if (w->dtype == BG_W_INT8_PAIRS) { /* rows left over after whole quads: weight by weight */
    for (; j < w->cols; ++j) acc += bg_pair_weight(w, r, j) * x[j];
    return acc;
  }
#endif
#if defined(BITGPT_INT16_QUADS)
  if (w->dtype == BG_W_INT16_QUADS) { /* rows left over after whole quads: weight by weight */
    for (; j < w->cols; ++j) acc += bg_quad16_weight(w, r, j) * x[j];
    return acc;
  }
#endif
  row = w->data + (int64_t)r * w->row_bytes;
#if defined(BITGPT_USE_MVE)
  if (w->dtype == BG_W_TERNARY2 || w->dtype == BG_W_INT8) { /* whole vectors, then the tail below */
    j = w->cols & ~15;
    acc = w->dtype == BG_W_INT8 ? bg_mve_dot_int8((const int8_t *)row, x, j) : bg_mve_dot_ternary2(row, x, j);
  }
#elif defined(BITGPT_USE_AVX2)
  if (w->dtype == BG_W_TERNARY_P128) { /* rare (rows left over after the passes of four): the four-row pass on one row */
    int32_t dot[4];
    bg_p128_rows4(row, row, row, row, x, w->cols, dot);
    return dot[0];
  }
  if (w->dtype == BG_W_TERNARY2 || w->dtype == BG_W_INT8) { /* whole 32-column steps, then the tail below */
    j = w->cols & ~31;
    acc = w->dtype == BG_W_INT8 ? bg_avx2_dot_int8((const int8_t *)row, x, j) : bg_avx2_dot_ternary2(row, x, j);
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
  } else if (w->dtype == BG_W_TERNARY_P128) {
    for (j = 0; j < w->cols; j += 128) { /* block by block: byte i holds weights i + 32k */
      const uint8_t *block = row + (j >> 2);
      int32_t i;
      for (i = 0; i < 32; ++i) {
        const uint32_t b = block[i];
        acc += bg_p128_weight(b, 0) * x[j + i] + bg_p128_weight(b, 1) * x[j + 32 + i] + bg_p128_weight(b, 2) * x[j + 64 + i] +
               bg_p128_weight(b, 3) * x[j + 96 + i];
      }
    }
  } else if (w->dtype == BG_W_BINARY1) {
    for (j = 0; j < w->cols; ++j) acc += ((row[j >> 3] >> (j & 7)) & 1u) ? x[j] : -x[j];
  } else {
    const int8_t *r8 = (const int8_t *)row;
    for (; j < w->cols; ++j) acc += r8[j] * x[j];
  }
  return acc;
}

#if !defined(BITGPT_USE_SMLAD) && !defined(BITGPT_USE_MVE) && !defined(BITGPT_USE_AVX2) && !defined(BITGPT_KERNEL_NAIVE)
/* Plain C kernels over several rows at once: each activation is loaded once for all of
 * them (the vector kernels above have their own). */
#define BITGPT_PLAIN_ROWS 1

/* Four int8 rows (the classifier's) in plain C: each activation is loaded once for the
 * four rows, so a weight costs its load and a multiply-accumulate (about 2.75
 * instructions a weight on Armv7-M, against 5 a row at a time). */
static inline void bg_int8_dot4(const int8_t *r0, int32_t row_bytes, const int8_t *x, int32_t cols, int32_t *dot) {
  const int8_t *r1 = r0 + row_bytes, *r2 = r1 + row_bytes, *r3 = r2 + row_bytes;
  int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, j;
  for (j = 0; j < cols; ++j) {
    const int32_t v = x[j];
    a0 += r0[j] * v;
    a1 += r1[j] * v;
    a2 += r2[j] * v;
    a3 += r3[j] * v;
  }
  dot[0] = a0, dot[1] = a1, dot[2] = a2, dot[3] = a3;
}

/* Two 2-bit ternary rows over cols4 (a multiple of 4) columns: per 4 columns a byte of
 * each row, then per column one activation load and per weight one field extract and one
 * multiply-accumulate (about 3.1 instructions a weight on Armv7-M, against 4.75 a row at
 * a time). One statement per product, so that each is one MLA into its row's sum. */
static inline void bg_ternary2_dot2(const uint8_t *ra, const uint8_t *rb, const int8_t *x, int32_t cols4, int32_t *da, int32_t *db) {
  const uint8_t *end = ra + (cols4 >> 2);
  int32_t a = 0, b = 0;
  for (; ra < end; ++ra, ++rb, x += 4) {
    const uint32_t fa = *ra, fb = *rb;
    int32_t v;
    v = x[0], a += bg_trit_at(fa, 0) * v, b += bg_trit_at(fb, 0) * v;
    v = x[1], a += bg_trit_at(fa, 1) * v, b += bg_trit_at(fb, 1) * v;
    v = x[2], a += bg_trit_at(fa, 2) * v, b += bg_trit_at(fb, 2) * v;
    v = x[3], a += bg_trit_at(fa, 3) * v, b += bg_trit_at(fb, 3) * v;
  }
  *da = a, *db = b;
}
#endif

/* Dot products of row ra of wa and row rb of wb (same cols) with x: two bg_row_dot
 * calls, or one pass of a kernel that loads each activation once for both rows (the DSP
 * kernel of bitgpt_smlad.h, or plain C for 2-bit rows). */
static inline void bg_row_dot2(const bg_matrix *wa, int32_t ra, const bg_matrix *wb, int32_t rb, const int8_t *x, int32_t *da, int32_t *db) {
#if defined(BITGPT_USE_SMLAD)
  if (wa->dtype == wb->dtype && (wa->dtype == BG_W_TERNARY2 || wa->dtype == BG_W_INT8) && wa->cols == wb->cols) {
    const int32_t cols4 = wa->cols & ~3, int8 = wa->dtype == BG_W_INT8;
    const uint8_t *rowa = wa->data + (int64_t)ra * wa->row_bytes, *rowb = wb->data + (int64_t)rb * wb->row_bytes;
    bg_smlad_dot2(rowa, rowb, int8, x, cols4, da, db);
    if (cols4 != wa->cols) { /* rare: out of the usual path */
      *da += bg_row_tail(rowa, cols4, wa->cols, int8, x);
      *db += bg_row_tail(rowb, cols4, wa->cols, int8, x);
    }
    return;
  }
#elif defined(BITGPT_PLAIN_ROWS)
  if (wa->dtype == BG_W_TERNARY2 && wb->dtype == BG_W_TERNARY2 && wa->cols == wb->cols) {
    const int32_t cols4 = wa->cols & ~3;
    const uint8_t *rowa = wa->data + (int64_t)ra * wa->row_bytes, *rowb = wb->data + (int64_t)rb * wb->row_bytes;
    bg_ternary2_dot2(rowa, rowb, x, cols4, da, db);
    if (cols4 != wa->cols) { /* rare: out of the usual path */
      *da += bg_row_tail(rowa, cols4, wa->cols, 0, x);
      *db += bg_row_tail(rowb, cols4, wa->cols, 0, x);
    }
    return;
  }
#endif
  *da = bg_row_dot(wa, ra, x);
  *db = bg_row_dot(wb, rb, x);
}

#if defined(BITGPT_USE_SMLAD) || defined(BITGPT_USE_MVE)
/* Four rows ra, ra + row_bytes, rb, rb + row_bytes (dtype: int8, 2-bit ternary, or with
 * Helium BG_W_TERNARY_P128 blocks) against x: the vector kernel over whole steps of its
 * width (4 columns for SMLAD's assembly, 16 for Helium), then the columns from `whole`
 * on one by one. */
#define BITGPT_VECTOR_ROWS4 1
#if defined(BITGPT_USE_MVE)
#define BG_VECTOR_ROWS4_P128 1 /* it takes BG_W_TERNARY_P128 rows */
#else
#define BG_VECTOR_ROWS4_P128 0
#endif

#if defined(__GNUC__)
__attribute__((noinline)) /* one copy, its frame apart from every caller's (the stack reserve) */
#endif
static void bg_vector_rows4(const uint8_t *ra, const uint8_t *rb, int32_t row_bytes, int32_t cols, int32_t dtype, const int8_t *x, int32_t *dot) {
  const int32_t int8 = dtype == BG_W_INT8;
#if defined(BITGPT_USE_SMLAD)
  const int32_t whole = cols & ~3;
  if (int8) bg_smlad_int8_dot4(ra, rb, row_bytes, x, whole, dot);
  else bg_smlad_ternary_dot4(ra, rb, row_bytes, x, whole, dot);
#else
  const int32_t whole = dtype == BG_W_TERNARY_P128 ? cols : cols & ~15; /* P128 rows are whole blocks */
  if (dtype == BG_W_TERNARY_P128) bg_mve_p128_dot4(ra, ra + row_bytes, rb, rb + row_bytes, x, cols, dot);
  else bg_mve_dot4(ra, ra + row_bytes, rb, rb + row_bytes, int8, x, whole, dot);
#endif
  if (whole != cols) { /* rare: out of the usual path */
    const uint8_t *rows[4];
    int32_t k;
    rows[0] = ra, rows[1] = ra + row_bytes, rows[2] = rb, rows[3] = rb + row_bytes;
    for (k = 0; k < 4; ++k) dot[k] += bg_row_tail(rows[k], whole, cols, int8, x);
  }
}
#endif

/* Dot products of rows r and r + 1 of wa, then of wb (same shape), in dot[0..3]: one
 * pass of the four-row vector kernel for ternary rows, else two bg_row_dot2. */
static inline void bg_row_dot2x2(const bg_matrix *wa, const bg_matrix *wb, int32_t r, const int8_t *x, int32_t *dot) {
#if defined(BITGPT_USE_AVX2)
  if (wa->dtype == BG_W_TERNARY_P128 && wb->dtype == BG_W_TERNARY_P128 && wa->cols == wb->cols) {
    const uint8_t *ra = wa->data + (int64_t)r * wa->row_bytes, *rb = wb->data + (int64_t)r * wb->row_bytes;
    bg_p128_rows4(ra, ra + wa->row_bytes, rb, rb + wb->row_bytes, x, wa->cols, dot);
    return;
  }
#endif
#if defined(BITGPT_VECTOR_ROWS4)
  if ((wa->dtype == BG_W_TERNARY2 || (BG_VECTOR_ROWS4_P128 && wa->dtype == BG_W_TERNARY_P128)) && wb->dtype == wa->dtype && wa->cols == wb->cols &&
      wa->row_bytes == wb->row_bytes) {
    bg_vector_rows4(wa->data + (int64_t)r * wa->row_bytes, wb->data + (int64_t)r * wb->row_bytes, wa->row_bytes, wa->cols, wa->dtype, x, dot);
    return;
  }
#endif
  bg_row_dot2(wa, r, wa, r + 1, x, &dot[0], &dot[1]);
  bg_row_dot2(wb, r, wb, r + 1, x, &dot[2], &dot[3]);
}

/* Dot products of rows r, r + 1, ... of w with x (pairs: x unpacked by bg_row_input, or
 * NULL), as many as the kernel does at once (up to BG_ROW_DOTS_MAX, and no more than the
 * rows left); returns how many. */
#if defined(BITGPT_USE_AVX512_VNNI)
#define BG_ROW_DOTS_MAX 8 /* int8 rows eight a pass */
#else
#define BG_ROW_DOTS_MAX 4
#endif
static inline int32_t bg_row_dots_of(const bg_matrix *w, int32_t r, const int8_t *x, const uint32_t *pairs, int32_t *dot) {
  const int32_t left = w->rows - r;
  (void)pairs;
#if defined(BITGPT_INT8_PAIRS)
  if (left >= 4 && w->dtype == BG_W_INT8_PAIRS && (r & 3) == 0) {
    bg_int8_quad_dots(w, r >> 2, x, dot);
    return 4;
  }
#endif
#if defined(BITGPT_INT16_QUADS)
  if (left >= 4 && w->dtype == BG_W_INT16_QUADS && (r & 3) == 0) {
    bg_quad16_dots(w, r >> 2, x, pairs, dot);
    return 4;
  }
#endif
#if defined(BITGPT_USE_AVX2)
  if (left >= 4 && w->dtype == BG_W_TERNARY_P128) {
    const uint8_t *row = w->data + (int64_t)r * w->row_bytes;
    bg_p128_rows4(row, row + w->row_bytes, row + 2 * w->row_bytes, row + 3 * w->row_bytes, x, w->cols, dot);
    return 4;
  }
#if defined(BITGPT_USE_AVX512_VNNI)
  if (left >= 8 && w->dtype == BG_W_INT8) {
    _mm256_storeu_si256((__m256i *)dot, bg_avx512_int8_rows8((const int8_t *)(w->data + (int64_t)r * w->row_bytes), w->row_bytes, x, w->cols));
    return 8;
  }
#endif
  if (left >= 4 && w->dtype == BG_W_INT8) {
    bg_int8_rows4((const int8_t *)(w->data + (int64_t)r * w->row_bytes), w->row_bytes, x, w->cols, dot);
    return 4;
  }
#endif
#if defined(BITGPT_VECTOR_ROWS4)
  if (left >= 4 && (w->dtype == BG_W_TERNARY2 || w->dtype == BG_W_INT8 || (BG_VECTOR_ROWS4_P128 && w->dtype == BG_W_TERNARY_P128))) {
    const uint8_t *row = w->data + (int64_t)r * w->row_bytes;
    bg_vector_rows4(row, row + 2 * w->row_bytes, w->row_bytes, w->cols, w->dtype, x, dot);
    return 4;
  }
#endif
#if defined(BITGPT_PLAIN_ROWS)
  if (left >= 4 && w->dtype == BG_W_INT8) {
    bg_int8_dot4((const int8_t *)(w->data + (int64_t)r * w->row_bytes), w->row_bytes, x, w->cols, dot);
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

static inline int32_t bg_row_dots(const bg_matrix *w, int32_t r, const int8_t *x, int32_t *dot) { return bg_row_dots_of(w, r, x, 0, dot); }

/* The end of the rows from r on that are whole int16 quads bg_smlad_quad16_pairs_rows4
 * takes on x unpacked (pairs), or r where there are none. */
static inline int32_t bg_quad16_rows4_end(const bg_matrix *w, int32_t r, const uint32_t *pairs) {
#if defined(BITGPT_INT16_QUADS) && defined(BG_SMLAD_QUAD16_ROWS4)
  if (pairs && w->dtype == BG_W_INT16_QUADS && (r & 3) == 0 && w->cols > 0 && (w->cols & 15) == 0) return r + ((w->rows - r) & ~3);
#endif
  (void)w, (void)pairs;
  return r;
}

/* bg_row_dots_of for a classifier's rows, those before quads_end (bg_quad16_rows4_end)
 * straight to their leaf kernel: under GCC bg_row_dots_of stays out of line, ~30
 * instructions a quad more through it. */
#if defined(__GNUC__)
__attribute__((always_inline)) /* inside the greedy loop: else a call a quad again */
#endif
static inline int32_t bg_classifier_dots(const bg_matrix *w, int32_t r, int32_t quads_end, const int8_t *x, const uint32_t *pairs, int32_t *dot) {
#if defined(BITGPT_INT16_QUADS) && defined(BG_SMLAD_QUAD16_ROWS4)
  if (r < quads_end) {
    bg_smlad_quad16_pairs_rows4(w->data + (int64_t)(r >> 2) * w->row_bytes, pairs, pairs + w->cols / 2, dot);
    return 4;
  }
#endif
  (void)quads_end;
  return bg_row_dots_of(w, r, x, pairs, dot);
}

/* What bg_row_dots_of reads of x for matrix w, given scratch for x's codes unpacked
 * (2 bytes a column, or NULL): that scratch, filled, where w's kernel reads int16 pairs
 * (int16 quads on SMLAD cores: once for all rows instead of once a quad), else NULL. */
static inline const uint32_t *bg_row_input(const bg_matrix *w, const int8_t *x, uint32_t *scratch) {
#if defined(BITGPT_INT16_QUADS) && defined(BITGPT_USE_SMLAD)
  if (scratch && w->dtype == BG_W_INT16_QUADS) {
    bg_smlad_unpack_codes(x, w->cols & ~3, scratch);
    return scratch;
  }
#endif
  (void)w, (void)x, (void)scratch;
  return 0;
}

/* One of shared and norm is set, by w->per_row: the scaler stays 16 bytes on 32-bit cores
 * (the FFN gate keeps two in the FFN step's frame, on the cortex-m0plus's deepest stack
 * path). */
typedef struct bg_row_scaler {
  const bg_matrix *w;
  union {
    bg_mult shared;    /* !w->per_row: the matrix's one multiplier for this amax */
    bg_amax_norm norm; /* w->per_row: amax as bg_row_mult_by takes it */
  };
  int32_t fast; /* one multiplier that no dot product of w can saturate */
} bg_row_scaler;

/* The largest |dot product| a row of w can have with int8 codes (|code| <= 127). */
/* Whether dtype d is int16 quads: tested only in builds that read them (a third dtype test
 * in bg_row_dot_bound moved GCC's inlining in the others: +0.3 % on the M55). */
#if defined(BITGPT_INT16_QUADS)
#define BG_IS_INT16_QUADS(d) ((d) == BG_W_INT16_QUADS)
#else
#define BG_IS_INT16_QUADS(d) 0
#endif
static inline int64_t bg_row_dot_bound(const bg_matrix *w) {
  const int int8 = w->dtype == BG_W_INT8 || w->dtype == BG_W_INT8_PAIRS || BG_IS_INT16_QUADS(w->dtype);
  return (int64_t)127 * (int8 ? 128 : 1) * w->cols;
}

static inline bg_row_scaler bg_row_scaler_begin(const bg_matrix *w, int32_t amax) {
  bg_row_scaler s;
  s.w = w;
  if (w->per_row) {
    s.norm = bg_amax_norm_of(amax);
    s.fast = 0;
  } else {
    s.shared = bg_mult_scale(w->scales[0], amax);
    s.fast = bg_mult_apply32_safe(s.shared, bg_row_dot_bound(w));
  }
  return s;
}

/* Row r's dot product in act units: dot * amax * scale / 127. */
static inline int32_t bg_row_scale(const bg_row_scaler *s, int32_t r, int32_t dot) {
  if (s->fast) return bg_mult_apply32_unchecked(dot, s->shared);
  return bg_mult_apply32(dot, s->w->per_row ? bg_row_mult_by(s->w->scales[r], s->norm) : s->shared);
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

/* bg_ffn_gate_row where the gate's fast flag holds, from its shared multipliers: three
 * unchecked roundings and the sigmoid table, small enough to inline into a row loop. */
static inline int32_t bg_ffn_gate_fast_row(bg_mult up, bg_mult gate, int32_t d1, int32_t d3) {
  const int32_t a = bg_mult_apply32_unchecked(d1, up);
  const bg_mult sigma = {bg_pin32(bg_sigmoid_q16(a)), 16}, b = {bg_pin32(bg_mult_apply32_unchecked(d3, gate)), 16}; /* multipliers that vary */
  return bg_mult_apply32_unchecked(bg_mult_apply32_unchecked(a, sigma), b);
}

/* round(a b / 2^16) (bg_mult_apply32_unchecked(a, {b, 16})) as one rounding high multiply
 * (bg_mult_apply_q32: one SMMULR on Armv7E-M) of a << pa and b << pb, pa + pb = 16, where
 * both shifted values fit int32. */
static inline int32_t bg_mul_q16_shifted(int32_t a, int32_t pa, int32_t b, int32_t pb) {
  const bg_mult_q32 k = {(int32_t)((uint32_t)b << pb), pa};
  return bg_mult_apply_q32(a, k);
}

/* A fast gate in bg_mult_q32 forms (bg_ffn_gate_q32): its up and gate multipliers', and its
 * two Q16 products as single high multiplies: a sigma(a) with a << 2 and sigma << 14 (|a| <
 * 2^29, sigma <= 2^16), then that times b with shifts v_pre and 16 - v_pre that fit their
 * bounds. */
typedef struct bg_ffn_gate_q32_form {
  bg_mult_q32 up, gate;
  int32_t v_pre;
} bg_ffn_gate_q32_form;

/* bg_ffn_gate_fast_row in those forms: four SMMULRs and the sigmoid table on Armv7E-M
 * where the unchecked roundings took a SMULL and five each; the same integers. */
static inline int32_t bg_ffn_gate_q32_row(const bg_ffn_gate_q32_form *f, int32_t d1, int32_t d3) {
  const int32_t a = bg_mult_apply_q32(d1, f->up), v = bg_mul_q16_shifted(a, 2, bg_sigmoid_q16(a), 14);
  return bg_mul_q16_shifted(v, f->v_pre, bg_mult_apply_q32(d3, f->gate), 16 - f->v_pre);
}

/* Whether a fast gate has those forms for every dot product of its matrices (formed where
 * they are used, so that the gate's frame, on the deepest stack path of small cores, does
 * not grow). |a sigma(a) / 2^16| <= |a| + 1 bounds the second product's first factor. */
static inline int bg_ffn_gate_q32(const bg_ffn_gate *g, bg_ffn_gate_q32_form *f) {
  int64_t a, b;
  int32_t v_room, b_room;
  if (!g->fast || !bg_mult_q32_form(g->up.shared, bg_row_dot_bound(g->up.w), &f->up) ||
      !bg_mult_q32_form(g->gate.shared, bg_row_dot_bound(g->gate.w), &f->gate))
    return 0;
  a = bg_row_scale_bound(&g->up), b = bg_row_scale_bound(&g->gate);
  if (a >= ((int64_t)1 << 29) || b >= ((int64_t)1 << 31)) return 0;
  v_room = 30 - (63 - bg_clz64((uint64_t)a + 1)); /* (a + 1) << v_room < 2^31 */
  b_room = 30 - (63 - bg_clz64((uint64_t)b | 1u));
  f->v_pre = v_room < 16 ? v_room : 16;
  return 16 - f->v_pre <= b_room;
}

static inline int32_t bg_ffn_gate_row(const bg_ffn_gate *g, int32_t r, int32_t d1, int32_t d3) {
  if (g->fast) return bg_ffn_gate_fast_row(g->up.shared, g->gate.shared, d1, d3);
  return bg_mul_q16(bg_activation(g->act, bg_row_scale(&g->up, r, d1)), bg_row_scale(&g->gate, r, d3));
}



#endif /* BITGPT_ROWS_H */
