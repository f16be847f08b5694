/* bitgpt_attention.h - the KV cache, attention in the three steps the fused kernel
 * reproduces, and choosing the next token. Part of bitgpt_ops.h, which includes it
 * after the operations it uses; not included on its own. */
#ifndef BITGPT_ATTENTION_H
#define BITGPT_ATTENTION_H

/* ---- the KV cache ---- */

static inline int32_t bg_kv_row_bytes(const bg_attn_shape *a) {
  return a->kv_bits == 4 ? (a->head_dim + 1) / 2 : a->head_dim;
}

/* The two 4-bit codes of a cache byte b (read as int8): element 2k in the low half, 2k + 1
 * in the high half, each sign-extended. */
static inline int32_t bg_kv_low4(int32_t b) { return (int32_t)((uint32_t)b << 28) >> 28; }
static inline int32_t bg_kv_high4(int32_t b) { return b >> 4; }

static inline int32_t bg_kv_code(const uint8_t *row, int32_t i, int32_t bits) {
  if (bits == 8) return (int8_t)row[i];
  return i & 1 ? bg_kv_high4((int8_t)row[i >> 1]) : bg_kv_low4((int8_t)row[i >> 1]);
}

/* Quantises one head vector into a cache row and returns its scale16. */
static inline uint16_t bg_kv_store_row(const int32_t *x, int32_t n, int32_t bits, uint8_t *row) {
  const int32_t amax = bg_amax(x, n);
  const uint16_t s16 = bg_scale16_encode(amax);
  const int32_t qmax = bg_kv_qmax(bits), scale = bg_scale16_decode(s16);
  const bg_mult inv = bg_mult_ratio(qmax, scale);
  int32_t i;
  if (bits == 8 && scale >= amax) {
    /* the usual case (scale16 rounds amax up unless it is past the largest scale16):
     * every |x| <= scale, so these are bg_quantize_one's codes without its clamp */
    bg_quantize_codes(x, n, inv, scale, (int8_t *)row);
  } else if (bits == 8) {
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
#elif defined(BITGPT_USE_AVX2)
    i = n & ~15;
    dot = bg_avx2_dot_int8(q8, (const int8_t *)row, i);
#endif
    for (; i < n; ++i) dot += q8[i] * (int8_t)row[i];
  } else {
    for (i = 0; i + 2 <= n; i += 2) {
      const int32_t b = (int8_t)row[i >> 1];
      dot += q8[i] * bg_kv_low4(b) + q8[i + 1] * bg_kv_high4(b);
    }
    if (i < n) dot += q8[i] * bg_kv_code(row, i, 4);
  }
  return dot;
}

/* The cache row of token t's key and value in KV group g: its ring slot's. */
static inline int32_t bg_kv_at(const bg_attn_shape *a, int32_t g, int32_t t) { return (t % a->window) * a->n_kv_heads + g; }

/* How far a q.k code dot product may be shifted up inside int32 (bg_headroom of its
 * bound, |codes| <= 127). */
static inline int32_t bg_attn_dot_headroom(const bg_attn_shape *a) { return bg_headroom((int64_t)127 * 127 * a->head_dim); }

/* A q.k code dot product against the key in cache row `at` as a score: q.k / sqrt(head_dim),
 * Q16. room: bg_attn_dot_headroom. */
static inline int32_t bg_attn_scaled_score(const bg_kv_layer *c, int32_t at, int32_t dot, bg_mult qk, int32_t room) {
  return bg_mult_apply32_row(dot, bg_mult_scale16(qk, c->k_scale[at]), room);
}

/* Score of query codes q8 against the key of token t. */
static inline int32_t bg_attn_score(const bg_kv_layer *c, const bg_attn_shape *a, int32_t g, int32_t t, const int8_t *q8, bg_mult qk) {
  const int32_t at = bg_kv_at(a, g, t);
  return bg_attn_scaled_score(c, at, bg_kv_dot(q8, c->k + (int64_t)at * bg_kv_row_bytes(a), a->head_dim, a->kv_bits), qk, bg_attn_dot_headroom(a));
}

/* scores[t - first] = bg_attn_score(..., t, ...) for the window's tokens first..position;
 * returns the largest. With AVX-512 VNNI and an 8-bit cache, eight keys a step
 * (bg_avx512_dots8, bg_avx512_scale_scores8: the same integers). */
static inline int32_t bg_attn_scores(const bg_kv_layer *c, const bg_attn_shape *a, int32_t g, int32_t first, int32_t position, const int8_t *q8,
                                     bg_mult qk, int32_t *scores) {
  int32_t t = first, m = INT32_MIN;
#if defined(BITGPT_USE_AVX512_VNNI)
  if (a->kv_bits == 8) {
    const int32_t rb = a->n_kv_heads * a->head_dim; /* from one slot's key to the next's */
    int32_t slot = first % a->window, ahead = (slot + 16) % a->window; /* token t's slot, t + 16's */
    __m256i top = _mm256_set1_epi32(INT32_MIN);
    for (; t + 8 <= position + 1; t += 8) {
      const int8_t *rows[8];
      uint16_t s16[8];
      __mmask8 exact;
      __m256i s;
      int32_t k;
      for (k = 0; k < 8; ++k) {
        const int32_t at = slot * a->n_kv_heads + g;
        rows[k] = (const int8_t *)c->k + (int64_t)at * a->head_dim;
        s16[k] = c->k_scale[at];
        /* the keys are read once, from far caches: ask for those two steps on now */
        bg_prefetch(c->k + (int64_t)ahead * rb + (int64_t)g * a->head_dim);
        if (++slot == a->window) slot = 0;
        if (++ahead == a->window) ahead = 0;
      }
      s = bg_avx512_scale_scores8(bg_avx512_dots8(q8, rows, a->head_dim), _mm_loadu_si128((const __m128i *)s16), qk, &exact);
      _mm256_storeu_si256((__m256i *)(scores + t - first), s);
      if (exact != 0xFF) { /* a shift outside [1, 62]: those lanes one at a time */
        for (k = 0; k < 8; ++k)
          if (!((exact >> k) & 1)) scores[t - first + k] = bg_attn_score(c, a, g, t + k, q8, qk);
        s = _mm256_loadu_si256((const __m256i *)(scores + t - first));
      }
      top = _mm256_max_epi32(top, s);
    }
    m = bg_avx2_max(top);
  }
#endif
  for (; t <= position; ++t) {
    const int32_t s = scores[t - first] = bg_attn_score(c, a, g, t, q8, qk);
    if (s > m) m = s;
  }
  return m;
}

/* Scores s[0..n-1], each at most m (their maximum), become the softmax's unnormalised
 * weights exp(s - m), Q16, in place; returns their sum. */
static inline int64_t bg_attn_softmax_weights(int32_t *s, int32_t n, int32_t m) {
#if defined(BITGPT_USE_AVX512_VNNI)
  return bg_avx512_softmax_weights(s, n, m);
#elif defined(BITGPT_USE_AVX2)
  return bg_avx2_softmax_weights(s, n, m);
#else
  int64_t sum = 0;
  int32_t t;
  for (t = 0; t < n; ++t) sum += s[t] = bg_exp_neg_q16(bg_below_max(s[t], m));
  return sum;
#endif
}

/* The power of two that every value weight of KV group g over tokens [first, position]
 * has as a factor: a weight is p * (mant << e) for the token's value scale, so the least
 * e of the nonzero scales. The value sum runs on the weights divided by 2^shift, which
 * fit 32 bits far more often (one SMLAL an element on Arm, one 32-bit multiply a lane with
 * AVX2), and bg_attn_finish multiplies the 2^shift back: the same integers. */
static inline int32_t bg_attn_value_shift(const bg_kv_layer *c, const bg_attn_shape *a, int32_t g, int32_t first, int32_t position) {
  /* (Walking the slots 0 .. n - 1 instead, without the remainder, measured 7K
   * instructions a token more on the cortex-m4 at 8 KiB: GCC then schedules the fused
   * attention around it worse.) */
  int32_t t, shift = 15;
  for (t = first; t <= position; ++t) {
    const uint16_t s = c->v_scale[bg_kv_at(a, g, t)];
    if (bg_scale16_mantissa(s) != 0 && bg_scale16_exponent(s) < shift) shift = bg_scale16_exponent(s);
  }
  return shift;
}

/* Token t's value weight divided by 2^shift (bg_attn_value_shift: exact): p (the
 * unnormalised softmax weight, Q16) times the value scale, 0 <= w < 2^43. */
static inline int64_t bg_attn_value_weight(uint16_t v_scale, int32_t p, int32_t shift) {
  const uint32_t mant = bg_scale16_mantissa(v_scale);
  return mant ? (int64_t)p * (int64_t)(mant << (bg_scale16_exponent(v_scale) - shift)) : 0;
}

/* Adds weight p times token t's value, divided by 2^shift, to acc. */
static inline void bg_attn_accumulate(const bg_kv_layer *c, const bg_attn_shape *a, int32_t g, int32_t t, int32_t p, int32_t shift, int64_t *acc) {
  const int32_t at = bg_kv_at(a, g, t), rb = bg_kv_row_bytes(a);
  const uint8_t *vrow = c->v + (int64_t)at * rb;
  const int64_t w = bg_attn_value_weight(c->v_scale[at], p, shift);
  int32_t i;
  if (a->kv_bits == 8 && w == (int32_t)w) { /* the usual case on Arm: one SMLAL per element */
    for (i = 0; i < a->head_dim; ++i) acc[i] += bg_mul32x32((int32_t)w, (int8_t)vrow[i]);
  } else if (a->kv_bits == 8) {
    for (i = 0; i < a->head_dim; ++i) acc[i] += w * (int8_t)vrow[i];
  } else { /* 4-bit codes, two a byte: one load for both, then a SMLAL each where w fits 32 bits */
    const int8_t *b = (const int8_t *)vrow;
    int64_t *o = acc, *const end = acc + (a->head_dim & ~1);
    if (w == (int32_t)w) {
      const int32_t w32 = bg_pin32((int32_t)w); /* else GCC sees through the cast: 64x64 multiplies */
      for (; o < end; o += 2, ++b) {
        o[0] += bg_mul32x32(w32, bg_kv_low4(*b));
        o[1] += bg_mul32x32(w32, bg_kv_high4(*b));
      }
    } else {
      for (; o < end; o += 2, ++b) {
        o[0] += w * bg_kv_low4(*b);
        o[1] += w * bg_kv_high4(*b);
      }
    }
    if (a->head_dim & 1) *o += w * bg_kv_code(vrow, a->head_dim - 1, 4);
  }
}

/* The value weights (bg_attn_value_weight, divided by 2^shift) of tokens t .. t + n - 1
 * of KV group g, with weights p[0..n-1], and their cache slots, as `lanes` lanes: the
 * lanes past n weigh 0 on token t's slot. Returns whether every weight fits 32 bits (the
 * vector passes' condition). */
static inline int32_t bg_attn_value_lanes(const bg_kv_layer *c, const bg_attn_shape *a, int32_t g, int32_t t, const int32_t *p, int32_t n,
                                          int32_t lanes, int32_t shift, int32_t *w, int32_t *at) {
  int32_t k, fits = 1;
  for (k = 0; k < lanes; ++k) {
    const int32_t slot = bg_kv_at(a, g, t + (k < n ? k : 0));
    const int64_t wk = k < n ? bg_attn_value_weight(c->v_scale[slot], p[k], shift) : 0;
    fits &= wk == (int32_t)wk;
    w[k] = (int32_t)wk;
    at[k] = slot;
  }
  return fits;
}

/* bg_attn_accumulate for tokens t .. t + n - 1 (n <= 4) with weights p[0..n-1]: with an
 * 8-bit cache and every weight within 32 bits, one pass over acc for the four (a load and
 * a store of each 64-bit sum, then a SMLAL per token; tokens past n weigh 0), else token
 * by token. The same integer sums in another order. (Two passes of two tokens measured
 * more on the cortex-m4: 1,900,129 against 1,871,169 a token at 8 KiB.) */
static inline void bg_attn_accumulate4(const bg_kv_layer *c, const bg_attn_shape *a, int32_t g, int32_t t, const int32_t *p, int32_t n, int32_t shift,
                                       int64_t *acc) {
  int32_t w[4], at[4], k, i;
  if (a->kv_bits != 8 || !bg_attn_value_lanes(c, a, g, t, p, n, 4, shift, w, at)) {
    for (k = 0; k < n; ++k) bg_attn_accumulate(c, a, g, t + k, p[k], shift, acc);
    return;
  }
  {
    /* pinned: else clang sees the weights' int64 origin and makes each a 64x64 multiply
     * (60 instructions an element, against 20) */
    const int32_t w0 = bg_pin32(w[0]), w1 = bg_pin32(w[1]), w2 = bg_pin32(w[2]), w3 = bg_pin32(w[3]);
    const int8_t *v0 = (const int8_t *)c->v + (int64_t)at[0] * a->head_dim, *v1 = (const int8_t *)c->v + (int64_t)at[1] * a->head_dim;
    const int8_t *v2 = (const int8_t *)c->v + (int64_t)at[2] * a->head_dim, *v3 = (const int8_t *)c->v + (int64_t)at[3] * a->head_dim;
    for (i = 0; i < a->head_dim; ++i) { /* each product into the running sum: a SMLAL each */
      int64_t s = acc[i];
      s += bg_mul32x32(w0, v0[i]);
      s += bg_mul32x32(w1, v1[i]);
      s += bg_mul32x32(w2, v2[i]);
      s += bg_mul32x32(w3, v3[i]);
      acc[i] = s;
    }
  }
}

#if defined(__GNUC__) && !defined(__clang__) && defined(__thumb2__) && defined(__OPTIMIZE__)
/* The value sum over a full window of an 8-bit cache whose slots' rows of a KV group are
 * 32 bytes apart (n_kv_heads x head_dim = 32, the shipped example's shape), eight slots a
 * pass: their rows one pointer and immediate offsets apart, so the eight weights stay in
 * registers (six of them; 23 instructions for eight products, where four tokens a pass
 * take 13 for four) and each 64-bit sum is loaded and stored once for the eight (the
 * first eight slots start the sums, so acc is not zeroed first). In slot order, not
 * token order: the same integer sums. p: the softmax's weights by token (p[t - first]);
 * a block whose value weights do not all fit 32 bits goes token by token. GCC's builds
 * only: the LLVM object's kernels keep the four-token pass (clang's code for this beside
 * it, 2 KB, overran the object's flash estimate on the cortex-m3, whose margin was 560
 * bytes in e2e.ternary_example_8k). */
#define BG_ROWS8_STRIDE 32
static inline int bg_attn_rows8_fit(const bg_attn_shape *a, int32_t first, int32_t position) {
  return a->kv_bits == 8 && a->n_kv_heads * a->head_dim == BG_ROWS8_STRIDE && a->window % 8 == 0 && position - first + 1 == a->window;
}
/* bg_attn_accumulate for tokens first + d[k], k < n, with weights p[d[k]]: the rare way
 * (value weights of 2^31 and more), out of line and compiled for size. */
__attribute__((noinline, unused, cold))
static void bg_attn_accumulate_tokens(const bg_kv_layer *c, const bg_attn_shape *a, int32_t g, int32_t first, const int32_t *d, int32_t n,
                                      const int32_t *p, int32_t shift, int64_t *acc) {
  int32_t k;
  for (k = 0; k < n; ++k) bg_attn_accumulate(c, a, g, first + d[k], p[d[k]], shift, acc);
}

__attribute__((noinline, unused))
static void bg_attn_value_rows8(const bg_kv_layer *c, const bg_attn_shape *a, int32_t g, int32_t first, const int32_t *p, int32_t shift, int64_t *acc) {
  const int32_t window = a->window, f = first % window; /* the slot of token first */
  int32_t s0, k;
  for (s0 = 0; s0 < window; s0 += 8) {
    int32_t w[9], t[8]; /* w[8]: the end of acc, read by the loop with w[6] and w[7] */
    uint32_t wide = 0;  /* some weight's bits from 2^31 up */
    const uint16_t *vs = c->v_scale + s0 * a->n_kv_heads + g;
    for (k = 0; k < 8; ++k, vs += a->n_kv_heads) {
      /* bg_attn_value_weight's integer, without its branch: p (at most 2^16) times mant <<
       * (exp - shift) (under 2^27), the shift taken modulo 32: where the mantissa is 0 the
       * product is 0 whatever it is, and elsewhere exp >= shift. (That form in
       * bg_attn_value_weight itself grew the LLVM object's Helium kernels by 2.9 KB, past
       * the flash estimate in e2e.helium_blocks_odd_rows; this loop is GCC's alone.) */
      const int32_t d = s0 + k - f, e = bg_scale16_exponent(*vs) - shift;
      const uint64_t wk = (uint64_t)(uint32_t)p[t[k] = d < 0 ? d + window : d] * (bg_scale16_mantissa(*vs) << (e & 31));
      wide |= (uint32_t)(wk >> 31);
      w[k] = (int32_t)(uint32_t)wk;
    }
    if (wide) { /* rare (value weights of 2^31 and more): one token at a time, out of line */
      if (s0 == 0)
        for (k = 0; k < a->head_dim; ++k) acc[k] = 0;
      bg_attn_accumulate_tokens(c, a, g, first, t, 8, p, shift, acc);
      continue;
    }
    w[8] = (int32_t)(uintptr_t)(acc + a->head_dim);
    {
      /* thirteen registers at every -O: six weights in registers, the last two and the end
       * loaded from w each element (23 instructions for eight products) */
      const int8_t *v = (const int8_t *)c->v + (int64_t)(s0 * a->n_kv_heads + g) * a->head_dim;
      int64_t *o = acc;
      uint32_t lo, hi, x, y;
#define BG_ROW8(w, off) "ldrsb %[x], [%[v], #" off "]\n\tsmlal %[lo], %[hi], %[x], %[" w "]\n\t"
#define BG_ROW8_LOADED(at, off) "ldrsb %[x], [%[v], #" off "]\n\tldr %[y], [%[w], #" at "]\n\tsmlal %[lo], %[hi], %[x], %[y]\n\t"
#define BG_ROWS8_PASS(start)                                                                                                     \
  __asm__ volatile("1:\n\t" start "ldrsb %[x], [%[v]], #1\n\tsmlal %[lo], %[hi], %[x], %[w0]\n\t" BG_ROW8("w1", "31")              \
                   BG_ROW8("w2", "63") BG_ROW8("w3", "95") BG_ROW8("w4", "127") BG_ROW8("w5", "159") BG_ROW8_LOADED("24", "191")      \
                   BG_ROW8_LOADED("28", "223") "strd %[lo], %[hi], [%[o]], #8\n\tldr %[x], [%[w], #32]\n\tcmp %[o], %[x]\n\tbne 1b"   \
                   : [v] "+r"(v), [o] "+r"(o), [lo] "=&r"(lo), [hi] "=&r"(hi), [x] "=&r"(x), [y] "=&r"(y)                          \
                   : [w0] "r"(w[0]), [w1] "r"(w[1]), [w2] "r"(w[2]), [w3] "r"(w[3]), [w4] "r"(w[4]), [w5] "r"(w[5]), [w] "r"(w)    \
                   : "cc", "memory")
      if (s0 == 0) /* the first eight slots start the sums: acc needs no zeroing before */
        BG_ROWS8_PASS("movs %[lo], #0\n\tmovs %[hi], #0\n\t");
      else
        BG_ROWS8_PASS("ldrd %[lo], %[hi], [%[o]]\n\t");
#undef BG_ROWS8_PASS
#undef BG_ROW8_LOADED
#undef BG_ROW8
    }
  }
}
#endif

/* acc = sum over tokens first..position of weights[t - first] times token t's value,
 * divided by 2^shift: bg_attn_accumulate token by token, or with AVX2 and an 8-bit cache
 * two tokens a step over chunks of them (bg_avx2_weighted_rows, or bg_avx512_weighted_rows
 * with AVX-512 VNNI), or with Helium eight tokens' element i at a time (gather loads,
 * bg_mve_weighted_rows8): the same integers. */
static inline void bg_attn_value_sum(const bg_kv_layer *c, const bg_attn_shape *a, int32_t g, int32_t first, int32_t position, const int32_t *weights,
                                     int32_t shift, int64_t *acc) {
  int32_t i, t;
  for (i = 0; i < a->head_dim; ++i) acc[i] = 0;
#if defined(BITGPT_USE_AVX2)
  if (a->kv_bits == 8) {
    const int8_t *rows[BG_AVX2_VALUE_CHUNK + 1];
    int64_t w[BG_AVX2_VALUE_CHUNK + 1];
    int32_t t0, n;
    for (t0 = first; t0 <= position; t0 += n) {
      n = position + 1 - t0 < BG_AVX2_VALUE_CHUNK ? position + 1 - t0 : BG_AVX2_VALUE_CHUNK;
      for (t = 0; t < n; ++t) {
        const int32_t at = bg_kv_at(a, g, t0 + t);
        rows[t] = (const int8_t *)c->v + (int64_t)at * a->head_dim;
        bg_prefetch(rows[t]); /* in flight while the rest of the chunk's rows are found */
        w[t] = bg_attn_value_weight(c->v_scale[at], weights[t0 + t - first], shift);
      }
#if defined(BITGPT_USE_AVX512_VNNI)
      bg_avx512_weighted_rows(rows, w, n, a->head_dim, acc);
#else
      bg_avx2_weighted_rows(rows, w, n, a->head_dim, acc);
#endif
    }
    return;
  }
#elif defined(BITGPT_USE_MVE)
  if (a->kv_bits == 8) { /* eight tokens a pass where their weights fit 32 bits */
    int32_t t0, n;
    for (t0 = first; t0 <= position; t0 += n) {
      int32_t w[8], at[8], k, fits;
      uint32_t offsets[8];
      n = position + 1 - t0 < 8 ? position + 1 - t0 : 8;
      fits = bg_attn_value_lanes(c, a, g, t0, weights + (t0 - first), n, 8, shift, w, at);
      for (k = 0; k < 8; ++k) offsets[k] = (uint32_t)(at[k] * a->head_dim);
      if (!fits)
        for (k = 0; k < n; ++k) bg_attn_accumulate(c, a, g, t0 + k, weights[t0 + k - first], shift, acc);
      else if (n > 4)
        bg_mve_weighted_rows8((const int8_t *)c->v, vld1q_u32(offsets), vld1q_s32(w), vld1q_u32(offsets + 4), vld1q_s32(w + 4), a->head_dim, acc);
      else
        bg_mve_weighted_rows4((const int8_t *)c->v, vld1q_u32(offsets), vld1q_s32(w), a->head_dim, acc);
    }
    return;
  }
#endif
  for (t = first; t <= position; ++t) bg_attn_accumulate(c, a, g, t, weights[t - first], shift, acc);
}

/* out = acc * 2^shift / (weight sum * qmax), Q16: one reciprocal per head, not a 64-bit
 * division per element. acc * 2^shift is first brought to 39 significant bits so the
 * product fits int64 (without forming acc * 2^shift, which may not fit). */
static inline int32_t bg_attn_finish_one(int64_t v, int32_t shift, int64_t den, bg_mult inv) {
  const uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
  const int lead = 63 - bg_clz64(mag | 1u) + shift;
  const int k = lead > 38 ? lead - 38 : 0;
  /* (v * 2^shift) >> k, within 39 bits: v's low bits are not lost when k < shift */
  const int64_t top = k >= shift ? v >> (k - shift) : (int64_t)((uint64_t)v << (shift - k));
  return den > 0 ? bg_sat32(bg_shr_round(top * inv.m, inv.shift - k)) : 0;
}

/* Whether bg_attn_finish_direct may stand for bg_attn_finish_one on a head's values:
 * den > 0 and a rounding shift inv.shift - shift in [1, 62] for every normalising shift
 * k <= shift (inv.shift <= 62). */
static inline int bg_attn_finish_direct_ok(int32_t shift, int64_t den, bg_mult inv) {
  return den > 0 && inv.shift <= 62 && inv.shift - shift >= 1;
}

/* Whether v is in [-2^39, 2^39), the range where the direct forms below stand for
 * bg_attn_finish_one: a test of v's high word (three instructions on 32-bit cores, where
 * the 64-bit comparison took seven). */
static inline int bg_attn_direct_range(int64_t v) { return (uint32_t)(v >> 32) + 128u <= 255u; }

/* bg_attn_finish_one for v in [-2^39, 2^39) where bg_attn_finish_direct_ok holds. There
 * the normalising shift k is at most `shift` (at v = -2^39, k = shift + 1, and v's low bit,
 * which that shift drops, is 0), so (v 2^shift) >> k is exact and the rounding
 * floor(v 2^(shift - k) m / 2^(inv.shift - k - 1)) is floor(v m / 2^(inv.shift - shift
 * - 1)) whatever k is: the same integer as k = shift gives, with v m (under 2^62) formed
 * directly. One product and a shift by a constant instead of a leading-zero count, two
 * variable shifts and the general rounding. */
static inline int32_t bg_attn_finish_direct(int64_t v, int32_t shift, bg_mult inv) {
  const int64_t w = (v * inv.m) >> (inv.shift - shift - 1);
  return bg_sat32((w >> 1) + (w & 1));
}

/* bg_attn_finish_direct where r = inv.shift - shift >= 33 (the usual case): with p = v m,
 * floor((p + 2^(r-1)) / 2^r) is floor((floor(p / 2^32) + 2^(r-33)) / 2^(r-32)), so only
 * the product's high word is needed (|p| < 2^62: it is in [-2^30, 2^30), and adding 2^(r-33) <=
 * 2^29 cannot overflow), and the result (under 2^29) needs no saturation. */
static inline int32_t bg_attn_finish_direct_high(int64_t v, int32_t r, int32_t m) {
  /* floor(v m / 2^32) = (v >> 32) m + floor((v mod 2^32) m / 2^32) for m >= 0, the sum
   * formed modulo 2^32 (it fits): one UMULL and one MLA, where v * m was a 64x64 multiply */
  const uint32_t low = (uint32_t)((uint64_t)(uint32_t)v * (uint32_t)m >> 32);
  const int32_t high = (int32_t)((uint32_t)(v >> 32) * (uint32_t)m + low);
  return (high + ((int32_t)1 << (r - 33))) >> (r - 32);
}

static inline void bg_attn_finish(const bg_attn_shape *a, const int64_t *acc, int64_t weight_sum, int32_t shift, int32_t *out) {
  const int64_t den = weight_sum * bg_kv_qmax(a->kv_bits);
  const bg_mult inv = bg_mult_ratio(1, den > 0 ? den : 1);
  int32_t i = 0;
#if defined(BITGPT_USE_AVX512_VNNI)
  if (den > 0)
    for (; i + 8 <= a->head_dim; i += 8) {
      const __mmask8 exact = bg_avx512_attn_finish8(acc + i, shift, inv, out + i);
      int32_t k;
      if (exact != 0xFF) /* a rounding shift outside [1, 62]: those lanes one at a time */
        for (k = 0; k < 8; ++k)
          if (!((exact >> k) & 1)) out[i + k] = bg_attn_finish_one(acc[i + k], shift, den, inv);
    }
#endif
  if (bg_attn_finish_direct_ok(shift, den, inv)) {
    const int32_t r = inv.shift - shift;
    if (r >= 33)
      for (; i < a->head_dim; ++i) {
        const int64_t v = acc[i];
        out[i] = bg_attn_direct_range(v) ? bg_attn_finish_direct_high(v, r, inv.m) : bg_attn_finish_one(v, shift, den, inv);
      }
    for (; i < a->head_dim; ++i) {
      const int64_t v = acc[i];
      out[i] = bg_attn_direct_range(v) ? bg_attn_finish_direct(v, shift, inv) : bg_attn_finish_one(v, shift, den, inv);
    }
  }
  for (; i < a->head_dim; ++i) out[i] = bg_attn_finish_one(acc[i], shift, den, inv);
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
    bg_attn_softmax_weights(s, n, m);
  }
}

/* Step 3: out[h] = sum_t w[t] v[t] / sum_t w[t]. acc is head_dim int64 scratch. */
static inline void bg_op_attn_weighted_sum(const bg_kv_layer *c, const bg_attn_shape *a, int32_t position, const int32_t *weights, int64_t *acc, int32_t *out) {
  const int32_t first = bg_attn_first(a, position), group = a->n_heads / a->n_kv_heads;
  int32_t h, t;
  for (h = 0; h < a->n_heads; ++h) {
    const int32_t *p = weights + h * a->window, shift = bg_attn_value_shift(c, a, h / group, first, position);
    int64_t sum = 0;
    for (t = first; t <= position; ++t) sum += p[t - first];
    bg_attn_value_sum(c, a, h / group, first, position, p, shift, acc);
    bg_attn_finish(a, acc, sum, shift, out + h * a->head_dim);
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

#endif /* BITGPT_ATTENTION_H */
