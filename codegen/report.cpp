#include "codegen/report.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <nlohmann/json.hpp>

#include <algorithm>

#include "codegen/layer_summary.h"


namespace bitgpt {

namespace {

// Placing buffers of different sizes and lifetimes optimally is NP-hard (dynamic storage
// allocation); the planner's heuristics usually reach the bound but need not.
constexpr const char* kGapReason =
    "above the bound: no placement order the planner tried packs these lifetimes without a gap (optimal placement is NP-hard)";

// Weights every generated token multiplies: all matrices, the classifier included.
int64_t matmul_weights(const ir::Graph& g) {
  int64_t n = 0;
  for (const LoweredMatrix& m : g.constants.matrices) n += static_cast<int64_t>(m.rows) * m.cols;
  return n;
}

// The ternary kernel as a user would name it: the row kernel's name, lut4 when every
// ternary product runs on lookup tables, mixed when some do.
std::string kernel_display_name(const CompiledModel& c) {
  int lookup = 0, products = 0;
  for (const Step& s : c.steps) {
    products += s.ternary_product;
    lookup += s.ternary_product && c.graph.ops[s.op].kernel == ir::Kernel::Lookup;
  }
  if (lookup == 0) return ir::kernel_name(c.row_kernel);
  return lookup == products ? "lut4" : "mixed";
}

int largest_lut_chunk(const ir::Graph& g) {
  int most = 0;
  for (const ir::Op& op : g.ops) most = std::max(most, op.kernel == ir::Kernel::Lookup ? op.lut_chunk : 0);
  return most;
}

std::string kernel_of(const ir::Op& op) {
  return op.kernel == ir::Kernel::Lookup ? fmt::format("lut4/{}", op.lut_chunk) : ir::kernel_name(op.kernel);
}

// "2bit", "base3" (every ternary matrix) or "mixed", and the base-3 matrices' names.
std::string packing_name(const CompiledModel& c) {
  bool base3 = false, two_bit = false;
  for (size_t i = 0; i < c.matrices.size(); ++i) {
    if (c.graph.constants.matrices[i].dtype != BG_W_TERNARY2) continue;
    base3 = base3 || c.matrices[i].packing == Packing::Base3;
    two_bit = two_bit || c.matrices[i].packing == Packing::AsLowered || c.matrices[i].packing == Packing::Planes128;
  }
  return !base3 ? "2bit" : two_bit ? "mixed" : "base3";
}

// The names of the matrices stored in packing p.
std::vector<std::string> matrices_packed(const CompiledModel& c, Packing p) {
  std::vector<std::string> names;
  for (const PackedMatrix& m : c.matrices)
    if (m.packing == p) names.push_back(m.data.name);
  return names;
}

std::string dot_products(const CompiledModel& c) {
  switch (c.row_kernel) {
    case ir::Kernel::Helium: return "Helium MVE (sixteen int8 products per VMLADAV)";
    case ir::Kernel::Smlad: return "SMLAD (Armv7E-M DSP: two int16 products per instruction)";
    default: return "plain C";
  }
}

std::string kib(int64_t b) { return fmt::format("{:.2f} KiB", static_cast<double>(b) / 1024.0); }

std::string buffer_values(const ir::Graph& g, const Buffer& b) {
  std::string s;
  for (ir::ValueId v : b.values) {
    if (!s.empty()) s += ", ";
    s += g.values[v].name;
  }
  return s.size() > 60 ? s.substr(0, 57) + "..." : s;
}

}  // namespace

double report_clock_mhz(const CompiledModel& c, const Provenance& p) { return p.clock_mhz > 0 ? p.clock_mhz : c.target->clock_mhz; }

static std::string format_layer_table(const CompiledModel& c, const Provenance& p) {
  const double mhz = report_clock_mhz(c, p);
  std::string s = fmt::format("\n{:<12} {:>6} {:>12} {:>12} {:>14} {:>12}\n", "part", "steps", "flash bytes", "MACs/token", "dot instr.", "dot ms/token");
  for (const LayerRow& r : layer_summary(c))
    s += fmt::format("{:<12} {:>6} {:>12} {:>12} {:>14.0f} {:>12}\n", r.name, r.steps, r.flash_bytes, r.macs, r.dot_instructions,
                     mhz > 0 ? fmt::format("{:.3f}", milliseconds_at(r.dot_instructions, mhz)) : std::string("-"));
  s += fmt::format("(dot instr.: the cost model's estimate for the ternary dot products, most of a token's work; "
                   "ms at {} and one instruction per cycle; --clock-mhz sets the clock)\n",
                   mhz > 0 ? fmt::format("{} MHz", mhz) : std::string("no clock"));
  return s;
}

std::string format_report(const CompiledModel& c, const Provenance& p) {
  const ir::Graph& g = c.graph;
  const SramCost& cost = c.fit.cost;
  std::string s;
  s += fmt::format("bitgptc memory plan: model '{}', {} parameters, target {} ({})\n", g.name, c.parameters, c.target->name, c.target->description);
  s += fmt::format("context: window {} tokens, {}-bit KV cache ({})\n", g.window, g.kv_bits, c.fit.reason);
  s += fmt::format("kernel: {} ({}); other dot products: {}\n", kernel_display_name(c), c.kernel_reason, dot_products(c));
  s += fmt::format("packing: {} ({})\n", packing_name(c), c.packing_reason);
  if (!p.version.empty()) s += "made by: " + made_by(p) + "\n";
  if (packing_name(c) == "mixed") s += fmt::format("  base-3 matrices: {}\n", fmt::join(matrices_packed(c, Packing::Base3), ", "));
  bool header = false;
  double products_cost = 0, row_cost = 0;
  for (const Step& p : c.steps) {
    if (!p.ternary_product) continue;
    const ir::Op& op = g.ops[p.op];
    if (!header) s += fmt::format("\n{:<28} {:>11}  {:<10} {:>12} {:>12}  {}\n", "ternary product", "rows x cols", "kernel", "est. instr", "row kernel", "why");
    header = true;
    s += fmt::format("{:<28} {:>11}  {:<10} {:>12.0f} {:>12.0f}  {}\n", op.label, fmt::format("{}x{}", g.product_rows(op), g.constants.matrices[op.matrix].cols),
                     kernel_of(op), p.estimated_instructions, p.row_kernel_instructions, p.kernel_reason);
    products_cost += p.estimated_instructions;
    row_cost += p.row_kernel_instructions;
  }
  if (header) {
    s += fmt::format("{:<28} {:>11}  {:<10} {:>12.0f} {:>12.0f}  (estimated instructions per token in these dot products)\n", "total", "", "",
                     products_cost, row_cost);
  }
  s += format_layer_table(c, p);
  s += "\n";
  s += fmt::format("{:<4} {:<40} {:>8} {:>8}  {:>5}..{:<5}  {}\n", "#", "arena buffer", "offset", "bytes", "first", "last", "values");
  for (size_t i = 0; i < c.liveness.buffers.size(); ++i) {
    const Buffer& b = c.liveness.buffers[i];
    s += fmt::format("{:<4} {:<40} {:>8} {:>8}  {:>5}..{:<5}  {}\n", i, b.name, c.arena.offsets[i], b.bytes, b.first_step, b.last_step, buffer_values(g, b));
  }
  s += fmt::format("\narena: {} bytes (lower bound {}: the most bytes live at one step{})\n", c.arena.bytes, c.arena.lower_bound,
                   c.arena.bytes == c.arena.lower_bound ? "; the plan reaches it" : std::string("; ") + kGapReason);
  s += "\nSRAM                                 bytes\n";
  s += fmt::format("  arena                         {:>10}\n", cost.arena);
  s += fmt::format("  KV cache                      {:>10}   {} layers x {} slots x {} KV heads x 2 x ({} code bytes + 2 scale bytes)\n", cost.kv_cache,
                   g.arch.n_layers, g.window, g.arch.n_kv_heads, g.kv_bits == 4 ? (g.arch.head_dim + 1) / 2 : g.arch.head_dim);
  if (cost.prompt) s += fmt::format("  prompt buffer                 {:>10}   BPE works in place: {} int32 tokens for prompts of up to {} bytes\n", cost.prompt, c.max_prompt_bytes + 1, c.max_prompt_bytes);
  s += fmt::format("  runtime state                 {:>10}\n", cost.state);
  s += fmt::format("  stack (reserve for {})   {:>10}\n", fmt::format("{:<10}", c.target->name), cost.stack);
  s += fmt::format("  total                         {:>10}   of {} budget ({} free)\n", cost.total(), c.sram_budget, c.sram_budget - cost.total());
  s += "\nflash                                bytes\n";
  s += fmt::format("  weights and tables            {:>10}\n", c.weights_flash_bytes() - c.tokenizer_bytes);
  s += fmt::format("  tokenizer                     {:>10}\n", c.tokenizer_bytes);
  s += fmt::format("  code (estimate)               {:>10}\n", c.code_estimate());
  s += fmt::format("  total                         {:>10}   of {} budget ({})\n", c.flash_total(), c.flash_budget, kib(c.flash_total()));
  return s;
}

std::string report_json(const CompiledModel& c, const Provenance& p) {
  using nlohmann::json;
  const ir::Graph& g = c.graph;
  json buffers = json::array();
  for (size_t i = 0; i < c.liveness.buffers.size(); ++i) {
    const Buffer& b = c.liveness.buffers[i];
    json values = json::array();
    for (ir::ValueId v : b.values) values.push_back(g.values[v].name);
    buffers.push_back({{"name", b.name}, {"offset", c.arena.offsets[i]}, {"bytes", b.bytes}, {"first_step", b.first_step},
                       {"last_step", b.last_step}, {"values", values}});
  }
  json products = json::array();
  double cost = 0, row_cost = 0;
  for (const Step& p : c.steps) {
    if (!p.ternary_product) continue;
    const ir::Op& op = g.ops[p.op];
    products.push_back({{"op", op.label}, {"rows", g.product_rows(op)}, {"cols", g.constants.matrices[op.matrix].cols}, {"kernel", ir::kernel_name(op.kernel)},
                        {"lut_chunk_groups", op.lut_chunk}, {"estimated_instructions", p.estimated_instructions},
                        {"row_kernel_instructions", p.row_kernel_instructions}, {"reason", p.kernel_reason}});
    cost += p.estimated_instructions;
    row_cost += p.row_kernel_instructions;
  }
  json steps = json::array();
  for (size_t i = 0; i < g.ops.size(); ++i)
    steps.push_back({{"step", i}, {"op", ir::op_name(g.ops[i].kind)}, {"label", g.ops[i].label},
                     {"stage", static_cast<int>(i) < g.next_stage_begin ? "feed" : "next"}});
  json layers = json::array();
  for (const LayerRow& r : layer_summary(c))
    layers.push_back({{"name", r.name}, {"steps", r.steps}, {"flash_bytes", r.flash_bytes}, {"macs_per_token", r.macs},
                      {"dot_instructions_per_token", r.dot_instructions},
                      {"dot_milliseconds_per_token", milliseconds_at(r.dot_instructions, report_clock_mhz(c, p))}});
  json arena = {{"bytes", c.arena.bytes}, {"lower_bound_bytes", c.arena.lower_bound}};
  if (c.arena.bytes != c.arena.lower_bound) arena["gap_reason"] = kGapReason;
  json doc = {
      {"schema", "bitgptc-report"},
      {"version", 1},
      {"model", {{"name", g.name}, {"parameters", c.parameters}, {"matmul_weights", matmul_weights(g)}, {"layers", g.arch.n_layers}, {"d_model", g.arch.d_model}, {"vocab_size", g.arch.vocab_size}}},
      {"target", {{"name", c.target->name}, {"stack_reserve_bytes", c.target->stack_reserve}}},
      {"sram",
       {{"budget_bytes", c.sram_budget}, {"total_bytes", c.fit.cost.total()}, {"arena_bytes", c.fit.cost.arena},
        {"kv_cache_bytes", c.fit.cost.kv_cache}, {"prompt_bytes", c.fit.cost.prompt}, {"state_bytes", c.fit.cost.state},
        {"stack_bytes", c.fit.cost.stack}}},
      {"prompt", {{"max_bytes", c.max_prompt_bytes}, {"tokenizer", c.graph.tokenizer.kind == TokenizerKind::Bpe ? "bpe" : "table"}}},
      {"arena", arena},
      {"kv_cache", {{"bytes", c.fit.cost.kv_cache}, {"bits", g.kv_bits}, {"slots", g.window}}},
      {"context", {{"window", g.window}, {"reason", c.fit.reason}}},
      {"kernel", {{"name", kernel_display_name(c)}, {"lut_chunk_groups", largest_lut_chunk(g)}, {"reason", c.kernel_reason},
                  {"dot_products", c.row_kernel == ir::Kernel::Helium ? "mve" : c.row_kernel == ir::Kernel::Smlad ? "smlad" : "c"}, {"products", products},
                  {"estimated_instructions", cost}, {"row_kernel_instructions", row_cost}}},
      {"packing",
       {{"ternary", packing_name(c)}, {"base3_matrices", matrices_packed(c, Packing::Base3)}, {"lookup_word_matrices", matrices_packed(c, Packing::LookupWords)}, {"reason", c.packing_reason}}},
      {"flash",
       {{"budget_bytes", c.flash_budget}, {"weights_bytes", c.weights_flash_bytes()}, {"tokenizer_bytes", c.tokenizer_bytes},
        {"code_estimate_bytes", c.code_estimate()}, {"total_bytes", c.flash_total()}}},
      {"buffers", buffers},
      {"steps", steps},
      {"layers", layers},
      {"clock_mhz", report_clock_mhz(c, p)},
      {"provenance", {{"bitgptc_version", p.version}, {"command_line", p.command_line}, {"model_fnv1a64", p.model_hash}}},
  };
  return doc.dump(2) + "\n";
}

}  // namespace bitgpt
