// The compiler pipeline: lower the model, fuse, alias, plan the arena, fit the SRAM
// budget, choose kernels and packing, resolve the steps. Its result, the lowered program
// (CompiledModel), is the contract with everything after the passes: the interpreter
// executes it, the report prints it, the backends emit it, and none of them decides
// anything again.
#pragma once

#include <optional>
#include <set>
#include <string>

#include "ir/ir.h"
#include "ir/model.h"
#include "passes/greedy_planner.h"
#include "passes/liveness.h"
#include "passes/packing.h"
#include "passes/program.h"
#include "passes/select_kernels.h"
#include "passes/sram_fit.h"
#include "targets/target.h"

namespace bitgpt {

// Bytes of the emitted runtime state (position, RNG, checksum); the emitted code
// static_asserts that its state struct has exactly this size. With --memory caller the
// model keeps one pointer to the caller's buffer as well (counted as 8 bytes).
constexpr int64_t kRuntimeStateBytes = 24;
constexpr int64_t kCallerPointerBytes = 8;

// --kernel: the cost model's choice per product, or one kernel pinned for all.
enum class KernelOption { Auto, Portable, Smlad, Mve, Lut4 };
// --packing of ternary weights in flash.
enum class PackingOption { Auto, TwoBit, Base3 };
// --memory: the model's RAM as its own static arrays, or one buffer the caller passes
// (NAME_init), the TFLM and Glow way.
enum class MemoryOption { Static, Caller };

struct CompileOptions {
  std::string target = "host";
  std::optional<int64_t> sram, flash;
  std::optional<int> kv_bits;
  std::optional<int64_t> window;
  std::set<std::string> disabled_passes;
  KernelOption kernel = KernelOption::Auto;
  PackingOption packing = PackingOption::Auto;
  MemoryOption memory = MemoryOption::Static;
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
  ir::Graph graph;  // optimised; every op that reads a matrix has its kernel
  std::vector<ir::ValueId> alias;
  Liveness liveness;
  ArenaPlan arena;
  FitResult fit;
  std::vector<Step> steps;            // graph.ops resolved against the plan (program.h)
  std::optional<LayerLoop> layer_loop;  // when every layer runs the same plan
  std::vector<PackedMatrix> matrices; // per Constants::matrices index: the bytes in flash
  ir::Kernel row_kernel = ir::Kernel::PlainC;  // of every matrix op not on lookup tables
  KernelPolicy kernel_policy = KernelPolicy::CostModel;
  std::string kernel_reason, packing_reason;
  DotCosts dot_costs;      // the cost model of the kernel choice (with the row kernel as built)
  int64_t row_window = 0;  // the window row kernels alone would leave
  const TargetDesc* target = nullptr;
  int64_t sram_budget = 0, flash_budget = 0;
  int64_t parameters = 0;
  int64_t tokenizer_bytes = 0;
  int64_t max_prompt_bytes = 0;  // 0: prompts stream (table tokenizer), any length
  bool caller_memory = false;     // the RAM is one buffer the caller passes (--memory caller)

  // Flash of the constants as stored: the packed matrices' bytes, norms, RoPE, the token
  // tables, the base-3 decode table where a matrix needs it.
  int64_t weights_flash_bytes() const;
  // The target's code-size model for this plan (see TargetDesc); the lookup kernels add
  // their own functions.
  int64_t code_estimate() const;
  int64_t flash_total() const { return weights_flash_bytes() + code_estimate(); }
  bool any_packing(Packing p) const;
};

// Throws Error when the options are invalid or the model does not fit.
CompiledModel compile_model(const Model& model, const CompileOptions& options);

// The reference program of a compilation: the unfused graph, no buffer shared in place,
// plain C kernels, at the window and KV precision the compilation chose. What `bitgptc
// run` and `eval` interpret, and what every optimised program must agree with.
CompiledModel reference_program(const Model& model, const CompiledModel& compiled);

}  // namespace bitgpt
