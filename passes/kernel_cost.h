// The kernel cost model: estimated executed instructions per token of one ternary matrix
// product (MatMul, or FfnUp's w1 and w3 sharing one input) under a kernel choice, from the
// target's measured per-loop costs (TargetDesc::dot). What kernel selection compares; it
// counts only the dot products, the part that differs between kernels (scaling each row's
// result, activations, norms and attention cost the same under any kernel).
#pragma once

#include <vector>

#include "ir/ir.h"
#include "passes/select_kernels.h"
#include "targets/target.h"

namespace bitgpt {

double product_cost(const ir::Graph& g, const ir::Op& op, const KernelChoice& choice, const DotCosts& costs);

// The sum over g's ternary products with the kernels g's ops have.
double products_cost(const ir::Graph& g, const DotCosts& costs);

// The chunk sizes a lookup product may take, in groups of 4 inputs: all its groups at
// once, then the sizes the search tries below that.
std::vector<int> lut_chunk_candidates(int groups);

// The cost of op's cheapest lookup-table chunk with no SRAM limit. Not always the whole
// input: chunks of 16, 8 or 4 groups are straight code, where 12 or 20 groups at once
// test their last lookups.
double best_lut_cost(const ir::Graph& g, const ir::Op& op, const DotCosts& costs);

// Whether the target has lookup-kernel figures at all.
inline bool has_lut_costs(const DotCosts& c) { return c.lut_per_group > 0; }

// Whether tables at `lut` pay against the row kernel at `row`: they store 16 bits per
// group of 4 weights, twice the 2-bit rows' flash, so they must save at least 5 % of the
// product's instructions, not merely break even (wk and wv, 32 rows each on the example,
// came within 0.03 % of the row kernel measured, for 7.7 KB more flash).
inline bool tables_pay(double lut, double row) { return lut < 0.95 * row; }

}  // namespace bitgpt
