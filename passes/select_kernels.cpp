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

int groups_of(const Graph& g, const Op& op) { return (g.constants.matrices[op.matrix].cols + 3) / 4; }

bool is_lut_scratch(const Graph& g, ValueId v) {
  const std::string& name = g.values[v].name;
  auto ends_with = [&](const std::string& tail) { return name.size() >= tail.size() && name.compare(name.size() - tail.size(), tail.size(), tail) == 0; };
  return ends_with(".lut") || ends_with(".partial");
}

}  // namespace

std::vector<int> ternary_products(const Graph& g) {
  std::vector<int> ops;
  for (int i = 0; i < static_cast<int>(g.ops.size()); ++i)
    if (ternary_product(g, g.ops[i])) ops.push_back(i);
  return ops;
}

LutPartials lut_partials(const Graph& g, const Op& op) {
  if (op.kernel != Kernel::Lut4 || groups_of(g, op) <= op.lut_chunk) return LutPartials::None;
  if (op.accumulate) return LutPartials::Scratch;
  if (op.kind == OpKind::FfnUp && op.matrix2 >= 0)
    return g.constants.matrices[op.matrix].cols <= 258 ? LutPartials::PairedInOutput : LutPartials::Scratch;
  return LutPartials::InOutput;
}

void set_kernel(Graph& g, int op_index, const KernelChoice& choice) {
  Op& op = g.ops[op_index];
  op.scratch.erase(std::remove_if(op.scratch.begin(), op.scratch.end(), [&](ValueId v) { return is_lut_scratch(g, v); }), op.scratch.end());
  op.kernel = Kernel::Portable;
  op.lut_chunk = 0;
  if (choice.kernel != Kernel::Lut4 || !ternary_product(g, op)) return;
  const LoweredMatrix& m = g.constants.matrices[op.matrix];
  op.kernel = Kernel::Lut4;
  op.lut_chunk = std::min(groups_of(g, op), choice.lut_chunk);
  op.scratch.push_back(g.add_value(op.label + ".lut", ValueType::Lut16, int64_t{op.lut_chunk} * BG_LUT_GROUP));
  if (lut_partials(g, op) == LutPartials::Scratch)
    op.scratch.push_back(g.add_value(op.label + ".partial", ValueType::Act, int64_t{m.rows} * (op.matrix2 >= 0 ? 2 : 1)));
}

void select_kernels(Graph& g, const KernelChoice& choice) {
  for (int op : ternary_products(g)) set_kernel(g, op, choice);
}

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
  for (int op : ternary_products(g)) most = std::max(most, groups_of(g, g.ops[op]));
  return most;
}

}  // namespace bitgpt
