#include "passes/pipeline.h"

#include <fmt/format.h>

#include <algorithm>

#include "frontend/lower.h"
#include "ir/vocab.h"
#include "passes/inplace.h"
#include "passes/kernel_search.h"
#include "passes/pass_manager.h"
#include "passes/validate.h"
#include "support/diagnostics.h"

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

constexpr int64_t kLookupKernelCode = 8192;  // the lookup kernels' own functions (their rows' finishing loops included; the LLVM object holds both index widths)
constexpr int64_t kExpTable = 4100;  // bg_exp2_table_q30, the softmax's exp: every model has attention
constexpr int64_t kSharedLookupKernelCode = 6144;  // and bg_lut_op_matvecs, where products of one input share tables (4.7 KB in the M3 object)
constexpr int64_t kBase3DecodeTable = 2 * 243;

bool has_lookup(const ir::Graph& g, bool shared_only = false) {
  for (const ir::Op& op : g.ops)
    if (op.kernel == ir::Kernel::Lookup && (!shared_only || op.kind == ir::OpKind::SharedMatMul)) return true;
  return false;
}

// Matrix i is read only by matrix-vector products (one or several of one input) and the
// classifier, whose rows go through bg_row_dots (four at a time: whole quads of int8 row
// pairs or int16 quads), not by the gated FFN, which takes rows two at a time from two matrices.
bool read_row_by_row(const ir::Graph& g, int i) {
  for (const ir::Op& op : g.ops)
    if (std::ranges::count(op.matrices(), i) && op.kind == ir::OpKind::FfnUp) return false;
  return true;
}

ir::Kernel row_kernel_for(const TargetDesc& t, KernelOption k);

// The layouts a plan's row kernel reads besides the lowered ones.
struct RowLayouts {
  bool planes128 = false;   // ternary rows of 128-weight blocks: the target's own vector row kernel (TargetDesc::row_planes128)
  // How int8 rows read row by row are widened where the flash has room: row pairs
  // (TargetDesc::int8_row_pairs), int16 quads (the SMLAD row kernel), or not (AsLowered).
  Packing wide_int8 = Packing::AsLowered;
  bool lookup_words = false;  // the lookup kernel can read indices in 32-bit words (TargetDesc::lut_word_indices)
  std::vector<bool> words;    // by matrix: its lookup indices in words (taken where the flash has room)
};

// The layouts for a compilation's row kernel: blocks only for the row kernel the target
// picks itself (a pinned --kernel portable or smlad on a Helium core reads 2-bit rows).
RowLayouts row_layouts(const TargetDesc& t, ir::Kernel row_kernel) {
  RowLayouts l;
  l.planes128 = t.row_planes128 && row_kernel == row_kernel_for(t, KernelOption::Auto);
  l.wide_int8 = row_kernel == ir::Kernel::Smlad ? Packing::Int16Quads : t.int8_row_pairs ? Packing::Int8Pairs : Packing::AsLowered;
  l.lookup_words = t.lut_word_indices();
  return l;
}

// How matrix i of g is stored: as lookup indices (halfwords or words) when the lookup kernel reads it, base 3
// where the packing decision says so, int8 rows in pairs and ternary rows in 128-weight
// blocks (rows of whole blocks) where the row kernel reads them, else as lowered.
Packing packing_of(const ir::Graph& g, int i, const std::vector<bool>& base3, const RowLayouts& layouts) {
  if (read_by_lut4(g, i)) return static_cast<size_t>(i) < layouts.words.size() && layouts.words[static_cast<size_t>(i)] ? Packing::LookupWords : Packing::LookupIndices;
  if (base3[static_cast<size_t>(i)]) return Packing::Base3;
  const LoweredMatrix& m = g.constants.matrices[static_cast<size_t>(i)];
  if (layouts.wide_int8 != Packing::AsLowered && m.dtype == BG_W_INT8 && read_row_by_row(g, i) && (layouts.wide_int8 != Packing::Int8Pairs || int8_pairs_hold(m)))
    return layouts.wide_int8;
  return layouts.planes128 && m.dtype == BG_W_TERNARY2 && m.cols % 128 == 0 ? Packing::Planes128 : Packing::AsLowered;
}

// Matrix i shares the embedding table's codes in flash: the tied classifier, as lowered.
bool shares_embedding_codes(const Constants& k, int i, Packing p) { return k.classifier_tied && i == k.classifier && p == Packing::AsLowered; }

// The constants' flash counts a tied classifier's codes once, in the embedding table; a
// classifier packed otherwise (int8 row pairs, int16 quads) has bytes of its own, so matrix i's codes
// count again when it is that classifier.
int64_t untied_codes_bytes(const Constants& k, int i, Packing p) {
  return k.classifier_tied && i == k.classifier && !shares_embedding_codes(k, i, p) ? static_cast<int64_t>(k.matrices[static_cast<size_t>(i)].data.size()) : 0;
}

// The plan's flash for a candidate kernel assignment and packing decision, from the
// packed sizes (the bytes themselves are made once, for the chosen plan).
struct FlashModel {
  const TargetDesc* target;
  int64_t tokenizer_bytes;
  RowLayouts layouts;

  int64_t weights(const ir::Graph& g, const std::vector<bool>& base3) const {
    const Constants& k = g.constants;
    int64_t n = k.flash_bytes() + tokenizer_bytes;
    bool any_base3 = false;
    for (size_t i = 0; i < k.matrices.size(); ++i) {
      const Packing p = packing_of(g, static_cast<int>(i), base3, layouts);
      n += packed_flash_bytes(k.matrices[i], p) - k.matrices[i].flash_bytes();
      n += untied_codes_bytes(k, static_cast<int>(i), p);
      any_base3 = any_base3 || (p == Packing::Base3 && k.matrices[i].dtype == BG_W_TERNARY2);
    }
    return n + (any_base3 ? kBase3DecodeTable : 0);
  }
  int64_t code(const ir::Graph& g) const {
    return target->code_base + kExpTable + target->code_per_step * static_cast<int64_t>(g.ops.size()) + (has_lookup(g) ? kLookupKernelCode : 0) +
           (has_lookup(g, true) ? kSharedLookupKernelCode : 0);
  }
  int64_t total(const ir::Graph& g, const std::vector<bool>& base3) const { return weights(g, base3) + code(g); }
};

SramCost plan_sram(const CompiledModel& c, ir::Graph& g, int64_t window, int bits, bool inplace) {
  g.set_attention(window, bits);
  SramCost cost;
  cost.arena = place(g, inplace).arena.bytes;
  cost.kv_cache = g.kv_cache_bytes();
  cost.prompt = prompt_buffer_bytes(c.max_prompt_bytes);
  cost.state = kRuntimeStateBytes + (c.caller_memory ? kCallerPointerBytes : 0);
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
    select_kernels(g, {true, chunk});
    try {
      KernelSearch k;
      k.fit = fit_sram(req, [&](int64_t window, int bits) { return plan_sram(c, g, window, bits, inplace); });
      k.per_op.assign(fused.ops.size(), KernelChoice{});
      for (int op : ternary_products(fused)) k.per_op[op] = {true, chunk};
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

// The row kernel: Helium where the target has it, else SMLAD where it has the DSP
// extension, unless --kernel pins another.
ir::Kernel row_kernel_for(const TargetDesc& t, KernelOption k) {
  if (k == KernelOption::Portable) return ir::Kernel::PlainC;
  if (k == KernelOption::Smlad) {
    if (!t.dsp) throw Error(fmt::format("--kernel smlad: target {} has no DSP extension (SMLAD); use portable", t.name));
    return ir::Kernel::Smlad;
  }
  if (k == KernelOption::Mve && !t.mve)
    throw Error(fmt::format("--kernel mve: target {} has no Helium (MVE); use portable{}", t.name, t.dsp ? " or smlad" : ""));
  return t.mve ? ir::Kernel::Helium : t.dsp ? ir::Kernel::Smlad : ir::Kernel::PlainC;
}

void check_options(const Model& model, const CompileOptions& o) {
  if (o.max_prompt_bytes && (*o.max_prompt_bytes < 1 || *o.max_prompt_bytes > (1 << 20)))
    throw Error(fmt::format("--max-prompt-bytes: {} is outside [1, 2^20]", *o.max_prompt_bytes));
  if (o.kv_bits && *o.kv_bits != 8 && *o.kv_bits != 4) throw Error(fmt::format("--kv-bits: {} is not 8 or 4", *o.kv_bits));
  if (o.lut_chunk && *o.lut_chunk < 1) throw Error(fmt::format("--lut-chunk: {} is not a positive number of groups", *o.lut_chunk));
  if (o.lut_chunk && o.kernel != KernelOption::Lut4)
    throw Error("--lut-chunk applies to --kernel lut4; with --kernel auto the cost model picks each product's chunk");
  if (o.window && (*o.window < 1 || *o.window > model.arch.max_seq_len))
    throw Error(fmt::format("--window: {} is outside [1, max_seq_len = {}]", *o.window, model.arch.max_seq_len));
}

// Chooses the kernel of every matrix product and the window (kernel_search.h) and places
// the arena; fills c.graph, c.fit and the placement.
void choose_kernels_and_fit(CompiledModel& c, const ir::Graph& fused, const FitRequest& req, bool all_lookup_tables,
                            std::optional<int> lut_chunk, bool inplace, const FlashModel& flash, const std::vector<bool>& base3) {
  c.dot_costs = c.target->dot;
  if (c.row_kernel == ir::Kernel::PlainC) c.dot_costs.row_per_weight = c.dot_costs.plain_row_per_weight;
  KernelSearch k;
  if (all_lookup_tables) {
    k = all_lookup(c, fused, req, lut_chunk, inplace);
  } else {
    DotCosts costs = c.dot_costs;
    if (c.kernel_policy != KernelPolicy::CostModel) costs.lut_per_group = 0;  // a pinned row kernel: no lookup tables
    const int64_t preferred = std::min(req.max_window, kPreferredMinWindow);
    k = search_kernels(
        fused, req, preferred, costs, [&](ir::Graph& g, int64_t window, int bits) { return plan_sram(c, g, window, bits, inplace); },
        [&](const ir::Graph& g) { return flash.total(g, base3); }, c.flash_budget);
  }
  c.fit = k.fit;
  c.row_window = k.row_window;
  c.graph = fused;
  apply_kernels(c.graph, k.per_op);
  c.graph.set_attention(c.fit.window, c.fit.kv_bits);
}

// Base-3 saves flash and costs decode time in equal measure per weight, so convert the
// fewest matrices: the largest first, until the total fits. Returns how many.
size_t pack_largest_base3(const ir::Graph& g, const FlashModel& flash, int64_t budget, std::vector<bool>& base3, size_t& ternary) {
  const std::vector<LoweredMatrix>& matrices = g.constants.matrices;
  std::vector<size_t> order;
  for (size_t i = 0; i < matrices.size(); ++i)
    if (matrices[i].dtype == BG_W_TERNARY2 && !read_by_lut4(g, static_cast<int>(i))) order.push_back(i);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return matrices[a].flash_bytes() > matrices[b].flash_bytes(); });
  ternary = order.size();
  size_t converted = 0;
  for (size_t i : order) {
    if (flash.total(g, base3) <= budget) break;
    base3[i] = true;
    ++converted;
  }
  return converted;
}

// Lookup indices in words, product by product while the flash total stays within the
// budget. A product's matrices (a gated FFN's w1 and w3) take the same width: the kernel
// reads both with the first one's. Each saves about the same instructions per byte of
// flash (a group's lookup 2.2 instructions instead of 3, for 2 more bytes), so the order
// matters only at the margin: the largest first. Returns whether every product took them.
bool take_word_indices(const ir::Graph& g, FlashModel& flash, int64_t budget, const std::vector<bool>& base3) {
  const std::vector<LoweredMatrix>& matrices = g.constants.matrices;
  std::vector<std::vector<size_t>> products;  // each lookup product's matrices, each matrix once
  std::vector<bool> seen(matrices.size(), false);
  for (const ir::Op& op : g.ops) {
    if (op.kernel != ir::Kernel::Lookup || seen[static_cast<size_t>(op.matrix)]) continue;
    products.emplace_back();
    for (int m : op.matrices()) products.back().push_back(static_cast<size_t>(m));
    for (size_t i : products.back()) seen[i] = true;
  }
  auto bytes = [&](const std::vector<size_t>& product) {
    int64_t n = 0;
    for (size_t i : product) n += matrices[i].flash_bytes();
    return n;
  };
  std::stable_sort(products.begin(), products.end(), [&](const auto& a, const auto& b) { return bytes(a) > bytes(b); });
  flash.layouts.words.assign(matrices.size(), false);
  bool all = true;
  for (const std::vector<size_t>& product : products) {
    for (size_t i : product) flash.layouts.words[i] = true;
    if (flash.total(g, base3) <= budget) continue;
    for (size_t i : product) flash.layouts.words[i] = false;
    all = false;
  }
  return all;
}

// The placement of g, where each classifier whose rows are int16 quads reads its input
// unpacked once into int16 pairs (a Pairs16 scratch of its step: bitgpt_rows.h,
// bg_row_input; two instructions fewer a step of 16 weights than unpacking it for every
// quad of rows). Taken only where the arena has those bytes free at that step, so that
// it never costs SRAM; else the kernel unpacks per quad, the same integers.
Placement place_with_unpacked_inputs(ir::Graph& g, bool inplace, const std::vector<bool>& base3, const RowLayouts& layouts) {
  Placement plain = place(g, inplace);
  std::vector<size_t> taken;
  for (size_t i = 0; i < g.ops.size(); ++i) {
    if (g.ops[i].kind != ir::OpKind::ClassifySample || packing_of(g, g.ops[i].matrix, base3, layouts) != Packing::Int16Quads) continue;
    const int64_t cols = g.constants.matrices[static_cast<size_t>(g.ops[i].matrix)].cols;
    g.ops[i].input_pairs = g.add_value(g.ops[i].label + ".x_pairs", ir::ValueType::Pairs16, cols);
    g.ops[i].scratch.push_back(g.ops[i].input_pairs);
    taken.push_back(i);
  }
  if (taken.empty()) return plain;
  Placement with = place(g, inplace);
  if (with.arena.bytes <= plain.arena.bytes) return with;
  for (size_t i : taken) {
    g.ops[i].scratch.pop_back();
    g.ops[i].input_pairs = ir::kNoValue;
  }
  return plain;
}

// The placement, the resolved steps and the packed matrices of c.graph as chosen.
void finish_program(CompiledModel& c, bool inplace, const std::vector<bool>& base3, const RowLayouts& layouts) {
  set_row_kernel(c.graph, c.row_kernel);
  Placement p = place_with_unpacked_inputs(c.graph, inplace, base3, layouts);
  c.alias = std::move(p.alias);
  c.liveness = std::move(p.liveness);
  c.arena = std::move(p.arena);
  c.steps = build_steps(c.graph, c.liveness, c.arena, c.kernel_policy, c.dot_costs);
  c.layer_loop = find_layer_loop(c.graph, c.steps);
  c.matrices.clear();
  for (size_t i = 0; i < c.graph.constants.matrices.size(); ++i) {
    const int m = static_cast<int>(i);
    c.matrices.push_back(pack_matrix(c.graph.constants.matrices[i], packing_of(c.graph, m, base3, layouts), lut4_chunk_of(c.graph, m)));
    const Constants& k = c.graph.constants;
    c.matrices.back().tied_to_embedding = shares_embedding_codes(k, m, c.matrices.back().packing);
  }
}

}  // namespace

int64_t prompt_buffer_bytes(int64_t max_prompt_bytes) { return max_prompt_bytes ? 4 * (max_prompt_bytes + 1) : 0; }

bool CompiledModel::any_packing(Packing p) const {
  for (const PackedMatrix& m : matrices)
    if (m.packing == p) return true;
  return false;
}

int64_t CompiledModel::weights_flash_bytes() const {
  const Constants& k = graph.constants;
  int64_t n = k.flash_bytes() + tokenizer_bytes;
  for (size_t i = 0; i < k.matrices.size(); ++i)
    n += matrices[i].data.flash_bytes() - k.matrices[i].flash_bytes() + untied_codes_bytes(k, static_cast<int>(i), matrices[i].packing);
  return n + (any_packing(Packing::Base3) ? kBase3DecodeTable : 0);
}

int64_t CompiledModel::code_estimate() const { return FlashModel{target, tokenizer_bytes}.code(graph); }

CompiledModel compile_model(const Model& model, const CompileOptions& o) {
  CompiledModel c;
  c.target = &find_target(o.target);
  check_pass_names(o.disabled_passes);
  check_options(model, o);
  c.sram_budget = o.sram.value_or(c.target->default_sram);
  c.flash_budget = o.flash.value_or(c.target->default_flash);
  c.parameters = model.parameters();
  c.tokenizer_bytes = lower_vocab(model.tokenizer).flash_bytes();
  if (model.tokenizer.kind == TokenizerKind::Bpe) c.max_prompt_bytes = o.max_prompt_bytes.value_or(kDefaultMaxPromptBytes);
  c.row_kernel = row_kernel_for(*c.target, o.kernel);
  c.caller_memory = o.memory == MemoryOption::Caller;
  FlashModel flash{c.target, c.tokenizer_bytes};

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
  const bool pinned_base3 = o.packing == PackingOption::Base3 && has_ternary;
  if (pinned_base3 && o.kernel == KernelOption::Lut4)
    throw Error("--packing base3: the lut4 kernel reads its own packing; use --kernel portable or auto");
  std::vector<bool> base3(matrices.size(), false);
  for (size_t i = 0; i < matrices.size(); ++i) base3[i] = pinned_base3 && matrices[i].dtype == BG_W_TERNARY2;
  // Word indices and widened int8 rows (row pairs or int16 quads) trade flash for speed:
  // decided after the kernel search, so that lookup tables, which save far more, have the
  // flash first; then word indices (a quarter of the lookups' instructions) and last the
  // widened int8 rows (the classifier's products), each where the plan still fits with it.
  const RowLayouts layouts = row_layouts(*c.target, c.row_kernel);
  flash.layouts = layouts;
  flash.layouts.wide_int8 = Packing::AsLowered;
  // (flash.layouts.words stays empty for the search: halfword indices)
  c.kernel_policy = pinned_base3 ? KernelPolicy::Base3Packing : o.kernel == KernelOption::Auto ? KernelPolicy::CostModel : KernelPolicy::Pinned;
  const bool all_lookup_tables = o.kernel == KernelOption::Lut4 && has_ternary;
  choose_kernels_and_fit(c, fused, req, all_lookup_tables, o.lut_chunk, inplace, flash, base3);
  if (layouts.lookup_words && has_lookup(c.graph)) {
    // the estimates of the kernel that runs; a plan with both widths keeps the halfwords' figure
    if (take_word_indices(c.graph, flash, c.flash_budget, base3)) c.dot_costs.lut_per_group = c.dot_costs.lut_word_per_group;
  }
  flash.layouts.wide_int8 = pinned_base3 ? Packing::AsLowered : layouts.wide_int8;
  if (flash.layouts.wide_int8 != Packing::AsLowered && flash.total(c.graph, base3) > c.flash_budget) flash.layouts.wide_int8 = Packing::AsLowered;
  c.kernel_reason = !has_ternary                                  ? "no ternary matrices"
                    : c.kernel_policy == KernelPolicy::Base3Packing ? "base-3 packing decodes with the row kernel"
                    : c.kernel_policy == KernelPolicy::Pinned       ? "pinned by --kernel"
                                                                    : "the cost model's choice per product (docs/performance.md, \"Kernel cost model\")";
  c.packing_reason = !has_ternary   ? "no ternary matrices"
                     : pinned_base3 ? "pinned by --packing"
                     : flash.layouts.planes128
                         ? "2 bits per weight: the fastest to decode; rows of whole 128-weight blocks with a byte's four weights 32 apart, as the target's vector row kernel reads them"
                         : "2 bits per weight: the fastest to decode";
  if (all_lookup_tables && flash.total(c.graph, base3) > c.flash_budget)
    throw Error(fmt::format("--kernel lut4: with its 16-bit table indices (4 bits per weight) the flash total is {} bytes, over the --flash "
                            "budget {}; --kernel auto falls back to the row kernel",
                            flash.total(c.graph, base3), c.flash_budget));
  if (o.packing == PackingOption::Auto && has_ternary && flash.total(c.graph, base3) > c.flash_budget) {
    const int64_t two_bit = flash.total(c.graph, base3);
    size_t ternary = 0;
    const size_t converted = pack_largest_base3(c.graph, flash, c.flash_budget, base3, ternary);
    c.packing_reason = fmt::format("with 2 bits per weight the flash total is {} bytes, over the {} budget: {} of {} ternary matrices, the largest, "
                                   "at five weights per byte",
                                   two_bit, c.flash_budget, converted, ternary);
  }
  finish_program(c, inplace, base3, flash.layouts);
  if (c.any_packing(Packing::LookupWords))
    c.packing_reason += c.any_packing(Packing::LookupIndices) ? "; lookup table indices in 32-bit words, four a load (1 byte a weight), for the largest matrices the flash has room for"
                                                               : "; lookup table indices in 32-bit words, four a load (1 byte a weight)";
  if (c.any_packing(Packing::Int8Pairs)) c.packing_reason += "; int8 rows as row pairs in 32-bit words, two rows a multiply-accumulate (2 bytes a weight)";
  if (c.any_packing(Packing::Int16Quads)) c.packing_reason += "; int8 rows widened to int16, four rows a block, two weights a multiply-accumulate with no unpacking (2 bytes a weight)";

  if (c.flash_total() > c.flash_budget) {
    const bool b3 = c.any_packing(Packing::Base3);
    throw Error(fmt::format("--flash {}: weights and tables {} (ternary matrices {}) + code (estimate) {} = {} bytes do not fit{}",
                            c.flash_budget, c.weights_flash_bytes(), b3 ? "at 1.6 bits per weight" : "at 2 bits per weight",
                            c.code_estimate(), c.flash_total(), b3 ? "" : "; --packing base3 would store them at 1.6 bits per weight"));
  }
  return c;
}

CompiledModel reference_program(const Model& model, const CompiledModel& compiled) {
  CompiledModel r;
  r.graph = lower_model(model, compiled.fit.window, compiled.fit.kv_bits);
  validate_graph(r.graph);
  r.target = compiled.target;
  r.sram_budget = compiled.sram_budget;
  r.flash_budget = compiled.flash_budget;
  r.parameters = compiled.parameters;
  r.tokenizer_bytes = compiled.tokenizer_bytes;
  r.max_prompt_bytes = compiled.max_prompt_bytes;
  r.caller_memory = compiled.caller_memory;
  r.fit = compiled.fit;
  r.kernel_policy = KernelPolicy::Pinned;
  r.kernel_reason = "the reference program: plain C";
  r.dot_costs = compiled.dot_costs;
  finish_program(r, false, std::vector<bool>(r.graph.constants.matrices.size(), false), RowLayouts{});  // rows as lowered
  return r;
}

}  // namespace bitgpt
