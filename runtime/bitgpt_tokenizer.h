/* bitgpt_tokenizer.h - the token table in flash: decoding, and encoding by greedy
 * longest match (the lowest id wins among equally long matches). */
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
} bg_vocab;

static inline const char *bg_token_text(const bg_vocab *v, int32_t token, int32_t *len) {
  if (token < 0 || token >= v->size) { *len = 0; return ""; }
  *len = (int32_t)(v->offsets[token + 1] - v->offsets[token]);
  return (const char *)v->bytes + v->offsets[token];
}

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

/* Encodes n bytes of text into at most max tokens. Returns the token count, or
 * -1 - i when no token starts with the byte at offset i (or max is too small). */
static inline int32_t bg_encode(const bg_vocab *v, const char *text, int32_t n, int32_t *out, int32_t max) {
  int32_t at = 0, count = 0;
  while (at < n) {
    int32_t len;
    const int32_t t = bg_encode_one(v, text + at, n - at, &len);
    if (t < 0 || count >= max) return -1 - at;
    out[count++] = t;
    at += len;
  }
  return count;
}

#ifdef __cplusplus
}
#endif

#endif /* BITGPT_TOKENIZER_H */
