// The object backend's kernels: the runtime headers (the one definition the interpreter
// and the C++ backend use) behind one extern "C" entry point per kind of step, with
// plain pointer and int32 arguments. Never compiled into bitgptc: at bitgptc's build time
// clang-19 compiles this file to LLVM bitcode once per target and row kernel
// (cmake/kernel_bitcode.cmake); at model-compile time the object backend calls these
// functions with constant arguments, links the bitcode in and lets LLVM specialise them
// (codegen/object/model_module.cpp).
#include <stddef.h>

#include "bitgpt_fused.h"
#include "bitgpt_lut.h"
#include "bitgpt_tokenizer.h"

extern "C" {

// What the backend assumes of the runtime's structs, read back from this bitcode and
// checked against the LLVM types it builds (model_module.cpp): each struct's size, then
// its fields' offsets.
#define BGK_AT(type, field) (uint32_t) offsetof(type, field)
extern const uint32_t bgk_struct_layout[];
const uint32_t bgk_struct_layout[] = {
    sizeof(bg_mult),        BGK_AT(bg_mult, m),          BGK_AT(bg_mult, shift),
    sizeof(bg_matrix),      BGK_AT(bg_matrix, data),     BGK_AT(bg_matrix, scales),     BGK_AT(bg_matrix, rows),
    BGK_AT(bg_matrix, cols), BGK_AT(bg_matrix, row_bytes), BGK_AT(bg_matrix, dtype),    BGK_AT(bg_matrix, per_row),
    sizeof(bg_table),       BGK_AT(bg_table, data),      BGK_AT(bg_table, row_mult),    BGK_AT(bg_table, rows),
    BGK_AT(bg_table, cols),
    sizeof(bg_norm_params), BGK_AT(bg_norm_params, kind), BGK_AT(bg_norm_params, n),     BGK_AT(bg_norm_params, gain),
    BGK_AT(bg_norm_params, bias), BGK_AT(bg_norm_params, eps_q32), BGK_AT(bg_norm_params, gain_max),
    sizeof(bg_kv_layer),    BGK_AT(bg_kv_layer, k),      BGK_AT(bg_kv_layer, v),        BGK_AT(bg_kv_layer, k_scale),
    BGK_AT(bg_kv_layer, v_scale),
    sizeof(bg_attn_shape),  BGK_AT(bg_attn_shape, n_heads), BGK_AT(bg_attn_shape, n_kv_heads), BGK_AT(bg_attn_shape, head_dim),
    BGK_AT(bg_attn_shape, window), BGK_AT(bg_attn_shape, kv_bits), BGK_AT(bg_attn_shape, score_mult),
    sizeof(bg_vocab),       BGK_AT(bg_vocab, bytes),     BGK_AT(bg_vocab, offsets),     BGK_AT(bg_vocab, size),
    BGK_AT(bg_vocab, sorted), BGK_AT(bg_vocab, sorted_count), BGK_AT(bg_vocab, merge_rank), BGK_AT(bg_vocab, byte_token),
    BGK_AT(bg_vocab, dummy_prefix), BGK_AT(bg_vocab, bos),
};

// ---- steps (interp/interpreter.cpp executes the same calls) ----

void bgk_embed(int32_t *x, const bg_table *tok, const bg_table *pos, int32_t token, int32_t position) {
  bg_op_embed(x, tok, pos, token, position);
}
void bgk_norm(const int32_t *x, const bg_norm_params *p, int32_t *y) { bg_op_norm(x, p, y); }
void bgk_quantize(const int32_t *y, int32_t n, int8_t *q, int32_t *amax) { bg_op_quantize(y, n, q, amax); }
void bgk_norm_quantize(const int32_t *x, const bg_norm_params *p, int8_t *q, int32_t *amax) { bg_fused_norm_quantize(x, p, q, amax); }
void bgk_norm_quantize_via(const int32_t *x, const bg_norm_params *p, int32_t *y, int8_t *q, int32_t *amax) {
  bg_fused_norm_quantize_via(x, p, y, q, amax);
}
void bgk_matvec(const bg_matrix *w, const int8_t *x, const int32_t *amax, int32_t *out, int32_t accumulate) {
  bg_op_matvec(w, x, *amax, out, accumulate);
}
void bgk_lut_matvec(const bg_matrix *w, const int8_t *x, const int32_t *amax, int32_t *out, int32_t accumulate, uint16_t *table,
                    int32_t *partial, int32_t chunk, int32_t paired) {
  const bg_lut_scratch lut = {table, partial, chunk, paired};
  bg_lut_op_matvec(w, x, *amax, out, accumulate, &lut);
}
void bgk_matvecs(const bg_matrix *w1, const bg_matrix *w2, const bg_matrix *w3, const int8_t *x, const int32_t *amax, int32_t *out1,
                 int32_t *out2, int32_t *out3) {
  bg_op_matvecs(w1, w2, w3, x, *amax, out1, out2, out3);
}
void bgk_lut_matvecs(const bg_matrix *w1, const bg_matrix *w2, const bg_matrix *w3, const int8_t *x, const int32_t *amax, int32_t *out1,
                     int32_t *out2, int32_t *out3, uint16_t *table, int32_t *partial, int32_t chunk, int32_t paired) {
  const bg_lut_scratch lut = {table, partial, chunk, paired};
  bg_lut_op_matvecs(w1, w2, w3, x, *amax, out1, out2, out3, &lut);
}
void bgk_ffn_up(const bg_matrix *w1, const bg_matrix *w3, int32_t act, const int8_t *x, const int32_t *amax, int32_t *h) {
  bg_fused_ffn_up(w1, w3, act, x, *amax, h);
}
void bgk_lut_ffn_up(const bg_matrix *w1, const bg_matrix *w3, int32_t act, const int8_t *x, const int32_t *amax, int32_t *h,
                    uint16_t *table, int32_t *partial, int32_t chunk, int32_t paired) {
  const bg_lut_scratch lut = {table, partial, chunk, paired};
  bg_lut_fused_ffn_up(w1, w3, act, x, *amax, h, &lut);
}
void bgk_add(const int32_t *a, const int32_t *b, int32_t *out, int32_t n) { bg_op_add(a, b, out, n); }
void bgk_mul(const int32_t *a, const int32_t *b, int32_t *out, int32_t n) { bg_op_mul(a, b, out, n); }
void bgk_activation(int32_t kind, const int32_t *x, int32_t *out, int32_t n) { bg_op_activation(kind, x, out, n); }
void bgk_rope_angles(int32_t *cs, const uint64_t *freq_q40, int32_t pairs, int32_t position) {
  bg_op_rope_angles(cs, freq_q40, pairs, position);
}
void bgk_rope(int32_t *v, int32_t n_heads, int32_t head_dim, const int32_t *cs) { bg_op_rope(v, n_heads, head_dim, cs); }
void bgk_kv_write(const bg_kv_layer *c, const bg_attn_shape *a, int32_t position, const int32_t *k, const int32_t *v) {
  bg_op_kv_write(c, a, position, k, v);
}
void bgk_attn_scores(const bg_kv_layer *c, const bg_attn_shape *a, int32_t position, const int32_t *q, int8_t *q8, int32_t *scores) {
  bg_op_attn_scores(c, a, position, q, q8, scores);
}
void bgk_attn_softmax(const bg_attn_shape *a, int32_t position, int32_t *scores) { bg_op_attn_softmax(a, position, scores); }
void bgk_attn_weighted_sum(const bg_kv_layer *c, const bg_attn_shape *a, int32_t position, const int32_t *weights, int64_t *acc,
                           int32_t *out) {
  bg_op_attn_weighted_sum(c, a, position, weights, acc, out);
}
void bgk_attention(const bg_kv_layer *c, const bg_attn_shape *a, int32_t position, const int32_t *q, int8_t *q8, int64_t *acc,
                   int32_t *scores, int32_t *out) {
  bg_fused_attention(c, a, position, q, q8, acc, scores, out);
}
int32_t bgk_sample(const int32_t *logits, int32_t n, int32_t temperature_q16, uint64_t *rng, uint64_t *checksum) {
  return bg_op_sample(logits, n, temperature_q16, rng, checksum);
}
int32_t bgk_classify_sample(const bg_matrix *w, const int8_t *x, uint32_t *x_pairs, const int32_t *amax, int32_t temperature_q16, uint64_t *rng,
                            uint64_t *checksum) {
  return bg_fused_classify_sample(w, x, x_pairs, *amax, temperature_q16, rng, checksum);
}

// ---- the text half of the C API ----

const char *bgk_token_text(const bg_vocab *v, int32_t token, int32_t *len) { return bg_token_text(v, token, len); }
const char *bgk_decode(const bg_vocab *v, int32_t prev, int32_t token, int32_t *len) { return bg_decode(v, prev, token, len); }
int32_t bgk_encode(const bg_vocab *v, const char *text, int32_t n, int32_t *tokens, int32_t max_tokens, int32_t *bad_offset) {
  return bg_encode(v, text, n, tokens, max_tokens, bad_offset);
}
int32_t bgk_feed_text(const bg_vocab *v, const char *text, int32_t n, int32_t *bad_offset, int32_t *buffer, int32_t max_bytes,
                      bg_feed_fn feed) {
  return bg_feed_text(v, text, n, bad_offset, buffer, max_bytes, feed);
}
int32_t bgk_parse_temperature(const char *text) { return bg_parse_q16(text); }

}  // extern "C"
