#include "passes/kernel_cost.h"

#include <algorithm>
#include <limits>

namespace bitgpt {

double product_cost(const ir::Graph& g, const ir::Op& op, const KernelChoice& choice, const DotCosts& costs) {
  const LoweredMatrix& m = g.constants.matrices[op.matrix];
  const double rows = static_cast<double>(g.product_rows(op));  // w1 and w3, or wq, wk and wv, share the tables
  const int groups = (m.cols + 3) / 4;
  if (!choice.lookup) return rows * (m.cols * costs.row_per_weight + costs.row_per_row);
  const int chunk = lut_chunk_for(g, op, choice.lut_chunk);
  const int chunks = (groups + chunk - 1) / chunk, last = groups - (chunks - 1) * chunk;
  // The lookup kernel sums chunks of 16, 8 and 4 groups as straight code, two rows at a
  // time, and whole passes of 16 in a loop; any other size, and the whole input at once
  // unless it is whole passes, tests its last lookups row by row (runtime/bitgpt_lut.h).
  const auto straight = [&](int n) { return chunks > 1 && (n == 16 || n == 8 || n == 4); };
  const auto tested = [&](int n) { return n % 16 != 0 && !straight(n); };
  const auto per_row = [&](int n) {
    return (straight(n) ? costs.lut_per_row_straight_chunk : costs.lut_per_row_chunk) + (tested(n) ? costs.lut_tail_per_row_chunk : 0);
  };
  return rows * (groups * costs.lut_per_group + (chunks - 1) * per_row(chunk) + per_row(last)) + groups * costs.lut_build_per_group;
}

double products_cost(const ir::Graph& g, const DotCosts& costs) {
  double sum = 0;
  for (int op : ternary_products(g)) sum += product_cost(g, g.ops[op], {g.ops[op].kernel == ir::Kernel::Lookup, g.ops[op].lut_chunk}, costs);
  return sum;
}

std::vector<int> lut_chunk_candidates(int groups) {
  static constexpr int kChunks[] = {48, 32, 24, 16, 12, 8, 6, 4, 3, 2, 1};
  std::vector<int> chunks{groups};
  for (int c : kChunks)
    if (c < groups) chunks.push_back(c);
  return chunks;
}

double best_lut_cost(const ir::Graph& g, const ir::Op& op, const DotCosts& costs) {
  double best = std::numeric_limits<double>::infinity();
  for (int chunk : lut_chunk_candidates((g.constants.matrices[op.matrix].cols + 3) / 4))
    best = std::min(best, product_cost(g, op, {true, chunk}, costs));
  return best;
}

}  // namespace bitgpt
