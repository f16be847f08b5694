/* bitgpt_tokenizer.h - the token table in flash: decoding, and encoding by one of two
 * rules chosen at compile time:
 *  - table: greedy longest match (the lowest id wins among equally long matches), which
 *    streams one token at a time and needs no buffer;
 *  - bpe: sentencepiece byte-pair encoding as llama2.c runs it. A space is put before
 *    non-empty text; each UTF-8 code point becomes its token, or one byte-fallback token
 *    per byte when the vocabulary has none; then the adjacent pair whose concatenation is
 *    the token with the highest merge rank is merged, leftmost first, until none is left.
 *    Merge ranks are the order of the checkpoint's float scores, made integer at compile
 *    time. Byte-fallback tokens never merge (their text in the checkpoint is "<0xNN>").
 *    Encoding works in place in a buffer of one token per byte of text, plus one. */
#ifndef BITGPT_TOKENIZER_H
#define BITGPT_TOKENIZER_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bg_vocab {
  const uint8_t *bytes;    /* every token's bytes, concatenated */
  const uint32_t *offsets; /* size + 1 entries: token i is bytes[offsets[i], offsets[i+1]) */
  int32_t size;
  /* BPE only (sorted == 0 for a table tokenizer) */
  const uint16_t *sorted;      /* the tokens a code point or a merge can produce, by text (bytewise) */
  int32_t sorted_count;
  const uint16_t *merge_rank;  /* per token: higher merges first; 0 never merges */
  const uint16_t *byte_token;  /* [256]: the byte-fallback token of each byte value, or BG_NO_TOKEN */
  int32_t dummy_prefix;        /* the token put before non-empty text, or -1 */
  int32_t bos;                 /* after it, a decoded leading space is dropped */
} bg_vocab;

#define BG_NO_TOKEN 0xFFFFu

/* Error codes of bg_encode and of the emitted <name>_feed_text. */
#define BG_TEXT_UNCOVERED (-1)    /* a byte no token covers */
#define BG_TEXT_CONTEXT_FULL (-2) /* a learned-position model used all its positions */
#define BG_TEXT_TOO_LONG (-3)     /* more tokens (or bytes) than the buffer holds */

static inline const char *bg_token_text(const bg_vocab *v, int32_t token, int32_t *len) {
  if (token < 0 || token >= v->size) { *len = 0; return ""; }
  *len = (int32_t)(v->offsets[token + 1] - v->offsets[token]);
  return (const char *)v->bytes + v->offsets[token];
}

/* The text to print for token after prev: sentencepiece drops the leading space of the
 * first token after the start token (that space is the dummy prefix). */
static inline const char *bg_decode(const bg_vocab *v, int32_t prev, int32_t token, int32_t *len) {
  const char *s = bg_token_text(v, token, len);
  if (v->sorted && prev == v->bos && *len > 0 && s[0] == ' ') { ++s; --*len; }
  return s;
}

/* ---- table: greedy longest match ---- */

/* The token that the greedy longest match takes at the start of n bytes of text, or -1
 * when no token starts with text[0]; *len receives its length in bytes. */
static inline int32_t bg_encode_one(const bg_vocab *v, const char *text, int32_t n, int32_t *len) {
  int32_t best = -1, best_len = 0, t;
  for (t = 0; t < v->size; ++t) {
    const int32_t tl = (int32_t)(v->offsets[t + 1] - v->offsets[t]);
    int32_t k = 0;
    if (tl <= best_len || tl > n) continue;
    while (k < tl && v->bytes[v->offsets[t] + k] == (uint8_t)text[k]) ++k;
    if (k == tl) { best = t; best_len = tl; }
  }
  *len = best_len;
  return best;
}

/* ---- bpe ---- */

/* Compares token t's text with the concatenation a[0..na) b[0..nb), bytewise. */
static inline int bg_compare_text(const bg_vocab *v, int32_t t, const uint8_t *a, int32_t na, const uint8_t *b, int32_t nb) {
  const uint8_t *s = v->bytes + v->offsets[t];
  const int32_t ns = (int32_t)(v->offsets[t + 1] - v->offsets[t]);
  int32_t i;
  for (i = 0; i < ns && i < na + nb; ++i) {
    const uint8_t c = i < na ? a[i] : b[i - na];
    if (s[i] != c) return s[i] < c ? -1 : 1;
  }
  return ns < na + nb ? -1 : (ns > na + nb ? 1 : 0);
}

/* The token whose text is a followed by b, or -1 (binary search over v->sorted). */
static inline int32_t bg_find_text(const bg_vocab *v, const uint8_t *a, int32_t na, const uint8_t *b, int32_t nb) {
  int32_t lo = 0, hi = v->sorted_count;
  while (lo < hi) {
    const int32_t mid = lo + (hi - lo) / 2;
    const int c = bg_compare_text(v, v->sorted[mid], a, na, b, nb);
    if (c == 0) return v->sorted[mid];
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  return -1;
}

static inline int bg_is_byte_token(const bg_vocab *v, int32_t t) {
  return v->offsets[t + 1] - v->offsets[t] == 1 && v->byte_token[v->bytes[v->offsets[t]]] == t;
}

static inline int32_t bg_bpe_encode(const bg_vocab *v, const char *text, int32_t n, int32_t *out, int32_t max, int32_t *bad_offset) {
  const uint8_t *u = (const uint8_t *)text;
  int32_t count = 0, at = 0, i;
  if (n > 0 && v->dummy_prefix >= 0) {
    if (max < 1) return BG_TEXT_TOO_LONG;
    out[count++] = v->dummy_prefix;
  }
  while (at < n) { /* one code point: a byte and up to three continuation bytes */
    int32_t len = 1, t;
    while (len < 4 && at + len < n && (u[at + len] & 0xC0) == 0x80) ++len;
    t = bg_find_text(v, u + at, len, u, 0);
    if (t >= 0) {
      if (count >= max) return BG_TEXT_TOO_LONG;
      out[count++] = t;
    } else {
      for (i = 0; i < len; ++i) {
        if (v->byte_token[u[at + i]] == BG_NO_TOKEN) { *bad_offset = at + i; return BG_TEXT_UNCOVERED; }
        if (count >= max) return BG_TEXT_TOO_LONG;
        out[count++] = v->byte_token[u[at + i]];
      }
    }
    at += len;
  }
  /* Merge the best adjacent pair, leftmost among equals. A merge leaves a hole (-1)
   * where the right token was; holes are squeezed out at the end (a shifting loop here
   * would let the compiler call memmove, which the runtime does not link). */
  for (;;) {
    int32_t best_rank = 0, best_at = -1, best_next = -1, best_token = -1, j;
    for (i = 0; i < count; i = j) {
      int32_t la, lb, t;
      const char *a, *b;
      for (j = i + 1; j < count && out[j] < 0; ++j) {}
      if (j >= count) break;
      if (out[i] < 0 || bg_is_byte_token(v, out[i]) || bg_is_byte_token(v, out[j])) continue;
      a = bg_token_text(v, out[i], &la);
      b = bg_token_text(v, out[j], &lb);
      t = bg_find_text(v, (const uint8_t *)a, la, (const uint8_t *)b, lb);
      if (t >= 0 && v->merge_rank[t] > best_rank) {
        best_rank = v->merge_rank[t];
        best_at = i;
        best_next = j;
        best_token = t;
      }
    }
    if (best_at < 0) break;
    out[best_at] = best_token;
    out[best_next] = -1;
  }
  {
    int32_t kept = 0;
    for (i = 0; i < count; ++i)
      if (out[i] >= 0) out[kept++] = out[i];
    count = kept;
  }
  return count;
}

/* Encodes n bytes of text into at most max tokens with the vocabulary's rule. Returns the
 * token count; BG_TEXT_TOO_LONG when max is too small (BPE needs n + 1 while it works);
 * BG_TEXT_UNCOVERED with *bad_offset set when no token covers the byte there. */
static inline int32_t bg_encode(const bg_vocab *v, const char *text, int32_t n, int32_t *out, int32_t max, int32_t *bad_offset) {
  int32_t at = 0, count = 0;
  if (v->sorted) return bg_bpe_encode(v, text, n, out, max, bad_offset);
  while (at < n) {
    int32_t len;
    const int32_t t = bg_encode_one(v, text + at, n - at, &len);
    if (t < 0) { *bad_offset = at; return BG_TEXT_UNCOVERED; }
    if (count >= max) return BG_TEXT_TOO_LONG;
    out[count++] = t;
    at += len;
  }
  return count;
}

/* The model's feed: 0, or -2 when the context is full (NAME_feed of the C API). */
typedef int (*bg_feed_fn)(int32_t token);

/* NAME_feed_text of the C API, for both backends. BPE merges the whole text in `buffer`
 * (max_bytes + 1 tokens) before feeding it; a table tokenizer encodes and feeds one token
 * at a time and needs no buffer. Returns the tokens fed, or BG_TEXT_TOO_LONG,
 * BG_TEXT_UNCOVERED (*bad_offset set) or BG_TEXT_CONTEXT_FULL. */
static inline int32_t bg_feed_text(const bg_vocab *v, const char *text, int32_t n, int32_t *bad_offset, int32_t *buffer,
                                   int32_t max_bytes, bg_feed_fn feed) {
  int32_t at = 0, count = 0, i;
  if (v->sorted) {
    if (n > max_bytes) return BG_TEXT_TOO_LONG;
    count = bg_encode(v, text, n, buffer, max_bytes + 1, bad_offset);
    for (i = 0; i < count; ++i)
      if (feed(buffer[i]) == -2) return BG_TEXT_CONTEXT_FULL;
    return count;
  }
  while (at < n) {
    int32_t len;
    const int32_t token = bg_encode_one(v, text + at, n - at, &len);
    if (token < 0) {
      *bad_offset = at;
      return BG_TEXT_UNCOVERED;
    }
    if (feed(token) == -2) return BG_TEXT_CONTEXT_FULL;
    at += len;
    ++count;
  }
  return count;
}

#ifdef __cplusplus
}
#endif

#endif /* BITGPT_TOKENIZER_H */
