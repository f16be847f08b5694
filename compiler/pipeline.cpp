#include "compiler/pipeline.h"

#include <fmt/format.h>

#include <algorithm>

#include "compiler/kernel_search.h"
#include "compiler/lower.h"
#include "compiler/vocab.h"
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

int64_t lut_or_packed_bytes(const LoweredMatrix& m, bool base3, bool lut) {
  if (m.dtype != BG_W_TERNARY2) return m.flash_bytes();
  const int64_t per_row = lut ? 2 * ((m.cols + 3) / 4) : base3 ? (m.cols + 4) / 5 : m.row_bytes;
  return per_row * m.rows + static_cast<int64_t>(m.scales.size() * sizeof(bg_mult));
}

SramCost plan_sram(const CompiledModel& c, ir::Graph& g, int64_t window, int bits, bool inplace) {
  g.set_attention(window, bits);
  SramCost cost;
  cost.arena = place(g, inplace).arena.bytes;
  cost.kv_cache = g.kv_cache_bytes();
  cost.prompt = prompt_buffer_bytes(c.max_prompt_bytes);
  cost.state = kRuntimeStateBytes;
  cost.stack = c.target->stack_reserve;
  return cost;
}

// --kernel lut4: every ternary product on lookup tables, the largest chunk that leaves a
// useful window (or the pinned --lut-chunk).
KernelSearch all_lookup(CompiledModel& c, const ir::Graph& fused, const FitRequest& req, std::optional<int> lut_chunk, bool inplace) {
  const int groups = max_lut_groups(fused);
  std::vector<int> chunks;
  for (int chunk : lut_chunk ? std::vector<int>{std::min(*lut_chunk, groups)} : std::vector<int>{groups, 32, 16, 8, 4})
    if (chunk <= groups && (chunks.empty() || chunk < chunks.back())) chunks.push_back(chunk);  // more than the widest input: whole tables
  const int64_t preferred = std::min(req.max_window, kPreferredMinWindow);
  std::optional<KernelSearch> best;
  std::string error;
  for (int chunk : chunks) {
    ir::Graph g = fused;
    select_kernels(g, {ir::Kernel::Lut4, chunk});
    try {
      KernelSearch k;
      k.fit = fit_sram(req, [&](int64_t window, int bits) { return plan_sram(c, g, window, bits, inplace); });
      k.per_op.assign(fused.ops.size(), KernelChoice{});
      for (int op : ternary_products(fused)) k.per_op[op] = {ir::Kernel::Lut4, chunk};
      const bool useful = req.window || k.fit.window >= preferred;
      if (!best || k.fit.window > best->fit.window || useful) best = std::move(k);
      if (useful) break;
    } catch (const Error& e) {
      error = e.what();
    }
  }
  if (!best) throw Error(error);
  return *best;
}

// Chooses the kernel of every matrix product and the window (kernel_search.h), places the
// arena; fills c.graph, c.fit, the kernel summary and the placement.
void choose_kernel_and_fit(CompiledModel& c, const ir::Graph& fused, const FitRequest& req, const std::string& kernel,
                           std::optional<int> lut_chunk, bool inplace) {
  c.dot_costs = c.target->dot;
  if (!c.smlad && !c.mve) c.dot_costs.row_per_weight = c.dot_costs.plain_row_per_weight;
  KernelSearch k;
  if (kernel == "lut4" && max_lut_groups(fused) > 0) {
    k = all_lookup(c, fused, req, lut_chunk, inplace);
  } else {
    DotCosts costs = c.dot_costs;
    c.cost_model = kernel == "auto";
    if (!c.cost_model) costs.lut_per_group = 0;  // a pinned row kernel: no lookup tables
    const int64_t preferred = std::min(req.max_window, kPreferredMinWindow);
    k = search_kernels(
        fused, req, preferred, costs, [&](ir::Graph& g, int64_t window, int bits) { return plan_sram(c, g, window, bits, inplace); },
        [&](const ir::Graph& g) { return c.flash_total_of(g); }, c.flash_budget);
  }
  c.fit = k.fit;
  c.row_window = k.row_window;
  c.graph = fused;
  apply_kernels(c.graph, k.per_op);
  ir::Graph& g = c.graph;
  g.set_attention(c.fit.window, c.fit.kv_bits);
  Placement p = place(g, inplace);
  c.alias = std::move(p.alias);
  c.liveness = std::move(p.liveness);
  c.arena = std::move(p.arena);
}

}  // namespace

int64_t prompt_buffer_bytes(int64_t max_prompt_bytes) { return max_prompt_bytes ? 4 * (max_prompt_bytes + 1) : 0; }

int64_t CompiledModel::code_estimate_of(const ir::Graph& g) const {
  constexpr int64_t kLookupKernelCode = 4096;
  bool lookup = false;
  for (const ir::Op& op : g.ops) lookup = lookup || op.kernel == ir::Kernel::Lut4;
  return target->code_base + target->code_per_step * static_cast<int64_t>(g.ops.size()) + (lookup ? kLookupKernelCode : 0);
}

int64_t CompiledModel::weights_flash_bytes_of(const ir::Graph& g) const {
  const Constants& k = g.constants;
  int64_t n = k.flash_bytes() + tokenizer_bytes;
  for (size_t i = 0; i < k.matrices.size(); ++i)
    n += lut_or_packed_bytes(k.matrices[i], base3 && base3_matrix[i], read_by_lut4(g, static_cast<int>(i))) - k.matrices[i].flash_bytes();
  return n + (base3 ? 2 * 243 : 0);  // the base-3 decode table
}

CompiledModel compile_model(const Model& model, const CompileOptions& o) {
  CompiledModel c;
  c.target = &find_target(o.target);
  check_pass_names(o.disabled_passes);
  c.sram_budget = o.sram.value_or(c.target->default_sram);
  c.flash_budget = o.flash.value_or(c.target->default_flash);
  c.parameters = model.parameters();
  c.tokenizer_bytes = lower_vocab(model.tokenizer).flash_bytes();
  if (o.max_prompt_bytes && (*o.max_prompt_bytes < 1 || *o.max_prompt_bytes > (1 << 20)))
    throw Error(fmt::format("--max-prompt-bytes: {} is outside [1, 2^20]", *o.max_prompt_bytes));
  if (model.tokenizer.kind == TokenizerKind::Bpe) c.max_prompt_bytes = o.max_prompt_bytes.value_or(kDefaultMaxPromptBytes);
  if (o.kv_bits && *o.kv_bits != 8 && *o.kv_bits != 4) throw Error(fmt::format("--kv-bits: {} is not 8 or 4", *o.kv_bits));
  if (o.lut_chunk && *o.lut_chunk < 1) throw Error(fmt::format("--lut-chunk: {} is not a positive number of groups", *o.lut_chunk));
  if (o.lut_chunk && o.kernel != "lut4")
    throw Error("--lut-chunk applies to --kernel lut4; with --kernel auto the cost model picks each product's chunk");
  if (o.window && (*o.window < 1 || *o.window > model.arch.max_seq_len))
    throw Error(fmt::format("--window: {} is outside [1, max_seq_len = {}]", *o.window, model.arch.max_seq_len));

  if (o.kernel != "auto" && o.kernel != "portable" && o.kernel != "smlad" && o.kernel != "mve" && o.kernel != "lut4")
    throw Error(fmt::format("--kernel: '{}' is not auto, portable, smlad, mve or lut4", o.kernel));
  if (o.kernel == "smlad" && !c.target->dsp)
    throw Error(fmt::format("--kernel smlad: target {} has no DSP extension (SMLAD); use portable", c.target->name));
  if (o.kernel == "mve" && !c.target->mve)
    throw Error(fmt::format("--kernel mve: target {} has no Helium (MVE); use portable{}", c.target->name, c.target->dsp ? " or smlad" : ""));
  // Dot products outside the lookup tables: Helium where the target has it, else SMLAD
  // where it has the DSP extension, unless --kernel asks for another.
  c.mve = c.target->mve && (o.kernel == "auto" || o.kernel == "mve" || o.kernel == "lut4");
  c.smlad = !c.mve && c.target->dsp && o.kernel != "portable";
  if (o.packing != "auto" && o.packing != "2bit" && o.packing != "base3")
    throw Error(fmt::format("--packing: '{}' is not auto, 2bit or base3", o.packing));
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

  const bool has_ternary = max_lut_groups(fused) > 0;
  const std::vector<LoweredMatrix>& matrices = fused.constants.matrices;
  c.base3 = o.packing == "base3" && has_ternary;
  c.base3_matrix.assign(matrices.size(), false);
  for (size_t i = 0; i < matrices.size(); ++i) c.base3_matrix[i] = c.base3 && matrices[i].dtype == BG_W_TERNARY2;
  if (c.base3 && o.kernel == "lut4") throw Error("--packing base3: the lut4 kernel reads its own packing; use --kernel portable or auto");
  const std::string kernel_mode = c.base3 || o.kernel == "smlad" || o.kernel == "mve" ? "portable" : o.kernel;
  choose_kernel_and_fit(c, fused, req, kernel_mode, o.lut_chunk, inplace);
  c.kernel_reason = !has_ternary          ? "no ternary matrices"
                    : c.base3               ? "base-3 packing decodes with the row kernel"
                    : !c.cost_model         ? "pinned by --kernel"
                                            : "the cost model's choice per product (docs/performance.md, \"Kernel cost model\")";
  c.packing_reason = !has_ternary ? "no ternary matrices" : c.base3 ? "pinned by --packing" : "2 bits per weight: the fastest to decode";
  if (o.kernel == "lut4" && has_ternary && c.flash_total() > c.flash_budget)
    throw Error(fmt::format("--kernel lut4: with its 16-bit table indices (4 bits per weight) the flash total is {} bytes, over the --flash "
                            "budget {}; --kernel auto falls back to the row kernel",
                            c.flash_total(), c.flash_budget));
  if (o.packing == "auto" && has_ternary && c.flash_total() > c.flash_budget) {
    // Base-3 saves flash and costs decode time in equal measure per weight, so convert
    // the fewest matrices: the largest first, until the total fits.
    const int64_t two_bit = c.flash_total();
    c.base3 = true;
    std::vector<size_t> order;
    for (size_t i = 0; i < matrices.size(); ++i)
      if (matrices[i].dtype == BG_W_TERNARY2) order.push_back(i);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return matrices[a].flash_bytes() > matrices[b].flash_bytes(); });
    size_t converted = 0;
    for (size_t i : order) {
      if (c.flash_total() <= c.flash_budget) break;
      c.base3_matrix[i] = true;
      ++converted;
    }
    c.packing_reason = fmt::format("with 2 bits per weight the flash total is {} bytes, over the {} budget: {} of {} ternary matrices, the largest, "
                                   "at five weights per byte",
                                   two_bit, c.flash_budget, converted, order.size());
  }

  if (c.flash_total() > c.flash_budget)
    throw Error(fmt::format("--flash {}: weights and tables {} (ternary matrices {}) + code (estimate) {} = {} bytes do not fit{}",
                            c.flash_budget, c.weights_flash_bytes(), c.base3 ? "at 1.6 bits per weight" : "at 2 bits per weight",
                            c.code_estimate(), c.flash_total(), c.base3 ? "" : "; --packing base3 would store them at 1.6 bits per weight"));
  return c;
}

ir::Graph reference_graph(const Model& model, const CompiledModel& compiled) {
  ir::Graph g = lower_model(model, compiled.fit.window, compiled.fit.kv_bits);
  validate_graph(g);
  return g;
}

}  // namespace bitgpt
