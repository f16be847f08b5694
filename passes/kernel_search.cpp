#include "passes/kernel_search.h"

#include <fmt/format.h>

#include <algorithm>

#include "passes/kernel_cost.h"

namespace bitgpt {

namespace {

struct Trial {
  std::vector<KernelChoice> per_op;
  double cost = 0;
};

// The greedy per-op choice at one window and KV precision.
Trial choose_at(const ir::Graph& fused, const FitRequest& req, int64_t window, int bits, const DotCosts& costs, const GraphSramFn& sram,
                const GraphFlashFn& flash, int64_t flash_budget) {
  Trial t;
  t.per_op.assign(fused.ops.size(), KernelChoice{});
  ir::Graph g = fused;
  std::vector<std::pair<double, int>> order;  // (saving at best, op)
  for (int op : ternary_products(g)) {
    const double row = product_cost(g, g.ops[op], {}, costs), lut = best_lut_cost(g, g.ops[op], costs);
    if (tables_pay(lut, row)) order.push_back({row - lut, op});
  }
  std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  for (const auto& [saving, op] : order) {
    const int groups = (g.constants.matrices[g.ops[op].matrix].cols + 3) / 4;
    const double row = product_cost(g, g.ops[op], {}, costs);
    // The chunks for which tables pay, cheapest first: the first that fits. Cost does not
    // fall with size alone (a chunk whose last lookups are tested costs more per row than
    // a smaller straight one), so each is costed.
    std::vector<std::pair<double, int>> chunks;
    for (int chunk : lut_chunk_candidates(groups)) {
      const double cost = product_cost(g, g.ops[op], {true, chunk}, costs);
      if (tables_pay(cost, row)) chunks.push_back({cost, chunk});
    }
    std::stable_sort(chunks.begin(), chunks.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& [cost, chunk] : chunks) {
      const KernelChoice lut{true, chunk};
      set_kernel(g, op, lut);
      if (sram(g, window, bits).total() <= req.budget && flash(g) <= flash_budget) {
        t.per_op[op] = lut;
        break;
      }
      set_kernel(g, op, {});
    }
  }
  t.cost = products_cost(g, costs);
  return t;
}

}  // namespace

void apply_kernels(ir::Graph& g, const std::vector<KernelChoice>& per_op) {
  for (int op : ternary_products(g)) set_kernel(g, op, per_op[op]);
}

KernelSearch search_kernels(const ir::Graph& fused, const FitRequest& req, int64_t preferred_window, const DotCosts& costs,
                            const GraphSramFn& sram, const GraphFlashFn& flash, int64_t flash_budget) {
  KernelSearch r;
  ir::Graph rows = fused;
  apply_kernels(rows, std::vector<KernelChoice>(fused.ops.size()));
  r.fit = fit_sram(req, [&](int64_t window, int bits) { return sram(rows, window, bits); });
  r.row_window = r.fit.window;
  r.per_op.assign(fused.ops.size(), KernelChoice{});
  r.row_cost = r.cost = products_cost(rows, costs);
  if (!has_lut_costs(costs) || ternary_products(fused).empty() || flash(rows) > flash_budget) return r;

  const int bits = r.fit.kv_bits;
  auto at = [&](int64_t w) { return choose_at(fused, req, w, bits, costs, sram, flash, flash_budget); };
  Trial best = at(r.row_window);
  const double row_plan_cost = best.cost;  // the best plan at the row kernels' window
  int64_t window = r.row_window;
  const int64_t lowest = std::max<int64_t>(1, std::min(preferred_window, r.row_window));
  if (!req.window && lowest < r.row_window) {
    const Trial cheapest = at(lowest);
    const double limit = cheapest.cost * (1 + kWindowTradeSlack);
    if (cheapest.cost <= (1 - kWindowTradeGain) * best.cost && best.cost > limit) {
      // the largest window within the slack: the cost only falls as the window shrinks
      int64_t ok = lowest, bad = r.row_window;
      best = cheapest;
      while (bad - ok > 1) {
        const int64_t mid = ok + (bad - ok) / 2;
        Trial t = at(mid);
        if (t.cost <= limit) ok = mid, best = std::move(t);
        else bad = mid;
      }
      window = ok;
    }
  }
  r.per_op = best.per_op;
  r.cost = best.cost;
  ir::Graph g = fused;
  apply_kernels(g, r.per_op);
  r.fit.cost = sram(g, window, bits);
  if (window != r.row_window) {
    r.fit.window = window;
    const int64_t given = r.row_window - window;
    r.fit.reason = fmt::format("window {}: {} slot{} give{} room to lookup tables that cut the matrix products' estimated instructions by {:.0f}% "
                               "against the best plan at window {}; the largest window within {:.0f}% of the cheapest plan (window {}); {}-bit KV cache",
                               window, given, given == 1 ? "" : "s", given == 1 ? "s" : "", 100 * (1 - best.cost / row_plan_cost), r.row_window, 100 * kWindowTradeSlack, lowest, bits);
  }
  return r;
}

}  // namespace bitgpt
