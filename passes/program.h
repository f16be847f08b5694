// The steps of the lowered program: each op of the optimised graph with its operands
// resolved to arena offsets and every decision a backend would otherwise have to take
// again (copies before in-place updates, where normalised values go, where lookup partial
// sums live, why a product runs on its kernel). The interpreter executes these steps on
// an arena of the planned size, the C++ backend emits them, the report prints them.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ir/ir.h"
#include "passes/greedy_planner.h"
#include "passes/liveness.h"
#include "passes/select_kernels.h"
#include "targets/target.h"

namespace bitgpt {

// A value as placed: its arena buffer and that buffer's offset.
struct Operand {
  ir::ValueId value = ir::kNoValue;
  int buffer = -1;
  int64_t offset = 0;
};

struct Step {
  int op = 0;  // index into the graph's ops (kind, label, layer, matrices, norm)
  std::vector<Operand> inputs, outputs, scratch;  // the op's, in the same positions
  // The op updates its first input, but its output has a buffer of its own: copy the
  // input there first, then update the copy.
  bool copy_first_input = false;
  // NormQuantize with no scratch of its own: its input dies here (within `feed`, since
  // `next` may run again on the same hidden state), so the normalised values are written
  // over it rather than computed twice.
  bool normalise_over_input = false;
  // Lookup products: where the partial sums live between table chunks.
  LutPartials lut_partials = LutPartials::None;
  // Ternary products: the cost model's estimates (dot-product instructions per token) as
  // chosen and on the row kernel, and why this kernel.
  bool ternary_product = false;
  double estimated_instructions = 0, row_kernel_instructions = 0;
  std::string kernel_reason;
};

// How the kernels were chosen, for the reasons recorded on each product.
enum class KernelPolicy { CostModel, Pinned, Base3Packing };

// Resolves every op of g (kernels chosen) against the placement.
std::vector<Step> build_steps(const ir::Graph& g, const Liveness& liveness, const ArenaPlan& arena, KernelPolicy policy,
                              const DotCosts& costs);

// Layers that share one plan: steps [begin + l*steps_per_layer, begin + (l+1)*steps_per_layer)
// are layer l's, for l < layers, and each matches layer 0's step for step: the same op,
// kernel and flags, operands of the same sizes at the same arena offsets. Only the
// weights, norms and KV cache differ, so a backend may emit one layer and loop.
struct LayerLoop {
  int begin = 0, steps_per_layer = 0, layers = 0;
};

// The program's layer loop, or none (fewer than two layers, or layers planned apart).
std::optional<LayerLoop> find_layer_loop(const ir::Graph& g, const std::vector<Step>& steps);

// Where value v of step s lives, or nullptr when the op does not touch it.
const Operand* find_operand(const Step& s, ir::ValueId v);

}  // namespace bitgpt
