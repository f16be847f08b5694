#include "ir/model.h"

#include "support/diagnostics.h"

namespace bitgpt {

double Tensor::at(int64_t r, int64_t c) const {
  const int64_t i = r * cols() + c;
  if (dtype == WeightDType::F32) return values[i];
  const float s = scales.size() == 1 ? scales[0] : scales[r];
  return static_cast<double>(codes[i]) * s;
}

const Tensor& Model::tensor(const std::string& name) const {
  auto it = tensors.find(name);
  if (it == tensors.end()) fail(source, "tensors", "missing tensor '" + name + "'");
  return it->second;
}

int64_t Model::parameters() const {
  int64_t n = 0;
  for (const auto& [name, t] : tensors) n += t.elements();
  return n;
}

const char* dtype_name(WeightDType t) {
  switch (t) {
    case WeightDType::F32: return "f32";
    case WeightDType::Int8: return "int8";
    case WeightDType::Ternary: return "ternary";
    case WeightDType::Binary: return "binary";
  }
  return "?";
}

int64_t dtype_row_bytes(WeightDType t, int64_t cols) {
  switch (t) {
    case WeightDType::F32: return 4 * cols;
    case WeightDType::Int8: return cols;
    case WeightDType::Ternary: return (cols + 3) / 4;
    case WeightDType::Binary: return (cols + 7) / 8;
  }
  return 0;
}

}  // namespace bitgpt
