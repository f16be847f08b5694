#include "passes/select_kernels.h"

#include <algorithm>

namespace bitgpt {

using namespace ir;

namespace {

bool ternary_product(const Graph& g, const Op& op) {
  if (op.kind != OpKind::MatMul && op.kind != OpKind::FfnUp && op.kind != OpKind::SharedMatMul) return false;
  return std::ranges::all_of(op.matrices(), [&](int m) { return g.constants.matrices[m].dtype == BG_W_TERNARY2; });
}

int groups_of(const Graph& g, const Op& op) { return (g.constants.matrices[op.matrix].cols + 3) / 4; }

}  // namespace

int lut_chunk_for(const Graph& g, const Op& op, int requested) { return std::min({groups_of(g, op), requested, BG_LUT_MAX_CHUNK}); }

std::vector<int> ternary_products(const Graph& g) {
  std::vector<int> ops;
  for (int i = 0; i < static_cast<int>(g.ops.size()); ++i)
    if (ternary_product(g, g.ops[i])) ops.push_back(i);
  return ops;
}

LutPartials lut_partials(const Graph& g, const Op& op) {
  if (op.kernel != Kernel::Lookup || groups_of(g, op) <= op.lut_chunk) return LutPartials::None;
  if (op.accumulate) return LutPartials::Scratch;
  if (op.kind == OpKind::SharedMatMul) return LutPartials::InOutput;  // each output its own
  if (op.kind == OpKind::FfnUp && op.matrix2 >= 0)
    return g.constants.matrices[op.matrix].cols <= 258 ? LutPartials::PairedInOutput : LutPartials::Scratch;
  return LutPartials::InOutput;
}

void set_kernel(Graph& g, int op_index, const KernelChoice& choice, Kernel row_kernel) {
  Op& op = g.ops[op_index];
  std::erase_if(op.scratch, [&](ValueId v) { return v == op.lut_tables || v == op.lut_partials; });
  op.kernel = row_kernel;
  op.lut_chunk = 0;
  op.lut_tables = op.lut_partials = kNoValue;
  if (!choice.lookup || !ternary_product(g, op)) return;
  op.kernel = Kernel::Lookup;
  op.lut_chunk = lut_chunk_for(g, op, choice.lut_chunk);
  op.lut_tables = g.add_value(op.label + ".lut", ValueType::Lut16, int64_t{op.lut_chunk} * BG_LUT_GROUP);
  op.scratch.push_back(op.lut_tables);
  if (lut_partials(g, op) == LutPartials::Scratch) {
    op.lut_partials = g.add_value(op.label + ".partial", ValueType::Act, g.product_rows(op));
    op.scratch.push_back(op.lut_partials);
  }
}

void select_kernels(Graph& g, const KernelChoice& choice, Kernel row_kernel) {
  for (int op : ternary_products(g)) set_kernel(g, op, choice, row_kernel);
}

void set_row_kernel(Graph& g, Kernel row_kernel) {
  for (Op& op : g.ops)
    if (op.reads_matrix() && op.kernel != Kernel::Lookup) op.kernel = row_kernel;
}

bool read_by_lut4(const Graph& g, int matrix) {
  for (const Op& op : g.ops)
    if (op.kernel == Kernel::Lookup && std::ranges::count(op.matrices(), matrix)) return true;
  return false;
}

int lut4_chunk_of(const Graph& g, int matrix) {
  for (const Op& op : g.ops)
    if (op.kernel == Kernel::Lookup && std::ranges::count(op.matrices(), matrix)) return op.lut_chunk;
  return 0;
}

int max_lut_groups(const Graph& g) {
  int most = 0;
  for (int op : ternary_products(g)) most = std::max(most, groups_of(g, g.ops[op]));
  return most;
}

}  // namespace bitgpt
