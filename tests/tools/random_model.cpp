#include "tests/tools/random_model.h"

#include <cmath>
#include <random>

#include "support/diagnostics.h"
#include "frontend/tensor_schema.h"

namespace bitgpt {

namespace {

// Laid out as llama2.c's tokenizers are: <unk> <s> </s>, the 256 byte-fallback tokens,
// the space, lower-case letters and punctuation, then merges in priority order (BOS 1).
Tokenizer bpe_tokenizer(int64_t vocab_size) {
  static const char* const kMerges[] = {" t", "th", "he", " the", "in", " a", "an", "er", "on", "ing", " s", "re", "nd", " and",
                                        "ou", " w", "ed", " h", "is", "it", " o", " c", "en", "at", " b", "or", "es", "ll", " f", " m"};
  Tokenizer t;
  t.kind = TokenizerKind::Bpe;
  t.bos = 1;
  auto add = [&](const std::string& piece, float score, bool byte) {
    t.pieces.push_back(piece);
    t.scores.push_back(score);
    t.byte_fallback.push_back(byte);
  };
  for (int i = 0; i < 3; ++i) add("", 0.0f, false);
  for (int b = 0; b < 256; ++b) add(std::string(1, static_cast<char>(b)), 0.0f, true);
  for (char ch : std::string(" etaoinshrdlucmfwypvbgkjqxz.,'")) add(std::string(1, ch), -1000.0f, false);
  float score = 0.0f;
  for (const char* m : kMerges) add(m, score -= 1.0f, false);
  if (static_cast<int64_t>(t.pieces.size()) > vocab_size) throw Error("--tokenizer bpe needs --vocab " + std::to_string(t.pieces.size()) + " or more");
  while (static_cast<int64_t>(t.pieces.size()) < vocab_size) add("", -1e30f, false);
  return t;
}

}  // namespace

Model random_model(const RandomModelSpec& s) {
  const Architecture& a = s.arch;
  std::mt19937_64 rng(s.seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  Model m;
  m.name = s.name;
  m.arch = a;
  m.tokenizer.bos = std::min<int64_t>(s.bos, a.vocab_size - 1);
  if (s.tokenizer == "bpe") {
    m.tokenizer = bpe_tokenizer(a.vocab_size);
  } else {
    for (int64_t i = 0; i < a.vocab_size; ++i) {
      if (s.tokenizer == "table") {
      // printable characters, then a few two-character pieces so longest match matters
      static const std::string alpha = " etaoinshrdlucmfwypvbgkjqxz.,\n";
      const int64_t k = static_cast<int64_t>(alpha.size());
      m.tokenizer.pieces.push_back(i < k ? alpha.substr(i, 1) : alpha.substr(i % k, 1) + alpha.substr((i / k) % k, 1));
      } else {
        m.tokenizer.pieces.push_back(i < 256 ? std::string(1, static_cast<char>(i)) : "");
      }
    }
  }
  for (const TensorSpec& spec : tensor_schema(a)) {
    Tensor t;
    t.name = spec.name;
    t.shape = spec.shape;
    const int64_t n = t.rows() * t.cols();
    if (spec.role == TensorRole::NormGain || spec.role == TensorRole::NormBias) {
      t.dtype = WeightDType::F32;
      for (int64_t i = 0; i < n; ++i) t.values.push_back(static_cast<float>((spec.role == TensorRole::NormGain ? 1.0 : 0.0) + 0.1 * normal(rng)));
    } else if (spec.role == TensorRole::Table) {
      t.dtype = WeightDType::F32;
      for (int64_t i = 0; i < n; ++i) t.values.push_back(static_cast<float>(normal(rng)));
    } else {
      t.dtype = s.matrix_dtype;
      const double sd = 1.0 / std::sqrt(static_cast<double>(t.cols()));
      if (s.matrix_dtype == WeightDType::F32) {
        for (int64_t i = 0; i < n; ++i) t.values.push_back(static_cast<float>(sd * normal(rng)));
      } else {
        std::uniform_int_distribution<int> code(s.matrix_dtype == WeightDType::Int8 ? -127 : -1, s.matrix_dtype == WeightDType::Int8 ? 127 : 1);
        for (int64_t i = 0; i < n; ++i) {
          int c = code(rng);
          if (s.matrix_dtype == WeightDType::Binary && c == 0) c = 1;
          t.codes.push_back(static_cast<int8_t>(c));
        }
        const double unit = s.matrix_dtype == WeightDType::Int8 ? sd / 73.0 : sd * (s.matrix_dtype == WeightDType::Binary ? 1.0 : 1.22);
        const int64_t scales = s.per_row ? t.rows() : 1;
        for (int64_t r = 0; r < scales; ++r) t.scales.push_back(static_cast<float>(unit * (s.per_row ? 0.5 + (r % 7) / 7.0 : 1.0)));
      }
    }
    m.tensors.emplace(t.name, std::move(t));
  }
  return m;
}

RandomModelSpec shaped_spec(const std::string& name, int64_t d_model, int64_t n_layers, int64_t n_heads, int64_t n_kv_heads, int64_t head_dim,
                            int64_t d_ff, int64_t vocab_size, int64_t max_seq_len) {
  RandomModelSpec s;
  s.name = name;
  s.arch.d_model = d_model;
  s.arch.n_layers = n_layers;
  s.arch.n_heads = n_heads;
  s.arch.n_kv_heads = n_kv_heads;
  s.arch.head_dim = head_dim;
  s.arch.d_ff = d_ff;
  s.arch.vocab_size = vocab_size;
  s.arch.max_seq_len = max_seq_len;
  s.arch.sub_norm = true;
  return s;
}

}  // namespace bitgpt
