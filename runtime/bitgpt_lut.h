/* bitgpt_lut.h - ternary matrix-vector products by table lookup.
 *
 * For each group of 4 activations a table of the 81 possible signed sums is built once
 * per input vector; a row's dot product is then one lookup and one add per 4 weights
 * instead of 4 multiply-accumulates. Weights are packed 16 bits per group of 4: the byte
 * offset of the group's entry in the chunk's tables, bg_lut_offset(g mod chunk, code),
 * laid out chunk by chunk (bg_lut_index_at), so a lookup is one halfword load of the index
 * and one indexed load of the sum, with no per-group table pointer and no scaling of the
 * index, which RISC-V and Armv6-M would spend an instruction on (4 bits per weight of
 * flash, bought for speed). Where the
 * flash has room, the same indices may be stored in 32-bit words (BG_W_TERNARY_LUT4W, 8 bits
 * a weight): on Thumb-2 one LDM then loads four of them, 2.2 instructions a group instead of
 * 3 (BITGPT_LUT_WORDS below). The sums are
 * exact, so the result equals bg_row_dot's bit for bit. Tables cost SRAM (180 bytes per
 * group), so inputs may be processed in chunks of groups with per-row partial sums in
 * between.
 *
 * A group's table is 9 blocks, one per (w2, w3), of 9 sums, one per (w0, w1), each block
 * padded to 10 entries: 20 bytes, so that a block is five word additions and stores (the
 * 9 (w0, w1) sums packed in pairs, plus the block's (w2, w3) sum in both halves; see
 * BG_LUT_BIAS). */
#ifndef BITGPT_LUT_H
#define BITGPT_LUT_H

#include "bitgpt_ops.h"

#ifdef __cplusplus
extern "C" {
#endif

#define BG_LUT_ENTRIES 81 /* distinct sums per group */
#define BG_LUT_BLOCK 10   /* entries per (w2, w3) block: 9 sums and a pad */
#define BG_LUT_GROUP 90   /* entries per group: 9 blocks */

/* Where the sum for a group's weights lives in its table: code is the group's base-3
 * number sum_k (w_k + 1) 3^k (w0 the lowest digit). */
static inline uint32_t bg_lut_entry(uint32_t code) { return code % 9u + BG_LUT_BLOCK * (code / 9u); }

/* A packed index: the byte offset of the sum for code in the tables of group g of its chunk. */
static inline uint32_t bg_lut_offset(uint32_t g, uint32_t code) { return 2u * (g * BG_LUT_GROUP + bg_lut_entry(code)); }

/* The most groups a chunk may have: its offsets must fit a halfword index. */
#define BG_LUT_MAX_CHUNK 364 /* 364 * BG_LUT_GROUP * 2 <= 65536 */

/* The biased sum at byte offset i of the tables t. */
static inline uint32_t bg_lut_at(const uint16_t *t, uint32_t i) { return *(const uint16_t *)(const void *)((const uint8_t *)t + i); }

/* Where row r's index of group g lies in a packed matrix of `rows` rows of `groups`
 * groups, read in chunks of `chunk` groups: chunk by chunk, and within a chunk row by
 * row, so that the rows a chunk sums follow one another (two rows' indices at constant
 * offsets from one pointer). With one chunk this is plain row order. */
static inline int64_t bg_lut_index_at(int32_t rows, int32_t groups, int32_t chunk, int32_t r, int32_t g) {
  const int32_t g0 = g - g % chunk, n = groups - g0 < chunk ? groups - g0 : chunk;
  return (int64_t)g0 * rows + (int64_t)r * n + (g - g0);
}

/* The index widths a build reads: halfwords (BG_W_TERNARY_LUT4) unless BITGPT_LUT_WORDS
 * says words (BG_W_TERNARY_LUT4W): 1 for the emitted code of a plan that stores every
 * lookup matrix in words, 2 for a plan with both (the flash had room for words for some
 * matrices only) and for builds that run any plan (the interpreter, the LLVM backend's
 * kernels): they tell the widths apart by dtype. A width is its bytes per index. */
#if !defined(BITGPT_LUT_WORDS)
#define BG_LUT_INDEX_BYTES(w) 2
#elif BITGPT_LUT_WORDS == 2
#define BG_LUT_INDEX_BYTES(w) ((w)->dtype == BG_W_TERNARY_LUT4W ? 4 : 2)
#else
#define BG_LUT_INDEX_BYTES(w) 4
#endif

/* Scratch a lookup kernel uses: tables for `chunk` groups, and where the input has more
 * groups than one chunk, per-row partial sums in `partial`: one int32 per output row and
 * matrix, or with `paired` one int32 per row holding both matrices' sums as int16 halves
 * (exact while cols <= 258: |sum| <= 127 cols). The partial sums may live in the output
 * itself (one int32 per row): each row's final value is written after its sums are read. */
typedef struct bg_lut_scratch {
  uint16_t *table; /* biased sums (BG_LUT_BIAS) */
  int32_t *partial;
  int32_t chunk;  /* groups per chunk */
  int32_t paired; /* w1 and w3 sums share one int32 per row */
} bg_lut_scratch;
#define BG_LUT_SEPARATE 0 /* bg_lut_scratch.paired: one int32 partial sum per row and matrix */
#define BG_LUT_PAIRED 1   /* both matrices' sums as the int16 halves of one int32 per row */

/* Tables hold sums biased by BG_LUT_BIAS, so that two of them add as one 32-bit word:
 * with each half of one operand biased by half of it, no half ever carries into the
 * other (|a sum| <= 508). A row's lookups then total its dot product plus BG_LUT_BIAS per
 * group, taken off once per row. */
#define BG_LUT_BIAS 0x8000

typedef uint32_t bg_lut_word
#if defined(__GNUC__)
    __attribute__((may_alias))
#endif
    ;

/* The lookup kernel's functions are kept out of line, one copy each: every step that
 * multiplies a matrix calls them, and inlined into each they would multiply the code.
 * bg_lut_matvec is inlined into each of them, so that its emit call is a direct one. */
#if defined(__GNUC__)
#define BG_LUT_OUT_OF_LINE __attribute__((noinline, unused))
#define BG_LUT_INLINE __attribute__((always_inline)) inline
#else
#define BG_LUT_OUT_OF_LINE
#define BG_LUT_INLINE inline
#endif

/* One group's table, entry bg_lut_entry(d0 + 3 d1 + 9 d2 + 27 d3) = sum_k (d_k - 1) v_k +
 * BG_LUT_BIAS, at o (BG_LUT_GROUP entries); returns where the next group's goes. The 9
 * sums of (v0, v1) are packed in pairs once; a block adds its (v2, v3) sum to all of them
 * with five word additions (the tenth half is the pad). */
static BG_LUT_INLINE bg_lut_word *bg_lut_build_group(int32_t v0, int32_t v1, int32_t v2, int32_t v3, bg_lut_word *o) {
  const uint32_t half = BG_LUT_BIAS / 2;
  /* The pair (a, b), each half biased into [0, 2^16), is a + 2^16 b + half 0x10001
   * modulo 2^32: linear, so the five pairs share their terms (about ten instructions
   * where packing each pair's halves took thirty). */
  const uint32_t both = half * 0x10001u;
  /* Block (d2, d3) adds (d2 v2 + d3 v3 + half) to both halves: that times 0x10001,
   * which is linear modulo 2^32, so the nine block sums are h0 plus multiples of s2
   * and s3. Unrolled: the nine blocks follow one another. */
  const uint32_t s2 = (uint32_t)v2 * 0x10001u, s3 = (uint32_t)v3 * 0x10001u;
  const uint32_t h0 = (uint32_t)((int32_t)half - v2 - v3) * 0x10001u;
  /* One running block sum, stepped by s2 within a row of three blocks and by s3 - 2 s2
   * to the next row. */
  const uint32_t next_row = s3 - 2 * s2;
#if defined(__GNUC__) && defined(__thumb2__)
  /* Thumb-2: the whole group in one block of assembly. The block's five words live in
   * r8-r12 from the first block to the last: each next block adds its step to all five
   * (the words are p_k + h, and h moves by the step), and one STMIA stores them and steps
   * o. The pairs p_k need no registers of their own after the first block, so nothing is
   * spilled: 75 instructions a group where the pairs kept beside the block sums took 102
   * (GCC reloaded two of them every block). b = h0 + both; the first block's words are
   * b + p_k - both: -v0 - v1 - (v1 << 16), v0 - v1 - (v0 << 16), v0 << 16,
   * v1 - v0 + (v1 << 16), v0 + v1. */
  {
    const uint32_t b = h0 + both;
#define BG_LUT_STEP_BLOCK(step) \
  "add r8, " step "\n\tadd r9, " step "\n\tadd r10, " step "\n\tadd r11, " step "\n\tadd r12, " step "\n\tstmia %0!, {r8, r9, r10, r11, r12}\n\t"
    __asm__ volatile("sub r8, %3, %1\n\tsub r8, r8, %2\n\tsub r8, r8, %2, lsl #16\n\t"
                     "sub r9, %3, %2\n\tadd r9, r9, %1\n\tsub r9, r9, %1, lsl #16\n\t"
                     "add r10, %3, %1, lsl #16\n\t"
                     "add r11, %3, %2\n\tsub r11, r11, %1\n\tadd r11, r11, %2, lsl #16\n\t"
                     "add r12, %3, %1\n\tadd r12, r12, %2\n\t"
                     "stmia %0!, {r8, r9, r10, r11, r12}\n\t"
                     BG_LUT_STEP_BLOCK("%4") BG_LUT_STEP_BLOCK("%4") BG_LUT_STEP_BLOCK("%5")
                     BG_LUT_STEP_BLOCK("%4") BG_LUT_STEP_BLOCK("%4") BG_LUT_STEP_BLOCK("%5")
                     BG_LUT_STEP_BLOCK("%4") BG_LUT_STEP_BLOCK("%4")
                     : "+r"(o)
                     : "r"(v0), "r"(v1), "r"(b), "r"(s2), "r"(next_row)
                     : "r8", "r9", "r10", "r11", "r12", "memory");
#undef BG_LUT_STEP_BLOCK
  }
#else
  {
    const uint32_t sum = (uint32_t)(v0 + v1), diff = (uint32_t)(v1 - v0), hi0 = (uint32_t)v0 << 16, hi1 = (uint32_t)v1 << 16;
    const uint32_t p0 = both - sum - hi1 /* (-v1 - v0, -v1) */, p1 = both - diff - hi0 /* (v0 - v1, -v0) */;
    const uint32_t p2 = both + hi0 /* (0, v0) */, p3 = both + diff + hi1 /* (v1 - v0, v1) */, p4 = both + sum /* (v1 + v0, 0) */;
    uint32_t h = h0;
#define BG_LUT_STORE_BLOCK(h) (o[0] = p0 + (h), o[1] = p1 + (h), o[2] = p2 + (h), o[3] = p3 + (h), o[4] = p4 + (h), o += 5)
    /* the nine blocks one after the other; the empty asm keeps GCC from forming all nine
     * sums ahead, which did not fit the registers and spilled */
#if defined(__GNUC__)
#define BG_LUT_STEP(d) do { h += (d); __asm__("" : "+r"(h)); } while (0)
#else
#define BG_LUT_STEP(d) (h += (d))
#endif
    BG_LUT_STORE_BLOCK(h);
    BG_LUT_STEP(s2); BG_LUT_STORE_BLOCK(h);
    BG_LUT_STEP(s2); BG_LUT_STORE_BLOCK(h);
    BG_LUT_STEP(next_row); BG_LUT_STORE_BLOCK(h);
    BG_LUT_STEP(s2); BG_LUT_STORE_BLOCK(h);
    BG_LUT_STEP(s2); BG_LUT_STORE_BLOCK(h);
    BG_LUT_STEP(next_row); BG_LUT_STORE_BLOCK(h);
    BG_LUT_STEP(s2); BG_LUT_STORE_BLOCK(h);
    BG_LUT_STEP(s2); BG_LUT_STORE_BLOCK(h);
#undef BG_LUT_STEP
#undef BG_LUT_STORE_BLOCK
  }
#endif
  return o;
}

/* Tables for groups [g0, g0 + n) of x (cols codes; missing codes count as 0). The groups
 * wholly inside x in a loop of one pointer (with the table pointer that the stores step,
 * the loop keeps nothing on the stack), then at most one that cols cuts short. */
static BG_LUT_OUT_OF_LINE void bg_lut_build(const int8_t *x, int32_t cols, int32_t g0, int32_t n, uint16_t *t) {
  const int32_t whole = (cols - 4 * g0) / 4 < n ? (cols - 4 * g0) / 4 : n;
  const int8_t *v = x + 4 * g0, *const end = v + 4 * whole;
  bg_lut_word *o = (bg_lut_word *)t;
  int32_t g;
  for (; v != end; v += 4) o = bg_lut_build_group(v[0], v[1], v[2], v[3], o);
  for (g = g0 + whole; g < g0 + n; ++g) {
    const int32_t j = 4 * g;
    o = bg_lut_build_group(j < cols ? x[j] : 0, j + 1 < cols ? x[j + 1] : 0, j + 2 < cols ? x[j + 2] : 0, 0, o);
  }
}

/* Sums of 16 and of 8 lookups of a packed row, each biased by BG_LUT_BIAS. Thumb-2: in
 * assembly, each lookup an index load, a table load and an add, two at a time, because
 * GCC hoists the index loads of the C form ahead of the table loads and, where two rows
 * are summed together (the FFN's w1 and w3), spills them: 117 instructions for the two
 * rows' 16 lookups and the row's own work, against 102 in assembly. */
#if defined(__GNUC__) && defined(__thumb2__)
/* Two lookups: indices i0 and i1 (byte offsets from ptr) into s0 and s1, then their sums
 * from the tables tab. */
#define BG_LUT_LOAD2(s0, s1, ptr, tab, i0, i1)                                                                          \
  "ldrh " s0 ", [" ptr ", #" #i0 "]\n\tldrh " s1 ", [" ptr ", #" #i1 "]\n\tldrh " s0 ", [" tab ", " s0 "]\n\t" \
  "ldrh " s1 ", [" tab ", " s1 "]\n\t"
/* One row's blocks: %0 the sum, %1 and %2 scratch, %3 the indices, %4 the tables. */
#define BG_LUT_ONE_FIRST(i0, i1) BG_LUT_LOAD2("%1", "%2", "%3", "%4", i0, i1) "add %0, %1, %2\n\t"
#define BG_LUT_ONE_NEXT(i0, i1) BG_LUT_LOAD2("%1", "%2", "%3", "%4", i0, i1) "add %0, %1\n\tadd %0, %2\n\t"
#define BG_LUT_ONE_EIGHT BG_LUT_ONE_FIRST(0, 2) BG_LUT_ONE_NEXT(4, 6) BG_LUT_ONE_NEXT(8, 10) BG_LUT_ONE_NEXT(12, 14)
#define BG_LUT_ASM1(code)                                                                                      \
  uint32_t acc, a, b;                                                                                          \
  __asm__(code : "=&r"(acc), "=&r"(a), "=&r"(b) : "r"(row), "r"(t) : "memory"); /* reads row and tables */ \
  return acc;
/* Two rows' blocks (bg_lut_rows2): %0 and %1 the sums, %2 and %3 scratch, %4 the indices,
 * %5 the partial sums; with w3, %6 and %7 its sums and %8 its indices; the tables last
 * (tab). BG_LUT_STEP_TWO loads a row pair's first two indices and steps the pointer past
 * the pair (post-indexed), so the pair's other indices are at negative offsets. */
#define BG_LUT_TWO(ptr, tab, i0, i1) BG_LUT_LOAD2("%2", "%3", ptr, tab, i0, i1)
#define BG_LUT_STEP_TWO(ptr, tab, step) \
  "ldrh %3, [" ptr ", #2]\n\tldrh %2, [" ptr "], #" #step "\n\tldrh %2, [" tab ", %2]\n\tldrh %3, [" tab ", %3]\n\t"
#define BG_LUT_INTO(acc) "add " acc ", %2, %3\n\t"
#define BG_LUT_ADD(acc) "add " acc ", %2\n\tadd " acc ", %3\n\t"
static BG_LUT_INLINE uint32_t bg_lut_sum16(const uint16_t *row, const uint16_t *t) {
  BG_LUT_ASM1(BG_LUT_ONE_EIGHT BG_LUT_ONE_NEXT(16, 18) BG_LUT_ONE_NEXT(20, 22) BG_LUT_ONE_NEXT(24, 26) BG_LUT_ONE_NEXT(28, 30))
}
static BG_LUT_INLINE uint32_t bg_lut_sum8(const uint16_t *row, const uint16_t *t) { BG_LUT_ASM1(BG_LUT_ONE_EIGHT) }
#else
static BG_LUT_INLINE uint32_t bg_lut_sum8(const uint16_t *row, const uint16_t *t) {
  return bg_lut_at(t, row[0]) + bg_lut_at(t, row[1]) + bg_lut_at(t, row[2]) + bg_lut_at(t, row[3]) + bg_lut_at(t, row[4]) + bg_lut_at(t, row[5]) +
         bg_lut_at(t, row[6]) + bg_lut_at(t, row[7]);
}
static BG_LUT_INLINE uint32_t bg_lut_sum16(const uint16_t *row, const uint16_t *t) { return bg_lut_sum8(row, t) + bg_lut_sum8(row + 8, t); }
#endif

/* Sum of n lookups of one packed row, each biased by BG_LUT_BIAS: passes of sixteen,
 * then eight, four, two and one as n's bits say (a test each: about ten instructions a
 * row when n is not a multiple of 16). With n a constant (the chunk sizes bg_lut_matvec
 * singles out: 16, 8 and 4) this is straight code. */
static BG_LUT_INLINE uint32_t bg_lut_sum(const uint16_t *row, const uint16_t *t, int32_t n) {
  uint32_t acc = 0;
  int32_t k;
  for (k = n >> 4; k > 0; --k, row += 16) acc += bg_lut_sum16(row, t);
  if (n & 15) { /* one test for the usual whole passes */
    if (n & 8) acc += bg_lut_sum8(row, t), row += 8;
    if (n & 4) acc += bg_lut_at(t, row[0]) + bg_lut_at(t, row[1]) + bg_lut_at(t, row[2]) + bg_lut_at(t, row[3]), row += 4;
    if (n & 2) acc += bg_lut_at(t, row[0]) + bg_lut_at(t, row[1]), row += 2;
    if (n & 1) acc += bg_lut_at(t, row[0]);
  }
  return acc;
}

/* ---- lookups of word indices (BG_W_TERNARY_LUT4W) ---- */
#if defined(BITGPT_LUT_WORDS)
#if defined(__GNUC__) && defined(__thumb2__)
/* Thumb-2: four lookups a step, one LDM of their indices into r8-r11 (ptr stepped past
 * them), each index then replaced by its sum from the tables tab: 9 instructions for four
 * groups with the adds, where halfword indices take 12 (a load for each index). */
#define BG_LUTW_LOAD4(ptr, tab)                                                                                       \
  "ldmia " ptr "!, {r8, r9, r10, r11}\n\tldrh r8, [" tab ", r8]\n\tldrh r9, [" tab ", r9]\n\t" \
  "ldrh r10, [" tab ", r10]\n\tldrh r11, [" tab ", r11]\n\t"
/* the four sums: the first four of acc's row (INTO), the next ones (ADD), or added into
 * acc's high half (HIGH: w3's row of a paired partial sum, dot1 + 2^16 dot3) */
#define BG_LUTW_INTO(acc) "add " acc ", r8, r9\n\tadd " acc ", r10\n\tadd " acc ", r11\n\t"
#define BG_LUTW_ADD(acc) "add " acc ", r8\n\tadd " acc ", r9\n\tadd " acc ", r10\n\tadd " acc ", r11\n\t"
#define BG_LUTW_HIGH(acc) \
  "add " acc ", " acc ", r8, lsl #16\n\tadd " acc ", " acc ", r9, lsl #16\n\tadd " acc ", " acc ", r10, lsl #16\n\tadd " acc ", " acc ", r11, lsl #16\n\t"
/* A row of 4, 8 or 16 groups: its first four sums by `first`, the others by `next`. */
#define BG_LUTW_ROW4(ptr, tab, first, next) BG_LUTW_LOAD4(ptr, tab) first
#define BG_LUTW_ROW8(ptr, tab, first, next) BG_LUTW_ROW4(ptr, tab, first, next) BG_LUTW_LOAD4(ptr, tab) next
#define BG_LUTW_ROW16(ptr, tab, first, next) BG_LUTW_ROW8(ptr, tab, first, next) BG_LUTW_LOAD4(ptr, tab) next BG_LUTW_LOAD4(ptr, tab) next
#define BG_LUTW_CLOBBERS "r8", "r9", "r10", "r11", "memory"
#define BG_LUTW_SUM(ROW)                                                                                                          \
  uint32_t acc;                                                                                                                   \
  __asm__(ROW("%[row]", "%[tab]", BG_LUTW_INTO("%[acc]"), BG_LUTW_ADD("%[acc]")) : [acc] "=&r"(acc), [row] "+r"(*row) : [tab] "r"(t) \
          : BG_LUTW_CLOBBERS);                                                                                                    \
  return acc;
/* Sums of 16, 8 and 4 lookups of a row, *row stepped past them. */
static BG_LUT_INLINE uint32_t bg_lut_sum_words16(const uint32_t **row, const uint16_t *t) { BG_LUTW_SUM(BG_LUTW_ROW16) }
static BG_LUT_INLINE uint32_t bg_lut_sum_words8(const uint32_t **row, const uint16_t *t) { BG_LUTW_SUM(BG_LUTW_ROW8) }
static BG_LUT_INLINE uint32_t bg_lut_sum_words4(const uint32_t **row, const uint16_t *t) { BG_LUTW_SUM(BG_LUTW_ROW4) }
#undef BG_LUTW_SUM

/* bg_lut_rows2 for word indices: the two rows' sums in %[a] and %[b] (with w3, its rows'
 * sums added into their high halves: the paired partial sums themselves), then added to
 * the partial sums as a pair. 74 instructions for two rows of 16 groups where halfword
 * indices take 98. */
static BG_LUT_INLINE void bg_lut_rows2_words(const uint32_t **r1, const uint32_t **r3, const uint16_t *t, int32_t n, uint32_t **p) {
#define BG_LUTW_ROWS(ROW, ptr) \
  ROW(ptr, "%[tab]", BG_LUTW_INTO("%[a]"), BG_LUTW_ADD("%[a]")) ROW(ptr, "%[tab]", BG_LUTW_INTO("%[b]"), BG_LUTW_ADD("%[b]"))
#define BG_LUTW_ROWS_HIGH(ROW, ptr) \
  ROW(ptr, "%[tab]", BG_LUTW_HIGH("%[a]"), BG_LUTW_HIGH("%[a]")) ROW(ptr, "%[tab]", BG_LUTW_HIGH("%[b]"), BG_LUTW_HIGH("%[b]"))
#define BG_LUTW_ADD_PAIR "ldrd r8, r9, [%[p]]\n\tadd r8, %[a]\n\tadd r9, %[b]\n\tstrd r8, r9, [%[p]], #8"
#define BG_LUTW_ROWS2(ROW)                                                                                                          \
  do {                                                                                                                             \
    uint32_t a, b;                                                                                                                 \
    if (r3)                                                                                                                        \
      __asm__ volatile(BG_LUTW_ROWS(ROW, "%[r1]") BG_LUTW_ROWS_HIGH(ROW, "%[r3]") BG_LUTW_ADD_PAIR                                 \
                       : [a] "=&r"(a), [b] "=&r"(b), [r1] "+r"(*r1), [r3] "+r"(*r3), [p] "+r"(*p)                                  \
                       : [tab] "r"(t)                                                                                             \
                       : BG_LUTW_CLOBBERS);                                                                                       \
    else                                                                                                                           \
      __asm__ volatile(BG_LUTW_ROWS(ROW, "%[r1]") BG_LUTW_ADD_PAIR : [a] "=&r"(a), [b] "=&r"(b), [r1] "+r"(*r1), [p] "+r"(*p)     \
                       : [tab] "r"(t)                                                                                             \
                       : BG_LUTW_CLOBBERS);                                                                                       \
    return;                                                                                                                        \
  } while (0)
  if (n == 16) BG_LUTW_ROWS2(BG_LUTW_ROW16);
  if (n == 8) BG_LUTW_ROWS2(BG_LUTW_ROW8);
  if (n == 4) BG_LUTW_ROWS2(BG_LUTW_ROW4);
#undef BG_LUTW_ROWS
#undef BG_LUTW_ROWS_HIGH
#undef BG_LUTW_ADD_PAIR
#undef BG_LUTW_ROWS2
}
#undef BG_LUTW_LOAD4
#undef BG_LUTW_INTO
#undef BG_LUTW_ADD
#undef BG_LUTW_HIGH
#undef BG_LUTW_ROW4
#undef BG_LUTW_ROW8
#undef BG_LUTW_ROW16
#undef BG_LUTW_CLOBBERS
#endif

/* Sum of n lookups of a row of word indices, each biased by BG_LUT_BIAS: on Thumb-2 in
 * passes of 16, 8 and 4 (straight code for a constant n), the rest one at a time. */
static BG_LUT_INLINE uint32_t bg_lut_sum_words(const uint32_t *row, const uint16_t *t, int32_t n) {
  uint32_t acc = 0;
  int32_t k;
#if defined(__GNUC__) && defined(__thumb2__)
  for (; n >= 16; n -= 16) acc += bg_lut_sum_words16(&row, t);
  if (n >= 8) acc += bg_lut_sum_words8(&row, t), n -= 8;
  if (n >= 4) acc += bg_lut_sum_words4(&row, t), n -= 4;
#endif
  for (k = 0; k < n; ++k) acc += bg_lut_at(t, row[k]);
  return acc;
}
#endif /* BITGPT_LUT_WORDS */

/* Sum of n lookups of a row of indices `width` bytes wide (BG_LUT_INDEX_BYTES). */
static BG_LUT_INLINE uint32_t bg_lut_row_sum(const uint8_t *row, const uint16_t *t, int32_t n, int32_t width) {
#if defined(BITGPT_LUT_WORDS)
  if (width == 4) return bg_lut_sum_words((const uint32_t *)(const void *)row, t, n);
#endif
  (void)width;
  return bg_lut_sum((const uint16_t *)(const void *)row, t, n);
}

/* Thumb-2: two rows of a chunk of n = 16, 8 or 4 groups (their indices one after the
 * other, bg_lut_index_at) added into (*p)[0] and (*p)[1]; with r3 (paired partial sums)
 * w3's sums into the high halves. One block of assembly, the partial sums loaded and
 * stored as a pair, the pointers stepped by the loads and the store themselves: 52
 * instructions for two rows of eight lookups, or a w1 and w3 row pair of four, where one
 * row at a time took 60. Elsewhere chunks are summed one row at a time. */
#if defined(__GNUC__) && defined(__thumb2__)
#define BG_LUT_ROW_PAIRS 1
static BG_LUT_INLINE void bg_lut_rows2(const uint16_t **r1, const uint16_t **r3, const uint16_t *t, int32_t n, uint32_t **p) {
  /* the blocks' lookups: each row pair's indices from one pointer, stepped by its first load */
#define BG_LUT_PAIR4(a, b, ptr, tab)                                                                                              \
  BG_LUT_STEP_TWO(ptr, tab, 16) BG_LUT_INTO(a) BG_LUT_TWO(ptr, tab, -12, -10) BG_LUT_ADD(a) BG_LUT_TWO(ptr, tab, -8, -6) BG_LUT_INTO(b) \
  BG_LUT_TWO(ptr, tab, -4, -2) BG_LUT_ADD(b)
#define BG_LUT_PAIR8(a, b, ptr, tab)                                                                                           \
  BG_LUT_STEP_TWO(ptr, tab, 32) BG_LUT_INTO(a) BG_LUT_TWO(ptr, tab, -28, -26) BG_LUT_ADD(a) BG_LUT_TWO(ptr, tab, -24, -22) BG_LUT_ADD(a) \
  BG_LUT_TWO(ptr, tab, -20, -18) BG_LUT_ADD(a) BG_LUT_TWO(ptr, tab, -16, -14) BG_LUT_INTO(b) BG_LUT_TWO(ptr, tab, -12, -10) BG_LUT_ADD(b) \
  BG_LUT_TWO(ptr, tab, -8, -6) BG_LUT_ADD(b) BG_LUT_TWO(ptr, tab, -4, -2) BG_LUT_ADD(b)
#define BG_LUT_PAIR16(a, b, ptr, tab)                                                                                          \
  BG_LUT_STEP_TWO(ptr, tab, 64) BG_LUT_INTO(a) BG_LUT_TWO(ptr, tab, -60, -58) BG_LUT_ADD(a) BG_LUT_TWO(ptr, tab, -56, -54) BG_LUT_ADD(a) \
  BG_LUT_TWO(ptr, tab, -52, -50) BG_LUT_ADD(a) BG_LUT_TWO(ptr, tab, -48, -46) BG_LUT_ADD(a) BG_LUT_TWO(ptr, tab, -44, -42) BG_LUT_ADD(a) \
  BG_LUT_TWO(ptr, tab, -40, -38) BG_LUT_ADD(a) BG_LUT_TWO(ptr, tab, -36, -34) BG_LUT_ADD(a) BG_LUT_TWO(ptr, tab, -32, -30) BG_LUT_INTO(b) \
  BG_LUT_TWO(ptr, tab, -28, -26) BG_LUT_ADD(b) BG_LUT_TWO(ptr, tab, -24, -22) BG_LUT_ADD(b) BG_LUT_TWO(ptr, tab, -20, -18) BG_LUT_ADD(b) \
  BG_LUT_TWO(ptr, tab, -16, -14) BG_LUT_ADD(b) BG_LUT_TWO(ptr, tab, -12, -10) BG_LUT_ADD(b) BG_LUT_TWO(ptr, tab, -8, -6) BG_LUT_ADD(b)    \
  BG_LUT_TWO(ptr, tab, -4, -2) BG_LUT_ADD(b)
  /* the partial sums: one pair, w3's sums shifted into the high halves */
#define BG_LUT_ADD_PAIR "ldrd %2, %3, [%5]\n\tadd %2, %0\n\tadd %3, %1\n\tstrd %2, %3, [%5], #8"
#define BG_LUT_ADD_PAIRED "ldrd %2, %3, [%5]\n\tadd %2, %0\n\tadd %3, %1\n\tadd %2, %2, %6, lsl #16\n\tadd %3, %3, %7, lsl #16\n\tstrd %2, %3, [%5], #8"
#define BG_LUT_ROWS2(one, paired)                                                                                                 \
  do {                                                                                                                            \
    uint32_t a1, b1, s0, s1, a3, b3;                                                                                              \
    if (r3)                                                                                                                       \
      __asm__ volatile(paired BG_LUT_ADD_PAIRED                                                                                   \
                       : "=&r"(a1), "=&r"(b1), "=&r"(s0), "=&r"(s1), "+r"(*r1), "+r"(*p), "=&r"(a3), "=&r"(b3), "+r"(*r3)          \
                       : "r"(t)                                                                                                   \
                       : "memory");                                                                                               \
    else                                                                                                                          \
      __asm__ volatile(one BG_LUT_ADD_PAIR : "=&r"(a1), "=&r"(b1), "=&r"(s0), "=&r"(s1), "+r"(*r1), "+r"(*p) : "r"(t) : "memory"); \
    return;                                                                                                                       \
  } while (0)
  if (n == 16) BG_LUT_ROWS2(BG_LUT_PAIR16("%0", "%1", "%4", "%6"), BG_LUT_PAIR16("%0", "%1", "%4", "%9") BG_LUT_PAIR16("%6", "%7", "%8", "%9"));
  if (n == 8) BG_LUT_ROWS2(BG_LUT_PAIR8("%0", "%1", "%4", "%6"), BG_LUT_PAIR8("%0", "%1", "%4", "%9") BG_LUT_PAIR8("%6", "%7", "%8", "%9"));
  if (n == 4) BG_LUT_ROWS2(BG_LUT_PAIR4("%0", "%1", "%4", "%6"), BG_LUT_PAIR4("%0", "%1", "%4", "%9") BG_LUT_PAIR4("%6", "%7", "%8", "%9"));
#undef BG_LUT_PAIR4
#undef BG_LUT_PAIR8
#undef BG_LUT_PAIR16
#undef BG_LUT_ADD_PAIR
#undef BG_LUT_ADD_PAIRED
#undef BG_LUT_ROWS2
}
#undef BG_LUT_TWO
#undef BG_LUT_STEP_TWO
#undef BG_LUT_INTO
#undef BG_LUT_ADD
#undef BG_LUT_ASM1
#undef BG_LUT_LOAD2
#undef BG_LUT_ONE_FIRST
#undef BG_LUT_ONE_NEXT
#undef BG_LUT_ONE_EIGHT
#else
#define BG_LUT_ROW_PAIRS 0
#endif

/* One chunk's lookups for every row, added into the partial sums p (which start at minus
 * the bias of all the row's lookups, so a chunk adds its sums alone). r1 and r3 are the
 * chunk's indices, n per row (bg_lut_index_at), `width` bytes each; on Thumb-2 straight
 * chunks take rows two at a time (bg_lut_rows2, bg_lut_rows2_words), two pairs a pass,
 * the loops below the odd last row. Sums add modulo 2^32: a paired row keeps dot1 + 2^16 dot3, which splits
 * back exactly while both final sums fit int16 (cols <= 258). */
static BG_LUT_INLINE void bg_lut_chunk_rows(const uint8_t *r1, const uint8_t *r3, int32_t rows, const uint16_t *t, int32_t n, int32_t paired,
                                            uint32_t *p, int32_t width) {
  const int32_t step = n * width;
  int32_t r = 0;
#if BG_LUT_ROW_PAIRS
  if ((n == 16 || n == 8 || n == 4) && (!r3 || paired)) {
    uint32_t *const pairs_end = p + (rows & ~1), *const quads_end = p + (rows & ~3);
    /* chunks of 8 and 4 groups: two row pairs a pass, one test and branch for four rows
     * (a row pair's lookups cost ~40 instructions there; the copy costs ~600 bytes of code) */
#define BG_LUT_PAIRS(rows2)                  \
  do {                                       \
    if (n <= 8)                              \
      while (p != quads_end) {               \
        rows2;                               \
        rows2;                               \
      }                                      \
    while (p != pairs_end) rows2;            \
  } while (0)
#if defined(BITGPT_LUT_WORDS)
    if (width == 4) {
      const uint32_t *i1 = (const uint32_t *)(const void *)r1, *i3 = (const uint32_t *)(const void *)r3;
      if (r3) /* two loops: no test of r3 per row pair */
        BG_LUT_PAIRS(bg_lut_rows2_words(&i1, &i3, t, n, &p));
      else
        BG_LUT_PAIRS(bg_lut_rows2_words(&i1, 0, t, n, &p));
      r1 = (const uint8_t *)i1, r3 = (const uint8_t *)i3;
    } else
#endif
    {
      const uint16_t *i1 = (const uint16_t *)(const void *)r1, *i3 = (const uint16_t *)(const void *)r3;
      if (r3)
        BG_LUT_PAIRS(bg_lut_rows2(&i1, &i3, t, n, &p));
      else
        BG_LUT_PAIRS(bg_lut_rows2(&i1, 0, t, n, &p));
      r1 = (const uint8_t *)i1, r3 = (const uint8_t *)i3;
    }
#undef BG_LUT_PAIRS
    r = rows & ~1, p -= r; /* p back at row 0; the odd last row, if any, below */
  }
#endif
  if (!r3) {
    for (; r < rows; ++r) p[r] += bg_lut_row_sum(r1, t, n, width), r1 += step;
  } else if (paired) {
    for (; r < rows; ++r) p[r] += bg_lut_row_sum(r1, t, n, width) + (bg_lut_row_sum(r3, t, n, width) << 16), r1 += step, r3 += step;
  } else {
    for (; r < rows; ++r, r1 += step, r3 += step) {
      p[r] += bg_lut_row_sum(r1, t, n, width);
      p[rows + r] += bg_lut_row_sum(r3, t, n, width);
    }
  }
}

/* Armv6-M sums every chunk in the one general form: the straight copies for three chunk
 * sizes cost ~1.2 KB of code, on cores whose flash is small (the micro:bit's 256 KiB); its
 * cost figures (targets/target.cpp) count no straight chunks. */
#if defined(__thumb__) && !defined(__thumb2__)
#define BG_LUT_STRAIGHT_CHUNKS 0
#else
#define BG_LUT_STRAIGHT_CHUNKS 1
#endif

/* Partial sums before the first chunk: minus the bias of all of a row's lookups, `start`,
 * in each of the n. Four a pass: a loop test per four rows; on Thumb-2 eight a pass, as
 * two four-register STMs (half an instruction a row, where GCC's loop took two). */
static BG_LUT_INLINE void bg_lut_partials_start(uint32_t *p, int32_t n, uint32_t start) {
  uint32_t *const end = p + n;
#if defined(__GNUC__) && defined(__thumb2__)
  if (n >= 8) {
    uint32_t *const end8 = p + (n & ~7);
    __asm__ volatile("mov r8, %[s]\n\tmov r9, %[s]\n\tmov r10, %[s]\n\tmov r11, %[s]\n"
                     "1:\n\tstmia %[p]!, {r8, r9, r10, r11}\n\tstmia %[p]!, {r8, r9, r10, r11}\n\tcmp %[p], %[end]\n\tbne 1b"
                     : [p] "+r"(p)
                     : [s] "r"(start), [end] "r"(end8)
                     : "r8", "r9", "r10", "r11", "cc", "memory");
  }
#endif
  for (; end - p >= 4; p += 4) p[0] = p[1] = p[2] = p[3] = start;
  for (; p != end; ++p) *p = start;
}

/* One chunk of n groups added into the partial sums p (bg_lut_chunk_rows). Chunks of 16,
 * 8 and 4 groups, those of a tight budget, are straight code per row, with no loop or
 * tail tests around the lookups (a fifth of a row's instructions at 16 groups, more at
 * fewer; passes/kernel_cost.cpp counts the tests of other sizes). */
static BG_LUT_INLINE void bg_lut_chunk_sums(const uint8_t *r1, const uint8_t *r3, int32_t rows, const uint16_t *t, int32_t n, int32_t paired,
                                            uint32_t *p, int32_t width) {
  if (BG_LUT_STRAIGHT_CHUNKS && n == 16) bg_lut_chunk_rows(r1, r3, rows, t, 16, paired, p, width);
  else if (BG_LUT_STRAIGHT_CHUNKS && n == 8) bg_lut_chunk_rows(r1, r3, rows, t, 8, paired, p, width);
  else if (BG_LUT_STRAIGHT_CHUNKS && n == 4) bg_lut_chunk_rows(r1, r3, rows, t, 4, paired, p, width);
  else bg_lut_chunk_rows(r1, r3, rows, t, n, paired, p, width);
}

/* Integer dot products of rows of up to two matrices sharing the input x (w1 and w3 of a
 * gated FFN, or one matrix when w3 is NULL), passed to emit(ctx, r, dot1, dot3) row by
 * row: at once when the input fits one chunk, else after the last chunk, the sums kept in
 * s->partial in between (set to minus the rows' total bias first, then each chunk's sums
 * added by bg_lut_chunk_rows). The per-row work between chunks is a load, an add and a store, so
 * small chunks cost little more than whole tables. Returns 0 when the rows were emitted
 * (one chunk), 1 when their sums are left in s->partial (after chunks): the caller then
 * finishes them, with bg_lut_emit_rows or with loops of its own, not a call a row. */
typedef void (*bg_lut_emit_fn)(void *ctx, int32_t r, int32_t dot1, int32_t dot3);

/* A row's two sums from its paired partial sum (BG_LUT_PAIRED): the low half, then the
 * high half less the low one's borrow. */
static inline int32_t bg_lut_pair_first(uint32_t v) { return (int16_t)(uint16_t)v; }
static inline int32_t bg_lut_pair_second(uint32_t v) { return (int32_t)(v - (uint32_t)bg_lut_pair_first(v)) >> 16; }

/* bg_lut_matvec's rows after chunks: each row's sums from the partial sums p (two
 * matrices when `two`, paired or not) to emit. */
static BG_LUT_INLINE void bg_lut_emit_rows(const uint32_t *p, int32_t rows, int32_t two, int32_t paired, bg_lut_emit_fn emit, void *ctx) {
  int32_t r;
  for (r = 0; r < rows; ++r) {
    if (two && paired) {
      emit(ctx, r, bg_lut_pair_first(p[r]), bg_lut_pair_second(p[r]));
    } else {
      emit(ctx, r, (int32_t)p[r], two ? (int32_t)p[rows + r] : 0);
    }
  }
}

/* bg_lut_matvec for indices `width` bytes wide (a constant in each copy). */
static BG_LUT_INLINE int32_t bg_lut_matvec_of(const bg_matrix *w1, const bg_matrix *w3, const int8_t *x, const bg_lut_scratch *s,
                                              bg_lut_emit_fn emit, void *ctx, int32_t width) {
  const int32_t groups = w1->row_bytes / width, rows = w1->rows;
  const uint8_t *rows1 = w1->data, *rows3 = w3 ? w3->data : 0;
  const uint16_t *t = s->table;
  uint32_t *p = (uint32_t *)s->partial;
  int32_t g0, r;
  if (groups <= s->chunk) {
    const uint32_t bias = (uint32_t)groups * BG_LUT_BIAS;
    bg_lut_build(x, w1->cols, 0, groups, s->table);
    for (r = 0; r < rows; ++r, rows1 += w1->row_bytes) {
      const int32_t d1 = (int32_t)(bg_lut_row_sum(rows1, t, groups, width) - bias);
      const int32_t d3 = rows3 ? (int32_t)(bg_lut_row_sum(rows3 + (int64_t)r * w1->row_bytes, t, groups, width) - bias) : 0;
      emit(ctx, r, d1, d3);
    }
    return 0;
  }
  {
    const uint32_t bias = (uint32_t)groups * BG_LUT_BIAS;
    bg_lut_partials_start(p, rows3 && !s->paired ? 2 * rows : rows, 0u - (rows3 && s->paired ? bias + (bias << 16) : bias));
  }
  for (g0 = 0; g0 < groups; g0 += s->chunk) {
    const int32_t n = groups - g0 < s->chunk ? groups - g0 : s->chunk;
    const int64_t at = (int64_t)g0 * rows * width; /* the chunk's first index */
    bg_lut_build(x, w1->cols, g0, n, s->table);
    bg_lut_chunk_sums(rows1 + at, rows3 ? rows3 + at : 0, rows, t, n, s->paired, p, width);
  }
  return 1;
}

/* The products of BG_W_TERNARY_LUT4 or BG_W_TERNARY_LUT4W matrices: one copy of the kernel
 * per index width the build reads (BG_LUT_INDEX_BYTES). */
static BG_LUT_INLINE int32_t bg_lut_matvec(const bg_matrix *w1, const bg_matrix *w3, const int8_t *x, const bg_lut_scratch *s,
                                           bg_lut_emit_fn emit, void *ctx) {
#if defined(BITGPT_LUT_WORDS) && BITGPT_LUT_WORDS == 2
  if (BG_LUT_INDEX_BYTES(w1) == 4) return bg_lut_matvec_of(w1, w3, x, s, emit, ctx, 4);
  return bg_lut_matvec_of(w1, w3, x, s, emit, ctx, 2);
#else
  return bg_lut_matvec_of(w1, w3, x, s, emit, ctx, BG_LUT_INDEX_BYTES(w1));
#endif
}

/* ---- the three operations that multiply matrices, on top of bg_lut_matvec ---- */

typedef struct bg_lut_matvec_ctx {
  bg_row_scaler rows;
  int32_t *out;
  int32_t accumulate;
} bg_lut_matvec_ctx;

static inline void bg_lut_emit_matvec(void *p, int32_t r, int32_t dot, int32_t unused) {
  bg_lut_matvec_ctx *c = (bg_lut_matvec_ctx *)p;
  const int32_t z = bg_row_scale(&c->rows, r, dot);
  (void)unused;
  c->out[r] = c->accumulate ? bg_add_sat32(c->out[r], z) : z;
}

/* The rows' values from their sums p after chunks where one multiplier scales them all
 * (c->rows.fast): bg_lut_emit_matvec's integers in a loop of their own, the multiplier one
 * SMMULR a row where the core has it (bg_mult_q32). A leaf, as bg_lut_ffn_fast_rows. */
static BG_LUT_OUT_OF_LINE void bg_lut_fast_rows(const bg_lut_matvec_ctx *c, const uint32_t *p, int32_t rows) {
  const bg_mult k = c->rows.shared;
  int32_t *out = c->out, r = 0;
#if defined(BG_HAS_SMMULR)
  bg_mult_q32 k32;
  if (bg_mult_q32_form(k, bg_row_dot_bound(c->rows.w), &k32)) {
#if defined(__thumb2__)
    /* four rows a pass in one block of assembly: one LDM of the sums, a shift and an SMMULR
     * each, the residual's words by two LDRDs and QADDs (accumulate), one STM: 18
     * instructions for four rows (12 storing), where GCC's loops took 32 (24) */
#define BG_FAST_ROW4 "lsl r8, r8, %[pre]\n\tlsl r9, r9, %[pre]\n\tlsl r10, r10, %[pre]\n\tlsl r11, r11, %[pre]\n\t" \
  "smmulr r8, r8, %[m]\n\tsmmulr r9, r9, %[m]\n\tsmmulr r10, r10, %[m]\n\tsmmulr r11, r11, %[m]\n\t"
    if (rows >= 4) {
      const uint32_t *pp = p;
      int32_t *op = out, *const end = out + (rows & ~3);
      uint32_t t0, t1;
      if (c->accumulate)
        __asm__ volatile("1:\n\tldmia %[p]!, {r8, r9, r10, r11}\n\t" BG_FAST_ROW4
                         "ldrd %[t0], %[t1], [%[o]]\n\tqadd r8, %[t0], r8\n\tqadd r9, %[t1], r9\n\t"
                         "ldrd %[t0], %[t1], [%[o], #8]\n\tqadd r10, %[t0], r10\n\tqadd r11, %[t1], r11\n\t"
                         "stmia %[o]!, {r8, r9, r10, r11}\n\tcmp %[o], %[end]\n\tbne 1b"
                         : [p] "+r"(pp), [o] "+r"(op), [t0] "=&r"(t0), [t1] "=&r"(t1)
                         : [end] "r"(end), [pre] "r"(k32.pre), [m] "r"(k32.m)
                         : "r8", "r9", "r10", "r11", "cc", "memory");
      else
        __asm__ volatile("1:\n\tldmia %[p]!, {r8, r9, r10, r11}\n\t" BG_FAST_ROW4
                         "stmia %[o]!, {r8, r9, r10, r11}\n\tcmp %[o], %[end]\n\tbne 1b"
                         : [p] "+r"(pp), [o] "+r"(op)
                         : [end] "r"(end), [pre] "r"(k32.pre), [m] "r"(k32.m)
                         : "r8", "r9", "r10", "r11", "cc", "memory");
      r = rows & ~3;
    }
#undef BG_FAST_ROW4
#endif
    if (c->accumulate)
      for (; r < rows; ++r) out[r] = bg_add_sat32(out[r], bg_mult_apply_q32((int32_t)p[r], k32));
    else
      for (; r < rows; ++r) out[r] = bg_mult_apply_q32((int32_t)p[r], k32);
    return;
  }
#endif
  if (c->accumulate)
    for (r = 0; r < rows; ++r) out[r] = bg_add_sat32(out[r], bg_mult_apply32_unchecked((int32_t)p[r], k));
  else
    for (r = 0; r < rows; ++r) out[r] = bg_mult_apply32_unchecked((int32_t)p[r], k);
}

/* A product's rows from their sums p after chunks (bg_lut_emit_matvec's integers). */
static BG_LUT_INLINE void bg_lut_finish_rows(bg_lut_matvec_ctx *c, const uint32_t *p, int32_t rows) {
  if (c->rows.fast) bg_lut_fast_rows(c, p, rows);
  else bg_lut_emit_rows(p, rows, 0, 0, bg_lut_emit_matvec, c);
}

/* bg_op_matvec for a BG_W_TERNARY_LUT4 matrix. */
static BG_LUT_OUT_OF_LINE void bg_lut_op_matvec(const bg_matrix *w, const int8_t *x, int32_t amax, int32_t *out, int32_t accumulate, const bg_lut_scratch *s) {
  bg_lut_matvec_ctx c;
  c.rows = bg_row_scaler_begin(w, amax);
  c.out = out;
  c.accumulate = accumulate;
  if (bg_lut_matvec(w, 0, x, s, bg_lut_emit_matvec, &c)) bg_lut_finish_rows(&c, (const uint32_t *)s->partial, w->rows); /* after chunks */
}

/* bg_lut_op_matvecs for indices `width` bytes wide: every matrix's rows summed chunk by
 * chunk into its own output (its partial sums, even for one chunk: one loop for all). */
static BG_LUT_INLINE void bg_lut_op_matvecs_of(const bg_matrix *const *w, int32_t count, const int8_t *x, int32_t amax, int32_t *const *out,
                                               const bg_lut_scratch *s, int32_t width) {
  const int32_t groups = w[0]->row_bytes / width;
  const uint32_t bias = (uint32_t)groups * BG_LUT_BIAS;
  int32_t g0, i;
  for (i = 0; i < count; ++i) bg_lut_partials_start((uint32_t *)out[i], w[i]->rows, 0u - bias);
  for (g0 = 0; g0 < groups; g0 += s->chunk) {
    const int32_t n = groups - g0 < s->chunk ? groups - g0 : s->chunk;
    bg_lut_build(x, w[0]->cols, g0, n, s->table);
    for (i = 0; i < count; ++i)
      bg_lut_chunk_sums(w[i]->data + (int64_t)g0 * w[i]->rows * width, 0, w[i]->rows, s->table, n, BG_LUT_SEPARATE, (uint32_t *)out[i], width);
  }
  for (i = 0; i < count; ++i) {
    bg_lut_matvec_ctx c;
    c.rows = bg_row_scaler_begin(w[i], amax);
    c.out = out[i];
    c.accumulate = BG_STORE;
    bg_lut_finish_rows(&c, (const uint32_t *)out[i], w[i]->rows);
  }
}

/* Products of two or three BG_W_TERNARY_LUT4 matrices with one input x, each stored to an
 * output of its own (the attention's wq, wk and wv; w3 and out3 NULL for two): the
 * integers of bg_lut_op_matvec on each, with every chunk's tables built once for all of
 * them. The matrices have the same columns and index width (take_word_indices, passes/pipeline.cpp). */
static BG_LUT_OUT_OF_LINE void bg_lut_op_matvecs(const bg_matrix *w1, const bg_matrix *w2, const bg_matrix *w3, const int8_t *x, int32_t amax,
                                                 int32_t *out1, int32_t *out2, int32_t *out3, const bg_lut_scratch *s) {
  const bg_matrix *const w[3] = {w1, w2, w3};
  int32_t *const out[3] = {out1, out2, out3};
  const int32_t count = w3 ? 3 : 2;
#if defined(BITGPT_LUT_WORDS) && BITGPT_LUT_WORDS == 2
  if (BG_LUT_INDEX_BYTES(w1) == 4) bg_lut_op_matvecs_of(w, count, x, amax, out, s, 4);
  else bg_lut_op_matvecs_of(w, count, x, amax, out, s, 2);
#else
  bg_lut_op_matvecs_of(w, count, x, amax, out, s, BG_LUT_INDEX_BYTES(w1));
#endif
}

typedef struct bg_lut_ffn_ctx {
  bg_ffn_gate gate;
  int32_t *h;
} bg_lut_ffn_ctx;

static inline void bg_lut_emit_ffn(void *p, int32_t r, int32_t d1, int32_t d3) {
  bg_lut_ffn_ctx *c = (bg_lut_ffn_ctx *)p;
  c->h[r] = bg_ffn_gate_row(&c->gate, r, d1, d3);
}

/* The gated rows from paired partial sums (bg_lut_scratch.paired) on the gate's fast path:
 * bg_lut_emit_ffn's integers in a loop of their own, with no call a row (that call cost
 * ~20 instructions a row on the cortex-m4). A leaf function, so that the inlined fast path
 * does not enlarge the FFN step's frame, which is on the firmware's deepest stack path. */
static BG_LUT_OUT_OF_LINE void bg_lut_ffn_fast_rows(const bg_lut_ffn_ctx *c, const uint32_t *p, int32_t rows) {
  const bg_mult up = c->gate.up.shared, gate = c->gate.gate.shared; /* not reloaded after each store to h */
  int32_t *h = c->h, r;
#if defined(BG_HAS_SMMULR)
  bg_ffn_gate_q32_form f;
  if (bg_ffn_gate_q32(&c->gate, &f)) {
    for (r = 0; r < rows; ++r) h[r] = bg_ffn_gate_q32_row(&f, bg_lut_pair_first(p[r]), bg_lut_pair_second(p[r]));
    return;
  }
#endif
  for (r = 0; r < rows; ++r) h[r] = bg_ffn_gate_fast_row(up, gate, bg_lut_pair_first(p[r]), bg_lut_pair_second(p[r]));
}

/* The gated FFN's first half on BG_W_TERNARY_LUT4 matrices: one table serves w1 and w3. */
static BG_LUT_OUT_OF_LINE void bg_lut_gated_ffn_up(const bg_matrix *w1, const bg_matrix *w3, int32_t act, const int8_t *x, int32_t amax, int32_t *h,
                                                   const bg_lut_scratch *s) {
  bg_lut_ffn_ctx c;
  c.gate = bg_ffn_gate_begin(w1, w3, act, amax);
  c.h = h;
  if (bg_lut_matvec(w1, w3, x, s, bg_lut_emit_ffn, &c)) { /* after chunks */
    if (c.gate.fast && s->paired) bg_lut_ffn_fast_rows(&c, (const uint32_t *)s->partial, w1->rows);
    else bg_lut_emit_rows((const uint32_t *)s->partial, w1->rows, 1, s->paired, bg_lut_emit_ffn, &c);
  }
}

/* bg_fused_ffn_up for BG_W_TERNARY_LUT4 matrices. Without w3, W1 x as any product (the
 * gate's up scaler is that product's), then the activation: the gated kernel's lookups
 * are then only ever for two matrices, one copy of them less. Inline, so that the step
 * calls either kernel directly (one frame deep, as before). */
static inline void bg_lut_fused_ffn_up(const bg_matrix *w1, const bg_matrix *w3, int32_t act, const int8_t *x, int32_t amax, int32_t *h,
                                       const bg_lut_scratch *s) {
  int32_t r;
  if (w3) {
    bg_lut_gated_ffn_up(w1, w3, act, x, amax, h, s);
    return;
  }
  bg_lut_op_matvec(w1, x, amax, h, BG_STORE, s);
  for (r = 0; r < w1->rows; ++r) h[r] = bg_activation(act, h[r]);
}

#ifdef __cplusplus
}
#endif

#endif /* BITGPT_LUT_H */
