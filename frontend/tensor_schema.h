// The tensors an architecture needs, with their shapes and the dtypes each may have.
// The loader checks a checkpoint against this; the test-model generator fills it.
#pragma once

#include <string>
#include <vector>

#include "ir/model.h"

namespace bitgpt {

enum class TensorRole { Matrix, Table, NormGain, NormBias };

struct TensorSpec {
  std::string name;
  std::vector<int64_t> shape;
  TensorRole role;
};

std::vector<TensorSpec> tensor_schema(const Architecture& arch);

// Whether a tensor of this role may be stored as this dtype.
bool role_accepts(TensorRole role, WeightDType dtype);

}  // namespace bitgpt
