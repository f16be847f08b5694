// The compiler pipeline: lower the model, fuse, alias, plan the arena, fit the SRAM
// budget. The result is everything a report or a backend needs.
#pragma once

#include <optional>
#include <set>
#include <string>

#include "compiler/ir.h"
#include "frontend/model.h"
#include "passes/greedy_planner.h"
#include "passes/liveness.h"
#include "passes/select_kernels.h"
#include "passes/sram_fit.h"
#include "targets/target.h"

namespace bitgpt {

// Bytes of the emitted runtime state (position, RNG, checksum); the emitted code
// static_asserts that its state struct has exactly this size.
constexpr int64_t kRuntimeStateBytes = 24;

struct CompileOptions {
  std::string target = "host";
  std::optional<int64_t> sram, flash;
  std::optional<int> kv_bits;
  std::optional<int64_t> window;
  std::set<std::string> disabled_passes;
  std::string kernel = "auto";     // auto | portable | lut4
  std::string packing = "auto";    // auto | 2bit | base3 (ternary weights in flash)
  std::optional<int> lut_chunk;    // groups of 4 inputs per lookup-table chunk
  std::optional<int64_t> max_prompt_bytes;  // BPE: the longest prompt the planned buffer holds
};

// A BPE tokenizer encodes a whole prompt at once in a planned buffer of one int32 token
// per byte, plus one; without --max-prompt-bytes it holds prompts of this many bytes.
// A table tokenizer streams a prompt one token at a time and needs no buffer.
constexpr int64_t kDefaultMaxPromptBytes = 64;
int64_t prompt_buffer_bytes(int64_t max_prompt_bytes);

// Without --window, the kernel choice keeps at least this many KV slots (or the model's
// whole context when that is shorter) before trading window for speed.
constexpr int64_t kPreferredMinWindow = 16;

struct CompiledModel {
  ir::Graph graph;  // optimised
  std::vector<ir::ValueId> alias;
  Liveness liveness;
  ArenaPlan arena;
  FitResult fit;
  std::string kernel_reason;
  DotCosts dot_costs;      // the cost model of the kernel choice (with the row kernel as built)
  bool cost_model = false; // --kernel auto: the cost model chose each product's kernel
  int64_t row_window = 0;  // the window row kernels alone would leave
  bool mve = false;    // row dot products (2-bit ternary, int8) use Helium (bitgpt_mve.h)
  bool smlad = false;  // else the DSP kernel (bitgpt_smlad.h)
  bool base3 = false;               // some ternary matrices are packed five weights per byte
  std::vector<bool> base3_matrix;   // which (per constants.matrices index); the rest 2 bits per weight
  std::string packing_reason;
  const TargetDesc* target = nullptr;
  int64_t sram_budget = 0, flash_budget = 0;
  int64_t parameters = 0;
  int64_t tokenizer_bytes = 0;
  int64_t max_prompt_bytes = 0;  // 0: prompts stream (table tokenizer), any length

  // As emitted: matrices in the chosen packing (lookup products' matrices as 16-bit
  // table indices), tables, norms, RoPE and the token table.
  int64_t weights_flash_bytes() const { return weights_flash_bytes_of(graph); }
  // The target's code-size model for this plan (see TargetDesc); the lookup kernels add
  // their own functions.
  int64_t code_estimate() const { return code_estimate_of(graph); }
  int64_t flash_total() const { return flash_total_of(graph); }
  // The same for another kernel assignment of this plan's graph.
  int64_t weights_flash_bytes_of(const ir::Graph& g) const;
  int64_t code_estimate_of(const ir::Graph& g) const;
  int64_t flash_total_of(const ir::Graph& g) const { return weights_flash_bytes_of(g) + code_estimate_of(g); }
};

// Throws Error when the options are invalid or the model does not fit.
CompiledModel compile_model(const Model& model, const CompileOptions& options);

// The unfused reference graph with the window and KV precision a compilation chose:
// what `bitgptc run` interprets.
ir::Graph reference_graph(const Model& model, const CompiledModel& compiled);

}  // namespace bitgpt
