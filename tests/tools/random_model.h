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

}  // namespace bitgpt
