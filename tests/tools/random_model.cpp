#include "tests/tools/random_model.h"

#include <cmath>
#include <random>

#include "frontend/tensor_schema.h"

namespace bitgpt {

Model random_model(const RandomModelSpec& s) {
  const Architecture& a = s.arch;
  std::mt19937_64 rng(s.seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  Model m;
  m.name = s.name;
  m.arch = a;
  m.tokenizer.bos = std::min<int64_t>(s.bos, a.vocab_size - 1);
  for (int64_t i = 0; i < a.vocab_size; ++i) {
    if (s.table_tokenizer) {
      // printable characters, then a few two-character pieces so longest match matters
      static const std::string alpha = " etaoinshrdlucmfwypvbgkjqxz.,\n";
      const int64_t k = static_cast<int64_t>(alpha.size());
      m.tokenizer.pieces.push_back(i < k ? alpha.substr(i, 1) : alpha.substr(i % k, 1) + alpha.substr((i / k) % k, 1));
    } else {
      m.tokenizer.pieces.push_back(i < 256 ? std::string(1, static_cast<char>(i)) : "");
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

}  // namespace bitgpt
