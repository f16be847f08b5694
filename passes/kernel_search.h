// Kernel choice per matrix product, under the SRAM and flash budgets, and the KV window
// that goes with it.
//
// Every ternary product starts on the target's row kernel. Then, largest estimated saving
// first, each takes the largest lookup-table chunk that the cost model (passes/
// kernel_cost.h) rates cheaper than its row kernel and that still fits: its tables and
// partial sums are its own scratch, so the arena plan decides, and their 16-bit indices
// must fit the flash budget. The window is the largest that fits with row kernels only,
// unless a smaller one (down to the preferred minimum) makes room for tables that cut the
// products' estimated cost by at least kWindowTradeGain: then the largest window whose
// products cost at most kWindowTradeSlack more than the cheapest plan's. Window slots are
// context, so they are given up only for a clear gain, and no more of them than needed.
#pragma once

#include <functional>
#include <vector>

#include "ir/ir.h"
#include "passes/select_kernels.h"
#include "passes/sram_fit.h"
#include "targets/target.h"

namespace bitgpt {

constexpr double kWindowTradeGain = 0.15;
constexpr double kWindowTradeSlack = 0.10;

struct KernelSearch {
  std::vector<KernelChoice> per_op;  // by op index; the row kernel where not a lookup product
  FitResult fit;
  double cost = 0;        // estimated dot-product instructions per token, as chosen
  double row_cost = 0;    // the same with every product on the row kernel
  int64_t row_window = 0; // the window the row kernels alone leave
};

// SRAM of graph g (kernels set) at a window and KV precision.
using GraphSramFn = std::function<SramCost(ir::Graph& g, int64_t window, int kv_bits)>;
// Flash total of graph g as emitted (its kernels decide the matrices' packing).
using GraphFlashFn = std::function<int64_t(const ir::Graph& g)>;

// Throws Error (from fit_sram) when nothing fits even with row kernels.
KernelSearch search_kernels(const ir::Graph& fused, const FitRequest& req, int64_t preferred_window, const DotCosts& costs,
                            const GraphSramFn& sram, const GraphFlashFn& flash, int64_t flash_budget);

// Applies a search's per-op choices to a graph with the same ops.
void apply_kernels(ir::Graph& g, const std::vector<KernelChoice>& per_op);

}  // namespace bitgpt
