#include "frontend/quantize.h"

#include <algorithm>
#include <cmath>

namespace bitgpt {

bool ternary_from_one_magnitude(Tensor& t) {
  if (t.dtype != WeightDType::F32) return false;
  float s = 0;
  for (float v : t.values) {
    const float a = std::fabs(v);
    if (a == 0) continue;
    if (s == 0) s = a;
    if (a != s) return false;
  }
  if (s == 0) return false;
  t.codes.resize(t.values.size());
  bool zero = false;
  for (size_t i = 0; i < t.values.size(); ++i) {
    t.codes[i] = static_cast<int8_t>(t.values[i] > 0 ? 1 : t.values[i] < 0 ? -1 : 0);
    zero = zero || t.codes[i] == 0;
  }
  t.dtype = zero ? WeightDType::Ternary : WeightDType::Binary;  // no zero at all: one bit per weight
  t.scales = {s};
  t.values.clear();
  return true;
}

void ternarize_absmean(Tensor& t) {
  // As BitNet's reference (PyTorch) computes it: the scale in float32, the quotient in
  // float32, rounded half to even.
  double sum = 0;
  for (int64_t r = 0; r < t.rows(); ++r)
    for (int64_t c = 0; c < t.cols(); ++c) sum += std::fabs(t.at(r, c));
  const float s = static_cast<float>(sum / static_cast<double>(t.elements()));
  std::vector<int8_t> codes(static_cast<size_t>(t.elements()));
  for (int64_t r = 0; r < t.rows(); ++r)
    for (int64_t c = 0; c < t.cols(); ++c)
      codes[static_cast<size_t>(r * t.cols() + c)] = s > 0 ? static_cast<int8_t>(std::clamp(std::nearbyint(static_cast<float>(t.at(r, c)) / s), -1.0f, 1.0f)) : 0;
  t.codes = std::move(codes);
  t.values.clear();
  t.scales = {s};
  t.dtype = WeightDType::Ternary;
}

int ternarize_matrices(Model& model) {
  int changed = 0;
  for (auto& [name, t] : model.tensors) {
    if (name.rfind("layers.", 0) != 0 || t.shape.size() != 2 || t.dtype == WeightDType::Ternary) continue;
    ternarize_absmean(t);
    ++changed;
  }
  return changed;
}

}  // namespace bitgpt
