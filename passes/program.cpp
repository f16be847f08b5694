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
  if (op.kernel == Kernel::Lookup) return op.lut_chunk >= groups ? "tables cheapest" : "tables cheapest; the cheapest chunk that fits";
  return tables_pay(best_lut_cost(g, op, costs), row_cost) ? "tables would cost less but do not fit" : "row kernel cheapest, or tables save under 5 %";
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

namespace {

bool same_operands(const Graph& g, const std::vector<Operand>& a, const std::vector<Operand>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].offset != b[i].offset || g.values[a[i].value].type != g.values[b[i].value].type ||
        g.values[a[i].value].elements != g.values[b[i].value].elements)
      return false;
  return true;
}

// Whether step b (of a later layer) runs exactly as step a of layer 0.
bool same_plan(const Graph& g, const Step& a, const Step& b) {
  const Op &x = g.ops[a.op], &y = g.ops[b.op];
  return x.kind == y.kind && x.kernel == y.kernel && x.lut_chunk == y.lut_chunk && x.accumulate == y.accumulate && x.activation == y.activation &&
         x.heads == y.heads && (x.matrix < 0) == (y.matrix < 0) && (x.matrix2 < 0) == (y.matrix2 < 0) &&
         (x.matrix3 < 0) == (y.matrix3 < 0) && (x.norm < 0) == (y.norm < 0) &&
         (x.lut_tables < 0) == (y.lut_tables < 0) && (x.lut_partials < 0) == (y.lut_partials < 0) && a.copy_first_input == b.copy_first_input &&
         a.normalise_over_input == b.normalise_over_input && a.lut_partials == b.lut_partials && same_operands(g, a.inputs, b.inputs) &&
         same_operands(g, a.outputs, b.outputs) && same_operands(g, a.scratch, b.scratch);
}

}  // namespace

std::optional<LayerLoop> find_layer_loop(const Graph& g, const std::vector<Step>& steps) {
  const int layers = static_cast<int>(g.arch.n_layers);
  if (layers < 2) return std::nullopt;
  LayerLoop loop;
  loop.layers = layers;
  while (loop.begin < g.next_stage_begin && g.ops[steps[loop.begin].op].layer != 0) ++loop.begin;
  while (loop.begin + loop.steps_per_layer < g.next_stage_begin && g.ops[steps[loop.begin + loop.steps_per_layer].op].layer == 0) ++loop.steps_per_layer;
  if (loop.steps_per_layer == 0 || loop.begin + layers * loop.steps_per_layer > g.next_stage_begin) return std::nullopt;
  for (int l = 1; l < layers; ++l)
    for (int j = 0; j < loop.steps_per_layer; ++j) {
      const Step& later = steps[static_cast<size_t>(loop.begin + l * loop.steps_per_layer + j)];
      if (g.ops[later.op].layer != l || !same_plan(g, steps[static_cast<size_t>(loop.begin + j)], later)) return std::nullopt;
    }
  return loop;
}

const Operand* find_operand(const Step& s, ValueId v) {
  for (const auto* list : {&s.inputs, &s.outputs, &s.scratch})
    for (const Operand& o : *list)
      if (o.value == v) return &o;
  return nullptr;
}

}  // namespace bitgpt
