#include "passes/program.h"

#include "passes/kernel_cost.h"

namespace bitgpt {

using namespace ir;

namespace {

std::vector<Operand> resolve(const std::vector<ValueId>& values, const Liveness& liveness, const ArenaPlan& arena) {
  std::vector<Operand> out;
  for (ValueId v : values) {
    const int b = liveness.buffer_of[v];
    out.push_back({v, b, arena.offsets[b]});
  }
  return out;
}

// Why a product runs on its kernel, in the cost model's terms.
std::string why_kernel(const Graph& g, const Op& op, KernelPolicy policy, const DotCosts& costs, double row_cost) {
  if (policy == KernelPolicy::Base3Packing) return "base-3 packing";
  if (policy == KernelPolicy::Pinned) return "pinned by --kernel";
  const int groups = (g.constants.matrices[op.matrix].cols + 3) / 4;
  if (op.kernel == Kernel::Lookup) return op.lut_chunk >= groups ? "tables cheapest" : "tables cheapest; the largest chunk that fits";
  return best_lut_cost(g, op, costs) < row_cost ? "tables would cost less but do not fit" : "row kernel cheapest";
}

}  // namespace

std::vector<Step> build_steps(const Graph& g, const Liveness& liveness, const ArenaPlan& arena, KernelPolicy policy, const DotCosts& costs) {
  std::vector<Step> steps;
  std::vector<bool> product(g.ops.size(), false);
  for (int i : ternary_products(g)) product[i] = true;
  for (int i = 0; i < static_cast<int>(g.ops.size()); ++i) {
    const Op& op = g.ops[i];
    Step s;
    s.op = i;
    s.inputs = resolve(op.inputs, liveness, arena);
    s.outputs = resolve(op.outputs, liveness, arena);
    s.scratch = resolve(op.scratch, liveness, arena);
    s.copy_first_input = op.updates_first_input() && s.inputs[0].buffer != s.outputs[0].buffer;
    if (op.kind == OpKind::NormQuantize && op.scratch.empty()) {
      const Buffer& in = liveness.buffers[static_cast<size_t>(s.inputs[0].buffer)];
      s.normalise_over_input = i < g.next_stage_begin && in.last_step == i && s.inputs[0].buffer != s.outputs[0].buffer;
    }
    s.lut_partials = lut_partials(g, op);
    s.ternary_product = product[i];
    if (s.ternary_product) {
      s.row_kernel_instructions = product_cost(g, op, {}, costs);
      s.estimated_instructions = product_cost(g, op, {op.kernel == Kernel::Lookup, op.lut_chunk}, costs);
      s.kernel_reason = why_kernel(g, op, policy, costs, s.row_kernel_instructions);
    }
    steps.push_back(std::move(s));
  }
  return steps;
}

const Operand* find_operand(const Step& s, ValueId v) {
  for (const auto* list : {&s.inputs, &s.outputs, &s.scratch})
    for (const Operand& o : *list)
      if (o.value == v) return &o;
  return nullptr;
}

}  // namespace bitgpt
