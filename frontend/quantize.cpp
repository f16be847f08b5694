#include "frontend/quantize.h"

#include <algorithm>
#include <cmath>

namespace bitgpt {

int ternarize_matrices(Model& model) {
  int changed = 0;
  for (auto& [name, t] : model.tensors) {
    if (name.rfind("layers.", 0) != 0 || t.shape.size() != 2 || t.dtype == WeightDType::Ternary) continue;
    double sum = 0;
    for (int64_t r = 0; r < t.rows(); ++r)
      for (int64_t c = 0; c < t.cols(); ++c) sum += std::fabs(t.at(r, c));
    const double s = sum / static_cast<double>(t.elements());
    std::vector<int8_t> codes(static_cast<size_t>(t.elements()));
    for (int64_t r = 0; r < t.rows(); ++r)
      for (int64_t c = 0; c < t.cols(); ++c)
        codes[static_cast<size_t>(r * t.cols() + c)] = s > 0 ? static_cast<int8_t>(std::clamp<long>(std::lround(t.at(r, c) / s), -1, 1)) : 0;
    t.codes = std::move(codes);
    t.values.clear();
    t.scales = {static_cast<float>(s)};
    t.dtype = WeightDType::Ternary;
    ++changed;
  }
  return changed;
}

}  // namespace bitgpt
