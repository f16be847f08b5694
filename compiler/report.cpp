#include "compiler/report.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <nlohmann/json.hpp>

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

// The ternary kernel as a user would name it: lut4, smlad or portable.
std::string kernel_display_name(const CompiledModel& c) {
  if (c.kernel.kernel != ir::Kernel::Portable) return ir::kernel_name(c.kernel.kernel);
  return c.mve ? "mve" : c.smlad ? "smlad" : "portable";
}

// "2bit", "base3" (every ternary matrix) or "mixed", and the base-3 matrices' names.
std::string packing_name(const CompiledModel& c) {
  if (!c.base3) return "2bit";
  for (size_t i = 0; i < c.base3_matrix.size(); ++i)
    if (!c.base3_matrix[i] && c.graph.constants.matrices[i].dtype == BG_W_TERNARY2) return "mixed";
  return "base3";
}

std::vector<std::string> base3_matrices(const CompiledModel& c) {
  std::vector<std::string> names;
  for (size_t i = 0; i < c.base3_matrix.size(); ++i)
    if (c.base3_matrix[i]) names.push_back(c.graph.constants.matrices[i].name);
  return names;
}

std::string dot_products(const CompiledModel& c) {
  return c.mve ? "Helium MVE (sixteen int8 products per VMLADAV)" : c.smlad ? "SMLAD (Armv7E-M DSP: two int16 products per instruction)" : "plain C";
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

std::string format_report(const CompiledModel& c) {
  const ir::Graph& g = c.graph;
  const SramCost& cost = c.fit.cost;
  std::string s;
  s += fmt::format("bitgptc memory plan: model '{}', {} parameters, target {} ({})\n", g.name, c.parameters, c.target->name, c.target->description);
  s += fmt::format("context: window {} tokens, {}-bit KV cache ({})\n", g.window, g.kv_bits, c.fit.reason);
  s += fmt::format("kernel: {} ({}); other dot products: {}\n", kernel_display_name(c), c.kernel_reason, dot_products(c));
  s += fmt::format("packing: {} ({})\n", packing_name(c), c.packing_reason);
  if (packing_name(c) == "mixed") s += fmt::format("  base-3 matrices: {}\n", fmt::join(base3_matrices(c), ", "));
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

std::string report_json(const CompiledModel& c) {
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
  json steps = json::array();
  for (size_t i = 0; i < g.ops.size(); ++i)
    steps.push_back({{"step", i}, {"op", ir::op_name(g.ops[i].kind)}, {"label", g.ops[i].label},
                     {"stage", static_cast<int>(i) < g.next_stage_begin ? "feed" : "next"}});
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
      {"kernel", {{"name", kernel_display_name(c)}, {"lut_chunk_groups", c.kernel.lut_chunk}, {"reason", c.kernel_reason},
                  {"dot_products", c.mve ? "mve" : c.smlad ? "smlad" : "c"}}},
      {"packing", {{"ternary", packing_name(c)}, {"base3_matrices", base3_matrices(c)}, {"reason", c.packing_reason}}},
      {"flash",
       {{"budget_bytes", c.flash_budget}, {"weights_bytes", c.weights_flash_bytes()}, {"tokenizer_bytes", c.tokenizer_bytes},
        {"code_estimate_bytes", c.code_estimate()}, {"total_bytes", c.flash_total()}}},
      {"buffers", buffers},
      {"steps", steps},
  };
  return doc.dump(2) + "\n";
}

}  // namespace bitgpt
