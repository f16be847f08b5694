#include "passes/inplace.h"

#include "passes/liveness.h"

namespace bitgpt {

using namespace ir;

namespace {

// Inputs (by position) whose buffer the output may take. Elementwise kernels read
// element i before writing element i; in-place updaters work on their first input.
std::vector<size_t> reusable_inputs(const Op& op) {
  if (op_updates_first_input(op.kind, op.accumulate)) return {0};
  switch (op.kind) {
    case OpKind::Add:
    case OpKind::Mul: return {0, 1};
    case OpKind::Activation:
    case OpKind::Norm: return {0};
    default: return {};
  }
}

}  // namespace

std::vector<ValueId> plan_inplace(const Graph& g) {
  std::vector<ValueId> alias = no_aliasing(g);
  // last reader of every value, as the unaliased program has it
  std::vector<int> last_use(g.values.size(), -1);
  for (int i = 0; i < static_cast<int>(g.ops.size()); ++i)
    for (ValueId v : g.ops[i].inputs) last_use[v] = i;
  if (g.hidden != kNoValue) last_use[g.hidden] = static_cast<int>(g.ops.size());
  for (int i = 0; i < static_cast<int>(g.ops.size()); ++i) {
    const Op& op = g.ops[i];
    if (op.outputs.size() != 1) continue;
    const Value& out = g.values[op.outputs[0]];
    for (size_t k : reusable_inputs(op)) {
      const ValueId in = op.inputs[k];
      const Value& iv = g.values[in];
      if (last_use[in] != i || iv.type != out.type || iv.elements != out.elements) continue;
      alias[op.outputs[0]] = in;
      break;
    }
  }
  return alias;
}

}  // namespace bitgpt
