#include "compiler/pipeline.h"

#include <fmt/format.h>

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

// Picks the fastest kernel that leaves a useful window, fits the SRAM budget with it and
// places the arena; fills c.graph, c.kernel, c.fit and the placement.
void choose_kernel_and_fit(CompiledModel& c, const ir::Graph& fused, const FitRequest& req, const std::string& kernel,
                           std::optional<int> lut_chunk, bool inplace) {
  // Kernel candidates, fastest first: lookup tables as large as the widest input, then
  // smaller chunks (less SRAM, partial sums), then the row kernel (no SRAM). Where the
  // row kernel is SMLAD or Helium, lookup tables save little (bench/cortex_m_bench.sh on
  // cortex-m4 at 16K: 2.97 against 3.17 instructions per weight) for much window and
  // flash, so they are tried only when pinned.
  std::vector<KernelChoice> candidates;
  const int groups = max_lut_groups(fused);
  const bool try_lut = kernel == "lut4" || (kernel == "auto" && !c.smlad && !c.mve);
  if (try_lut && groups > 0) {
    std::vector<int> chunks = lut_chunk ? std::vector<int>{*lut_chunk} : std::vector<int>{groups, 32, 16, 8, 4};
    for (int chunk : chunks)
      if (chunk >= 1 && chunk <= groups && (candidates.empty() || chunk < candidates.back().lut_chunk))
        candidates.push_back({ir::Kernel::Lut4, chunk});
  }
  if (kernel != "lut4" || groups == 0) candidates.push_back({ir::Kernel::Portable, 0});
  const int64_t preferred = std::min(req.max_window, kPreferredMinWindow);

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
        cost.prompt = prompt_buffer_bytes(c.max_prompt_bytes);
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
                        : (groups == 0                ? "no ternary matrices"
                           : kernel == "portable"        ? (c.base3 ? "base-3 packing decodes with the portable kernel" : "pinned by --kernel")
                           : !try_lut && c.mve           ? "Helium row products: faster than lookup tables, and they cost no SRAM"
                           : !try_lut                    ? "SMLAD row products: within a few percent of lookup tables, with no SRAM or extra flash"
                                                         : "lookup tables leave too small a window");
  c.graph = fused;
  select_kernels(c.graph, c.kernel);
  ir::Graph& g = c.graph;
  g.set_attention(c.fit.window, c.fit.kv_bits);
  Placement p = place(g, inplace);
  c.alias = std::move(p.alias);
  c.liveness = std::move(p.liveness);
  c.arena = std::move(p.arena);
}

}  // namespace

int64_t prompt_buffer_bytes(int64_t max_prompt_bytes) { return max_prompt_bytes ? 4 * (max_prompt_bytes + 1) : 0; }

int64_t CompiledModel::code_estimate() const {
  constexpr int64_t kLookupKernelCode = 4096;
  return target->code_base + target->code_per_step * static_cast<int64_t>(graph.ops.size()) +
         (kernel.kernel == ir::Kernel::Lut4 ? kLookupKernelCode : 0);
}

int64_t CompiledModel::weights_flash_bytes() const {
  const Constants& k = graph.constants;
  int64_t n = k.flash_bytes() + tokenizer_bytes;
  for (size_t i = 0; i < k.matrices.size(); ++i)
    n += lut_or_packed_bytes(k.matrices[i], base3 && base3_matrix[i], read_by_lut4(graph, static_cast<int>(i))) - k.matrices[i].flash_bytes();
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
  choose_kernel_and_fit(c, fused, req, c.base3 || o.kernel == "smlad" || o.kernel == "mve" ? "portable" : o.kernel, o.lut_chunk, inplace);
  c.packing_reason = !has_ternary ? "no ternary matrices" : c.base3 ? "pinned by --packing" : "2 bits per weight: the fastest to decode";
  if (o.kernel == "auto" && c.kernel.kernel == ir::Kernel::Lut4 && c.flash_total() > c.flash_budget) {
    // The lookup kernel's 16-bit indices take 4 bits per weight: give them up first.
    const int64_t with_tables = c.flash_total();
    choose_kernel_and_fit(c, fused, req, "portable", std::nullopt, inplace);
    c.kernel_reason = fmt::format("with the lookup kernel's 16-bit indices the flash total is {} bytes, over the {} budget", with_tables, c.flash_budget);
  }
  if (o.kernel == "lut4" && c.kernel.kernel == ir::Kernel::Lut4 && c.flash_total() > c.flash_budget)
    throw Error(fmt::format("--kernel lut4: with its 16-bit table indices (4 bits per weight) the flash total is {} bytes, over the --flash "
                            "budget {}; --kernel auto falls back to the row kernel",
                            c.flash_total(), c.flash_budget));
  if (o.packing == "auto" && has_ternary && c.flash_total() > c.flash_budget) {
    // Base-3 saves flash and costs decode time in equal measure per weight, so convert
    // the fewest matrices: the largest first, until the total fits.
    const int64_t two_bit = c.flash_total();
    c.base3 = true;
    if (c.kernel.kernel == ir::Kernel::Lut4) choose_kernel_and_fit(c, fused, req, "portable", std::nullopt, inplace);
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
