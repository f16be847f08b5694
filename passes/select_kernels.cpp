#include "passes/select_kernels.h"

#include <algorithm>

namespace bitgpt {

using namespace ir;

namespace {

bool ternary_product(const Graph& g, const Op& op) {
  if (op.kind != OpKind::MatMul && op.kind != OpKind::FfnUp) return false;
  if (g.constants.matrices[op.matrix].dtype != BG_W_TERNARY2) return false;
  return op.matrix2 < 0 || g.constants.matrices[op.matrix2].dtype == BG_W_TERNARY2;
}

}  // namespace

bool read_by_lut4(const Graph& g, int matrix) {
  for (const Op& op : g.ops)
    if (op.kernel == Kernel::Lut4 && (op.matrix == matrix || op.matrix2 == matrix)) return true;
  return false;
}

int lut4_chunk_of(const Graph& g, int matrix) {
  for (const Op& op : g.ops)
    if (op.kernel == Kernel::Lut4 && (op.matrix == matrix || op.matrix2 == matrix)) return op.lut_chunk;
  return 0;
}

int max_lut_groups(const Graph& g) {
  int most = 0;
  for (const Op& op : g.ops)
    if (ternary_product(g, op)) most = std::max(most, (g.constants.matrices[op.matrix].cols + 3) / 4);
  return most;
}

void select_kernels(Graph& g, const KernelChoice& choice) {
  for (Op& op : g.ops) {
    if (!ternary_product(g, op) || choice.kernel != Kernel::Lut4) continue;
    const LoweredMatrix& m = g.constants.matrices[op.matrix];
    const int groups = (m.cols + 3) / 4;
    op.kernel = Kernel::Lut4;
    op.lut_chunk = std::min(groups, choice.lut_chunk);
    op.scratch.push_back(g.add_value(op.label + ".lut", ValueType::Lut16, int64_t{op.lut_chunk} * BG_LUT_ENTRIES));
    if (groups > op.lut_chunk)
      op.scratch.push_back(g.add_value(op.label + ".partial", ValueType::Act, int64_t{m.rows} * (op.matrix2 >= 0 ? 2 : 1)));
  }
}

}  // namespace bitgpt
