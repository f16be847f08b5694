#include "ir/constants.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace bitgpt {

bg_matrix LoweredMatrix::view() const {
  bg_matrix m;
  m.data = data.data();
  m.scales = scales.data();
  m.rows = rows;
  m.cols = cols;
  m.row_bytes = row_bytes;
  m.dtype = dtype;
  m.per_row = per_row ? 1 : 0;
  return m;
}

bg_table LoweredTable::view() const {
  bg_table t;
  t.data = data.data();
  t.row_mult = row_mult.data();
  t.rows = rows;
  t.cols = cols;
  return t;
}

bg_norm_params LoweredNorm::view() const {
  bg_norm_params p;
  p.kind = kind;
  p.n = n;
  p.gain = gain.empty() ? nullptr : gain.data();
  p.bias = bias.empty() ? nullptr : bias.data();
  p.eps_q32 = eps_q32;
  p.gain_max = 0;
  for (int32_t g : gain) p.gain_max = std::max(p.gain_max, g == INT32_MIN ? INT32_MAX : std::abs(g));
  return p;
}

int64_t Constants::flash_bytes() const {
  int64_t n = tok_embeddings.flash_bytes() + (has_pos_embeddings ? pos_embeddings.flash_bytes() : 0);
  for (const LoweredMatrix& m : matrices) n += m.flash_bytes();
  if (classifier_tied) n -= static_cast<int64_t>(matrices[static_cast<size_t>(classifier)].data.size());
  for (const LoweredNorm& m : norms) n += m.flash_bytes();
  return n + static_cast<int64_t>(8 * rope_freq_q40.size());
}

bg_mult mult_from_double(double v) {
  if (!(v > 0) || !std::isfinite(v)) return {0, 0};
  int exp = 0;
  const double mant = std::frexp(v, &exp);  // v = mant * 2^exp, mant in [0.5, 1)
  const auto m = static_cast<uint64_t>(std::llround(std::ldexp(mant, BG_MULT_BITS + 8)));
  return bg_mult_normalize(m, BG_MULT_BITS + 8 - exp);
}

}  // namespace bitgpt
