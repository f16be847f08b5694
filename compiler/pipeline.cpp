#include "compiler/pipeline.h"

#include <fmt/format.h>

#include "compiler/lower.h"
#include "frontend/diagnostics.h"
#include "passes/inplace.h"
#include "passes/pass_manager.h"
#include "passes/validate.h"

namespace bitgpt {

namespace {

struct Placement {
  std::vector<ir::ValueId> alias;
  Liveness liveness;
  ArenaPlan arena;
};

Placement place(const ir::Graph& g, bool inplace) {
  Placement p;
  p.alias = inplace ? plan_inplace(g) : no_aliasing(g);
  p.liveness = compute_liveness(g, p.alias);
  p.arena = plan_arena_greedy(p.liveness.buffers);
  return p;
}

int64_t tokenizer_flash_bytes(const Tokenizer& t) {
  int64_t n = 4 * (static_cast<int64_t>(t.pieces.size()) + 1);
  for (const std::string& p : t.pieces) n += static_cast<int64_t>(p.size());
  return n;
}

}  // namespace

CompiledModel compile_model(const Model& model, const CompileOptions& o) {
  CompiledModel c;
  c.target = &find_target(o.target);
  check_pass_names(o.disabled_passes);
  c.sram_budget = o.sram.value_or(c.target->default_sram);
  c.flash_budget = o.flash.value_or(c.target->default_flash);
  c.parameters = model.parameters();
  c.tokenizer_bytes = tokenizer_flash_bytes(model.tokenizer);
  if (o.kv_bits && *o.kv_bits != 8 && *o.kv_bits != 4) throw Error(fmt::format("--kv-bits: {} is not 8 or 4", *o.kv_bits));
  if (o.window && (*o.window < 1 || *o.window > model.arch.max_seq_len))
    throw Error(fmt::format("--window: {} is outside [1, max_seq_len = {}]", *o.window, model.arch.max_seq_len));

  if (o.kernel != "auto" && o.kernel != "portable" && o.kernel != "lut4")
    throw Error(fmt::format("--kernel: '{}' is not auto, portable or lut4", o.kernel));
  c.graph = lower_model(model, 1, 8);
  validate_graph(c.graph);
  run_fusion_passes(c.graph, o.disabled_passes);
  validate_graph(c.graph);
  const bool inplace = !o.disabled_passes.count("inplace");

  FitRequest req;
  req.budget = c.sram_budget;
  req.max_window = model.arch.max_seq_len;
  req.kv_bits = o.kv_bits;
  req.window = o.window;
  const ir::Graph fused = c.graph;

  // Kernel candidates, fastest first: lookup tables as large as the widest input, then
  // smaller chunks (less SRAM, partial sums), then the portable kernel (no SRAM).
  std::vector<KernelChoice> candidates;
  const int groups = max_lut_groups(fused);
  if (o.kernel != "portable" && groups > 0) {
    std::vector<int> chunks = o.lut_chunk ? std::vector<int>{*o.lut_chunk} : std::vector<int>{groups, 32, 16, 8, 4};
    for (int chunk : chunks)
      if (chunk >= 1 && chunk <= groups && (candidates.empty() || chunk < candidates.back().lut_chunk))
        candidates.push_back({ir::Kernel::Lut4, chunk});
  }
  if (o.kernel != "lut4" || groups == 0) candidates.push_back({ir::Kernel::Portable, 0});
  const int64_t preferred = std::min(model.arch.max_seq_len, kPreferredMinWindow);

  struct Tried { KernelChoice choice; std::optional<FitResult> fit; std::string error; };
  std::vector<Tried> tried;
  for (const KernelChoice& choice : candidates) {
    ir::Graph g = fused;
    select_kernels(g, choice);
    Tried t{choice, std::nullopt, ""};
    try {
      t.fit = fit_sram(req, [&](int64_t window, int bits) {
        g.set_attention(window, bits);
        SramCost cost;
        cost.arena = place(g, inplace).arena.bytes;
        cost.kv_cache = g.kv_cache_bytes();
        cost.state = kRuntimeStateBytes;
        cost.stack = c.target->stack_reserve;
        return cost;
      });
    } catch (const Error& e) {
      t.error = e.what();
    }
    tried.push_back(t);
    if (t.fit && (req.window || t.fit->window >= preferred)) break;  // fastest that keeps a useful window
  }
  const Tried* best = nullptr;
  for (const Tried& t : tried)
    if (t.fit && (!best || t.fit->window > best->fit->window || (req.window || t.fit->window >= preferred))) {
      best = &t;
      if (req.window || t.fit->window >= preferred) break;
    }
  if (!best) throw Error(tried.back().error);
  c.kernel = best->choice;
  c.fit = *best->fit;
  c.kernel_reason = best->choice.kernel == ir::Kernel::Lut4
                        ? fmt::format("lookup tables over groups of 4 activations, {} groups per chunk ({} table bytes){}", best->choice.lut_chunk,
                                      best->choice.lut_chunk * 2 * BG_LUT_ENTRIES, best == &tried.front() ? "" : ": larger tables leave too small a window")
                        : (groups == 0 ? "no ternary matrices" : o.kernel == "portable" ? "pinned by --kernel" : "lookup tables leave too small a window");
  c.graph = fused;
  select_kernels(c.graph, c.kernel);
  ir::Graph& g = c.graph;
  g.set_attention(c.fit.window, c.fit.kv_bits);
  Placement p = place(g, inplace);
  c.alias = std::move(p.alias);
  c.liveness = std::move(p.liveness);
  c.arena = std::move(p.arena);

  if (c.flash_total() > c.flash_budget)
    throw Error(fmt::format("--flash {}: weights {} + tokenizer {} + code (estimate) {} = {} bytes do not fit",
                            c.flash_budget, g.constants.flash_bytes(), c.tokenizer_bytes, c.target->code_estimate, c.flash_total()));
  return c;
}

ir::Graph reference_graph(const Model& model, const CompiledModel& compiled) {
  ir::Graph g = lower_model(model, compiled.fit.window, compiled.fit.kv_bits);
  validate_graph(g);
  return g;
}

}  // namespace bitgpt
