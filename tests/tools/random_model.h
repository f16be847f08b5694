// Deterministic random-weight models of any architecture the format allows, for tests.
#pragma once

#include <cstdint>
#include <string>

#include "ir/model.h"

namespace bitgpt {

struct RandomModelSpec {
  std::string name = "test_model";
  Architecture arch;
  WeightDType matrix_dtype = WeightDType::Ternary;
  bool per_row = false;
  std::string tokenizer = "bytes";  // bytes | table | bpe (sentencepiece-shaped, needs vocab >= 320)
  int64_t bos = 10;
  uint64_t seed = 1;
};

Model random_model(const RandomModelSpec& spec);

// A spec of this shape: d_model, layers, query and KV heads, head_dim, d_ff, vocab, context;
// sub-norms on, the other fields as RandomModelSpec has them.
RandomModelSpec shaped_spec(const std::string& name, int64_t d_model, int64_t n_layers, int64_t n_heads, int64_t n_kv_heads, int64_t head_dim,
                            int64_t d_ff, int64_t vocab_size, int64_t max_seq_len);

// The small model of the fast emitter tests: d_model 32, 2 layers, 4/2 heads of 8, d_ff 64,
// vocab 256, context 64.
inline RandomModelSpec small_spec(const std::string& name) { return shaped_spec(name, 32, 2, 4, 2, 8, 64, 256, 64); }

}  // namespace bitgpt
